#include "vouch/cosign/verify.h"

#include <fmt/format.h>

#include "common.h"
#include "vouch/base/json.h"
#include "vouch/cosign/payload.h"
#include "vouch/cosign/signature_layer.h"
#include "vouch/crypto/digest.h"
#include "vouch/crypto/fulcio.h"
#include "vouch/intoto/dsse.h"
#include "vouch/intoto/predicate.h"
#include "vouch/intoto/statement.h"
#include "vouch/sigstore/bundle.h"
#include "vouch/sigstore/sign.h"
#include "vouch/sigstore/verifier.h"

namespace vouch::cosign {

namespace bj = boost::json;

std::string_view layout_name(Layout layout) { return layout == Layout::kClassic ? "classic" : "bundle"; }

std::string VerifyResult::failure_summary() const {
  if (rejected.empty()) return "no signatures found";
  std::string out;
  for (const auto& r : rejected) {
    if (!out.empty()) out += "; ";
    out += r.source + ": " + r.reason;
  }
  return out;
}

namespace {

constexpr size_t kMaxPayloadBytes = 4 << 20;
constexpr size_t kMaxBundleBytes = 32 << 20;

enum class Want { kSignatures, kAttestations };

struct Checker {
  oci::Store& store;
  const oci::Reference& image;
  const oci::Digest& digest;
  const VerifyOptions& options;
  // What attestations and bundle-layout signatures sign: the image digest.
  const sigstore::Artifact& image_artifact;
  std::vector<crypto::PublicKey> keys;
  VerifyResult result;

  // The trusted material prepared once for all candidates and keys. Without trusted material
  // nothing is trusted (managed keys with the log ignored need none).
  Result<const sigstore::Verifier*> verifier() {
    if (prepared) return prepared.get();
    if (options.verifier) {
      if (options.verifier->trusted_material() != options.trusted_material)
        return internal_error("cosign: the verifier was prepared for other trusted material");
      prepared = options.verifier;
    } else {
      std::shared_ptr<const sigstore::TrustedMaterial> material = options.trusted_material;
      if (!material) material = std::make_shared<const sigstore::TrustedMaterialCollection>();
      prepared = std::make_shared<const sigstore::Verifier>(std::move(material));
    }
    return prepared.get();
  }

  void reject(std::string source, std::string reason) { result.rejected.push_back({std::move(source), std::move(reason)}); }

  // Runs the Sigstore verifier once per key (managed keys), or once with the identities.
  Result<sigstore::VerificationResult> verify(const sigstore::SignedEntity& entity, const sigstore::Artifact& artifact) {
    sigstore::VerifyPolicy policy;
    policy.ignore_tlog = options.ignore_tlog;
    policy.ignore_sct = options.ignore_sct;
    policy.now = options.now;
    policy.identities = options.identities;
    verified_key.reset();
    VOUCH_ASSIGN_OR_RETURN(const sigstore::Verifier* v, verifier());
    if (keys.empty()) {
      VOUCH_ASSIGN_OR_RETURN(auto r, v->verify(entity, artifact, policy));
      VOUCH_RETURN_IF_ERROR(check_github_claims(entity));
      return r;
    }
    Error last = verification_failed("no key");
    for (size_t i = 0; i < keys.size(); ++i) {
      policy.key = keys[i];
      auto r = v->verify(entity, artifact, policy);
      if (r.ok()) {
        verified_key = i;
        return r;
      }
      last = std::move(r).error();
    }
    if (keys.size() > 1) last.message = "none of the " + std::to_string(keys.size()) + " keys verifies: " + last.message;
    return last;
  }

