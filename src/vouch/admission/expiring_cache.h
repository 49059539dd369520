// An LRU cache of values that expire, for answers fetched from registries: concurrent misses for
// one key wait for a single computation, errors are never kept, and each value's lifetime is
// chosen from the value (a verified outcome longer than a failed one). Not part of the module's
// interface.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

#include "vouch/base/result.h"

namespace vouch::admission {

struct ExpiringCacheCounters {
  uint64_t hits = 0;           // kept values answered whose lifetime was the long one
  uint64_t negative_hits = 0;  // kept values answered whose lifetime was the short one
  uint64_t misses = 0;         // computations run
  uint64_t coalesced = 0;      // callers that waited for another caller's computation
  uint64_t evictions = 0;
  uint64_t entries = 0, bytes = 0;
};

template <typename V>
class ExpiringCache {
 public:
  using Clock = std::chrono::steady_clock;
  struct Policy {
    size_t max_entries = 1000;
    size_t max_bytes = 64 << 20;
    // How long a value is kept (0: not kept), and whether it counts as a negative answer.
    std::function<std::chrono::seconds(const V&)> lifetime;
    std::function<bool(const V&)> negative = [](const V&) { return false; };
    std::function<size_t(const V&)> cost = [](const V&) { return size_t{256}; };
  };

  explicit ExpiringCache(Policy policy) : policy_(std::move(policy)) {}

  // The value kept for `key`, else `compute()`'s, run once for every concurrent caller. With
  // `cache_only`, a value not kept is `would_wait()` instead of a computation.
  Result<V> get(const std::string& key, const std::function<Result<V>()>& compute, bool cache_only,
                const std::function<Error()>& would_wait) {
    std::promise<Result<V>> promise;
    {
      std::unique_lock lock(mu_);
      if (auto it = index_.find(key); it != index_.end()) {
        if (it->second->expires > Clock::now()) {
          lru_.splice(lru_.begin(), lru_, it->second);
          ++(policy_.negative(it->second->value) ? counters_.negative_hits : counters_.hits);
          return it->second->value;
        }
        counters_.bytes -= it->second->bytes;
        lru_.erase(it->second);
        index_.erase(it);
      }
      if (cache_only) return would_wait();
      if (auto it = in_flight_.find(key); it != in_flight_.end()) {
        ++counters_.coalesced;
        auto future = it->second;
        lock.unlock();
        return future.get();
      }
      ++counters_.misses;
      in_flight_.emplace(key, promise.get_future().share());
    }
    Result<V> result = compute();
    {
      std::lock_guard lock(mu_);
      if (result.ok()) {
        auto lifetime = policy_.lifetime(*result);
        if (lifetime.count() > 0) {
          Entry e{key, *result, Clock::now() + lifetime, 128 + key.size() + policy_.cost(*result)};
          counters_.bytes += e.bytes;
          lru_.push_front(std::move(e));
          if (auto old = index_.find(key); old != index_.end()) {  // kept meanwhile by a clear()ed caller
            counters_.bytes -= old->second->bytes;
            lru_.erase(old->second);
          }
          index_[key] = lru_.begin();
          while (!lru_.empty() && (lru_.size() > policy_.max_entries || counters_.bytes > policy_.max_bytes)) {
            counters_.bytes -= lru_.back().bytes;
            index_.erase(lru_.back().key);
            lru_.pop_back();
            ++counters_.evictions;
          }
        }
      }
      in_flight_.erase(key);
      counters_.entries = lru_.size();
    }
    promise.set_value(result);
    return result;
  }

  ExpiringCacheCounters counters() const {
    std::lock_guard lock(mu_);
    ExpiringCacheCounters out = counters_;
    out.entries = lru_.size();
    return out;
  }

  void clear() {
    std::lock_guard lock(mu_);
    lru_.clear();
    index_.clear();
    counters_.bytes = 0;
    counters_.entries = 0;
  }

 private:
  struct Entry {
    std::string key;
    V value;
    Clock::time_point expires;
    size_t bytes = 0;
  };
  Policy policy_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string, typename std::list<Entry>::iterator> index_;
  std::unordered_map<std::string, std::shared_future<Result<V>>> in_flight_;
  ExpiringCacheCounters counters_;
};

}  // namespace vouch::admission
