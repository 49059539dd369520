// PostgreSQL log storage (libpq): one writer connection, a pool of reader connections. A batch is
// one transaction; COMMIT returns once the server has flushed it (synchronous_commit is forced on
// for the writer's session).
#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include <fmt/format.h>

#include "vouch/db/postgres.h"
#include "vouch/tlog/storage.h"

namespace vouch::tlog {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS tlog_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tlog_entries (
  idx BIGINT PRIMARY KEY,
  leaf_hash BYTEA NOT NULL UNIQUE,
  body BYTEA NOT NULL,
  integrated_time BIGINT NOT NULL,
  set_sig BYTEA NOT NULL
);
CREATE TABLE IF NOT EXISTS tlog_nodes (level SMALLINT NOT NULL, idx BIGINT NOT NULL, hash BYTEA NOT NULL,
  PRIMARY KEY (level, idx));
CREATE TABLE IF NOT EXISTS tlog_search (key TEXT NOT NULL, idx BIGINT NOT NULL, PRIMARY KEY (key, idx));
CREATE TABLE IF NOT EXISTS tlog_checkpoints (size BIGINT PRIMARY KEY, note TEXT NOT NULL);
)sql";

using db::PgConnection;
using db::PgParam;
using db::PgResult;

class PostgresStorage final : public LogStorage {
 public:
  PostgresStorage(std::string url, PgConnection writer) : url_(std::move(url)), writer_(std::move(writer)) {}

  Status init() {
    std::lock_guard lock(write_mu_);
    Status st = writer_.exec_script(kSchema);
    if (!st.ok()) return std::move(st).error().context("creating tables");
    return ok_status();
  }

  Result<std::optional<std::string>> get_setting(const std::string& name) override {
    VOUCH_ASSIGN_OR_RETURN(Reader c, reader());
    VOUCH_ASSIGN_OR_RETURN(PgResult r, c->exec("SELECT value FROM tlog_settings WHERE name = $1", {PgParam::text(name)}));
    if (r.rows() == 0) return std::optional<std::string>();
    return std::optional<std::string>(r.text(0, 0));
  }

  Status put_setting(const std::string& name, const std::string& value) override {
    std::lock_guard lock(write_mu_);
    auto r = writer_.exec(
        "INSERT INTO tlog_settings(name, value) VALUES($1, $2) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
        {PgParam::text(name), PgParam::text(value)});
    return r.ok() ? ok_status() : Status(std::move(r).error());
  }

  Result<uint64_t> size() override {
    VOUCH_ASSIGN_OR_RETURN(Reader c, reader());
    return size_on(*c);
  }

  Status append(const Batch& batch) override {
    std::lock_guard lock(write_mu_);
    if (!writer_.healthy()) writer_.reset();
    VOUCH_ASSIGN_OR_RETURN(db::PgTransaction tx, db::PgTransaction::begin(writer_));
    VOUCH_RETURN_IF_ERROR(append_locked(writer_, batch));
    return tx.commit();
  }

  Result<std::optional<StoredEntry>> entry(uint64_t index) override {
    VOUCH_ASSIGN_OR_RETURN(Reader c, reader());
    VOUCH_ASSIGN_OR_RETURN(PgResult r, c->exec("SELECT leaf_hash, body, integrated_time, set_sig FROM tlog_entries WHERE idx = $1",
                                               {PgParam::num(static_cast<int64_t>(index))}));
    if (r.rows() == 0) return std::optional<StoredEntry>();
    StoredEntry e;
    e.index = index;
    e.leaf_hash = r.bytea(0, 0);
    e.body = to_string(r.bytea(0, 1));
    e.integrated_time = r.num(0, 2);
    e.signed_entry_timestamp = r.bytea(0, 3);
    return std::optional<StoredEntry>(std::move(e));
  }

  Result<std::optional<uint64_t>> index_of(ByteView leaf_hash) override {
    VOUCH_ASSIGN_OR_RETURN(Reader c, reader());
    VOUCH_ASSIGN_OR_RETURN(PgResult r, c->exec("SELECT idx FROM tlog_entries WHERE leaf_hash = $1", {PgParam::blob(leaf_hash)}));
    if (r.rows() == 0) return std::optional<uint64_t>();
    return std::optional<uint64_t>(static_cast<uint64_t>(r.num(0, 0)));
  }

