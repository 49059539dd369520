#include "vouch/tlog/log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <random>

#include "vouch/base/canonical_json.h"
#include "vouch/crypto/digest.h"
#include "vouch/tlog/checkpoint.h"
#include "vouch/tlog/merkle.h"

namespace vouch::tlog {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() / fmt::format("vouch-log-test-{}", std::random_device{}());
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// The storage under test: SQLite in a temporary directory, or a fresh database in the PostgreSQL
// server named by $VOUCH_TEST_POSTGRES_URL (tests/integration/tlog_postgres.sh starts one).
std::string fresh_storage(const std::string& kind, const fs::path& dir) {
  if (kind == "sqlite") return "sqlite:" + (dir / "log.db").string();
  const char* base = std::getenv("VOUCH_TEST_POSTGRES_URL");
  if (!base) return "";
  std::string db = fmt::format("tlog_test_{}", std::random_device{}());
  PGconn* c = PQconnectdb(base);
  EXPECT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
  PQclear(PQexec(c, ("CREATE DATABASE " + db).c_str()));
  PQfinish(c);
  std::string url = base;
  return url.substr(0, url.rfind('/') + 1) + db;
}

class LogStorageTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    url_ = fresh_storage(GetParam(), dir_.path());
    if (url_.empty()) GTEST_SKIP() << "VOUCH_TEST_POSTGRES_URL is not set (tests/integration/tlog_postgres.sh sets it)";
  }
  TempDir dir_;
  std::string url_;
};

std::unique_ptr<Log> open_log(const std::string& url, const crypto::PrivateKey& key, size_t max_batch = 1024) {
  auto storage = open_storage(url);
  EXPECT_TRUE(storage.ok()) << storage.error().message;
  auto log = Log::open(std::move(*storage), key, LogOptions{"log.example.test", max_batch});
  EXPECT_TRUE(log.ok()) << log.error().message;
  return std::move(*log);
}

// Appends `n` distinct entries concurrently (so that batches form) and returns them by index.
std::vector<SubmitResult> append_many(Log& log, int n, int salt) {
  std::vector<std::future<Result<SubmitResult>>> futures;
  for (int i = 0; i < n; ++i) {
    auto p = std::make_shared<std::promise<Result<SubmitResult>>>();
    futures.push_back(p->get_future());
    log.submit(Submission{fmt::format("{{\"entry\":{},\"salt\":{}}}", i, salt), {fmt::format("k{}", i % 3)}},
               [p](Result<SubmitResult> r) { p->set_value(std::move(r)); });
  }
  std::vector<SubmitResult> out;
  for (auto& f : futures) {
    auto r = f.get();
    EXPECT_TRUE(r.ok()) << r.error().message;
    if (r.ok()) out.push_back(std::move(*r));
  }
  return out;
}

// Storage that can hold the sequencer at its next look-up (the first thing it does for a batch)
// until released, so that a test decides which submissions make the next batch; and that can fail
// its next append.
class ControlledStorage final : public LogStorage {
 public:
  explicit ControlledStorage(std::unique_ptr<LogStorage> inner) : inner_(std::move(inner)) {}

  void hold_next_lookup() {
    std::lock_guard lock(mu_);
    hold_ = true;
    held_ = released_ = false;
  }
  void wait_until_held() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return held_; });
  }
  void release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  void fail_next_append() { fail_append_ = true; }

  Result<std::optional<std::string>> get_setting(const std::string& name) override { return inner_->get_setting(name); }
  Status put_setting(const std::string& name, const std::string& value) override { return inner_->put_setting(name, value); }
  Result<uint64_t> size() override { return inner_->size(); }
  Status append(const Batch& batch) override {
    if (fail_append_.exchange(false)) return io_error("test storage: the disk is full");
    return inner_->append(batch);
  }
  Result<std::optional<StoredEntry>> entry(uint64_t index) override { return inner_->entry(index); }
  Result<std::optional<uint64_t>> index_of(ByteView leaf_hash) override { return inner_->index_of(leaf_hash); }
  Result<std::vector<std::optional<uint64_t>>> indexes_of(const std::vector<Bytes>& leaf_hashes) override {
    {
      std::unique_lock lock(mu_);
      if (hold_) {
        hold_ = false;
        held_ = true;
        cv_.notify_all();
        cv_.wait(lock, [&] { return released_; });
      }
    }
    return inner_->indexes_of(leaf_hashes);
  }
  Result<std::vector<Bytes>> nodes(const std::vector<NodeId>& ids) override { return inner_->nodes(ids); }
  Result<std::vector<uint64_t>> search(const std::string& key, size_t limit) override { return inner_->search(key, limit); }
  Result<std::optional<std::string>> latest_checkpoint() override { return inner_->latest_checkpoint(); }

 private:
  std::unique_ptr<LogStorage> inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false, held_ = false, released_ = false;
  std::atomic<bool> fail_append_{false};
};

