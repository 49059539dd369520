// The verification caches: expiring LRU entries with positive and negative lifetimes, coalesced misses.
#include "vouch/admission/verification_cache.h"

#include <fmt/format.h>

#include "expiring_cache.h"

namespace vouch::admission {
namespace bj = boost::json;
namespace {

using Outcome = policy::ImageVerificationOutcome;

size_t cost_of(const Outcome& o) {
  size_t n = 128 + o.reason.size() + o.digest.size();
  for (const auto& p : o.predicates) n += boost::json::serialize(p).size();
  return n;
}

thread_local bool cache_only = false;
thread_local bool cache_only_missed = false;

Error would_wait() {
  cache_only_missed = true;
  return io_error("not in the verification cache");
}

ExpiringCache<std::string> tag_cache(const VerificationCacheOptions& o) {
  ExpiringCache<std::string>::Policy p;
  p.max_entries = o.max_tags;
  p.lifetime = [ttl = o.tag_ttl](const std::string&) { return ttl; };
  return ExpiringCache<std::string>(std::move(p));
}

// tag → digest through the cache; a reference with a digest is its digest.
Result<std::string> cached_digest(ExpiringCache<std::string>& tags, const std::string& image,
                                  const std::function<Result<std::string>()>& resolve) {
  if (size_t at = image.rfind('@'); at != std::string::npos) return image.substr(at + 1);
  return tags.get(image, resolve, cache_only, would_wait);
}

void add_tag_counters(VerificationCacheStats& out, const ExpiringCacheCounters& t) {
  out.tag_hits = t.hits;
  out.tag_misses = t.misses;
  out.tag_coalesced = t.coalesced;
  out.tags = t.entries;
}

VerificationCacheStats stats_of(const ExpiringCacheCounters& c, const ExpiringCacheCounters& tags) {
  VerificationCacheStats out;
  out.hits = c.hits;
  out.negative_hits = c.negative_hits;
  out.misses = c.misses;
  out.coalesced = c.coalesced;
  out.evictions = c.evictions;
  out.entries = c.entries;
  out.bytes = c.bytes;
  add_tag_counters(out, tags);
  return out;
}

}  // namespace

CachingImageVerifier::CacheOnlyScope::CacheOnlyScope() {
  cache_only = true;
  cache_only_missed = false;
}
CachingImageVerifier::CacheOnlyScope::~CacheOnlyScope() {
  cache_only = false;
  cache_only_missed = false;
}
bool CachingImageVerifier::CacheOnlyScope::missed() const { return cache_only_missed; }

std::string repository_of(std::string_view image) {
  std::string_view name = image.substr(0, image.find('@'));
  size_t slash = name.rfind('/');
  size_t colon = name.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) name = name.substr(0, colon);
  return std::string(name);
}

struct CachingImageVerifier::State {
  ExpiringCache<Outcome> outcomes;
  ExpiringCache<std::string> tags;

  static ExpiringCache<Outcome>::Policy outcome_policy(const VerificationCacheOptions& o) {
    ExpiringCache<Outcome>::Policy p;
    p.max_entries = o.max_entries;
    p.max_bytes = o.max_bytes;
    p.lifetime = [o](const Outcome& v) { return v.verified ? o.ttl : o.negative_ttl; };
    p.negative = [](const Outcome& v) { return !v.verified; };
    p.cost = cost_of;
    return p;
  }
  explicit State(const VerificationCacheOptions& o) : outcomes(outcome_policy(o)), tags(tag_cache(o)) {}
};

CachingImageVerifier::CachingImageVerifier(std::shared_ptr<policy::ImageVerifier> inner,
                                           VerificationCacheOptions options)
    : inner_(std::move(inner)), state_(std::make_unique<State>(options)) {}

CachingImageVerifier::~CachingImageVerifier() = default;

Result<std::string> CachingImageVerifier::resolve_digest(const std::string& image,
                                                         const policy::ImageVerification& rule) {
  return cached_digest(state_->tags, image, [&] { return inner_->resolve_digest(image, rule); });
}

Result<Outcome> CachingImageVerifier::verify(const std::string& image, const policy::ImageVerification& rule,
                                             const policy::AttestorSet& attestors,
                                             const policy::Attestation* attestation) {
  // Outcomes of a rule or set that cannot be named (built by hand, not parsed) are not kept.
  if (!rule.use_cache || rule.fingerprint.empty() || attestors.fingerprint.empty()) {
    if (cache_only) return would_wait();
    return inner_->verify(image, rule, attestors, attestation);
  }
  VOUCH_ASSIGN_OR_RETURN(std::string digest, resolve_digest(image, rule));
  const std::string pinned = image.find('@') == std::string::npos ? image + "@" + digest : image;
  std::string key = fmt::format("{}@{}|{}|{}|", repository_of(image), digest, rule.fingerprint, attestors.fingerprint);
  if (attestation) key += attestation->name + '\x1f' + attestation->type;
  return state_->outcomes.get(
      key,
      [&]() -> Result<Outcome> {
        Result<Outcome> result = inner_->verify(pinned, rule, attestors, attestation);
        if (result.ok() && result->digest.empty()) result->digest = digest;
        return result;
      },
      cache_only, would_wait);
}

VerificationCacheStats CachingImageVerifier::stats() const {
  return stats_of(state_->outcomes.counters(), state_->tags.counters());
}

void CachingImageVerifier::clear() {
  state_->outcomes.clear();
  state_->tags.clear();
}

// ---------------------------------------------------------------- ImageValidatingPolicy

