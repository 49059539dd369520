// The embedded vulnerability store: one SQLite file with the compact records and an index
// from (ecosystem, package name) to record ids.
#include <cstdlib>

#include <fmt/format.h>
#include <sqlite3.h>

#include "vouch/vuln/database.h"

namespace vouch::vuln {
namespace {

constexpr int kSchemaVersion = 1;

const char* kSchema = R"(
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
)";

class Statement {
 public:
  Statement() = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { sqlite3_finalize(stmt_); }
  sqlite3_stmt** out() { return &stmt_; }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

class SqliteStore final : public VulnerabilityStore {
 public:
  SqliteStore(sqlite3* db, std::filesystem::path path) : db_(db), path_(std::move(path)) {}
  // sqlite3_close_v2 waits for the prepared statements, which the members finalize after.
  ~SqliteStore() override { sqlite3_close_v2(db_); }

  Status init(bool writable) {
    if (writable) {
      VOUCH_RETURN_IF_ERROR(exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"));
      VOUCH_RETURN_IF_ERROR(exec(kSchema));
      VOUCH_RETURN_IF_ERROR(exec(fmt::format(
          "INSERT OR IGNORE INTO meta(key, value) VALUES('schema_version', '{}');", kSchemaVersion)));
    }
    Statement st;
    VOUCH_RETURN_IF_ERROR(prepare("SELECT value FROM meta WHERE key='schema_version'", st));
    if (sqlite3_step(st.get()) != SQLITE_ROW)
      return invalid_input(fmt::format("{}: not a vouch vulnerability database", path_.string()));
    {
      int v = std::atoi(reinterpret_cast<const char*>(sqlite3_column_text(st.get(), 0)));
      if (v != kSchemaVersion)
        return invalid_input(fmt::format("{}: database schema version {} is not {}; remove it and import again",
                                         path_.string(), v, kSchemaVersion));
    }
    VOUCH_RETURN_IF_ERROR(prepare(
        "SELECT r.body FROM packages p JOIN records r ON r.id = p.id WHERE p.ecosystem=? AND p.name=? ORDER BY r.id",
        select_for_package_));
    if (!writable) return ok_status();
    VOUCH_RETURN_IF_ERROR(prepare("SELECT modified FROM records WHERE id=?", select_modified_));
    VOUCH_RETURN_IF_ERROR(prepare(
        "INSERT OR REPLACE INTO records(id, modified, modified_text, withdrawn, body) VALUES(?,?,?,?,?)",
        insert_record_));
    VOUCH_RETURN_IF_ERROR(prepare("DELETE FROM packages WHERE id=?", delete_packages_));
    VOUCH_RETURN_IF_ERROR(prepare("INSERT OR IGNORE INTO packages(ecosystem, name, id) VALUES(?,?,?)", insert_package_));
    return ok_status();
  }

  Result<int> put_if_newer(const OsvRecord& record) override {
    if (!select_modified_.get()) return internal_error(fmt::format("{}: opened read-only", path_.string()));
    sqlite3_reset(select_modified_.get());
    bind_text(select_modified_, 1, record.id);
    int rc = sqlite3_step(select_modified_.get());
    int outcome = 1;
    if (rc == SQLITE_ROW) {
      int64_t existing = sqlite3_column_int64(select_modified_.get(), 0);
      sqlite3_reset(select_modified_.get());
      if (existing >= record.modified_unix) return -1;
      outcome = 0;
    } else if (rc != SQLITE_DONE) {
      return error("looking up a record");
    }
    sqlite3_reset(select_modified_.get());
    if (outcome == 0) {
      sqlite3_reset(delete_packages_.get());
      bind_text(delete_packages_, 1, record.id);
      if (sqlite3_step(delete_packages_.get()) != SQLITE_DONE) return error("replacing a record");
    }
    std::string body = serialize_osv_compact(record);
    sqlite3_reset(insert_record_.get());
    bind_text(insert_record_, 1, record.id);
    sqlite3_bind_int64(insert_record_.get(), 2, record.modified_unix);
    bind_text(insert_record_, 3, record.modified);
    sqlite3_bind_int(insert_record_.get(), 4, record.withdrawn ? 1 : 0);
    bind_text(insert_record_, 5, body);
    if (sqlite3_step(insert_record_.get()) != SQLITE_DONE) return error("storing a record");
    for (const auto& a : record.affected) {
      if (a.ecosystem.empty() || a.name.empty()) continue;
      std::string name = normalize_package_name(a.ecosystem, a.name);
      sqlite3_reset(insert_package_.get());
      bind_text(insert_package_, 1, a.ecosystem);
      bind_text(insert_package_, 2, name);
      bind_text(insert_package_, 3, record.id);
      if (sqlite3_step(insert_package_.get()) != SQLITE_DONE) return error("indexing a record");
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
    Statement st;
    VOUCH_RETURN_IF_ERROR(prepare("SELECT key, value FROM meta WHERE key IN ('last_import', 'newest_modified')", st));
    while (sqlite3_step(st.get()) == SQLITE_ROW) {
      std::string key = reinterpret_cast<const char*>(sqlite3_column_text(st.get(), 0));
      std::string value = reinterpret_cast<const char*>(sqlite3_column_text(st.get(), 1));
      if (key == "last_import") f.last_import = std::atoll(value.c_str());
      else f.newest_modified = value;
    }
    return f;
  }

  Result<std::vector<std::string>> ecosystems_with_prefix(std::string_view prefix) override {
    // One index seek per distinct name: the packages table is keyed by ecosystem first.
    if (!select_next_ecosystem_.get())
      VOUCH_RETURN_IF_ERROR(prepare("SELECT ecosystem FROM packages WHERE ecosystem >= ? ORDER BY ecosystem LIMIT 1",
                                    select_next_ecosystem_));
    std::vector<std::string> out;
    std::string from(prefix);
    while (true) {
      sqlite3_reset(select_next_ecosystem_.get());
      bind_text(select_next_ecosystem_, 1, from);
      int rc = sqlite3_step(select_next_ecosystem_.get());
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return error("listing ecosystems");
      std::string eco(reinterpret_cast<const char*>(sqlite3_column_text(select_next_ecosystem_.get(), 0)),
                      static_cast<size_t>(sqlite3_column_bytes(select_next_ecosystem_.get(), 0)));
      if (!eco.starts_with(prefix)) break;
      out.push_back(eco);
      from = eco + '\x01';  // the next name after this one (names hold no NUL)
    }
    sqlite3_reset(select_next_ecosystem_.get());
    return out;
  }

  Result<std::vector<OsvRecord>> records_for(std::string_view ecosystem, std::string_view name) override {
    std::vector<OsvRecord> out;
    sqlite3_reset(select_for_package_.get());
    bind_text(select_for_package_, 1, ecosystem);
    std::string normalized = normalize_package_name(ecosystem.substr(0, ecosystem.find(':')), name);
    bind_text(select_for_package_, 2, normalized);
    int rc;
    while ((rc = sqlite3_step(select_for_package_.get())) == SQLITE_ROW) {
      std::string_view body(reinterpret_cast<const char*>(sqlite3_column_text(select_for_package_.get(), 0)),
                            static_cast<size_t>(sqlite3_column_bytes(select_for_package_.get(), 0)));
      auto rec = parse_osv(body);
      if (!rec.ok()) return std::move(rec).error().context(fmt::format("{}: stored record", path_.string()));
      out.push_back(std::move(rec).value());
    }
    if (rc != SQLITE_DONE) return error("looking up a package");
    sqlite3_reset(select_for_package_.get());
    return out;
  }

  Result<std::optional<OsvRecord>> record(std::string_view id) override {
    Statement st;
    VOUCH_RETURN_IF_ERROR(prepare("SELECT body FROM records WHERE id=?", st));
    bind_text(st, 1, id);
    int rc = sqlite3_step(st.get());
    if (rc == SQLITE_DONE) return std::optional<OsvRecord>();
    if (rc != SQLITE_ROW) return error("reading a record");
    std::string_view body(reinterpret_cast<const char*>(sqlite3_column_text(st.get(), 0)),
                          static_cast<size_t>(sqlite3_column_bytes(st.get(), 0)));
    VOUCH_ASSIGN_OR_RETURN(OsvRecord r, parse_osv(body));
    return std::optional<OsvRecord>(std::move(r));
  }

  Result<DatabaseStatus> status() override {
    DatabaseStatus s;
    s.path = path_.string();
    {
      Statement st;
      VOUCH_RETURN_IF_ERROR(prepare("SELECT COUNT(*), COALESCE(SUM(withdrawn),0) FROM records", st));
      if (sqlite3_step(st.get()) != SQLITE_ROW) return error("counting records");
      s.records = sqlite3_column_int64(st.get(), 0);
      s.withdrawn = sqlite3_column_int64(st.get(), 1);
    }
    {
      Statement st;
      VOUCH_RETURN_IF_ERROR(prepare("SELECT modified_text FROM records ORDER BY modified DESC LIMIT 1", st));
      if (sqlite3_step(st.get()) == SQLITE_ROW)
        s.newest_modified = reinterpret_cast<const char*>(sqlite3_column_text(st.get(), 0));
    }
    {
      Statement st;
      VOUCH_RETURN_IF_ERROR(prepare("SELECT ecosystem, COUNT(DISTINCT id) FROM packages GROUP BY ecosystem", st));
      while (sqlite3_step(st.get()) == SQLITE_ROW)
        s.by_ecosystem[reinterpret_cast<const char*>(sqlite3_column_text(st.get(), 0))] =
            sqlite3_column_int64(st.get(), 1);
    }
    {
      Statement st;
      VOUCH_RETURN_IF_ERROR(prepare("SELECT value FROM meta WHERE key='last_import'", st));
      if (sqlite3_step(st.get()) == SQLITE_ROW)
        s.last_import = std::atoll(reinterpret_cast<const char*>(sqlite3_column_text(st.get(), 0)));
    }
    std::error_code ec;
    auto size = std::filesystem::file_size(path_, ec);
    if (!ec) s.size_bytes = static_cast<int64_t>(size);
    return s;
  }

 private:
  Error error(std::string_view what) {
    return io_error(fmt::format("{}: {}: {}", path_.string(), what, sqlite3_errmsg(db_)));
  }
  Status exec(const std::string& sql) {
    char* msg = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
      std::string m = msg ? msg : "unknown error";
      sqlite3_free(msg);
      return io_error(fmt::format("{}: {}", path_.string(), m));
    }
    return ok_status();
  }
  Status prepare(const char* sql, Statement& st) {
    if (sqlite3_prepare_v2(db_, sql, -1, st.out(), nullptr) != SQLITE_OK) return error("preparing a query");
    return ok_status();
  }
  static void bind_text(Statement& st, int index, std::string_view text) {
    sqlite3_bind_text(st.get(), index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  }

  sqlite3* db_;
  std::filesystem::path path_;
  Statement select_modified_, insert_record_, delete_packages_, insert_package_, select_for_package_, select_next_ecosystem_;
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
  sqlite3* db = nullptr;
  int flags = create ? (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) : SQLITE_OPEN_READONLY;
  if (sqlite3_open_v2(file.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return io_error(fmt::format("{}: {}", file.string(), msg));
  }
  sqlite3_busy_timeout(db, 5000);
  auto store = std::make_unique<SqliteStore>(db, file);
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