  Status check_github_claims(const sigstore::SignedEntity& entity) const {
    const auto& c = options.github_claims;
    if (c.empty()) return ok_status();
    const crypto::Certificate* leaf = entity.verification_content().leaf();
    if (!leaf) return verification_failed("GitHub workflow claims were asked for, but the signature has no certificate");
    VOUCH_ASSIGN_OR_RETURN(crypto::FulcioExtensions ext, crypto::parse_fulcio_extensions(*leaf));
    auto check = [](std::string_view name, const std::string& want, const std::string& have) -> Status {
      if (want.empty() || want == have) return ok_status();
      return verification_failed(fmt::format("certificate: {} is '{}', want '{}'", name, have, want));
    };
    VOUCH_RETURN_IF_ERROR(check("GitHub workflow trigger", c.trigger, ext.github_workflow_trigger));
    VOUCH_RETURN_IF_ERROR(check("GitHub workflow sha", c.sha, ext.github_workflow_sha));
    VOUCH_RETURN_IF_ERROR(check("GitHub workflow name", c.name, ext.github_workflow_name));
    VOUCH_RETURN_IF_ERROR(check("GitHub workflow repository", c.repository, ext.github_workflow_repository));
    VOUCH_RETURN_IF_ERROR(check("GitHub workflow ref", c.ref, ext.github_workflow_ref));
    return ok_status();
  }

  Status check_annotations(const std::map<std::string, std::string>& have) const {
    for (const auto& [k, v] : options.annotations) {
      auto it = have.find(k);
      if (it == have.end()) return verification_failed(fmt::format("annotation '{}' is missing, want '{}'", k, v));
      if (it->second != v)
        return verification_failed(fmt::format("annotation '{}' is '{}', want '{}'", k, it->second, v));
    }
    return ok_status();
  }

  void fill_signer(const sigstore::VerificationResult& r, VerifiedSignature& v) const {
    v.key_index = verified_key;
    if (r.signer) {
      if (!r.signer->sans.empty()) v.signer_identity = r.signer->sans.front();
      v.signer_issuer = r.signer->issuer;
    }
    v.log_indexes = r.log_indexes;
    for (const auto& t : r.timestamps)
      if (!v.signed_at || t.time > *v.signed_at) v.signed_at = t.time;
  }

  // What cosign verify adds to a signature's "optional" when printing it: the signer's
  // Subject and Issuer (keyless) and the Rekor Bundle (when the log was checked).
  static void decorate(VerifiedSignature& v, const std::string* rekor_bundle) {
    if (!v.json.is_object()) return;
    bj::object& doc = v.json.as_object();
    if (!v.signer_identity && !rekor_bundle) return;
    if (!doc["optional"].is_object()) doc["optional"] = bj::object{};
    bj::object& opt = doc["optional"].as_object();
    if (v.signer_identity) {
      opt["Subject"] = *v.signer_identity;
      opt["Issuer"] = v.signer_issuer.value_or("");
    }
    if (rekor_bundle) {
      auto parsed = json::parse(*rekor_bundle);
      if (parsed.ok()) opt["Bundle"] = std::move(parsed).value();
    }
  }

  // ---- classic layout ----

  Status classic(Want want) {
    std::string tag = oci::digest_tag(digest, want == Want::kSignatures ? kSignatureTagSuffix : kAttestationTagSuffix);
    VOUCH_ASSIGN_OR_RETURN(auto manifest, store.get_tagged(tag));
    if (!manifest) return ok_status();
    std::string where = fmt::format("{}:{}", location_name(image), tag);
    if (manifest->is_index()) {
      reject(where, "is an index, not a signature manifest");
      return ok_status();
    }
    size_t n = std::min(manifest->layers.size(), options.max_candidates);
    if (manifest->layers.size() > n)
      reject(where, fmt::format("{} layers; only the first {} were examined", manifest->layers.size(), n));
    for (size_t i = 0; i < n; ++i) {
      std::string source = fmt::format("{} layer {}", where, i);
      auto st = want == Want::kSignatures ? classic_signature(manifest->layers[i], source)
                                           : classic_attestation(manifest->layers[i], source);
      if (!st.ok()) reject(source, st.error().message);
    }
    return ok_status();
  }

