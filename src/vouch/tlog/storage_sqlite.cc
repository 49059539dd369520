// SQLite log storage: one writer connection, a pool of reader connections (WAL lets readers
// proceed while a batch commits), synchronous=FULL so that a commit is fsync'd.
#include <sqlite3.h>

#include <mutex>

#include <fmt/format.h>

#include "vouch/tlog/storage.h"

namespace vouch::tlog {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
  idx INTEGER PRIMARY KEY,
  leaf_hash BLOB NOT NULL UNIQUE,
  body BLOB NOT NULL,
  integrated_time INTEGER NOT NULL,
  set_sig BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
  PRIMARY KEY (level, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS search (key TEXT NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY (key, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (size INTEGER PRIMARY KEY, note TEXT NOT NULL);
)sql";

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() { return stmt_; }
  void bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void bind(int i, ByteView b) { sqlite3_bind_blob(stmt_, i, b.data(), static_cast<int>(b.size()), SQLITE_TRANSIENT); }
  void bind_text(int i, std::string_view s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }
  int step() { return sqlite3_step(stmt_); }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  int64_t col_int(int i) { return sqlite3_column_int64(stmt_, i); }
  Bytes col_blob(int i) {
    auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, i));
    return Bytes(p, p + sqlite3_column_bytes(stmt_, i));
  }
  std::string col_text(int i) {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, i))) : std::string();
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

Error db_error(sqlite3* db, std::string_view what) {
  return io_error(fmt::format("sqlite: {}: {}", what, sqlite3_errmsg(db)));
}

Status exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return io_error(fmt::format("sqlite: {}", msg));
  }
  return ok_status();
}

Result<sqlite3*> open_connection(const std::string& path, bool writer) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_NOMUTEX | (writer ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY);
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    Error e = db_error(db, fmt::format("open {}", path));
    sqlite3_close(db);
    return e;
  }
  sqlite3_busy_timeout(db, 10000);
  Status st = exec(db, writer ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                              : "PRAGMA query_only=ON;");
  if (!st.ok()) {
    sqlite3_close(db);
    return std::move(st).error();
  }
  return db;
}

class SqliteStorage final : public LogStorage {
 public:
  explicit SqliteStorage(std::string path, sqlite3* writer) : path_(std::move(path)), writer_(writer) {}
  ~SqliteStorage() override {
    for (sqlite3* r : readers_) sqlite3_close(r);
    sqlite3_close(writer_);
  }

  Status init() { return exec(writer_, kSchema); }

  Result<std::optional<std::string>> get_setting(const std::string& name) override {
    VOUCH_ASSIGN_OR_RETURN(Reader r, reader());
    Stmt s(r.db, "SELECT value FROM settings WHERE name = ?");
    if (!s.ok()) return db_error(r.db, "prepare");
    s.bind_text(1, name);
    int rc = s.step();
    if (rc == SQLITE_ROW) return std::optional<std::string>(s.col_text(0));
    if (rc == SQLITE_DONE) return std::optional<std::string>();
    return db_error(r.db, "read setting");
  }

  Status put_setting(const std::string& name, const std::string& value) override {
    std::lock_guard lock(write_mu_);
    Stmt s(writer_, "INSERT INTO settings(name, value) VALUES(?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value");
    if (!s.ok()) return db_error(writer_, "prepare");
    s.bind_text(1, name);
    s.bind_text(2, value);
    if (s.step() != SQLITE_DONE) return db_error(writer_, "write setting");
    return ok_status();
  }

  Result<uint64_t> size() override {
    VOUCH_ASSIGN_OR_RETURN(Reader r, reader());
    return size_on(r.db);
  }

  Status append(const Batch& batch) override {
    std::lock_guard lock(write_mu_);
    VOUCH_RETURN_IF_ERROR(exec(writer_, "BEGIN IMMEDIATE"));
    Status st = append_locked(batch);
    if (!st.ok()) {
      (void)exec(writer_, "ROLLBACK");
      return st;
    }
    return exec(writer_, "COMMIT");
  }

