// Subcommand registration. Each register_* adds its subcommands to `app`; a subcommand's
// callback stores its exit code in `exit_code`.
#pragma once

#include <CLI/CLI.hpp>

namespace vouch::cli {

void register_key_commands(CLI::App& app, int& exit_code);   // generate-key-pair, public-key
void register_blob_commands(CLI::App& app, int& exit_code);  // sign-blob, verify-blob
void register_cosign_commands(CLI::App& app, int& exit_code);  // sign, verify, attest, verify-attestation
void register_download_commands(CLI::App& app, int& exit_code);  // download signature|attestation|sbom, attach sbom
void register_db_commands(CLI::App& app, int& exit_code);    // db import|status|update|build|serve
void register_scan_commands(CLI::App& app, int& exit_code);  // scan
void register_sbom_commands(CLI::App& app, int& exit_code);  // sbom
void register_log_commands(CLI::App& app, int& exit_code);   // log serve|info|get|search|proof
void register_image_commands(CLI::App& app, int& exit_code);  // inspect, copy, tree

void register_tuf_commands(CLI::App& app, int& exit_code);     // initialize, tuf init|add-target|rotate-key|refresh|serve
void register_tsa_commands(CLI::App& app, int& exit_code);     // tsa serve
void register_ca_commands(CLI::App& app, int& exit_code);      // ca serve
void register_oidc_commands(CLI::App& app, int& exit_code);    // oidc serve
void register_stack_commands(CLI::App& app, int& exit_code);   // stack up
void register_trust_commands(CLI::App& app, int& exit_code);   // trusted-root create, signing-config create

void register_jp_commands(CLI::App& app, int& exit_code);      // jp query
void register_policy_commands(CLI::App& app, int& exit_code);  // policy apply, policy test
void register_admission_commands(CLI::App& app, int& exit_code);  // admission serve|scan|manifests
void register_report_commands(CLI::App& app, int& exit_code);     // report get, rollout status|plan
void register_provenance_commands(CLI::App& app, int& exit_code);  // verify-provenance, provenance generate
void register_inventory_commands(CLI::App& app, int& exit_code);  // inventory add|images|query|affected|findings|rescan|suppress
void register_notation_commands(CLI::App& app, int& exit_code);    // notation sign|verify|list|verify-envelope
void register_ui_commands(CLI::App& app, int& exit_code);          // ui serve

// The subcommands of `vouch admission` that live in their own files.
void add_admission_scan_command(CLI::App& admission, int& exit_code);       // admission scan
void add_admission_manifests_command(CLI::App& admission, int& exit_code);  // admission manifests
// The subcommands of `vouch db` that live in their own file.
void add_db_update_commands(CLI::App& db, int& exit_code);  // db update|changes|build|serve

}  // namespace vouch::cli
