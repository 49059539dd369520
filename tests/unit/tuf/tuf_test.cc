// The TUF client on published metadata (Sigstore's public-good repository from root version 1
// to 15, python-tuf's client test repository with an RSA-PSS root and delegations) and on
// repositories made by vouch's own tooling, altered the ways an attacker or a neglected
// repository would alter them: each refusal names the role and the check.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "../temp_dir.h"
#include "../testdata.h"
#include "vouch/base/bytes.h"
#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/crypto/digest.h"
#include "vouch/tuf/metadata.h"
#include "vouch/tuf/repository.h"
#include "vouch/tuf/updater.h"

namespace vouch::tuf {
namespace {

namespace fs = std::filesystem;
namespace bj = boost::json;
using testing::TempDir;
using testing::testdata_dir;

void place(const fs::path& from, const fs::path& to) {
  fs::create_directories(to.parent_path());
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}

UnixSeconds at(const char* rfc3339) { return *parse_rfc3339(rfc3339); }

std::string read(const fs::path& p) { return *read_file(p); }

// Sigstore's repository as its CDN serves it (consistent-snapshot names), from the sources.
void public_good_mirror(const fs::path& dir) {
  fs::path src = testdata_dir() / "tuf" / "sigstore-root-signing";
  for (int n = 1; n <= 15; ++n)
    place(src / "metadata" / "root_history" / fmt::format("{}.root.json", n), dir / fmt::format("{}.root.json", n));
  place(src / "metadata" / "timestamp.json", dir / "timestamp.json");
  place(src / "metadata" / "snapshot.json", dir / "165.snapshot.json");
  place(src / "metadata" / "targets.json", dir / "14.targets.json");
  place(src / "metadata" / "registry.npmjs.org.json", dir / "8.registry.npmjs.org.json");
  for (const auto& e : fs::recursive_directory_iterator(src / "targets")) {
    if (!e.is_regular_file()) continue;
    fs::path rel = fs::relative(e.path(), src / "targets");
    std::string sha = hex_encode(crypto::sha256(read(e.path())));
    place(e.path(), dir / "targets" / rel.parent_path() / (sha + "." + rel.filename().string()));
  }
}

Updater open_updater(const fs::path& cache, const fs::path& mirror, std::optional<UnixSeconds> now = std::nullopt) {
  UpdaterOptions o;
  o.cache_dir = cache;
  o.metadata_url = mirror.string();
  o.targets_url = (mirror / "targets").string();
  o.now = now;
  auto u = Updater::open(o);
  if (!u.ok()) throw std::runtime_error(u.error().message);
  return std::move(*u);
}

TEST(TufCanonicalJson, SortsKeysAndEscapesOnlyQuoteAndBackslash) {
  auto v = json::parse(R"({"b": [1, "q\"b\\n\nt\t"], "a": {"z": null, "y": true, "x": -3}})");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*canonical_json(*v), "{\"a\":{\"x\":-3,\"y\":true,\"z\":null},\"b\":[1,\"q\\\"b\\\\n\nt\t\"]}");
  EXPECT_FALSE(canonical_json(*json::parse("[1.5]")).ok());
}

TEST(TufKeys, EveryKeyTypeSignsAsItsSchemeVerifies) {
  bj::object signed_json{{"_type", "targets"}, {"version", 1}};
  for (auto type : {crypto::KeyType::kEcdsaP256, crypto::KeyType::kEcdsaP384, crypto::KeyType::kEd25519,
                    crypto::KeyType::kRsa}) {
    auto key = *crypto::PrivateKey::generate(type);
    auto pub = Key::from_public_key(key.public_key());
    ASSERT_TRUE(pub.ok()) << crypto::key_type_name(type);
    auto doc = sign_document(signed_json, {{pub->key_id(), key}});
    ASSERT_TRUE(doc.ok()) << crypto::key_type_name(type);
    const auto parsed = json::parse(*doc)->as_object();
    std::vector<Signature> sigs{{pub->key_id(), std::string(parsed.at("signatures").as_array().at(0).at("sig").as_string())}};
    // The key as a client reads it back from metadata, not the in-memory object.
    auto read_back = Key::parse(pub->to_json(), "key");
    ASSERT_TRUE(read_back.ok()) << read_back.error().message;
    Status st = verify_threshold(signed_json, sigs, {{pub->key_id(), *read_back}}, Role{{pub->key_id()}, 1},
                                 crypto::key_type_name(type));
    EXPECT_TRUE(st.ok()) << pub->scheme << ": " << st.error().message;
  }
}

