// The `vouch` command line: argument handling and output only; all logic lives in libvouch.
#pragma once

namespace vouch::cli {
int run(int argc, char** argv);
}
