#include "cli/signing.h"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include <fmt/format.h>

#include "vouch/base/file.h"
#include "vouch/sigstore/keyless.h"
#include "vouch/sigstore/signing_config.h"
#include "vouch/tuf/sigstore_trust.h"

namespace vouch::cli {
namespace {

// The API versions of each service this client speaks.
const std::vector<uint32_t> kCaVersions{1}, kRekorVersions{1}, kTsaVersions{1};

// Keyless signing publishes the signer's identity; as cosign, that needs the user's yes.
Status confirm_publication(const SigningFlags& flags, const sigstore::IdentityToken& token) {
  if (flags.yes) return ok_status();
  const std::string statement = fmt::format(
      "The identity {} (issuer {}) will be recorded in a signing certificate and, with the signature, in a "
      "transparency log; such entries cannot be removed.",
      token.challenge, token.issuer);
  if (::isatty(STDIN_FILENO) != 1 || ::isatty(STDERR_FILENO) != 1)
    return invalid_input(statement + " Confirm with -y/--yes.");
  fmt::print(stderr, "{}\nAre you sure you would like to continue? [y/N] ", statement);
  std::string answer;
  std::getline(std::cin, answer);
  if (answer == "y" || answer == "Y" || answer == "yes") return ok_status();
  return invalid_input("keyless signing not confirmed");
}

Result<std::optional<sigstore::SigningConfig>> configured_services(const SigningFlags& flags, const TimeoutFlag& timeout) {
  if (!flags.signing_config.empty()) {
    VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(flags.signing_config, 1 << 20));
    auto config = sigstore::parse_signing_config(text);
    if (!config.ok()) return std::move(config).error().context(flags.signing_config);
    return std::optional<sigstore::SigningConfig>(std::move(*config));
  }
  const bool need_ca = flags.fulcio_url.empty();
  const bool need_log = flags.tlog_upload && flags.rekor_url.empty();
  if (!need_ca && !need_log) return std::optional<sigstore::SigningConfig>();
  // As cosign 3: the signing config Sigstore distributes over TUF.
  net::ClientOptions http;
  http.deadline = timeout.deadline();
  auto trust = tuf::sigstore_trust(http);
  if (!trust.ok())
    return invalid_input(fmt::format("no signing config: give --signing-config FILE or --fulcio-url and --rekor-url ({})",
                                     trust.error().message));
  if (!trust->signing_config)
    return invalid_input(fmt::format("the TUF repository at {} has no {}: give --signing-config FILE or --fulcio-url "
                                     "and --rekor-url",
                                     trust->mirror, tuf::kSigningConfigTarget));
  auto config = sigstore::parse_signing_config(*trust->signing_config);
  if (!config.ok()) return std::move(config).error().context(fmt::format("{} from TUF {}", tuf::kSigningConfigTarget, trust->mirror));
  return std::optional<sigstore::SigningConfig>(std::move(*config));
}

// One service of a kind, or none when the config lists none; more than one selected (ALL or
// EXACT n > 1) is refused rather than quietly using only the first.
Result<std::string> one_of(const std::vector<sigstore::Service>& services, const sigstore::ServiceSelection& selection,
                           const std::vector<uint32_t>& versions, std::string_view what) {
  VOUCH_ASSIGN_OR_RETURN(auto chosen, sigstore::select_services(services, selection, versions, now_unix(), what));
  if (chosen.size() > 1)
    return invalid_input(fmt::format("signing config selects {} {}s; signing with more than one is not supported",
                                     chosen.size(), what));
  return chosen.empty() ? std::string() : chosen.front().url;
}

}  // namespace

void SigningFlags::add(CLI::App* cmd) {
  cmd->add_option("--key", key,
                  "Private key file (cosign.key; password from $COSIGN_PASSWORD or a prompt). Without --key: keyless, "
                  "a short-lived certificate for your OIDC identity");
  cmd->add_option("--identity-token", identity_token,
                  "Keyless: the OIDC identity token, or a file holding it (default: $SIGSTORE_ID_TOKEN, else GitHub "
                  "Actions' ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN)");
  cmd->add_option("--oidc-client-id", oidc_client_id, "Keyless: the audience asked for from GitHub Actions")
      ->capture_default_str();
  cmd->add_option("--fulcio-url", fulcio_url, "Keyless: the Fulcio-compatible certificate authority (overrides the signing config)");
  cmd->add_option("--rekor-url", rekor_url,
                  "The Rekor v1 transparency log to upload to (overrides the signing config's; with --key and no "
                  "signing config, the only log a key's signature goes to)");
  cmd->add_option("--timestamp-server-url", timestamp_url,
                  "An RFC 3161 timestamp authority to countersign the signature (its full URL, e.g. "
                  "https://timestamp.sigstore.dev/api/v1/timestamp; keyless: overrides the signing config)");
  cmd->add_option("--signing-config", signing_config,
                  "SigningConfig v0.2 naming the CA, log and TSA (default: $VOUCH_SIGNING_CONFIG, else, keyless, Sigstore's "
                  "over TUF, see vouch initialize); with --key, the log its signatures go to");
  cmd->add_flag("--tlog-upload{true}", tlog_upload, "Upload to the transparency log (=false: do not)")->capture_default_str();
  cmd->add_flag("-y,--yes", yes, "Keyless: skip the confirmation that your identity is published");
}