  // All the nodes of a proof in one round trip.
  Result<std::vector<Bytes>> nodes(const std::vector<NodeId>& ids) override {
    if (ids.empty()) return std::vector<Bytes>();
    VOUCH_ASSIGN_OR_RETURN(Reader c, reader());
    std::string levels = "{", indexes = "{";
    for (size_t i = 0; i < ids.size(); ++i) {
      levels += fmt::format("{}{}", i ? "," : "", ids[i].level);
      indexes += fmt::format("{}{}", i ? "," : "", ids[i].index);
    }
    levels += "}";
    indexes += "}";
    VOUCH_ASSIGN_OR_RETURN(PgResult r, c->exec("SELECT level, idx, hash FROM tlog_nodes WHERE (level, idx) IN "
                                               "(SELECT * FROM unnest($1::smallint[], $2::bigint[]))",
                                               {PgParam::text(levels), PgParam::text(indexes)}));
    std::map<std::pair<int64_t, int64_t>, Bytes> found;
    for (int i = 0; i < r.rows(); ++i) found[{r.num(i, 0), r.num(i, 1)}] = r.bytea(i, 2);
    std::vector<Bytes> out;
    out.reserve(ids.size());
    for (const NodeId& id : ids) {
      auto it = found.find({id.level, static_cast<int64_t>(id.index)});
      if (it == found.end()) return not_found(fmt::format("log storage: no node at level {} index {}", id.level, id.index));
      out.push_back(it->second);
    }
    return out;
  }

  Result<std::vector<uint64_t>> search(const std::string& key, size_t limit) override {
    VOUCH_ASSIGN_OR_RETURN(Reader c, reader());
    VOUCH_ASSIGN_OR_RETURN(PgResult r, c->exec("SELECT idx FROM tlog_search WHERE key = $1 ORDER BY idx LIMIT $2",
                                               {PgParam::text(key), PgParam::num(static_cast<int64_t>(limit))}));
    std::vector<uint64_t> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(static_cast<uint64_t>(r.num(i, 0)));
    return out;
  }

  Result<std::optional<std::string>> latest_checkpoint() override {
    VOUCH_ASSIGN_OR_RETURN(Reader c, reader());
    VOUCH_ASSIGN_OR_RETURN(PgResult r, c->exec("SELECT note FROM tlog_checkpoints ORDER BY size DESC LIMIT 1"));
    if (r.rows() == 0) return std::optional<std::string>();
    return std::optional<std::string>(r.text(0, 0));
  }

 private:
  // A reader connection borrowed from the pool for the lifetime of this object.
  class Reader {
   public:
    Reader(PostgresStorage* o, PgConnection c) : owner_(o), conn_(std::move(c)), valid_(true) {}
    Reader(Reader&& other) noexcept : owner_(other.owner_), conn_(std::move(other.conn_)), valid_(other.valid_) {
      other.valid_ = false;
    }
    Reader& operator=(Reader&&) = delete;
    ~Reader() {
      if (valid_) owner_->release(std::move(conn_));
    }
    PgConnection* operator->() { return &conn_; }
    PgConnection& operator*() { return conn_; }

   private:
    PostgresStorage* owner_;
    PgConnection conn_;
    bool valid_;
  };

  Result<Reader> reader() {
    {
      std::lock_guard lock(pool_mu_);
      while (!pool_.empty()) {
        PgConnection c = std::move(pool_.back());
        pool_.pop_back();
        if (c.healthy()) return Reader(this, std::move(c));
      }
    }
    VOUCH_ASSIGN_OR_RETURN(PgConnection c, PgConnection::connect(url_));
    return Reader(this, std::move(c));
  }
  void release(PgConnection c) {
    std::lock_guard lock(pool_mu_);
    if (pool_.size() < 16 && c.healthy()) pool_.push_back(std::move(c));
  }

  static Result<uint64_t> size_on(PgConnection& c) {
    VOUCH_ASSIGN_OR_RETURN(PgResult r, c.exec("SELECT COALESCE(MAX(idx) + 1, 0) FROM tlog_entries"));
    return static_cast<uint64_t>(r.num(0, 0));
  }