TEST(TufPublicGood, RootChainFromVersion1To15ThenTheTargets) {
  TempDir t;
  public_good_mirror(t.path() / "mirror");
  place(testdata_dir() / "tuf/sigstore-root-signing/metadata/root_history/1.root.json", t.path() / "cache" / "root.json");
  // Before the copied timestamp expired (2026-08-28): the whole repository verifies.
  Updater u = open_updater(t.path() / "cache", t.path() / "mirror", at("2026-08-20T00:00:00Z"));
  Status st = u.refresh();
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(u.root().version, 15);
  EXPECT_TRUE(u.root().consistent_snapshot);

  auto info = u.target_info("trusted_root.json");
  ASSERT_TRUE(info.ok() && info->has_value()) << (info.ok() ? "absent" : info.error().message);
  EXPECT_EQ((*info)->hashes.at("sha256"), "6494e21ea73fa7ee769f85f57d5a3e6a08725eae1e38c755fc3517c9e6bc0b66");
  auto bytes = u.download_target(**info);
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  // The trusted root the conformance tests use.
  EXPECT_EQ(*bytes, read(testdata_dir() / "sigstore-trust" / "trusted_root.production.json"));

  // A target of the delegated role registry.npmjs.org.
  auto npm = u.target_info("registry.npmjs.org/keys.json");
  ASSERT_TRUE(npm.ok() && npm->has_value()) << (npm.ok() ? "absent" : npm.error().message);
  EXPECT_EQ((*npm)->length, 2121);
  ASSERT_TRUE(u.download_target(**npm).ok());
  auto none = u.target_info("no-such-target.json");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  // Today root version 15 (expired 2026-11-20) is frozen: refused, though every signature holds.
  Updater later = open_updater(t.path() / "cache", t.path() / "mirror", at("2026-12-06T00:00:00Z"));
  st = later.refresh();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("root version 15: expired at 2026-11-20T13:58:18Z"), std::string::npos)
      << st.error().message;
}

TEST(TufPublicGood, ATamperedRootInTheChainStopsIt) {
  TempDir t;
  public_good_mirror(t.path() / "mirror");
  place(testdata_dir() / "tuf/sigstore-root-signing/metadata/root_history/1.root.json", t.path() / "cache" / "root.json");
  std::string v5 = read(t.path() / "mirror" / "5.root.json");
  auto pos = v5.find("\"consistent_snapshot\": true");
  ASSERT_NE(pos, std::string::npos);
  v5.replace(pos, 27, "\"consistent_snapshot\": false");
  ASSERT_TRUE(write_file_atomic(t.path() / "mirror" / "5.root.json", v5).ok());
  Updater u = open_updater(t.path() / "cache", t.path() / "mirror", at("2026-08-20T00:00:00Z"));
  Status st = u.refresh();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("root: 5.root.json by the keys of trusted root version 4: 0 valid signature(s)"),
            std::string::npos)
      << st.error().message;
  EXPECT_EQ(u.root().version, 4);  // what verified is kept
}

// python-tuf's client test data: RSA-PSS root key, Ed25519 role keys, no consistent snapshots,
// targets delegating file3.txt to role1, which delegates to role2.
TEST(TufPythonTuf, UpdatesAndFindsTargetsThroughDelegations) {
  TempDir t;
  fs::path data = testdata_dir() / "tuf" / "python-tuf" / "tests" / "repository_data";
  place(data / "client" / "test_repository1" / "metadata" / "current" / "root.json", t.path() / "cache" / "root.json");
  UpdaterOptions o;
  o.cache_dir = t.path() / "cache";
  o.metadata_url = (data / "repository" / "metadata").string();
  o.targets_url = (data / "repository" / "targets").string();
  o.now = at("2026-01-01T00:00:00Z");
  auto u = Updater::open(o);
  ASSERT_TRUE(u.ok()) << u.error().message;
  Status st = u->refresh();
  ASSERT_TRUE(st.ok()) << st.error().message;

  auto file1 = u->target_info("file1.txt");
  ASSERT_TRUE(file1.ok() && file1->has_value());
  auto bytes = u->download_target(**file1);
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  EXPECT_EQ(*bytes, read(data / "repository" / "targets" / "file1.txt"));
  auto file3 = u->target_info("file3.txt");
  ASSERT_TRUE(file3.ok() && file3->has_value()) << (file3.ok() ? "absent" : file3.error().message);
  EXPECT_TRUE(fs::exists(t.path() / "cache" / "role1.json"));
  auto file33 = u->target_info("file33.txt");
  ASSERT_TRUE(file33.ok());
  EXPECT_FALSE(file33->has_value());

  // The same entry with another length or hash is refused.
  TargetFile wrong_length = **file1;
  wrong_length.length = 44;
  fs::remove_all(t.path() / "cache" / "targets");
  auto r = u->download_target(wrong_length);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("31 bytes, the metadata says 44"), std::string::npos) << r.error().message;
  TargetFile wrong_hash = **file1;
  wrong_hash.hashes = {{"sha256", "abcd"}};
  r = u->download_target(wrong_hash);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("sha256 does not match"), std::string::npos) << r.error().message;
}

