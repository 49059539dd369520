// ValidatingPolicy and ValidatingAdmissionPolicy through parse_policies and Engine::apply.
#include <gtest/gtest.h>

#include "vouch/base/json.h"
#include "vouch/policy/cel_policy.h"
#include "vouch/policy/engine.h"
#include "vouch/policy/policy.h"
#include "vouch/policy/values.h"

namespace vouch::policy {
namespace {

constexpr const char* kValidatingPolicy = R"yaml(
apiVersion: policies.kyverno.io/v1
kind: ValidatingPolicy
metadata:
  name: check-labels
spec:
  validationActions: [Audit]
  matchConstraints:
    resourceRules:
    - apiGroups: ["apps"]
      apiVersions: ["v1"]
      operations: ["CREATE", "UPDATE"]
      resources: ["deployments"]
  matchConditions:
  - name: not-system
    expression: "object.metadata.namespace != 'kube-system'"
  variables:
  - name: env
    expression: "object.metadata.?labels.?env.orValue('')"
  validations:
  - expression: "variables.env == 'prod'"
    messageExpression: "'env must be prod, not ' + variables.env"
  - expression: "object.spec.replicas <= 5"
    message: "too many replicas"
)yaml";

bj::value deployment(std::string_view ns, std::string_view env, int replicas) {
  auto v = json::parse(fmt::format(R"({{"apiVersion": "apps/v1", "kind": "Deployment",
      "metadata": {{"name": "d", "namespace": "{}", "labels": {{"env": "{}"}}}}, "spec": {{"replicas": {}}}}})",
                                   ns, env, replicas));
  return *v;
}

std::vector<RuleResult> run(const Policy& p, bj::value object, std::string operation = "CREATE") {
  Request r;
  r.object = std::move(object);
  r.operation = std::move(operation);
  return Engine().apply(p, r);
}

TEST(CelPolicy, ValidatingPolicyPassesFailsAndSkips) {
  auto policies = parse_policies(kValidatingPolicy, "policy.yaml");
  ASSERT_TRUE(policies.ok()) << policies.error().message;
  ASSERT_EQ(policies->size(), 1u);
  const Policy& p = (*policies)[0];
  EXPECT_EQ(p.kind, "ValidatingPolicy");
  EXPECT_EQ(p.failure_action, FailureAction::kAudit);

  auto pass = run(p, deployment("default", "prod", 2));
  ASSERT_EQ(pass.size(), 1u);
  EXPECT_EQ(pass[0].status, RuleStatus::kPass);

  auto fail = run(p, deployment("default", "dev", 9));
  ASSERT_EQ(fail.size(), 1u);
  EXPECT_EQ(fail[0].status, RuleStatus::kFail);
  EXPECT_EQ(fail[0].message, "env must be prod, not dev; too many replicas");
  EXPECT_EQ(fail[0].action, FailureAction::kAudit);

  EXPECT_TRUE(run(p, deployment("kube-system", "dev", 1)).empty());       // matchConditions false
  EXPECT_TRUE(run(p, deployment("default", "dev", 1), "DELETE").empty());  // operation not matched
  auto pod = json::parse(R"({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}})");
  EXPECT_TRUE(run(p, *pod).empty());                                       // resource not matched
}

TEST(CelPolicy, AdmissionPolicyWithBindingAndFailurePolicy) {
  constexpr const char* kVap = R"yaml(
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: b}
spec:
  policyName: replicas
  validationActions: [Deny]
  matchResources:
    namespaceSelector:
      matchLabels: {env: test}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: replicas}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: ["apps"]
      apiVersions: ["v1"]
      operations: ["CREATE"]
      resources: ["deployments"]
  validations:
  - expression: "object.spec.replicas < int(object.metadata.labels.env)"
)yaml";
  auto policies = parse_policies(kVap, "vap.yaml");
  ASSERT_TRUE(policies.ok()) << policies.error().message;
  ASSERT_EQ(policies->size(), 1u);
  const Policy& p = (*policies)[0];
  EXPECT_EQ(p.failure_action, FailureAction::kEnforce);
  Request r;
  r.object = deployment("team", "3", 2);
  EXPECT_TRUE(Engine().apply(p, r).empty());  // the binding's namespaceSelector does not match
  r.namespace_labels["team"] = {{"env", "test"}};
  auto ok = Engine().apply(p, r);
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0].status, RuleStatus::kPass);
  r.object = deployment("team", "x", 2);  // int('x') fails: failurePolicy Fail reports an error
  auto err = Engine().apply(p, r);
  ASSERT_EQ(err.size(), 1u);
  EXPECT_EQ(err[0].status, RuleStatus::kError);
  EXPECT_NE(err[0].message.find("cannot convert"), std::string::npos) << err[0].message;
  r.object = deployment("team", "1", 2);
  auto fail = Engine().apply(p, r);
  ASSERT_EQ(fail.size(), 1u);
  EXPECT_EQ(fail[0].message, "failed expression: object.spec.replicas < int(object.metadata.labels.env)");

  std::string ignore = kVap;
  ignore.replace(ignore.find("failurePolicy: Fail"), 19, "failurePolicy: Ignore");
  auto ignored = parse_policies(ignore, "vap.yaml");
  ASSERT_TRUE(ignored.ok());
  r.object = deployment("team", "x", 2);
  EXPECT_TRUE(Engine().apply((*ignored)[0], r).empty());
}

