#include "vouch/verifiers/notary.h"

#include <fmt/format.h>

#include "attestor_count.h"

#include "vouch/notation/attestations.h"
#include "vouch/notation/signatures.h"
#include "vouch/notation/trust_policy.h"

namespace vouch::verifiers {
namespace {

using namespace vouch::policy;

// The policy Kyverno builds for every Notary attestor entry.
const notation::TrustPolicyDocument& kyverno_policy() {
  static const notation::TrustPolicyDocument doc =
      notation::parse_trust_policy(R"({"version":"1.0","trustPolicies":[{"name":"kyverno","registryScopes":["*"],
        "signatureVerification":{"level":"strict"},"trustStores":["ca:kyverno"],"trustedIdentities":["*"]}]})")
          .value();
  return doc;
}

// The trust store "ca:kyverno" of one attestor entry: its certificates.cert and certChain (PEM).
// The entry's settings that Notary verification cannot honour are refused rather than ignored.
Result<notation::TrustStore> entry_trust_store(const Attestor& entry) {
  if (entry.attestor) return invalid_input(": nested attestor sets are not supported");
  if (!entry.certificates) return invalid_input(": type Notary needs certificates (cert, certChain)");
  if (!entry.repository.empty()) return invalid_input(".repository: not supported for type Notary");
  if (!entry.annotations.empty()) return invalid_input(".annotations: not supported for type Notary");
  // Notary signatures have no transparency log or SCTs: settings that only turn those checks off
  // are moot, settings that ask for them cannot be honoured.
  const auto& rekor = entry.certificates->rekor;
  if (rekor && (!rekor->ignore_tlog || !rekor->pubkey.empty()))
    return invalid_input(".certificates.rekor: type Notary has no transparency log to check (leave rekor out)");
  const auto& ctlog = entry.certificates->ctlog;
  if (ctlog && (!ctlog->ignore_sct || !ctlog->pubkey.empty() || !ctlog->tsa_cert_chain.empty()))
    return invalid_input(".certificates.ctlog: type Notary has no certificate transparency to check (leave ctlog out)");
  std::vector<crypto::Certificate> anchors;
  for (const std::string* pem : {&entry.certificates->cert, &entry.certificates->cert_chain}) {
    if (pem->empty()) continue;
    auto certs = crypto::Certificate::all_from_pem(*pem);
    if (!certs.ok()) return invalid_input(fmt::format(".certificates: {}", certs.error().message));
    anchors.insert(anchors.end(), certs->begin(), certs->end());
  }
  if (anchors.empty()) return invalid_input(".certificates: no certificate");
  return notation::TrustStore::in_memory({{{notation::TrustStoreType::kCa, "kyverno"}, anchors}});
}

class NotaryImageVerifier : public ImageVerifier {
 public:
  explicit NotaryImageVerifier(NotaryOptions options) : options_(std::move(options)) {}

  Result<ImageVerificationOutcome> verify(const std::string& image, const ImageVerification& rule,
                                          const AttestorSet& set, const Attestation* attestation) override {
    if (rule.type != "Notary") return invalid_input(fmt::format("verifyImages type {} is not Notary", rule.type));
    if (!rule.repository.empty()) return invalid_input("repository is not supported for type Notary");
    if (attestation && attestation->type.empty()) return invalid_input("attestation: type is required");
    auto ref = oci::parse_image_ref(image);
    if (!ref.ok()) return invalid_input(fmt::format("image {}: {}", image, ref.error().message));
    if (ref->transport != oci::Transport::kRegistry) return invalid_input(fmt::format("image {}: not a registry image", image));

    ImageVerificationOutcome out;
    // No attestors: there is no certificate to check a signature with, so nothing verifies
    // (Kyverno would read an attestation unverified).
    if (set.entries.empty()) {
      out.reason = "no attestors";
      return out;
    }
    // Every entry is read before the registry is: a setting that cannot be honoured is an error
    // whatever the image.
    std::vector<notation::TrustStore> trust_stores;
    for (size_t i = 0; i < set.entries.size(); ++i) {
      auto trust_store = entry_trust_store(set.entries[i]);
      if (!trust_store.ok()) return Error{trust_store.error().code, fmt::format(".entries[{}]{}", i, trust_store.error().message)};
      trust_stores.push_back(std::move(trust_store).value());
    }
    VOUCH_ASSIGN_OR_RETURN(auto store, oci::open_store(*ref, options_.store, false));
    VOUCH_ASSIGN_OR_RETURN(oci::Manifest root, store->get_root());
    out.digest = root.digest.str();
    const std::string scope = ref->reference.name();
    size_t needed = attestors_needed(set);
    size_t passed = 0;
    std::vector<std::string> reasons;
    for (size_t i = 0; i < set.entries.size() && passed < needed; ++i) {
      const notation::VerifyContext context{&kyverno_policy(), &trust_stores[i], now_unix()};
      if (!attestation) {
        VOUCH_ASSIGN_OR_RETURN(auto result, notation::verify_image(*store, root.descriptor(), scope, context));
        if (result.verified) ++passed;
        else reasons.push_back(fmt::format(".entries[{}]: {}", i, result.failure));
        continue;
      }
      auto result = notation::verify_attestations(*store, root.digest, attestation->type, scope, context);
      if (!result.ok()) return Error{result.error().code, fmt::format(".entries[{}]: {}", i, result.error().message)};
      if (!result->verified) {
        reasons.push_back(fmt::format(".entries[{}]: {}", i, result->failure));
        continue;
      }
      ++passed;
      // Every entry that passes has verified the same referrers; their contents are judged once.
      if (out.predicates.empty())
        for (auto& r : result->referrers) out.predicates.push_back(std::move(r.content));
    }
    settle_attestor_set(out, passed, needed, reasons);
    if (!out.verified) out.predicates.clear();
    return out;
  }

  Result<std::string> resolve_digest(const std::string& image, const ImageVerification&) override {
    return resolve_image_digest(image, options_.store);
  }

 private:
  NotaryOptions options_;
};

}  // namespace

std::shared_ptr<policy::ImageVerifier> notary_image_verifier(NotaryOptions options) {
  return std::make_shared<NotaryImageVerifier>(std::move(options));
}

}  // namespace vouch::verifiers