std::unique_ptr<Log> open_controlled_log(const std::string& url, const crypto::PrivateKey& key, size_t max_batch,
                                         ControlledStorage** storage_out) {
  auto storage = open_storage(url);
  EXPECT_TRUE(storage.ok()) << storage.error().message;
  auto controlled = std::make_unique<ControlledStorage>(std::move(*storage));
  *storage_out = controlled.get();
  auto log = Log::open(std::move(controlled), key, LogOptions{"log.example.test", max_batch});
  EXPECT_TRUE(log.ok()) << log.error().message;
  return std::move(*log);
}

// Submits one entry, which the sequencer takes as a batch of its own and is held at, then `n`
// entries, which make the next batch (n <= max_batch). Returns the results, in order.
std::vector<Result<SubmitResult>> append_batch(Log& log, ControlledStorage& storage, int n, int salt) {
  std::vector<std::future<Result<SubmitResult>>> futures;
  auto submit = [&](std::string body) {
    auto p = std::make_shared<std::promise<Result<SubmitResult>>>();
    futures.push_back(p->get_future());
    log.submit(Submission{std::move(body), {}}, [p](Result<SubmitResult> r) { p->set_value(std::move(r)); });
  };
  storage.hold_next_lookup();
  submit(fmt::format("{{\"first\":{}}}", salt));
  storage.wait_until_held();
  for (int i = 0; i < n; ++i) submit(fmt::format("{{\"entry\":{},\"salt\":{}}}", i, salt));
  storage.release();
  std::vector<Result<SubmitResult>> out;
  for (auto& f : futures) out.push_back(f.get());
  return out;
}

// A new entry is answered with its batch's tree head and its inclusion proof in that tree, made
// from memory: the same proof storage gives, for batches that start and end at many sizes.
TEST_P(LogStorageTest, NewEntriesComeWithTheirBatchsHeadAndInclusionProof) {
  auto key = *crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256);
  ControlledStorage* storage = nullptr;
  auto log = open_controlled_log(url_, key, 64, &storage);
  auto verifier = *make_note_verifier("log.example.test", key.public_key(), legacy_key_id(key.public_key()));
  std::vector<Bytes> leaves;
  std::mt19937_64 rng(7);
  for (int round = 0; round < 16; ++round) {
    const int n = 1 + static_cast<int>(rng() % 20);
    auto results = append_batch(*log, *storage, n, round);
    ASSERT_EQ(results.size(), static_cast<size_t>(n) + 1);
    for (const auto& r : results) {
      ASSERT_TRUE(r.ok()) << r.error().message;
      leaves.push_back(r->entry.leaf_hash);
    }
    for (size_t i = 0; i < results.size(); ++i) {
      const SubmitResult& r = *results[i];
      ASSERT_FALSE(r.duplicate);
      ASSERT_EQ(r.entry.index + results.size() - i, leaves.size());
      // The first entry was a batch of one; the others share one batch.
      EXPECT_EQ(r.head.size, i == 0 ? leaves.size() - n : leaves.size());
      std::span<const Bytes> tree(leaves.data(), r.head.size);
      EXPECT_EQ(r.head.root_hash, root_hash(tree));
      auto cp = open_checkpoint(r.head.checkpoint, verifier);
      ASSERT_TRUE(cp.ok()) << cp.error().message;
      EXPECT_EQ(cp->size, r.head.size);
      EXPECT_EQ(cp->root_hash, r.head.root_hash);
      EXPECT_EQ(r.inclusion_proof, *inclusion_proof(r.entry.index, tree)) << "index " << r.entry.index << " size " << r.head.size;
      EXPECT_EQ(r.inclusion_proof, *stored_inclusion_proof(log->storage(), r.entry.index, r.head.size));
      EXPECT_TRUE(verify_inclusion(r.entry.index, r.head.size, r.entry.leaf_hash, r.inclusion_proof, r.head.root_hash).ok());
    }
  }
  EXPECT_EQ(log->stats().batches.load(), 32u);
}

