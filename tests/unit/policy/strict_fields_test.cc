// Every field of a ClusterPolicy is either honoured or refused with its path: the fields of
// Kyverno's CRD that used to be skipped (rule.reportProperties, rule.imageExtractors,
// validate.cel with rule.celPreconditions, validate.allowExistingViolations,
// spec.webhookConfiguration.matchConditions) and fields Kyverno does not have.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "vouch/policy/document.h"
#include "vouch/policy/engine.h"
#include "vouch/policy/lint.h"
#include "vouch/policy/report.h"

namespace vouch::policy {
namespace {

bj::value doc(std::string_view yaml) {
  auto d = parse_document(yaml, "test");
  EXPECT_TRUE(d.ok()) << d.error().message;
  return d.ok() ? *d : bj::value();
}

Policy policy(std::string_view yaml) {
  auto p = parse_policies(yaml, "test");
  EXPECT_TRUE(p.ok()) << p.error().message;
  if (!p.ok() || p->size() != 1) return Policy{};
  return (*p)[0];
}

std::string refusal(std::string_view yaml) {
  auto p = parse_policies(yaml, "test");
  EXPECT_FALSE(p.ok()) << "accepted: " << yaml;
  return p.ok() ? "" : p.error().message;
}

// A ClusterPolicy with one rule whose body (indented under `- name: r`) is `rule`.
std::string with_rule(std::string_view rule, std::string_view spec_extra = "") {
  return fmt::format(R"(apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {{name: p}}
spec:
  validationFailureAction: Enforce
{}  rules:
    - name: r
      match: {{any: [{{resources: {{kinds: [Pod]}}}}]}}
{})",
                     spec_extra, rule);
}

constexpr std::string_view kLabelled = R"(      validate:
        message: "label team is required"
        pattern: {metadata: {labels: {team: "?*"}}}
)";

Request pod(std::string_view labels, std::string operation = "CREATE") {
  Request r;
  r.object = doc(fmt::format("apiVersion: v1\nkind: Pod\nmetadata: {{name: x, namespace: dev, labels: {{{}}}}}\n"
                             "spec: {{containers: [{{name: a, image: 'nginx:1'}}]}}\n",
                             labels));
  r.operation = std::move(operation);
  return r;
}

