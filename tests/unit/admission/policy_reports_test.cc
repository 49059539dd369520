#include "vouch/admission/policy_reports.h"

#include <gtest/gtest.h>

#include <set>

#include "vouch/admission/manifests.h"
#include "vouch/policy/document.h"

namespace vouch::admission {
namespace {

namespace bj = boost::json;
using policy::FailureAction;
using policy::RuleStatus;

RecordedResult result(std::string ns, std::string kind, std::string name, std::string rule, RuleStatus status,
                      std::string uid = "") {
  RecordedResult r;
  r.result.policy = "image-hygiene";
  r.result.rule = std::move(rule);
  r.result.type = "Validation";
  r.result.status = status;
  r.result.message = "validation error: The :latest tag is not allowed.";
  r.result.action = FailureAction::kAudit;
  r.resource = {"v1", std::move(kind), std::move(name), std::move(ns)};
  r.resource_uid = std::move(uid);
  r.process = std::string(kProcessAdmission);
  r.when = 1'700'000'000;
  return r;
}

std::vector<RecordedResult> sample() {
  std::vector<RecordedResult> out{
      result("shop", "Pod", "web", "no-latest-tag", RuleStatus::kFail, "7d4c-web"),
      result("shop", "Pod", "api", "no-latest-tag", RuleStatus::kPass),
      result("shop", "Pod", "api", "require-digest", RuleStatus::kError),
      result("dev", "Pod", "web", "no-latest-tag", RuleStatus::kSkip),
      result("", "Namespace", "shop", "require-labels", RuleStatus::kWarn, "ns-uid"),
  };
  out[1].process = std::string(kProcessBackgroundScan);
  out[2].result.patches.push_back(bj::object{{"op", "replace"}, {"path", "/spec/containers/0/image"}, {"value", "a@sha256:1"}});
  return out;
}

// The wgpolicyk8s.io/v1alpha2 CRD's schema for a report: types of every field it declares, the
// required ones present, and the enums.
void check_against_crd(const bj::object& report) {
  SCOPED_TRACE(bj::serialize(report));
  ASSERT_EQ(report.at("apiVersion"), "wgpolicyk8s.io/v1alpha2");
  const auto& kind = report.at("kind").as_string();
  ASSERT_TRUE(kind == "PolicyReport" || kind == "ClusterPolicyReport");
  const auto& meta = report.at("metadata").as_object();
  ASSERT_TRUE(meta.at("name").is_string());
  EXPECT_EQ(meta.contains("namespace"), kind == "PolicyReport");
  EXPECT_EQ(meta.at("labels").at("app.kubernetes.io/managed-by"), "vouch");
  const std::set<std::string> top{"apiVersion", "kind", "metadata", "results", "scope", "scopeSelector", "summary"};
  for (const auto& [k, v] : report) EXPECT_TRUE(top.count(std::string(k))) << k;
  const auto& summary = report.at("summary").as_object();
  int total = 0;
  for (const char* s : {"pass", "fail", "warn", "error", "skip"}) {
    ASSERT_TRUE(summary.at(s).is_int64()) << s;
    total += static_cast<int>(summary.at(s).as_int64());
  }
  EXPECT_EQ(summary.size(), 5u);
  const auto& results = report.at("results").as_array();
  EXPECT_EQ(static_cast<size_t>(total), results.size());
  const std::set<std::string> fields{"category", "message", "policy", "properties", "resourceSelector", "resources",
                                     "result", "rule", "scored", "severity", "source", "timestamp"};
  const std::set<std::string> enum_result{"pass", "fail", "warn", "error", "skip"};
  const std::set<std::string> ref_fields{"apiVersion", "fieldPath", "kind", "name", "namespace", "resourceVersion", "uid"};
  for (const auto& item : results) {
    const auto& r = item.as_object();
    for (const auto& [k, v] : r) EXPECT_TRUE(fields.count(std::string(k))) << k;
    ASSERT_TRUE(r.at("policy").is_string());  // required
    EXPECT_TRUE(r.at("rule").is_string());
    EXPECT_TRUE(enum_result.count(std::string(r.at("result").as_string())));
    EXPECT_TRUE(r.at("scored").is_bool());
    EXPECT_EQ(r.at("source"), "kyverno");
    EXPECT_TRUE(r.at("message").is_string());
    const auto& ts = r.at("timestamp").as_object();
    EXPECT_TRUE(ts.at("seconds").is_int64());  // required
    EXPECT_TRUE(ts.at("nanos").is_int64());    // required
    for (const auto& [k, v] : r.at("properties").as_object()) EXPECT_TRUE(v.is_string()) << k;  // map[string]string
    const auto& resources = r.at("resources").as_array();
    ASSERT_EQ(resources.size(), 1u);
    for (const auto& [k, v] : resources[0].as_object()) {
      EXPECT_TRUE(ref_fields.count(std::string(k))) << k;
      EXPECT_TRUE(v.is_string()) << k;
    }
    if (kind == "PolicyReport") {
      EXPECT_EQ(resources[0].at("namespace"), meta.at("namespace"));
    } else {
      EXPECT_FALSE(resources[0].as_object().contains("namespace"));
    }
  }
}

TEST(PolicyReports, OnePerNamespaceAndOneForTheCluster) {
  bj::object list = policy_report_list(sample(), std::nullopt);
  EXPECT_EQ(list.at("apiVersion"), "v1");
  EXPECT_EQ(list.at("kind"), "List");
  EXPECT_EQ(list.at("metadata"), (bj::object{{"resourceVersion", ""}}));
  const auto& items = list.at("items").as_array();
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].at("metadata").at("name"), "polr-ns-dev");
  EXPECT_EQ(items[1].at("metadata").at("name"), "polr-ns-shop");
  EXPECT_EQ(items[1].at("metadata").at("namespace"), "shop");
  EXPECT_EQ(items[2].at("kind"), "ClusterPolicyReport");
  EXPECT_EQ(items[2].at("metadata").at("name"), "clusterpolicyreport");
  for (const auto& item : items) check_against_crd(item.as_object());