Result<SigningSession> open_signing_session(const SigningFlags& given, const TimeoutFlag& timeout, bool quiet) {
  SigningFlags flags = given;
  // `vouch stack up` exports VOUCH_SIGNING_CONFIG in DIR/env: with it sourced, signatures go to
  // that stack's services as they would with --signing-config.
  if (flags.signing_config.empty()) {
    if (const char* env = std::getenv("VOUCH_SIGNING_CONFIG"); env && *env) flags.signing_config = env;
  }
  SigningSession session;
  if (!flags.key.empty()) {
    if (!flags.identity_token.empty() || !flags.fulcio_url.empty())
      return invalid_input("--key signs with a key: --identity-token and --fulcio-url are for keyless signing");
    VOUCH_ASSIGN_OR_RETURN(crypto::PrivateKey key, load_private_key(flags.key));
    session.signer = std::make_unique<sigstore::KeySigner>(std::move(key));
    if (flags.tlog_upload) session.rekor_url = flags.rekor_url;
    // As cosign 3, a signing config names the log a key's signatures go to as well; without one
    // (and without --rekor-url) a key signs offline.
    if (flags.tlog_upload && session.rekor_url.empty() && !flags.signing_config.empty()) {
      VOUCH_ASSIGN_OR_RETURN(auto config, configured_services(flags, timeout));
      VOUCH_ASSIGN_OR_RETURN(session.rekor_url, one_of(config->rekor_tlog_urls, config->rekor_tlog_config,
                                                       kRekorVersions, "transparency log"));
    }
    session.timestamp_url = flags.timestamp_url;
    return session;
  }
  net::ClientOptions http;
  http.deadline = timeout.deadline();
  sigstore::TokenSource source;
  source.identity_token = flags.identity_token;
  source.audience = flags.oidc_client_id;
  source.http = http;
  VOUCH_ASSIGN_OR_RETURN(std::string raw, sigstore::find_identity_token(source));
  VOUCH_ASSIGN_OR_RETURN(sigstore::IdentityToken token, sigstore::parse_identity_token(raw));
  VOUCH_RETURN_IF_ERROR(confirm_publication(flags, token));

  VOUCH_ASSIGN_OR_RETURN(auto config, configured_services(flags, timeout));
  std::string fulcio = flags.fulcio_url;
  if (fulcio.empty()) {
    VOUCH_ASSIGN_OR_RETURN(sigstore::Service ca, sigstore::select_service(config->ca_urls, kCaVersions, now_unix(),
                                                                            "certificate authority"));
    fulcio = ca.url;
  }
  if (flags.tlog_upload) {
    session.rekor_url = flags.rekor_url;
    if (session.rekor_url.empty() && config) {
      VOUCH_ASSIGN_OR_RETURN(session.rekor_url, one_of(config->rekor_tlog_urls, config->rekor_tlog_config,
                                                       kRekorVersions, "transparency log"));
    }
  }
  session.timestamp_url = flags.timestamp_url;
  if (session.timestamp_url.empty() && config) {
    VOUCH_ASSIGN_OR_RETURN(session.timestamp_url,
                           one_of(config->tsa_urls, config->tsa_config, kTsaVersions, "timestamp authority"));
  }
  // A certificate lives ten minutes: without a log entry or a signed timestamp nobody can tell
  // later that the signature was made within them.
  if (session.rekor_url.empty() && session.timestamp_url.empty())
    return invalid_input("keyless signing needs a transparency log or a timestamp authority: the signing config "
                         "names neither (or --tlog-upload=false without --timestamp-server-url)");

  if (!quiet) fmt::print(stderr, "Retrieving signed certificate from {} for {} ...\n", fulcio, token.challenge);
  auto signer = sigstore::KeylessSigner::create(fulcio, token, http);
  if (!signer.ok()) return std::move(signer).error();
  session.keyless = true;
  // The identity the certificate names (its SAN), which verifiers match; the token's subject
  // only when the CA wrote no SAN vouch reads.
  const auto sans = (*signer)->material().certificate_chain.front().subject_alt_names();
  session.identity = !sans.emails.empty() ? sans.emails.front() : !sans.uris.empty() ? sans.uris.front() : token.challenge;
  if (!quiet) {
    fmt::print(stderr, "Successfully retrieved a certificate for {}\n", session.identity);
  }
  session.signer = std::move(*signer);
  return session;
}

}  // namespace vouch::cli
