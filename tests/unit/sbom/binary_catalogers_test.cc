// Go build info, cargo-auditable and Cargo.lock parsers over ELF files and texts built here,
// and the catalog finding executables by content.
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "../temp_dir.h"
#include "elf_builder.h"
#include "vouch/sbom/catalog.h"
#include "vouch/sbom/parsers.h"

namespace vouch::sbom {
namespace {

namespace fs = std::filesystem;
using testing::build_elf;
using testing::framed_modinfo;
using testing::go_inline_buildinfo;
using testing::go_pointer_buildinfo;

const std::string kModinfo =
    "path\texample.com/tool/cmd/tool\n"
    "mod\texample.com/tool\tv1.4.0\th1:abc=\n"
    "dep\tgithub.com/pkg/errors\tv0.9.1\th1:def=\n"
    "dep\tgolang.org/x/sys\tv0.1.0\n"
    "=>\tgithub.com/fork/sys\tv0.1.1\th1:ghi=\n"
    "dep\texample.com/local\tv0.0.0\n"
    "=>\t../local\n"
    "build\t-compiler=gc\n"
    "build\tGOARCH=amd64\n";

const Package* find(const std::vector<Package>& ps, std::string_view name) {
  for (const auto& p : ps)
    if (p.name == name) return &p;
  return nullptr;
}

void expect_tool_packages(const std::vector<Package>& ps) {
  ASSERT_EQ(ps.size(), 5u);
  const Package* main = find(ps, "example.com/tool");
  ASSERT_NE(main, nullptr);
  EXPECT_EQ(main->version, "v1.4.0");
  EXPECT_EQ(main->type, "go-module");
  EXPECT_EQ(main->purl, "pkg:golang/example.com/tool@v1.4.0");
  const Package* errors = find(ps, "github.com/pkg/errors");
  ASSERT_NE(errors, nullptr);
  EXPECT_EQ(errors->purl, "pkg:golang/github.com/pkg/errors@v0.9.1");
  // Replacements: the module that was built in is the replacement.
  EXPECT_EQ(find(ps, "golang.org/x/sys"), nullptr);
  const Package* fork = find(ps, "github.com/fork/sys");
  ASSERT_NE(fork, nullptr);
  EXPECT_EQ(fork->version, "v0.1.1");
  const Package* local = find(ps, "../local");
  ASSERT_NE(local, nullptr);
  EXPECT_EQ(local->version, "");
  const Package* stdlib = find(ps, "stdlib");
  ASSERT_NE(stdlib, nullptr);
  EXPECT_EQ(stdlib->version, "go1.21.5");
  EXPECT_EQ(stdlib->purl, "pkg:golang/stdlib@1.21.5");
  ASSERT_EQ(stdlib->cpes.size(), 1u);
  EXPECT_EQ(stdlib->cpes[0], "cpe:2.3:a:golang:go:1.21.5:-:*:*:*:*:*:*");
}

std::vector<Package> go_from_elf(const std::string& elf) {
  auto r = read_go_buildinfo(elf);
  EXPECT_TRUE(r.ok()) << r.error().message;
  if (!r.ok() || !*r) return {};
  auto info = parse_go_modinfo((*r)->first, (*r)->second);
  EXPECT_TRUE(info.ok()) << info.error().message;
  if (!info.ok()) return {};
  return go_packages(*info, Location{"/usr/bin/tool", ""});
}

TEST(GoBuildInfo, InlineFormatElf64LittleEndian) {
  std::string elf = build_elf(true, false, {{".go.buildinfo", go_inline_buildinfo("go1.21.5", framed_modinfo(kModinfo))}});
  expect_tool_packages(go_from_elf(elf));
}

TEST(GoBuildInfo, InlineFormatElf64BigEndian) {
  std::string elf = build_elf(true, true, {{".go.buildinfo", go_inline_buildinfo("go1.21.5", framed_modinfo(kModinfo))}});
  expect_tool_packages(go_from_elf(elf));
}

TEST(GoBuildInfo, PointerFormatAllWidthsAndByteOrders) {
  for (bool is64 : {false, true}) {
    for (bool big : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "64-bit " << is64 << " big endian " << big);
      std::string blob = go_pointer_buildinfo("go1.21.5", framed_modinfo(kModinfo), is64 ? 8 : 4, big);
      expect_tool_packages(go_from_elf(build_elf(is64, big, {{".go.buildinfo", blob}})));
    }
  }
}

TEST(GoBuildInfo, FoundInTheWritableSegmentWithoutTheSectionName) {
  std::string blob = go_pointer_buildinfo("go1.21.5", framed_modinfo(kModinfo), 8, false);
  expect_tool_packages(go_from_elf(build_elf(true, false, {{".data", blob}})));
}

TEST(GoBuildInfo, NotAGoBinary) {
  auto r = read_go_buildinfo(build_elf(true, false, {{".data", std::string(200, 'x')}}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->has_value());
}

TEST(GoBuildInfo, DevelMainModuleBecomesThePseudoVersion) {
  auto info = parse_go_modinfo("go1.22.0",
                               "path\texample.com/x\n"
                               "mod\texample.com/x\t(devel)\t\n"
                               "build\tvcs.revision=0123456789abcdef0123\n"
                               "build\tvcs.time=2024-02-03T04:05:06Z\n");
  ASSERT_TRUE(info.ok()) << info.error().message;
  auto ps = go_packages(*info, Location{"/x", ""});
  const Package* main = find(ps, "example.com/x");
  ASSERT_NE(main, nullptr);
  EXPECT_EQ(main->version, "v0.0.0-20240203040506-0123456789ab");
  EXPECT_EQ(main->purl, "pkg:golang/example.com/x@v0.0.0-20240203040506-0123456789ab");
}

TEST(GoBuildInfo, DevelMainModuleVersionFromLinkerFlags) {
  auto version_of = [](const std::string& settings) {
    auto info = parse_go_modinfo("go1.22.0 X:boringcrypto", "path\tex.com/x\nmod\tex.com/x\t(devel)\t\n" + settings);
    EXPECT_TRUE(info.ok()) << info.error().message;
    auto ps = go_packages(*info, Location{"/x", ""});
    const Package* stdlib = find(ps, "stdlib");
    EXPECT_TRUE(stdlib && stdlib->version == "go1.22.0");  // experiments left out
    const Package* main = find(ps, "ex.com/x");
    return main ? main->version : std::string("none");
  };
  EXPECT_EQ(version_of("build\t-ldflags=\"-s -w -X main.version=1.2.3\"\n"), "v1.2.3");
  // As syft's pattern reads it: the version stops at the first character that is no word
  // character or '-'.
  EXPECT_EQ(version_of("build\t-ldflags=\"-X github.com/a/b/run.version=1.0.0-beta.56 -extldflags x\"\n"),
            "v1.0.0-beta");
  EXPECT_EQ(version_of("build\t-ldflags=\"-X k8s.io/client-go/pkg/version.gitVersion=v1.32.5\"\n"), "v1.32.5");
  EXPECT_EQ(version_of("build\t-ldflags=\"-X main.Tag=2.0.0\"\n"), "v2.0.0");
  // Without a version in the flags: the pseudo-version, which needs both VCS settings.
  EXPECT_EQ(version_of("build\t-ldflags=\"-X main.commit=abc\"\nbuild\tvcs.revision=0123456789abcdef\n"
                       "build\tvcs.time=2024-02-03T04:05:06+01:00\n"),
            "v0.0.0-20240203030506-0123456789ab");
  EXPECT_EQ(version_of("build\tvcs.revision=0123456789abcdef\n"), "(devel)");
}

TEST(GoBuildInfo, GopathBuildReportsThePathAsDevel) {
  auto info = parse_go_modinfo("go1.19.8", "path\tgithub.com/containers/skopeo/cmd/skopeo\nbuild\t-compiler=gc\n");
  ASSERT_TRUE(info.ok()) << info.error().message;
  auto ps = go_packages(*info, Location{"/usr/bin/skopeo", ""});
  ASSERT_EQ(ps.size(), 2u);
  const Package* main = find(ps, "github.com/containers/skopeo/cmd/skopeo");
  ASSERT_NE(main, nullptr);
  EXPECT_EQ(main->version, "(devel)");
  EXPECT_EQ(main->purl, "pkg:golang/github.com/containers/skopeo/cmd/skopeo@%28devel%29");
}

TEST(GoBuildInfo, MalformedInputsAreErrors) {
  std::string good = build_elf(true, false, {{".go.buildinfo", go_inline_buildinfo("go1.21.5", kModinfo)}});
  // Truncated anywhere: an error or no build info, never a crash.
  for (size_t n = 0; n < good.size(); n += 7) (void)read_go_buildinfo(good.substr(0, n));
  // Section headers pointing past the end.
  auto r = read_go_buildinfo(good.substr(0, good.size() - 10));
  EXPECT_FALSE(r.ok());
  // A length prefix beyond the data.
  std::string bad = "\xff Go buildinf:";
  bad.push_back(8);
  bad.push_back(2);
  bad.resize(32, '\0');
  bad += testing::uvarint(1000) + "go1";
  r = read_go_buildinfo(build_elf(true, false, {{".go.buildinfo", bad}}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("Go build info"), std::string::npos) << r.error().message;
  // Pointers outside the file.
  std::string ptr = go_pointer_buildinfo("go1.21.5", kModinfo, 8, false, 0x7000000);
  r = read_go_buildinfo(build_elf(true, false, {{".go.buildinfo", ptr}}));
  EXPECT_FALSE(r.ok());
  // Module info lines.
  auto info = parse_go_modinfo("go1", "dep\tonly-a-path\n");
  ASSERT_FALSE(info.ok());
  EXPECT_NE(info.error().message.find("line 1"), std::string::npos) << info.error().message;
  EXPECT_FALSE(parse_go_modinfo("go1", "=>\tx\tv1\n").ok());
  EXPECT_FALSE(parse_go_modinfo("go1", "bogus\tx\n").ok());
  EXPECT_FALSE(parse_go_modinfo("go1", "build\n").ok());  // found by fuzzing: a key without a value
  EXPECT_FALSE(parse_go_modinfo("go1", "build\tno-equals\n").ok());
}

TEST(ElfSection, RejectsMalformedHeaders) {
  EXPECT_FALSE(elf_section("\x7f" "ELF", ".x").ok());
  std::string elf = build_elf(false, false, {{".a", "abc"}});
  auto s = elf_section(elf, ".a");
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_TRUE(s->has_value());
  EXPECT_EQ(**s, "abc");
  std::string bad = elf;
  bad[4] = 7;  // class
  EXPECT_FALSE(elf_section(bad, ".a").ok());
  bad = elf;
  testing::set_uint(bad, 48, 0xfff0, 2, false);  // e_shnum far beyond the file
  EXPECT_FALSE(elf_section(bad, ".a").ok());
}

// --- Rust ---------------------------------------------------------------------------------------

std::string zlib(const std::string& s) {
  uLongf n = compressBound(s.size());
  std::string out(n, '\0');
  EXPECT_EQ(compress(reinterpret_cast<Bytef*>(out.data()), &n, reinterpret_cast<const Bytef*>(s.data()), s.size()), Z_OK);
  out.resize(n);
  return out;
}

const std::string kAudit =
    R"({"packages":[{"name":"tool","version":"0.3.0","source":"local","dependencies":[1,2],"root":true},)"
    R"({"name":"serde","version":"1.0.190","source":"crates.io"},)"
    R"({"name":"cc","version":"1.0.83","source":"crates.io","kind":"build"}]})";

TEST(CargoAuditable, RuntimeCratesOfTheEmbeddedList) {
  std::string elf = build_elf(true, false, {{".dep-v0", zlib(kAudit)}});
  auto json = read_cargo_auditable(elf);
  ASSERT_TRUE(json.ok()) << json.error().message;
  ASSERT_TRUE(json->has_value());
  EXPECT_EQ(**json, kAudit);
  auto ps = parse_cargo_auditable(**json, Location{"/usr/bin/tool", ""});
  ASSERT_TRUE(ps.ok()) << ps.error().message;
  ASSERT_EQ(ps->size(), 2u);  // the build dependency cc is left out
  EXPECT_EQ((*ps)[0].name, "tool");
  EXPECT_EQ((*ps)[0].purl, "pkg:cargo/tool@0.3.0");
  EXPECT_EQ((*ps)[0].type, "rust-crate");
  ASSERT_EQ((*ps)[0].depends_on.size(), 1u);
  EXPECT_EQ((*ps)[0].depends_on[0], (*ps)[1].id);
  EXPECT_EQ((*ps)[1].purl, "pkg:cargo/serde@1.0.190");
}

TEST(CargoAuditable, MalformedInputsAreErrors) {
  auto none = read_cargo_auditable(build_elf(true, false, {{".data", "x"}}));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  std::string z = zlib(kAudit);
  EXPECT_FALSE(read_cargo_auditable(build_elf(true, false, {{".dep-v0", z.substr(0, z.size() / 2)}})).ok());
  EXPECT_FALSE(read_cargo_auditable(build_elf(true, false, {{".dep-v0", "not zlib at all"}})).ok());
  // A decompression bomb: 64 MiB of spaces.
  auto bomb = read_cargo_auditable(build_elf(true, false, {{".dep-v0", zlib(std::string(64 << 20, ' '))}}));
  ASSERT_FALSE(bomb.ok());
  EXPECT_NE(bomb.error().message.find("more than"), std::string::npos) << bomb.error().message;
  EXPECT_FALSE(parse_cargo_auditable(R"({"packages":[{"name":"a","version":"1","dependencies":[5]}]})", {}).ok());
  EXPECT_FALSE(parse_cargo_auditable(R"({"packages":{}})", {}).ok());
  EXPECT_FALSE(parse_cargo_auditable("{", {}).ok());
}

TEST(CargoLock, Packages) {
  auto ps = parse_cargo_lock(
      "# This file is automatically @generated by Cargo.\n"
      "version = 3\n\n"
      "[[package]]\nname = \"anyhow\"\nversion = \"1.0.75\"\n"
      "source = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"a4668\"\n\n"
      "[[package]]\nname = \"tool\"\nversion = \"0.3.0\"\ndependencies = [\n \"anyhow\",\n]\n\n"
      "[metadata]\nname = \"ignored\"\n",
      Location{"/src/Cargo.lock", ""});
  ASSERT_TRUE(ps.ok()) << ps.error().message;
  ASSERT_EQ(ps->size(), 2u);
  EXPECT_EQ((*ps)[0].purl, "pkg:cargo/anyhow@1.0.75");
  EXPECT_EQ((*ps)[1].name, "tool");
  EXPECT_EQ((*ps)[1].depends_on, std::vector<std::string>{(*ps)[0].id});
  // Dependencies named with versions (two versions of a crate), on one line, with a source.
  auto two = parse_cargo_lock(
      "[[package]]\nname = \"a\"\nversion = \"1.0.0\"\n\n[[package]]\nname = \"a\"\nversion = \"2.0.0\"\n\n"
      "[[package]]\nname = \"b\"\nversion = \"0.1.0\"\n"
      "dependencies = [\"a 2.0.0 (git+https://example.com/a?branch=x#abc)\", 'a 1.0.0']\n",
      Location{"/Cargo.lock", ""});
  ASSERT_TRUE(two.ok()) << two.error().message;
  ASSERT_EQ(two->size(), 3u);
  EXPECT_EQ((*two)[2].depends_on, (std::vector<std::string>{(*two)[1].id, (*two)[0].id}));
  EXPECT_FALSE(parse_cargo_lock("[[package]]\nname = \"x\"\nversion = \"1\"\ndependencies = [\n \"y\",\n", {}).ok());
  EXPECT_FALSE(parse_cargo_lock("[[package]]\nname = \"x\"\nversion = \"1\"\ndependencies = [ y ]\n", {}).ok());
  auto bad = parse_cargo_lock("[[package]]\nname = \"x\"\n", {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("line 1"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(parse_cargo_lock("[[package]]\nname = unquoted\nversion = \"1\"\n", {}).ok());
}

// --- the catalog ----------------------------------------------------------------------------------

using vouch::testing::TempDir;

void put(const fs::path& p, const std::string& content, fs::perms perms) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
  fs::permissions(p, perms);
}

TEST(BinaryCatalog, ExecutablesAreFoundAnywhereByContent) {
  TempDir dir;
  std::string go = build_elf(true, false, {{".go.buildinfo", go_inline_buildinfo("go1.21.5", framed_modinfo(kModinfo))}});
  std::string rust = build_elf(true, false, {{".dep-v0", zlib(kAudit)}});
  put(dir.path() / "opt/app/tool", go, fs::perms::owner_all | fs::perms::group_read);
  put(dir.path() / "srv/not-executable", go, fs::perms::owner_read | fs::perms::owner_write);
  put(dir.path() / "usr/local/bin/rusty", rust, fs::perms::owner_all);
  put(dir.path() / "usr/local/bin/script", "#!/bin/sh\necho hello there, this is not an ELF file at all\n",
      fs::perms::owner_all);
  put(dir.path() / "src/Cargo.lock", "[[package]]\nname = \"anyhow\"\nversion = \"1.0.75\"\n", fs::perms::owner_read);
  auto source = directory_source(dir.path().string());
  auto sbom = catalog(*source, default_catalogers());
  ASSERT_TRUE(sbom.ok()) << sbom.error().message;
  size_t go_modules = 0, crates = 0;
  for (const auto& p : sbom->packages) {
    ASSERT_FALSE(p.locations.empty());
    if (p.type == "go-module") {
      ++go_modules;
      EXPECT_EQ(p.locations[0].path, "/opt/app/tool");
    }
    if (p.type == "rust-crate") ++crates;
  }
  EXPECT_EQ(go_modules, 5u);
  EXPECT_EQ(crates, 3u);  // two from the binary, one from Cargo.lock
  const Package* tool = nullptr;
  for (const auto& p : sbom->packages)
    if (p.name == "tool" && p.type == "rust-crate") tool = &p;
  ASSERT_NE(tool, nullptr);
  ASSERT_EQ(tool->depends_on.size(), 1u);
  ASSERT_NE(sbom->find(tool->depends_on[0]), nullptr);
  EXPECT_EQ(sbom->find(tool->depends_on[0])->name, "serde");
}

TEST(BinaryCatalog, UnreadableExecutablesArePassedOverWithAWarning) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads every file";
  TempDir dir;
  put(dir.path() / "bin/secret", std::string(100, 'x'), fs::perms::owner_exec);
  auto source = directory_source(dir.path().string());
  auto sbom = catalog(*source, default_catalogers());
  ASSERT_TRUE(sbom.ok()) << sbom.error().message;
  ASSERT_EQ(sbom->warnings.size(), 1u);
  EXPECT_NE(sbom->warnings[0].find("/bin/secret: not read"), std::string::npos) << sbom->warnings[0];
}

// A damaged binary is reported, naming it, and passed over; the rest of the catalog stands.
TEST(BinaryCatalog, MalformedBuildInfoIsAWarningNamingTheFile) {
  TempDir dir;
  std::string bad = "\xff Go buildinf:";
  bad.push_back(8);
  bad.push_back(2);
  bad.resize(32, '\0');
  bad += testing::uvarint(1000) + "go1";
  put(dir.path() / "bin/broken", build_elf(true, false, {{".go.buildinfo", bad}}), fs::perms::owner_all);
  auto source = directory_source(dir.path().string());
  put(dir.path() / "sp/x-1.dist-info/METADATA", "Name: x\nVersion: 1\n", fs::perms::owner_read);
  put(dir.path() / "lib/corrupt.jar", "PK\x03\x04 this is not a zip archive", fs::perms::owner_read);
  auto sbom = catalog(*source, default_catalogers());
  ASSERT_TRUE(sbom.ok()) << sbom.error().message;
  ASSERT_EQ(sbom->warnings.size(), 2u);
  std::vector<std::string> warnings = sbom->warnings;
  std::sort(warnings.begin(), warnings.end());  // in walk order
  EXPECT_TRUE(warnings[0].starts_with("/bin/broken: ")) << warnings[0];
  EXPECT_TRUE(warnings[1].starts_with("/lib/corrupt.jar: ")) << warnings[1];
  ASSERT_EQ(sbom->packages.size(), 1u);
  EXPECT_EQ(sbom->packages[0].name, "x");
}

}  // namespace
}  // namespace vouch::sbom
