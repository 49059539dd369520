#include "cli/app.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/suggest.h"

namespace vouch::cli {

int run(int argc, char** argv) {
  install_stdout_writer();
  CLI::App app{
      "vouch: the container supply-chain trust chain in one binary.\n"
      "Scan, SBOM, sign, attest, log and admit images, speaking the formats of\n"
      "syft, grype, cosign, Rekor, Fulcio and Kyverno.\n\n"
      "Exit codes: 0 success, 1 verification or policy failure, 2 usage or input error; `vouch verify`\n"
      "exits as cosign verify: 10 no signature, 11 no such tag, 12 no signature verifies."};
  static constexpr const char* kVersion = "vouch 0.1.0";
  app.set_version_flag("--version", kVersion);
  app.require_subcommand(1);
  app.fallthrough(false);
  int exit_code = 0;
  // `cosign version`, `syft version`, `grype version`: the peers print their version as a command.
  app.add_subcommand("version", "Print vouch's version (also --version)")->callback([] { fmt::print("{}\n", kVersion); });
  register_key_commands(app, exit_code);
  register_blob_commands(app, exit_code);
  register_cosign_commands(app, exit_code);
  register_download_commands(app, exit_code);
  register_notation_commands(app, exit_code);
  register_provenance_commands(app, exit_code);
  register_db_commands(app, exit_code);
  register_sbom_commands(app, exit_code);
  register_scan_commands(app, exit_code);
  register_inventory_commands(app, exit_code);
  register_log_commands(app, exit_code);
  register_image_commands(app, exit_code);
  register_jp_commands(app, exit_code);
  register_policy_commands(app, exit_code);
  register_admission_commands(app, exit_code);
  register_report_commands(app, exit_code);
  register_ui_commands(app, exit_code);
  register_tuf_commands(app, exit_code);
  register_tsa_commands(app, exit_code);
  register_ca_commands(app, exit_code);
  register_oidc_commands(app, exit_code);
  register_stack_commands(app, exit_code);
  register_trust_commands(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return finish_stdout(app.exit(e));
  } catch (const CLI::CallForAllHelp& e) {
    return finish_stdout(app.exit(e));
  } catch (const CLI::CallForVersion& e) {
    return finish_stdout(app.exit(e));
  } catch (const CLI::ParseError& e) {
    if (std::string hint = suggestion_for(app, std::vector<std::string>(argv + 1, argv + argc)); !hint.empty()) {
      fmt::print(stderr, "vouch: {}\n", hint);
      return 2;
    }
    std::string msg = e.what();
    for (char& c : msg)
      if (c == '\n') c = ' ';
    fmt::print(stderr, "vouch: {} (see --help)\n", msg);
    return 2;
  } catch (const std::exception& e) {
    // Only a failed write of the output gets here (fmt reports it by throwing).
    std::clearerr(stdout);
    if (finish_stdout(0) == 0) fmt::print(stderr, "vouch: {}\n", e.what());
    return 2;
  }
  return finish_stdout(exit_code);
}

}  // namespace vouch::cli