  Status classic_signature(const oci::Descriptor& layer, const std::string& source) {
    if (layer.media_type != media_type::kSimpleSigning)
      return invalid_input(fmt::format("layer media type '{}' is not {}", layer.media_type, media_type::kSimpleSigning));
    VOUCH_ASSIGN_OR_RETURN(std::string blob, detail::get_bytes(store, layer, kMaxPayloadBytes, "payload"));
    VOUCH_ASSIGN_OR_RETURN(SignatureLayer signature, SignatureLayer::from_simple_signing(layer, std::move(blob)));
    const std::string& payload = signature.payload();
    VOUCH_ASSIGN_OR_RETURN(auto verified, verify(signature, sigstore::Artifact::from_bytes(payload)));
    // Only now is the payload trusted.
    VOUCH_ASSIGN_OR_RETURN(SimpleSigning ss, parse_simple_signing(as_bytes(payload)));
    if (ss.manifest_digest != digest)
      return verification_failed(fmt::format("the payload signs {}, not the image {}", ss.manifest_digest.str(), digest.str()));
    if (ss.type != kSimpleSigningType)
      return verification_failed(fmt::format("payload type '{}' is not '{}'", ss.type, kSimpleSigningType));
    std::map<std::string, std::string> annotations;
    for (const auto& [k, v] : ss.optional)
      annotations[std::string(k)] = v.is_string() ? std::string(v.get_string()) : json::serialize(v);
    VOUCH_RETURN_IF_ERROR(check_annotations(annotations));
    VerifiedSignature v;
    v.layout = Layout::kClassic;
    v.source = source;
    v.payload = payload;
    v.json = ss.json;
    v.annotations = std::move(annotations);
    fill_signer(verified, v);
    decorate(v, !options.ignore_tlog && signature.rekor_bundle() ? &*signature.rekor_bundle() : nullptr);
    result.verified.push_back(std::move(v));
    return ok_status();
  }

  Status classic_attestation(const oci::Descriptor& layer, const std::string& source) {
    if (layer.media_type != media_type::kDsseEnvelope)
      return invalid_input(fmt::format("layer media type '{}' is not {}", layer.media_type, media_type::kDsseEnvelope));
    VOUCH_ASSIGN_OR_RETURN(std::string data, detail::get_bytes(store, layer, kMaxBundleBytes, "DSSE envelope"));
    VOUCH_ASSIGN_OR_RETURN(SignatureLayer attestation, SignatureLayer::from_dsse(layer, data));
    const sigstore::DsseEnvelope& env = *attestation.envelope();
    if (env.payload_type != intoto::kInTotoPayloadType)
      return invalid_input(fmt::format("DSSE payload type '{}' is not {}", env.payload_type, intoto::kInTotoPayloadType));
    VOUCH_ASSIGN_OR_RETURN(auto verified, verify(attestation, image_artifact));
    return accept_statement(Layout::kClassic, source, env, verified);
  }

  // ---- bundle layout ----

  Status bundles(Want want) {
    VOUCH_ASSIGN_OR_RETURN(auto referrers, store.referrers(digest));
    size_t examined = 0;
    for (const auto& d : referrers) {
      // cosign 3's fallback index marks its descriptors with the empty artifact type, so
      // only a descriptor that names another artifact type can be skipped unread.
      if (!d.artifact_type.empty() && d.artifact_type != media_type::kBundleV03 &&
          d.artifact_type != oci::media_type::kOciEmpty && d.artifact_type != media_type::kArtifactSig &&
          d.artifact_type != intoto::kInTotoPayloadType)
        continue;
      if (++examined > options.max_candidates) {
        reject(fmt::format("referrers of {}", digest.str()),
               fmt::format("more than {} referrers; the rest were not examined", options.max_candidates));
        break;
      }
      std::string source = fmt::format("{}@{} (referrer)", location_name(image), d.digest.str());
      auto st = bundle_candidate(d, source, want);
      if (!st.ok()) reject(source, st.error().message);
    }
    return ok_status();
  }

