// Standard output as command-line tools are expected to treat it: a reader that stops reading
// (`vouch … | head`) ends the output, not the command, and never kills it with SIGPIPE; any
// other write error (a full disk, /dev/full) fails the command with one line and exit 2.
#pragma once

namespace vouch::cli {

// Routes stdout (C stdio, fmt and std::cout) through one writer that knows these rules.
// Call once, before any output.
void install_stdout_writer();

// True once the reader of standard output has gone away: streaming commands stop then.
bool stdout_reader_gone();

// Flushes standard output and settles the exit code: a write error other than a closed reader
// is reported on stderr and turns a success into exit 2.
int finish_stdout(int exit_code);

}  // namespace vouch::cli
