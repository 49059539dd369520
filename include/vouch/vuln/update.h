// Updates of the vulnerability database as a whole: new OSV archives, or a snapshot someone
// built, are applied to a copy of the database that replaces it only once complete, so a failed
// or hostile update leaves the previous database in place. Each update is numbered and keeps
// the ids it changed and the packages they name, so that an inventory rescans only the images
// holding those packages.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "vouch/base/result.h"
#include "vouch/base/time.h"
#include "vouch/vuln/database.h"

namespace vouch::vuln {

// What an update refuses: an archive over these is hostile and fails the whole update; a
// record over the per-record limits is skipped with a message.
struct UpdateLimits {
  uint64_t max_uncompressed_bytes = uint64_t{4} << 30;  // all entries of one archive
  // Uncompressed / compressed size of one archive; OSV's JSON deflates about 5-10 times.
  uint64_t max_compression_ratio = 100;
  uint64_t ratio_checked_above = 64 << 20;  // small archives are not judged by their ratio
  size_t max_entries = 2'000'000;
  size_t max_events_per_range = 2'000;
  size_t max_ranges_per_package = 200;
  size_t max_versions_per_package = 50'000;
  size_t max_affected = 20'000;
};

// Why a record's affected entries are past the limits ("affected[0].ranges[0]: 100001 events",
// a version longer than any ecosystem writes); nullopt when they are reasonable.
std::optional<std::string> absurd_ranges(const OsvRecord& record, const UpdateLimits& limits = {});

struct UpdateResult {
  int64_t seq = 0;          // the update's number (1, 2, …); 0 when nothing changed
  size_t seen = 0;          // records read
  size_t added = 0;         // new ids
  size_t modified = 0;      // newer `modified`, including newly withdrawn
  size_t removed = 0;       // ids a snapshot no longer holds
  size_t unchanged = 0;
  size_t skipped = 0;       // malformed or absurd records
  std::vector<std::string> problems;  // one line per skipped record: "<source>: <why>"
  double seconds = 0;
};

// Applies OSV records (.json files, directories, .zip/.tar.gz archives) to a copy of the
// database file `db_file` (created when missing) and renames the copy into place. Only records
// with a newer `modified` are written. `source` names where the data came from.
Result<UpdateResult> update_from_osv(const std::filesystem::path& db_file,
                                     const std::vector<std::filesystem::path>& inputs, std::string_view source,
                                     const UpdateLimits& limits = {});

// Replaces the database with `snapshot` (a file `build_snapshot` wrote, its checksum already
// verified), keeping the local update history and recording the difference as one update.
Result<UpdateResult> install_snapshot(const std::filesystem::path& db_file, const std::filesystem::path& snapshot,
                                      std::string_view source);

// Writes a consistent single-file copy of the database to `out` (replaced atomically).
Status build_snapshot(const std::filesystem::path& db_file, const std::filesystem::path& out);

// The schema version of snapshots, as latest.json states it.
constexpr int kSnapshotSchemaVersion = 1;

struct UpdateInfo {
  int64_t seq = 0;
  UnixSeconds finished = 0;
  std::string source;
  size_t added = 0, modified = 0, removed = 0, skipped = 0;
};

// What the updates after `after_seq` changed: the record ids, and every (ecosystem, package
// name) their old or new versions name (names normalized as the store indexes them).
struct ChangeSet {
  int64_t last_seq = 0;  // the newest update included; after_seq when there is none
  std::vector<std::string> ids;
  std::vector<std::pair<std::string, std::string>> packages;
};

Result<std::vector<UpdateInfo>> list_updates(const std::filesystem::path& db_file);
Result<ChangeSet> changes_since(const std::filesystem::path& db_file, int64_t after_seq);

}  // namespace vouch::vuln
