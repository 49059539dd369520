// `vouch db update`: OSV records or a snapshot applied to a copy of the database, the changes
// recorded, the copy renamed into place.
#include "vouch/vuln/update.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>
#include <unistd.h>

#include "vouch/base/file.h"
#include "vouch/db/sqlite.h"
#include "vouch/vuln/version.h"

namespace vouch::vuln {
namespace {

namespace fs = std::filesystem;
using db::SqliteConnection;
using db::SqliteStatement;

// The update history, kept in the database file next to the records.
constexpr std::string_view kHistorySchema = R"(
CREATE TABLE IF NOT EXISTS updates(
  seq INTEGER PRIMARY KEY,
  finished INTEGER NOT NULL,
  source TEXT NOT NULL,
  added INTEGER NOT NULL, modified INTEGER NOT NULL, removed INTEGER NOT NULL, skipped INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS changes(
  seq INTEGER NOT NULL, id TEXT NOT NULL, kind TEXT NOT NULL,
  PRIMARY KEY(seq, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS change_packages(
  seq INTEGER NOT NULL, ecosystem TEXT NOT NULL, name TEXT NOT NULL,
  PRIMARY KEY(seq, ecosystem, name)) WITHOUT ROWID;
)";

constexpr size_t kBatchSize = 5000;
constexpr size_t kMaxProblems = 1000;

Result<SqliteConnection> open_raw(const fs::path& file, bool writable) {
  return SqliteConnection::open(file.string(),
                                {.writable = writable, .create = writable, .busy_timeout_ms = 10000, .label = file.string()});
}

Result<bool> step(SqliteStatement& st, const SqliteConnection& c, std::string_view what) {
  auto row = st.step();
  if (!row.ok()) return c.error(what);
  return *row;
}

// The journal mode a connection ends up in after asking for `mode`.
Result<std::string> set_journal_mode(SqliteConnection& c, std::string_view mode) {
  VOUCH_ASSIGN_OR_RETURN(SqliteStatement st, c.prepare(fmt::format("PRAGMA journal_mode={}", mode)));
  VOUCH_ASSIGN_OR_RETURN(bool row, step(st, c, "setting the journal mode"));
  return row ? st.column_text(0) : std::string();
}

// A sibling of the database that is removed unless it was renamed into place.
class ScratchCopy {
 public:
  explicit ScratchCopy(const fs::path& db_file)
      : path_(db_file.parent_path() / fmt::format(".{}.update-{}", db_file.filename().string(), ::getpid())) {
    remove_all_parts();
  }
  ~ScratchCopy() {
    if (!installed_) remove_all_parts();
  }
  const fs::path& path() const { return path_; }
  void installed() { installed_ = true; }

 private:
  void remove_all_parts() {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path_.string() + suffix, ec);
  }
  fs::path path_;
  bool installed_ = false;
};

// A consistent copy of `from` at `to` (which must not exist); a missing `from` copies nothing.
Status copy_database(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  if (!fs::exists(from, ec)) return ok_status();
  VOUCH_ASSIGN_OR_RETURN(SqliteConnection c, open_raw(from, false));
  VOUCH_ASSIGN_OR_RETURN(SqliteStatement st, c.prepare("VACUUM INTO ?"));
  st.bind_text(1, to.string());
  if (!st.run().ok()) return c.error(fmt::format("copying the database to {}", to.string()));
  return ok_status();
}

// Leaves `file` with its data in the main file and no -wal beside it, so that renaming another
// file over it cannot pair the new file with the old one's log.
Status settle(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec)) return ok_status();
  VOUCH_ASSIGN_OR_RETURN(SqliteConnection c, open_raw(file, true));
  VOUCH_RETURN_IF_ERROR(c.exec_script("PRAGMA wal_checkpoint(TRUNCATE)"));
  VOUCH_ASSIGN_OR_RETURN(std::string mode, set_journal_mode(c, "DELETE"));
  if (mode != "delete")
    return io_error(fmt::format("{}: the database is in use by another process (journal mode {}); try again",
                                file.string(), mode));
  return ok_status();
}

Status install(ScratchCopy& scratch, const fs::path& db_file) {
  VOUCH_RETURN_IF_ERROR(settle(scratch.path()));
  VOUCH_RETURN_IF_ERROR(settle(db_file));
  std::error_code ec;
  fs::rename(scratch.path(), db_file, ec);
  if (ec) return io_error(fmt::format("{}: replacing the database: {}", db_file.string(), ec.message()));
  scratch.installed();
  return ok_status();
}

struct Change {
  std::string kind;  // added, modified, withdrawn, removed
};

// The record-level changes of one update, written to the history tables.
struct ChangeLog {
  std::map<std::string, Change> ids;
  std::set<std::pair<std::string, std::string>> packages;