  const auto& shop = items[1].as_object();
  EXPECT_EQ(shop.at("summary"), (bj::object{{"pass", 1}, {"fail", 1}, {"warn", 0}, {"error", 1}, {"skip", 0}}));
  // Sorted by resource, then policy and rule.
  const auto& results = shop.at("results").as_array();
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].at("resources").at(0).at("name"), "api");
  EXPECT_EQ(results[0].at("rule"), "no-latest-tag");
  EXPECT_EQ(results[1].at("rule"), "require-digest");
  EXPECT_EQ(results[2].at("resources").at(0).at("name"), "web");
  // The uid when known, the process, and what policy::report_result gives.
  EXPECT_EQ(results[2].at("resources").at(0).at("uid"), "7d4c-web");
  EXPECT_FALSE(results[0].at("resources").at(0).as_object().contains("uid"));
  EXPECT_EQ(results[0].at("properties").at("process"), "background scan");
  EXPECT_EQ(results[2].at("properties").at("process"), "admission review");
  EXPECT_EQ(results[2].at("properties").at("failureAction"), "Audit");
  EXPECT_EQ(results[2].at("timestamp"), (bj::object{{"seconds", 1'700'000'000}, {"nanos", 0}}));
  EXPECT_TRUE(results[1].at("properties").as_object().contains("patches"));

  const auto& cluster = items[2].as_object();
  EXPECT_EQ(cluster.at("results").at(0).at("resources").at(0),
            (bj::object{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"name", "shop"}, {"uid", "ns-uid"}}));
}

TEST(PolicyReports, TheSeedsTriageQueryFindsTheFailures) {
  // jq -r '.items[].results[] | select(.result=="fail") | .resources[0].name'
  bj::object list = policy_report_list(sample(), std::nullopt);
  std::vector<std::string> failing;
  for (const auto& item : list.at("items").as_array())
    for (const auto& r : item.at("results").as_array())
      if (r.at("result") == "fail") failing.emplace_back(r.at("resources").at(0).at("name").as_string());
  EXPECT_EQ(failing, std::vector<std::string>{"web"});
}

TEST(PolicyReports, OneNamespaceOrNone) {
  bj::object shop = policy_report_list(sample(), std::string("shop"));
  ASSERT_EQ(shop.at("items").as_array().size(), 1u);
  EXPECT_EQ(shop.at("items").at(0).at("metadata").at("name"), "polr-ns-shop");
  bj::object cluster = policy_report_list(sample(), std::string(""));
  ASSERT_EQ(cluster.at("items").as_array().size(), 1u);
  EXPECT_EQ(cluster.at("items").at(0).at("kind"), "ClusterPolicyReport");
  EXPECT_TRUE(policy_report_list(sample(), std::string("nowhere")).at("items").as_array().empty());
  EXPECT_TRUE(policy_report_list({}, std::nullopt).at("items").as_array().empty());
}

TEST(PolicyReports, TheOrderDoesNotDependOnTheStore) {
  auto a = sample();
  auto b = sample();
  std::reverse(b.begin(), b.end());
  EXPECT_EQ(bj::serialize(policy_report_list(a, std::nullopt)), bj::serialize(policy_report_list(b, std::nullopt)));
}

TEST(PolicyReports, YamlOutputReadsBackAsTheSameDocument) {
  bj::object list = policy_report_list(sample(), std::nullopt);
  // Text YAML would take for something else: numbers, booleans, ':' and '#', line breaks.
  list["items"].as_array()[0].as_object()["results"].as_array()[0].as_object()["message"] = "yes: 1.0 # no\nsecond line";
  std::string yaml = to_yaml(Manifests{{list}, {"a note"}});
  auto docs = policy::parse_documents(yaml, "report.yaml");
  ASSERT_TRUE(docs.ok()) << docs.error().message;
  ASSERT_EQ(docs->size(), 1u);
  EXPECT_EQ((*docs)[0], bj::value(list)) << yaml;
}

}  // namespace
}  // namespace vouch::admission
