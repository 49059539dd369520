// rpm header blobs and SQLite rpm databases, and Java archives, built by the test.
#include <archive.h>
#include <archive_entry.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <tuple>

#include <gtest/gtest.h>

#include "../temp_dir.h"
#include "elf_builder.h"
#include "vouch/sbom/catalog.h"
#include "vouch/sbom/parsers.h"

namespace vouch::sbom {
namespace {

namespace fs = std::filesystem;
using testing::put_uint;

struct Tag {
  uint32_t tag, type;
  std::vector<std::string> strings;  // string types
  std::vector<int32_t> ints;         // int32
};

std::string rpm_header(const std::vector<Tag>& tags) {
  std::string index, data;
  for (const auto& t : tags) {
    if (t.type == 4)
      while (data.size() % 4) data.push_back('\0');
    uint32_t offset = static_cast<uint32_t>(data.size());
    uint32_t count = 0;
    if (t.type == 4) {
      for (int32_t v : t.ints) put_uint(data, static_cast<uint32_t>(v), 4, true);
      count = static_cast<uint32_t>(t.ints.size());
    } else {
      for (const auto& s : t.strings) data += s + '\0';
      count = static_cast<uint32_t>(t.strings.size());
    }
    put_uint(index, t.tag, 4, true);
    put_uint(index, t.type, 4, true);
    put_uint(index, offset, 4, true);
    put_uint(index, count, 4, true);
  }
  std::string out;
  put_uint(out, tags.size(), 4, true);
  put_uint(out, data.size(), 4, true);
  return out + index + data;
}

std::vector<Tag> bash_tags() {
  return {{1000, 6, {"bash"}, {}},
          {1001, 6, {"5.1.8"}, {}},
          {1002, 6, {"6.el9_1"}, {}},
          {1003, 4, {}, {1}},
          {1014, 6, {"GPLv3+"}, {}},
          {1022, 6, {"x86_64"}, {}},
          {1044, 6, {"bash-5.1.8-6.el9_1.src.rpm"}, {}},
          {1116, 4, {}, {0, 1, 1}},
          {1117, 8, {"bash", "bash.1.gz", "sh.1.gz"}, {}},
          {1118, 8, {"/usr/bin/", "/usr/share/man/man1/"}, {}}};
}

TEST(RpmHeader, Fields) {
  auto h = parse_rpm_header(rpm_header(bash_tags()));
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->name, "bash");
  EXPECT_EQ(h->version, "5.1.8");
  EXPECT_EQ(h->release, "6.el9_1");
  ASSERT_TRUE(h->epoch.has_value());
  EXPECT_EQ(*h->epoch, 1);
  EXPECT_EQ(h->arch, "x86_64");
  EXPECT_EQ(h->license, "GPLv3+");
  EXPECT_EQ(h->source_rpm, "bash-5.1.8-6.el9_1.src.rpm");
  EXPECT_EQ(h->files, (std::vector<std::string>{"/usr/bin/bash", "/usr/share/man/man1/bash.1.gz",
                                                 "/usr/share/man/man1/sh.1.gz"}));
}

TEST(RpmHeader, MalformedHeadersAreErrors) {
  std::string good = rpm_header(bash_tags());
  for (size_t n = 0; n < good.size(); ++n) EXPECT_FALSE(parse_rpm_header(good.substr(0, n)).ok()) << n;
  auto tags = bash_tags();
  tags[7].ints = {0, 5, 1};  // dir index out of range
  auto h = parse_rpm_header(rpm_header(tags));
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.error().message.find("dir index 5"), std::string::npos) << h.error().message;
  tags = bash_tags();
  tags[7].ints = {0, 1};  // fewer indexes than basenames
  EXPECT_FALSE(parse_rpm_header(rpm_header(tags)).ok());
  tags = bash_tags();
  tags[0].type = 4;  // the name as a number
  tags[0].ints = {1};
  EXPECT_FALSE(parse_rpm_header(rpm_header(tags)).ok());
  // A string array whose count runs past the data.
  std::string bad = good;
  size_t basenames_count = 8 + 8 * 16 + 12;
  testing::set_uint(bad, basenames_count, 0x7fffffff, 4, true);
  EXPECT_FALSE(parse_rpm_header(bad).ok());
  // Absurd index counts.
  std::string huge;
  put_uint(huge, 0xffffffff, 4, true);
  put_uint(huge, 0, 4, true);
  EXPECT_FALSE(parse_rpm_header(huge).ok());
}

using vouch::testing::TempDir;

void put(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
}

