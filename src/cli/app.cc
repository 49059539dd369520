#include "cli/app.h"

#include <CLI/CLI.hpp>

namespace vouch::cli {

int run(int argc, char** argv) {
  CLI::App app{"vouch: scan, SBOM, sign, attest, log and admit container images"};
  app.require_subcommand(1);
  CLI11_PARSE(app, argc, argv);
  return 0;
}

}  // namespace vouch::cli
