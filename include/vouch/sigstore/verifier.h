// Verifies a signed entity (a Sigstore bundle, a cosign signature layer) against trusted
// material and a policy, as sigstore-go's SignedEntityVerifier does: transparency log entries, timestamps, the
// certificate chain at the signing time, SCTs, the signature over the artifact, and the
// signer's identity. A failure names the check that failed.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"
#include "vouch/crypto/digest.h"
#include "vouch/crypto/keys.h"
#include "vouch/sigstore/bundle.h"
#include "vouch/sigstore/identity.h"
#include "vouch/sigstore/signed_entity.h"
#include "vouch/sigstore/trusted_material.h"
#include "vouch/sigstore/trusted_root.h"

namespace vouch::sigstore {

// What was signed: the artifact's bytes, or only its digest (`sha256:HEX` on the command line).
class Artifact {
 public:
  static Artifact from_bytes(std::string data);
  static Result<Artifact> from_digest(crypto::HashAlgorithm alg, Bytes digest);
  // "ALG:HEX" (sha256, sha384 or sha512): fails on an unknown algorithm, bad hex or a digest
  // of the wrong length.
  static Result<Artifact> from_digest_string(std::string_view alg_and_hex);

  bool has_bytes() const { return data_.has_value(); }
  ByteView bytes() const { return as_bytes(*data_); }
  // The artifact's digest under `alg` (fails when only a digest of another algorithm is known).
  Result<Bytes> digest(crypto::HashAlgorithm alg) const;

 private:
  std::optional<std::string> data_;
  crypto::HashAlgorithm alg_ = crypto::HashAlgorithm::kSha256;
  Bytes digest_;
};

struct VerifyPolicy {
  // A managed key (--key); otherwise `identities` for a Fulcio certificate.
  std::optional<crypto::PublicKey> key;
  std::vector<CertificateIdentity> identities;
  bool ignore_tlog = false;  // --insecure-ignore-tlog
  bool ignore_sct = false;   // --insecure-ignore-sct
  size_t tlog_threshold = 1;
  size_t timestamp_threshold = 1;
  // Only for tests and the benchmark: the time used when no timestamp is required.
  std::optional<UnixSeconds> now;
};

struct VerifiedTime {
  std::string source;  // "transparency log" or "timestamp authority"
  UnixSeconds time = 0;
};

struct VerificationResult {
  std::string media_type;  // verify_bundle: the bundle's
  std::vector<VerifiedTime> timestamps;
  std::vector<int64_t> log_indexes;
  std::optional<CertificateSubject> signer;  // keyless only
  std::optional<std::string> payload_type;   // DSSE only
  std::optional<std::string> statement;      // DSSE in-toto statement (JSON)
};

Result<VerificationResult> verify(const SignedEntity& entity, const Artifact& artifact, const TrustedMaterial& trusted,
                                  const VerifyPolicy& policy);

// verify() for a bundle, reporting its media type.
Result<VerificationResult> verify_bundle(const Bundle& bundle, const Artifact& artifact, const TrustedMaterial& trusted,
                                         const VerifyPolicy& policy);

}  // namespace vouch::sigstore
