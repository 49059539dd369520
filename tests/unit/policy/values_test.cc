// Kyverno CLI values and user-info files, value merging, PolicyReports and the kyverno-test
// result matcher.
#include <gtest/gtest.h>

#include "vouch/policy/cel_policy.h"
#include "vouch/policy/kyverno_test.h"
#include "vouch/policy/report.h"
#include "vouch/policy/values.h"

namespace vouch::policy {
namespace {

constexpr std::string_view kValues = R"(
apiVersion: cli.kyverno.io/v1alpha1
kind: Values
globalValues:
  request.operation: UPDATE
  team: global
policies:
- name: p
  rules:
  - name: r
    values:
      team: from-rule
  resources:
  - name: web
    values:
      team: from-resource
      tier: front
namespaceSelector:
- name: apps
  labels: {env: prod}
)";

Policy make_policy() {
  auto p = parse_policies(R"(
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: p}
spec:
  rules:
  - name: r
    match: {any: [{resources: {kinds: [Pod]}}]}
    validate:
      message: "team label"
      pattern: {metadata: {labels: {team: "?*"}}}
)",
                          "test");
  EXPECT_TRUE(p.ok()) << p.error().message;
  return (*p)[0];
}

bj::value pod(const char* name) {
  return bj::object{{"apiVersion", "v1"},
                    {"kind", "Pod"},
                    {"metadata", bj::object{{"name", name}, {"namespace", "apps"}}},
                    {"spec", bj::object{}}};
}

TEST(Values, ParsedAndMergedRuleOverResourceOverGlobal) {
  auto values = parse_values(kValues, "values.yaml");
  ASSERT_TRUE(values.ok()) << values.error().message;
  EXPECT_EQ(values->global.at("team"), "global");
  EXPECT_EQ(values->namespace_labels.at("apps").at("env"), "prod");
  Policy p = make_policy();
  Request web = request_for(p, pod("web"), *values, {});
  EXPECT_EQ(web.operation, "UPDATE");
  EXPECT_EQ(web.values.at("team"), "from-rule");
  EXPECT_EQ(web.values.at("tier"), "front");
  EXPECT_EQ(web.namespace_labels.at("apps").at("env"), "prod");
  Request other = request_for(p, pod("other"), *values, {}, "DELETE");
  EXPECT_EQ(other.operation, "DELETE");
  EXPECT_FALSE(other.values.contains("request.operation"));
  EXPECT_FALSE(other.values.contains("tier"));
  EXPECT_FALSE(parse_values("- a list", "bad.yaml").ok());
}

TEST(Values, UserInfo) {
  auto u = parse_user_info(R"(
apiVersion: cli.kyverno.io/v1alpha1
kind: UserInfo
clusterRoles: [cluster-admin]
roles: ["apps:editor"]
userInfo:
  username: system:serviceaccount:apps:deployer
  groups: [system:authenticated]
)",
                           "user.yaml");
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->username, "system:serviceaccount:apps:deployer");
  EXPECT_EQ(u->groups, std::vector<std::string>{"system:authenticated"});
  EXPECT_EQ(u->roles, std::vector<std::string>{"apps:editor"});
  EXPECT_EQ(u->cluster_roles, std::vector<std::string>{"cluster-admin"});
}

TEST(Report, ClusterPolicyReportFromResults) {
  Engine engine;
  Policy p = make_policy();
  auto evaluated = evaluate_all(engine, {p}, {pod("web")}, Values{}, {});
  ASSERT_EQ(evaluated.size(), 1u);
  EXPECT_EQ(evaluated[0].result.status, RuleStatus::kFail);
  EXPECT_EQ(reported_status(evaluated[0].result, true), RuleStatus::kWarn);  // Audit by default
  EXPECT_EQ(reported_status(evaluated[0].result, false), RuleStatus::kFail);
  ReportSummary summary;
  summary.add(evaluated[0].result.status);
  bj::array results{report_result(evaluated[0].result, evaluated[0].resource, 1700000000)};
  auto report = cluster_policy_report("merged", summary, results);
  EXPECT_EQ(report.at("kind"), "ClusterPolicyReport");
  EXPECT_EQ(report.at("summary").at("fail"), 1);
  EXPECT_EQ(report.at("summary").at("pass"), 0);
  const auto& r = report.at("results").at(0);
  EXPECT_EQ(r.at("policy"), "p");
  EXPECT_EQ(r.at("rule"), "r");
  EXPECT_EQ(r.at("result"), "fail");
  EXPECT_EQ(r.at("resources").at(0).at("name"), "web");
  EXPECT_EQ(r.at("resources").at(0).at("namespace"), "apps");
  EXPECT_EQ(r.at("resources").at(0).at("kind"), "Pod");
  EXPECT_EQ(r.at("scored"), true);
  EXPECT_EQ(r.at("timestamp").at("seconds"), 1700000000);
  EXPECT_EQ(r.at("properties").at("failureAction"), "Audit");
  EXPECT_FALSE(r.as_object().contains("resource"));
}

