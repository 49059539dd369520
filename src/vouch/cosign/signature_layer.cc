#include "vouch/cosign/signature_layer.h"

#include "vouch/base/json.h"

#include <fmt/format.h>

#include "vouch/cosign/payload.h"
#include "vouch/sigstore/sign.h"

namespace vouch::cosign {

Result<SignatureLayer> SignatureLayer::from_simple_signing(const oci::Descriptor& layer, std::string payload) {
  if (layer.media_type != media_type::kSimpleSigning)
    return invalid_input(fmt::format("layer media type '{}' is not {}", layer.media_type, media_type::kSimpleSigning));
  auto sig_it = layer.annotations.find(std::string(annotation::kSignature));
  if (sig_it == layer.annotations.end() || sig_it->second.empty())
    return invalid_input(fmt::format("no {} annotation", annotation::kSignature));
  auto sig = base64_decode(sig_it->second);
  if (!sig.ok()) return invalid_input(fmt::format("{} annotation: {}", annotation::kSignature, sig.error().message));
  SignatureLayer out;
  VOUCH_RETURN_IF_ERROR(out.read_annotations(layer));
  sigstore::MessageSignature ms;  // no digest: cosign signs the payload with the key's own digest
  ms.signature = std::move(sig).value();
  out.content_ = std::move(ms);
  out.payload_ = std::move(payload);
  return out;
}

Result<SignatureLayer> SignatureLayer::from_dsse(const oci::Descriptor& layer, std::string_view envelope_json) {
  if (layer.media_type != media_type::kDsseEnvelope)
    return invalid_input(fmt::format("layer media type '{}' is not {}", layer.media_type, media_type::kDsseEnvelope));
  auto env = intoto::parse_envelope(envelope_json);
  if (!env.ok()) return std::move(env).error().context("DSSE envelope");
  SignatureLayer out;
  VOUCH_RETURN_IF_ERROR(out.read_annotations(layer));
  out.payload_ = to_string(env->payload);
  out.content_ = std::move(env).value();
  return out;
}

Status SignatureLayer::read_annotations(const oci::Descriptor& layer) {
  auto find = [&](std::string_view key) -> const std::string* {
    auto it = layer.annotations.find(std::string(key));
    return it == layer.annotations.end() || it->second.empty() ? nullptr : &it->second;
  };
  if (const std::string* cert = find(annotation::kCertificate)) {
    auto leaf = crypto::Certificate::from_pem(*cert);
    if (!leaf.ok()) return std::move(leaf).error().context("certificate annotation");
    certificates_.push_back(std::move(leaf).value());
    if (const std::string* chain = find(annotation::kChain)) {
      auto certs = crypto::Certificate::all_from_pem(*chain);
      if (!certs.ok()) return std::move(certs).error().context("chain annotation");
      // Roots come only from the trusted material.
      for (auto& c : *certs)
        if (!c.is_self_signed()) certificates_.push_back(std::move(c));
    }
  }
  if (const std::string* rekor = find(annotation::kBundle)) {
    auto entry = parse_legacy_rekor_bundle(*rekor);
    if (!entry.ok()) return std::move(entry).error().context("bundle annotation");
    auto tlog = sigstore::tlog_entry_from_rekor(*entry);
    if (!tlog.ok()) return std::move(tlog).error().context("bundle annotation");
    tlog_entries_.push_back(std::move(tlog).value());
    rekor_bundle_ = *rekor;
  }
  // cosign's {"SignedRFC3161Timestamp": base64 DER TimeStampResp}: a TSA's countersignature of
  // the layer's signature, which the verifier checks like a bundle's.
  if (const std::string* stamp = find(annotation::kRfc3161Timestamp)) {
    auto doc = json::parse(*stamp, {.max_bytes = 1 << 20, .max_depth = 4});
    if (!doc.ok()) return std::move(doc).error().context("rfc3161timestamp annotation");
    auto der = json::Node::root(*doc).get_bytes("SignedRFC3161Timestamp");
    if (!der.ok()) return std::move(der).error().context("rfc3161timestamp annotation");
    rfc3161_timestamps_.push_back(std::move(*der));
  }
  return ok_status();
}

sigstore::VerificationContent SignatureLayer::verification_content() const {
  sigstore::VerificationContent v;
  v.certificates = certificates_;
  return v;
}

}  // namespace vouch::cosign