struct CachingImagePolicyVerifier::State {
  ExpiringCache<bj::value> data;                      // image data and referrer payloads
  ExpiringCache<policy::AttestorOutcome> outcomes;    // signatures and attestations
  ExpiringCache<std::string> tags;

  explicit State(const VerificationCacheOptions& o) : data(data_policy(o)), outcomes(outcome_policy(o)), tags(tag_cache(o)) {}
  static ExpiringCache<bj::value>::Policy data_policy(const VerificationCacheOptions& o) {
    ExpiringCache<bj::value>::Policy p;
    p.max_entries = o.max_entries;
    p.max_bytes = o.max_bytes;
    p.lifetime = [ttl = o.ttl](const bj::value&) { return ttl; };
    p.cost = [](const bj::value& v) { return bj::serialize(v).size(); };
    return p;
  }
  static ExpiringCache<policy::AttestorOutcome>::Policy outcome_policy(const VerificationCacheOptions& o) {
    ExpiringCache<policy::AttestorOutcome>::Policy p;
    p.max_entries = o.max_entries;
    p.max_bytes = o.max_bytes;
    p.lifetime = [o](const policy::AttestorOutcome& v) { return v.verified ? o.ttl : o.negative_ttl; };
    p.negative = [](const policy::AttestorOutcome& v) { return !v.verified; };
    p.cost = [](const policy::AttestorOutcome& v) {
      size_t n = 128 + v.reason.size() + v.referrer_digest.size();
      for (const auto& s : v.statements) n += bj::serialize(s).size();
      return n;
    };
    return p;
  }
};

CachingImagePolicyVerifier::CachingImagePolicyVerifier(std::shared_ptr<policy::ImagePolicyVerifier> inner,
                                                       VerificationCacheOptions options)
    : inner_(std::move(inner)), state_(std::make_unique<State>(options)) {}

CachingImagePolicyVerifier::~CachingImagePolicyVerifier() = default;

Result<std::string> CachingImagePolicyVerifier::resolve_digest(const std::string& image, bool allow_insecure) {
  return cached_digest(state_->tags, image, [&] { return inner_->resolve_digest(image, allow_insecure); });
}

namespace {

// One question about an image: the reference as written (the answers echo it) and the digest it
// named when asked, so a tag that moved is asked again, and the reference pinned to that digest
// (what the registry is asked, so an answer is always about the digest in the key).
struct Asked {
  std::string key;
  std::string pinned;
};

Result<Asked> asked(CachingImagePolicyVerifier& v, const std::string& image, bool allow_insecure) {
  VOUCH_ASSIGN_OR_RETURN(std::string digest, v.resolve_digest(image, allow_insecure));
  Asked a;
  a.key = fmt::format("{}|{}|{}", image, digest, allow_insecure ? "insecure" : "");
  a.pinned = image.find('@') == std::string::npos ? image + "@" + digest : image;
  return a;
}

}  // namespace

Result<bj::value> CachingImagePolicyVerifier::image_data(const std::string& image, bool allow_insecure) {
  VOUCH_ASSIGN_OR_RETURN(Asked a, asked(*this, image, allow_insecure));
  return state_->data.get("data|" + a.key, [&] { return inner_->image_data(image, allow_insecure); }, cache_only,
                          would_wait);
}

Result<policy::AttestorOutcome> CachingImagePolicyVerifier::verify_signature(const std::string& image,
                                                                             const policy::IvpolAttestor& attestor,
                                                                             bool allow_insecure) {
  VOUCH_ASSIGN_OR_RETURN(Asked a, asked(*this, image, allow_insecure));
  return state_->outcomes.get(
      "signature|" + a.key + "|" + bj::serialize(attestor.raw),
      [&] { return inner_->verify_signature(a.pinned, attestor, allow_insecure); }, cache_only, would_wait);
}

Result<policy::AttestorOutcome> CachingImagePolicyVerifier::verify_attestation(const std::string& image,
                                                                               const policy::IvpolAttestation& attestation,
                                                                               const policy::IvpolAttestor& attestor,
                                                                               bool allow_insecure) {
  VOUCH_ASSIGN_OR_RETURN(Asked a, asked(*this, image, allow_insecure));
  return state_->outcomes.get(
      fmt::format("attestation|{}|{}\x1f{}\x1f{}|{}", a.key, attestation.name, attestation.intoto_type,
                  attestation.referrer_type, bj::serialize(attestor.raw)),
      [&] { return inner_->verify_attestation(a.pinned, attestation, attestor, allow_insecure); }, cache_only,
      would_wait);
}

Result<bj::value> CachingImagePolicyVerifier::referrer_payload(const std::string& image, const std::string& artifact_type,
                                                               const std::string& referrer_digest, bool allow_insecure) {
  VOUCH_ASSIGN_OR_RETURN(Asked a, asked(*this, image, allow_insecure));
  return state_->data.get(
      fmt::format("referrer|{}|{}|{}", a.key, artifact_type, referrer_digest),
      [&] { return inner_->referrer_payload(a.pinned, artifact_type, referrer_digest, allow_insecure); }, cache_only,
      would_wait);
}

VerificationCacheStats CachingImagePolicyVerifier::stats() const {
  auto o = state_->outcomes.counters();
  auto d = state_->data.counters();
  o.hits += d.hits;
  o.misses += d.misses;
  o.coalesced += d.coalesced;
  o.evictions += d.evictions;
  o.entries += d.entries;
  o.bytes += d.bytes;
  return stats_of(o, state_->tags.counters());
}

}  // namespace vouch::admission
