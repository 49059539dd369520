// Matching fixture SBOMs against the real OSV data in ../shared/testdata/osv plus distro
// records in testdata/osv-distro that state published facts (Debian DSA fixed versions from
// the security tracker's data/DSA/list, Alpine secdb secfixes).
#include <unistd.h>

#include <filesystem>
#include <set>
#include <tuple>

#include <gtest/gtest.h>

#include "../testdata.h"
#include "vouch/base/file.h"
#include "vouch/sbom/purl.h"
#include "vouch/sbom/reader.h"
#include "vouch/vuln/matcher.h"
#include "vouch/vuln/report.h"
#include "vouch/vuln/vex.h"

namespace vouch::vuln {
namespace {

namespace fs = std::filesystem;

fs::path fixtures() { return fs::path(VOUCH_SOURCE_DIR) / "tests" / "unit" / "vuln" / "testdata"; }

class MatcherTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("vouch-matcher-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    auto s = open_sqlite_store(database_file(dir_), true);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(s).value().release();
    fs::path osv = testing::testdata_dir() / "osv";
    auto stats = import_osv(*store_, {osv / "go", osv / "pypi", osv / "crates.io", fixtures() / "osv-distro"});
    ASSERT_TRUE(stats.ok()) << stats.error().message;
    ASSERT_EQ(stats->malformed, 0u);
  }
  static void TearDownTestSuite() {
    delete store_;
    store_ = nullptr;
    fs::remove_all(dir_);
  }

  static sbom::Sbom read(const char* name) {
    auto text = read_file(fixtures() / name);
    if (!text.ok()) throw std::runtime_error(text.error().message);
    auto doc = sbom::read_sbom(*text);
    if (!doc.ok()) throw std::runtime_error(doc.error().message);
    return *doc;
  }

  using Row = std::tuple<std::string, std::string, std::string, std::string>;  // id, package id, records, fixed
  static std::set<Row> rows(const std::vector<Finding>& findings) {
    std::set<Row> out;
    for (const auto& f : findings) {
      std::string records, fixed;
      for (const auto& r : f.records) records += (records.empty() ? "" : ",") + r;
      for (const auto& v : f.fixed_versions) fixed += (fixed.empty() ? "" : ",") + v;
      out.insert({f.id, f.package.id, records, fixed});
    }
    return out;
  }