  void packages_of(const OsvRecord& r) {
    for (const auto& a : r.affected)
      if (!a.ecosystem.empty() && !a.name.empty())
        packages.emplace(a.ecosystem, normalize_package_name(a.ecosystem, a.name));
  }
};

Result<int64_t> write_history(SqliteConnection& c, const ChangeLog& log, std::string_view source,
                              const UpdateResult& r) {
  VOUCH_RETURN_IF_ERROR(c.exec_script(kHistorySchema));
  VOUCH_ASSIGN_OR_RETURN(auto tx, db::SqliteTransaction::begin(c));
  VOUCH_ASSIGN_OR_RETURN(SqliteStatement next, c.prepare("SELECT COALESCE(MAX(seq), 0) + 1 FROM updates"));
  VOUCH_ASSIGN_OR_RETURN(bool row, step(next, c, "numbering the update"));
  int64_t seq = row ? next.column_int(0) : 1;
  VOUCH_ASSIGN_OR_RETURN(SqliteStatement u, c.prepare("INSERT INTO updates(seq, finished, source, added, modified, "
                                                      "removed, skipped) VALUES(?,?,?,?,?,?,?)"));
  u.bind(1, seq)
      .bind(2, now_unix())
      .bind_text(3, source)
      .bind(4, static_cast<int64_t>(r.added))
      .bind(5, static_cast<int64_t>(r.modified))
      .bind(6, static_cast<int64_t>(r.removed))
      .bind(7, static_cast<int64_t>(r.skipped));
  if (!u.run().ok()) return c.error("recording the update");
  VOUCH_ASSIGN_OR_RETURN(SqliteStatement ch, c.prepare("INSERT OR REPLACE INTO changes(seq, id, kind) VALUES(?,?,?)"));
  for (const auto& [id, change] : log.ids) {
    ch.reset();
    ch.bind(1, seq).bind_text(2, id).bind_text(3, change.kind);
    if (!ch.run().ok()) return c.error("recording a changed record");
  }
  VOUCH_ASSIGN_OR_RETURN(SqliteStatement cp, c.prepare("INSERT OR IGNORE INTO change_packages(seq, ecosystem, name) "
                                                       "VALUES(?,?,?)"));
  for (const auto& [eco, name] : log.packages) {
    cp.reset();
    cp.bind(1, seq).bind_text(2, eco).bind_text(3, name);
    if (!cp.run().ok()) return c.error("recording a changed package");
  }
  VOUCH_RETURN_IF_ERROR(tx.commit());
  return seq;
}

std::string archive_message(archive* a) {
  const char* m = archive_error_string(a);
  return m ? m : "unreadable archive";
}

// A zip archive ends with its central directory; a download cut short has none.
Status check_zip_complete(const fs::path& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return io_error(fmt::format("{}: cannot open", path.string()));
  std::string tail(65557, '\0');
  std::fseek(f, 0, SEEK_END);
  long size = std::ftell(f);
  long start = std::max(0L, size - static_cast<long>(tail.size()));
  std::fseek(f, start, SEEK_SET);
  size_t n = std::fread(tail.data(), 1, tail.size(), f);
  std::fclose(f);
  tail.resize(n);
  if (tail.find(std::string_view("PK\x05\x06", 4)) == std::string::npos)
    return invalid_input(fmt::format("{}: truncated zip archive (no end of central directory)", path.string()));
  return ok_status();
}

class Updater {
 public:
  Updater(VulnerabilityStore& store, SqliteConnection& reader, const UpdateLimits& limits)
      : store_(store), reader_(reader), limits_(limits) {}

