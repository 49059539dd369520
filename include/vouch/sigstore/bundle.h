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

namespace vouch::sigstore {

inline constexpr std::string_view kBundleMediaTypeV03 = "application/vnd.dev.sigstore.bundle.v0.3+json";

enum class BundleVersion { kV01, kV02, kV03 };

struct InclusionProof {
  int64_t log_index = 0;
  Bytes root_hash;
  int64_t tree_size = 0;
  std::vector<Bytes> hashes;
  std::optional<std::string> checkpoint;  // C2SP signed note
};

struct TlogEntry {
  int64_t log_index = 0;
  Bytes log_id;  // logId.keyId
  std::string kind;
  std::string version;
  int64_t integrated_time = 0;
  std::optional<Bytes> signed_entry_timestamp;  // inclusionPromise
  std::optional<InclusionProof> inclusion_proof;
  Bytes canonicalized_body;
};

struct MessageSignature {
  std::optional<crypto::HashAlgorithm> digest_algorithm;
  Bytes digest;
  Bytes signature;
};

// The bundle's dsseEnvelope is a DSSE envelope as in-toto defines it.
using DsseSignature = intoto::Signature;
using DsseEnvelope = intoto::Envelope;

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

struct Bundle {
  std::string media_type;
  BundleVersion version = BundleVersion::kV03;
  VerificationMaterial material;
  std::variant<MessageSignature, DsseEnvelope> content;

  bool is_dsse() const { return std::holds_alternative<DsseEnvelope>(content); }
  // The signature bytes (message signature, or the DSSE envelope's only signature).
  ByteView signature() const;
};

Result<Bundle> parse_bundle(std::string_view json);
// Writes a bundle as protojson (camelCase members, int64 as strings, bytes as base64), under
// its media type (v0.3 when none is set).
std::string serialize_bundle(const Bundle& bundle);

}  // namespace vouch::sigstore
