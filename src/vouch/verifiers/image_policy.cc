#include "vouch/verifiers/image_policy.h"

#include <mutex>

#include <fmt/format.h>

#include "attestor_count.h"
#include "sigstore_trust.h"

#include "vouch/cosign/verify.h"
#include "vouch/crypto/x509.h"
#include "vouch/notation/signatures.h"
#include "vouch/notation/trust_policy.h"
#include "vouch/oci/blob.h"
#include "vouch/oci/image.h"
#include "vouch/sigstore/trusted_root.h"

namespace vouch::verifiers {
namespace {

namespace bj = boost::json;
using namespace vouch::policy;

constexpr size_t kMaxReferrers = 50;              // Kyverno's limit on an image's referrers
constexpr size_t kMaxPayloadBytes = 10'000'000;   // and on a referrer's payload
constexpr size_t kMaxConfigBytes = 8 << 20;

// The trust policy Kyverno builds for a Notary attestor.
const notation::TrustPolicyDocument& notary_policy(bool with_tsa) {
  static const notation::TrustPolicyDocument ca_only =
      notation::parse_trust_policy(R"({"version":"1.0","trustPolicies":[{"name":"kyverno","registryScopes":["*"],
        "signatureVerification":{"level":"strict"},"trustStores":["ca:kyverno"],"trustedIdentities":["*"]}]})")
          .value();
  static const notation::TrustPolicyDocument with_tsa_store =
      notation::parse_trust_policy(R"({"version":"1.0","trustPolicies":[{"name":"kyverno","registryScopes":["*"],
        "signatureVerification":{"level":"strict"},"trustStores":["ca:kyverno","tsa:kyverno"],"trustedIdentities":["*"]}]})")
          .value();
  return with_tsa ? with_tsa_store : ca_only;
}

// go-containerregistry names Docker Hub's registry index.docker.io, and so does Kyverno.
std::string registry_name(const oci::Reference& ref) {
  return ref.registry == oci::kDefaultDomain ? "index.docker.io" : ref.registry;
}

Result<bj::value> parse_json(const std::string& text, std::string_view what) {
  boost::system::error_code ec;
  bj::value v = bj::parse(text, ec);
  if (ec) return invalid_input(fmt::format("{}: not JSON: {}", what, ec.message()));
  return v;
}

class RegistryImagePolicyVerifier : public ImagePolicyVerifier {
 public:
  explicit RegistryImagePolicyVerifier(CosignOptions options) : options_(std::move(options)) {}

  Result<bj::value> image_data(const std::string& image, bool allow_insecure) override {
    VOUCH_ASSIGN_OR_RETURN(oci::Reference ref, parse(image));
    VOUCH_ASSIGN_OR_RETURN(auto store, open(ref, allow_insecure));
    oci::Platform amd64;
    amd64.os = "linux";
    amd64.architecture = "amd64";
    VOUCH_ASSIGN_OR_RETURN(oci::ResolvedImage resolved, oci::resolve_image(*store, amd64));
    bj::object out;
    out["image"] = image;
    out["registry"] = registry_name(ref);
    out["repository"] = ref.repository;
    std::string name = registry_name(ref) + "/" + ref.repository;
    std::string digest = resolved.root.digest.str();
    if (ref.digest) {
      out["identifier"] = ref.digest->str();
      out["resolvedImage"] = name + "@" + digest;
    } else {
      std::string tag = ref.tag.value_or(std::string(oci::kDefaultTag));
      out["identifier"] = tag;
      out["tag"] = tag;
      out["resolvedImage"] = name + ":" + tag + "@" + digest;
    }
    out["digest"] = digest;
    if (resolved.root.is_index()) {
      VOUCH_ASSIGN_OR_RETURN(out["imageIndex"], parse_json(resolved.root.bytes, "image index"));
    }
    VOUCH_ASSIGN_OR_RETURN(out["manifest"], parse_json(resolved.image.bytes, "manifest"));
    if (resolved.config.size() > kMaxConfigBytes) return invalid_input("image config: too large");
    VOUCH_ASSIGN_OR_RETURN(out["config"], parse_json(resolved.config, "image config"));
    return bj::value(std::move(out));
  }