  Status prepare() {
    VOUCH_ASSIGN_OR_RETURN(select_modified_, reader_.prepare("SELECT modified FROM records WHERE id=?"));
    VOUCH_ASSIGN_OR_RETURN(select_packages_, reader_.prepare("SELECT ecosystem, name FROM packages WHERE id=?"));
    VOUCH_RETURN_IF_ERROR(store_.begin_batch());
    return ok_status();
  }

  Status finish() {
    VOUCH_RETURN_IF_ERROR(store_.set_last_import(now_unix()));
    return store_.commit_batch();
  }

  void skip(std::string line) {
    ++result_.skipped;
    if (result_.problems.size() < kMaxProblems) result_.problems.push_back(std::move(line));
  }

  Status record(std::string_view source, std::string_view text) {
    ++result_.seen;
    auto rec = parse_osv(text);
    if (!rec.ok()) {
      skip(fmt::format("{}: {}", source, rec.error().message));
      return ok_status();
    }
    if (auto why = absurd_ranges(*rec, limits_)) {
      skip(fmt::format("{}: {}: {}", source, rec->id, *why));
      return ok_status();
    }
    // The stored version's packages, before it is replaced: a rescan must revisit them too.
    select_modified_.reset();
    select_modified_.bind_text(1, rec->id);
    VOUCH_ASSIGN_OR_RETURN(bool known, step(select_modified_, reader_, "looking up a record"));
    int64_t stored_modified = known ? select_modified_.column_int(0) : 0;
    select_modified_.reset();
    if (known && stored_modified >= rec->modified_unix) {
      ++result_.unchanged;
      return next_batch();
    }
    if (known) {
      select_packages_.reset();
      select_packages_.bind_text(1, rec->id);
      while (true) {
        VOUCH_ASSIGN_OR_RETURN(bool row, step(select_packages_, reader_, "reading a record's packages"));
        if (!row) break;
        log_.packages.emplace(select_packages_.column_text(0), select_packages_.column_text(1));
      }
      select_packages_.reset();
    }
    VOUCH_ASSIGN_OR_RETURN(int outcome, store_.put_if_newer(*rec));
    if (outcome < 0) {
      ++result_.unchanged;
      return next_batch();
    }
    if (outcome > 0) ++result_.added;
    else ++result_.modified;
    log_.ids[rec->id] = Change{rec->withdrawn ? "withdrawn" : outcome > 0 ? "added" : "modified"};
    log_.packages_of(*rec);
    return next_batch();
  }

  Status input(const fs::path& path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) return directory(path);
    std::string name = path.filename().string();
    if (name.ends_with(".zip") || name.ends_with(".tar.gz") || name.ends_with(".tgz") || name.ends_with(".tar"))
      return archive_file(path);
    auto text = read_file(path, kMaxOsvRecordBytes);
    if (!text.ok()) {
      ++result_.seen;
      skip(fmt::format("{}: {}", path.string(), text.error().message));
      return ok_status();
    }
    return record(path.string(), *text);
  }

  UpdateResult& result() { return result_; }
  ChangeLog& log() { return log_; }

 private:
  // Commits every kBatchSize records: the reader then sees what earlier batches wrote.
  Status next_batch() {
    if (result_.seen % kBatchSize != 0) return ok_status();
    VOUCH_RETURN_IF_ERROR(store_.commit_batch());
    return store_.begin_batch();
  }