  Result<std::optional<StoredEntry>> entry(uint64_t index) override {
    VOUCH_ASSIGN_OR_RETURN(Reader r, reader());
    Stmt s(r.db, "SELECT leaf_hash, body, integrated_time, set_sig FROM entries WHERE idx = ?");
    if (!s.ok()) return db_error(r.db, "prepare");
    s.bind(1, static_cast<int64_t>(index));
    int rc = s.step();
    if (rc == SQLITE_DONE) return std::optional<StoredEntry>();
    if (rc != SQLITE_ROW) return db_error(r.db, "read entry");
    StoredEntry e;
    e.index = index;
    e.leaf_hash = s.col_blob(0);
    e.body = to_string(s.col_blob(1));
    e.integrated_time = s.col_int(2);
    e.signed_entry_timestamp = s.col_blob(3);
    return std::optional<StoredEntry>(std::move(e));
  }

  Result<std::optional<uint64_t>> index_of(ByteView leaf_hash) override {
    VOUCH_ASSIGN_OR_RETURN(Reader r, reader());
    Stmt s(r.db, "SELECT idx FROM entries WHERE leaf_hash = ?");
    if (!s.ok()) return db_error(r.db, "prepare");
    s.bind(1, leaf_hash);
    int rc = s.step();
    if (rc == SQLITE_DONE) return std::optional<uint64_t>();
    if (rc != SQLITE_ROW) return db_error(r.db, "read entry");
    return std::optional<uint64_t>(static_cast<uint64_t>(s.col_int(0)));
  }

  Result<std::vector<Bytes>> nodes(const std::vector<NodeId>& ids) override {
    VOUCH_ASSIGN_OR_RETURN(Reader r, reader());
    Stmt s(r.db, "SELECT hash FROM nodes WHERE level = ? AND idx = ?");
    if (!s.ok()) return db_error(r.db, "prepare");
    std::vector<Bytes> out;
    out.reserve(ids.size());
    for (const NodeId& id : ids) {
      s.reset();
      s.bind(1, id.level);
      s.bind(2, static_cast<int64_t>(id.index));
      int rc = s.step();
      if (rc == SQLITE_DONE) return not_found(fmt::format("log storage: no node at level {} index {}", id.level, id.index));
      if (rc != SQLITE_ROW) return db_error(r.db, "read node");
      out.push_back(s.col_blob(0));
    }
    return out;
  }

