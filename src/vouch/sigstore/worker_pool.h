// Private to the sigstore module: the threads that verify batches of bundles. One pool per
// process, of std::thread::hardware_concurrency() - 1 workers; the thread that hands in a batch
// works on it too, so a batch uses every core, and a batch handed in from inside another (or
// on a machine with one core) still completes.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace vouch::sigstore {

class WorkerPool {
 public:
  static WorkerPool& shared();

  explicit WorkerPool(size_t workers);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Calls task(i) for every i in [0, count), on the workers and the calling thread, and returns
  // when all calls have returned. `task` must not throw.
  void run(size_t count, const std::function<void(size_t)>& task);

  // Threads that work on a batch: the workers and the caller.
  size_t parallelism() const { return workers_.size() + 1; }

 private:
  struct Batch;
  static void work_on(Batch& batch);
  void worker_loop();

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Batch>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace vouch::sigstore
