// `vouch db import` against the real OSV data in ../shared/testdata/osv: every record loads,
// the irregular ones are reported, re-imports are idempotent and incremental by `modified`.
#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include <gtest/gtest.h>

#include "../testdata.h"
#include "vouch/base/file.h"
#include "vouch/vuln/database.h"

namespace vouch::vuln {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() / ("vouch-vuln-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

size_t count_json(const fs::path& dir) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ".json";
  return n;
}

std::unique_ptr<VulnerabilityStore> open(const fs::path& dir) {
  auto s = open_sqlite_store(database_file(dir), true);
  if (!s.ok()) throw std::runtime_error(s.error().message);
  return std::move(s).value();
}

TEST(Database, ImportsEveryPublishedRecord) {
  TempDir tmp;
  auto store = open(tmp.path());
  fs::path osv = testing::testdata_dir() / "osv";
  struct Feed {
    const char* dir;
    size_t records;
    const char* ecosystem;
  };
  // The counts SOURCES.md gives for these snapshots.
  for (Feed feed : {Feed{"go", 4291, "Go"}, Feed{"pypi", 2661, "PyPI"}, Feed{"crates.io", 1206, "crates.io"}}) {
    ASSERT_EQ(count_json(osv / feed.dir), feed.records) << feed.dir;
    auto stats = import_osv(*store, {osv / feed.dir});
    ASSERT_TRUE(stats.ok()) << stats.error().message;
    std::printf("[ import   ] %-10s %zu records, %zu added, %zu malformed, %zu warnings, %.2f s (%.0f records/s)\n",
                feed.dir, stats->seen, stats->added, stats->malformed, stats->warnings.size(), stats->seconds,
                static_cast<double>(stats->seen) / stats->seconds);
    EXPECT_EQ(stats->seen, feed.records);
    EXPECT_EQ(stats->added, feed.records);
    EXPECT_EQ(stats->malformed, 0u);
    for (const auto& p : stats->problems) ADD_FAILURE() << p;
    if (std::string(feed.dir) == "pypi") {
      // The 7 records whose GIT `fixed` values are not commit hashes as published.
      std::vector<std::string> ids;
      for (const auto& w : stats->warnings) ids.push_back(w.substr(0, w.find(':')));
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      EXPECT_EQ(ids, (std::vector<std::string>{"PYSEC-2017-27", "PYSEC-2019-155", "PYSEC-2021-371", "PYSEC-2021-424",
                                               "PYSEC-2021-425", "PYSEC-2021-436", "PYSEC-2023-80"}));
      EXPECT_NE(stats->warnings[0].find("is not a commit hash"), std::string::npos) << stats->warnings[0];
    } else {
      EXPECT_TRUE(stats->warnings.empty()) << stats->warnings[0];
    }
  }
  auto status = store->status();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->records, 4291 + 2661 + 1206);
  EXPECT_EQ(status->by_ecosystem["Go"], 4291);
  EXPECT_EQ(status->by_ecosystem["crates.io"], 1206);
  EXPECT_EQ(status->by_ecosystem["PyPI"], 2661);
  EXPECT_TRUE(status->last_import.has_value());
  EXPECT_FALSE(status->newest_modified.empty());

  // Lookups: PyPI names are normalized (PEP 503).
  auto recs = store->records_for("PyPI", "Jinja2");
  ASSERT_TRUE(recs.ok()) << recs.error().message;
  EXPECT_FALSE(recs->empty());
  auto recs2 = store->records_for("PyPI", "jinja2");
  ASSERT_TRUE(recs2.ok());
  EXPECT_EQ(recs->size(), recs2->size());

  // Idempotent: importing again changes nothing.
  auto again = import_osv(*store, {osv / "crates.io"});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->added, 0u);
  EXPECT_EQ(again->updated, 0u);
  EXPECT_EQ(again->unchanged, 1206u);
}

