// PostgreSQL log storage (libpq): one writer connection, a pool of reader connections. A batch is
// one transaction; COMMIT returns once the server has flushed it (synchronous_commit is forced on
// for the writer's session).
#include <libpq-fe.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <mutex>

#include <fmt/format.h>

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

using ConnPtr = std::unique_ptr<PGconn, decltype(&PQfinish)>;
using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

// One parameter: text (integers, strings) or binary (bytea).
struct Param {
  std::string value;
  bool binary = false;
  static Param text(std::string s) { return {std::move(s), false}; }
  static Param num(int64_t v) { return {std::to_string(v), false}; }
  static Param blob(ByteView b) { return {std::string(as_chars(b)), true}; }
};

Result<ResultPtr> exec(PGconn* c, const char* sql, const std::vector<Param>& params = {}) {
  std::vector<const char*> values;
  std::vector<int> lengths, formats;
  for (const Param& p : params) {
    values.push_back(p.value.data());
    lengths.push_back(static_cast<int>(p.value.size()));
    formats.push_back(p.binary ? 1 : 0);
  }
  ResultPtr r(PQexecParams(c, sql, static_cast<int>(params.size()), nullptr, values.data(), lengths.data(),
                           formats.data(), 0),
              &PQclear);
  auto status = PQresultStatus(r.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    std::string msg = PQresultErrorMessage(r.get());
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return io_error(fmt::format("postgres: {}", msg));
  }
  return r;
}

Bytes bytea(PGresult* r, int row, int col) {
  size_t len = 0;
  unsigned char* p = PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(r, row, col)), &len);
  Bytes out(p, p + len);
  PQfreemem(p);
  return out;
}

int64_t num(PGresult* r, int row, int col) { return std::stoll(PQgetvalue(r, row, col)); }

Result<ConnPtr> connect(const std::string& url) {
  ConnPtr c(PQconnectdb(url.c_str()), &PQfinish);
  if (!c || PQstatus(c.get()) != CONNECTION_OK) {
    std::string msg = c ? PQerrorMessage(c.get()) : "out of memory";
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return io_error(fmt::format("postgres: connect: {}", msg));
  }
  VOUCH_RETURN_IF_ERROR(exec(c.get(), "SET synchronous_commit = on").ok()
                            ? ok_status()
                            : Status(io_error("postgres: cannot set synchronous_commit")));
  return c;
}

class PostgresStorage final : public LogStorage {
 public:
  PostgresStorage(std::string url, ConnPtr writer) : url_(std::move(url)), writer_(std::move(writer)) {}

