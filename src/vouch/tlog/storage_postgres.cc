// PostgreSQL log storage (libpq): one writer connection, a pool of reader connections. A batch is
// one statement (its own transaction), which returns once the server has flushed it
// (synchronous_commit is forced on for the writer's session).
#include <algorithm>
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

  // One statement, so one round trip and one commit (an implicit transaction): the batch's rows
  // go as arrays, one per column, in binary.
  Status append(const Batch& batch) override {
    std::lock_guard lock(write_mu_);
    if (!writer_.healthy()) writer_.reset();
    return append_locked(writer_, batch);
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

  // One round trip for the whole batch: the hashes go as one text array of hex strings.
  Result<std::vector<std::optional<uint64_t>>> indexes_of(const std::vector<Bytes>& leaf_hashes) override {
    std::vector<std::optional<uint64_t>> out(leaf_hashes.size());
    if (leaf_hashes.empty()) return out;
    VOUCH_ASSIGN_OR_RETURN(Reader c, reader());
    std::string array = "{";
    for (size_t i = 0; i < leaf_hashes.size(); ++i) {
      if (i) array += ',';
      array += hex_encode(leaf_hashes[i]);
    }
    array += "}";
    VOUCH_ASSIGN_OR_RETURN(PgResult r, c->exec("SELECT leaf_hash, idx FROM tlog_entries WHERE leaf_hash IN "
                                               "(SELECT decode(h, 'hex') FROM unnest($1::text[]) AS h)",
                                               {PgParam::text(array)}));
    std::map<Bytes, uint64_t> found;
    for (int i = 0; i < r.rows(); ++i) found[r.bytea(i, 0)] = static_cast<uint64_t>(r.num(i, 1));
    for (size_t i = 0; i < leaf_hashes.size(); ++i)
      if (auto it = found.find(leaf_hashes[i]); it != found.end()) out[i] = it->second;
    return out;
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
    const uint64_t first = batch.entries.empty() ? 0 : batch.entries.front().index;
    BinaryArray names(kTextOid), values(kTextOid);
    for (const auto& [name, value] : batch.settings) {
      names.add(as_bytes(name));
      values.add(as_bytes(value));
    }
    BinaryArray idx(kInt8Oid), leaf(kByteaOid), body(kByteaOid), time(kInt8Oid), sig(kByteaOid);
    BinaryArray keys(kTextOid), key_idx(kInt8Oid);
    for (const StoredEntry& e : batch.entries) {
      idx.add_int(static_cast<int64_t>(e.index), 8);
      leaf.add(e.leaf_hash);
      body.add(as_bytes(e.body));
      time.add_int(e.integrated_time, 8);
      sig.add(e.signed_entry_timestamp);
      for (const std::string& k : e.index_keys) {
        keys.add(as_bytes(k));
        key_idx.add_int(static_cast<int64_t>(e.index), 8);
      }
    }
    BinaryArray levels(kInt2Oid), node_idx(kInt8Oid), hashes(kByteaOid);
    for (const StoredNode& n : batch.nodes) {
      levels.add_int(n.id.level, 2);
      node_idx.add_int(static_cast<int64_t>(n.id.index), 8);
      hashes.add(n.hash);
    }
    // Nothing is written unless the batch starts where the log ends; every insert sees the
    // statement's one snapshot, taken before any of them.
    auto r = c.exec(R"sql(
WITH size AS (SELECT COALESCE(MAX(idx) + 1, 0) AS n FROM tlog_entries),
ok AS (SELECT n = $1::bigint OR $16::bigint = 0 AS ok, n FROM size),
settings AS (
  INSERT INTO tlog_settings(name, value) SELECT t.name, t.value FROM unnest($2::text[], $3::text[]) AS t(name, value), ok
  WHERE ok.ok ON CONFLICT (name) DO UPDATE SET value = excluded.value),
entries AS (
  INSERT INTO tlog_entries(idx, leaf_hash, body, integrated_time, set_sig)
  SELECT t.idx, t.leaf, t.body, t.time, t.sig FROM unnest($4::bigint[], $5::bytea[], $6::bytea[], $7::bigint[], $8::bytea[])
    AS t(idx, leaf, body, time, sig), ok WHERE ok.ok),
search AS (
  INSERT INTO tlog_search(key, idx) SELECT t.key, t.idx FROM unnest($9::text[], $10::bigint[]) AS t(key, idx), ok
  WHERE ok.ok ON CONFLICT DO NOTHING),
nodes AS (
  INSERT INTO tlog_nodes(level, idx, hash) SELECT t.level, t.idx, t.hash FROM unnest($11::smallint[], $12::bigint[], $13::bytea[])
    AS t(level, idx, hash), ok WHERE ok.ok ON CONFLICT (level, idx) DO UPDATE SET hash = excluded.hash),
checkpoint AS (
  INSERT INTO tlog_checkpoints(size, note) SELECT $14::bigint, $15::text FROM ok WHERE ok.ok AND $15::text <> ''
  ON CONFLICT (size) DO UPDATE SET note = excluded.note)
SELECT ok, n FROM ok)sql",
                    {PgParam::num(static_cast<int64_t>(first)), names.param(), values.param(), idx.param(), leaf.param(),
                     body.param(), time.param(), sig.param(), keys.param(), key_idx.param(), levels.param(),
                     node_idx.param(), hashes.param(), PgParam::num(static_cast<int64_t>(first + batch.entries.size())),
                     PgParam::text(batch.checkpoint), PgParam::num(static_cast<int64_t>(batch.entries.size()))});
    if (!r.ok()) return std::move(r).error();
    if (r->text(0, 0) != "t")
      return internal_error(fmt::format("log storage: batch starts at index {} but the log has {} entries", first, r->num(0, 1)));
    return ok_status();
  }

  // A one-dimensional array parameter in PostgreSQL's binary format (array_recv): a header
  // naming the element type, then each element's length and bytes, integers big-endian.
  static constexpr uint32_t kInt2Oid = 21, kInt8Oid = 20, kByteaOid = 17, kTextOid = 25;
  class BinaryArray {
   public:
    explicit BinaryArray(uint32_t element_oid) : oid_(element_oid) {}
    void add(ByteView bytes) {
      put(static_cast<uint32_t>(bytes.size()), 4);
      elements_.append(as_chars(bytes));
      ++count_;
    }
    void add_int(int64_t v, int width) {
      put(static_cast<uint32_t>(width), 4);
      put(static_cast<uint64_t>(v), width);
      ++count_;
    }
    PgParam param() const {
      std::string out;
      auto put_to = [&out](uint64_t v, int width) {
        for (int i = width - 1; i >= 0; --i) out += static_cast<char>(v >> (8 * i) & 0xff);
      };
      put_to(count_ ? 1 : 0, 4);  // dimensions (an empty array has none)
      put_to(0, 4);               // no NULLs
      put_to(oid_, 4);
      if (count_) {
        put_to(count_, 4);  // elements
        put_to(1, 4);       // lower bound
      }
      out += elements_;
      return PgParam{std::move(out), true};
    }

   private:
    void put(uint64_t v, int width) {
      for (int i = width - 1; i >= 0; --i) elements_ += static_cast<char>(v >> (8 * i) & 0xff);
    }
    uint32_t oid_;
    uint32_t count_ = 0;
    std::string elements_;
  };

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
