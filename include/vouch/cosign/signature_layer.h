// One signature as cosign's classic layout stores it: a layer of a `sha256-<hex>.sig`
// manifest (a simple-signing payload signed as it is) or of `.att` (a DSSE envelope), with the
// signature, certificate, chain, legacy Rekor bundle and RFC 3161 timestamp in the layer's annotations. The
// verifier sees it as a signed entity, as it sees a Sigstore bundle.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vouch/base/result.h"
#include "vouch/oci/manifest.h"
#include "vouch/sigstore/signed_entity.h"

namespace vouch::cosign {

class SignatureLayer final : public sigstore::SignedEntity {
 public:
  // A simple-signing layer: `payload` is the layer's blob, its signature the
  // dev.cosignproject.cosign/signature annotation (over the payload with the key's own digest).
  static Result<SignatureLayer> from_simple_signing(const oci::Descriptor& layer, std::string payload);
  // An attestation layer: the blob is a DSSE envelope (JSON) carrying its own signature.
  static Result<SignatureLayer> from_dsse(const oci::Descriptor& layer, std::string_view envelope_json);

  // The signed bytes: the simple-signing payload, or the envelope's payload.
  const std::string& payload() const { return payload_; }
  // The DSSE envelope of an attestation layer.
  const sigstore::DsseEnvelope* envelope() const { return std::get_if<sigstore::DsseEnvelope>(&content_); }
  // The dev.sigstore.cosign/bundle annotation as it was stored, when there is one.
  const std::optional<std::string>& rekor_bundle() const { return rekor_bundle_; }

  sigstore::VerificationContent verification_content() const override;
  const sigstore::SignatureContent& signature_content() const override { return content_; }
  std::span<const sigstore::TlogEntry> tlog_entries() const override { return tlog_entries_; }
  std::span<const Bytes> rfc3161_timestamps() const override { return rfc3161_timestamps_; }
  // The legacy Rekor bundle carries a signed entry timestamp and no inclusion proof.
  bool requires_inclusion_proof() const override { return false; }

 private:
  Status read_annotations(const oci::Descriptor& layer);

  std::vector<crypto::Certificate> certificates_;  // leaf first, roots left out
  std::vector<sigstore::TlogEntry> tlog_entries_;
  sigstore::SignatureContent content_;
  std::string payload_;
  std::optional<std::string> rekor_bundle_;
  std::vector<Bytes> rfc3161_timestamps_;  // dev.sigstore.cosign/rfc3161timestamp
};

}  // namespace vouch::cosign
