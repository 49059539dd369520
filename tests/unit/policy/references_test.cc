// Kyverno's `$(...)` references in rules: relative and absolute paths into the rule document,
// operators inside and before a reference, escapes, unresolvable references and references in
// patches.
#include <gtest/gtest.h>

#include "vouch/policy/document.h"
#include "vouch/policy/engine.h"

namespace vouch::policy {
namespace {

bj::value doc(std::string_view yaml) {
  auto d = parse_document(yaml, "test");
  EXPECT_TRUE(d.ok()) << d.error().message;
  return d.ok() ? *d : bj::value();
}

// One rule for Pods whose body (validate: or mutate:) is `body`, indented under the rule.
Policy policy_with_rule(std::string_view body) {
  std::string text =
      "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: p\n"
      "  annotations: {pod-policies.kyverno.io/autogen-controllers: none}\nspec:\n  rules:\n"
      "  - name: r\n    match: {any: [{resources: {kinds: [Pod]}}]}\n";
  std::string b(body);
  size_t start = 0;
  while (start < b.size()) {
    size_t nl = b.find('\n', start);
    text += "    " + b.substr(start, nl == std::string::npos ? std::string::npos : nl - start) + "\n";
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  auto p = parse_policies(text, "test");
  EXPECT_TRUE(p.ok()) << p.error().message;
  return p.ok() && !p->empty() ? (*p)[0] : Policy{};
}

RuleResult run(const Policy& p, std::string_view pod_yaml) {
  Engine engine;
  Request r;
  r.object = doc(pod_yaml);
  auto results = engine.apply(p, r);
  EXPECT_EQ(results.size(), 1u);
  return results.empty() ? RuleResult{} : results[0];
}

std::string pod(std::string_view requests, std::string_view limits) {
  return "apiVersion: v1\nkind: Pod\nmetadata: {name: web, labels: {app: web}}\nspec:\n  containers:\n"
         "  - name: app\n    image: nginx\n    resources: {requests: {memory: " +
         std::string(requests) + "}, limits: {memory: " + std::string(limits) + "}}\n";
}

const char* kWithinLimits = R"y(validate:
  pattern:
    spec:
      containers:
      - resources:
          requests:
            memory: "$(<=./../../limits/memory)"
          limits:
            memory: "2048Mi"
)y";

TEST(References, RelativeReferenceWithOperatorInside) {
  Policy p = policy_with_rule(kWithinLimits);
  EXPECT_EQ(run(p, pod("1Gi", "2048Mi")).status, RuleStatus::kPass);
  auto r = run(p, pod("3Gi", "2048Mi"));
  EXPECT_EQ(r.status, RuleStatus::kFail);
  EXPECT_EQ(r.message, "validation error: rule r failed at path /spec/containers/0/resources/requests/memory/");
}

TEST(References, OperatorBeforeReference) {
  Policy p = policy_with_rule(R"y(validate:
  pattern:
    spec:
      containers:
      - resources:
          requests:
            memory: "<=$(./../../limits/memory)"
          limits:
            memory: "2048Mi"
)y");
  EXPECT_EQ(run(p, pod("2Gi", "2048Mi")).status, RuleStatus::kPass);
  EXPECT_EQ(run(p, pod("4Gi", "2048Mi")).status, RuleStatus::kFail);
}

TEST(References, PlainReferenceIsTheValue) {
  Policy p = policy_with_rule(R"y(validate:
  pattern:
    metadata:
      name: web
      labels:
        app: "$(./../../name)"
)y");
  EXPECT_EQ(run(p, pod("1Gi", "1Gi")).status, RuleStatus::kPass);
  std::string other = pod("1Gi", "1Gi");
  other.replace(other.find("app: web"), 8, "app: api");
  EXPECT_EQ(run(p, other).status, RuleStatus::kFail);
}

TEST(References, NumberWithOperatorInside) {
  // An operator inside the reference turns a number into text, as Go's %f prints it: "<=2.000000".
  Policy p = policy_with_rule(R"y(validate:
  pattern:
    spec:
      containers:
      - resources:
          requests:
            cpu: "$(<=./../../limits/cpu)"
          limits:
            cpu: 2
)y");
  std::string within = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n  - name: a\n"
                       "    resources: {requests: {cpu: 1500m}, limits: {cpu: 2}}\n";
  std::string over = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n  - name: a\n"
                     "    resources: {requests: {cpu: 3}, limits: {cpu: 2}}\n";
  auto r = run(p, within);
  EXPECT_EQ(r.status, RuleStatus::kPass) << r.message;
  EXPECT_EQ(run(p, over).status, RuleStatus::kFail);
}

TEST(References, AbsoluteReferenceAcrossAnyPattern) {
  // The references of anyPattern resolve in the whole list: /1 is its second pattern.
  Policy p = policy_with_rule(R"y(validate:
  anyPattern:
  - metadata:
      labels:
        app: "$(/1/metadata/name)"
  - metadata:
      name: web
)y");
  auto r = run(p, pod("1Gi", "1Gi"));
  EXPECT_EQ(r.status, RuleStatus::kPass) << r.message;
  EXPECT_EQ(r.message, "validation rule 'r' anyPattern[0] passed.");
  std::string other = pod("1Gi", "1Gi");
  other.replace(other.find("app: web"), 8, "app: api");
  r = run(p, other);
  EXPECT_EQ(r.message, "validation rule 'r' anyPattern[1] passed.");
}

TEST(References, EscapedReferenceIsLiteral) {
  Policy p = policy_with_rule(R"y(validate:
  pattern:
    metadata:
      annotations:
        command: '\$(date)'
)y");
  std::string with = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, annotations: {command: '$(date)'}}\n";
  std::string without = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, annotations: {command: date}}\n";
  EXPECT_EQ(run(p, with).status, RuleStatus::kPass);
  EXPECT_EQ(run(p, without).status, RuleStatus::kFail);
}

