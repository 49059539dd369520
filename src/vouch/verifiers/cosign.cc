#include "vouch/verifiers/cosign.h"

#include <fmt/format.h>

#include "attestor_count.h"
#include "sigstore_trust.h"

#include "vouch/cosign/verify.h"
#include "vouch/verifiers/notary.h"

namespace vouch::verifiers {
namespace {

namespace bj = boost::json;
using namespace vouch::policy;

// The PEM public keys of a keys attestor: one or more blocks in one string. Secrets and KMS
// references need a cluster or a cloud and are refused rather than skipped.
Result<std::vector<std::string>> public_key_pems(const KeyAttestor& k) {
  if (!k.kms.empty()) return invalid_input("keys.kms is not supported");
  if (!k.secret_name.empty()) return invalid_input("keys.secret is not supported");
  if (k.public_keys.starts_with("k8s://")) return invalid_input("keys.publicKeys: k8s:// secrets are not supported");
  std::vector<std::string> pems;
  const std::string begin = "-----BEGIN ", end = "-----END ";
  size_t pos = 0;
  while ((pos = k.public_keys.find(begin, pos)) != std::string::npos) {
    size_t e = k.public_keys.find(end, pos);
    if (e == std::string::npos) break;
    size_t close = k.public_keys.find("-----", e + end.size());
    if (close == std::string::npos) break;
    pems.push_back(k.public_keys.substr(pos, close + 5 - pos) + "\n");
    pos = close + 5;
  }
  if (pems.empty()) return invalid_input("keys.publicKeys: no PEM public key");
  return pems;
}

class CosignImageVerifier : public ImageVerifier {
 public:
  explicit CosignImageVerifier(CosignOptions options)
      : options_(std::move(options)), notary_(notary_image_verifier({options_.store})) {}

  Result<ImageVerificationOutcome> verify(const std::string& image, const ImageVerification& rule,
                                          const AttestorSet& set, const Attestation* attestation) override {
    if (rule.type == "Notary") return notary_->verify(image, rule, set, attestation);
    if (rule.type != "Cosign" && rule.type != "SigstoreBundle")
      return invalid_input(fmt::format("verifyImages type {} is not supported", rule.type));
    auto ref = oci::parse_image_ref(image);
    if (!ref.ok()) return invalid_input(fmt::format("image {}: {}", image, ref.error().message));

    ImageVerificationOutcome out;
    // No attestors for an attestation: only its presence, type and conditions are required;
    // there is no key to check it with, so it cannot verify.
    if (set.entries.empty()) {
      out.reason = "no attestors";
      return out;
    }
    size_t needed = attestors_needed(set);
    size_t passed = 0;
    std::vector<std::string> reasons;
    for (size_t i = 0; i < set.entries.size(); ++i) {
      auto r = verify_entry(*ref, rule, set.entries[i], attestation);
      if (!r.ok()) return Error{r.error().code, fmt::format(".entries[{}]: {}", i, r.error().message)};
      if (r->ok()) {
        ++passed;
        out.digest = r->digest.str();
        for (const auto& v : r->verified) {
          if (!attestation) continue;
          const bj::value* predicate = v.json.is_object() ? v.json.get_object().if_contains("predicate") : nullptr;
          out.predicates.push_back(predicate ? *predicate : bj::value(bj::object{}));
        }
        if (passed >= needed) break;
      } else {
        reasons.push_back(fmt::format(".entries[{}]: {}", i, r->failure_summary()));
      }
    }
    settle_attestor_set(out, passed, needed, reasons);
    return out;
  }

  Result<std::string> resolve_digest(const std::string& image, const ImageVerification&) override {
    return resolve_image_digest(image, options_.store);
  }

