// The local vulnerability database: OSV records imported from files, directories and the
// per-ecosystem all.zip archives OSV publishes, looked up by ecosystem and package name.
// Storage sits behind VulnerabilityStore; SQLite is the embedded implementation.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vouch/base/result.h"
#include "vouch/base/time.h"
#include "vouch/vuln/osv.h"

namespace vouch::vuln {

struct ImportStats {
  size_t seen = 0;        // records read
  size_t added = 0;       // new ids
  size_t updated = 0;     // known ids with a newer `modified`
  size_t unchanged = 0;   // known ids, same or older `modified`
  size_t malformed = 0;   // rejected records
  std::vector<std::string> problems;  // one line per rejected record: "<source>: <why>"
  std::vector<std::string> warnings;  // irregular but imported: "<id>: <what>"
  double seconds = 0;
};

struct DatabaseStatus {
  std::string path;
  int64_t records = 0;
  int64_t withdrawn = 0;
  std::map<std::string, int64_t> by_ecosystem;  // records naming a package in each ecosystem
  std::optional<UnixSeconds> last_import;
  std::string newest_modified;  // the most recent `modified` among the records
  int64_t size_bytes = 0;
};

// What `scan` needs to judge the data's age, read cheaply.
struct DatabaseFreshness {
  std::string path;
  std::optional<UnixSeconds> last_import;
  std::string newest_modified;
};

class VulnerabilityStore {
 public:
  virtual ~VulnerabilityStore() = default;
  // Stores the record unless a record with that id and the same or a newer `modified` is
  // already there. Returns whether it was added (+1), updated (0) or left alone (-1).
  virtual Result<int> put_if_newer(const OsvRecord& record) = 0;
  virtual Status begin_batch() = 0;
  virtual Status commit_batch() = 0;
  virtual Status set_last_import(UnixSeconds t) = 0;
  // Records that name `name` (normalized as normalize_package_name does) in `ecosystem`.
  virtual Result<std::vector<OsvRecord>> records_for(std::string_view ecosystem, std::string_view name) = 0;
  virtual Result<std::optional<OsvRecord>> record(std::string_view id) = 0;
  // The distinct ecosystem names stored that start with `prefix` ("Red Hat:enterprise_linux:9::"
  // -> its appstream, baseos, … streams), sorted.
  virtual Result<std::vector<std::string>> ecosystems_with_prefix(std::string_view prefix) = 0;
  virtual Result<DatabaseStatus> status() = 0;
  virtual Result<DatabaseFreshness> freshness() = 0;
};

// Opens the SQLite store at `file`: read-write, created when missing, when `create`;
// read-only otherwise (scans).
Result<std::unique_ptr<VulnerabilityStore>> open_sqlite_store(const std::filesystem::path& file, bool create);

// $XDG_CACHE_HOME/vouch/db, else $HOME/.cache/vouch/db.
std::filesystem::path default_database_dir();
// The database file inside a database directory.
std::filesystem::path database_file(const std::filesystem::path& dir);

using ImportProgress = std::function<void(size_t records_seen)>;

// Imports every OSV record in `inputs`: .json files, directories (searched recursively for
// *.json) and archives (.zip, .tar.gz: every *.json entry). A record that cannot be parsed
// is counted and reported, and the import goes on; unreadable inputs fail the import.
Result<ImportStats> import_osv(VulnerabilityStore& store, const std::vector<std::filesystem::path>& inputs,
                               const ImportProgress& progress = {});

// Data older than this is stale, and `vouch scan` says so (grype's db.max-allowed-built-age
// defaults to 5 days as well); `scan --max-db-age` and $VOUCH_DB_MAX_AGE change it.
constexpr int64_t kStaleAfterSeconds = 5 * 24 * 3600;

// "120h", "5d", "90m", "3600s" or a number of seconds -> seconds; fails on anything else.
Result<int64_t> parse_max_age(std::string_view text);

// The warning `scan` prints when the data is older than `max_age_seconds` (or was never
// imported); nullopt when it is fresh enough.
std::optional<std::string> staleness_warning(const DatabaseFreshness& freshness, UnixSeconds now,
                                             int64_t max_age_seconds);

}  // namespace vouch::vuln