TEST(CelPolicy, UnreadKindsAndBadExpressionsAreRefused) {
  auto deleting = parse_policies(R"yaml(
apiVersion: policies.kyverno.io/v1alpha1
kind: DeletingPolicy
metadata: {name: cleanup}
spec: {}
)yaml", "dpol.yaml");
  ASSERT_FALSE(deleting.ok());
  EXPECT_NE(deleting.error().message.find("policy kind DeletingPolicy is not supported"), std::string::npos)
      << deleting.error().message;
  auto bad = parse_policies(R"yaml(
apiVersion: policies.kyverno.io/v1alpha1
kind: ValidatingPolicy
metadata: {name: bad}
spec:
  validations:
  - expression: "object.metadata.name =="
)yaml", "bad.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("spec.validations[0].expression: CEL syntax error at line 1, column 24"),
            std::string::npos)
      << bad.error().message;
  auto orphan = parse_policies(R"yaml(
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: b}
spec: {policyName: missing, validationActions: [Deny]}
)yaml", "b.yaml");
  EXPECT_FALSE(orphan.ok());
}

// Kyverno generates policies for Pod controllers from a ValidatingPolicy on Pods; vouch does not
// (docs/cel.md), so a list naming controllers is refused rather than accepted without effect.
TEST(CelPolicy, AutogenNamingControllersIsRefused) {
  std::string policy = std::string(kValidatingPolicy);
  auto with_autogen = [&](std::string_view autogen) {
    std::string text = policy;
    text.replace(text.find("  validationActions"), 0, std::string(autogen));
    return parse_policies(text, "vpol.yaml");
  };
  auto named = with_autogen("  autogen:\n    podControllers:\n      controllers: [deployments]\n");
  ASSERT_FALSE(named.ok());
  EXPECT_NE(named.error().message.find("spec.autogen.podControllers.controllers: autogen for Pod controllers is not supported"),
            std::string::npos)
      << named.error().message;
  auto unknown = with_autogen("  autogen:\n    podControlers: {}\n");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("spec.autogen.podControlers: unknown field"), std::string::npos)
      << unknown.error().message;
  EXPECT_TRUE(with_autogen("  autogen:\n    podControllers:\n      controllers: []\n").ok());
}

TEST(CelPolicy, CostLimitInAValidationIsAnError) {
  auto policies = parse_policies(R"yaml(
apiVersion: policies.kyverno.io/v1
kind: ValidatingPolicy
metadata: {name: expensive}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"]}
  validations:
  - expression: "lists.range(1000).all(x, lists.range(1000).all(y, lists.range(1000).all(z, x + y + z >= 0)))"
)yaml", "cost.yaml");
  ASSERT_TRUE(policies.ok()) << policies.error().message;
  auto pod = json::parse(R"({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"}})");
  auto results = run((*policies)[0], *pod);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, RuleStatus::kError);
  EXPECT_NE(results[0].message.find("cost limit"), std::string::npos) << results[0].message;
}

