// A TUF client following the specification's client workflow (section 5): the root rotation
// chain (each new root signed by a threshold of the old root's keys and of its own), then
// timestamp → snapshot → targets with signature, version, rollback, hash, length and expiry
// checks, delegated targets searched in order, and target files checked against their length and
// hashes. Trusted metadata and downloaded targets are kept in a local cache that later runs, and
// runs without a network, start from.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "vouch/base/result.h"
#include "vouch/base/time.h"
#include "vouch/net/http.h"
#include "vouch/tuf/metadata.h"

namespace vouch::tuf {

// Where metadata and targets come from: an http(s) URL, or a local directory (a file:// URL or
// a path) for repositories copied to an air-gapped site. Absent files are kNotFound errors.
class Fetcher {
 public:
  virtual ~Fetcher() = default;
  virtual Result<std::string> fetch(const std::string& url, size_t max_bytes) = 0;
};
std::unique_ptr<Fetcher> default_fetcher(net::ClientOptions http = {});

struct UpdaterOptions {
  std::string metadata_url;  // base URL (or directory) of N.root.json, timestamp.json, ...
  std::string targets_url;   // base URL (or directory) of target files; default: metadata_url/targets
  std::filesystem::path cache_dir;  // holds root.json (required) and what the updater trusts
  std::optional<UnixSeconds> now;   // the reference time for expiry (default: the clock)
  int max_root_rotations = 256;
  int max_delegations = 32;
};

class Updater {
 public:
  // Starts from cache_dir/root.json, which must exist (the caller's trust anchor).
  static Result<Updater> open(UpdaterOptions options, std::unique_ptr<Fetcher> fetcher = nullptr);

  // Brings root, timestamp, snapshot and targets up to date; each error names the role and check.
  Status refresh();
  // Loads what the cache holds without any download, checked as refresh would check it at the
  // reference time, except that an expired timestamp or snapshot is accepted (`stale` reports it):
  // the offline mode for runs without a network.
  Status load_cached(bool* stale = nullptr);

  // The target's entry, searching delegations in order (after refresh or load_cached); nullopt
  // when no role lists it.
  Result<std::optional<TargetFile>> target_info(const std::string& name);
  // The target's bytes, from the cache when they still match the entry, else downloaded (under
  // its consistent-snapshot name when the repository uses them) and checked.
  Result<std::string> download_target(const TargetFile& target);
  // The cached copy of a target, checked against `target`; kNotFound when there is none.
  Result<std::string> cached_target(const TargetFile& target) const;

  const Root& root() const { return root_.role; }
  const std::optional<Metadata<Timestamp>>& timestamp() const { return timestamp_; }

 private:
  Updater() = default;
  UnixSeconds now() const;
  Status update_root();
  Status update_timestamp();
  Status update_snapshot(bool offline);
  Status update_targets(bool offline);
  Result<Metadata<Targets>> load_delegated(const std::string& role, const Targets& parent, bool offline);
  Result<std::string> fetch_metadata(const std::string& name, size_t max_bytes);
  // Downloads `role`'s document as `meta` (from the `lister` role) lists it and checks it against
  // that listing and the signers; expiry is the caller's. `label` names it in errors.
  template <typename T>
  Result<Metadata<T>> fetch_listed(const std::string& role, const std::string& label, const MetaFile& meta,
                                   size_t max_bytes, Result<Metadata<T>> (*parse)(std::string),
                                   const std::map<std::string, Key>& keys, const Role& signers, std::string_view lister);
  std::filesystem::path cache_path(const std::string& role) const;
  Status persist(const std::string& role, const std::string& bytes) const;

  UpdaterOptions options_;
  std::unique_ptr<Fetcher> fetcher_;
  Metadata<Root> root_;
  std::optional<Metadata<Timestamp>> timestamp_;
  std::optional<Metadata<Snapshot>> snapshot_;
  std::optional<Metadata<Targets>> targets_;
  std::map<std::string, Metadata<Targets>> delegated_;
  bool offline_ = false;
};

// Checks `bytes` against a length and hashes (sha256, sha512; at least one must be known).
Status check_length_and_hashes(std::string_view bytes, std::optional<int64_t> length,
                               const std::map<std::string, std::string>& hashes, std::string_view what);

// A role or target name as one safe file name (percent-encoded; never "." or "..").
std::string file_name_for(std::string_view name);

}  // namespace vouch::tuf
