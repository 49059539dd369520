// The Sigstore bundle (protobuf-specs sigstore_bundle.proto, in its protojson form), versions
// v0.1 to v0.3: everything needed to verify a signature offline. Parsed objects keep the
// bytes they came from; `serialize_bundle` writes them back out.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"
#include "vouch/crypto/digest.h"
#include "vouch/crypto/x509.h"
#include "vouch/intoto/dsse.h"
#include "vouch/sigstore/signed_entity.h"

namespace vouch::sigstore {

inline constexpr std::string_view kBundleMediaTypeV03 = "application/vnd.dev.sigstore.bundle.v0.3+json";

enum class BundleVersion { kV01, kV02, kV03 };

struct VerificationMaterial {
  // Exactly one of these three is set.
  std::optional<Bytes> public_key_hint;                     // publicKey (managed key)
  std::vector<crypto::Certificate> certificate_chain;       // x509CertificateChain (v0.1, v0.2)
  std::optional<crypto::Certificate> certificate;           // certificate (v0.3)
  std::vector<TlogEntry> tlog_entries;
  std::vector<Bytes> rfc3161_timestamps;

  // The signing certificate, if the bundle has one.
  const crypto::Certificate* leaf() const;
};

struct Bundle final : SignedEntity {
  std::string media_type;
  BundleVersion version = BundleVersion::kV03;
  VerificationMaterial material;
  SignatureContent content;

  bool is_dsse() const { return std::holds_alternative<DsseEnvelope>(content); }
  // The signature bytes (message signature, or the DSSE envelope's only signature).
  ByteView signature() const { return signature_bytes(content); }

  VerificationContent verification_content() const override;
  const SignatureContent& signature_content() const override { return content; }
  std::span<const TlogEntry> tlog_entries() const override { return material.tlog_entries; }
  std::span<const Bytes> rfc3161_timestamps() const override { return material.rfc3161_timestamps; }
  bool requires_inclusion_proof() const override { return version != BundleVersion::kV01; }
};

Result<Bundle> parse_bundle(std::string_view json);
// Writes a bundle as protojson (camelCase members, int64 as strings, bytes as base64), under
// its media type (v0.3 when none is set).
std::string serialize_bundle(const Bundle& bundle);

}  // namespace vouch::sigstore