TEST(CelPolicy, JsonModeJudgesPayloadsNotAdmissionRequests) {
  auto policies = parse_policies(R"yaml(
apiVersion: policies.kyverno.io/v1
kind: ValidatingPolicy
metadata: {name: no-root-ca}
spec:
  evaluation: {mode: JSON}
  matchConditions:
  - name: has-ca
    expression: "object.changes.exists(c, c.type == 'ca')"
  variables:
  - name: cas
    expression: "object.changes.filter(c, c.type == 'ca')"
  validations:
  - expression: "variables.cas.all(c, !c.root) && request == null && oldObject == null"
    message: "root CAs are not allowed"
)yaml", "json.yaml");
  ASSERT_TRUE(policies.ok()) << policies.error().message;
  const Policy& p = (*policies)[0];
  ASSERT_TRUE(p.cel && p.cel->json_mode);
  std::vector<JsonPayload> payloads = {
      {"ok.json", *json::parse(R"({"changes": [{"type": "ca", "root": false}]})")},
      {"root.json", *json::parse(R"({"changes": [{"type": "ca", "root": true}]})")},
      {"other.json", *json::parse(R"({"changes": [{"type": "bucket"}]})")},
      {"broken.json", *json::parse(R"({"no_changes": true})")},
  };
  auto results = evaluate_json_payloads(Engine(), *policies, payloads);
  ASSERT_EQ(results.size(), 3u);  // other.json: the match condition does not hold
  EXPECT_EQ(results[0].resource.name, "ok.json");
  EXPECT_EQ(results[0].result.status, RuleStatus::kPass);
  EXPECT_EQ(results[1].resource.name, "root.json");
  EXPECT_EQ(results[1].result.status, RuleStatus::kFail);
  EXPECT_EQ(results[1].result.message, "root CAs are not allowed");
  EXPECT_EQ(results[2].resource.name, "broken.json");
  EXPECT_EQ(results[2].result.status, RuleStatus::kError);  // no such key: fails closed

  // Not an admission policy: a request from the API server gets no result.
  Request admitted;
  admitted.object = payloads[1].document;
  admitted.admission = bj::object{{"uid", "1"}};
  EXPECT_TRUE(Engine().apply(p, admitted).empty());

  auto unknown = parse_policies(R"yaml(
apiVersion: policies.kyverno.io/v1
kind: ValidatingPolicy
metadata: {name: m}
spec:
  evaluation: {mode: Yaml}
  validations: [{expression: "true"}]
)yaml", "m.yaml");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("spec.evaluation.mode: expected Kubernetes or JSON"), std::string::npos)
      << unknown.error().message;
}

TEST(CelPolicy, ResourceAndHttpLibrariesReadOnlyOfflineData) {
  auto policies = parse_policies(R"yaml(
apiVersion: policies.kyverno.io/v1
kind: ValidatingPolicy
metadata: {name: lookups}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"]}
  validations:
  - expression: "resource.get('v1', 'configmaps', 'ops', 'cfg').data.mode == 'on'"
  - expression: "resource.list('v1', 'configmaps', '').items.size() == 1"
  - expression: "http.Get('https://x.example/a').body.ok && http.Post('https://x.example/b', {'k': 1}).statusCode == 201"
)yaml", "lookups.yaml");
  ASSERT_TRUE(policies.ok()) << policies.error().message;
  const Policy& p = (*policies)[0];
  auto pod = *json::parse(R"({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"}})");
  // No data (admission, or the CLI without a context file or mocks): an error, not a pass.
  auto none = run(p, pod);
  ASSERT_EQ(none.size(), 1u);
  EXPECT_EQ(none[0].status, RuleStatus::kError);
  EXPECT_NE(none[0].message.find("resource.get: no cluster to read resources from"), std::string::npos) << none[0].message;

  auto context = parse_cel_context(*json::parse(R"({"apiVersion": "cli.kyverno.io/v1alpha1", "kind": "Context",
      "spec": {"resources": [{"apiVersion": "v1", "kind": "ConfigMap",
                              "metadata": {"name": "cfg", "namespace": "ops"}, "data": {"mode": "on"}}]}})"),
                                    "context.yaml");
  ASSERT_TRUE(context.ok()) << context.error().message;
  auto data = std::make_shared<CelClusterData>(*context);
  Request r;
  r.object = pod;
  // The resource library answers, the http one has no mock yet.
  auto unmocked = Engine({.verifier = nullptr, .cel_cluster = data}).apply(p, r);
  ASSERT_EQ(unmocked.size(), 1u);
  EXPECT_EQ(unmocked[0].status, RuleStatus::kError);
  EXPECT_NE(unmocked[0].message.find("http.Get: no response for GET https://x.example/a"), std::string::npos)
      << unmocked[0].message;
  data->http_responses["GET:https://x.example/a"] = *json::parse(R"({"body": {"ok": true}, "statusCode": 200})");
  data->http_responses["https://x.example/b"] = *json::parse(R"({"body": {}, "statusCode": 201})");
  auto mocked = Engine({.verifier = nullptr, .cel_cluster = data}).apply(p, r);
  ASSERT_EQ(mocked.size(), 1u);
  EXPECT_EQ(mocked[0].status, RuleStatus::kPass) << mocked[0].message;

  EXPECT_FALSE(parse_cel_context(*json::parse(R"({"kind": "Context", "spec": {"images": [{"image": "x"}]}})"), "c").ok());
  EXPECT_FALSE(parse_cel_context(*json::parse(R"({"kind": "Values"})"), "c").ok());
}

TEST(CelPolicy, KubernetesModePoliciesDoNotJudgePayloads) {
  auto policies = parse_policies(kValidatingPolicy, "policy.yaml");
  ASSERT_TRUE(policies.ok()) << policies.error().message;
  std::vector<JsonPayload> payloads = {{"p.json", *json::parse(R"({"a": 1})")}};
  EXPECT_TRUE(evaluate_json_payloads(Engine(), *policies, payloads).empty());
}

}  // namespace
}  // namespace vouch::policy
