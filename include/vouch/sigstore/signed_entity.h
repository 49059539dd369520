// What a verifier needs from a signed thing, whatever carries it (sigstore-go's SignedEntity):
// the verification material (a certificate chain, or only a hint at a managed key), the
// signature content (a message signature or a DSSE envelope), transparency log entries and
// RFC 3161 timestamps. A Sigstore bundle is one; cosign's classic signature layer is another.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "vouch/base/bytes.h"
#include "vouch/crypto/digest.h"
#include "vouch/crypto/x509.h"
#include "vouch/intoto/dsse.h"

namespace vouch::sigstore {

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

// A DSSE envelope as in-toto defines it.
using DsseSignature = intoto::Signature;
using DsseEnvelope = intoto::Envelope;

// What was signed, and the signature.
using SignatureContent = std::variant<MessageSignature, DsseEnvelope>;
// The signature bytes (the message signature, or the DSSE envelope's first signature).
ByteView signature_bytes(const SignatureContent& content);

// Who signed, as the entity states it (nothing here is trusted yet).
struct VerificationContent {
  std::span<const crypto::Certificate> certificates;  // leaf first; empty for a managed key
  std::optional<ByteView> public_key_hint;            // managed key: a hint, never a key

  const crypto::Certificate* leaf() const { return certificates.empty() ? nullptr : &certificates.front(); }
};

class SignedEntity {
 public:
  virtual ~SignedEntity() = default;

  virtual VerificationContent verification_content() const = 0;
  virtual const SignatureContent& signature_content() const = 0;
  virtual std::span<const TlogEntry> tlog_entries() const = 0;
  virtual std::span<const Bytes> rfc3161_timestamps() const = 0;
  // Whether each log entry must carry an inclusion proof (bundles from v0.2 on); otherwise a
  // signed entry timestamp alone is accepted.
  virtual bool requires_inclusion_proof() const = 0;
};

}  // namespace vouch::sigstore
