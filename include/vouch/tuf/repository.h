// A TUF repository for a private trust stack: one key per top-level role (ECDSA P-256, kept in
// DIR/keys/ with mode 0600), metadata under DIR/repository/ with consistent snapshots (N.root.json
// for every root, V.targets.json, V.snapshot.json, timestamp.json) and targets stored as
// targets/<sha256>.<name>, the layout Sigstore's repository is published in. Every change signs
// new versions down the chain (targets → snapshot → timestamp); a key rotation writes a root
// signed by the old and the new root keys.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "vouch/base/result.h"
#include "vouch/base/time.h"

namespace vouch::tuf {

struct RepositoryPeriods {
  int64_t root_days = 365;
  int64_t targets_days = 365;
  int64_t snapshot_days = 30;
  int64_t timestamp_days = 7;
};

class Repository {
 public:
  // Creates DIR/keys and DIR/repository (both must not hold a repository yet).
  static Result<Repository> init(const std::filesystem::path& dir, RepositoryPeriods periods = {});
  static Result<Repository> open(const std::filesystem::path& dir, RepositoryPeriods periods = {});

  // Adds or replaces a target (`name` may hold '/'); returns the new targets version.
  Result<int64_t> add_target(const std::filesystem::path& file, const std::string& name);
  // A new key for `role` ("root", "targets", "snapshot", "timestamp"); returns the new root version.
  Result<int64_t> rotate_key(const std::string& role);
  // New snapshot and timestamp versions with fresh expiry dates.
  Status refresh();

  std::filesystem::path metadata_dir() const { return dir_ / "repository"; }
  int64_t root_version() const;

 private:
  struct State;
  Repository(std::filesystem::path dir, RepositoryPeriods periods);
  Status load();
  // Signs and writes the given role's current metadata under its next version.
  Status write_root(const std::vector<std::string>& signing_key_files);
  Status write_targets();
  Status write_snapshot_and_timestamp();

  std::filesystem::path dir_;
  RepositoryPeriods periods_;
  std::shared_ptr<State> state_;
};

}  // namespace vouch::tuf