// The first Test document of a test file.
Result<KyvernoTest> one_test(std::string_view text, std::string_view source) {
  VOUCH_ASSIGN_OR_RETURN(auto tests, parse_kyverno_tests(text, source));
  return tests.front();
}

TEST(KyvernoTest, ParsesAndMatchesResults) {
  auto spec = one_test(R"(
apiVersion: cli.kyverno.io/v1alpha1
kind: Test
policies: [policy.yaml]
resources: [resources.yaml]
variables: values.yaml
results:
- policy: p
  rule: r
  resources: [web, apps/other]
  kind: Pod
  result: fail
- policy: p
  rule: r
  resource: missing
  result: skip
- policy: p
  rule: r
  resource: web
  result: pass
)",
                                 "kyverno-test.yaml");
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  EXPECT_EQ(spec->values, "values.yaml");
  ASSERT_EQ(spec->results.size(), 3u);
  Engine engine;
  std::map<std::string, std::vector<Evaluated>> by_operation;
  by_operation[""] = evaluate_all(engine, {make_policy()}, {pod("web"), pod("other")}, Values{}, {});
  auto rows = match_test_results(spec->results, by_operation);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_TRUE(rows[0].ok);
  EXPECT_TRUE(rows[1].ok);
  EXPECT_TRUE(rows[2].ok);  // no result: skip
  EXPECT_FALSE(rows[3].ok);
  EXPECT_EQ(rows[3].got, "fail");

  EXPECT_FALSE(one_test("policies: [p.yaml]\nresults: [{policy: p, result: maybe}]", "t").ok());
  EXPECT_FALSE(one_test("results: []", "t").ok());
  EXPECT_FALSE(one_test("apiVersion: v1\npolicies: [p.yaml]\nresults: []", "t").ok());
}

TEST(KyvernoTest, ResultsWithoutResourcesCheckEveryJudgedResource) {
  auto spec = one_test(R"(
policies: [policy.yaml]
jsonPayloads: [a.json]
jsonPayload: b.json
results:
- {policy: p, result: fail}
- {policy: nothing, result: pass}
)",
                                 "kyverno-test.yaml");
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  EXPECT_EQ(spec->json_payloads, (std::vector<std::string>{"a.json", "b.json"}));
  std::map<std::string, std::vector<Evaluated>> by_operation;
  by_operation[""] = evaluate_all(Engine(), {make_policy()}, {pod("web"), pod("other")}, Values{}, {});
  auto rows = match_test_results(spec->results, by_operation);
  // Both pods for p; none for a policy that judged nothing: a failed row, not a silent pass.
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].resource, "Pod/apps/web");
  EXPECT_EQ(rows[1].resource, "Pod/apps/other");
  EXPECT_FALSE(rows[2].ok);
  EXPECT_EQ(rows[2].got, "skip");
}

