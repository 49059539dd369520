// policies.kyverno.io PolicyException: read with parse_policy_exceptions beside the kyverno.io
// kind, applied by Engine::apply to the ValidatingPolicy it names.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "vouch/base/json.h"
#include "vouch/policy/cel_policy.h"
#include "vouch/policy/engine.h"
#include "vouch/policy/policy.h"
#include "vouch/policy/values.h"

namespace vouch::policy {
namespace {

constexpr const char* kPolicy = R"yaml(
apiVersion: policies.kyverno.io/v1
kind: ValidatingPolicy
metadata:
  name: check-env
spec:
  validationActions: [Deny]
  matchConstraints:
    resourceRules:
    - apiGroups: ["apps"]
      apiVersions: ["v1"]
      operations: ["CREATE"]
      resources: ["deployments"]
  validations:
  - expression: "object.metadata.?labels.?env.orValue('') == 'prod'"
    message: "env must be prod"
)yaml";

constexpr const char* kExceptions = R"yaml(
apiVersion: policies.kyverno.io/v1beta1
kind: PolicyException
metadata:
  name: test-ns
  namespace: kyverno
spec:
  policyRefs:
  - name: check-env
    kind: ValidatingPolicy
  matchConditions:
  - name: in-test
    expression: "object.metadata.namespace == 'test'"
---
apiVersion: policies.kyverno.io/v1
kind: PolicyException
metadata:
  name: staging-passes
  labels:
    polex.kyverno.io/priority: "5"
spec:
  reportResult: pass
  properties: {ticket: OPS-42}
  policyRefs:
  - name: check-env
    kind: ValidatingPolicy
  matchConditions:
  - name: in-staging
    expression: "object.metadata.namespace == 'staging'"
---
apiVersion: kyverno.io/v2
kind: PolicyException
metadata:
  name: classic
spec:
  exceptions:
  - policyName: other
    ruleNames: [r]
  match:
    any:
    - resources:
        kinds: [Pod]
)yaml";

bj::value deployment(std::string_view ns) {
  return *json::parse(fmt::format(
      R"({{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {{"name": "d", "namespace": "{}"}}}})", ns));
}

TEST(CelPolicyException, ReadBesideTheKyvernoKind) {
  auto ex = parse_policy_exceptions(kExceptions, "ex.yaml");
  ASSERT_TRUE(ex.ok()) << ex.error().message;
  ASSERT_EQ(ex->size(), 3u);
  EXPECT_TRUE((*ex)[0].cel);
  EXPECT_EQ((*ex)[0].key(), "kyverno/test-ns");
  ASSERT_EQ((*ex)[0].policy_refs.size(), 1u);
  EXPECT_EQ((*ex)[0].policy_refs[0].kind, "ValidatingPolicy");
  EXPECT_EQ((*ex)[1].report_result, "pass");
  EXPECT_EQ((*ex)[1].priority, 5);
  EXPECT_FALSE((*ex)[2].cel);
}

TEST(CelPolicyException, SkipsOrPassesWhatItsConditionsHoldFor) {
  auto policies = parse_policies(kPolicy, "policy.yaml");
  ASSERT_TRUE(policies.ok()) << policies.error().message;
  auto ex = parse_policy_exceptions(kExceptions, "ex.yaml");
  ASSERT_TRUE(ex.ok()) << ex.error().message;
  Engine engine({.verifier = nullptr, .exceptions = *ex});
  auto run = [&](std::string_view ns) {
    Request r;
    r.object = deployment(ns);
    return engine.apply((*policies)[0], r);
  };
  auto skipped = run("test");
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0].status, RuleStatus::kSkip);
  EXPECT_EQ(skipped[0].rule, "exception");
  EXPECT_EQ(skipped[0].message, "rule is skipped due to policy exception: kyverno/test-ns");
  auto passed = run("staging");
  ASSERT_EQ(passed.size(), 1u);
  EXPECT_EQ(passed[0].status, RuleStatus::kPass);
  EXPECT_EQ(passed[0].message, "rule is passed due to policy exception: staging-passes");
  EXPECT_EQ(passed[0].properties, (std::map<std::string, std::string>{{"ticket", "OPS-42"}}));
  EXPECT_TRUE(skipped[0].properties.empty());
  auto failed = run("prod");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].status, RuleStatus::kFail);
  EXPECT_EQ(failed[0].message, "env must be prod");
  // A Pod is not matched by the policy: the exception gives no result either.
  Request pod;
  pod.object = *json::parse(R"({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "test"}})");
  EXPECT_TRUE(engine.apply((*policies)[0], pod).empty());
}