  static inline fs::path dir_;
  static inline VulnerabilityStore* store_ = nullptr;
};

TEST_F(MatcherTest, DebianImageSpdx) {
  sbom::Sbom doc = read("debian-11.spdx.json");
  ASSERT_TRUE(doc.distro.has_value());
  EXPECT_EQ(doc.distro->id, "debian");
  EXPECT_EQ(doc.distro->version_id, "11");
  auto report = match_sbom(doc, *store_);
  ASSERT_TRUE(report.ok()) << report.error().message;
  std::set<Row> expected = {
      // Binary libssl1.1 matches through its source package openssl (DSA-5343-1 fixed in
      // deb11u4); DSA-5169-1 is fixed in exactly the installed deb11u3, so it does not match.
      {"DSA-5343-1", "SPDXRef-Package-deb-libssl1.1", "DSA-5343-1", "1.1.1n-0+deb11u4"},
      // xserver-xorg-core through source xorg-server, epochs compared.
      {"CVE-2023-1393", "SPDXRef-Package-deb-xserver-xorg-core", "DSA-5380-1", "2:1.20.11-1+deb11u6"},
      // PyYAML in a virtualenv: fixed in 5.4 (PYSEC-2021-142); PYSEC-2020-96 is fixed in 5.3.1
      // itself. The PyYAML python3-yaml owns is left to Debian.
      {"CVE-2020-14343", "SPDXRef-Package-python-PyYAML-venv", "PYSEC-2021-142", "5.4"},
      // Two PyPI records naming the same CVE and GHSA: one finding.
      {"CVE-2021-42343", "SPDXRef-Package-python-distributed-old", "PYSEC-2021-871,PYSEC-2021-872", "2021.10.0"},
      // last_affected 1.11.0: still affected, no fix.
      {"CVE-2022-42969", "SPDXRef-Package-python-py", "PYSEC-2022-42969", ""},
      {"CVE-2021-25900", "SPDXRef-Package-rust-smallvec-old", "RUSTSEC-2021-0003", "1.6.1"},
      {"CVE-2022-24713", "SPDXRef-Package-rust-regex", "RUSTSEC-2022-0013", "1.5.5"},
      {"GHSA-jp3w-3q88-34cf", "SPDXRef-Package-rust-rust-crypto", "RUSTSEC-2022-0011", ""},
      {"CVE-2022-32149", "SPDXRef-Package-go-x-text", "GO-2022-1059", "0.3.8"},
      {"CVE-2026-56852", "SPDXRef-Package-go-x-text", "GO-2026-5970", "0.39.0"},
  };
  EXPECT_EQ(rows(report->vulnerabilities), expected);
  // RustSec's unmaintained notice is reported apart.
  EXPECT_EQ(rows(report->informational),
            (std::set<Row>{{"RUSTSEC-2016-0005", "SPDXRef-Package-rust-rust-crypto", "RUSTSEC-2016-0005", "0.2.37-0"}}));
  ASSERT_EQ(report->informational.size(), 1u);
  EXPECT_EQ(report->informational[0].informational, "unmaintained");
  EXPECT_EQ(report->packages, 16u);
  EXPECT_EQ(report->packages_owned, 1u);
  // Withdrawn: GO-2024-2730 (gorilla/sessions) and PYSEC-2022-43059 (aiohttp, every version).
  EXPECT_EQ(report->withdrawn_ignored, 2u);
  // Severity from the records' CVSS v3 vectors.
  for (const auto& f : report->vulnerabilities) {
    if (f.id == "CVE-2021-25900") {
      EXPECT_EQ(f.severity, Severity::kCritical);
      ASSERT_TRUE(f.score.has_value());
      EXPECT_DOUBLE_EQ(*f.score, 9.8);
    }
    if (f.id == "CVE-2022-24713") {
      EXPECT_EQ(f.severity, Severity::kHigh);
    }
    if (f.id == "DSA-5343-1") {
      EXPECT_EQ(f.matched_by, "source package openssl 1.1.1n-0+deb11u3");
      EXPECT_EQ(f.aliases.size(), 5u);
    }
  }
  bool git_note = false;
  for (const auto& n : report->notes) git_note = git_note || n.find("GIT range") != std::string::npos;
  EXPECT_TRUE(git_note);
}

TEST_F(MatcherTest, AlpineImageCycloneDx) {
  sbom::Sbom doc = read("alpine-3.11.cdx.json");
  ASSERT_TRUE(doc.distro.has_value());
  EXPECT_EQ(doc.distro->id, "alpine");
  auto report = match_sbom(doc, *store_);
  ASSERT_TRUE(report.ok()) << report.error().message;
  // openssl 1.1.1d-r2: CVE-2019-1551 (the record's upstream) fixed in r3; CVE-2019-1547 was
  // fixed in r1 already.
  // libcrypto1.1 1.1.1d-r3 (origin openssl) carries the fix. PyYAML nested in py3-yaml is
  // owned by it. lodash has no records in this data.
  EXPECT_EQ(rows(report->vulnerabilities),
            (std::set<Row>{{"CVE-2019-1551", "apk-openssl", "ALPINE-CVE-2019-1551", "1.1.1d-r3"},
                           {"CVE-2021-25900", "cargo-smallvec", "RUSTSEC-2021-0003", "1.6.1"}}));
  EXPECT_EQ(report->packages_owned, 1u);
}

TEST_F(MatcherTest, VexSuppressesWithReason) {
  sbom::Sbom doc = read("debian-11.spdx.json");
  auto report = match_sbom(doc, *store_);
  ASSERT_TRUE(report.ok());
  std::string vex = R"({
    "@context": "https://openvex.dev/ns/v0.2.0",
    "@id": "https://example.com/vex/1",
    "author": "Security Team",
    "timestamp": "2024-01-01T00:00:00Z",
    "version": 1,
    "statements": [
      {"vulnerability": {"name": "CVE-2022-24713"},
       "products": [{"@id": "registry.example/app:debian-11", "subcomponents": [{"@id": "pkg:cargo/regex@1.5.4"}]}],
       "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path",
       "impact_statement": "regexes are compiled from constants only"},
      {"vulnerability": {"name": "GHSA-hwqr-f3v9-hwxr"},
       "products": [{"@id": "pkg:pypi/distributed@2021.9.1"}],
       "status": "fixed", "action_statement": "patched in our build"},
      {"vulnerability": {"name": "CVE-2021-25900"},
       "products": [{"@id": "pkg:cargo/smallvec@1.6.0"}],
       "status": "under_investigation"},
      {"vulnerability": {"name": "CVE-2020-14343"},
       "products": [{"@id": "pkg:pypi/pyyaml@5.3.1"}],
       "status": "not_affected", "justification": "inline_mitigations_already_exist"},
      {"vulnerability": {"name": "CVE-2020-14343"},
       "products": [{"@id": "pkg:pypi/pyyaml@5.3.1"}],
       "status": "affected", "action_statement": "upgrade"}
    ]})";
  auto statements = parse_openvex(vex, "vex.json");
  ASSERT_TRUE(statements.ok()) << statements.error().message;
  size_t before = report->vulnerabilities.size();
  apply_vex(*statements, doc.name, *report);
  ASSERT_EQ(report->suppressed.size(), 2u);
  EXPECT_EQ(report->vulnerabilities.size(), before - 2);
  sort_findings(report->suppressed);
  std::map<std::string, const Finding*> by_id;
  for (const auto& f : report->suppressed) by_id[f.id] = &f;
  ASSERT_TRUE(by_id.count("CVE-2022-24713"));
  EXPECT_EQ(by_id["CVE-2022-24713"]->vex_status, "not_affected");
  EXPECT_EQ(by_id["CVE-2022-24713"]->vex_justification, "vulnerable_code_not_in_execute_path");
  EXPECT_EQ(by_id["CVE-2022-24713"]->vex_statement,
            "regexes are compiled from constants only (https://example.com/vex/1)");
  // Named by an alias of the merged finding.
  ASSERT_TRUE(by_id.count("CVE-2021-42343"));
  EXPECT_EQ(by_id["CVE-2021-42343"]->vex_status, "fixed");
  // under_investigation does not suppress; a later "affected" statement supersedes not_affected.
  for (const auto& f : report->vulnerabilities) {
    EXPECT_NE(f.id, "CVE-2022-24713");
    EXPECT_NE(f.id, "CVE-2021-42343");
  }
  bool smallvec = false, pyyaml = false;
  for (const auto& f : report->vulnerabilities) {
    smallvec = smallvec || f.id == "CVE-2021-25900";
    pyyaml = pyyaml || f.id == "CVE-2020-14343";
  }
  EXPECT_TRUE(smallvec);
  EXPECT_TRUE(pyyaml);

  EXPECT_FALSE(parse_openvex(R"({"@context": "https://example.com", "statements": []})", "x").ok());
  auto bad = parse_openvex(R"({"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{"vulnerability": {"name": "X"}, "status": "maybe"}]})", "bad.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("bad.json: statements[0].status"), std::string::npos) << bad.error().message;
}