  Status directory(const fs::path& dir) {
    std::vector<fs::path> files;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) return io_error(fmt::format("{}: {}", dir.string(), ec.message()));
      if (it->is_regular_file() && it->path().extension() == ".json") files.push_back(it->path());
    }
    if (ec) return io_error(fmt::format("{}: {}", dir.string(), ec.message()));
    std::sort(files.begin(), files.end());
    for (const auto& f : files) VOUCH_RETURN_IF_ERROR(input(f));
    return ok_status();
  }

  Status archive_file(const fs::path& path) {
    if (path.filename().string().ends_with(".zip")) VOUCH_RETURN_IF_ERROR(check_zip_complete(path));
    std::error_code ec;
    const uint64_t compressed = std::max<uint64_t>(1, fs::file_size(path, ec));
    struct archive* a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_zip(a);
    archive_read_support_format_tar(a);
    struct Free {
      archive* a;
      ~Free() { archive_read_free(a); }
    } free_archive{a};
    if (archive_read_open_filename(a, path.c_str(), 1 << 16) != ARCHIVE_OK)
      return io_error(fmt::format("{}: {}", path.string(), archive_message(a)));
    uint64_t inflated = 0;
    size_t entries = 0;
    auto bomb = [&](std::string_view why) {
      return invalid_input(fmt::format("{}: {}; refused as a decompression bomb", path.string(), why));
    };
    struct archive_entry* entry;
    std::string buffer;
    int rc;
    while ((rc = archive_read_next_header(a, &entry)) == ARCHIVE_OK) {
      if (++entries > limits_.max_entries) return bomb(fmt::format("more than {} entries", limits_.max_entries));
      const char* entry_name = archive_entry_pathname(entry);
      std::string name = entry_name ? entry_name : "";
      if (archive_entry_filetype(entry) != AE_IFREG || !name.ends_with(".json")) continue;
      std::string source = fmt::format("{}!{}", path.string(), name);
      if (archive_entry_size_is_set(entry) &&
          static_cast<uint64_t>(archive_entry_size(entry)) > limits_.max_uncompressed_bytes)
        return bomb(fmt::format("{} declares {} bytes", name, archive_entry_size(entry)));
      const int64_t raw_before = archive_filter_bytes(a, -1);
      buffer.clear();
      char chunk[65536];
      la_ssize_t n;
      bool too_big = false;
      while ((n = archive_read_data(a, chunk, sizeof chunk)) > 0) {
        inflated += static_cast<uint64_t>(n);
        if (buffer.size() + static_cast<size_t>(n) > kMaxOsvRecordBytes) {
          too_big = true;
          break;
        }
        buffer.append(chunk, static_cast<size_t>(n));
      }
      if (n < 0) return io_error(fmt::format("{}: {}", source, archive_message(a)));
      if (inflated > limits_.max_uncompressed_bytes)
        return bomb(fmt::format("inflates past {} bytes", limits_.max_uncompressed_bytes));
      if (inflated > limits_.ratio_checked_above && inflated / compressed > limits_.max_compression_ratio)
        return bomb(fmt::format("inflates {} times", inflated / compressed));
      if (too_big) {
        // One oversized record is skipped; one that inflates from almost nothing is an attack.
        const int64_t raw = std::max<int64_t>(1, archive_filter_bytes(a, -1) - raw_before);
        if (buffer.size() / static_cast<uint64_t>(raw) > limits_.max_compression_ratio)
          return bomb(fmt::format("{} inflates more than {} times", name, limits_.max_compression_ratio));
        ++result_.seen;
        skip(fmt::format("{}: larger than {} bytes", source, kMaxOsvRecordBytes));
        continue;
      }
      VOUCH_RETURN_IF_ERROR(record(source, buffer));
    }
    if (rc != ARCHIVE_EOF) return io_error(fmt::format("{}: {}", path.string(), archive_message(a)));
    return ok_status();
  }

  VulnerabilityStore& store_;
  SqliteConnection& reader_;
  const UpdateLimits& limits_;
  SqliteStatement select_modified_, select_packages_;
  UpdateResult result_;
  ChangeLog log_;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