  Result<AttestorOutcome> verify_signature(const std::string& image, const IvpolAttestor& attestor,
                                           bool allow_insecure) override {
    VOUCH_ASSIGN_OR_RETURN(oci::Reference ref, parse(image));
    if (attestor.notary) return verify_notary(ref, attestor, nullptr, allow_insecure);
    VOUCH_ASSIGN_OR_RETURN(cosign::VerifyOptions v, cosign_options(attestor, allow_insecure));
    oci::ImageRef image_ref;
    image_ref.reference = ref;
    VOUCH_ASSIGN_OR_RETURN(cosign::VerifyResult r, cosign::verify_image_signatures(image_ref, v));
    AttestorOutcome out;
    out.verified = r.ok();
    if (!out.verified) out.reason = r.failure_summary();
    return out;
  }

  Result<AttestorOutcome> verify_attestation(const std::string& image, const IvpolAttestation& attestation,
                                             const IvpolAttestor& attestor, bool allow_insecure) override {
    VOUCH_ASSIGN_OR_RETURN(oci::Reference ref, parse(image));
    AttestorOutcome out;
    if (attestor.notary) {
      if (attestation.referrer_type.empty()) {
        out.reason = "notary verifier only supports oci 1.1 referrers as attestations";
        return out;
      }
      return verify_notary(ref, attestor, &attestation, allow_insecure);
    }
    if (attestation.intoto_type.empty()) {
      out.reason = "cosign verifier only supports intoto referrers as attestations";
      return out;
    }
    VOUCH_ASSIGN_OR_RETURN(cosign::VerifyOptions v, cosign_options(attestor, allow_insecure));
    oci::ImageRef image_ref;
    image_ref.reference = ref;
    VOUCH_ASSIGN_OR_RETURN(cosign::VerifyResult r,
                           cosign::verify_image_attestations(image_ref, attestation.intoto_type, v));
    out.verified = r.ok();
    if (!out.verified) {
      out.reason = r.failure_summary();
      return out;
    }
    for (const auto& s : r.verified) out.statements.push_back(s.json);
    return out;
  }

  Result<bj::value> referrer_payload(const std::string& image, const std::string& artifact_type,
                                     const std::string& referrer_digest, bool allow_insecure) override {
    VOUCH_ASSIGN_OR_RETURN(oci::Reference ref, parse(image));
    VOUCH_ASSIGN_OR_RETURN(auto store, open(ref, allow_insecure));
    VOUCH_ASSIGN_OR_RETURN(oci::Manifest root, store->get_root());
    VOUCH_ASSIGN_OR_RETURN(auto referrers, store->referrers(root.digest));
    if (referrers.size() > kMaxReferrers)
      return invalid_input(fmt::format("failed to fetch referrers: to many referrers found, max limit is {}", kMaxReferrers));
    const oci::Descriptor* chosen = nullptr;
    for (const auto& d : referrers) {
      if (d.artifact_type != artifact_type) continue;
      if (!referrer_digest.empty() && d.digest.str() != referrer_digest) continue;
      chosen = &d;
      break;
    }
    if (!chosen) return not_found(fmt::format("artifact of type {} not found", artifact_type));
    VOUCH_ASSIGN_OR_RETURN(oci::Manifest m, store->get_manifest(*chosen));
    if (m.layers.size() != 1) return invalid_input("invalid referrer descriptor, must have only one layer");
    VOUCH_ASSIGN_OR_RETURN(auto reader, store->open_blob(m.layers[0]));
    VOUCH_ASSIGN_OR_RETURN(std::string bytes, oci::read_all(*reader, kMaxPayloadBytes, "referrer payload"));
    return parse_json(bytes, fmt::format("referrer {}", chosen->digest.str()));
  }