TEST(PolicyStrictFields, UnknownFieldsAreRefusedWithTheirPath) {
  EXPECT_NE(refusal(with_rule(std::string(kLabelled) + "      validatoin: {}\n")).find("spec.rules[0].validatoin: unknown field"),
            std::string::npos);
  EXPECT_NE(refusal(with_rule(R"(      validate:
        messsage: typo
        pattern: {metadata: {name: "?*"}}
)")).find("spec.rules[0].validate.messsage: unknown field"),
            std::string::npos);
  EXPECT_NE(refusal(with_rule(R"(      validate:
        deny: {conditions: {any: []}, message: x}
)")).find("spec.rules[0].validate.deny.message: unknown field"),
            std::string::npos);
  // Not fields of Kyverno's spec.
  EXPECT_NE(refusal(with_rule(kLabelled, "  evaluation: {mode: Kubernetes}\n")).find("spec.evaluation: unknown field"),
            std::string::npos);
  EXPECT_NE(refusal(with_rule(kLabelled, "  failureActionOverrides: []\n")).find("spec.failureActionOverrides: unknown field"),
            std::string::npos);
  EXPECT_NE(refusal(with_rule(kLabelled, "  webhookConfiguration: {timeout: 3}\n"))
                .find("spec.webhookConfiguration.timeout: unknown field"),
            std::string::npos);
  // A rule-level action would leave the rule in the policy's action: refused, naming the
  // field Kyverno reads.
  std::string m = refusal(with_rule(std::string("      validationFailureAction: Enforce\n") + std::string(kLabelled)));
  EXPECT_NE(m.find("spec.rules[0].validationFailureAction: not a field of a rule"), std::string::npos) << m;
  EXPECT_NE(m.find("validate.failureAction"), std::string::npos) << m;
  // Well-formed values for fields that change nothing offline.
  EXPECT_NE(refusal(with_rule(kLabelled, "  useServerSideApply: yes-please\n")).find("spec.useServerSideApply: expected true or false"),
            std::string::npos);
  EXPECT_NE(refusal(with_rule(R"(      verifyImages:
        - imageReferences: ["ghcr.io/*"]
          imageRegistryCredentials: {providers: [dockerhub]}
)")).find("imageRegistryCredentials.providers: [0]: expected default, amazon, azure, google or github"),
            std::string::npos);
}

TEST(PolicyStrictFields, ReportPropertiesReachTheReport) {
  Policy p = policy(with_rule(std::string("      reportProperties: {owner: platform, ticket: SEC-12}\n") + std::string(kLabelled)));
  Engine engine;
  auto r = engine.apply(p, pod("team: a"));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, RuleStatus::kPass);
  bj::object result = report_result(r[0], resource_ref(pod("").object), 0);
  const auto& props = result.at("properties").as_object();
  EXPECT_EQ(props.at("owner"), "platform");
  EXPECT_EQ(props.at("ticket"), "SEC-12");
  EXPECT_EQ(props.at("type"), "Validation");
}

TEST(PolicyStrictFields, ValidateCelWithPreconditions) {
  Policy p = policy(with_rule(R"Y(      celPreconditions:
        - name: labelled
          expression: "has(object.metadata.labels) && 'tier' in object.metadata.labels"
      validate:
        message: "from the rule"
        cel:
          variables:
            - name: team
              expression: "object.metadata.labels.?team.orValue('')"
          expressions:
            - expression: "variables.team != ''"
            - expression: "variables.team.startsWith('t-')"
              messageExpression: "'team ' + variables.team + ' must start with t-'"
)Y"));
  Engine engine;
  auto r = engine.apply(p, pod("tier: web, team: t-a"));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, RuleStatus::kPass);
  EXPECT_EQ(r[0].message, "Validation rule 'r' passed.");
  // The first failing expression gives the message; without its own, the rule's.
  r = engine.apply(p, pod("tier: web"));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, RuleStatus::kFail);
  EXPECT_EQ(r[0].message, "from the rule");
  r = engine.apply(p, pod("tier: web, team: b"));
  EXPECT_EQ(r[0].status, RuleStatus::kFail);
  EXPECT_EQ(r[0].message, "team b must start with t-");
  // Preconditions that do not hold skip the rule.
  r = engine.apply(p, pod("team: b"));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, RuleStatus::kSkip);
  EXPECT_EQ(r[0].message, "cel preconditions not met");
  // An expression that does not compile names the field it was written in.
  std::string m = refusal(with_rule(R"(      validate:
        cel:
          expressions:
            - expression: "object.metadata.name =="
)"));
  EXPECT_NE(m.find("spec.rules[0].validate.cel.expressions[0].expression"), std::string::npos) << m;
  m = refusal(with_rule(R"(      celPreconditions: [{name: x, expression: "1 +"}]
      validate:
        cel: {expressions: [{expression: "true"}]}
)"));
  EXPECT_NE(m.find("spec.rules[0].celPreconditions[0].expression"), std::string::npos) << m;
  // Parameters live in the cluster: an error result, never a pass.
  p = policy(with_rule(R"(      validate:
        cel:
          paramKind: {apiVersion: v1, kind: ConfigMap}
          expressions: [{expression: "true"}]
)"));
  r = engine.apply(p, pod("team: a"));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, RuleStatus::kError);
}

TEST(PolicyStrictFields, CelPreconditionsOutsideValidateCelAreLinted) {
  Policy p = policy(with_rule(std::string("      celPreconditions: [{name: x, expression: \"true\"}]\n") +
                              std::string(kLabelled)));
  auto findings = lint_policy(p);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].path, "spec.rules[0].celPreconditions");
}

TEST(PolicyStrictFields, ExistingViolationsDoNotBlockAnUpdate) {
  Policy p = policy(with_rule(kLabelled));
  Engine engine;
  Request update = pod("other: x", "UPDATE");
  update.old_object = pod("other: y").object;
  auto r = engine.apply(p, update);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, RuleStatus::kSkip);
  EXPECT_EQ(r[0].message, "skipping the rule evaluation as pre-existing violations are allowed");
  // The old object was fine: the update introduces the violation.
  update.old_object = pod("team: a").object;
  r = engine.apply(p, update);
  EXPECT_EQ(r[0].status, RuleStatus::kFail);
  // Not on CREATE, and not when the rule asks for it.
  EXPECT_EQ(engine.apply(p, pod("other: x"))[0].status, RuleStatus::kFail);
  Policy strict = policy(with_rule(R"(      validate:
        allowExistingViolations: false
        message: "label team is required"
        pattern: {metadata: {labels: {team: "?*"}}}
)"));
  update.old_object = pod("other: y").object;
  EXPECT_EQ(engine.apply(strict, update)[0].status, RuleStatus::kFail);
  // Audit is never skipped (Kyverno only relaxes Enforce).
  Policy audit = policy(std::string(with_rule(kLabelled)).replace(with_rule(kLabelled).find("Enforce"), 7, "Audit"));
  EXPECT_EQ(engine.apply(audit, update)[0].status, RuleStatus::kFail);
}

TEST(PolicyStrictFields, WebhookMatchConditionsGateThePolicy) {
  Policy p = policy(with_rule(kLabelled, R"(  webhookConfiguration:
    matchConditions:
      - name: not-dev
        expression: "object.metadata.namespace != 'dev'"
)"));
  Engine engine;
  EXPECT_TRUE(engine.apply(p, pod("other: x")).empty());
  Request prod = pod("other: x");
  prod.object.as_object()["metadata"].as_object()["namespace"] = "prod";
  auto r = engine.apply(p, prod);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, RuleStatus::kFail);
}

