// The webhook's policies, read from a directory (a mounted ConfigMap): every *.yaml, *.yml and
// *.json file, following the symlinks Kubernetes uses for mounted volumes and skipping its
// dot-entries. A change of the files installs a new set atomically; a set that does not parse
// is reported and the last good one keeps serving, so a typo never opens or closes the cluster.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "vouch/base/result.h"
#include "vouch/base/time.h"
#include "vouch/policy/policy.h"

namespace vouch::admission {

// One policy with the rules each webhook runs: image verification in the mutating webhook (it
// pins digests), validation and image verification again in the validating one.
struct LoadedPolicy {
  policy::Policy full;
  policy::Policy mutate_view;    // verifyImages rules only
  policy::Policy validate_view;  // validate and verifyImages rules
};

struct PolicySnapshot {
  std::vector<LoadedPolicy> policies;
  // The PolicyExceptions found among the policy files.
  std::shared_ptr<const std::vector<policy::PolicyException>> exceptions;
  std::vector<std::string> files;
  std::string version;  // changes whenever the files' contents do
  UnixSeconds loaded_at = 0;
};

// Reads and parses the policies of `dir` (no side effects).
Result<std::shared_ptr<const PolicySnapshot>> load_policy_directory(const std::string& dir);

class PolicyDirectory {
 public:
  // Loads the directory; an error if the first load fails (there is no good set to keep).
  static Result<std::unique_ptr<PolicyDirectory>> open(std::string dir);
  ~PolicyDirectory();

  std::shared_ptr<const PolicySnapshot> current() const;
  // Reads the files again; installs a new set when they changed. true: a new set is serving.
  // An error leaves the previous set serving and is kept as last_error().
  Result<bool> reload();
  // Polls for changes every `interval` on a background thread until destruction; `on_reload`
  // hears of every new set (true) and every failed reload (an error).
  void watch(std::chrono::milliseconds interval, std::function<void(const Result<bool>&)> on_reload = {});

  std::string last_error() const;  // empty after a successful reload
  uint64_t reloads() const { return reloads_; }
  uint64_t reload_failures() const { return failures_; }
  const std::string& dir() const { return dir_; }

 private:
  explicit PolicyDirectory(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
  mutable std::mutex mu_;
  std::shared_ptr<const PolicySnapshot> current_;
  std::string contents_;  // the files as last read, to notice changes
  std::string last_error_;
  std::atomic<uint64_t> reloads_{0}, failures_{0};
  std::thread watcher_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
};

}  // namespace vouch::admission