TEST(References, UnresolvableReferenceIsAnError) {
  Policy missing = policy_with_rule(R"y(validate:
  pattern:
    metadata:
      name: "$(./../nothing)"
)y");
  auto r = run(missing, pod("1Gi", "1Gi"));
  EXPECT_EQ(r.status, RuleStatus::kError);
  EXPECT_EQ(r.message, "variable substitution failed: got nil resolved variable $(./../nothing) at path /metadata/name: <nil>");

  Policy number = policy_with_rule(R"y(validate:
  pattern:
    metadata:
      name: "$(./../count)"
      count: 3
)y");
  r = run(number, pod("1Gi", "1Gi"));
  EXPECT_EQ(r.status, RuleStatus::kError);
  EXPECT_EQ(r.message,
            "variable substitution failed: NotResolvedReferenceErr,reference $(./../count) not resolved at path "
            "/metadata/name");

  Policy empty = policy_with_rule(R"y(validate:
  pattern:
    metadata:
      name: "$(<=)"
)y");
  r = run(empty, pod("1Gi", "1Gi"));
  EXPECT_EQ(r.status, RuleStatus::kError);
  EXPECT_EQ(r.message,
            "variable substitution failed: failed to resolve $(<=) at path /metadata/name: expected path, found empty "
            "reference");
}

TEST(References, ResolvedBeforeVariables) {
  // The reference reads the pattern as written; its `{{ }}` is then substituted as a variable.
  Policy p = policy_with_rule(R"y(validate:
  pattern:
    metadata:
      labels:
        app: "$(./../team)"
        team: "{{request.object.metadata.name}}"
)y");
  std::string ok = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, labels: {app: web, team: web}}\n";
  std::string bad = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, labels: {app: api, team: web}}\n";
  EXPECT_EQ(run(p, ok).status, RuleStatus::kPass);
  EXPECT_EQ(run(p, bad).status, RuleStatus::kFail);
}

TEST(References, InPatchStrategicMerge) {
  Policy p = policy_with_rule(R"y(mutate:
  patchStrategicMerge:
    metadata:
      labels:
        tier: backend
        owner-tier: "$(./../tier)"
)y");
  auto r = run(p, pod("1Gi", "1Gi"));
  ASSERT_EQ(r.status, RuleStatus::kPass) << r.message;
  const auto& labels = r.patched_resource.at("metadata").at("labels");
  EXPECT_EQ(labels.at("tier"), bj::value("backend"));
  EXPECT_EQ(labels.at("owner-tier"), bj::value("backend"));

  Policy bad = policy_with_rule(R"y(mutate:
  patchStrategicMerge:
    metadata:
      labels:
        owner-tier: "$(./../tier)"
)y");
  r = run(bad, pod("1Gi", "1Gi"));
  EXPECT_EQ(r.status, RuleStatus::kError);
  EXPECT_EQ(r.message,
            "variable substitution failed: got nil resolved variable $(./../tier) at path "
            "/mutate/patchStrategicMerge/metadata/labels/owner-tier: <nil>");
}

}  // namespace
}  // namespace vouch::policy