// A repository made by vouch's tooling, a client that trusts its first root, and helpers to
// alter the repository behind the tooling's back.
class TufRepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(write_file_atomic(t.path() / "hello.txt", "hello, world\n").ok());
    auto r = Repository::init(repo_dir());
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_TRUE(r->add_target(t.path() / "hello.txt", "hello.txt").ok());
    place(meta() / "1.root.json", cache() / "root.json");
  }
  fs::path repo_dir() const { return t.path() / "repo"; }
  fs::path meta() const { return repo_dir() / "repository"; }
  fs::path cache() const { return t.path() / "cache"; }
  Updater client() const { return open_updater(cache(), meta()); }
  Repository repo() const { return *Repository::open(repo_dir()); }

  // Rewrites a document's `signed` and signs it with the role's key from the repository.
  std::string resign(const fs::path& doc, const std::string& role, const std::function<void(bj::object&)>& change) {
    bj::object s = json::parse(read(doc))->as_object()["signed"].as_object();
    change(s);
    auto key = *crypto::PrivateKey::from_pem(read(repo_dir() / "keys" / (role + ".pem")));
    auto signed_doc = sign_document(s, {{Key::from_public_key(key.public_key())->key_id(), key}});
    EXPECT_TRUE(signed_doc.ok());
    return *signed_doc;
  }
  // A new timestamp version listing `snapshot` (bytes of version `version`).
  void publish_timestamp(const std::string& snapshot, int64_t version) {
    std::string ts = resign(meta() / "timestamp.json", "timestamp", [&](bj::object& s) {
      s["version"] = s["version"].as_int64() + 1;
      s["meta"] = bj::object{{"snapshot.json", bj::object{{"version", version},
                                                          {"length", static_cast<int64_t>(snapshot.size())},
                                                          {"hashes", bj::object{{"sha256", hex_encode(crypto::sha256(snapshot))}}}}}};
    });
    ASSERT_TRUE(write_file_atomic(meta() / "timestamp.json", ts).ok());
  }
  static void expect_error(const Status& st, std::string_view want) {
    ASSERT_FALSE(st.ok()) << "accepted; want: " << want;
    EXPECT_NE(st.error().message.find(want), std::string::npos) << st.error().message;
  }

  TempDir t;
};

TEST_F(TufRepositoryTest, AClientUpdatesAndDownloads) {
  Updater u = client();
  ASSERT_TRUE(u.refresh().ok());
  auto info = u.target_info("hello.txt");
  ASSERT_TRUE(info.ok() && info->has_value());
  EXPECT_EQ(*u.download_target(**info), "hello, world\n");
  // Stored under its consistent-snapshot name.
  EXPECT_TRUE(fs::exists(meta() / "targets" / (hex_encode(crypto::sha256(std::string("hello, world\n"))) + ".hello.txt")));
}

TEST_F(TufRepositoryTest, ARootSignedBelowThresholdIsRefused) {
  std::string bad = resign(meta() / "root.json", "timestamp", [](bj::object& s) { s["version"] = 2; });
  ASSERT_TRUE(write_file_atomic(meta() / "2.root.json", bad).ok());
  Updater u = client();
  expect_error(u.refresh(), "root: 2.root.json by the keys of trusted root version 1: 0 valid signature(s) from the role's keys, threshold 1");
}

TEST_F(TufRepositoryTest, ARolledBackTimestampIsRefused) {
  std::string old = read(meta() / "timestamp.json");
  ASSERT_TRUE(repo().refresh().ok());
  Updater u = client();
  ASSERT_TRUE(u.refresh().ok());
  ASSERT_TRUE(write_file_atomic(meta() / "timestamp.json", old).ok());
  Updater again = client();
  expect_error(again.refresh(), "timestamp: version 2 is below the trusted version 3 (a rollback)");
}

TEST_F(TufRepositoryTest, AnExpiredTimestampIsRefused) {
  std::string ts = resign(meta() / "timestamp.json", "timestamp", [](bj::object& s) {
    s["expires"] = "2020-01-01T00:00:00Z";
  });
  ASSERT_TRUE(write_file_atomic(meta() / "timestamp.json", ts).ok());
  Updater u = client();
  expect_error(u.refresh(), "timestamp version 2: expired at 2020-01-01T00:00:00Z");
}

