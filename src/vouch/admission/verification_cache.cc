// The verification cache: LRU entries with positive and negative lifetimes, coalesced misses.
#include "vouch/admission/verification_cache.h"

#include <future>
#include <list>
#include <mutex>
#include <unordered_map>

#include <fmt/format.h>

namespace vouch::admission {
namespace {

using Clock = std::chrono::steady_clock;
using Outcome = policy::ImageVerificationOutcome;

struct Entry {
  std::string key;
  Outcome outcome;
  Clock::time_point expires;
  size_t bytes = 0;
};

struct TagEntry {
  std::string digest;
  Clock::time_point expires;
};

size_t cost_of(const std::string& key, const Outcome& o) {
  size_t n = 256 + key.size() + o.reason.size() + o.digest.size();
  for (const auto& p : o.predicates) n += boost::json::serialize(p).size();
  return n;
}

thread_local bool cache_only = false;
thread_local bool cache_only_missed = false;

Error would_wait() {
  cache_only_missed = true;
  return io_error("not in the verification cache");
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

struct CachingImageVerifier::State {
  mutable std::mutex mu;
  std::list<Entry> lru;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index;
  std::unordered_map<std::string, std::shared_future<Result<Outcome>>> in_flight;
  std::unordered_map<std::string, TagEntry> tags;
  std::unordered_map<std::string, std::shared_future<Result<std::string>>> tags_in_flight;
  VerificationCacheStats stats;

  void evict_over(const VerificationCacheOptions& o) {
    while (!lru.empty() && (lru.size() > o.max_entries || stats.bytes > o.max_bytes)) {
      stats.bytes -= lru.back().bytes;
      index.erase(lru.back().key);
      lru.pop_back();
      ++stats.evictions;
    }
  }
};

std::string repository_of(std::string_view image) {
  std::string_view name = image.substr(0, image.find('@'));
  size_t slash = name.rfind('/');
  size_t colon = name.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) name = name.substr(0, colon);
  return std::string(name);
}

CachingImageVerifier::CachingImageVerifier(std::shared_ptr<policy::ImageVerifier> inner,
                                           VerificationCacheOptions options)
    : inner_(std::move(inner)), options_(options), state_(std::make_unique<State>()) {}

CachingImageVerifier::~CachingImageVerifier() = default;

Result<std::string> CachingImageVerifier::resolve_digest(const std::string& image,
                                                         const policy::ImageVerification& rule) {
  if (size_t at = image.rfind('@'); at != std::string::npos) return image.substr(at + 1);
  State& s = *state_;
  std::promise<Result<std::string>> promise;
  {
    std::unique_lock lock(s.mu);
    auto now = Clock::now();
    if (auto it = s.tags.find(image); it != s.tags.end()) {
      if (it->second.expires > now) {
        ++s.stats.tag_hits;
        return it->second.digest;
      }
      s.tags.erase(it);
    }
    if (cache_only) return would_wait();
    if (auto it = s.tags_in_flight.find(image); it != s.tags_in_flight.end()) {
      ++s.stats.tag_coalesced;
      auto future = it->second;
      lock.unlock();
      return future.get();
    }
    ++s.stats.tag_misses;
    s.tags_in_flight.emplace(image, promise.get_future().share());
  }
  Result<std::string> resolved = inner_->resolve_digest(image, rule);
  {
    std::lock_guard lock(s.mu);
    if (resolved.ok()) {
      if (s.tags.size() >= options_.max_tags) s.tags.clear();
      s.tags[image] = TagEntry{*resolved, Clock::now() + options_.tag_ttl};
    }
    s.tags_in_flight.erase(image);
    s.stats.tags = s.tags.size();
  }
  promise.set_value(resolved);
  return resolved;
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

  State& s = *state_;
  std::promise<Result<Outcome>> promise;
  {
    std::unique_lock lock(s.mu);
    auto now = Clock::now();
    if (auto it = s.index.find(key); it != s.index.end()) {
      if (it->second->expires > now) {
        s.lru.splice(s.lru.begin(), s.lru, it->second);
        ++(it->second->outcome.verified ? s.stats.hits : s.stats.negative_hits);
        return it->second->outcome;
      }
      s.stats.bytes -= it->second->bytes;
      s.lru.erase(it->second);
      s.index.erase(it);
    }
    if (cache_only) return would_wait();
    if (auto it = s.in_flight.find(key); it != s.in_flight.end()) {
      ++s.stats.coalesced;
      auto future = it->second;
      lock.unlock();
      return future.get();
    }
    ++s.stats.misses;
    s.in_flight.emplace(key, promise.get_future().share());
  }
  Result<Outcome> result = inner_->verify(pinned, rule, attestors, attestation);
  if (result.ok() && result->digest.empty()) result->digest = digest;
  {
    std::lock_guard lock(s.mu);
    if (result.ok()) {
      auto lifetime = result->verified ? options_.ttl : options_.negative_ttl;
      if (lifetime.count() > 0) {
        Entry e{key, *result, Clock::now() + lifetime, cost_of(key, *result)};
        s.stats.bytes += e.bytes;
        s.lru.push_front(std::move(e));
        s.index[key] = s.lru.begin();
        s.evict_over(options_);
      }
    }
    s.in_flight.erase(key);
    s.stats.entries = s.lru.size();
  }
  promise.set_value(result);
  return result;
}

VerificationCacheStats CachingImageVerifier::stats() const {
  std::lock_guard lock(state_->mu);
  VerificationCacheStats out = state_->stats;
  out.entries = state_->lru.size();
  out.tags = state_->tags.size();
  return out;
}

void CachingImageVerifier::clear() {
  std::lock_guard lock(state_->mu);
  state_->lru.clear();
  state_->index.clear();
  state_->tags.clear();
  state_->stats.bytes = 0;
}

}  // namespace vouch::admission
