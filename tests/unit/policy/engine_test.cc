// The engine: patterns, conditions, variables, failure actions and verifyImages through a
// test double of the image verifier.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "vouch/policy/pattern.h"
#include "vouch/base/json.h"
#include "vouch/policy/document.h"
#include "vouch/policy/engine.h"

namespace vouch::policy {
namespace {

bj::value doc(std::string_view yaml) {
  auto d = parse_document(yaml, "test");
  EXPECT_TRUE(d.ok()) << d.error().message;
  return d.ok() ? *d : bj::value();
}

Request req(bj::value object) {
  Request r;
  r.object = std::move(object);
  return r;
}

Policy policy(std::string_view yaml) {
  auto p = parse_policies(yaml, "test");
  EXPECT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p.ok() ? p->size() : 0u, 1u);
  return (*p)[0];
}

TEST(Pattern, ScalarsAsKyverno) {
  EXPECT_TRUE(match_scalar(bj::value("nginx:1.25"), bj::value("nginx:*")));
  EXPECT_TRUE(match_scalar(bj::value("b"), bj::value("a | b")));
  EXPECT_FALSE(match_scalar(bj::value("c"), bj::value("a | b")));
  EXPECT_TRUE(match_scalar(bj::value(3), bj::value(">2 & <5")));
  EXPECT_TRUE(match_scalar(bj::value("256Mi"), bj::value("<=1Gi")));
  EXPECT_FALSE(match_scalar(bj::value("2Gi"), bj::value("<=1Gi")));
  EXPECT_TRUE(match_scalar(bj::value("90s"), bj::value(">1m")));
  EXPECT_TRUE(match_scalar(bj::value(7), bj::value("5-10")));
  EXPECT_FALSE(match_scalar(bj::value(7), bj::value("5!-10")));
  EXPECT_TRUE(match_scalar(bj::value("latest"), bj::value("!1.*")));
  EXPECT_TRUE(match_scalar(bj::value(1), bj::value(1.0)));
  EXPECT_TRUE(match_scalar(bj::value("42"), bj::value(42)));
  EXPECT_TRUE(match_scalar(bj::value(), bj::value()));
  EXPECT_TRUE(match_scalar(bj::value(false), bj::value()));
  EXPECT_FALSE(match_scalar(bj::value("x"), bj::value(true)));
}

TEST(Pattern, AnchorsAndPaths) {
  auto r = match_pattern(doc("spec: {containers: [{name: a, image: 'x:latest'}]}"),
                                 doc("spec: {containers: [{(image): '*:latest', imagePullPolicy: Always}]}"));
  EXPECT_EQ(r.kind, PatternResult::kFail);
  EXPECT_EQ(r.path, "/spec/containers/0/imagePullPolicy/");
  r = match_pattern(doc("spec: {containers: [{name: a, image: 'x:1'}]}"),
                            doc("spec: {containers: [{(image): '*:latest', imagePullPolicy: Always}]}"));
  EXPECT_EQ(r.kind, PatternResult::kSkip);
  r = match_pattern(doc("spec: {hostPID: true}"), doc("spec: {X(hostPID): 'null'}"));
  EXPECT_EQ(r.kind, PatternResult::kFail);
  EXPECT_EQ(r.path, "/spec/hostPID/");
  r = match_pattern(doc("metadata: {labels: {app.kubernetes.io/name: web}}"),
                            doc("metadata: {labels: {app.kubernetes.io/*: '?*'}}"));
  EXPECT_EQ(r.kind, PatternResult::kPass);
  r = match_pattern(doc("spec: {}"), doc("spec: {containers: '*'}"));
  EXPECT_EQ(r.kind, PatternResult::kFail);
  // Deeply nested input does not crash.
  std::string deep = "a: ";
  for (int i = 0; i < 60; ++i) deep += "{a: ";
  deep += "1";
  for (int i = 0; i < 60; ++i) deep += "}";
  auto d = doc(deep);
  EXPECT_EQ(match_pattern(d, d).kind, PatternResult::kPass);
}

constexpr std::string_view kPod = R"(apiVersion: v1
kind: Pod
metadata: {name: web, namespace: dev, labels: {app: web}}
spec:
  containers:
    - {name: app, image: ghcr.io/org/app:1.0}
    - {name: side, image: docker.io/library/busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef}
)";