  Result<std::string> resolve_digest(const std::string& image, bool allow_insecure) override {
    oci::StoreOptions o = options_.store;
    o.allow_insecure = o.allow_insecure || allow_insecure;
    return resolve_image_digest(image, o);
  }

 private:
  static Result<oci::Reference> parse(const std::string& image) {
    auto ref = oci::parse_reference(image);
    if (!ref.ok()) return invalid_input(fmt::format("image {}: {}", image, ref.error().message));
    return ref;
  }

  Result<std::unique_ptr<oci::Store>> open(const oci::Reference& ref, bool allow_insecure) {
    oci::ImageRef image_ref;
    image_ref.reference = ref;
    oci::StoreOptions o = options_.store;
    o.allow_insecure = o.allow_insecure || allow_insecure;
    return oci::open_store(image_ref, o, false);
  }

  // A cosign attestor as cosign's verification options, as Kyverno's checkOptions builds them.
  Result<cosign::VerifyOptions> cosign_options(const IvpolAttestor& attestor, bool allow_insecure) {
    const IvpolCosign& c = *attestor.cosign;
    cosign::VerifyOptions v;
    v.store = options_.store;
    v.store.allow_insecure = v.store.allow_insecure || allow_insecure;
    v.annotations = c.annotations;
    v.ignore_tlog = c.insecure_ignore_tlog;
    v.ignore_sct = c.insecure_ignore_sct;
    if (!c.source_repository.empty()) {
      auto r = oci::parse_reference_no_default_tag(c.source_repository);
      if (!r.ok()) return invalid_input(fmt::format("source.repository {}: {}", c.source_repository, r.error().message));
      v.repository = std::move(*r);
    }
    std::shared_ptr<const sigstore::TrustedMaterial> material;
    if (!c.trusted_root.value.empty()) {
      if (c.trusted_root.value.size() > (1 << 20)) return invalid_input("inline trustedRoot JSON is too large");
      auto root = sigstore::parse_trusted_root(c.trusted_root.value);
      if (!root.ok()) return invalid_input(fmt::format("parsing inline trustedRoot JSON: {}", root.error().message));
      material = std::make_shared<const sigstore::TrustedRoot>(std::move(*root));
    }
    if (c.has_key) {
      if (c.key_data.empty()) return invalid_input("key: no public key");
      v.key_pems.push_back(c.key_data);
    } else if (c.has_certificate) {
      if (!c.cert_chain.value.empty())
        return invalid_input("certificate.certChain is not supported (give the signing certificate alone)");
      auto certs = crypto::Certificate::all_from_pem(c.cert.value);
      if (!certs.ok() || certs->empty())
        return invalid_input(fmt::format("failed to load certificate: {}", certs.ok() ? "no certificate" : certs.error().message));
      v.keys.push_back(certs->front().public_key());
    } else if (c.has_keyless) {
      if (!material) {
        VOUCH_ASSIGN_OR_RETURN(material, trust_.material("keyless attestors need a trusted root (trustedRoot, --trusted-root)"));
      }
      for (const auto& id : c.identities) {
        sigstore::CertificateIdentity ci{sigstore::StringMatcher::exact(id.subject), sigstore::StringMatcher::exact(id.issuer)};
        if (!id.subject.empty() && !id.subject_regexp.empty())
          return invalid_input("keyless identity: subject and subjectRegExp are exclusive");
        if (!id.issuer.empty() && !id.issuer_regexp.empty())
          return invalid_input("keyless identity: issuer and issuerRegExp are exclusive");
        if (!id.subject_regexp.empty()) {
          VOUCH_ASSIGN_OR_RETURN(ci.subject_alternative_name, sigstore::StringMatcher::regexp(id.subject_regexp));
        }
        if (!id.issuer_regexp.empty()) {
          VOUCH_ASSIGN_OR_RETURN(ci.issuer, sigstore::StringMatcher::regexp(id.issuer_regexp));
        }
        v.identities.push_back(std::move(ci));
      }
    }
    if (!v.ignore_tlog && !material) {
      VOUCH_ASSIGN_OR_RETURN(material, trust_.material("the transparency log check needs a trusted root (trustedRoot, "
                                             "--trusted-root), or ctlog.insecureIgnoreTlog: true"));
    }
    if (material) {
      v.trusted_material = material;
      v.verifier = trust_.prepared_for(material);
    }
    return v;
  }