  Status bundle_candidate(const oci::Descriptor& d, const std::string& source, Want want) {
    if (d.media_type != oci::media_type::kOciManifest) return skip();
    VOUCH_ASSIGN_OR_RETURN(oci::Manifest m, store.get_manifest(d));
    std::string type = m.effective_artifact_type();
    bool legacy_sig = type == media_type::kArtifactSig, legacy_att = type == intoto::kInTotoPayloadType;
    if (type != media_type::kBundleV03 && !legacy_sig && !legacy_att) return skip();
    if (!m.subject || m.subject->digest != digest)
      return verification_failed(fmt::format("its subject is {}, not the image", m.subject ? m.subject->digest.str() : "absent"));
    if (legacy_sig || legacy_att) return legacy_referrer(m, source, legacy_sig ? Want::kSignatures : Want::kAttestations, want);
    // The predicate type annotation is a hint only (it is not signed): the statement decides.
    auto pt = m.annotations.find(std::string(annotation::kBundlePredicateType));
    if (pt != m.annotations.end() && (want == Want::kSignatures) != (pt->second == intoto::kCosignSignPredicate))
      return skip();
    if (m.layers.size() != 1) return invalid_input(fmt::format("{} layers, want exactly 1", m.layers.size()));
    const oci::Descriptor& layer = m.layers.front();
    if (layer.media_type != media_type::kBundleV03)
      return invalid_input(fmt::format("layer media type '{}' is not {}", layer.media_type, media_type::kBundleV03));
    VOUCH_ASSIGN_OR_RETURN(std::string json_text, detail::get_bytes(store, layer, kMaxBundleBytes, "bundle"));
    auto bundle = sigstore::parse_bundle(json_text);
    if (!bundle.ok()) return std::move(bundle).error().context("bundle");
    const auto* env = std::get_if<sigstore::DsseEnvelope>(&bundle->content);
    if (!env) return invalid_input("the bundle holds a message signature, not a DSSE envelope");
    if (env->payload_type != intoto::kInTotoPayloadType)
      return invalid_input(fmt::format("DSSE payload type '{}' is not {}", env->payload_type, intoto::kInTotoPayloadType));
    VOUCH_ASSIGN_OR_RETURN(auto verified, verify(*bundle, image_artifact));
    return accept_statement(Layout::kBundle, source, *env, verified);
  }

  // cosign's intermediate mode (OCI 1.1 referrers holding the classic layers): a referrer of
  // artifact type application/vnd.dev.cosign.artifact.sig.v1+json (simple-signing layers) or
  // application/vnd.in-toto+json (DSSE layers).
  Status legacy_referrer(const oci::Manifest& m, const std::string& source, Want holds, Want want_now) {
    if (holds != want_now || m.is_index()) return skip();
    size_t n = std::min(m.layers.size(), options.max_candidates);
    for (size_t i = 0; i < n; ++i) {
      std::string layer_source = fmt::format("{} layer {}", source, i);
      auto st = holds == Want::kSignatures ? classic_signature(m.layers[i], layer_source)
                                           : classic_attestation(m.layers[i], layer_source);
      if (!st.ok()) reject(layer_source, st.error().message);
    }
    return ok_status();
  }

  // A referrer of another kind: not a candidate at all.
  static Status skip() { return Status(Error{ErrorCode::kNotFound, "skip"}); }

  // ---- both ----

  Want want = Want::kSignatures;
  std::string want_predicate;  // attestations: empty = any
  std::optional<size_t> verified_key;  // which key the last verify() succeeded with
  std::shared_ptr<const sigstore::Verifier> prepared;  // verifier()'s