TEST(CelPolicyException, ConditionErrorIsAnErrorResult) {
  auto policies = parse_policies(kPolicy, "policy.yaml");
  ASSERT_TRUE(policies.ok()) << policies.error().message;
  auto ex = parse_policy_exceptions(R"yaml(
apiVersion: policies.kyverno.io/v1
kind: PolicyException
metadata: {name: broken}
spec:
  policyRefs: [{name: check-env, kind: ValidatingPolicy}]
  matchConditions:
  - {name: missing, expression: "object.spec.nothing == 1"}
)yaml", "ex.yaml");
  ASSERT_TRUE(ex.ok()) << ex.error().message;
  Engine engine({.verifier = nullptr, .exceptions = *ex});
  Request r;
  r.object = deployment("x");
  auto out = engine.apply((*policies)[0], r);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].status, RuleStatus::kError);
  EXPECT_NE(out[0].message.find("PolicyException broken: matchConditions[0] (missing)"), std::string::npos);
}

TEST(CelPolicyException, BadDocumentsAreRefusedWithTheirPath) {
  auto bad = [](std::string_view spec) {
    auto r = parse_policy_exceptions(
        fmt::format("apiVersion: policies.kyverno.io/v1\nkind: PolicyException\nmetadata: {{name: e}}\nspec: {}\n", spec),
        "ex.yaml");
    return r.ok() ? std::string() : r.error().message;
  };
  EXPECT_NE(bad("{policyRefs: [{name: p, kind: ValidatingPolicy}], surprise: 1}").find("spec.surprise"), std::string::npos);
  EXPECT_NE(bad("{}").find("spec.policyRefs"), std::string::npos);
  EXPECT_NE(bad("{policyRefs: [{name: p}]}").find("spec.policyRefs[0].kind"), std::string::npos);
  EXPECT_NE(bad("{policyRefs: [{name: p, kind: ValidatingPolicy}], matchConditions: [{name: c, expression: 'object.'}]}")
                .find("spec.matchConditions[0].expression"),
            std::string::npos);
  EXPECT_NE(bad("{policyRefs: [{name: p, kind: ValidatingPolicy}], reportResult: fail}").find("spec.reportResult"),
            std::string::npos);
  EXPECT_NE(bad("{policyRefs: [{name: p, kind: ValidatingPolicy}], images: [a]}").find("not supported"), std::string::npos);
  EXPECT_NE(bad("{policyRefs: [{name: p, kind: ValidatingPolicy}], expiresAt: soon}").find("spec.expiresAt"),
            std::string::npos);
}

TEST(CelPolicyException, ExpiredExceptionIsNotInForce) {
  auto policies = parse_policies(kPolicy, "policy.yaml");
  ASSERT_TRUE(policies.ok()) << policies.error().message;
  auto ex = parse_policy_exceptions(R"yaml(
apiVersion: policies.kyverno.io/v1
kind: PolicyException
metadata: {name: old}
spec:
  expiresAt: "2020-01-01T00:00:00Z"
  policyRefs: [{name: check-env, kind: ValidatingPolicy}]
)yaml", "ex.yaml");
  ASSERT_TRUE(ex.ok()) << ex.error().message;
  Engine engine({.verifier = nullptr, .exceptions = *ex});
  Request r;
  r.object = deployment("x");
  auto out = engine.apply((*policies)[0], r);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].status, RuleStatus::kFail);
}

TEST(CelPolicyException, JsonModePayloadsAreExemptedToo) {
  auto policies = parse_policies(R"yaml(
apiVersion: policies.kyverno.io/v1
kind: ValidatingPolicy
metadata: {name: big-values}
spec:
  evaluation: {mode: JSON}
  validations:
  - expression: "object.value > 10"
)yaml", "json.yaml");
  ASSERT_TRUE(policies.ok()) << policies.error().message;
  auto ex = parse_policy_exceptions(R"yaml(
apiVersion: policies.kyverno.io/v1alpha1
kind: PolicyException
metadata: {name: small-ok}
spec:
  policyRefs: [{name: big-values, kind: ValidatingPolicy}]
  matchConditions:
  - {name: marked, expression: "object.?exempt.orValue(false)"}
)yaml", "ex.yaml");
  ASSERT_TRUE(ex.ok()) << ex.error().message;
  Engine engine({.verifier = nullptr, .exceptions = *ex});
  std::vector<JsonPayload> payloads = {{"small.json", *json::parse(R"({"value": 1})")},
                                       {"exempt.json", *json::parse(R"({"value": 1, "exempt": true})")}};
  auto results = evaluate_json_payloads(engine, *policies, payloads);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].result.status, RuleStatus::kFail);
  EXPECT_EQ(results[1].result.status, RuleStatus::kSkip);
}

}  // namespace
}  // namespace vouch::policy