  Status init() {
    std::lock_guard lock(write_mu_);
    ResultPtr r(PQexec(writer_.get(), kSchema), &PQclear);  // several statements: not PQexecParams
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK)
      return io_error(fmt::format("postgres: creating tables: {}", PQresultErrorMessage(r.get())));
    return ok_status();
  }

  Result<std::optional<std::string>> get_setting(const std::string& name) override {
    VOUCH_ASSIGN_OR_RETURN(Reader c, reader());
    VOUCH_ASSIGN_OR_RETURN(auto r, exec(c.get(), "SELECT value FROM tlog_settings WHERE name = $1", {Param::text(name)}));
    if (PQntuples(r.get()) == 0) return std::optional<std::string>();
    return std::optional<std::string>(PQgetvalue(r.get(), 0, 0));
  }

  Status put_setting(const std::string& name, const std::string& value) override {
    std::lock_guard lock(write_mu_);
    auto r = exec(writer_.get(),
                  "INSERT INTO tlog_settings(name, value) VALUES($1, $2) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                  {Param::text(name), Param::text(value)});
    return r.ok() ? ok_status() : Status(std::move(r).error());
  }

  Result<uint64_t> size() override {
    VOUCH_ASSIGN_OR_RETURN(Reader c, reader());
    return size_on(c.get());
  }

  Status append(const Batch& batch) override {
    std::lock_guard lock(write_mu_);
    PGconn* c = writer_.get();
    if (PQstatus(c) != CONNECTION_OK) PQreset(c);
    auto begin = exec(c, "BEGIN");
    if (!begin.ok()) return std::move(begin).error();
    Status st = append_locked(c, batch);
    if (!st.ok()) {
      (void)exec(c, "ROLLBACK");
      return st;
    }
    auto commit = exec(c, "COMMIT");
    return commit.ok() ? ok_status() : Status(std::move(commit).error());
  }

  Result<std::optional<StoredEntry>> entry(uint64_t index) override {
    VOUCH_ASSIGN_OR_RETURN(Reader c, reader());
    VOUCH_ASSIGN_OR_RETURN(auto r, exec(c.get(), "SELECT leaf_hash, body, integrated_time, set_sig FROM tlog_entries WHERE idx = $1",
                                        {Param::num(static_cast<int64_t>(index))}));
    if (PQntuples(r.get()) == 0) return std::optional<StoredEntry>();
    StoredEntry e;
    e.index = index;
    e.leaf_hash = bytea(r.get(), 0, 0);
    e.body = to_string(bytea(r.get(), 0, 1));
    e.integrated_time = num(r.get(), 0, 2);
    e.signed_entry_timestamp = bytea(r.get(), 0, 3);
    return std::optional<StoredEntry>(std::move(e));
  }

  Result<std::optional<uint64_t>> index_of(ByteView leaf_hash) override {
    VOUCH_ASSIGN_OR_RETURN(Reader c, reader());
    VOUCH_ASSIGN_OR_RETURN(auto r, exec(c.get(), "SELECT idx FROM tlog_entries WHERE leaf_hash = $1", {Param::blob(leaf_hash)}));
    if (PQntuples(r.get()) == 0) return std::optional<uint64_t>();
    return std::optional<uint64_t>(static_cast<uint64_t>(num(r.get(), 0, 0)));
  }

  Result<std::vector<Bytes>> nodes(const std::vector<NodeId>& ids) override {
    VOUCH_ASSIGN_OR_RETURN(Reader c, reader());
    std::vector<Bytes> out;
    for (const NodeId& id : ids) {
      VOUCH_ASSIGN_OR_RETURN(auto r, exec(c.get(), "SELECT hash FROM tlog_nodes WHERE level = $1 AND idx = $2",
                                          {Param::num(id.level), Param::num(static_cast<int64_t>(id.index))}));
      if (PQntuples(r.get()) == 0)
        return not_found(fmt::format("log storage: no node at level {} index {}", id.level, id.index));
      out.push_back(bytea(r.get(), 0, 0));
    }
    return out;
  }

  Result<std::vector<uint64_t>> search(const std::string& key, size_t limit) override {
    VOUCH_ASSIGN_OR_RETURN(Reader c, reader());
    VOUCH_ASSIGN_OR_RETURN(auto r, exec(c.get(), "SELECT idx FROM tlog_search WHERE key = $1 ORDER BY idx LIMIT $2",
                                        {Param::text(key), Param::num(static_cast<int64_t>(limit))}));
    std::vector<uint64_t> out;
    for (int i = 0; i < PQntuples(r.get()); ++i) out.push_back(static_cast<uint64_t>(num(r.get(), i, 0)));
    return out;
  }

  Result<std::optional<std::string>> latest_checkpoint() override {
    VOUCH_ASSIGN_OR_RETURN(Reader c, reader());
    VOUCH_ASSIGN_OR_RETURN(auto r, exec(c.get(), "SELECT note FROM tlog_checkpoints ORDER BY size DESC LIMIT 1"));
    if (PQntuples(r.get()) == 0) return std::optional<std::string>();
    return std::optional<std::string>(PQgetvalue(r.get(), 0, 0));
  }

 private:
  class Reader {
   public:
    Reader(PostgresStorage* o, ConnPtr c) : owner_(o), conn_(std::move(c)) {}
    Reader(Reader&&) noexcept = default;
    Reader& operator=(Reader&&) = delete;
    ~Reader() {
      if (conn_) owner_->release(std::move(conn_));
    }
    PGconn* get() { return conn_.get(); }

   private:
    PostgresStorage* owner_;
    ConnPtr conn_;
  };

  Result<Reader> reader() {
    {
      std::lock_guard lock(pool_mu_);
      while (!pool_.empty()) {
        ConnPtr c = std::move(pool_.back());
        pool_.pop_back();
        if (PQstatus(c.get()) == CONNECTION_OK) return Reader(this, std::move(c));
      }
    }
    VOUCH_ASSIGN_OR_RETURN(ConnPtr c, connect(url_));
    return Reader(this, std::move(c));
  }
  void release(ConnPtr c) {
    std::lock_guard lock(pool_mu_);
    if (pool_.size() < 16 && PQstatus(c.get()) == CONNECTION_OK) pool_.push_back(std::move(c));
  }

  Result<uint64_t> size_on(PGconn* c) {
    VOUCH_ASSIGN_OR_RETURN(auto r, exec(c, "SELECT COALESCE(MAX(idx) + 1, 0) FROM tlog_entries"));
    return static_cast<uint64_t>(num(r.get(), 0, 0));
  }

  Status append_locked(PGconn* c, const Batch& batch) {
    VOUCH_ASSIGN_OR_RETURN(uint64_t size, size_on(c));
    if (!batch.entries.empty() && batch.entries.front().index != size)
      return internal_error(fmt::format("log storage: batch starts at index {} but the log has {} entries",
                                        batch.entries.front().index, size));
    // One multi-row INSERT per table and chunk: a batch costs a handful of round trips.
    auto insert_rows = [&](const char* head, const char* tail, size_t columns, size_t rows,
                           const std::function<void(size_t, std::vector<Param>&)>& row) -> Status {
      const size_t chunk = 60000 / columns;  // PostgreSQL allows 65535 parameters
      for (size_t start = 0; start < rows; start += chunk) {
        size_t n = std::min(chunk, rows - start);
        std::string sql = head;
        std::vector<Param> params;
        for (size_t i = 0; i < n; ++i) {
          sql += i ? ",(" : "(";
          for (size_t k = 0; k < columns; ++k) sql += fmt::format("{}${}", k ? "," : "", i * columns + k + 1);
          sql += ")";
          row(start + i, params);
        }
        sql += tail;
        auto r = exec(c, sql.c_str(), params);
        if (!r.ok()) return std::move(r).error();
      }
      return ok_status();
    };
    VOUCH_RETURN_IF_ERROR(insert_rows(
        "INSERT INTO tlog_entries(idx, leaf_hash, body, integrated_time, set_sig) VALUES ", "", 5, batch.entries.size(),
        [&](size_t i, std::vector<Param>& p) {
          const StoredEntry& e = batch.entries[i];
          p.push_back(Param::num(static_cast<int64_t>(e.index)));
          p.push_back(Param::blob(e.leaf_hash));
          p.push_back(Param::blob(as_bytes(e.body)));
          p.push_back(Param::num(e.integrated_time));
          p.push_back(Param::blob(e.signed_entry_timestamp));
        }));
    std::vector<std::pair<const std::string*, uint64_t>> keys;
    for (const StoredEntry& e : batch.entries)
      for (const std::string& k : e.index_keys) keys.emplace_back(&k, e.index);
    VOUCH_RETURN_IF_ERROR(insert_rows("INSERT INTO tlog_search(key, idx) VALUES ", " ON CONFLICT DO NOTHING", 2, keys.size(),
                                      [&](size_t i, std::vector<Param>& p) {
                                        p.push_back(Param::text(*keys[i].first));
                                        p.push_back(Param::num(static_cast<int64_t>(keys[i].second)));
                                      }));
    VOUCH_RETURN_IF_ERROR(insert_rows("INSERT INTO tlog_nodes(level, idx, hash) VALUES ",
                                      " ON CONFLICT (level, idx) DO UPDATE SET hash = excluded.hash", 3, batch.nodes.size(),
                                      [&](size_t i, std::vector<Param>& p) {
                                        const StoredNode& n = batch.nodes[i];
                                        p.push_back(Param::num(n.id.level));
                                        p.push_back(Param::num(static_cast<int64_t>(n.id.index)));
                                        p.push_back(Param::blob(n.hash));
                                      }));
    if (!batch.checkpoint.empty()) {
      auto r = exec(c, "INSERT INTO tlog_checkpoints(size, note) VALUES($1, $2) ON CONFLICT (size) DO UPDATE SET note = excluded.note",
                    {Param::num(static_cast<int64_t>(size + batch.entries.size())), Param::text(batch.checkpoint)});
      if (!r.ok()) return std::move(r).error();
    }
    return ok_status();
  }

  std::string url_;
  ConnPtr writer_;
  std::mutex write_mu_;
  std::mutex pool_mu_;
  std::vector<ConnPtr> pool_;
};

}  // namespace

Result<std::unique_ptr<LogStorage>> open_postgres_storage(const std::string& url) {
  VOUCH_ASSIGN_OR_RETURN(ConnPtr c, connect(url));
  auto storage = std::make_unique<PostgresStorage>(url, std::move(c));
  VOUCH_RETURN_IF_ERROR(storage->init());
  return std::unique_ptr<LogStorage>(std::move(storage));
}

}  // namespace vouch::tlog