  Status accept_statement(Layout layout, const std::string& source, const intoto::Envelope& env,
                          const sigstore::VerificationResult& verified) {
    const Bytes& payload = env.payload;
    json::ParseLimits limits;
    limits.max_bytes = kMaxBundleBytes;
    limits.max_depth = 64;
    VOUCH_ASSIGN_OR_RETURN(bj::value doc, json::parse(as_chars(payload), limits));
    VOUCH_ASSIGN_OR_RETURN(intoto::Statement st, intoto::parse_statement(payload));
    if (!st.has_subject_digest(digest.algorithm(), digest.hex()))
      return verification_failed(fmt::format("no subject of the statement has the image digest {}", digest.str()));
    bool is_sign = st.predicate_type == intoto::kCosignSignPredicate;
    if (want == Want::kSignatures && !is_sign) return skip();
    if (want == Want::kAttestations) {
      if (is_sign) return skip();
      if (!want_predicate.empty() && st.predicate_type != want_predicate)
        return verification_failed(fmt::format("predicate type is {}, want {}", st.predicate_type, want_predicate));
    }
    // Subject annotations (cosign 3 puts -a there) for the matching subject.
    std::map<std::string, std::string> annotations;
    if (const auto* subjects = doc.is_object() ? doc.as_object().if_contains("subject") : nullptr;
        subjects && subjects->is_array()) {
      for (const auto& s : subjects->as_array()) {
        const auto* so = s.if_object();
        if (!so) continue;
        const auto* dg = so->if_contains("digest");
        const auto* hex = dg && dg->is_object() ? dg->as_object().if_contains(digest.algorithm()) : nullptr;
        if (!hex || !hex->is_string() || hex->get_string() != digest.hex()) continue;
        if (const auto* an = so->if_contains("annotations"); an && an->is_object())
          for (const auto& [k, v] : an->as_object())
            annotations[std::string(k)] = v.is_string() ? std::string(v.get_string()) : json::serialize(v);
      }
    }
    if (want == Want::kSignatures) VOUCH_RETURN_IF_ERROR(check_annotations(annotations));
    VerifiedSignature v;
    v.layout = layout;
    v.source = source;
    v.payload = to_string(payload);
    v.envelope = intoto::serialize_envelope(env);
    v.predicate_type = st.predicate_type;
    v.annotations = annotations;
    if (want == Want::kSignatures) {
      // What cosign verify prints for a bundle-layout signature.
      bj::object optional;
      for (const auto& [k, val] : annotations) optional[k] = val;
      v.json = bj::object{{"critical", bj::object{{"identity", bj::object{{"docker-reference", cosign_repository_name(image)}}},
                                                  {"image", bj::object{{"docker-manifest-digest", digest.str()}}},
                                                  {"type", st.predicate_type}}},
                          {"optional", std::move(optional)}};
    } else {
      v.json = std::move(doc);
    }
    fill_signer(verified, v);
    if (want == Want::kSignatures) decorate(v, nullptr);
    result.verified.push_back(std::move(v));
    return ok_status();
  }

