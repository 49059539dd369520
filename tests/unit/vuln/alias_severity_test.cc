// Severity taken from an alias record: PyPA's PYSEC-2019-217 (Jinja2 before 2.10.1, real data
// in ../shared/testdata/osv/pypi) carries none; its GHSA twin GHSA-462w-v97r-4m45 (a minimal record with
// GitHub's identifiers, vector and range, in testdata/osv-alias) scores it CVSS:3.0 8.6, High.
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "../testdata.h"
#include "vouch/vuln/matcher.h"
#include "vouch/vuln/report.h"

namespace vouch::vuln {
namespace {

namespace fs = std::filesystem;

const fs::path kPysec = fs::path("osv") / "pypi" / "PYSEC-2019-217.json";
fs::path ghsa_twin() {
  return fs::path(VOUCH_SOURCE_DIR) / "tests" / "unit" / "vuln" / "testdata" / "osv-alias" / "GHSA-462w-v97r-4m45.json";
}

sbom::Sbom jinja(std::string version) {
  sbom::Sbom doc;
  doc.format = "cyclonedx-1.6";
  sbom::Package p;
  p.id = "jinja2";
  p.name = "Jinja2";
  p.version = version;
  p.type = "python";
  p.purl = "pkg:pypi/jinja2@" + version;
  doc.packages.push_back(std::move(p));
  return doc;
}

// The SQLite store, except that lookups by package skip GHSA records: the twin is in the
// database but does not match the package itself (as when it files the package under another
// name), so only its alias link to the PYSEC record can score the finding.
class TwinNotMatching : public VulnerabilityStore {
 public:
  explicit TwinNotMatching(VulnerabilityStore& inner) : inner_(inner) {}
  Result<int> put_if_newer(const OsvRecord& r) override { return inner_.put_if_newer(r); }
  Status begin_batch() override { return inner_.begin_batch(); }
  Status commit_batch() override { return inner_.commit_batch(); }
  Status set_last_import(UnixSeconds t) override { return inner_.set_last_import(t); }
  Result<std::vector<OsvRecord>> records_for(std::string_view ecosystem, std::string_view name) override {
    VOUCH_ASSIGN_OR_RETURN(auto all, inner_.records_for(ecosystem, name));
    std::erase_if(all, [](const OsvRecord& r) { return r.id.starts_with("GHSA-"); });
    return all;
  }
  Result<std::optional<OsvRecord>> record(std::string_view id) override {
    ++record_lookups;
    return inner_.record(id);
  }
  Result<std::vector<std::string>> ecosystems_with_prefix(std::string_view p) override {
    return inner_.ecosystems_with_prefix(p);
  }
  Result<DatabaseStatus> status() override { return inner_.status(); }
  Result<DatabaseFreshness> freshness() override { return inner_.freshness(); }
  int record_lookups = 0;

 private:
  VulnerabilityStore& inner_;
};

class VulnAliasSeverityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vouch-alias-severity-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<VulnerabilityStore> open(const std::vector<fs::path>& inputs) {
    auto s = open_sqlite_store(database_file(dir_), true);
    EXPECT_TRUE(s.ok()) << s.error().message;
    auto stats = import_osv(**s, inputs);
    EXPECT_TRUE(stats.ok()) << stats.error().message;
    EXPECT_EQ(stats->malformed, 0u);
    return std::move(s).value();
  }

  fs::path dir_;
};

TEST_F(VulnAliasSeverityTest, PysecAloneIsUnknownAndFailsNoThreshold) {
  auto store = open({testing::testdata_dir() / kPysec});
  auto report = match_sbom(jinja("2.10"), *store);
  ASSERT_TRUE(report.ok()) << report.error().message;
  ASSERT_EQ(report->vulnerabilities.size(), 1u);
  const Finding& f = report->vulnerabilities[0];
  EXPECT_EQ(f.id, "CVE-2019-10906");
  EXPECT_EQ(f.severity, Severity::kUnknown);
  EXPECT_TRUE(f.scored_by.empty());
  EXPECT_FALSE(reaches(*report, Severity::kLow));
}

TEST_F(VulnAliasSeverityTest, TwinThatDoesNotMatchStillScores) {
  auto sqlite = open({testing::testdata_dir() / kPysec, ghsa_twin()});
  TwinNotMatching store(*sqlite);
  auto report = match_sbom(jinja("2.10"), store);
  ASSERT_TRUE(report.ok()) << report.error().message;
  ASSERT_EQ(report->vulnerabilities.size(), 1u);
  const Finding& f = report->vulnerabilities[0];
  EXPECT_EQ(f.records, std::vector<std::string>{"PYSEC-2019-217"});
  EXPECT_EQ(f.severity, Severity::kHigh);
  ASSERT_TRUE(f.score.has_value());
  EXPECT_DOUBLE_EQ(*f.score, 8.6);
  EXPECT_EQ(f.score_vector, "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:N/A:N");
  EXPECT_EQ(f.severity_source, "CVSS_V3");
  EXPECT_EQ(f.scored_by, "GHSA-462w-v97r-4m45");
  EXPECT_TRUE(reaches(*report, Severity::kHigh));
  EXPECT_FALSE(reaches(*report, Severity::kCritical));

  ScanContext ctx;
  auto json = report_json(*report, ctx).as_object();
  const auto& vuln = json.at("matches").as_array().at(0).as_object().at("vulnerability").as_object();
  EXPECT_EQ(vuln.at("scoredBy").as_string(), "GHSA-462w-v97r-4m45");
  EXPECT_EQ(vuln.at("cvss").as_object().at("source").as_string(), "CVSS_V3");

  // A fixed version has no finding, so no alias is looked up.
  store.record_lookups = 0;
  auto fixed = match_sbom(jinja("2.10.1"), store);
  ASSERT_TRUE(fixed.ok());
  EXPECT_TRUE(fixed->vulnerabilities.empty());
  EXPECT_EQ(store.record_lookups, 0);
}

TEST_F(VulnAliasSeverityTest, MatchingTwinScoresMergedFinding) {
  auto store = open({testing::testdata_dir() / kPysec, ghsa_twin()});
  auto report = match_sbom(jinja("2.9.6"), *store);
  ASSERT_TRUE(report.ok()) << report.error().message;
  ASSERT_EQ(report->vulnerabilities.size(), 1u);
  const Finding& f = report->vulnerabilities[0];
  EXPECT_EQ(f.records, (std::vector<std::string>{"GHSA-462w-v97r-4m45", "PYSEC-2019-217"}));
  EXPECT_EQ(f.severity, Severity::kHigh);
  EXPECT_EQ(f.scored_by, "GHSA-462w-v97r-4m45");
}

TEST_F(VulnAliasSeverityTest, LooksUpGhsaBeforeCveAndCaches) {
  auto store = open({ghsa_twin()});
  AliasCache cache;
  Finding unscored;
  unscored.id = "CVE-2019-10906";
  unscored.aliases = {"GHSA-462w-v97r-4m45", "PYSEC-2019-217"};
  unscored.records = {"PYSEC-2019-217"};
  unscored.ecosystem = "PyPI";
  unscored.package.name = "Jinja2";
  ASSERT_TRUE(borrow_alias_severity(*store, unscored, cache).ok());
  EXPECT_EQ(unscored.scored_by, "GHSA-462w-v97r-4m45");
  EXPECT_EQ(cache.size(), 2u);  // GHSA first, then the CVE id (not in the database)
  EXPECT_FALSE(cache.at("CVE-2019-10906").has_value());
}

}  // namespace
}  // namespace vouch::vuln