// A batch whose commit fails is answered with the error, and so is any batch sequenced on top of
// it; the log then goes on from what storage holds, and nothing acknowledged is lost.
TEST_P(LogStorageTest, AFailedCommitFailsItsBatchAndTheLogGoesOnFromStorage) {
  auto key = *crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256);
  ControlledStorage* storage = nullptr;
  auto log = open_controlled_log(url_, key, 64, &storage);
  std::vector<Bytes> leaves;
  for (const auto& r : append_many(*log, 5, 1)) leaves.push_back(r.entry.leaf_hash);
  ASSERT_EQ(leaves.size(), 5u);

  storage->fail_next_append();
  auto results = append_batch(*log, *storage, 6, 2);
  ASSERT_FALSE(results[0].ok());
  EXPECT_THAT(results[0].error().message, ::testing::HasSubstr("disk is full"));
  for (size_t i = 1; i < results.size(); ++i) {
    // Sequenced on top of the failed batch (failed too), or after the log read storage again.
    if (!results[i].ok()) continue;
    EXPECT_EQ(results[i]->entry.index, leaves.size());
    leaves.push_back(results[i]->entry.leaf_hash);
  }
  auto again = log->append(Submission{"{\"first\":2}", {}});  // the failed entry, submitted again
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_FALSE(again->duplicate);
  EXPECT_EQ(again->entry.index, leaves.size());
  leaves.push_back(again->entry.leaf_hash);
  for (const auto& r : append_many(*log, 3, 3)) leaves.push_back(r.entry.leaf_hash);

  EXPECT_EQ(log->head().size, leaves.size());
  EXPECT_EQ(log->head().root_hash, root_hash(leaves));
  EXPECT_EQ(*stored_root(log->storage(), leaves.size()), root_hash(leaves));
  EXPECT_GE(log->stats().failures.load(), 1u);
}

// A batch is all or nothing, and only where the log ends; its leaves are found again in one look-up.
TEST_P(LogStorageTest, StorageAppendsABatchWholeAndOnlyWhereTheLogEnds) {
  auto storage = open_storage(url_);
  ASSERT_TRUE(storage.ok()) << storage.error().message;
  LogStorage& db = **storage;
  Batch batch;
  for (uint64_t i = 0; i < 3; ++i) {
    std::string body = fmt::format("{{\"entry\":{}}}", i);
    batch.entries.push_back(StoredEntry{i + 1, hash_leaf(as_bytes(body)), body, 1700000000, Bytes{1, 2, 3}, {"key", body}});
    batch.nodes.push_back({NodeId{0, i}, hash_leaf(as_bytes(body))});
  }
  batch.checkpoint = "a checkpoint";
  batch.settings = {{"chain-of-1", "AAAA"}};

  Status wrong = db.append(batch);  // starts at 1, but the log is empty
  ASSERT_FALSE(wrong.ok());
  EXPECT_THAT(wrong.error().message, ::testing::HasSubstr("batch starts at index 1 but the log has 0 entries"));
  EXPECT_EQ(*db.size(), 0u);
  EXPECT_TRUE(db.search("key", 10)->empty());
  EXPECT_FALSE(db.latest_checkpoint()->has_value());
  EXPECT_FALSE(db.get_setting("chain-of-1")->has_value());

  for (uint64_t i = 0; i < 3; ++i) batch.entries[i].index = i;
  ASSERT_TRUE(db.append(batch).ok());
  EXPECT_EQ(*db.size(), 3u);
  EXPECT_EQ(*db.search("key", 10), (std::vector<uint64_t>{0, 1, 2}));
  EXPECT_EQ(*db.search(batch.entries[1].body, 10), (std::vector<uint64_t>{1}));
  EXPECT_EQ(db.latest_checkpoint()->value_or(""), "a checkpoint");
  EXPECT_EQ(db.get_setting("chain-of-1")->value_or(""), "AAAA");
  auto stored = db.entry(2);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->body, batch.entries[2].body);
  EXPECT_EQ((*stored)->signed_entry_timestamp, (Bytes{1, 2, 3}));
  EXPECT_EQ(*db.nodes({NodeId{0, 1}}), std::vector<Bytes>{batch.entries[1].leaf_hash});
  auto found = db.indexes_of({batch.entries[2].leaf_hash, hash_leaf(as_bytes("not logged")), batch.entries[0].leaf_hash});
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_EQ(*found, (std::vector<std::optional<uint64_t>>{2, std::nullopt, 0}));
  EXPECT_TRUE(db.indexes_of({})->empty());
  EXPECT_FALSE(db.append(batch).ok());  // the same indexes again
  EXPECT_EQ(*db.size(), 3u);
}