  // A layout whose discovery fails (a registry error on the tag or the referrers) is a
  // rejected candidate, not the end of the search: the other layout may still verify.
  Status run() {
    std::string tag = oci::digest_tag(digest, want == Want::kSignatures ? kSignatureTagSuffix : kAttestationTagSuffix);
    if (auto st = classic(want); !st.ok()) reject(fmt::format("{}:{}", location_name(image), tag), st.error().message);
    if (auto st = bundles(want); !st.ok())
      reject(fmt::format("referrers of {}@{}", location_name(image), digest.str()), st.error().message);
    // Drop "skip" entries: other kinds of referrers are not candidates.
    std::erase_if(result.rejected, [](const RejectedCandidate& r) { return r.reason == "skip"; });
    return ok_status();
  }
};

Result<std::vector<crypto::PublicKey>> collect_keys(const VerifyOptions& options) {
  std::vector<crypto::PublicKey> keys = options.keys;
  for (size_t i = 0; i < options.key_pems.size(); ++i) {
    auto k = crypto::PublicKey::from_pem(options.key_pems[i]);
    if (!k.ok()) return std::move(k).error().context(fmt::format("public key {}", i + 1));
    keys.push_back(*k);
  }
  if (keys.empty() && options.identities.empty())
    return invalid_input("give a public key, or certificate identities with a trusted root");
  if (keys.empty() && !options.trusted_material)
    return invalid_input("keyless verification needs a trusted root");
  if (!options.ignore_tlog && !options.trusted_material)
    return invalid_input("checking transparency log entries needs a trusted root (or ignore the log)");
  return keys;
}

Result<VerifyResult> run_checker(oci::Store& store, const oci::Reference& image, const oci::Digest& digest,
                                 const VerifyOptions& options, Want want, const std::string& predicate_type) {
  VOUCH_ASSIGN_OR_RETURN(auto keys, collect_keys(options));
  std::string wanted;
  if (want == Want::kAttestations && !predicate_type.empty()) {
    VOUCH_ASSIGN_OR_RETURN(wanted, intoto::predicate_type_for(predicate_type));
  }
  // A digest that does not decode is an error, never an empty artifact.
  auto image_artifact = sigstore::Artifact::from_digest_string(digest.str());
  if (!image_artifact.ok()) return std::move(image_artifact).error();
  Checker c{store, image, digest, options, *image_artifact, std::move(keys), {}, want, wanted, std::nullopt, nullptr};
  c.want = want;
  c.want_predicate = wanted;
  c.result.image = image;
  c.result.image.digest = digest;
  c.result.digest = digest;
  // Skipped candidates report themselves as kNotFound "skip"; run() removes them.
  VOUCH_RETURN_IF_ERROR(c.run());
  return std::move(c.result);
}

Result<VerifyResult> open_and_run(const oci::ImageRef& ref, const VerifyOptions& options, Want want,
                                  const std::string& predicate_type) {
  VOUCH_ASSIGN_OR_RETURN(auto store, oci::open_store(ref, options.store, false));
  if (!store->supports_tags())
    return invalid_input(fmt::format("{}: signatures are read only from registries and OCI layouts", ref.str()));
  VOUCH_ASSIGN_OR_RETURN(oci::Manifest root, store->get_root());
  oci::Reference image = ref.reference;
  if (ref.transport != oci::Transport::kRegistry) image = oci::Reference{"", ref.path, ref.tag, ref.digest};
  if (options.repository) {
    oci::ImageRef sig_ref;
    sig_ref.transport = oci::Transport::kRegistry;
    sig_ref.reference = *options.repository;
    VOUCH_ASSIGN_OR_RETURN(auto sig_store, oci::open_store(sig_ref, options.store, false));
    VOUCH_ASSIGN_OR_RETURN(VerifyResult r, run_checker(*sig_store, *options.repository, root.digest, options, want,
                                                       predicate_type));
    r.image = image;
    r.image.digest = root.digest;
    for (auto& v : r.verified)  // the signed image's name, not where its signatures are kept
      if (v.layout == Layout::kBundle && want == Want::kSignatures && v.json.is_object())
        v.json.as_object()["critical"].as_object()["identity"] =
            bj::object{{"docker-reference", cosign_repository_name(image)}};
    return r;
  }
  return run_checker(*store, image, root.digest, options, want, predicate_type);
}

}  // namespace

Result<VerifyResult> verify_signatures_in(oci::Store& store, const oci::Reference& image, const oci::Digest& digest,
                                          const VerifyOptions& options) {
  return run_checker(store, image, digest, options, Want::kSignatures, {});
}

Result<VerifyResult> verify_attestations_in(oci::Store& store, const oci::Reference& image, const oci::Digest& digest,
                                            const std::string& predicate_type, const VerifyOptions& options) {
  return run_checker(store, image, digest, options, Want::kAttestations, predicate_type);
}

Result<VerifyResult> verify_image_signatures(const oci::ImageRef& ref, const VerifyOptions& options) {
  return open_and_run(ref, options, Want::kSignatures, {});
}

Result<VerifyResult> verify_image_attestations(const oci::ImageRef& ref, const std::string& predicate_type,
                                               const VerifyOptions& options) {
  return open_and_run(ref, options, Want::kAttestations, predicate_type);
}

}  // namespace vouch::cosign
