// Private to the sigstore module: one function per verification check, run in order by
// Verifier::verify (verifier.cc). Each returns an error whose message starts with the check's
// name. The trusted material reaches the checks prepared once per verifier (PreparedTrust).
#pragma once

#include <atomic>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "vouch/crypto/sct.h"
#include "vouch/crypto/timestamp.h"
#include "vouch/crypto/x509.h"
#include "vouch/sigstore/verifier.h"

namespace vouch::sigstore::checks {

// Leaf certificates whose chain to a certificate authority verified, by their exact DER and that
// authority, with the rest of the chain that was built. Every check of a chain except the
// validity periods is independent of the time it is made at, so a certificate found here needs
// only its validity (and that of the rest of its chain) checked again. Failures are never
// remembered. Bounded: the oldest entry goes first. Thread-safe.
class ChainCache {
 public:
  explicit ChainCache(size_t capacity) : capacity_(capacity) {}

  bool enabled() const { return capacity_ > 0; }
  // The chain above `leaf_der` under `authority`, when remembered.
  std::optional<std::vector<crypto::Certificate>> find(size_t authority, ByteView leaf_der);
  void remember(size_t authority, ByteView leaf_der, std::vector<crypto::Certificate> issuers);

  uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }

 private:
  static std::string key(size_t authority, ByteView leaf_der);

  const size_t capacity_;
  std::mutex mu_;
  std::unordered_map<std::string, std::vector<crypto::Certificate>> entries_;
  std::deque<std::string> order_;  // oldest first
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
};

// Trusted material in the forms the checks use, built once for many verifications: a chain
// verifier per signing certificate authority (its certificates parsed and in an X509_STORE),
// the CT logs and timestamp authorities as the crypto checks take them, and the chain cache.
// Holds pointers into `trusted`, which must outlive it unchanged.
struct PreparedTrust {
  PreparedTrust(const TrustedMaterial& trusted, size_t chain_cache_entries);

  struct Authority {
    const CertificateAuthority* ca = nullptr;
    // The leaf is checked against the issuing certificate alone when the CA's own chain was
    // verified at load (chain_verified), else against the whole chain. Unset when the CA has
    // no certificate.
    std::optional<crypto::ChainVerifier> chain;
  };

  // The prepared form of `ca`, or null when it was not among the CAs at preparation.
  const Authority* find(const CertificateAuthority* ca) const;

  const TrustedMaterial& trusted;
  std::vector<Authority> authorities;
  std::vector<crypto::CtLog> ct_logs;
  std::vector<crypto::TimestampAuthority> timestamp_authorities;
  ChainCache chain_cache;
};

// Transparency log: each entry's body matches the bundle, its inclusion proof and checkpoint
// or its signed entry timestamp verifies. Returns the verified integrated times (SET only).
struct TlogOutcome {
  std::vector<int64_t> log_indexes;
  std::vector<UnixSeconds> integrated_times;
};
Result<TlogOutcome> verify_tlog_entries(const SignedEntity& entity, const Artifact& artifact, const TrustedMaterial& trusted,
                                        const crypto::PublicKey& signer_key, const crypto::Certificate* leaf,
                                        size_t threshold);

// RFC 3161 timestamps over the signature, from trusted timestamp authorities.
Result<std::vector<UnixSeconds>> verify_signed_timestamps(const SignedEntity& entity, const PreparedTrust& trust);

// The leaf chains to a trusted Fulcio CA at time `at`; returns the verified chain.
Result<std::vector<crypto::Certificate>> verify_certificate_chain(const SignedEntity& entity, PreparedTrust& trust,
                                                                  UnixSeconds at);

// At least one embedded SCT from a trusted CT log.
Status verify_sct(const crypto::Certificate& leaf, const crypto::Certificate& issuer, const PreparedTrust& trust);

// The signature over the artifact (message signature) or over the DSSE PAE, and for in-toto
// statements that the artifact is one of the subjects.
Status verify_signature(const SignedEntity& entity, const Artifact& artifact, const crypto::PublicKey& key);

}  // namespace vouch::sigstore::checks