TEST_P(LogStorageTest, ProofsFromStorageMatchTheReferenceAndVerify) {
  auto key = *crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256);
  auto log = open_log(url_, key, 7);
  std::vector<Bytes> leaves;
  std::mt19937_64 rng(42);
  for (int round = 0; round < 6; ++round) {
    auto results = append_many(*log, 1 + static_cast<int>(rng() % 40), round);
    for (const auto& r : results) {
      EXPECT_FALSE(r.duplicate);
      EXPECT_EQ(r.entry.index, leaves.size() + (&r - results.data()));
    }
    for (const auto& r : results) leaves.push_back(r.entry.leaf_hash);
  }
  const uint64_t n = leaves.size();
  ASSERT_EQ(log->head().size, n);
  EXPECT_EQ(log->head().root_hash, root_hash(leaves));

  for (int trial = 0; trial < 200; ++trial) {
    uint64_t size = 1 + rng() % n;
    uint64_t index = rng() % size;
    std::span<const Bytes> prefix(leaves.data(), size);
    auto root = stored_root(log->storage(), size);
    ASSERT_TRUE(root.ok()) << root.error().message;
    EXPECT_EQ(*root, root_hash(prefix));
    auto proof = stored_inclusion_proof(log->storage(), index, size);
    ASSERT_TRUE(proof.ok()) << proof.error().message;
    EXPECT_EQ(*proof, *inclusion_proof(index, prefix));
    EXPECT_TRUE(verify_inclusion(index, size, leaves[index], *proof, *root).ok());
    if (!proof->empty()) {
      auto bad = *proof;
      bad[rng() % bad.size()][rng() % kHashSize] ^= 0x01;
      EXPECT_FALSE(verify_inclusion(index, size, leaves[index], bad, *root).ok());
    }
    uint64_t size1 = 1 + rng() % size;
    auto cproof = stored_consistency_proof(log->storage(), size1, size);
    ASSERT_TRUE(cproof.ok()) << cproof.error().message;
    EXPECT_EQ(*cproof, *consistency_proof(size1, prefix));
    auto root1 = *stored_root(log->storage(), size1);
    EXPECT_TRUE(verify_consistency(size1, size, *cproof, root1, *root).ok());
    if (!cproof->empty()) {
      auto bad = *cproof;
      bad[rng() % bad.size()][rng() % kHashSize] ^= 0x80;
      EXPECT_FALSE(verify_consistency(size1, size, bad, root1, *root).ok());
    }
  }
  EXPECT_FALSE(stored_inclusion_proof(log->storage(), n, n).ok());
  EXPECT_FALSE(stored_consistency_proof(log->storage(), 0, n).ok());
  EXPECT_FALSE(stored_consistency_proof(log->storage(), n, n - 1).ok());
}