  Status append_locked(PgConnection& c, const Batch& batch) {
    VOUCH_ASSIGN_OR_RETURN(uint64_t size, size_on(c));
    for (const auto& [name, value] : batch.settings) {
      auto r = c.exec(
          "INSERT INTO tlog_settings(name, value) VALUES($1, $2) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
          {PgParam::text(name), PgParam::text(value)});
      if (!r.ok()) return std::move(r).error();
    }
    if (!batch.entries.empty() && batch.entries.front().index != size)
      return internal_error(fmt::format("log storage: batch starts at index {} but the log has {} entries",
                                        batch.entries.front().index, size));
    // One multi-row INSERT per table and chunk: a batch costs a handful of round trips.
    auto insert_rows = [&](const char* head, const char* tail, size_t columns, size_t rows,
                           const std::function<void(size_t, std::vector<PgParam>&)>& row) -> Status {
      const size_t chunk = 60000 / columns;  // PostgreSQL allows 65535 parameters
      for (size_t start = 0; start < rows; start += chunk) {
        size_t n = std::min(chunk, rows - start);
        std::string sql = head;
        std::vector<PgParam> params;
        for (size_t i = 0; i < n; ++i) {
          sql += i ? ",(" : "(";
          for (size_t k = 0; k < columns; ++k) sql += fmt::format("{}${}", k ? "," : "", i * columns + k + 1);
          sql += ")";
          row(start + i, params);
        }
        sql += tail;
        auto r = c.exec(sql, params);
        if (!r.ok()) return std::move(r).error();
      }
      return ok_status();
    };
    VOUCH_RETURN_IF_ERROR(insert_rows(
        "INSERT INTO tlog_entries(idx, leaf_hash, body, integrated_time, set_sig) VALUES ", "", 5, batch.entries.size(),
        [&](size_t i, std::vector<PgParam>& p) {
          const StoredEntry& e = batch.entries[i];
          p.push_back(PgParam::num(static_cast<int64_t>(e.index)));
          p.push_back(PgParam::blob(e.leaf_hash));
          p.push_back(PgParam::blob(as_bytes(e.body)));
          p.push_back(PgParam::num(e.integrated_time));
          p.push_back(PgParam::blob(e.signed_entry_timestamp));
        }));
    std::vector<std::pair<const std::string*, uint64_t>> keys;
    for (const StoredEntry& e : batch.entries)
      for (const std::string& k : e.index_keys) keys.emplace_back(&k, e.index);
    VOUCH_RETURN_IF_ERROR(insert_rows("INSERT INTO tlog_search(key, idx) VALUES ", " ON CONFLICT DO NOTHING", 2, keys.size(),
                                      [&](size_t i, std::vector<PgParam>& p) {
                                        p.push_back(PgParam::text(*keys[i].first));
                                        p.push_back(PgParam::num(static_cast<int64_t>(keys[i].second)));
                                      }));
    VOUCH_RETURN_IF_ERROR(insert_rows("INSERT INTO tlog_nodes(level, idx, hash) VALUES ",
                                      " ON CONFLICT (level, idx) DO UPDATE SET hash = excluded.hash", 3, batch.nodes.size(),
                                      [&](size_t i, std::vector<PgParam>& p) {
                                        const StoredNode& n = batch.nodes[i];
                                        p.push_back(PgParam::num(n.id.level));
                                        p.push_back(PgParam::num(static_cast<int64_t>(n.id.index)));
                                        p.push_back(PgParam::blob(n.hash));
                                      }));
    if (!batch.checkpoint.empty()) {
      auto r = c.exec("INSERT INTO tlog_checkpoints(size, note) VALUES($1, $2) ON CONFLICT (size) DO UPDATE SET note = excluded.note",
                      {PgParam::num(static_cast<int64_t>(size + batch.entries.size())), PgParam::text(batch.checkpoint)});
      if (!r.ok()) return std::move(r).error();
    }
    return ok_status();
  }

  std::string url_;
  PgConnection writer_;
  std::mutex write_mu_;
  std::mutex pool_mu_;
  std::vector<PgConnection> pool_;
};

}  // namespace

Result<std::unique_ptr<LogStorage>> open_postgres_storage(const std::string& url) {
  VOUCH_ASSIGN_OR_RETURN(PgConnection c, PgConnection::connect(url));
  auto storage = std::make_unique<PostgresStorage>(url, std::move(c));
  VOUCH_RETURN_IF_ERROR(storage->init());
  return std::unique_ptr<LogStorage>(std::move(storage));
}

}  // namespace vouch::tlog