TEST_F(TufRepositoryTest, ASnapshotListingAnotherTargetsVersionIsRefused) {
  // 99.targets.json is really version 2; the snapshot says 99.
  place(meta() / "2.targets.json", meta() / "99.targets.json");
  std::string snapshot = resign(meta() / "snapshot.json", "snapshot", [](bj::object& s) {
    s["version"] = 3;
    s["meta"] = bj::object{{"targets.json", bj::object{{"version", 99}}}};
  });
  ASSERT_TRUE(write_file_atomic(meta() / "3.snapshot.json", snapshot).ok());
  publish_timestamp(snapshot, 3);
  Updater u = client();
  expect_error(u.refresh(), "targets: 99.targets.json has version 2, the snapshot says 99");
}

TEST_F(TufRepositoryTest, ASnapshotThatDiffersFromTheTimestampIsRefused) {
  std::string snapshot = read(meta() / "2.snapshot.json");
  publish_timestamp(snapshot + " ", 2);  // the hash and length of other bytes
  Updater u = client();
  expect_error(u.refresh(), "snapshot: 2.snapshot.json: ");
}

TEST_F(TufRepositoryTest, ATargetOfTheWrongLengthOrHashIsRefused) {
  fs::path stored = meta() / "targets" / (hex_encode(crypto::sha256(std::string("hello, world\n"))) + ".hello.txt");
  Updater u = client();
  ASSERT_TRUE(u.refresh().ok());
  auto info = u.target_info("hello.txt");
  ASSERT_TRUE(info.ok() && info->has_value());
  ASSERT_TRUE(write_file_atomic(stored, "HELLO, WORLD\n").ok());
  auto r = u.download_target(**info);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("target hello.txt: sha256 does not match"), std::string::npos) << r.error().message;
  ASSERT_TRUE(write_file_atomic(stored, "hello, world\nand more\n").ok());
  r = u.download_target(**info);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("target hello.txt"), std::string::npos) << r.error().message;
}

TEST_F(TufRepositoryTest, AnOversizedTimestampIsRefusedBeforeParsing) {
  std::string ts = read(meta() / "timestamp.json");
  ts.insert(ts.size() - 2, std::string(20000, ' '));
  ASSERT_TRUE(write_file_atomic(meta() / "timestamp.json", ts).ok());
  Updater u = client();
  expect_error(u.refresh(), "timestamp: fetching timestamp.json");
}

TEST_F(TufRepositoryTest, KeyRotationsReachAClientHoldingTheFirstRoot) {
  Repository r = repo();
  for (const char* role : {"root", "timestamp", "snapshot", "targets"}) {
    auto v = r.rotate_key(role);
    ASSERT_TRUE(v.ok()) << role << ": " << v.error().message;
  }
  EXPECT_EQ(r.root_version(), 5);
  Updater u = client();
  Status st = u.refresh();
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(u.root().version, 5);
  auto info = u.target_info("hello.txt");
  ASSERT_TRUE(info.ok() && info->has_value());
  EXPECT_TRUE(u.download_target(**info).ok());
  // The old root key alone can no longer sign a root the client accepts.
  std::string forged = resign(meta() / "root.json", "root.retired-1", [](bj::object& s) { s["version"] = 6; });
  ASSERT_TRUE(write_file_atomic(meta() / "6.root.json", forged).ok());
  Updater again = client();
  expect_error(again.refresh(), "root: 6.root.json by the keys of trusted root version 5");
}

TEST_F(TufRepositoryTest, TheCacheServesWithoutTheRepository) {
  Updater u = client();
  ASSERT_TRUE(u.refresh().ok());
  auto info = u.target_info("hello.txt");
  ASSERT_TRUE(u.download_target(**info).ok());
  fs::remove_all(meta());
  Updater offline = client();
  EXPECT_FALSE(offline.refresh().ok());
  bool stale = true;
  Status st = offline.load_cached(&stale);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_FALSE(stale);
  auto cached = offline.target_info("hello.txt");
  ASSERT_TRUE(cached.ok() && cached->has_value());
  EXPECT_EQ(*offline.cached_target(**cached), "hello, world\n");
}

TEST(TufRoleNames, BecomeSafeFileNames) {
  const std::pair<const char*, const char*> cases[] = {
      {"registry.npmjs.org", "registry.npmjs.org"}, {"../a", "..%2Fa"}, {"..", "%2E%2E"}, {".", "%2E"}, {"ö", "%C3%B6"}};
  for (const auto& [name, file] : cases) EXPECT_EQ(file_name_for(name), file) << name;
}

}  // namespace
}  // namespace vouch::tuf
