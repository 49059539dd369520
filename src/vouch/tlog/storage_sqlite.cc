// SQLite log storage: one writer connection, a pool of reader connections (WAL lets readers
// proceed while a batch commits), synchronous=FULL so that a commit is fsync'd.
#include <memory>
#include <mutex>

#include <fmt/format.h>

#include "vouch/db/sqlite.h"
#include "vouch/tlog/storage.h"

namespace vouch::tlog {
namespace {

using db::SqliteConnection;
using db::SqliteStatement;

// Schema versions (PRAGMA user_version); version 1 is the schema logs had before it was
// numbered, so its statements tolerate tables that exist.
constexpr std::string_view kMigrations[] = {
    R"sql(
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
)sql",
};

Result<SqliteConnection> open_connection(const std::string& path, bool writer) {
  VOUCH_ASSIGN_OR_RETURN(SqliteConnection c,
                         SqliteConnection::open(path, {.writable = writer, .create = writer, .busy_timeout_ms = 10000}));
  // The writer's page cache holds the index pages that every batch updates at random places
  // (leaf hashes, search keys): 32 MiB holds them for logs of a few hundred thousand entries;
  // beyond that the pages come from the operating system's cache.
  VOUCH_RETURN_IF_ERROR(c.exec_script(writer ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; "
                                               "PRAGMA cache_size=-32768;"
                                             : "PRAGMA query_only=ON;"));
  return c;
}

Result<uint64_t> size_on(const SqliteConnection& c) {
  VOUCH_ASSIGN_OR_RETURN(SqliteStatement s, c.prepare("SELECT COALESCE(MAX(idx) + 1, 0) FROM entries"));
  VOUCH_ASSIGN_OR_RETURN(bool row, s.step());
  if (!row) return c.error("count entries");
  return static_cast<uint64_t>(s.column_int(0));
}

class SqliteStorage final : public LogStorage {
 public:
  SqliteStorage(std::string path, SqliteConnection writer) : path_(std::move(path)), writer_(std::move(writer)) {}

  Status init() { return writer_.migrate(kMigrations); }

  Result<std::optional<std::string>> get_setting(const std::string& name) override {
    VOUCH_ASSIGN_OR_RETURN(Reader r, reader());
    VOUCH_ASSIGN_OR_RETURN(SqliteStatement s, r.db().prepare("SELECT value FROM settings WHERE name = ?"));
    s.bind_text(1, name);
    VOUCH_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) return std::optional<std::string>();
    return std::optional<std::string>(s.column_text(0));
  }

  Status put_setting(const std::string& name, const std::string& value) override {
    std::lock_guard lock(write_mu_);
    VOUCH_ASSIGN_OR_RETURN(SqliteStatement s, writer_.prepare("INSERT INTO settings(name, value) VALUES(?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value"));
    s.bind_text(1, name).bind_text(2, value);
    return s.run();
  }

  Result<uint64_t> size() override {
    VOUCH_ASSIGN_OR_RETURN(Reader r, reader());
    return size_on(r.db());
  }

  Status append(const Batch& batch) override {
    std::lock_guard lock(write_mu_);
    VOUCH_ASSIGN_OR_RETURN(db::SqliteTransaction tx, db::SqliteTransaction::begin(writer_));
    Status written = append_locked(batch);
    // No statement stays active past the transaction (a failed one is rolled back cleanly).
    if (statements_) {
      for (SqliteStatement* st : {&statements_->size, &statements_->setting, &statements_->entry, &statements_->node,
                                  &statements_->key, &statements_->checkpoint})
        st->reset();
    }
    VOUCH_RETURN_IF_ERROR(written);
    return tx.commit();
  }

