// The report writer: a queue in front of the report store.
#include "vouch/admission/report_writer.h"

#include <vector>

namespace vouch::admission {

namespace {
constexpr size_t kBatch = 2000;
}  // namespace

ReportWriter::ReportWriter(std::shared_ptr<ReportStore> store, size_t max_queued)
    : store_(std::move(store)), max_queued_(max_queued), thread_([this] { run(); }) {}

ReportWriter::~ReportWriter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void ReportWriter::submit(ReviewResults results) {
  const UnixSeconds now = now_unix();
  {
    std::lock_guard lock(mu_);
    for (auto& r : results.results) {
      if (queue_.size() >= max_queued_) {
        ++dropped_;
        continue;
      }
      queue_.push_back(RecordedResult{std::move(r), results.resource, results.resource_uid,
                                      std::string(kProcessAdmission), now});
    }
  }
  cv_.notify_one();
}

void ReportWriter::flush() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [this] { return queue_.empty() && !writing_; });
}

void ReportWriter::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) {
      idle_cv_.notify_all();
      if (stopping_) return;
      continue;
    }
    std::vector<RecordedResult> batch;
    while (!queue_.empty() && batch.size() < kBatch) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    writing_ = true;
    lock.unlock();
    Status st = store_->record(batch);
    lock.lock();
    writing_ = false;
    if (st.ok()) {
      written_ += batch.size();
    } else {
      failed_ += batch.size();
      last_error_ = st.error().message;
    }
    if (queue_.empty()) idle_cv_.notify_all();
  }
}

std::string ReportWriter::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

void ReportWriter::write_metrics(net::PrometheusText& out) const {
  std::lock_guard lock(mu_);
  out.counter("vouch_admission_report_results_written_total", "Rule results written to the report store", written_);
  out.counter("vouch_admission_report_results_dropped_total",
              "Rule results dropped because the report store fell too far behind", dropped_);
  out.counter("vouch_admission_report_results_failed_total", "Rule results the report store refused", failed_);
  out.gauge("vouch_admission_report_queue", "Rule results waiting for the report store",
            static_cast<double>(queue_.size()));
}

}  // namespace vouch::admission