std::optional<std::string> absurd_ranges(const OsvRecord& record, const UpdateLimits& limits) {
  if (record.affected.size() > limits.max_affected)
    return fmt::format("{} affected entries (at most {})", record.affected.size(), limits.max_affected);
  auto long_version = [](std::string_view v) { return v.size() > detail::kMaxVersionLength; };
  for (size_t i = 0; i < record.affected.size(); ++i) {
    const OsvAffected& a = record.affected[i];
    if (a.ranges.size() > limits.max_ranges_per_package)
      return fmt::format("affected[{}]: {} ranges (at most {})", i, a.ranges.size(), limits.max_ranges_per_package);
    if (a.versions.size() > limits.max_versions_per_package)
      return fmt::format("affected[{}]: {} versions (at most {})", i, a.versions.size(),
                         limits.max_versions_per_package);
    for (size_t v = 0; v < a.versions.size(); ++v)
      if (long_version(a.versions[v]))
        return fmt::format("affected[{}].versions[{}]: {} characters long", i, v, a.versions[v].size());
    for (size_t r = 0; r < a.ranges.size(); ++r) {
      const OsvRange& range = a.ranges[r];
      if (range.events.size() > limits.max_events_per_range)
        return fmt::format("affected[{}].ranges[{}]: {} events (at most {})", i, r, range.events.size(),
                           limits.max_events_per_range);
      for (size_t e = 0; e < range.events.size(); ++e)
        if (long_version(range.events[e].value))
          return fmt::format("affected[{}].ranges[{}].events[{}]: a version {} characters long", i, r, e,
                             range.events[e].value.size());
    }
  }
  return std::nullopt;
}

Result<UpdateResult> update_from_osv(const fs::path& db_file, const std::vector<fs::path>& inputs,
                                     std::string_view source, const UpdateLimits& limits) {
  const auto start = std::chrono::steady_clock::now();
  for (const auto& input : inputs) {
    std::error_code ec;
    if (!fs::exists(input, ec)) return not_found(fmt::format("{}: no such file or directory", input.string()));
  }
  std::error_code ec;
  fs::create_directories(db_file.parent_path(), ec);
  if (ec) return io_error(fmt::format("{}: {}", db_file.parent_path().string(), ec.message()));
  ScratchCopy scratch(db_file);
  VOUCH_RETURN_IF_ERROR(copy_database(db_file, scratch.path()));
  UpdateResult result;
  ChangeLog log;
  {
    VOUCH_ASSIGN_OR_RETURN(auto store, open_sqlite_store(scratch.path(), true));
    VOUCH_ASSIGN_OR_RETURN(SqliteConnection reader, open_raw(scratch.path(), false));
    Updater updater(*store, reader, limits);
    VOUCH_RETURN_IF_ERROR(updater.prepare());
    for (const auto& input : inputs) VOUCH_RETURN_IF_ERROR(updater.input(input));
    VOUCH_RETURN_IF_ERROR(updater.finish());
    result = std::move(updater.result());
    log = std::move(updater.log());
  }
  if (result.seen > 0 && result.skipped == result.seen)
    return invalid_input(fmt::format("{}: all {} records were refused (first: {}); the database is unchanged",
                                     source, result.seen, result.problems.empty() ? "" : result.problems.front()));
  if (!log.ids.empty()) {
    VOUCH_ASSIGN_OR_RETURN(SqliteConnection c, open_raw(scratch.path(), true));
    VOUCH_ASSIGN_OR_RETURN(result.seq, write_history(c, log, source, result));
  }
  VOUCH_RETURN_IF_ERROR(install(scratch, db_file));
  result.seconds = seconds_since(start);
  return result;
}

