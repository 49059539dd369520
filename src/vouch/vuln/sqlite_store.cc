// The embedded vulnerability store: one SQLite file with the compact records and an index
// from (ecosystem, package name) to record ids.
#include <cstdlib>

#include <fmt/format.h>

#include "vouch/db/sqlite.h"
#include "vouch/vuln/database.h"

namespace vouch::vuln {
namespace {

constexpr int kSchemaVersion = 1;

// Schema versions (PRAGMA user_version). Version 1 is the schema databases had before it was
// numbered that way; meta.schema_version keeps saying 1 for older programs' check.
constexpr std::string_view kMigrations[] = {
    R"(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records(
  id TEXT PRIMARY KEY,
  modified INTEGER NOT NULL,
  modified_text TEXT NOT NULL,
  withdrawn INTEGER NOT NULL,
  body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS packages(
  ecosystem TEXT NOT NULL,
  name TEXT NOT NULL,
  id TEXT NOT NULL,
  PRIMARY KEY(ecosystem, name, id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS packages_by_id ON packages(id);
INSERT OR IGNORE INTO meta(key, value) VALUES('schema_version', '1');
)",
};

using db::SqliteConnection;
using db::SqliteStatement;

class SqliteStore final : public VulnerabilityStore {
 public:
  SqliteStore(SqliteConnection db, std::filesystem::path path) : db_(std::move(db)), path_(std::move(path)) {}

  Status init(bool writable) {
    if (writable) {
      VOUCH_RETURN_IF_ERROR(db_.exec_script("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"));
      VOUCH_RETURN_IF_ERROR(db_.migrate(kMigrations));
    }
    {
      VOUCH_ASSIGN_OR_RETURN(SqliteStatement st, prepare("SELECT value FROM meta WHERE key='schema_version'"));
      auto row = st.step();
      if (!row.ok() || !*row) return invalid_input(fmt::format("{}: not a vouch vulnerability database", path_.string()));
      int v = std::atoi(st.column_text(0).c_str());
      if (v != kSchemaVersion)
        return invalid_input(fmt::format("{}: database schema version {} is not {}; remove it and import again",
                                         path_.string(), v, kSchemaVersion));
    }
    VOUCH_ASSIGN_OR_RETURN(select_for_package_, prepare("SELECT r.body FROM packages p JOIN records r ON r.id = p.id "
                                                        "WHERE p.ecosystem=? AND p.name=? ORDER BY r.id"));
    if (!writable) return ok_status();
    VOUCH_ASSIGN_OR_RETURN(select_modified_, prepare("SELECT modified FROM records WHERE id=?"));
    VOUCH_ASSIGN_OR_RETURN(insert_record_, prepare("INSERT OR REPLACE INTO records(id, modified, modified_text, "
                                                   "withdrawn, body) VALUES(?,?,?,?,?)"));
    VOUCH_ASSIGN_OR_RETURN(delete_packages_, prepare("DELETE FROM packages WHERE id=?"));
    VOUCH_ASSIGN_OR_RETURN(insert_package_, prepare("INSERT OR IGNORE INTO packages(ecosystem, name, id) VALUES(?,?,?)"));
    return ok_status();
  }

  Result<int> put_if_newer(const OsvRecord& record) override {
    if (!select_modified_.prepared()) return internal_error(fmt::format("{}: opened read-only", path_.string()));
    select_modified_.reset();
    select_modified_.bind_text(1, record.id);
    auto found = select_modified_.step();
    if (!found.ok()) return error("looking up a record");
    int outcome = 1;
    if (*found) {
      int64_t existing = select_modified_.column_int(0);
      select_modified_.reset();
      if (existing >= record.modified_unix) return -1;
      outcome = 0;
    }
    select_modified_.reset();
    if (outcome == 0) {
      delete_packages_.reset();
      delete_packages_.bind_text(1, record.id);
      if (!delete_packages_.run().ok()) return error("replacing a record");
    }
    std::string body = serialize_osv_compact(record);
    insert_record_.reset();
    insert_record_.bind_text(1, record.id)
        .bind(2, record.modified_unix)
        .bind_text(3, record.modified)
        .bind(4, int64_t{record.withdrawn ? 1 : 0})
        .bind_text(5, body);
    if (!insert_record_.run().ok()) return error("storing a record");
    for (const auto& a : record.affected) {
      if (a.ecosystem.empty() || a.name.empty()) continue;
      std::string name = normalize_package_name(a.ecosystem, a.name);
      insert_package_.reset();
      insert_package_.bind_text(1, a.ecosystem).bind_text(2, name).bind_text(3, record.id);
      if (!insert_package_.run().ok()) return error("indexing a record");
    }
    return outcome;
  }

  Status begin_batch() override { return exec("BEGIN IMMEDIATE"); }
  Status commit_batch() override { return exec("COMMIT"); }

  Status set_last_import(UnixSeconds t) override {
    VOUCH_RETURN_IF_ERROR(exec(fmt::format("INSERT OR REPLACE INTO meta(key, value) VALUES('last_import', '{}')", t)));
    return exec(
        "INSERT OR REPLACE INTO meta(key, value) SELECT 'newest_modified', modified_text FROM records "
        "ORDER BY modified DESC LIMIT 1");
  }

  Result<DatabaseFreshness> freshness() override {
    DatabaseFreshness f;
    f.path = path_.string();
    VOUCH_ASSIGN_OR_RETURN(SqliteStatement st,
                           prepare("SELECT key, value FROM meta WHERE key IN ('last_import', 'newest_modified')"));
    while (next(st)) {
      std::string key = st.column_text(0);
      std::string value = st.column_text(1);
      if (key == "last_import") f.last_import = std::atoll(value.c_str());
      else f.newest_modified = value;
    }
    return f;
  }

  Result<std::vector<std::string>> ecosystems_with_prefix(std::string_view prefix) override {
    // One index seek per distinct name: the packages table is keyed by ecosystem first.
    if (!select_next_ecosystem_.prepared()) {
      VOUCH_ASSIGN_OR_RETURN(select_next_ecosystem_,
                             prepare("SELECT ecosystem FROM packages WHERE ecosystem >= ? ORDER BY ecosystem LIMIT 1"));
    }
    std::vector<std::string> out;
    std::string from(prefix);
    while (true) {
      select_next_ecosystem_.reset();
      select_next_ecosystem_.bind_text(1, from);
      auto row = select_next_ecosystem_.step();
      if (!row.ok()) return error("listing ecosystems");
      if (!*row) break;
      std::string eco = select_next_ecosystem_.column_text(0);
      if (!eco.starts_with(prefix)) break;
      out.push_back(eco);
      from = eco + '\x01';  // the next name after this one (names hold no NUL)
    }
    select_next_ecosystem_.reset();
    return out;
  }

  Result<std::vector<OsvRecord>> records_for(std::string_view ecosystem, std::string_view name) override {
    std::vector<OsvRecord> out;
    select_for_package_.reset();
    select_for_package_.bind_text(1, ecosystem);
    std::string normalized = normalize_package_name(ecosystem.substr(0, ecosystem.find(':')), name);
    select_for_package_.bind_text(2, normalized);
    for (;;) {
      auto row = select_for_package_.step();
      if (!row.ok()) return error("looking up a package");
      if (!*row) break;
      auto rec = parse_osv(select_for_package_.column_text_view(0));
      if (!rec.ok()) return std::move(rec).error().context(fmt::format("{}: stored record", path_.string()));
      out.push_back(std::move(rec).value());
    }
    select_for_package_.reset();
    return out;
  }

  Result<std::optional<OsvRecord>> record(std::string_view id) override {
    VOUCH_ASSIGN_OR_RETURN(SqliteStatement st, prepare("SELECT body FROM records WHERE id=?"));
    st.bind_text(1, id);
    auto row = st.step();
    if (!row.ok()) return error("reading a record");
    if (!*row) return std::optional<OsvRecord>();
    VOUCH_ASSIGN_OR_RETURN(OsvRecord r, parse_osv(st.column_text_view(0)));
    return std::optional<OsvRecord>(std::move(r));
  }

  Result<DatabaseStatus> status() override {
    DatabaseStatus s;
    s.path = path_.string();
    {
      VOUCH_ASSIGN_OR_RETURN(SqliteStatement st, prepare("SELECT COUNT(*), COALESCE(SUM(withdrawn),0) FROM records"));
      if (!next(st)) return error("counting records");
      s.records = st.column_int(0);
      s.withdrawn = st.column_int(1);
    }
    {
      VOUCH_ASSIGN_OR_RETURN(SqliteStatement st, prepare("SELECT modified_text FROM records ORDER BY modified DESC LIMIT 1"));
      if (next(st)) s.newest_modified = st.column_text(0);
    }
    {
      VOUCH_ASSIGN_OR_RETURN(SqliteStatement st,
                             prepare("SELECT ecosystem, COUNT(DISTINCT id) FROM packages GROUP BY ecosystem"));
      while (next(st)) s.by_ecosystem[st.column_text(0)] = st.column_int(1);
    }
    {
      VOUCH_ASSIGN_OR_RETURN(SqliteStatement st, prepare("SELECT value FROM meta WHERE key='last_import'"));
      if (next(st)) s.last_import = std::atoll(st.column_text(0).c_str());
    }
    std::error_code ec;
    auto size = std::filesystem::file_size(path_, ec);
    if (!ec) s.size_bytes = static_cast<int64_t>(size);
    return s;
  }

 private:
  Error error(std::string_view what) const { return db_.error(what); }
  Status exec(const std::string& sql) { return db_.exec_script(sql); }
  Result<SqliteStatement> prepare(const char* sql) const {
    auto st = db_.prepare(sql);
    if (!st.ok()) return error("preparing a query");
    return st;
  }
  // A row when there is one; a failed step reads as no row (the callers' summaries are best effort).
  static bool next(SqliteStatement& st) {
    auto row = st.step();
    return row.ok() && *row;
  }

  // Declared before the statements: they are finalized first, then the connection closes.
  SqliteConnection db_;
  std::filesystem::path path_;
  SqliteStatement select_modified_, insert_record_, delete_packages_, insert_package_, select_for_package_,
      select_next_ecosystem_;
};

}  // namespace

Result<std::unique_ptr<VulnerabilityStore>> open_sqlite_store(const std::filesystem::path& file, bool create) {
  std::error_code ec;
  if (!create && !std::filesystem::exists(file, ec))
    return not_found(fmt::format("no vulnerability database at {}; run `vouch db import` first", file.string()));
  if (create) {
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec) return io_error(fmt::format("{}: {}", file.parent_path().string(), ec.message()));
  }
  auto db = SqliteConnection::open(
      file.string(), {.writable = create, .create = create, .busy_timeout_ms = 5000, .label = file.string()});
  if (!db.ok()) return std::move(db).error();
  auto store = std::make_unique<SqliteStore>(std::move(*db), file);
  VOUCH_RETURN_IF_ERROR(store->init(create));
  return std::unique_ptr<VulnerabilityStore>(std::move(store));
}

std::filesystem::path default_database_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::filesystem::path(xdg) / "vouch" / "db";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::filesystem::path(home) / ".cache" / "vouch" / "db";
  return std::filesystem::path(".vouch-db");
}

std::filesystem::path database_file(const std::filesystem::path& dir) { return dir / "vulnerabilities.db"; }

}  // namespace vouch::vuln