void make_rpmdb(const fs::path& file, const std::vector<std::string>& blobs, bool wal) {
  fs::create_directories(file.parent_path());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  if (wal) {
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr), SQLITE_OK);
  }
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  for (const auto& b : blobs) {
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "INSERT INTO Packages (blob) VALUES (?)", -1, &st, nullptr), SQLITE_OK);
    sqlite3_bind_blob(st, 1, b.data(), static_cast<int>(b.size()), SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
  }
  ASSERT_EQ(sqlite3_close(db), SQLITE_OK);
}

TEST(RpmCatalog, SqliteDatabaseWithDistro) {
  for (bool wal : {false, true}) {
    SCOPED_TRACE(wal ? "WAL" : "rollback journal");
    TempDir dir;
    put(dir.path() / "etc/os-release", "ID=rhel\nVERSION_ID=\"9.3\"\n");
    std::vector<Tag> noarch = {{1000, 6, {"tzdata"}, {}}, {1001, 6, {"2024a"}, {}}, {1002, 6, {"1.el9"}, {}},
                               {1022, 6, {"noarch"}, {}}};
    std::vector<Tag> key = {{1000, 6, {"gpg-pubkey"}, {}}, {1001, 6, {"fd431d51"}, {}}, {1002, 6, {"4ae0493b"}, {}}};
    make_rpmdb(dir.path() / "var/lib/rpm/rpmdb.sqlite",
               {rpm_header(bash_tags()), rpm_header(noarch), rpm_header(key)}, wal);
    auto source = directory_source(dir.path().string());
    auto sbom = catalog(*source, default_catalogers());
    ASSERT_TRUE(sbom.ok()) << sbom.error().message;
    std::vector<const Package*> rpms;
    for (const auto& p : sbom->packages)
      if (p.type == "rpm") rpms.push_back(&p);
    // Imported signing keys are listed as rpm -qa lists them.
    ASSERT_EQ(rpms.size(), 3u);
    EXPECT_EQ(rpms[1]->name, "gpg-pubkey");
    EXPECT_EQ(rpms[1]->purl, "pkg:rpm/redhat/gpg-pubkey@fd431d51-4ae0493b?distro=rhel-9.3");
    EXPECT_EQ(rpms[0]->name, "bash");
    EXPECT_EQ(rpms[0]->version, "1:5.1.8-6.el9_1");
    EXPECT_EQ(rpms[0]->purl,
              "pkg:rpm/redhat/bash@5.1.8-6.el9_1?arch=x86_64&distro=rhel-9.3&epoch=1&upstream=bash-5.1.8-6.el9_1.src.rpm");
    EXPECT_EQ(rpms[0]->licenses, std::vector<std::string>{"GPLv3+"});
    EXPECT_EQ(rpms[0]->files.size(), 3u);
    EXPECT_EQ(rpms[0]->locations[0].path, "/var/lib/rpm/rpmdb.sqlite");
    EXPECT_EQ(rpms[2]->purl, "pkg:rpm/redhat/tzdata@2024a-1.el9?arch=noarch&distro=rhel-9.3");
  }
}

TEST(RpmCatalog, UnreadFormatsAreReported) {
  TempDir dir;
  put(dir.path() / "var/lib/rpm/Packages", std::string(4096, '\0'));
  put(dir.path() / "usr/lib/sysimage/rpm/Packages.db", std::string(4096, '\0'));
  auto source = directory_source(dir.path().string());
  auto sbom = catalog(*source, default_catalogers());
  ASSERT_TRUE(sbom.ok()) << sbom.error().message;
  ASSERT_EQ(sbom->warnings.size(), 2u);
  std::string all = sbom->warnings[0] + "\n" + sbom->warnings[1];
  EXPECT_NE(all.find("/var/lib/rpm/Packages: rpm database in Berkeley DB format is not read"), std::string::npos) << all;
  EXPECT_NE(all.find("/usr/lib/sysimage/rpm/Packages.db: rpm database in NDB format is not read"), std::string::npos)
      << all;
}

TEST(RpmCatalog, CorruptDatabaseNamesTheFile) {
  TempDir dir;
  put(dir.path() / "var/lib/rpm/rpmdb.sqlite", std::string("SQLite format 3\0", 16) + std::string(100, 'x'));
  auto source = directory_source(dir.path().string());
  auto sbom = catalog(*source, default_catalogers());
  ASSERT_FALSE(sbom.ok());
  EXPECT_NE(sbom.error().message.find("/var/lib/rpm/rpmdb.sqlite"), std::string::npos) << sbom.error().message;

  TempDir dir2;
  make_rpmdb(dir2.path() / "var/lib/rpm/rpmdb.sqlite", {std::string("\0\0\0\1\0\0\0\0", 8)}, false);
  source = directory_source(dir2.path().string());
  sbom = catalog(*source, default_catalogers());
  ASSERT_FALSE(sbom.ok());
  EXPECT_NE(sbom.error().message.find("package 1"), std::string::npos) << sbom.error().message;
}

