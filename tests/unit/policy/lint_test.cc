// policy lint: each finding on the policy shape it is about, and none on a sound policy.
#include <gtest/gtest.h>

#include "vouch/policy/lint.h"

namespace vouch::policy {
namespace {

std::vector<LintFinding> lint(std::string_view yaml) {
  auto policies = parse_policies(yaml, "test.yaml");
  EXPECT_TRUE(policies.ok()) << policies.error().message;
  if (!policies.ok() || policies->empty()) return {};
  return lint_policy(policies->front());
}

std::vector<std::string> paths(const std::vector<LintFinding>& findings) {
  std::vector<std::string> out;
  for (const auto& f : findings) out.push_back(f.path);
  return out;
}

constexpr std::string_view kSound = R"(
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: sound}
spec:
  validationFailureAction: Enforce
  rules:
  - name: signed
    match: {any: [{resources: {kinds: [Pod]}}]}
    verifyImages:
    - imageReferences: ["ghcr.io/acme/*"]
      attestors:
      - entries:
        - keyless:
            subject: "https://github.com/acme/app/.github/workflows/*"
            issuer: https://token.actions.githubusercontent.com
        - keyless:
            subjectRegExp: "^https://github\\.com/acme/.+$"
            issuer: https://token.actions.githubusercontent.com
)";

TEST(PolicyLint, SoundPolicyHasNoFindings) {
  auto findings = lint(kSound);
  EXPECT_TRUE(findings.empty()) << findings.front().path << ": " << findings.front().message;
}

TEST(PolicyLint, EachMistakeIsNamedByItsPath) {
  auto findings = lint(R"(
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: sloppy}
spec:
  validationFailureAction: Enforce
  failurePolicy: Ignore
  rules:
  - name: signed
    match: {any: [{resources: {kinds: [Pod]}}]}
    verifyImages:
    - imageReferences: ["*"]
      mutateDigest: false
      verifyDigest: false
      attestors:
      - entries:
        - keyless:
            subject: "https://github.com/acme/app/.github/workflows/.+\\.yml@refs/heads/main"
            issuer: https://token.actions.githubusercontent.com
        - keyless:
            subjectRegExp: ".*"
            issuerRegExp: "^.*$"
      attestations:
      - type: https://slsa.dev/provenance/v1
        attestors:
        - entries:
          - keyless: {subject: "^me@example\\.com$", issuer: https://issuer}
)");
  std::vector<std::string> want{
      "spec.failurePolicy",
      "spec.rules[0].verifyImages[0].imageReferences[0]",
      "spec.rules[0].verifyImages[0]",
      "spec.rules[0].verifyImages[0].attestors[0].entries[0].keyless.subject",
      "spec.rules[0].verifyImages[0].attestors[0].entries[1].keyless.subjectRegExp",
      "spec.rules[0].verifyImages[0].attestors[0].entries[1].keyless.issuerRegExp",
      "spec.rules[0].verifyImages[0].attestations[0].attestors[0].entries[0].keyless.subject",
  };
  EXPECT_EQ(paths(findings), want);
  for (const auto& f : findings) EXPECT_EQ(f.policy, "ClusterPolicy sloppy");
  EXPECT_NE(findings[3].message.find("use subjectRegExp"), std::string::npos) << findings[3].message;
}

TEST(PolicyLint, IgnoreIsOnlyReportedWhenSomethingEnforces) {
  auto audit = lint(R"(
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: audit}
spec:
  failurePolicy: Ignore
  rules:
  - name: r
    match: {any: [{resources: {kinds: [Pod]}}]}
    validate: {message: m, pattern: {metadata: {labels: {team: "?*"}}}}
)");
  EXPECT_TRUE(audit.empty());
  auto per_rule = lint(R"(
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: per-rule}
spec:
  failurePolicy: Ignore
  rules:
  - name: r
    match: {any: [{resources: {kinds: [Pod]}}]}
    validate: {failureAction: Enforce, message: m, pattern: {metadata: {labels: {team: "?*"}}}}
)");
  EXPECT_EQ(paths(per_rule), std::vector<std::string>{"spec.failurePolicy"});
}

TEST(PolicyLint, AutogenRulesAreNotReportedTwice) {
  // A Pod rule gains Deployment/CronJob variants; the finding is reported once, at the rule written.
  auto findings = lint(R"(
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: everything}
spec:
  rules:
  - name: r
    match: {any: [{resources: {kinds: [Pod]}}]}
    verifyImages:
    - imageReferences: ["*"]
      attestors: [{entries: [{keys: {publicKeys: "-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----"}}]}]
)");
  EXPECT_EQ(paths(findings), std::vector<std::string>{"spec.rules[0].verifyImages[0].imageReferences[0]"});
}

}  // namespace
}  // namespace vouch::policy