TEST(Engine, FailureActionsAndOverrides) {
  Policy p = policy(R"(apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: p}
spec:
  validationFailureAction: Audit
  validationFailureActionOverrides:
    - {action: Enforce, namespaces: [prod-*]}
  rules:
    - name: spec-level
      match: {any: [{resources: {kinds: [Pod]}}]}
      validate: {deny: {}}
    - name: rule-level
      match: {any: [{resources: {kinds: [Pod]}}]}
      validate:
        failureAction: Enforce
        failureActionOverrides: [{action: Audit, namespaces: [dev]}]
        deny: {}
)");
  Engine engine;
  Request dev = req(doc(kPod));
  auto r = engine.apply(p, dev);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].action, FailureAction::kAudit);
  EXPECT_EQ(r[1].action, FailureAction::kAudit);  // the rule's override for dev
  EXPECT_EQ(r[0].status, RuleStatus::kFail);  // deny with no conditions denies
  Request prod = req(doc(std::string(kPod).replace(std::string(kPod).find("dev"), 3, "prod-eu")));
  r = engine.apply(p, prod);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].action, FailureAction::kEnforce);
  EXPECT_EQ(r[1].action, FailureAction::kEnforce);
}

TEST(Engine, VariablesAndErrors) {
  Policy p = policy(R"(apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: p}
spec:
  rules:
    - name: images
      match: {any: [{resources: {kinds: [Pod]}}]}
      context:
        - name: registries
          variable: {jmesPath: "request.object.spec.containers[].image | [].split(@, '/')[0]"}
      validate:
        message: "{{ images.containers.app.registry }} {{ images.containers.side.digest }} {{ registries }}"
        deny:
          conditions:
            any: [{key: "{{ request.object.metadata.labels.app }}", operator: Equals, value: web}]
    - name: missing-key
      match: {any: [{resources: {kinds: [Pod]}}]}
      validate:
        deny:
          conditions:
            any: [{key: "{{ request.object.metadata.labels.nope }}", operator: Equals, value: x}]
    - name: default-with-or
      match: {any: [{resources: {kinds: [Pod]}}]}
      validate:
        deny:
          conditions:
            any: [{key: "{{ request.object.metadata.labels.nope || 'none' }}", operator: Equals, value: x}]
)");
  Engine engine;
  auto r = engine.apply(p, req(doc(kPod)));
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].status, RuleStatus::kFail);
  EXPECT_EQ(r[0].message,
            "ghcr.io sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef "
            "[\"ghcr.io\",\"docker.io\"]");
  EXPECT_EQ(r[1].status, RuleStatus::kError);
  EXPECT_NE(r[1].message.find("Unknown key \"nope\""), std::string::npos) << r[1].message;
  EXPECT_EQ(r[2].status, RuleStatus::kPass);
}