// --- Java -----------------------------------------------------------------------------------------

std::string zip(const std::vector<std::pair<std::string, std::string>>& files) {
  struct archive* a = archive_write_new();
  archive_write_set_format_zip(a);
  std::vector<char> buf(8 << 20);
  size_t used = 0;
  archive_write_open_memory(a, buf.data(), buf.size(), &used);
  for (const auto& [name, content] : files) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
    archive_write_header(a, e);
    archive_write_data(a, content.data(), content.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return std::string(buf.data(), used);
}

TEST(JavaArchive, PomPropertiesManifestAndNestedArchives) {
  std::string inner_pom = zip({{"META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n"},
                               {"META-INF/maven/com.fasterxml.jackson.core/jackson-core/pom.properties",
                                "#Generated by Maven\ngroupId=com.fasterxml.jackson.core\nartifactId=jackson-core\n"
                                "version=2.15.2\n"}});
  std::string inner_manifest = zip({{"META-INF/MANIFEST.MF",
                                     "Manifest-Version: 1.0\r\nImplementation-Title: Some Lib\r\n"
                                     "Implementation-Vendor-Id: org.some\r\n\r\n"
                                     "Name: org/some/\r\nImplementation-Version: 3\r\n .1\r\n\r\n"}});
  std::string war = zip({{"META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n"},
                         {"META-INF/maven/com.example/shop/pom.properties",
                          "groupId=com.example\nartifactId=shop\nversion=1.2.0\n"},
                         {"WEB-INF/lib/jackson-core-2.15.2.jar", inner_pom},
                         {"WEB-INF/lib/somelib.jar", inner_manifest}});
  auto ps = parse_java_archive(war, Location{"/srv/shop.war", ""});
  ASSERT_TRUE(ps.ok()) << ps.error().message;
  ASSERT_EQ(ps->size(), 3u);
  std::map<std::string, std::string> purls;
  for (const auto& p : *ps) {
    purls[p.name] = p.purl;
    EXPECT_EQ(p.type, "java-archive");
    EXPECT_EQ(p.locations[0].path, "/srv/shop.war");
  }
  EXPECT_EQ(purls["shop"], "pkg:maven/com.example/shop@1.2.0");
  EXPECT_EQ(purls["jackson-core"], "pkg:maven/com.fasterxml.jackson.core/jackson-core@2.15.2");
  EXPECT_EQ(purls["somelib"], "pkg:maven/org.some/somelib@3.1");
}

TEST(JavaArchive, FileNameVersionWithoutPom) {
  std::string jar = zip({{"META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n"}, {"a/B.class", "xx"}});
  auto ps = parse_java_archive(jar, Location{"/opt/lib/guava-32.1.2-jre.jar", ""});
  ASSERT_TRUE(ps.ok()) << ps.error().message;
  ASSERT_EQ(ps->size(), 1u);
  EXPECT_EQ((*ps)[0].name, "guava");
  EXPECT_EQ((*ps)[0].version, "32.1.2-jre");
  EXPECT_EQ((*ps)[0].purl, "pkg:maven/guava/guava@32.1.2-jre");
}

TEST(JavaArchive, GroupIdCleanup) {
  std::string jar = zip({{"META-INF/maven/x/a/pom.properties", "groupId=org.bar;uses:=\"org.foo\"\nartifactId=a\nversion=1\n"},
                         {"META-INF/maven/y/b/pom.properties", "artifactId=io.example.b\nversion=2\n"},
                         {"META-INF/maven/z/c/pom.properties", "artifactId=c\nversion=3\n"}});
  auto ps = parse_java_archive(jar, Location{"/lib/x.jar", ""});
  ASSERT_TRUE(ps.ok()) << ps.error().message;
  std::vector<std::string> purls;
  for (const auto& p : *ps) purls.push_back(p.purl);
  std::sort(purls.begin(), purls.end());
  EXPECT_EQ(purls, (std::vector<std::string>{"pkg:maven/c/c@3", "pkg:maven/io.example.b/io.example.b@2",
                                             "pkg:maven/org.bar/a@1"}));
}

TEST(JavaArchive, NoManifestNoPomNoPackage) {
  auto ps = parse_java_archive(zip({{"a/B.class", "xx"}}), Location{"/opt/lib/plain-1.0.jar", ""});
  ASSERT_TRUE(ps.ok()) << ps.error().message;
  EXPECT_TRUE(ps->empty());
  // Named by the manifest when the file name says nothing.
  ps = parse_java_archive(zip({{"META-INF/MANIFEST.MF", "Bundle-Name: Fancy\nSpecification-Version: 7\n"}}),
                          Location{"/opt/lib/1.jar", ""});
  ASSERT_TRUE(ps.ok()) << ps.error().message;
  ASSERT_EQ(ps->size(), 1u);
  EXPECT_EQ((*ps)[0].name, "Fancy");
  EXPECT_EQ((*ps)[0].version, "7");
}

TEST(JavaArchive, NameAndVersionFromTheFileName) {
  std::string jar = zip({{"META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n"}});
  for (auto [file, name, version] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"my-http2-server-5.jar", "my-http2-server", "5"},
           {"jetpack-build235-rc5.jar", "jetpack", "build235-rc5"},
           {"ironman-r4-2009.jar", "ironman", "r4-2009"},
           {"prefix.thing-4.jar", "prefix.thing", "4"},
           {"foo_1.2.jar", "foo", "1.2"},
           {"rcade-rcx-1.0.jar", "rcade-rcx", "1.0"}}) {
    auto ps = parse_java_archive(jar, Location{"/lib/" + file, ""});
    ASSERT_TRUE(ps.ok()) << ps.error().message;
    ASSERT_EQ(ps->size(), 1u) << file;
    EXPECT_EQ((*ps)[0].name, name) << file;
    EXPECT_EQ((*ps)[0].version, version) << file;
  }
}