  Result<std::vector<uint64_t>> search(const std::string& key, size_t limit) override {
    VOUCH_ASSIGN_OR_RETURN(Reader r, reader());
    Stmt s(r.db, "SELECT idx FROM search WHERE key = ? ORDER BY idx LIMIT ?");
    if (!s.ok()) return db_error(r.db, "prepare");
    s.bind_text(1, key);
    s.bind(2, static_cast<int64_t>(limit));
    std::vector<uint64_t> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) out.push_back(static_cast<uint64_t>(s.col_int(0)));
    if (rc != SQLITE_DONE) return db_error(r.db, "search");
    return out;
  }

  Result<std::optional<std::string>> latest_checkpoint() override {
    VOUCH_ASSIGN_OR_RETURN(Reader r, reader());
    Stmt s(r.db, "SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1");
    if (!s.ok()) return db_error(r.db, "prepare");
    int rc = s.step();
    if (rc == SQLITE_DONE) return std::optional<std::string>();
    if (rc != SQLITE_ROW) return db_error(r.db, "read checkpoint");
    return std::optional<std::string>(s.col_text(0));
  }

 private:
  // A reader connection borrowed from the pool for the lifetime of this object.
  struct Reader {
    SqliteStorage* owner = nullptr;
    sqlite3* db = nullptr;
    Reader(SqliteStorage* o, sqlite3* d) : owner(o), db(d) {}
    Reader(Reader&& other) noexcept : owner(other.owner), db(other.db) { other.db = nullptr; }
    Reader& operator=(Reader&&) = delete;
    ~Reader() {
      if (db) owner->release(db);
    }
  };

  Result<Reader> reader() {
    {
      std::lock_guard lock(pool_mu_);
      if (!readers_.empty()) {
        sqlite3* db = readers_.back();
        readers_.pop_back();
        return Reader(this, db);
      }
    }
    VOUCH_ASSIGN_OR_RETURN(sqlite3 * db, open_connection(path_, false));
    return Reader(this, db);
  }
  void release(sqlite3* db) {
    std::lock_guard lock(pool_mu_);
    if (readers_.size() < 16) {
      readers_.push_back(db);
    } else {
      sqlite3_close(db);
    }
  }

  Result<uint64_t> size_on(sqlite3* db) {
    Stmt s(db, "SELECT COALESCE(MAX(idx) + 1, 0) FROM entries");
    if (!s.ok() || s.step() != SQLITE_ROW) return db_error(db, "count entries");
    return static_cast<uint64_t>(s.col_int(0));
  }

  Status append_locked(const Batch& batch) {
    VOUCH_ASSIGN_OR_RETURN(uint64_t size, size_on(writer_));
    if (!batch.entries.empty() && batch.entries.front().index != size)
      return internal_error(fmt::format("log storage: batch starts at index {} but the log has {} entries",
                                        batch.entries.front().index, size));
    Stmt ins(writer_, "INSERT INTO entries(idx, leaf_hash, body, integrated_time, set_sig) VALUES(?, ?, ?, ?, ?)");
    Stmt node(writer_, "INSERT OR REPLACE INTO nodes(level, idx, hash) VALUES(?, ?, ?)");
    Stmt key(writer_, "INSERT OR IGNORE INTO search(key, idx) VALUES(?, ?)");
    Stmt cp(writer_, "INSERT OR REPLACE INTO checkpoints(size, note) VALUES(?, ?)");
    if (!ins.ok() || !node.ok() || !key.ok() || !cp.ok()) return db_error(writer_, "prepare");
    for (const StoredEntry& e : batch.entries) {
      ins.reset();
      ins.bind(1, static_cast<int64_t>(e.index));
      ins.bind(2, e.leaf_hash);
      ins.bind(3, as_bytes(e.body));
      ins.bind(4, e.integrated_time);
      ins.bind(5, e.signed_entry_timestamp);
      if (ins.step() != SQLITE_DONE) return db_error(writer_, fmt::format("insert entry {}", e.index));
      for (const std::string& k : e.index_keys) {
        key.reset();
        key.bind_text(1, k);
        key.bind(2, static_cast<int64_t>(e.index));
        if (key.step() != SQLITE_DONE) return db_error(writer_, "insert search key");
      }
    }
    for (const StoredNode& n : batch.nodes) {
      node.reset();
      node.bind(1, n.id.level);
      node.bind(2, static_cast<int64_t>(n.id.index));
      node.bind(3, n.hash);
      if (node.step() != SQLITE_DONE) return db_error(writer_, "insert node");
    }
    if (!batch.checkpoint.empty()) {
      cp.bind(1, static_cast<int64_t>(size + batch.entries.size()));
      cp.bind_text(2, batch.checkpoint);
      if (cp.step() != SQLITE_DONE) return db_error(writer_, "insert checkpoint");
    }
    return ok_status();
  }

  std::string path_;
  sqlite3* writer_;
  std::mutex write_mu_;
  std::mutex pool_mu_;
  std::vector<sqlite3*> readers_;
};

}  // namespace

Result<std::unique_ptr<LogStorage>> open_sqlite_storage(const std::string& path) {
  VOUCH_ASSIGN_OR_RETURN(sqlite3 * db, open_connection(path, true));
  auto storage = std::make_unique<SqliteStorage>(path, db);
  VOUCH_RETURN_IF_ERROR(storage->init());
  return std::unique_ptr<LogStorage>(std::move(storage));
}

Result<std::unique_ptr<LogStorage>> open_storage(const std::string& url) {
  std::string_view u = url;
  if (u.starts_with("sqlite:")) return open_sqlite_storage(std::string(u.substr(7)));
  if (u.starts_with("postgres://") || u.starts_with("postgresql://")) return open_postgres_storage(url);
  if (u.find("://") != std::string_view::npos)
    return invalid_input(fmt::format("storage '{}': unsupported (use sqlite:PATH or postgres://…)", url));
  return open_sqlite_storage(url);
}

}  // namespace vouch::tlog