TEST(Values, NamespacesAreWholeNamespaceObjects) {
  auto values = parse_values(R"yaml(
apiVersion: cli.kyverno.io/v1alpha1
kind: Value
namespaceSelector:
- name: apps
  labels: {env: dev}
namespaces:
- apiVersion: v1
  kind: Namespace
  metadata:
    name: apps
    labels: {env: prod}
    annotations: {corp.com/registry: img.corp.com}
)yaml", "values.yaml");
  ASSERT_TRUE(values.ok()) << values.error().message;
  EXPECT_EQ(values->namespace_labels.at("apps").at("env"), "prod");  // namespaces win
  auto policies = parse_policies(R"yaml(
apiVersion: policies.kyverno.io/v1
kind: ValidatingPolicy
metadata: {name: registry}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}
  validations:
  - expression: "namespaceObject.metadata.?annotations['corp.com/registry'].orValue('') == 'img.corp.com'"
)yaml", "policy.yaml");
  ASSERT_TRUE(policies.ok()) << policies.error().message;
  Request req = request_for((*policies)[0], pod("web"), *values, {});
  auto out = Engine().apply((*policies)[0], req);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].status, RuleStatus::kPass) << out[0].message;
  EXPECT_FALSE(parse_values("namespaces: [{metadata: {}}]", "v.yaml").ok());
  EXPECT_FALSE(parse_values("namespaces: {a: b}", "v.yaml").ok());
}

TEST(KyvernoTest, EveryTestDocumentOfAFileIsRead) {
  auto tests = parse_kyverno_tests(R"yaml(
apiVersion: cli.kyverno.io/v1alpha1
kind: Test
metadata: {name: one}
policies: [a.yaml]
resources: [r.yaml]
results: []
---
apiVersion: cli.kyverno.io/v1alpha1
kind: Test
metadata: {name: two}
policies: [b.yaml]
resources: [r.yaml]
results: []
)yaml", "kyverno-test.yaml");
  ASSERT_TRUE(tests.ok()) << tests.error().message;
  ASSERT_EQ(tests->size(), 2u);
  EXPECT_EQ((*tests)[1].policies, std::vector<std::string>{"b.yaml"});
  auto bad = parse_kyverno_tests("kind: Test\npolicies: [a.yaml]\nresources: [r.yaml]\nresults: []\n---\napiVersion: cli.kyverno.io/v1alpha1\nkind: Nope\n", "t.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("document 2"), std::string::npos);
}

// apiCallResponses are checked as Kyverno's CLI checks them before a test runs.
TEST(KyvernoTest, ApiCallResponsesAreValidatedAsKyvernosCli) {
  auto parse = [](std::string_view entries) {
    return parse_kyverno_tests(fmt::format("apiVersion: cli.kyverno.io/v1alpha1\nkind: Test\npolicies: [p.yaml]\n"
                                           "resources: [r.yaml]\nresults: []\napiCallResponses:\n{}",
                                           entries),
                               "t.yaml");
  };
  auto good = parse("- {url: 'https://a.example/x', method: POST, response: {body: {ok: true}}}\n"
                    "- {urlPath: /api/v1/namespaces, response: {statusCode: 404, body: {}}}\n");
  ASSERT_TRUE(good.ok()) << good.error().message;
  EXPECT_EQ((*good)[0].http_responses.count("POST:https://a.example/x"), 1u);
  EXPECT_EQ((*good)[0].http_responses.at("/api/v1/namespaces").at("statusCode"), 404);
  for (auto [entries, why] : std::vector<std::pair<std::string_view, std::string_view>>{
           {"- {response: {body: {}}}\n", "either url or urlPath is required"},
           {"- {url: 'https://a/x', urlPath: /x, response: {body: {}}}\n", "mutually exclusive"},
           {"- {url: 'ftp://a/x', response: {body: {}}}\n", "absolute https/http URL"},
           {"- {url: 'https:///x', response: {body: {}}}\n", "no host"},
           {"- {urlPath: api/v1, response: {body: {}}}\n", "starting with '/'"},
           {"- {url: 'https://a/x', method: PUT, response: {body: {}}}\n", "GET or POST"},
           {"- {url: 'https://a/x', response: {}}\n", "response.body is required"},
           {"- {url: 'https://a/x', response: {body: [1]}}\n", "JSON object"},
           {"- {url: 'https://a/x', response: {statusCode: 700, body: {}}}\n", "between 100 and 599"},
           {"- {url: 'https://a/x', response: {body: {}}}\n- {url: 'https://a/x', response: {body: {}}}\n", "duplicate"},
           {"- {url: 'https://a/x', response: {body: {}, headers: {}}}\n", "unknown field headers"},
       }) {
    auto r = parse(entries);
    ASSERT_FALSE(r.ok()) << entries;
    EXPECT_NE(r.error().message.find(why), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace vouch::policy
