#include "vouch/tlog/log.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <filesystem>
#include <future>
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