TEST_F(MatcherTest, FailOnThresholds) {
  sbom::Sbom doc = read("debian-11.spdx.json");
  auto report = match_sbom(doc, *store_);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(reaches(*report, Severity::kCritical));
  EXPECT_TRUE(reaches(*report, Severity::kLow));
  sbom::Sbom alpine = read("alpine-3.11.cdx.json");
  alpine.packages.erase(alpine.packages.end() - 1);  // drop smallvec (the critical one)
  auto r2 = match_sbom(alpine, *store_);
  ASSERT_TRUE(r2.ok());
  ASSERT_EQ(r2->vulnerabilities.size(), 1u);
  EXPECT_EQ(r2->vulnerabilities[0].severity, Severity::kUnknown);
  EXPECT_FALSE(reaches(*r2, Severity::kLow));  // unknown severity reaches no threshold
}

OsvAffected affected(std::string ecosystem, std::vector<OsvRange> ranges, std::vector<std::string> versions = {}) {
  OsvAffected a;
  a.ecosystem = std::move(ecosystem);
  a.name = "pkg";
  a.ranges = std::move(ranges);
  a.versions = std::move(versions);
  return a;
}

OsvRange range(std::string type, std::vector<OsvEvent> events) { return OsvRange{std::move(type), "", std::move(events)}; }