// A function given a missing field (null) fails as in Kyverno, and where the failure lands
// decides the result as in pkg/engine/handlers/validation/validate_resource.go: a deny
// condition or a precondition gives error, a pattern gives error ("variable substitution
// failed"), and a validate.message that does not resolve leaves the fail in place with
// buildErrorMessage's "variables substitution error" text (deny: getDenyMessage falls back to
// the conditions' messages).
TEST(Engine, FunctionOfMissingFieldAsKyverno) {
  Policy p = policy(R"(apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: p}
spec:
  rules:
    - name: deny-key
      match: {any: [{resources: {kinds: [Pod]}}]}
      validate:
        message: "too many"
        deny:
          conditions:
            any: [{key: "{{ length(request.object.spec.missing) }}", operator: GreaterThan, value: 3}]
    - name: pattern
      match: {any: [{resources: {kinds: [Pod]}}]}
      validate:
        message: "upper"
        pattern: {metadata: {name: "{{ to_upper(request.object.missing) }}"}}
    - name: message-on-fail
      match: {any: [{resources: {kinds: [Pod]}}]}
      validate:
        message: "owner {{ to_upper(request.object.missing) }}"
        pattern: {metadata: {name: "nope-*"}}
    - name: message-on-any-pattern
      match: {any: [{resources: {kinds: [Pod]}}]}
      validate:
        message: "owner {{ to_upper(request.object.missing) }}"
        anyPattern: [{metadata: {name: "nope-*"}}]
    - name: message-on-deny
      match: {any: [{resources: {kinds: [Pod]}}]}
      validate:
        message: "owner {{ to_upper(request.object.missing) }}"
        deny:
          conditions:
            any: [{key: "{{ request.object.metadata.name }}", operator: Equals, value: web, message: named web}]
    - name: precondition
      match: {any: [{resources: {kinds: [Pod]}}]}
      preconditions:
        all: [{key: "{{ length(request.object.spec.missing) }}", operator: GreaterThan, value: 0}]
      validate:
        pattern: {metadata: {name: "?*"}}
    - name: not-null-default
      match: {any: [{resources: {kinds: [Pod]}}]}
      validate:
        message: "defaulted"
        deny:
          conditions:
            any: [{key: "{{ not_null(request.object.spec.missing, 'x') }}", operator: Equals, value: x}]
)");
  Engine engine;
  auto r = engine.apply(p, req(doc(kPod)));
  ASSERT_EQ(r.size(), 7u);
  EXPECT_EQ(r[0].status, RuleStatus::kError);
  EXPECT_TRUE(r[0].message.starts_with("failed to check deny conditions: failed to substitute variables in condition "
                                       "key: failed to resolve length(request.object.spec.missing) at path"))
      << r[0].message;
  EXPECT_NE(r[0].message.find("length(): argument 1 must be a string, an array or an object, got null"),
            std::string::npos)
      << r[0].message;
  EXPECT_EQ(r[1].status, RuleStatus::kError);
  EXPECT_TRUE(r[1].message.starts_with(
      "variable substitution failed: failed to resolve to_upper(request.object.missing) at path /metadata/name/"))
      << r[1].message;
  EXPECT_EQ(r[2].status, RuleStatus::kFail);
  EXPECT_TRUE(r[2].message.starts_with(
      "validation error: variables substitution error in rule message-on-fail execution error: "))
      << r[2].message;
  EXPECT_EQ(r[3].status, RuleStatus::kFail);
  EXPECT_EQ(r[3].message,
            "validation error: variables substitution error in rule message-on-any-pattern execution error: "
            "rule message-on-any-pattern[0] failed at path /metadata/name/");
  EXPECT_EQ(r[4].status, RuleStatus::kFail);
  EXPECT_EQ(r[4].message, "named web");
  EXPECT_EQ(r[5].status, RuleStatus::kError);
  EXPECT_TRUE(r[5].message.starts_with("failed to evaluate preconditions: ")) << r[5].message;
  EXPECT_EQ(r[6].status, RuleStatus::kFail);
  EXPECT_EQ(r[6].message, "defaulted");
}

class FakeVerifier : public ImageVerifier {
 public:
  Result<ImageVerificationOutcome> verify(const std::string& image, const ImageVerification&, const AttestorSet& set,
                                          const Attestation* attestation) override {
    calls.push_back(image);
    if (image.find("unreachable") != std::string::npos) return io_error("registry unreachable");
    ImageVerificationOutcome o;
    o.digest = "sha256:feed";
    o.verified = image.find("signed") != std::string::npos;
    if (!o.verified) o.reason = fmt::format(".entries[0].keyless: no signatures found ({} entries)", set.entries.size());
    if (attestation) o.predicates.push_back(doc("buildType: https://example.com/build@v1"));
    return o;
  }
  std::vector<std::string> calls;
};