 private:
  Result<cosign::VerifyResult> verify_entry(const oci::ImageRef& ref, const ImageVerification& rule,
                                            const Attestor& entry, const Attestation* attestation) {
    if (entry.attestor) return invalid_input("nested attestor sets are not supported");
    cosign::VerifyOptions v;
    // Signatures kept in another repository (the entry's, else the rule's), as COSIGN_REPOSITORY.
    const std::string& repository = entry.repository.empty() ? rule.repository : entry.repository;
    if (!repository.empty()) {
      auto r = oci::parse_reference_no_default_tag(repository);
      if (!r.ok()) return invalid_input(fmt::format("repository {}: {}", repository, r.error().message));
      v.repository = std::move(*r);
    }
    v.store = options_.store;
    v.annotations = entry.annotations;
    v.trusted_material = options_.trusted_material;
    const std::optional<Rekor>* rekor = nullptr;
    const std::optional<CTLog>* ctlog = nullptr;
    if (entry.keys) {
      VOUCH_ASSIGN_OR_RETURN(v.key_pems, public_key_pems(*entry.keys));
      rekor = &entry.keys->rekor;
      ctlog = &entry.keys->ctlog;
    } else if (entry.keyless) {
      const KeylessAttestor& k = *entry.keyless;
      if (!k.roots.empty()) return invalid_input("keyless.roots is not supported (trust comes from the trusted root)");
      if (!k.additional_extensions.empty()) return invalid_input("keyless.additionalExtensions is not supported");
      VOUCH_ASSIGN_OR_RETURN(v.trusted_material, trust_.material("keyless attestors need a trusted root (--trusted-root)"));
      sigstore::CertificateIdentity id{sigstore::StringMatcher::exact(k.subject), sigstore::StringMatcher::exact(k.issuer)};
      if (!k.subject_regexp.empty()) {
        VOUCH_ASSIGN_OR_RETURN(id.subject_alternative_name, sigstore::StringMatcher::regexp(k.subject_regexp));
      } else if (k.subject.find('*') != std::string::npos) {
        // Kyverno matches subject with wildcards.
        VOUCH_ASSIGN_OR_RETURN(id.subject_alternative_name, sigstore::StringMatcher::regexp(wildcard_regexp(k.subject)));
      }
      if (!k.issuer_regexp.empty()) {
        VOUCH_ASSIGN_OR_RETURN(id.issuer, sigstore::StringMatcher::regexp(k.issuer_regexp));
      } else if (k.issuer.find('*') != std::string::npos) {
        VOUCH_ASSIGN_OR_RETURN(id.issuer, sigstore::StringMatcher::regexp(wildcard_regexp(k.issuer)));
      }
      if (k.subject.empty() && k.subject_regexp.empty()) return invalid_input("keyless: subject is required");
      if (k.issuer.empty() && k.issuer_regexp.empty()) return invalid_input("keyless: issuer is required");
      v.identities.push_back(std::move(id));
      rekor = &k.rekor;
      ctlog = &k.ctlog;
    } else if (entry.certificates) {
      return invalid_input("certificates attestors are not supported");
    } else {
      return invalid_input("empty attestor entry");
    }
    v.ignore_tlog = *rekor && (*rekor)->ignore_tlog;
    v.ignore_sct = *ctlog && (*ctlog)->ignore_sct;
    if (*rekor && !(*rekor)->pubkey.empty())
      return invalid_input("rekor.pubkey is not supported (the log's key comes from the trusted root)");
    if (!v.ignore_tlog && !v.trusted_material) {
      VOUCH_ASSIGN_OR_RETURN(v.trusted_material, trust_.material("the transparency log check needs a trusted root (--trusted-root), "
                                                       "or rekor.ignoreTlog: true"));
    }
    if (v.trusted_material) v.verifier = trust_.prepared_for(v.trusted_material);
    if (attestation) return cosign::verify_image_attestations(ref, attestation->type, v);
    return cosign::verify_image_signatures(ref, v);
  }

  // Kyverno's wildcard subjects ("https://github.com/org/*") as an anchored regexp.
  static std::string wildcard_regexp(const std::string& pattern) {
    std::string out = "^";
    for (char c : pattern) {
      if (c == '*') out += ".*";
      else if (c == '?') out += '.';
      else if (std::string_view("\\^$.|+()[]{}").find(c) != std::string_view::npos) out += std::string("\\") + c;
      else out += c;
    }
    return out + "$";
  }

  CosignOptions options_;
  std::shared_ptr<ImageVerifier> notary_;  // verifyImages entries of type Notary
  SigstoreTrust trust_{options_};
};

}  // namespace

std::shared_ptr<ImageVerifier> cosign_image_verifier(CosignOptions options) {
  return std::make_shared<CosignImageVerifier>(std::move(options));
}

}  // namespace vouch::verifiers