TEST(PolicyFidelity, WildcardLabelKeysThatMatchNothingStayRequired) {
  auto check = [](std::string_view pattern_labels, std::string_view labels) {
    Policy p = policy(with_rule(fmt::format(R"(      validate:
        message: "labels"
        pattern: {{metadata: {{labels: {{{}}}}}}}
)",
                                            pattern_labels)));
    Engine engine;
    auto r = engine.apply(p, pod(labels));
    return r.empty() ? RuleStatus::kSkip : r[0].status;
  };
  EXPECT_EQ(check("\"app.kubernetes.io/*\": \"?*\"", "app.kubernetes.io/name: web"), RuleStatus::kPass);
  EXPECT_EQ(check("\"app.kubernetes.io/*\": \"?*\"", "team: a"), RuleStatus::kFail);
  EXPECT_EQ(check("\"app.kubernetes.io/*\": \"web\"", "app.kubernetes.io/name: db"), RuleStatus::kFail);
  // Anchored: optional when absent, forbidden when present.
  EXPECT_EQ(check("\"=(app.kubernetes.io/*)\": \"web\"", "team: a"), RuleStatus::kPass);
  EXPECT_EQ(check("\"=(app.kubernetes.io/*)\": \"web\"", "app.kubernetes.io/name: db"), RuleStatus::kFail);
  EXPECT_EQ(check("\"X(debug/*)\": \"null\"", "team: a"), RuleStatus::kPass);
  EXPECT_EQ(check("\"X(debug/*)\": \"null\"", "debug/on: \"yes\""), RuleStatus::kFail);
}

class RecordingVerifier : public ImageVerifier {
 public:
  Result<ImageVerificationOutcome> verify(const std::string& image, const ImageVerification&, const AttestorSet&,
                                          const Attestation*) override {
    calls.push_back(image);
    ImageVerificationOutcome o;
    o.verified = true;
    o.digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    return o;
  }
  Result<std::string> resolve_digest(const std::string&, const ImageVerification&) override {
    return std::string("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  }
  std::vector<std::string> calls;
};

TEST(PolicyStrictFields, ImageExtractorsFindImagesInOtherKinds) {
  Policy p = policy(R"(apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: tasks}
spec:
  validationFailureAction: Enforce
  rules:
    - name: r
      match: {any: [{resources: {kinds: [Task]}}]}
      imageExtractors:
        Task:
          - {name: steps, path: /spec/steps/*, value: image, key: name}
          - {path: /spec/sidecar/image}
      verifyImages:
        - imageReferences: ["ghcr.io/*"]
          attestors: [{entries: [{keys: {publicKeys: k}}]}]
)");
  auto fake = std::make_shared<RecordingVerifier>();
  EngineOptions options;
  options.verifier = fake;
  Engine engine(options);
  Request r;
  r.object = doc(R"(apiVersion: tekton.dev/v1
kind: Task
metadata: {name: t, namespace: ci}
spec:
  steps:
    - {name: build, image: "ghcr.io/acme/builder:1"}
    - {name: lint, image: "docker.io/lint:2"}
  sidecar: {image: "ghcr.io/acme/cache:3"}
)");
  auto results = engine.apply(p, r);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, RuleStatus::kPass) << results[0].message;
  std::sort(fake->calls.begin(), fake->calls.end());
  fake->calls.erase(std::unique(fake->calls.begin(), fake->calls.end()), fake->calls.end());
  EXPECT_EQ(fake->calls, (std::vector<std::string>{"ghcr.io/acme/builder:1", "ghcr.io/acme/cache:3"}));
  // The digest is pinned where the extractor found the image.
  bool pinned_step = false, pinned_sidecar = false;
  for (const auto& patch : results[0].patches) {
    std::string path(patch.at("path").as_string());
    pinned_step = pinned_step || path == "/spec/steps/0/image";
    pinned_sidecar = pinned_sidecar || path == "/spec/sidecar/image";
  }
  EXPECT_TRUE(pinned_step && pinned_sidecar);
  // A jmesPath rewrites what was read, so no digest can be written back.
  std::string m = refusal(R"Y(apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: tasks}
spec:
  rules:
    - name: r
      match: {any: [{resources: {kinds: [Task]}}]}
      imageExtractors:
        Task: [{path: /spec/steps/*/image, jmesPath: "trim_prefix(@, 'mirror/')"}]
      verifyImages:
        - imageReferences: ["ghcr.io/*"]
          attestors: [{entries: [{keys: {publicKeys: k}}]}]
)Y");
  EXPECT_NE(m.find("spec.rules[0].imageExtractors.Task: an extractor with jmesPath cannot be combined with mutateDigest"),
            std::string::npos)
      << m;
}

}  // namespace
}  // namespace vouch::policy
