#include "vouch/verifiers/notary.h"

#include <fmt/format.h>

#include "attestor_count.h"

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

class NotaryImageVerifier : public ImageVerifier {
 public:
  explicit NotaryImageVerifier(NotaryOptions options) : options_(std::move(options)) {}

  Result<ImageVerificationOutcome> verify(const std::string& image, const ImageVerification& rule,
                                          const AttestorSet& set, const Attestation* attestation) override {
    if (rule.type != "Notary") return invalid_input(fmt::format("verifyImages type {} is not Notary", rule.type));
    if (attestation) return invalid_input("attestations of type Notary are not supported");
    if (!rule.repository.empty()) return invalid_input("repository is not supported for type Notary");
    auto ref = oci::parse_image_ref(image);
    if (!ref.ok()) return invalid_input(fmt::format("image {}: {}", image, ref.error().message));
    if (ref->transport != oci::Transport::kRegistry) return invalid_input(fmt::format("image {}: not a registry image", image));

    ImageVerificationOutcome out;
    if (set.entries.empty()) {
      out.reason = "no attestors";
      return out;
    }
    VOUCH_ASSIGN_OR_RETURN(auto store, oci::open_store(*ref, options_.store, false));
    VOUCH_ASSIGN_OR_RETURN(oci::Manifest root, store->get_root());
    out.digest = root.digest.str();
    size_t needed = attestors_needed(set);
    size_t passed = 0;
    std::vector<std::string> reasons;
    for (size_t i = 0; i < set.entries.size() && passed < needed; ++i) {
      const Attestor& entry = set.entries[i];
      if (entry.attestor) return invalid_input(fmt::format(".entries[{}]: nested attestor sets are not supported", i));
      if (!entry.certificates)
        return invalid_input(fmt::format(".entries[{}]: type Notary needs certificates (cert, certChain)", i));
      std::vector<crypto::Certificate> anchors;
      for (const std::string* pem : {&entry.certificates->cert, &entry.certificates->cert_chain}) {
        if (pem->empty()) continue;
        auto certs = crypto::Certificate::all_from_pem(*pem);
        if (!certs.ok()) return invalid_input(fmt::format(".entries[{}].certificates: {}", i, certs.error().message));
        anchors.insert(anchors.end(), certs->begin(), certs->end());
      }
      if (anchors.empty()) return invalid_input(fmt::format(".entries[{}].certificates: no certificate", i));
      auto trust_store = notation::TrustStore::in_memory({{{notation::TrustStoreType::kCa, "kyverno"}, anchors}});
      VOUCH_ASSIGN_OR_RETURN(auto result, notation::verify_image(*store, root.descriptor(), ref->reference.name(),
                                                                 {&kyverno_policy(), &trust_store, now_unix()}));
      if (result.verified) ++passed;
      else reasons.push_back(fmt::format(".entries[{}]: {}", i, result.failure));
    }
    settle_attestor_set(out, passed, needed, reasons);
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
