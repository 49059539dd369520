// How a command verifies cosign signatures and attestations: cosign verify's flags (a key, or a
// keyless identity with the trusted root, the log checks) turned into cosign's options. Shared by
// verify, verify-attestation and the commands that use an image's attestations (inventory add).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/common.h"
#include "vouch/cosign/verify.h"

namespace vouch::cli {

struct CosignVerifyFlags {
  std::string key;
  IdentityFlags identity;
  TrustedRootFlags trust;
  bool ignore_tlog = false, ignore_sct = false;
  std::string rekor_url;
  cosign::GithubWorkflowClaims claims;

  // --key, --certificate-*, --trusted-root, --insecure-ignore-tlog, --rekor-url, --insecure-ignore-sct.
  void add(CLI::App* cmd, const std::string& trusted_root_help);
  // Whether a key or a certificate identity was given (the command is asked to verify).
  bool given() const;
  // Whether any of the flags was given.
  bool any() const;
};

// cosign's options for `flags`: the key read and parsed, the identities, the trusted material
// (the root given, else Sigstore's over TUF when needed, plus the log of --rekor-url).
// Fails when neither a key nor an identity is given.
Result<cosign::VerifyOptions> cosign_verify_options(const CosignVerifyFlags& flags, oci::StoreOptions store,
                                                    std::chrono::steady_clock::time_point deadline);

}  // namespace vouch::cli
