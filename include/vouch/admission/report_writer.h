// Writes the webhook's results to the report store off the request path: reviews are answered
// without waiting for a disk, and results are written in batches by one thread. When the store
// falls behind by more than `max_queued` results, new ones are dropped and counted rather than
// holding up admission; whatever is queued at shutdown is written before the writer ends.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "vouch/admission/report_store.h"
#include "vouch/admission/webhook.h"
#include "vouch/net/prometheus.h"

namespace vouch::admission {

class ReportWriter {
 public:
  explicit ReportWriter(std::shared_ptr<ReportStore> store, size_t max_queued = 100000);
  ~ReportWriter();  // writes what is queued, then ends

  // Queues one review's results (process "admission review", timestamped now).
  void submit(ReviewResults results);
  // Waits until everything queued so far is written (or has failed).
  void flush();

  void write_metrics(net::PrometheusText& out) const;
  std::string last_error() const;

 private:
  void run();
  std::shared_ptr<ReportStore> store_;
  size_t max_queued_;
  mutable std::mutex mu_;
  std::condition_variable cv_, idle_cv_;
  std::deque<RecordedResult> queue_;
  bool stopping_ = false, writing_ = false;
  uint64_t written_ = 0, dropped_ = 0, failed_ = 0;
  std::string last_error_;
  std::thread thread_;
};

}  // namespace vouch::admission