Result<UpdateResult> install_snapshot(const fs::path& db_file, const fs::path& snapshot, std::string_view source) {
  const auto start = std::chrono::steady_clock::now();
  std::error_code ec;
  fs::create_directories(db_file.parent_path(), ec);
  ScratchCopy scratch(db_file);
  fs::copy_file(snapshot, scratch.path(), ec);
  if (ec) return io_error(fmt::format("{}: {}", snapshot.string(), ec.message()));
  {
    // Opens only what is a vouch vulnerability database of this schema version.
    auto check = open_sqlite_store(scratch.path(), false);
    if (!check.ok()) return std::move(check).error().context(fmt::format("snapshot {}", source));
  }
  VOUCH_ASSIGN_OR_RETURN(SqliteConnection c, open_raw(scratch.path(), true));
  {
    VOUCH_ASSIGN_OR_RETURN(SqliteStatement st, c.prepare("PRAGMA integrity_check"));
    VOUCH_ASSIGN_OR_RETURN(bool row, step(st, c, "checking the snapshot"));
    if (!row || st.column_text(0) != "ok")
      return invalid_input(fmt::format("snapshot {}: damaged database ({})", source, row ? st.column_text(0) : "?"));
  }
  // The history is this site's own: the snapshot's is replaced by the local one.
  VOUCH_RETURN_IF_ERROR(c.exec_script("DROP TABLE IF EXISTS updates; DROP TABLE IF EXISTS changes; "
                                      "DROP TABLE IF EXISTS change_packages;"));
  VOUCH_RETURN_IF_ERROR(c.exec_script(kHistorySchema));
  UpdateResult result;
  ChangeLog log;
  const bool had_database = fs::exists(db_file, ec);
  if (had_database) {
    VOUCH_ASSIGN_OR_RETURN(SqliteStatement attach, c.prepare("ATTACH DATABASE ? AS old"));
    attach.bind_text(1, db_file.string());
    if (!attach.run().ok()) return c.error("opening the current database");
    // Older databases may have no history yet.
    auto has_history = c.prepare("SELECT 1 FROM old.updates LIMIT 1");
    if (has_history.ok()) {
      VOUCH_RETURN_IF_ERROR(c.exec_script("INSERT INTO main.updates SELECT * FROM old.updates;"
                                          "INSERT INTO main.changes SELECT * FROM old.changes;"
                                          "INSERT INTO main.change_packages SELECT * FROM old.change_packages;"));
    }
    VOUCH_ASSIGN_OR_RETURN(SqliteStatement diff, c.prepare(R"(
SELECT n.id, CASE WHEN o.id IS NULL THEN 'added' WHEN n.withdrawn THEN 'withdrawn' ELSE 'modified' END
  FROM main.records n LEFT JOIN old.records o ON o.id = n.id
  WHERE o.id IS NULL OR o.modified != n.modified OR o.withdrawn != n.withdrawn
UNION ALL
SELECT o.id, 'removed' FROM old.records o LEFT JOIN main.records n ON n.id = o.id WHERE n.id IS NULL)"));
    VOUCH_ASSIGN_OR_RETURN(SqliteStatement pkgs, c.prepare("SELECT ecosystem, name FROM main.packages WHERE id=?1 "
                                                           "UNION SELECT ecosystem, name FROM old.packages WHERE id=?1"));
    while (true) {
      VOUCH_ASSIGN_OR_RETURN(bool row, step(diff, c, "comparing the snapshot with the database"));
      if (!row) break;
      std::string id = diff.column_text(0), kind = diff.column_text(1);
      if (kind == "added") ++result.added;
      else if (kind == "removed") ++result.removed;
      else ++result.modified;
      pkgs.reset();
      pkgs.bind_text(1, id);
      while (true) {
        VOUCH_ASSIGN_OR_RETURN(bool p, step(pkgs, c, "reading a record's packages"));
        if (!p) break;
        log.packages.emplace(pkgs.column_text(0), pkgs.column_text(1));
      }
      log.ids[std::move(id)] = Change{std::move(kind)};
    }
    diff = SqliteStatement();
    pkgs = SqliteStatement();
    VOUCH_RETURN_IF_ERROR(c.exec_script("DETACH DATABASE old"));
  } else {
    VOUCH_ASSIGN_OR_RETURN(SqliteStatement all, c.prepare("SELECT id FROM records"));
    while (true) {
      VOUCH_ASSIGN_OR_RETURN(bool row, step(all, c, "listing the snapshot's records"));
      if (!row) break;
      log.ids[all.column_text(0)] = Change{"added"};
      ++result.added;
    }
    all = SqliteStatement();
    VOUCH_RETURN_IF_ERROR(c.exec_script("INSERT OR IGNORE INTO change_packages(seq, ecosystem, name) "
                                        "SELECT 0, ecosystem, name FROM packages"));
    VOUCH_ASSIGN_OR_RETURN(SqliteStatement p, c.prepare("SELECT ecosystem, name FROM change_packages WHERE seq=0"));
    while (true) {
      VOUCH_ASSIGN_OR_RETURN(bool row, step(p, c, "listing the snapshot's packages"));
      if (!row) break;
      log.packages.emplace(p.column_text(0), p.column_text(1));
    }
    p = SqliteStatement();
    VOUCH_RETURN_IF_ERROR(c.exec_script("DELETE FROM change_packages WHERE seq=0"));
  }
  result.seen = static_cast<size_t>(result.added + result.modified);
  if (!log.ids.empty()) {
    VOUCH_ASSIGN_OR_RETURN(result.seq, write_history(c, log, source, result));
  }
  c = SqliteConnection();
  VOUCH_RETURN_IF_ERROR(install(scratch, db_file));
  result.seconds = seconds_since(start);
  return result;
}

Status build_snapshot(const fs::path& db_file, const fs::path& out) {
  {
    auto check = open_sqlite_store(db_file, false);
    if (!check.ok()) return std::move(check).error();
  }
  fs::path tmp = out.parent_path() / fmt::format(".{}.tmp-{}", out.filename().string(), ::getpid());
  std::error_code ec;
  fs::remove(tmp, ec);
  VOUCH_RETURN_IF_ERROR(copy_database(db_file, tmp));
  Status settled = settle(tmp);
  if (settled.ok()) {
    fs::rename(tmp, out, ec);
    if (!ec) return ok_status();
    settled = io_error(fmt::format("{}: {}", out.string(), ec.message()));
  }
  fs::remove(tmp, ec);
  return settled;
}

Result<std::vector<UpdateInfo>> list_updates(const fs::path& db_file) {
  VOUCH_ASSIGN_OR_RETURN(SqliteConnection c, open_raw(db_file, false));
  std::vector<UpdateInfo> out;
  auto st = c.prepare("SELECT seq, finished, source, added, modified, removed, skipped FROM updates ORDER BY seq");
  if (!st.ok()) return out;  // no update yet
  while (true) {
    VOUCH_ASSIGN_OR_RETURN(bool row, step(*st, c, "listing updates"));
    if (!row) break;
    out.push_back(UpdateInfo{st->column_int(0), st->column_int(1), st->column_text(2),
                             static_cast<size_t>(st->column_int(3)), static_cast<size_t>(st->column_int(4)),
                             static_cast<size_t>(st->column_int(5)), static_cast<size_t>(st->column_int(6))});
  }
  return out;
}

Result<ChangeSet> changes_since(const fs::path& db_file, int64_t after_seq) {
  std::error_code ec;
  if (!fs::exists(db_file, ec)) return not_found(fmt::format("no vulnerability database at {}", db_file.string()));
  VOUCH_ASSIGN_OR_RETURN(SqliteConnection c, open_raw(db_file, false));
  ChangeSet out;
  out.last_seq = after_seq;
  auto last = c.prepare("SELECT COALESCE(MAX(seq), 0) FROM updates");
  if (!last.ok()) return out;
  VOUCH_ASSIGN_OR_RETURN(bool row, step(*last, c, "reading updates"));
  if (row) out.last_seq = std::max(after_seq, last->column_int(0));
  VOUCH_ASSIGN_OR_RETURN(SqliteStatement ids, c.prepare("SELECT DISTINCT id FROM changes WHERE seq > ? ORDER BY id"));
  ids.bind(1, after_seq);
  while (true) {
    VOUCH_ASSIGN_OR_RETURN(bool r, step(ids, c, "reading changes"));
    if (!r) break;
    out.ids.push_back(ids.column_text(0));
  }
  VOUCH_ASSIGN_OR_RETURN(SqliteStatement pk, c.prepare("SELECT DISTINCT ecosystem, name FROM change_packages "
                                                       "WHERE seq > ? ORDER BY ecosystem, name"));
  pk.bind(1, after_seq);
  while (true) {
    VOUCH_ASSIGN_OR_RETURN(bool r, step(pk, c, "reading changed packages"));
    if (!r) break;
    out.packages.emplace_back(pk.column_text(0), pk.column_text(1));
  }
  return out;
}

}  // namespace vouch::vuln
