// A progress line on stderr for long work: shown only when stderr is a terminal, and only
// once the work has taken longer than a second (VOUCH_PROGRESS_AFTER_MS overrides the delay;
// VOUCH_NO_PROGRESS=1 turns it off). A background thread redraws it ten times a second, so a
// phase without a counter (pulling layers) still shows that work goes on. Counters are
// atomics: update them from the working thread as often as convenient.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

namespace vouch::cli {

class Progress {
 public:
  // `out` must be a terminal for anything to appear (unless `force`).
  explicit Progress(std::FILE* out = stderr, bool force = false);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Starts a phase: a label and, when known, how many units it has (0: unknown).
  void phase(std::string label, uint64_t total = 0);
  void set(uint64_t done) { done_.store(done, std::memory_order_relaxed); }
  void advance(uint64_t n = 1) { done_.fetch_add(n, std::memory_order_relaxed); }
  // Stops the display and clears its line.
  void finish();
  bool enabled() const { return enabled_; }

 private:
  void run();
  void draw();

  std::FILE* out_;
  bool enabled_;
  std::chrono::milliseconds delay_{1000};
  std::chrono::steady_clock::time_point start_;
  std::atomic<uint64_t> done_{0};
  std::atomic<uint64_t> total_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::string label_;
  bool stop_ = false;
  bool drawn_ = false;
  unsigned tick_ = 0;
  std::thread thread_;
};

}  // namespace vouch::cli