  Result<std::optional<StoredEntry>> entry(uint64_t index) override {
    VOUCH_ASSIGN_OR_RETURN(Reader r, reader());
    VOUCH_ASSIGN_OR_RETURN(SqliteStatement s,
                           r.db().prepare("SELECT leaf_hash, body, integrated_time, set_sig FROM entries WHERE idx = ?"));
    s.bind(1, static_cast<int64_t>(index));
    VOUCH_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) return std::optional<StoredEntry>();
    StoredEntry e;
    e.index = index;
    e.leaf_hash = s.column_blob(0);
    e.body = to_string(s.column_blob(1));
    e.integrated_time = s.column_int(2);
    e.signed_entry_timestamp = s.column_blob(3);
    return std::optional<StoredEntry>(std::move(e));
  }

  Result<std::optional<uint64_t>> index_of(ByteView leaf_hash) override {
    VOUCH_ASSIGN_OR_RETURN(Reader r, reader());
    VOUCH_ASSIGN_OR_RETURN(SqliteStatement s, r.db().prepare("SELECT idx FROM entries WHERE leaf_hash = ?"));
    s.bind(1, leaf_hash);
    VOUCH_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) return std::optional<uint64_t>();
    return std::optional<uint64_t>(static_cast<uint64_t>(s.column_int(0)));
  }

  Result<std::vector<std::optional<uint64_t>>> indexes_of(const std::vector<Bytes>& leaf_hashes) override {
    VOUCH_ASSIGN_OR_RETURN(Reader r, reader());
    VOUCH_ASSIGN_OR_RETURN(SqliteStatement s, r.db().prepare("SELECT idx FROM entries WHERE leaf_hash = ?"));
    std::vector<std::optional<uint64_t>> out;
    out.reserve(leaf_hashes.size());
    for (const Bytes& leaf : leaf_hashes) {
      s.reset();
      s.bind(1, leaf);
      VOUCH_ASSIGN_OR_RETURN(bool row, s.step());
      out.push_back(row ? std::optional<uint64_t>(static_cast<uint64_t>(s.column_int(0))) : std::nullopt);
    }
    return out;
  }

  Result<std::vector<Bytes>> nodes(const std::vector<NodeId>& ids) override {
    VOUCH_ASSIGN_OR_RETURN(Reader r, reader());
    VOUCH_ASSIGN_OR_RETURN(SqliteStatement s, r.db().prepare("SELECT hash FROM nodes WHERE level = ? AND idx = ?"));
    std::vector<Bytes> out;
    out.reserve(ids.size());
    for (const NodeId& id : ids) {
      s.reset();
      s.bind(1, id.level).bind(2, static_cast<int64_t>(id.index));
      VOUCH_ASSIGN_OR_RETURN(bool row, s.step());
      if (!row) return not_found(fmt::format("log storage: no node at level {} index {}", id.level, id.index));
      out.push_back(s.column_blob(0));
    }
    return out;
  }

  Result<std::vector<uint64_t>> search(const std::string& key, size_t limit) override {
    VOUCH_ASSIGN_OR_RETURN(Reader r, reader());
    VOUCH_ASSIGN_OR_RETURN(SqliteStatement s, r.db().prepare("SELECT idx FROM search WHERE key = ? ORDER BY idx LIMIT ?"));
    s.bind_text(1, key).bind(2, static_cast<int64_t>(limit));
    std::vector<uint64_t> out;
    for (;;) {
      VOUCH_ASSIGN_OR_RETURN(bool row, s.step());
      if (!row) break;
      out.push_back(static_cast<uint64_t>(s.column_int(0)));
    }
    return out;
  }

  Result<std::optional<std::string>> latest_checkpoint() override {
    VOUCH_ASSIGN_OR_RETURN(Reader r, reader());
    VOUCH_ASSIGN_OR_RETURN(SqliteStatement s, r.db().prepare("SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1"));
    VOUCH_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) return std::optional<std::string>();
    return std::optional<std::string>(s.column_text(0));
  }

 private:
  // A reader connection borrowed from the pool for the lifetime of this object.
  class Reader {
   public:
    Reader(SqliteStorage* owner, SqliteConnection c) : owner_(owner), conn_(std::move(c)) {}
    Reader(Reader&&) noexcept = default;
    Reader& operator=(Reader&&) = delete;
    ~Reader() {
      if (conn_.is_open()) owner_->release(std::move(conn_));
    }
    SqliteConnection& db() { return conn_; }

   private:
    SqliteStorage* owner_;
    SqliteConnection conn_;
  };

  Result<Reader> reader() {
    {
      std::lock_guard lock(pool_mu_);
      if (!readers_.empty()) {
        SqliteConnection c = std::move(readers_.back());
        readers_.pop_back();
        return Reader(this, std::move(c));
      }
    }
    VOUCH_ASSIGN_OR_RETURN(SqliteConnection c, open_connection(path_, false));
    return Reader(this, std::move(c));
  }
  void release(SqliteConnection c) {
    std::lock_guard lock(pool_mu_);
    if (readers_.size() < 16) readers_.push_back(std::move(c));
  }

  // The writer's statements, prepared on first use and kept: a batch costs no parsing.
  struct WriterStatements {
    SqliteStatement size, setting, entry, node, key, checkpoint;
  };

  Result<WriterStatements*> writer_statements() {
    if (!statements_) {
      WriterStatements w;
      VOUCH_ASSIGN_OR_RETURN(w.size, writer_.prepare("SELECT COALESCE(MAX(idx) + 1, 0) FROM entries"));
      VOUCH_ASSIGN_OR_RETURN(w.setting, writer_.prepare("INSERT INTO settings(name, value) VALUES(?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value"));
      VOUCH_ASSIGN_OR_RETURN(w.entry, writer_.prepare("INSERT INTO entries(idx, leaf_hash, body, integrated_time, set_sig) VALUES(?, ?, ?, ?, ?)"));
      VOUCH_ASSIGN_OR_RETURN(w.node, writer_.prepare("INSERT OR REPLACE INTO nodes(level, idx, hash) VALUES(?, ?, ?)"));
      VOUCH_ASSIGN_OR_RETURN(w.key, writer_.prepare("INSERT OR IGNORE INTO search(key, idx) VALUES(?, ?)"));
      VOUCH_ASSIGN_OR_RETURN(w.checkpoint, writer_.prepare("INSERT OR REPLACE INTO checkpoints(size, note) VALUES(?, ?)"));
      statements_ = std::make_unique<WriterStatements>(std::move(w));
    }
    return statements_.get();
  }

  // One prepared-statement loop per table inside the batch's transaction (SQLite runs in
  // process: a statement costs no round trip).
  Status append_locked(const Batch& batch) {
    VOUCH_ASSIGN_OR_RETURN(WriterStatements * w, writer_statements());
    w->size.reset();
    VOUCH_ASSIGN_OR_RETURN(bool counted, w->size.step());
    if (!counted) return writer_.error("count entries");
    const auto size = static_cast<uint64_t>(w->size.column_int(0));
    for (const auto& [name, value] : batch.settings) {
      w->setting.reset();
      w->setting.bind_text(1, name).bind_text(2, value);
      VOUCH_RETURN_IF_ERROR(w->setting.run());
    }
    if (!batch.entries.empty() && batch.entries.front().index != size)
      return internal_error(fmt::format("log storage: batch starts at index {} but the log has {} entries",
                                        batch.entries.front().index, size));
    for (const StoredEntry& e : batch.entries) {
      w->entry.reset();
      w->entry.bind(1, static_cast<int64_t>(e.index))
          .bind(2, e.leaf_hash)
          .bind(3, as_bytes(e.body))
          .bind(4, e.integrated_time)
          .bind(5, e.signed_entry_timestamp);
      VOUCH_RETURN_IF_ERROR(w->entry.run());
      for (const std::string& k : e.index_keys) {
        w->key.reset();
        w->key.bind_text(1, k).bind(2, static_cast<int64_t>(e.index));
        VOUCH_RETURN_IF_ERROR(w->key.run());
      }
    }
    for (const StoredNode& n : batch.nodes) {
      w->node.reset();
      w->node.bind(1, n.id.level).bind(2, static_cast<int64_t>(n.id.index)).bind(3, n.hash);
      VOUCH_RETURN_IF_ERROR(w->node.run());
    }
    if (!batch.checkpoint.empty()) {
      w->checkpoint.reset();
      w->checkpoint.bind(1, static_cast<int64_t>(size + batch.entries.size())).bind_text(2, batch.checkpoint);
      VOUCH_RETURN_IF_ERROR(w->checkpoint.run());
    }
    return ok_status();
  }

  std::string path_;
  SqliteConnection writer_;
  std::mutex write_mu_;
  std::unique_ptr<WriterStatements> statements_;  // guarded by write_mu_
  std::mutex pool_mu_;
  std::vector<SqliteConnection> readers_;
};

}  // namespace

Result<std::unique_ptr<LogStorage>> open_sqlite_storage(const std::string& path) {
  VOUCH_ASSIGN_OR_RETURN(SqliteConnection writer, open_connection(path, true));
  auto storage = std::make_unique<SqliteStorage>(path, std::move(writer));
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