TEST(JavaArchive, MalformedArchivesAreErrorsNamingTheFile) {
  std::string jar = zip({{"META-INF/maven/g/a/pom.properties", "groupId=g\nartifactId=a\nversion=1\n"}});
  for (size_t n : {size_t{0}, size_t{10}, jar.size() / 2, jar.size() - 5}) {
    auto ps = parse_java_archive(jar.substr(0, n), Location{"/x/broken.jar", ""});
    if (!ps.ok()) {
      EXPECT_NE(ps.error().message.find("/x/broken.jar"), std::string::npos) << ps.error().message;
    }
  }
  auto ps = parse_java_archive("PK\x03\x04garbage", Location{"/x/garbage.jar", ""});
  ASSERT_FALSE(ps.ok());
  EXPECT_NE(ps.error().message.find("/x/garbage.jar"), std::string::npos) << ps.error().message;
}

TEST(JavaArchive, ArchiveErrorsWithoutAMessage) {
  // Found by fuzzing: libarchive reports this damaged entry without an error message.
  const std::string jar(
      "\x50\x4b\x03\x04\x14\x00\x00\x00\x00\x00\xf3\x02\x76\x5d\x7a\xdf\x5a\x20\x16\x00\x00\x00\x16\x00"
      "\x00\x00\x14\x00\x00\x00\x4d\x45\x54\x41\x2d\x49\x4e\x6a\x61\x72\x50\x4b\x03\x04\x14\x00\x00\x00"
      "\x00\x00\xf3\x02\x76\x5d\xff\xd9\xe2\x92\x4c\x00\x00\x00\x4c\x00\x00\x00\x14\x00\x00\x00\x4d\x45"
      "\x54\x41\x2d\x49\x4e\x46\x2f\x4d\x41\x4e\x49\x46\x45\x53\x54\x2e\x4d\x46\x4d\x61\x6e\x69\x66\x65"
      "\x73\x74\x2d\x56\x65\x72\x73\x69\x6f\x6e\x3a\x20\x32\x2e\x30\x0a\x49\x6d\x70\x6c\x65\x6d\x65\x6e"
      "\x74\x61\x74\x69\x6f\x6e\x2d\x54\x69\x74\x6c\x65\x3a\x64\x69\x6e\x6e\x65\x72\x0a\x49\x6d\x70\x6c"
      "\x65\x6d\x65\x6e\x74\x61\x74\x69\x00\x00\x03\x00\x03\x00\xd6\x05\x06\x00\x00\x00\x00\x03\x00\x03",
      168);
  auto ps = parse_java_archive(jar, Location{"/x/damaged.jar", ""});
  ASSERT_FALSE(ps.ok());
  EXPECT_NE(ps.error().message.find("/x/damaged.jar"), std::string::npos) << ps.error().message;
}

TEST(JavaArchive, CatalogedFromADirectory) {
  TempDir dir;
  put(dir.path() / "usr/share/java/commons-io-2.11.0.jar",
      zip({{"META-INF/maven/commons-io/commons-io/pom.properties",
            "groupId=commons-io\nartifactId=commons-io\nversion=2.11.0\n"}}));
  auto source = directory_source(dir.path().string());
  auto sbom = catalog(*source, default_catalogers());
  ASSERT_TRUE(sbom.ok()) << sbom.error().message;
  ASSERT_EQ(sbom->packages.size(), 1u);
  EXPECT_EQ(sbom->packages[0].purl, "pkg:maven/commons-io/commons-io@2.11.0");
  EXPECT_EQ(sbom->packages[0].locations[0].path, "/usr/share/java/commons-io-2.11.0.jar");
}

}  // namespace
}  // namespace vouch::sbom