  // A Notary attestor against the image's signatures, or against the referrers of
  // `attestation`'s type (the first whose signature verifies).
  Result<AttestorOutcome> verify_notary(const oci::Reference& ref, const IvpolAttestor& attestor,
                                        const IvpolAttestation* attestation, bool allow_insecure) {
    const IvpolNotary& n = *attestor.notary;
    auto anchors = crypto::Certificate::all_from_pem(n.certs.value);
    if (!anchors.ok()) return invalid_input(fmt::format("notary.certs: {}", anchors.error().message));
    if (anchors->empty()) return invalid_input("notary.certs: no certificate");
    std::map<std::pair<notation::TrustStoreType, std::string>, std::vector<crypto::Certificate>> stores;
    stores[{notation::TrustStoreType::kCa, "kyverno"}] = *anchors;
    bool with_tsa = !n.tsa_certs.value.empty();
    if (with_tsa) {
      auto tsa = crypto::Certificate::all_from_pem(n.tsa_certs.value);
      if (!tsa.ok()) return invalid_input(fmt::format("notary.tsaCerts: {}", tsa.error().message));
      stores[{notation::TrustStoreType::kTsa, "kyverno"}] = *tsa;
    }
    auto trust_store = notation::TrustStore::in_memory(std::move(stores));
    notation::VerifyContext context{&notary_policy(with_tsa), &trust_store, now_unix()};
    VOUCH_ASSIGN_OR_RETURN(auto store, open(ref, allow_insecure));
    VOUCH_ASSIGN_OR_RETURN(oci::Manifest root, store->get_root());
    AttestorOutcome out;
    if (!attestation) {
      VOUCH_ASSIGN_OR_RETURN(auto result, notation::verify_image(*store, root.descriptor(), ref.name(), context));
      out.verified = result.verified;
      if (!out.verified) out.reason = result.failure;
      return out;
    }
    VOUCH_ASSIGN_OR_RETURN(auto referrers, store->referrers(root.digest));
    if (referrers.size() > kMaxReferrers)
      return invalid_input(fmt::format("failed to fetch referrers: to many referrers found, max limit is {}", kMaxReferrers));
    std::vector<std::string> reasons;
    for (const auto& d : referrers) {
      if (d.artifact_type != attestation->referrer_type) continue;
      auto result = notation::verify_image(*store, d, ref.name(), context);
      if (!result.ok()) {
        reasons.push_back(fmt::format("{}: {}", d.digest.str(), result.error().message));
        continue;
      }
      if (result->verified) {
        out.verified = true;
        out.referrer_digest = d.digest.str();
        return out;
      }
      reasons.push_back(fmt::format("{}: {}", d.digest.str(), result->failure));
    }
    if (reasons.empty()) {
      out.reason = fmt::format("attestation verification failed, no attestations found for type: {}", attestation->referrer_type);
    } else {
      for (const auto& r : reasons) out.reason += (out.reason.empty() ? "" : "; ") + r;
    }
    return out;
  }

  CosignOptions options_;
  SigstoreTrust trust_{options_};
};

}  // namespace

std::shared_ptr<ImagePolicyVerifier> image_policy_verifier(CosignOptions options) {
  return std::make_shared<RegistryImagePolicyVerifier>(std::move(options));
}

}  // namespace vouch::verifiers
