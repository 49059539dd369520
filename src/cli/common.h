// Shared plumbing for subcommands: exit codes, error lines, output formats, passwords.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <boost/json.hpp>

#include "vouch/base/result.h"
#include "vouch/crypto/keys.h"
#include "vouch/oci/reference.h"
#include "vouch/sigstore/identity.h"
#include "vouch/sigstore/trusted_material.h"

namespace vouch::cli {

// Exit codes: 0 success, 1 verification or policy failure, 2 usage or input error.
constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

// The one mapping of error classes to exit codes (docs/CONTRIBUTING.md): kVerification is a
// verdict (1); bad input, limits, I/O, not found and internal errors are 2.
int exit_code_for(const Error& error);

// `text` as one line that a terminal shows as it is: line breaks and tabs become spaces, other
// control characters (from input the message quotes) are written as \xNN or \uNNNN.
std::string printable_line(std::string_view text);

// Prints "vouch: <message>" on one line to stderr and returns the exit code for the error.
int report(const Error& error);

// -o/--output: one of `formats`, checked, its default (what `output` holds) shown in --help;
// `note` adds to the help ("a PolicyReport").
void add_output_flag(CLI::App* cmd, std::string& output, std::vector<std::string> formats = {"text", "json"},
                     std::string_view note = {});

// Runs `run` when `cmd` is the command given and keeps its exit code in `exit_code`: 0, or the
// error's, reported on one line.
void on_run(CLI::App* cmd, int& exit_code, std::function<Status()> run);

// Prints a JSON value, indented, to stdout.
void print_json(const boost::json::value& value);

// The key password: $COSIGN_PASSWORD if set, else a prompt on the terminal (twice when
// `confirm`); fails when neither is available.
Result<std::string> read_password(bool confirm);

bool stdout_is_terminal();

// A private key file (cosign.key, or PEM); when it is encrypted, the password comes from
// read_password.
Result<crypto::PrivateKey> load_private_key(const std::string& path);

// What a verifying command trusts: --trusted-root FILE (repeatable; several roots are trusted
// together), else $SIGSTORE_ROOT_FILE as cosign reads it (a trusted_root.json, or PEM CA
// certificates).
struct TrustedRootFlags {
  std::vector<std::string> paths;

  void add(CLI::App* cmd, const std::string& help);
  // Null when no root is given.
  Result<std::shared_ptr<const sigstore::TrustedMaterial>> load() const;
  // As load(); when no root is given and one is `needed`, Sigstore's trusted root over TUF as
  // cosign gets it (vouch initialize; the public-good root on first use), refreshed within
  // `deadline`, or the cache's copy, with its age on stderr, when the mirror cannot be reached.
  Result<std::shared_ptr<const sigstore::TrustedMaterial>> load_or_tuf(
      bool needed, std::chrono::steady_clock::time_point deadline) const;
};

// -t/--timeout, as cosign's: the deadline for all of a command's network requests, to registries
// and to transparency logs (90s, 5m, 1h; default 5m).
struct TimeoutFlag {
  double seconds = 300;
  // When the command started: the deadline counts from there.
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();

  void add(CLI::App* cmd);
  std::chrono::milliseconds duration() const {
    return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  }
  std::chrono::steady_clock::time_point deadline() const { return start + duration(); }
};

// --certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp]: who must have signed.
struct IdentityFlags {
  std::string identity, identity_regexp, issuer, issuer_regexp;

  void add(CLI::App* cmd);
  // Empty when no flag is given; an error when only one of identity and issuer is.
  Result<std::vector<sigstore::CertificateIdentity>> identities() const;
};

// One structured log line of a server on stderr: {"time", "level": "info", "msg", ...fields}.
void server_log(std::string_view msg, boost::json::object fields = {});

// COSIGN_REPOSITORY, as cosign reads it: signatures live in that repository (nullopt when unset).
Result<std::optional<oci::Reference>> signature_repository();

}  // namespace vouch::cli
