#include "worker_pool.h"

#include <atomic>

namespace vouch::sigstore {

struct WorkerPool::Batch {
  size_t count = 0;
  const std::function<void(size_t)>* task = nullptr;
  std::atomic<size_t> next{0};  // the next index to hand out
  std::atomic<size_t> done{0};  // calls that have returned
  std::mutex mu;
  std::condition_variable finished;
};

WorkerPool& WorkerPool::shared() {
  static WorkerPool pool([] {
    unsigned cores = std::thread::hardware_concurrency();
    return cores > 1 ? size_t{cores} - 1 : size_t{0};
  }());
  return pool;
}

WorkerPool::WorkerPool(size_t workers) {
  workers_.reserve(workers);
  for (size_t i = 0; i < workers; ++i) workers_.emplace_back([this] { worker_loop(); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void WorkerPool::work_on(Batch& batch) {
  for (size_t i = batch.next.fetch_add(1); i < batch.count; i = batch.next.fetch_add(1)) {
    (*batch.task)(i);
    if (batch.done.fetch_add(1) + 1 == batch.count) {
      std::lock_guard lock(batch.mu);
      batch.finished.notify_all();
    }
  }
}

void WorkerPool::worker_loop() {
  for (;;) {
    std::shared_ptr<Batch> batch;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to do
      batch = queue_.front();
      // Every index handed out: later workers need not look at this batch.
      if (batch->next.load() >= batch->count) {
        queue_.pop_front();
        continue;
      }
    }
    work_on(*batch);
  }
}

void WorkerPool::run(size_t count, const std::function<void(size_t)>& task) {
  if (count == 0) return;
  auto batch = std::make_shared<Batch>();
  batch->count = count;
  batch->task = &task;
  if (count > 1 && !workers_.empty()) {
    {
      std::lock_guard lock(mu_);
      queue_.push_back(batch);
    }
    if (count == 2)
      wake_.notify_one();
    else
      wake_.notify_all();
  }
  work_on(*batch);
  std::unique_lock lock(batch->mu);
  batch->finished.wait(lock, [&] { return batch->done.load() == batch->count; });
}

}  // namespace vouch::sigstore
