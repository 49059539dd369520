// How a signing command signs: with --key, a key file; without, keyless as cosign does it (an
// identity token exchanged at a certificate authority for a short-lived certificate over an
// ephemeral key, the signature logged and timestamped at the services a signing config names).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/common.h"
#include "vouch/sigstore/signer.h"

namespace vouch::cli {

struct SigningFlags {
  std::string key;
  std::string identity_token;
  std::string oidc_client_id = "sigstore";
  std::string fulcio_url, rekor_url, timestamp_url;
  std::string signing_config;
  bool tlog_upload = true;
  bool yes = false;

  void add(CLI::App* cmd);
};

// The signer and where its signatures go.
struct SigningSession {
  std::unique_ptr<sigstore::Signer> signer;
  std::string rekor_url;      // empty: no log upload
  std::string timestamp_url;  // empty: no timestamp
  bool keyless = false;
  std::string identity;       // keyless: the certificate's subject (for messages)
};

// Opens the session: loads the key, or (keyless) finds the identity token, asks for consent
// unless --yes, picks the services (flags, else --signing-config or $VOUCH_SIGNING_CONFIG, else
// the signing config over TUF) and gets the certificate. With a key, the log is --rekor-url or the
// signing config's, when one is given. `quiet`: no progress lines on stderr (-o json).
Result<SigningSession> open_signing_session(const SigningFlags& flags, const TimeoutFlag& timeout, bool quiet);

}  // namespace vouch::cli
