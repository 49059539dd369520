#include "vouch/notation/signatures.h"

#include <fmt/format.h>

#include "vouch/base/json.h"
#include "vouch/oci/blob.h"

namespace vouch::notation {
namespace {

namespace bj = boost::json;

oci::Descriptor blob_of(std::string_view media_type, const std::string& data) {
  oci::Descriptor d;
  d.media_type = std::string(media_type);
  d.digest = oci::Digest::sha256_of(as_bytes(data));
  d.size = static_cast<int64_t>(data.size());
  return d;
}

Status put_if_missing(oci::Store& store, const oci::Descriptor& d, const std::string& data) {
  VOUCH_ASSIGN_OR_RETURN(bool present, store.has_blob(d));
  if (present) return ok_status();
  auto reader = oci::view_reader(data);
  return store.put_blob(d, *reader);
}

bool is_signature_type(std::string_view artifact_type) { return artifact_type == kSignatureArtifactType; }

}  // namespace

Result<std::vector<oci::Descriptor>> list_signatures(oci::Store& store, const oci::Digest& subject) {
  VOUCH_ASSIGN_OR_RETURN(auto referrers, store.referrers(subject));
  std::vector<oci::Descriptor> out;
  for (auto& d : referrers)
    if (is_signature_type(d.artifact_type)) out.push_back(std::move(d));
  return out;
}

Result<StoredSignature> fetch_signature(oci::Store& store, const oci::Descriptor& manifest, const oci::Digest& subject,
                                        const SignatureLimits& limits) {
  const std::string where = fmt::format("signature manifest {}", manifest.digest.str());
  VOUCH_ASSIGN_OR_RETURN(auto m, store.get_manifest(manifest));
  if (m.is_index()) return invalid_input(fmt::format("{}: is an index", where));
  if (!is_signature_type(m.effective_artifact_type()))
    return invalid_input(fmt::format("{}: artifact type \"{}\" is not a Notary Project signature", where, m.effective_artifact_type()));
  if (!m.subject || m.subject->digest != subject)
    return verification_failed(fmt::format("{}: its subject is not {}", where, subject.str()));
  if (m.layers.size() != 1)
    return invalid_input(fmt::format("{}: has {} layers, a signature has exactly one", where, m.layers.size()));
  StoredSignature out;
  out.manifest = m.descriptor();
  out.layer = m.layers[0];
  out.annotations = m.annotations;
  VOUCH_ASSIGN_OR_RETURN(out.format, envelope_format_from_media_type(out.layer.media_type));
  if (out.layer.size < 0 || static_cast<size_t>(out.layer.size) > limits.max_envelope_bytes)
    return invalid_input(fmt::format("{}: envelope of {} bytes exceeds the limit of {}", where, out.layer.size,
                                     limits.max_envelope_bytes));
  VOUCH_ASSIGN_OR_RETURN(auto reader, store.open_blob(out.layer));
  VOUCH_ASSIGN_OR_RETURN(out.envelope, oci::read_all(*reader, limits.max_envelope_bytes, where));
  return out;
}

Result<oci::Descriptor> push_signature(oci::Store& store, const oci::Descriptor& subject, const std::string& envelope,
                                       EnvelopeFormat format, const std::vector<crypto::Certificate>& chain) {
  const std::string empty = "{}";
  oci::Descriptor config = blob_of(oci::media_type::kOciEmpty, empty);
  VOUCH_RETURN_IF_ERROR(put_if_missing(store, config, empty));
  oci::Descriptor layer = blob_of(envelope_media_type(format), envelope);
  VOUCH_RETURN_IF_ERROR(put_if_missing(store, layer, envelope));
  oci::Descriptor subj;
  subj.media_type = subject.media_type;
  subj.digest = subject.digest;
  subj.size = subject.size;
  bj::object annotations{{std::string(kThumbprintAnnotation), chain_thumbprints(chain)},
                         {"org.opencontainers.image.created", format_rfc3339(now_unix())}};
  bj::object m{{"schemaVersion", 2},
               {"mediaType", std::string(oci::media_type::kOciManifest)},
               {"artifactType", std::string(kSignatureArtifactType)},
               {"config", config.to_json()},
               {"layers", bj::array{layer.to_json()}},
               {"subject", subj.to_json()},
               {"annotations", std::move(annotations)}};
  VOUCH_ASSIGN_OR_RETURN(oci::Manifest manifest, oci::parse_manifest(json::serialize(m)));
  VOUCH_RETURN_IF_ERROR(store.put_manifest(manifest, std::nullopt, false));
  return manifest.descriptor();
}

Result<ImageVerification> verify_image(oci::Store& store, const oci::Descriptor& subject, const std::string& scope,
                                       const VerifyContext& context, const std::map<std::string, std::string>& user_metadata,
                                       const SignatureLimits& limits) {
  if (!context.policy) return internal_error("notation: verification needs a trust policy");
  VOUCH_ASSIGN_OR_RETURN(const TrustPolicy* policy, context.policy->select(scope));
  ImageVerification out;
  out.policy = policy->name;
  out.level = policy->level.name;
  if (policy->level.name == "skip") {
    out.verified = true;
    return out;
  }
  VOUCH_ASSIGN_OR_RETURN(auto manifests, list_signatures(store, subject.digest));
  if (manifests.empty()) {
    out.failure = fmt::format("no Notary Project signature is associated with {}@{}", scope, subject.digest.str());
    return out;
  }
  if (manifests.size() > limits.max_signatures) manifests.resize(limits.max_signatures);
  TargetArtifact artifact{subject.media_type, subject.digest.str(), subject.size, {}, {}};
  std::vector<std::string> reasons;
  for (const auto& d : manifests) {
    auto sig = fetch_signature(store, d, subject.digest, limits);
    if (!sig.ok()) {
      reasons.push_back(fmt::format("{}: {}", d.digest.str(), sig.error().message));
      continue;
    }
    VerifyRequest request{as_bytes(sig->envelope), sig->format, artifact, scope, user_metadata};
    VOUCH_ASSIGN_OR_RETURN(auto outcome, verify_envelope(request, context));
    auto thumbprints = sig->annotations.find(std::string(kThumbprintAnnotation));
    if (outcome.verified && outcome.envelope && thumbprints != sig->annotations.end()) {
      auto listed = json::parse(thumbprints->second);
      auto actual = json::parse(chain_thumbprints(outcome.envelope->chain));
      if (!listed.ok() || !actual.ok() || *listed != *actual) {
        outcome.verified = false;
        outcome.failure = fmt::format("integrity (enforced by level {}): the signature manifest's {} annotation does not match the envelope's certificate chain",
                                      outcome.level, kThumbprintAnnotation);
      }
    }
    bool ok = outcome.verified;
    if (!ok) reasons.push_back(fmt::format("{}: {}", d.digest.str(), outcome.failure));
    out.signatures.emplace_back(d, std::move(outcome));
    if (ok) {
      out.verified = true;
      return out;
    }
  }
  out.failure = fmt::format("no signature of {}@{} verified: {}", scope, subject.digest.str(), fmt::join(reasons, "; "));
  return out;
}

}  // namespace vouch::notation
