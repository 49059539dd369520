#include "vouch/vuln/update.h"

#include <gtest/gtest.h>

#include <fstream>

#include "../temp_dir.h"
#include "vouch/base/file.h"
#include "vouch/inventory/mirror.h"

namespace vouch::vuln {
namespace {

namespace fs = std::filesystem;

std::string record(std::string_view id, std::string_view modified, std::string_view package,
                   std::string_view fixed = "2.0") {
  return fmt::format(R"({{"id":"{}","modified":"{}","affected":[{{"package":{{"ecosystem":"PyPI","name":"{}"}},
    "ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"{}"}}]}}]}}]}})",
                     id, modified, package, fixed);
}

void write(const fs::path& p, std::string_view text) { ASSERT_TRUE(write_file_atomic(p, text).ok()); }

std::string file_bytes(const fs::path& p) { return read_file(p).value(); }

TEST(DbUpdate, AppliesOnlyNewerRecordsAndRecordsWhatChanged) {
  testing::TempDir t;
  fs::path in = t.path() / "in", db = t.path() / "db" / "vulnerabilities.db";
  fs::create_directories(in);
  write(in / "a.json", record("A-1", "2024-01-01T00:00:00Z", "Jinja2"));
  write(in / "b.json", record("B-1", "2024-01-01T00:00:00Z", "flask"));
  auto first = update_from_osv(db, {in}, "test");
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->seq, 1);
  EXPECT_EQ(first->added, 2u);

  auto again = update_from_osv(db, {in}, "test");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->seq, 0);  // nothing changed, no update recorded
  EXPECT_EQ(again->unchanged, 2u);

  // B-1 moves to another package: a rescan must revisit holders of both.
  write(in / "b.json", record("B-1", "2024-02-01T00:00:00Z", "quart"));
  auto second = update_from_osv(db, {in}, "test");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->seq, 2);
  EXPECT_EQ(second->modified, 1u);
  EXPECT_EQ(second->unchanged, 1u);

  auto changes = changes_since(db, 1);
  ASSERT_TRUE(changes.ok());
  EXPECT_EQ(changes->last_seq, 2);
  EXPECT_EQ(changes->ids, std::vector<std::string>{"B-1"});
  std::vector<std::pair<std::string, std::string>> want{{"PyPI", "flask"}, {"PyPI", "quart"}};
  EXPECT_EQ(changes->packages, want);

  auto all = changes_since(db, 0);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->ids.size(), 2u);  // A-1 and B-1, each once
  auto updates = list_updates(db);
  ASSERT_TRUE(updates.ok());
  ASSERT_EQ(updates->size(), 2u);
  EXPECT_EQ((*updates)[1].modified, 1u);
}

TEST(DbUpdate, FailedUpdateLeavesTheDatabaseAsItWas) {
  testing::TempDir t;
  fs::path in = t.path() / "in", db = t.path() / "vulnerabilities.db";
  fs::create_directories(in);
  write(in / "a.json", record("A-1", "2024-01-01T00:00:00Z", "jinja2"));
  ASSERT_TRUE(update_from_osv(db, {in}, "test").ok());
  const std::string before = file_bytes(db);

  // A zip cut short: refused before any record is read.
  write(t.path() / "cut.zip", std::string("PK\x03\x04", 4) + std::string(100, 'x'));
  write(in / "a.json", record("A-1", "2025-01-01T00:00:00Z", "jinja2"));
  auto r = update_from_osv(db, {in, t.path() / "cut.zip"}, "test");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("truncated zip archive"), std::string::npos) << r.error().message;
  EXPECT_EQ(file_bytes(db), before);
  for (const auto& e : fs::directory_iterator(t.path()))
    EXPECT_EQ(e.path().filename().string().find(".update-"), std::string::npos) << e.path();

  // Nothing but refused records: an error, not an empty update.
  fs::path junk = t.path() / "junk";
  fs::create_directories(junk);
  write(junk / "x.json", "{\"not\": \"osv\"}");
  auto j = update_from_osv(db, {junk}, "junk");
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(file_bytes(db), before);
}

