#include "vouch/notation/attestations.h"

#include <fmt/format.h>

#include "vouch/base/json.h"
#include "vouch/oci/blob.h"

namespace vouch::notation {
namespace {

namespace bj = boost::json;

// Checks one referrer of the type; a failure is recorded in `out`, an error returned.
Status check_referrer(oci::Store& store, const oci::Digest& subject, std::string_view artifact_type,
                      const std::string& scope, const VerifyContext& context, const AttestationLimits& limits,
                      ReferrerAttestation& out) {
  const std::string where = fmt::format("referrer {}", out.referrer.digest.str());
  // The manifest as stored: what its signatures must name (media type, digest, size of the bytes).
  VOUCH_ASSIGN_OR_RETURN(oci::Manifest manifest, store.get_manifest(out.referrer));
  VOUCH_ASSIGN_OR_RETURN(auto signatures,
                         verify_image(store, manifest.descriptor(), scope, context, {}, limits.signatures));
  if (!signatures.verified) {
    out.failure = signatures.failure;
    return ok_status();
  }
  if (manifest.is_index()) {
    out.failure = "it is an index, not an artifact manifest";
    return ok_status();
  }
  if (!manifest.subject || manifest.subject->digest != subject) {
    out.failure = fmt::format("its manifest's subject is {}, not {}",
                              manifest.subject ? manifest.subject->digest.str() : std::string("absent"), subject.str());
    return ok_status();
  }
  if (manifest.effective_artifact_type() != artifact_type) {
    out.failure = fmt::format("its manifest's artifact type is \"{}\", not \"{}\"", manifest.effective_artifact_type(),
                              artifact_type);
    return ok_status();
  }
  if (manifest.layers.size() != 1) {
    out.failure = fmt::format("its manifest has {} layers; an attestation has exactly one", manifest.layers.size());
    return ok_status();
  }
  const oci::Descriptor& layer = manifest.layers[0];
  if (layer.size < 0 || static_cast<uint64_t>(layer.size) > limits.max_content_bytes)
    return invalid_input(fmt::format("{}: content of {} bytes exceeds the limit of {}", where, layer.size,
                                     limits.max_content_bytes));
  VOUCH_ASSIGN_OR_RETURN(auto reader, store.open_blob(layer));
  VOUCH_ASSIGN_OR_RETURN(std::string content, oci::read_all(*reader, limits.max_content_bytes, where));
  if (oci::sniff_compression(as_bytes(content)) != oci::Compression::kNone)
    return invalid_input(fmt::format("{}: its content is compressed; only uncompressed JSON is read", where));
  auto parsed = json::parse(content, {limits.max_content_bytes, 64});
  if (!parsed.ok()) return invalid_input(fmt::format("{}: its content is not JSON: {}", where, parsed.error().message));
  if (!parsed->is_object()) return invalid_input(fmt::format("{}: its content is not a JSON object", where));
  out.content = std::move(parsed).value();
  out.verified = true;
  return ok_status();
}

}  // namespace

Result<AttestationVerification> verify_attestations(oci::Store& store, const oci::Digest& subject,
                                                    std::string_view artifact_type, const std::string& scope,
                                                    const VerifyContext& context, const AttestationLimits& limits) {
  if (artifact_type.empty()) return invalid_input("attestation: no artifact type to look for");
  VOUCH_ASSIGN_OR_RETURN(auto referrers, store.referrers(subject));
  if (referrers.size() > limits.max_referrers)
    return invalid_input(fmt::format("{}@{}: {} referrers, more than the limit of {}", scope, subject.str(),
                                     referrers.size(), limits.max_referrers));
  AttestationVerification out;
  std::vector<std::string> reasons;
  for (const auto& d : referrers) {
    if (d.artifact_type != artifact_type) continue;
    ReferrerAttestation r;
    r.referrer = d;
    VOUCH_RETURN_IF_ERROR(check_referrer(store, subject, artifact_type, scope, context, limits, r));
    if (!r.verified) reasons.push_back(fmt::format("referrer {}: {}", d.digest.str(), r.failure));
    out.referrers.push_back(std::move(r));
  }
  if (out.referrers.empty()) {
    out.failure = fmt::format("no attestation of type \"{}\" is attached to {}@{}", artifact_type, scope, subject.str());
    return out;
  }
  out.verified = reasons.empty();
  if (!out.verified)
    out.failure = fmt::format("{} of {} attestation(s) of type \"{}\" did not verify: {}", reasons.size(),
                              out.referrers.size(), artifact_type, fmt::join(reasons, "; "));
  return out;
}

}  // namespace vouch::notation