TEST(Engine, VerifyImagesThroughTheVerifier) {
  Policy p = policy(R"(apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: p}
spec:
  rules:
    - name: verify
      match: {any: [{resources: {kinds: [Pod]}}]}
      verifyImages:
        - imageReferences: ["ghcr.io/*"]
          skipImageReferences: ["ghcr.io/org/skipped*"]
          attestors: [{entries: [{keyless: {issuer: https://issuer, subject: me}}]}]
          attestations:
            - type: https://slsa.dev/provenance/v1
              conditions:
                - all: [{key: "{{ buildType }}", operator: Equals, value: "https://example.com/build@*"}]
)");
  auto fake = std::make_shared<FakeVerifier>();
  Engine engine({.verifier = fake});
  auto pod = [](std::string image) {
    return doc(fmt::format("apiVersion: v1\nkind: Pod\nmetadata: {{name: x}}\nspec: {{containers: [{{name: a, image: '{}'}}, "
                           "{{name: b, image: 'docker.io/other:1'}}, {{name: c, image: 'ghcr.io/org/skipped:1'}}]}}\n",
                           image));
  };
  auto r = engine.apply(p, req(pod("ghcr.io/org/signed:1")));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, RuleStatus::kPass) << r[0].message;
  EXPECT_EQ(fake->calls, (std::vector<std::string>{"ghcr.io/org/signed:1", "ghcr.io/org/signed:1"}));
  r = engine.apply(p, req(pod("ghcr.io/org/app:1")));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, RuleStatus::kFail);
  EXPECT_NE(r[0].message.find("failed to verify image ghcr.io/org/app:1: .attestors[0]: .entries[0].keyless: no signatures"),
            std::string::npos)
      << r[0].message;
  r = engine.apply(p, req(pod("ghcr.io/org/unreachable:1")));
  EXPECT_EQ(r[0].status, RuleStatus::kError);
  // No image selected: the rule does not apply.
  EXPECT_TRUE(engine.apply(p, req(pod("quay.io/x:1"))).empty());
  // Without a verifier: error, never a pass.
  Engine offline;
  r = offline.apply(p, req(pod("ghcr.io/org/signed:1")));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, RuleStatus::kError);
  EXPECT_NE(r[0].message.find("no image verifier"), std::string::npos);
}

TEST(Engine, MutateDigestPinsVerifiedTagsAsJsonPatches) {
  const char* rule = R"(apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: p}
spec:
  rules:
    - name: verify
      match: {any: [{resources: {kinds: [Pod, Deployment]}}]}
      verifyImages:
        - imageReferences: ["ghcr.io/*"]
          mutateDigest: {MUTATE}
          attestors: [{entries: [{keys: {publicKeys: k}}]}]
)";
  auto with = [&](bool mutate) {
    std::string text = rule;
    text.replace(text.find("{MUTATE}"), 8, mutate ? "true" : "false");
    return policy(text);
  };
  auto fake = std::make_shared<FakeVerifier>();
  Engine engine({.verifier = fake});
  auto pod = doc("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  initContainers: [{name: i, image: busybox}]\n"
                 "  containers: [{name: a, image: 'ghcr.io/org/signed:1'}, {name: b, image: 'ghcr.io/org/signed@sha256:aa'}]\n");
  auto r = engine.apply(with(true), req(pod));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, RuleStatus::kPass) << r[0].message;
  ASSERT_EQ(r[0].patches.size(), 1u);  // the reference with a digest is left alone
  EXPECT_EQ(bj::serialize(r[0].patches[0]),
            R"({"op":"replace","path":"/spec/containers/0/image","value":"ghcr.io/org/signed:1@sha256:feed"})");
  // A Deployment's pod template.
  auto deploy = doc("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n"
                    "spec: {template: {spec: {containers: [{name: a, image: 'ghcr.io/org/signed:2'}]}}}\n");
  r = engine.apply(with(true), req(deploy));
  ASSERT_EQ(r.size(), 1u);
  ASSERT_EQ(r[0].patches.size(), 1u);
  EXPECT_EQ(r[0].patches[0].at("path"), "/spec/template/spec/containers/0/image");
  // mutateDigest: false with verifyDigest (the default): a tag is a failure, never pinned.
  r = engine.apply(with(false), req(pod));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, RuleStatus::kFail);
  EXPECT_NE(r[0].message.find("missing digest for ghcr.io/org/signed:1"), std::string::npos) << r[0].message;
  EXPECT_TRUE(r[0].patches.empty());
  // A failed verification patches nothing.
  auto unsigned_pod = doc("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n"
                          "spec: {containers: [{name: a, image: 'ghcr.io/org/signed:1'}, {name: b, image: 'ghcr.io/org/app:1'}]}\n");
  r = engine.apply(with(true), req(unsigned_pod));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, RuleStatus::kFail);
  EXPECT_TRUE(r[0].patches.empty());
}

}  // namespace
}  // namespace vouch::policy

namespace vouch::policy {
namespace {

TEST(Engine, ApplyRulesOneStopsAfterTheFirstAppliedRule) {
  Policy p = policy(R"(apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: p}
spec:
  applyRules: One
  rules:
    - name: not-matching
      match: {any: [{resources: {kinds: [Service]}}]}
      validate: {deny: {}}
    - name: first
      match: {any: [{resources: {kinds: [Pod]}}]}
      validate: {deny: {conditions: {all: [{key: a, operator: Equals, value: b}]}}}
    - name: second
      match: {any: [{resources: {kinds: [Pod]}}]}
      validate: {deny: {}}
)");
  Engine engine;
  auto r = engine.apply(p, req(doc(kPod)));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].rule, "first");
  EXPECT_EQ(r[0].status, RuleStatus::kPass);
}

}  // namespace
}  // namespace vouch::policy