bool hits(const OsvAffected& a, std::string_view v) {
  auto r = check_affected(a, v);
  if (!r.ok()) throw std::runtime_error(r.error().message);
  return r->affected;
}

TEST(CheckAffected, EventBoundaries) {
  using K = EventKind;
  auto a = affected("PyPI", {range("ECOSYSTEM", {{K::kIntroduced, "1.0"}, {K::kFixed, "1.2"}, {K::kIntroduced, "2.0"},
                                                  {K::kLastAffected, "2.3"}})});
  EXPECT_FALSE(hits(a, "0.9"));
  EXPECT_TRUE(hits(a, "1.0"));   // introduced is inclusive
  EXPECT_TRUE(hits(a, "1.1.9"));
  EXPECT_FALSE(hits(a, "1.2"));  // fixed is exclusive
  EXPECT_FALSE(hits(a, "1.2.0"));
  EXPECT_FALSE(hits(a, "1.9"));
  EXPECT_TRUE(hits(a, "2.0rc1") == false);  // a prerelease of 2.0 orders before 2.0
  EXPECT_TRUE(hits(a, "2.3"));   // last_affected is inclusive
  EXPECT_FALSE(hits(a, "2.3.1"));
  auto fixed = check_affected(a, "1.1");
  ASSERT_TRUE(fixed.ok());
  EXPECT_EQ(fixed->fixed, std::vector<std::string>{"1.2"});

  // Events in any order, SEMVER with Go's v prefix on the package version.
  auto g = affected("Go", {range("SEMVER", {{K::kFixed, "0.3.8"}, {K::kIntroduced, "0"}})});
  EXPECT_TRUE(hits(g, "v0.3.7"));
  EXPECT_TRUE(hits(g, "v0.0.0-20210101000000-abcdefabcdef"));
  EXPECT_FALSE(hits(g, "v0.3.8"));

  // limit: only versions below it are considered.
  auto l = affected("npm", {range("SEMVER", {{K::kIntroduced, "0"}, {K::kLimit, "2.0.0"}})});
  EXPECT_TRUE(hits(l, "1.9.9"));
  EXPECT_FALSE(hits(l, "2.0.0"));

  // Explicit versions.
  auto v = affected("Debian:12", {}, {"1.0-1", "1.0-2"});
  EXPECT_TRUE(hits(v, "1.0-2"));
  EXPECT_FALSE(hits(v, "1.0-3"));

  // Debian ordering with epochs and tildes.
  auto d = affected("Debian:12", {range("ECOSYSTEM", {{K::kIntroduced, "0"}, {K::kFixed, "1:2.0~rc1-1"}})});
  EXPECT_TRUE(hits(d, "2.5-1"));  // no epoch = epoch 0
  EXPECT_TRUE(hits(d, "1:2.0~beta1-1"));
  EXPECT_FALSE(hits(d, "1:2.0-1"));

  // GIT ranges are skipped with a note; ECOSYSTEM ranges beside them still count.
  auto git = affected("PyPI", {range("GIT", {{K::kIntroduced, "0"}, {K::kFixed, "abc"}}),
                               range("ECOSYSTEM", {{K::kIntroduced, "0"}, {K::kFixed, "0.9.0"}})});
  auto r = check_affected(git, "0.8");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->affected);
  ASSERT_EQ(r->notes.size(), 1u);
  EXPECT_NE(r->notes[0].find("GIT range skipped"), std::string::npos);

  // A malformed package version is an error, not a guess.
  EXPECT_FALSE(check_affected(d, "not a version!").ok());
  EXPECT_FALSE(check_affected(affected("Pub", {}), "1.0.0").ok());
}

