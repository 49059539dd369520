// A cache in front of an image verifier, for the admission webhook: outcomes are kept per
// (repository, digest, verifyImages entry, attestor set, attestation), so a new Pod of an image
// that verified a minute ago costs no registry round trip, while the attestation predicates are
// kept too and the policy's conditions are evaluated again on every hit. Failures are kept
// briefly (a broken image is not fetched again on every retry), errors not at all. Concurrent
// misses for the same question wait for one verification. Tags are resolved to digests first
// (remembered briefly), and the verification is asked of the digest, so a tag that moves between
// the lookup and the check cannot slip through.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "vouch/policy/engine.h"
#include "vouch/policy/image_policy.h"

namespace vouch::admission {

struct VerificationCacheOptions {
  size_t max_entries = 1000;                 // as Kyverno's --imageVerifyCacheMaxSize
  size_t max_bytes = 64 << 20;               // predicates kept, roughly
  std::chrono::seconds ttl{3600};            // a verified outcome (Kyverno's 60 min)
  std::chrono::seconds negative_ttl{30};     // a definite failure
  std::chrono::seconds tag_ttl{30};          // tag → digest
  size_t max_tags = 10000;
};

struct VerificationCacheStats {
  uint64_t hits = 0;           // verified outcomes answered from the cache
  uint64_t negative_hits = 0;  // failures answered from the cache
  uint64_t misses = 0;         // verifications run
  uint64_t coalesced = 0;      // callers that waited for another caller's verification
  uint64_t evictions = 0;
  uint64_t tag_hits = 0, tag_misses = 0, tag_coalesced = 0;
  uint64_t entries = 0, bytes = 0, tags = 0;
};

class CachingImageVerifier : public policy::ImageVerifier {
 public:
  CachingImageVerifier(std::shared_ptr<policy::ImageVerifier> inner, VerificationCacheOptions options = {});
  ~CachingImageVerifier() override;

  Result<policy::ImageVerificationOutcome> verify(const std::string& image, const policy::ImageVerification& rule,
                                                  const policy::AttestorSet& attestors,
                                                  const policy::Attestation* attestation) override;
  Result<std::string> resolve_digest(const std::string& image, const policy::ImageVerification& rule) override;

  VerificationCacheStats stats() const;
  void clear();

  // While one lives on a thread, this thread's verifications are answered from the cache only:
  // anything that would reach the registry fails at once and is noted, so that a caller can
  // try the fast path inline and fall back to threads that may wait.
  class CacheOnlyScope {
   public:
    CacheOnlyScope();
    ~CacheOnlyScope();
    CacheOnlyScope(const CacheOnlyScope&) = delete;
    CacheOnlyScope& operator=(const CacheOnlyScope&) = delete;
    // Whether a verification in this scope needed the registry.
    bool missed() const;
  };

 private:
  struct State;
  std::shared_ptr<policy::ImageVerifier> inner_;
  std::unique_ptr<State> state_;
};

// The same cache in front of the registry behind ImageValidatingPolicy's image functions: image
// data, referrer payloads and each attestor's signature and attestation outcomes are kept per
// (image as written, the digest its tag named, attestor as resolved), with the same lifetimes,
// so a Pod of an image verified a minute ago is admitted without a registry round trip while
// the policy's CEL is evaluated again on every request.
class CachingImagePolicyVerifier : public policy::ImagePolicyVerifier {
 public:
  CachingImagePolicyVerifier(std::shared_ptr<policy::ImagePolicyVerifier> inner, VerificationCacheOptions options = {});
  ~CachingImagePolicyVerifier() override;

  Result<boost::json::value> image_data(const std::string& image, bool allow_insecure) override;
  Result<policy::AttestorOutcome> verify_signature(const std::string& image, const policy::IvpolAttestor& attestor,
                                                   bool allow_insecure) override;
  Result<policy::AttestorOutcome> verify_attestation(const std::string& image, const policy::IvpolAttestation& attestation,
                                                     const policy::IvpolAttestor& attestor, bool allow_insecure) override;
  Result<boost::json::value> referrer_payload(const std::string& image, const std::string& artifact_type,
                                              const std::string& referrer_digest, bool allow_insecure) override;
  Result<std::string> resolve_digest(const std::string& image, bool allow_insecure) override;

  VerificationCacheStats stats() const;

 private:
  struct State;
  std::shared_ptr<policy::ImagePolicyVerifier> inner_;
  std::unique_ptr<State> state_;
};

// "registry/repo" of an image reference as written: without tag and digest.
std::string repository_of(std::string_view image);

}  // namespace vouch::admission
