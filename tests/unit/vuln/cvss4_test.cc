// CVSS v4.0 scores. Expected scores are those FIRST's CVSS v4.0 calculator
// (https://www.first.org/cvss/calculator/4.0, whose scoring code FIRST publishes as cvss40.js
// in github.com/RedHatProductSecurity/cvss-v4-calculator) gives for each vector; the
// MacroVector scores are the specification's lookup table (its "Scoring" section).
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "vouch/vuln/cvss.h"
#include "vouch/vuln/matcher.h"
#include "vouch/vuln/report.h"

namespace vouch::vuln {
namespace {

struct Case {
  const char* vector;
  double score;
  const char* what;
};

TEST(Cvss4, ScoresAsFirstCalculator) {
  const Case cases[] = {
      // The highest-severity vector of MacroVector 000200: exactly the table's score.
      {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3, "MacroVector 000200 (table: 9.3)"},
      {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H", 10.0, "MacroVector 000100 (table: 10)"},
      {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N", 6.9, "calculator"},
      // Interpolated within its MacroVector (100200, table 8.7) by the severity distance.
      {"CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 8.5, "calculator"},
      // Vectors of real advisories in ../shared/testdata/osv (RUSTSEC-2026-0025, -0090, -0138, -0066, -0245).
      {"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N", 8.2, "calculator"},
      {"CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N", 1.0, "calculator"},
      {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N/E:P", 5.5, "calculator (CVSS-BT)"},
      {"CVSS:4.0/AV:N/AC:H/AT:P/PR:N/UI:N/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N/E:U", 1.7, "calculator (CVSS-BT)"},
      {"CVSS:4.0/AV:L/AC:L/AT:N/PR:N/UI:A/VC:N/VI:H/VA:L/SC:H/SI:H/SA:H", 8.3, "calculator"},
      // The example in the calculator's documentation: threat and environmental metrics.
      {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:L/SC:N/SI:N/SA:N/E:A/MAV:A", 8.7, "calculator (CVSS-BTE)"},
      {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/CR:L/IR:L/AR:L/MSI:S", 9.8,
       "calculator (CVSS-BE, safety impact)"},
      // No impact on any system: 0 (as the calculator gives it).
      {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N", 0.0, "no impact"},
      // Supplemental metrics do not change the score.
      {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/S:P/AU:Y/R:A/V:C/RE:H/U:Red", 9.3,
       "supplemental metrics"},
  };
  for (const Case& c : cases) {
    auto s = cvss4_score(c.vector);
    ASSERT_TRUE(s.ok()) << c.vector << ": " << s.error().message;
    EXPECT_DOUBLE_EQ(*s, c.score) << c.vector << " (" << c.what << ")";
  }
}

// 1,500 vectors scored by FIRST's calculator (testdata/cvss4-scores.txt): every MacroVector
// lookup, the interpolation and the rounding must agree exactly.
TEST(Cvss4, AgreesWithFirstCalculatorOnSampledVectors) {
  std::ifstream in(std::string(VOUCH_SOURCE_DIR) + "/tests/unit/vuln/testdata/cvss4-scores.txt");
  ASSERT_TRUE(in.good());
  std::string line;
  size_t n = 0, mismatches = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string vector;
    double want = -1;
    fields >> vector >> want;
    auto got = cvss4_score(vector);
    ASSERT_TRUE(got.ok()) << vector << ": " << got.error().message;
    if (*got != want && ++mismatches <= 10) ADD_FAILURE() << vector << ": " << *got << ", calculator " << want;
    ++n;
  }
  EXPECT_EQ(n, 1500u);
  EXPECT_EQ(mismatches, 0u);
}

TEST(Cvss4, MalformedVectorsRejectedWithTheReason) {
  struct Bad {
    const char* vector;
    const char* why;
  };
  const Bad cases[] = {
      {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "does not start with CVSS:4.0/"},
      {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N", "base metric SA missing"},
      {"CVSS:4.0/AV:X/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "AV:X is not a valid value"},
      {"CVSS:4.0/AC:L/AV:N/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "metric AV out of the specified order"},
      {"CVSS:4.0/AV:N/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "metric AV given twice"},
      {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/XX:N", "unknown metric XX"},
      {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:S/SA:N", "SI:S is not a valid value"},
      {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/", "'' is not METRIC:VALUE"},
      {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E", "'E' is not METRIC:VALUE"},
      {"CVSS:4.0/", "'' is not METRIC:VALUE"},
  };
  for (const Bad& b : cases) {
    auto s = cvss4_score(b.vector);
    ASSERT_FALSE(s.ok()) << b.vector;
    EXPECT_NE(s.error().message.find(b.why), std::string::npos) << s.error().message;
    EXPECT_NE(s.error().message.find("CVSS vector"), std::string::npos) << s.error().message;
  }
  EXPECT_FALSE(cvss4_score(std::string(600, 'A')).ok());
}

TEST(Cvss4, SeverityPrefersV4ThenV3ThenTheRecord) {
  OsvRecord r;
  r.id = "GHSA-test";
  r.database_severity = "LOW";
  // v4 only: 8.2 -> High (the record's own LOW is not used).
  r.severity = {{"CVSS_V4", "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N"}};
  Finding f;
  assign_severity(r, nullptr, f);
  EXPECT_EQ(f.severity, Severity::kHigh);
  EXPECT_EQ(f.severity_source, "CVSS_V4");
  ASSERT_TRUE(f.score.has_value());
  EXPECT_DOUBLE_EQ(*f.score, 8.2);

  // v3 (9.8) listed first, v4 (6.9) too: the v4 vector decides.
  r.severity = {{"CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
                {"CVSS_V4", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N"}};
  Finding g;
  assign_severity(r, nullptr, g);
  EXPECT_EQ(g.severity, Severity::kMedium);
  EXPECT_EQ(g.severity_source, "CVSS_V4");

  // A malformed v4 vector falls back to the v3 one.
  r.severity = {{"CVSS_V4", "CVSS:4.0/AV:N"}, {"CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}};
  Finding h;
  assign_severity(r, nullptr, h);
  EXPECT_EQ(h.severity, Severity::kCritical);
  EXPECT_EQ(h.severity_source, "CVSS_V3");

  // Neither: the record's database_specific severity.
  r.severity = {{"CVSS_V4", "CVSS:4.0/garbage"}};
  Finding i;
  assign_severity(r, nullptr, i);
  EXPECT_EQ(i.severity, Severity::kLow);
  EXPECT_EQ(i.severity_source, "database_specific");
}

TEST(Cvss4, ReportsNameTheVersion) {
  OsvRecord r;
  r.id = "RUSTSEC-2026-0025";
  r.severity = {{"CVSS_V4", "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N"}};
  MatchReport report;
  Finding f;
  f.id = r.id;
  f.package = {"p", "crate", "1.0.0", "rust-crate", "pkg:cargo/crate@1.0.0"};
  assign_severity(r, nullptr, f);
  report.vulnerabilities.push_back(f);
  ScanContext ctx;
  std::string trivy = boost::json::serialize(report_cosign_vuln(report, ctx));
  EXPECT_NE(trivy.find(R"("V40Vector":"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N")"),
            std::string::npos)
      << trivy;
  EXPECT_EQ(trivy.find("V3Vector"), std::string::npos) << trivy;
  EXPECT_NE(trivy.find(R"("SeveritySource":"CVSS_V4")"), std::string::npos) << trivy;
  EXPECT_NE(trivy.find(R"("Severity":"HIGH")"), std::string::npos) << trivy;
  std::string json = boost::json::serialize(report_json(report, ctx));
  EXPECT_NE(json.find(R"("source":"CVSS_V4")"), std::string::npos) << json;
}

}  // namespace
}  // namespace vouch::vuln