TEST(DbUpdate, AbsurdRangesAreNamed) {
  auto rec = parse_osv(record("A-1", "2024-01-01T00:00:00Z", "x"));
  ASSERT_TRUE(rec.ok());
  EXPECT_FALSE(absurd_ranges(*rec).has_value());
  rec->affected[0].ranges[0].events.resize(3000, OsvEvent{EventKind::kIntroduced, "1"});
  auto why = absurd_ranges(*rec);
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(*why, "affected[0].ranges[0]: 3000 events (at most 2000)");
  rec->affected[0].ranges[0].events.resize(2);
  rec->affected[0].versions.push_back(std::string(600, '1'));
  why = absurd_ranges(*rec);
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(*why, "affected[0].versions[0]: 600 characters long");
}

TEST(DbUpdate, SnapshotRoundTripRecordsTheDifference) {
  testing::TempDir t;
  fs::path in = t.path() / "in", server = t.path() / "server.db", site = t.path() / "site.db";
  fs::create_directories(in);
  write(in / "a.json", record("A-1", "2024-01-01T00:00:00Z", "jinja2"));
  write(in / "b.json", record("B-1", "2024-01-01T00:00:00Z", "flask"));
  ASSERT_TRUE(update_from_osv(server, {in}, "osv").ok());
  ASSERT_TRUE(build_snapshot(server, t.path() / "snap1.db").ok());
  auto first = install_snapshot(site, t.path() / "snap1.db", "snap1");
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->added, 2u);

  // The server drops nothing but changes A-1 and adds C-1.
  write(in / "a.json", record("A-1", "2024-03-01T00:00:00Z", "jinja2", "3.0"));
  write(in / "c.json", record("C-1", "2024-03-01T00:00:00Z", "django"));
  ASSERT_TRUE(update_from_osv(server, {in}, "osv").ok());
  ASSERT_TRUE(build_snapshot(server, t.path() / "snap2.db").ok());
  auto second = install_snapshot(site, t.path() / "snap2.db", "snap2");
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->seq, 2);  // the site's own numbering
  EXPECT_EQ(second->added, 1u);
  EXPECT_EQ(second->modified, 1u);
  auto changes = changes_since(site, 1);
  ASSERT_TRUE(changes.ok());
  EXPECT_EQ(changes->ids, (std::vector<std::string>{"A-1", "C-1"}));

  // Not a database: refused, the site's kept.
  const std::string before = file_bytes(site);
  write(t.path() / "junk.db", "SQLite format 3 but not really");
  EXPECT_FALSE(install_snapshot(site, t.path() / "junk.db", "junk").ok());
  EXPECT_EQ(file_bytes(site), before);
}

TEST(DbUpdateLatestJson, ParsesAndRefuses) {
  inventory::LatestJson l;
  l.schema_version = 1;
  l.built = 1700000000;
  l.path = "vulns.db";
  l.checksum = "sha256:" + std::string(64, 'a');
  auto back = inventory::parse_latest_json(inventory::serialize_latest_json(l));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->path, "vulns.db");
  EXPECT_EQ(back->built, 1700000000);
  auto with = [&](std::string_view key, std::string value) {
    std::string text = inventory::serialize_latest_json(l);
    size_t at = text.find(fmt::format("\"{}\"", key));
    size_t colon = text.find(':', at), end = text.find_first_of(",\n}", colon + 2);
    if (key == "built") end = text.find('"', text.find('"', colon) + 1) + 1;
    return text.substr(0, colon + 1) + value + text.substr(end);
  };
  EXPECT_FALSE(inventory::parse_latest_json(with("schemaVersion", "2")).ok());
  EXPECT_FALSE(inventory::parse_latest_json(with("path", "\"../etc/passwd\"")).ok());
  EXPECT_FALSE(inventory::parse_latest_json(with("checksum", "\"md5:abc\"")).ok());
  EXPECT_FALSE(inventory::parse_latest_json(with("status", "\"deprecated\"")).ok());
}

}  // namespace
}  // namespace vouch::vuln
