// The CycloneDX report of a scan: components, ratings, affects and the VEX analysis.
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "vouch/vuln/cyclonedx_vex.h"

namespace vouch::vuln {
namespace {

namespace bj = boost::json;

TEST(CycloneDxVex, FindingsAndSuppressedFindings) {
  MatchReport report;
  Finding open;
  open.id = "CVE-2021-25900";
  open.aliases = {"GHSA-43w2-9j62-hq99"};
  open.package = {"p1", "smallvec", "1.6.0", "rust-crate", "pkg:cargo/smallvec@1.6.0"};
  open.fixed_versions = {"1.6.1"};
  open.severity = Severity::kCritical;
  open.score = 9.8;
  open.score_vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
  report.vulnerabilities.push_back(open);
  Finding quiet = open;
  quiet.id = "CVE-2020-0001";
  quiet.package = {"p2", "openssl", "1.1.1n", "deb", ""};
  quiet.vex_status = "not_affected";
  quiet.vex_justification = "vulnerable_code_not_in_execute_path";
  quiet.vex_statement = "not reachable";
  report.suppressed.push_back(quiet);
  ScanContext ctx;
  ctx.subject = "sbom.json";
  ctx.finished = 1700000000;

  bj::object doc = report_cyclonedx_vex(report, ctx).as_object();
  EXPECT_EQ(doc.at("bomFormat"), "CycloneDX");
  EXPECT_EQ(doc.at("specVersion"), "1.6");
  EXPECT_EQ(doc.at("metadata").at("timestamp"), "2023-11-14T22:13:20Z");
  const bj::array& components = doc.at("components").as_array();
  ASSERT_EQ(components.size(), 2u);
  const bj::array& vulns = doc.at("vulnerabilities").as_array();
  ASSERT_EQ(vulns.size(), 2u);
  const bj::object& v0 = vulns[0].as_object();
  EXPECT_EQ(v0.at("affects").as_array()[0].at("ref"), "pkg:cargo/smallvec@1.6.0");
  EXPECT_EQ(v0.at("ratings").as_array()[0].at("severity"), "critical");
  EXPECT_EQ(v0.at("ratings").as_array()[0].at("method"), "CVSSv31");
  EXPECT_EQ(v0.at("recommendation"), "Upgrade smallvec to 1.6.1");
  EXPECT_FALSE(v0.contains("analysis"));
  const bj::object& v1 = vulns[1].as_object();
  // A package without a purl is referred to by its id; the reference resolves to a component.
  EXPECT_EQ(v1.at("affects").as_array()[0].at("ref"), "p2");
  bool found = false;
  for (const auto& c : components) found = found || c.at("bom-ref") == "p2";
  EXPECT_TRUE(found);
  EXPECT_EQ(v1.at("analysis"), (bj::object{{"state", "not_affected"}, {"justification", "code_not_reachable"},
                                          {"detail", "not reachable"}}));
}

// As trivy's and grype's: every package scanned is a component, with or without findings, and a
// finding refers to the scanned package's component rather than a second one.
TEST(CycloneDxVex, EveryScannedPackageIsAComponent) {
  sbom::Package requests;
  requests.id = "SPDXRef-requests";
  requests.name = "requests";
  requests.version = "2.32.3";
  requests.type = "python";
  requests.purl = "pkg:pypi/requests@2.32.3";
  sbom::Package base;
  base.id = "SPDXRef-base-files";
  base.name = "base-files";
  base.version = "12.4";
  base.type = "deb";
  MatchReport report;
  Finding f;
  f.id = "CVE-2024-0001";
  f.package = {requests.id, requests.name, requests.version, requests.type, requests.purl};
  report.vulnerabilities.push_back(f);
  ScanContext ctx;

  bj::object doc = report_cyclonedx_vex(report, ctx, {requests, base}).as_object();
  const bj::array& components = doc.at("components").as_array();
  ASSERT_EQ(components.size(), 2u);
  std::set<std::string> refs;
  for (const auto& c : components) refs.insert(std::string(c.at("bom-ref").as_string()));
  EXPECT_EQ(refs, (std::set<std::string>{"pkg:pypi/requests@2.32.3", "SPDXRef-base-files"}));
  EXPECT_EQ(doc.at("vulnerabilities").as_array()[0].at("affects").as_array()[0].at("ref"), "pkg:pypi/requests@2.32.3");
}

}  // namespace
}  // namespace vouch::vuln