TEST(Log, CheckpointsAndEntryTimestampsVerifyAsRekorV1) {
  for (auto type : {crypto::KeyType::kEcdsaP256, crypto::KeyType::kEd25519}) {
    TempDir dir;
    auto key = *crypto::PrivateKey::generate(type);
    auto log = open_log("sqlite:" + (dir.path() / "log.db").string(), key);
    auto results = append_many(*log, 5, 0);
    ASSERT_EQ(results.size(), 5u);
    auto head = log->head();
    auto note = parse_signed_note(head.checkpoint);
    ASSERT_TRUE(note.ok()) << note.error().message;
    auto cp = parse_checkpoint(note->text);
    ASSERT_TRUE(cp.ok());
    EXPECT_EQ(cp->origin, fmt::format("log.example.test - {}", log->tree_id()));
    EXPECT_EQ(rekor_v1_origin_host(cp->origin), std::optional<std::string_view>("log.example.test"));
    EXPECT_EQ(cp->size, 5u);
    ASSERT_EQ(cp->extensions.size(), 1u);
    EXPECT_TRUE(cp->extensions[0].starts_with("Timestamp: "));
    auto verifier = *make_note_verifier("log.example.test", key.public_key(), legacy_key_id(key.public_key()));
    EXPECT_TRUE(open_checkpoint(head.checkpoint, verifier).ok());
    auto other = *crypto::PrivateKey::generate(type);
    auto wrong = *make_note_verifier("log.example.test", other.public_key(), legacy_key_id(key.public_key()));
    EXPECT_FALSE(open_checkpoint(head.checkpoint, wrong).ok());

    EXPECT_EQ(log->log_id(), crypto::sha256(key.public_key().der()));
    for (const auto& r : results) {
      boost::json::object o{{"body", base64_encode(as_bytes(r.entry.body))},
                            {"integratedTime", r.entry.integrated_time},
                            {"logID", hex_encode(log->log_id())},
                            {"logIndex", r.entry.index}};
      std::string payload = *json::canonicalize(o);
      EXPECT_TRUE(key.public_key().verify(as_bytes(payload), r.entry.signed_entry_timestamp).ok());
      std::string tampered = payload;
      tampered[tampered.size() - 2] ^= 1;
      EXPECT_FALSE(key.public_key().verify(as_bytes(tampered), r.entry.signed_entry_timestamp).ok());
    }
  }
}

TEST_P(LogStorageTest, DeduplicatesAndSurvivesReopen) {
  auto key = *crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256);
  SignedTreeHead before;
  int64_t tree_id = 0;
  {
    auto log = open_log(url_, key);
    append_many(*log, 10, 1);
    auto again = log->append(Submission{"{\"entry\":3,\"salt\":1}", {}});
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again->duplicate);
    EXPECT_EQ(again->entry.index, 3u);
    EXPECT_TRUE(again->inclusion_proof.empty());
    // Two submissions of the same body in one batch: one entry, one duplicate.
    auto both = append_many(*log, 1, 7);
    auto dup = log->append(Submission{"{\"entry\":0,\"salt\":7}", {}});
    ASSERT_TRUE(dup.ok());
    EXPECT_TRUE(dup->duplicate);
    EXPECT_EQ(dup->entry.index, both[0].entry.index);
    before = log->head();
    tree_id = log->tree_id();
    EXPECT_EQ(before.size, 11u);
  }
  auto log = open_log(url_, key);
  EXPECT_EQ(log->tree_id(), tree_id);
  auto head = log->head();
  EXPECT_EQ(head.size, before.size);
  EXPECT_EQ(head.root_hash, before.root_hash);
  EXPECT_EQ(head.checkpoint, before.checkpoint);
  auto more = append_many(*log, 3, 2);
  EXPECT_EQ(more[0].entry.index, 11u);
  auto proof = *stored_consistency_proof(log->storage(), before.size, log->head().size);
  EXPECT_TRUE(verify_consistency(before.size, log->head().size, proof, before.root_hash, log->head().root_hash).ok());
  auto hits = log->storage().search("k1", 100);
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ(*hits, (std::vector<uint64_t>{1, 4, 7, 12}));
}

INSTANTIATE_TEST_SUITE_P(Storage, LogStorageTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace vouch::tlog
