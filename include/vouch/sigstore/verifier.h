// Verifies a signed entity (a Sigstore bundle, a cosign signature layer) against trusted
// material and a policy, as sigstore-go's SignedEntityVerifier does: transparency log entries, timestamps, the
// certificate chain at the signing time, SCTs, the signature over the artifact, and the
// signer's identity. A failure names the check that failed. A Verifier prepares the trusted
// material once for many verifications and verifies batches of bundles on all cores.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
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

// One bundle of a batch and the artifact it should have signed. Both must outlive the call.
struct BundleInput {
  const Bundle* bundle = nullptr;
  const Artifact* artifact = nullptr;
};

struct VerifierOptions {
  // How many leaf certificates whose chain verified to remember, by their exact DER, so that a
  // bundle seen again (an image admitted many times) skips its chain's signature check. The
  // certificates' validity at each signing time is checked on every verification all the same.
  // 0 remembers none.
  size_t chain_cache_entries = 1024;
};

// Verification against one set of trusted material, prepared once: the certificate authorities'
// chains in OpenSSL stores, the CT logs and timestamp authorities, the log keys' verification
// contexts, and the chain cache. Copies share all of it; any number of threads may verify at
// once. The trusted material must not change while a verifier uses it.
class Verifier {
 public:
  explicit Verifier(std::shared_ptr<const TrustedMaterial> trusted, VerifierOptions options = {});

  Result<VerificationResult> verify(const SignedEntity& entity, const Artifact& artifact,
                                    const VerifyPolicy& policy) const;
  // verify() for a bundle, reporting its media type.
  Result<VerificationResult> verify_bundle(const Bundle& bundle, const Artifact& artifact,
                                           const VerifyPolicy& policy) const;
  // Every bundle of the batch under one policy, on all cores: the calling thread and a
  // process-wide pool of std::thread::hardware_concurrency() - 1 workers share the bundles out.
  // results[i] is inputs[i]'s result, exactly what verify_bundle would return for it.
  std::vector<Result<VerificationResult>> verify_bundles(std::span<const BundleInput> inputs,
                                                         const VerifyPolicy& policy) const;

  struct ChainCacheStats {
    uint64_t hits = 0;    // chains found remembered
    uint64_t misses = 0;  // chains verified in full although the cache was asked
  };
  ChainCacheStats chain_cache_stats() const;
  // The trusted material this verifier was prepared for.
  const std::shared_ptr<const TrustedMaterial>& trusted_material() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// One verification, with the trusted material prepared for it alone.
Result<VerificationResult> verify(const SignedEntity& entity, const Artifact& artifact, const TrustedMaterial& trusted,
                                  const VerifyPolicy& policy);

// verify() for a bundle, reporting its media type.
Result<VerificationResult> verify_bundle(const Bundle& bundle, const Artifact& artifact, const TrustedMaterial& trusted,
                                         const VerifyPolicy& policy);

// Verifier::verify_bundles with a verifier made for this batch: many bundles against one trusted
// material and policy, on all cores, one result per bundle in input order. Callers that verify
// batch after batch against the same trust (the admission webhook, the inventory) keep a
// Verifier instead, so that its preparation and chain cache carry over.
std::vector<Result<VerificationResult>> verify_bundles(std::span<const BundleInput> inputs,
                                                       const TrustedMaterial& trusted, const VerifyPolicy& policy);

}  // namespace vouch::sigstore
