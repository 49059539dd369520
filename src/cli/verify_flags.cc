#include "cli/verify_flags.h"

#include <cstdlib>

#include <fmt/format.h>

#include "vouch/base/file.h"
#include "vouch/crypto/digest.h"
#include "vouch/sigstore/trusted_root.h"
#include "vouch/tlog/client.h"

namespace vouch::cli {
namespace {

// The log at `url` as a trusted root of its own (cosign verify --rekor-url): its key from
// $SIGSTORE_REKOR_PUBLIC_KEY when set, else from the log itself, then named on stderr so that
// it can be compared with the operator's.
Result<std::shared_ptr<const sigstore::TrustedMaterial>> log_trusted_root(const std::string& url,
                                                                          std::chrono::steady_clock::time_point deadline) {
  std::string pem;
  const char* env = std::getenv("SIGSTORE_REKOR_PUBLIC_KEY");
  if (env && *env) {
    VOUCH_ASSIGN_OR_RETURN(pem, read_file(env, 1 << 20));
  } else {
    tlog::RekorClient client(url, tlog::default_rekor_client_options(deadline));
    auto fetched = client.public_key_pem();
    if (!fetched.ok()) return std::move(fetched).error().context(fmt::format("--rekor-url {}", url));
    pem = std::move(fetched).value();
  }
  auto key = crypto::PublicKey::from_pem(pem);
  if (!key.ok()) return std::move(key).error().context(env && *env ? env : "the log's public key");
  sigstore::LogInstance log;
  log.base_url = url;
  VOUCH_ASSIGN_OR_RETURN(log.key_details, sigstore::key_details_for(*key));
  log.log_id = crypto::sha256(key->der());
  log.valid_for.start = 0;
  if (!(env && *env))
    fmt::print(stderr, "vouch: trusting the log at {} with the key it serves (log ID {})\n", url, hex_encode(log.log_id));
  log.key = std::move(*key);
  sigstore::TrustedRoot root;
  root.tlogs.push_back(std::move(log));
  return std::shared_ptr<const sigstore::TrustedMaterial>(std::make_shared<const sigstore::TrustedRoot>(std::move(root)));
}

}  // namespace

void CosignVerifyFlags::add(CLI::App* cmd, const std::string& trusted_root_help) {
  cmd->add_option("--key", key, "Public key file (PEM) the signature must verify with");
  identity.add(cmd);
  cmd->add_option("--certificate-github-workflow-trigger", claims.trigger, "Expected GitHub workflow trigger claim");
  cmd->add_option("--certificate-github-workflow-sha", claims.sha, "Expected GitHub workflow sha claim");
  cmd->add_option("--certificate-github-workflow-name", claims.name, "Expected GitHub workflow name claim");
  cmd->add_option("--certificate-github-workflow-repository", claims.repository,
                  "Expected GitHub workflow repository claim");
  cmd->add_option("--certificate-github-workflow-ref", claims.ref, "Expected GitHub workflow ref claim");
  trust.add(cmd, trusted_root_help);
  cmd->add_flag("--insecure-ignore-tlog", ignore_tlog,
                "Do not require or check transparency log entries (in both layouts; by default a signature\n"
                "without a verified log entry is rejected)");
  cmd->add_option("--rekor-url", rekor_url,
                  "Also trust this Rekor v1 log for log entries: its key from $SIGSTORE_REKOR_PUBLIC_KEY (a PEM\n"
                  "file, as cosign), else fetched from the log (trust on first use; its log ID is printed)");
  cmd->add_flag("--insecure-ignore-sct", ignore_sct, "Do not require an SCT in the certificate");
}

bool CosignVerifyFlags::given() const {
  return !key.empty() || !identity.identity.empty() || !identity.identity_regexp.empty() ||
         !identity.issuer.empty() || !identity.issuer_regexp.empty();
}

bool CosignVerifyFlags::any() const {
  return given() || !trust.paths.empty() || ignore_tlog || ignore_sct || !rekor_url.empty() || !claims.empty();
}

Result<cosign::VerifyOptions> cosign_verify_options(const CosignVerifyFlags& f, oci::StoreOptions store,
                                                    std::chrono::steady_clock::time_point deadline) {
  cosign::VerifyOptions o;
  o.ignore_tlog = f.ignore_tlog;
  o.ignore_sct = f.ignore_sct;
  o.github_claims = f.claims;
  o.store = std::move(store);
  VOUCH_ASSIGN_OR_RETURN(o.repository, signature_repository());
  if (!f.key.empty()) {
    VOUCH_ASSIGN_OR_RETURN(std::string pem, read_file(f.key, 1 << 20));
    auto key = crypto::PublicKey::from_pem(pem);
    if (!key.ok()) return std::move(key).error().context(f.key);
    o.keys.push_back(*key);
  }
  VOUCH_ASSIGN_OR_RETURN(o.identities, f.identity.identities());
  if (o.keys.empty() && o.identities.empty())
    return invalid_input("give --key, or --certificate-identity[-regexp] with --certificate-oidc-issuer[-regexp]");
  // A log named with --rekor-url stands in for the TUF root when only log entries need trust.
  const bool needed = o.keys.empty() || (!o.ignore_tlog && f.rekor_url.empty());
  VOUCH_ASSIGN_OR_RETURN(o.trusted_material, f.trust.load_or_tuf(needed, deadline));
  if (!f.rekor_url.empty() && !o.ignore_tlog) {
    VOUCH_ASSIGN_OR_RETURN(auto log, log_trusted_root(f.rekor_url, deadline));
    if (!o.trusted_material) {
      o.trusted_material = std::move(log);
    } else {
      o.trusted_material = std::make_shared<const sigstore::TrustedMaterialCollection>(
          std::vector<std::shared_ptr<const sigstore::TrustedMaterial>>{o.trusted_material, std::move(log)});
    }
  }
  return o;
}

}  // namespace vouch::cli