TEST(MatchKey, PurlsToEcosystems) {
  std::optional<sbom::Distro> debian = sbom::Distro{"debian", "12", ""};
  using Key = std::tuple<std::string, std::string, std::string>;
  auto key = [&](std::string purl, std::string source = "", std::string source_version = "") {
    sbom::Package p;
    p.purl = purl;
    p.source_name = source;
    p.source_version = source_version;
    auto parsed = sbom::parse_purl(purl);
    p.name = parsed->name;
    p.version = parsed->version;
    p.type = parsed->type == "deb" ? "deb" : "";
    auto k = match_key(p, debian);
    if (!k.ok()) throw std::runtime_error(k.error().message);
    return Key{k->ecosystem, k->name, k->version};
  };
  EXPECT_EQ(key("pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=amd64&distro=debian-12", "openssl"),
            Key("Debian:12", "openssl", "3.0.15-1~deb12u1"));
  EXPECT_EQ(key("pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64", "glibc"), Key("Debian:12", "glibc", "2.36-9+deb12u4"));
  EXPECT_EQ(key("pkg:deb/debian/foo@1.0-1+b1?distro=debian-12.5", "foo", "1.0-1"), Key("Debian:12", "foo", "1.0-1"));
  EXPECT_EQ(key("pkg:apk/alpine/libcrypto3@3.1.4-r5?distro=alpine-3.19.1", "openssl"),
            Key("Alpine:v3.19", "openssl", "3.1.4-r5"));
  EXPECT_EQ(key("pkg:npm/%40babel/core@7.0.0"), Key("npm", "@babel/core", "7.0.0"));
  EXPECT_EQ(key("pkg:golang/stdlib@go1.21.0"), Key("Go", "stdlib", "1.21.0"));
  EXPECT_EQ(key("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"),
            Key("Maven", "org.apache.logging.log4j:log4j-core", "2.14.1"));
  EXPECT_EQ(key("pkg:composer/symfony/http-kernel@5.0.0"), Key("Packagist", "symfony/http-kernel", "5.0.0"));
  sbom::Package unknown;
  unknown.purl = "pkg:generic/foo@1";
  EXPECT_FALSE(match_key(unknown, debian).ok());
}

TEST(Cvss, V3BaseScores) {
  struct Case {
    const char* vector;
    double score;
  };
  for (Case c : {Case{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8},
                 Case{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0},
                 Case{"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1},
                 Case{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5},
                 Case{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", 5.3},
                 Case{"CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.1},
                 Case{"CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 6.2},
                 Case{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0},
                 Case{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O", 9.8}}) {
    auto s = cvss3_base_score(c.vector);
    ASSERT_TRUE(s.ok()) << c.vector << ": " << s.error().message;
    EXPECT_DOUBLE_EQ(*s, c.score) << c.vector;
  }
  for (const char* bad : {"CVSS:2.0/AV:N", "CVSS:3.1/AV:N/AC:L", "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                          "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS:3.1/garbage"}) {
    EXPECT_FALSE(cvss3_base_score(bad).ok()) << bad;
  }
  EXPECT_EQ(severity_for_score(9.0), Severity::kCritical);
  EXPECT_EQ(severity_for_score(8.9), Severity::kHigh);
  EXPECT_EQ(severity_for_score(4.0), Severity::kMedium);
  EXPECT_EQ(severity_for_score(3.9), Severity::kLow);
  EXPECT_EQ(*parse_severity("MODERATE"), Severity::kMedium);
}

}  // namespace
}  // namespace vouch::vuln