TEST(Database, IncrementalByModifiedAndTolerantOfMalformedRecords) {
  TempDir tmp;
  auto store = open(tmp.path() / "db");
  fs::path src = testing::testdata_dir() / "osv" / "crates.io" / "RUSTSEC-2016-0001.json";
  std::string original = testing::read_testdata("osv/crates.io/RUSTSEC-2016-0001.json");
  fs::path in = tmp.path() / "in";
  fs::create_directories(in);
  ASSERT_TRUE(write_file_atomic(in / "a.json", original).ok());
  ASSERT_TRUE(write_file_atomic(in / "broken.json", "{\"id\": \"X-1\", \"modified\": ").ok());
  ASSERT_TRUE(write_file_atomic(in / "noid.json", "{\"modified\": \"2024-01-01T00:00:00Z\"}").ok());
  ASSERT_TRUE(write_file_atomic(in / "badevent.json",
                                R"({"id":"X-2","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"x"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0","fixed":"1"}]}]}]})")
                  .ok());
  auto stats = import_osv(*store, {in});
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  EXPECT_EQ(stats->seen, 4u);
  EXPECT_EQ(stats->added, 1u);
  EXPECT_EQ(stats->malformed, 3u);
  ASSERT_EQ(stats->problems.size(), 3u);
  EXPECT_NE(stats->problems[0].find("badevent.json: X-2: affected[0].ranges[0].events[0]: an event has exactly one"),
            std::string::npos)
      << stats->problems[0];
  EXPECT_NE(stats->problems[1].find("broken.json: malformed JSON"), std::string::npos) << stats->problems[1];
  EXPECT_NE(stats->problems[2].find("noid.json: id: missing"), std::string::npos) << stats->problems[2];

  // A newer `modified` replaces the record; an older one does not.
  std::string newer = original;
  size_t pos = newer.find("\"modified\": \"");
  ASSERT_NE(pos, std::string::npos);
  newer.replace(pos + 13, 20, "2099-01-01T00:00:00Z");
  size_t sum = newer.find("\"summary\": \"");
  newer.insert(sum + 12, "UPDATED ");
  ASSERT_TRUE(write_file_atomic(tmp.path() / "newer.json", newer).ok());
  auto s2 = import_osv(*store, {tmp.path() / "newer.json", src});
  ASSERT_TRUE(s2.ok());
  EXPECT_EQ(s2->updated, 1u);
  EXPECT_EQ(s2->unchanged, 1u);  // the original, older than what is stored now
  auto rec = store->record("RUSTSEC-2016-0001");
  ASSERT_TRUE(rec.ok() && rec->has_value());
  EXPECT_EQ((*rec)->modified, "2099-01-01T00:00:00Z");
  EXPECT_TRUE((*rec)->summary.starts_with("UPDATED ")) << (*rec)->summary;

  // Inputs that do not exist fail the import.
  EXPECT_FALSE(import_osv(*store, {tmp.path() / "missing"}).ok());
}

TEST(Database, ImportsZipArchivesAsOsvPublishesThem) {
  TempDir tmp;
  fs::path zip = tmp.path() / "all.zip";
  std::vector<std::string> ids;
  {
    struct archive* a = archive_write_new();
    ASSERT_EQ(archive_write_set_format_zip(a), ARCHIVE_OK);
    ASSERT_EQ(archive_write_open_filename(a, zip.c_str()), ARCHIVE_OK);
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(testing::testdata_dir() / "osv" / "crates.io")) {
      if (e.path().extension() != ".json" || n++ >= 50) continue;
      std::string body = *read_file(e.path());
      ids.push_back(e.path().stem().string());
      struct archive_entry* entry = archive_entry_new();
      archive_entry_set_pathname(entry, e.path().filename().c_str());
      archive_entry_set_filetype(entry, AE_IFREG);
      archive_entry_set_perm(entry, 0644);
      archive_entry_set_size(entry, static_cast<la_int64_t>(body.size()));
      ASSERT_EQ(archive_write_header(a, entry), ARCHIVE_OK);
      ASSERT_EQ(archive_write_data(a, body.data(), body.size()), static_cast<la_ssize_t>(body.size()));
      archive_entry_free(entry);
    }
    archive_write_close(a);
    archive_write_free(a);
  }
  auto store = open(tmp.path() / "db");
  auto stats = import_osv(*store, {zip});
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  EXPECT_EQ(stats->seen, 50u);
  EXPECT_EQ(stats->added, 50u);
  for (const auto& id : ids) {
    auto rec = store->record(id);
    ASSERT_TRUE(rec.ok() && rec->has_value()) << id;
  }
  // A file that is not an archive fails clearly.
  ASSERT_TRUE(write_file_atomic(tmp.path() / "bad.zip", "not a zip").ok());
  auto bad = import_osv(*store, {tmp.path() / "bad.zip"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("bad.zip"), std::string::npos);
}

}  // namespace
}  // namespace vouch::vuln
