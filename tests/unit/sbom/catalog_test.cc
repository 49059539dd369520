// Catalogers over a directory tree built by the test: os-release, dpkg (status, status.d,
// info lists, DEP-5 copyright) and apk, with symbolic links that point out of the tree.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "../temp_dir.h"
#include "vouch/sbom/catalog.h"

namespace vouch::sbom {
namespace {

namespace fs = std::filesystem;

void put(const fs::path& root, const std::string& rel, const std::string& content) {
  fs::path p = root / rel;
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
}

using vouch::testing::TempDir;

const Package* by_name(const Sbom& s, std::string_view name) {
  for (const auto& p : s.packages)
    if (p.name == name) return &p;
  return nullptr;
}

constexpr const char* kStatus =
    "Package: libssl3\n"
    "Status: install ok installed\n"
    "Architecture: amd64\n"
    "Source: openssl\n"
    "Version: 3.0.15-1~deb12u1\n"
    "Depends: libc6 (>= 2.34), libgcc-s1:any | libgcc1 [amd64]\n"
    "Description: Secure Sockets Layer toolkit\n"
    " continuation line\n"
    "\n"
    "Package: libgcc-s1\n"
    "Status: install ok installed\n"
    "Architecture: amd64\n"
    "Source: gcc-12 (12.2.0-14)\n"
    "Version: 12.2.0-14\n"
    "\n"
    "Package: bash\n"
    "Status: install ok installed\n"
    "Architecture: amd64\n"
    "Source: bash (5.2.15-2)\n"
    "Version: 5.2.15-2+b7\n"
    "Pre-Depends: libattr-virtual, bash\n"
    "\n"
    "Package: attr\n"
    "Status: install ok installed\n"
    "Architecture: amd64\n"
    "Source: attr (1:2.4.47-2)\n"
    "Provides: libattr-virtual (= 1)\n"
    "Version: 1:2.4.47-2+b1\n"
    "\n"
    "Package: removed\n"
    "Status: deinstall ok config-files\n"
    "Architecture: amd64\n"
    "Version: 1.0\n";

TEST(Glob, Patterns) {
  EXPECT_TRUE(glob_match("/var/lib/dpkg/status", "/var/lib/dpkg/status"));
  EXPECT_TRUE(glob_match("/var/lib/dpkg/status.d/*", "/var/lib/dpkg/status.d/base"));
  EXPECT_FALSE(glob_match("/var/lib/dpkg/status.d/*", "/var/lib/dpkg/status.d/a/b"));
  EXPECT_TRUE(glob_match("/usr/share/doc/*/copyright", "/usr/share/doc/bash/copyright"));
  EXPECT_TRUE(glob_match("**/package.json", "/package.json"));
  EXPECT_TRUE(glob_match("**/package.json", "/a/b/node_modules/x/package.json"));
  EXPECT_FALSE(glob_match("**/package.json", "/a/xpackage.json"));
}

TEST(Catalog, DebianDirectory) {
  TempDir t;
  fs::path root = t.path() / "root";
  put(root, "usr/lib/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n");
  fs::create_directories(root / "etc");
  fs::create_symlink("../usr/lib/os-release", root / "etc/os-release");
  put(root, "var/lib/dpkg/status", kStatus);
  put(root, "var/lib/dpkg/info/libssl3:amd64.list", "/.\n/usr\n/usr/lib/x86_64-linux-gnu/libssl.so.3\n");
  put(root, "var/lib/dpkg/info/bash.list", "/.\n/bin/bash\n");
  put(root, "usr/share/doc/bash/copyright",
      "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
      "Files: *\nCopyright: 1987 FSF\nLicense: GPL-3+\n\nFiles: lib/x\nLicense: BSD-4-Clause-UC\n text\n");
  put(root, "usr/share/doc/libssl3/copyright", "This is not machine-readable.\nLicense: Apache-2.0\n");
  // Outside the tree, reached only through symbolic links: never read.
  put(t.path(), "outside/status", "Package: intruder\nStatus: install ok installed\nVersion: 6.6.6\n");
  fs::create_directories(root / "var/lib/dpkg/status.d");
  fs::create_symlink(t.path() / "outside/status", root / "var/lib/dpkg/status.d/intruder");
  fs::create_directory_symlink(t.path() / "outside", root / "var/lib/dpkg/status.d/dir");

  auto source = directory_source(root.string());
  auto sbom = catalog(*source, default_catalogers());
  ASSERT_TRUE(sbom.ok()) << sbom.error().message;
  ASSERT_TRUE(sbom->distro.has_value());
  EXPECT_EQ(sbom->distro->id, "debian");
  EXPECT_EQ(sbom->distro->version_id, "12");
  EXPECT_EQ(sbom->distro->pretty_name, "Debian GNU/Linux 12 (bookworm)");
  ASSERT_EQ(sbom->packages.size(), 4u);
  EXPECT_EQ(by_name(*sbom, "intruder"), nullptr);
  EXPECT_EQ(by_name(*sbom, "removed"), nullptr);

  const Package* ssl = by_name(*sbom, "libssl3");
  ASSERT_NE(ssl, nullptr);
  EXPECT_EQ(ssl->purl, "pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=amd64&distro=debian-12&upstream=openssl");
  EXPECT_EQ(ssl->source_name, "openssl");
  EXPECT_EQ(ssl->files, (std::vector<std::string>{"/usr", "/usr/lib/x86_64-linux-gnu/libssl.so.3"}));
  EXPECT_TRUE(ssl->licenses.empty());
  ASSERT_EQ(ssl->locations.size(), 1u);
  EXPECT_EQ(ssl->locations[0].path, "/var/lib/dpkg/status");

  const Package* gcc = by_name(*sbom, "libgcc-s1");
  ASSERT_NE(gcc, nullptr);
  EXPECT_EQ(gcc->source_name, "gcc-12");
  EXPECT_EQ(gcc->source_version, "");
  EXPECT_EQ(gcc->purl, "pkg:deb/debian/libgcc-s1@12.2.0-14?arch=amd64&distro=debian-12&upstream=gcc-12");

  const Package* bash = by_name(*sbom, "bash");
  ASSERT_NE(bash, nullptr);
  EXPECT_EQ(bash->source_version, "5.2.15-2");
  EXPECT_EQ(bash->purl, "pkg:deb/debian/bash@5.2.15-2%2Bb7?arch=amd64&distro=debian-12&upstream=bash%405.2.15-2");
  EXPECT_EQ(bash->files, std::vector<std::string>{"/bin/bash"});
  EXPECT_EQ(bash->licenses, (std::vector<std::string>{"BSD-4-Clause-UC", "GPL-3.0-or-later"}));

  // An epoch and a binNMU, encoded as syft encodes them.
  const Package* attr = by_name(*sbom, "attr");
  ASSERT_NE(attr, nullptr);
  EXPECT_EQ(attr->purl, "pkg:deb/debian/attr@1%3A2.4.47-2%2Bb1?arch=amd64&distro=debian-12&upstream=attr%401%3A2.4.47-2");

  // Dependencies: by name and through Provides; absent packages and self-references dropped.
  EXPECT_EQ(ssl->depends_on, std::vector<std::string>{gcc->id});
  EXPECT_EQ(bash->depends_on, std::vector<std::string>{attr->id});
  EXPECT_TRUE(gcc->depends_on.empty());

  // Deterministic: the same tree gives the same ids.
  auto again = catalog(*source, default_catalogers());
  ASSERT_TRUE(again.ok());
  for (size_t i = 0; i < sbom->packages.size(); ++i) EXPECT_EQ(sbom->packages[i].id, again->packages[i].id);
}

TEST(Catalog, DistrolessStatusD) {
  TempDir t;
  put(t.path(), "etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n");
  put(t.path(), "var/lib/dpkg/status.d/base-files",
      "Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n");
  put(t.path(), "var/lib/dpkg/status.d/base-files.md5sums", "d41d8cd98f00b204e9800998ecf8427e  etc/issue\n");
  auto sbom = catalog(*directory_source(t.path().string()), default_catalogers());
  ASSERT_TRUE(sbom.ok()) << sbom.error().message;
  ASSERT_EQ(sbom->packages.size(), 1u);
  EXPECT_EQ(sbom->packages[0].purl, "pkg:deb/debian/base-files@12.4%2Bdeb12u5?arch=amd64&distro=debian-12");
  EXPECT_EQ(sbom->packages[0].locations[0].path, "/var/lib/dpkg/status.d/base-files");
}

TEST(Catalog, Alpine) {
  TempDir t;
  put(t.path(), "etc/os-release", "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\n");
  put(t.path(), "lib/apk/db/installed",
      "C:Q1abc=\nP:musl\nV:1.2.4_git20230717-r4\nA:x86_64\nL:MIT\no:musl\nF:lib\nR:ld-musl-x86_64.so.1\nR:libc.musl-x86_64.so.1\n\n"
      "P:libcrypto3\nV:3.1.4-r5\nA:x86_64\nL:Apache-2.0\no:openssl\nF:usr/lib\nR:libcrypto.so.3\n\n");
  auto sbom = catalog(*directory_source(t.path().string()), default_catalogers());
  ASSERT_TRUE(sbom.ok()) << sbom.error().message;
  ASSERT_EQ(sbom->packages.size(), 2u);
  const Package* c = by_name(*sbom, "libcrypto3");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->purl, "pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&distro=alpine-3.19.1&upstream=openssl");
  EXPECT_EQ(c->files, std::vector<std::string>{"/usr/lib/libcrypto.so.3"});
  EXPECT_EQ(c->licenses, std::vector<std::string>{"Apache-2.0"});
  const Package* m = by_name(*sbom, "musl");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->files.size(), 2u);
}

TEST(Catalog, MalformedInputNamesTheFile) {
  TempDir t;
  put(t.path(), "var/lib/dpkg/status", "Package: a\nthis line has no colon\n");
  auto sbom = catalog(*directory_source(t.path().string()), default_catalogers());
  ASSERT_FALSE(sbom.ok());
  EXPECT_NE(sbom.error().message.find("/var/lib/dpkg/status:2"), std::string::npos) << sbom.error().message;
  auto missing = catalog(*directory_source((t.path() / "nope").string()), default_catalogers());
  ASSERT_FALSE(missing.ok());
}

}  // namespace
}  // namespace vouch::sbom
