// Policy parsing: the typed model, errors naming the offending field, autogen.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "vouch/policy/document.h"
#include "vouch/policy/policy.h"

namespace vouch::policy {
namespace {

std::string error_of(std::string_view yaml) {
  auto p = parse_policies(yaml, "p.yaml");
  return p.ok() ? std::string("(parsed)") : p.error().message;
}

constexpr std::string_view kHeader = R"(apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: p
spec:
)";

TEST(PolicyParser, RejectsBadFieldsWithTheirPath) {
  EXPECT_EQ(error_of(std::string(kHeader) + R"(  rules:
    - name: r
      match:
        any:
          - resources: {kinds: [Pod]}
          - resources: {kinds: Pod}
      validate: {pattern: {spec: {}}}
)"),
            "p.yaml: ClusterPolicy p: spec.rules[0].match.any[1].resources.kinds: expected a list");
  EXPECT_EQ(error_of(std::string(kHeader) + "  validationFailureAction: Block\n  rules: []\n"),
            "p.yaml: ClusterPolicy p: spec.validationFailureAction: expected Audit or Enforce, got 'Block'");
  EXPECT_EQ(error_of(std::string(kHeader) + R"(  rules:
    - name: r
      match: {any: [{resources: {kinds: [Pod]}}]}
      preconditions:
        all:
          - {key: a, operator: Matches, value: b}
      validate: {deny: {}}
)"),
            "p.yaml: ClusterPolicy p: spec.rules[0].preconditions.all[0].operator: unknown operator 'Matches'");
  EXPECT_EQ(error_of(std::string(kHeader) + R"(  rules:
    - name: r
      match: {any: [{resources: {kinds: [Pod]}}]}
      verifyImages:
        - imageReferences: ["*"]
          attestors:
            - count: 2
              entries:
                - keyless: {issuer: https://issuer}
)"),
            "p.yaml: ClusterPolicy p: spec.rules[0].verifyImages[0].attestors[0].count: is 2 but there are only 1 entries");
  EXPECT_NE(error_of(std::string(kHeader) + "  rules:\n    - name: r\n      match: {any: [{resources: {kinds: [Pod]}}]}\n"),
            "(parsed)");  // a rule needs validate, mutate, generate or verifyImages
  EXPECT_EQ(error_of(std::string(kHeader) + "  webhookTimeoutSeconds: 99\n  rules: []\n"),
            "p.yaml: ClusterPolicy p: spec.webhookTimeoutSeconds: must be between 1 and 30");
  EXPECT_EQ(error_of("apiVersion: kyverno.io/v3\nkind: ClusterPolicy\nmetadata: {name: p}\nspec: {}\n"),
            "p.yaml: ClusterPolicy p: apiVersion: expected kyverno.io/v1 or kyverno.io/v2beta1, got 'kyverno.io/v3'");
  EXPECT_NE(error_of("a: [1, 2\n"), "(parsed)");
}

TEST(PolicyParser, ARuleLevelActionOnVerifyImagesIsRefusedNotIgnored) {
  // The seeds' partial-enforce stage writes it this way; Kyverno reads verifyImages[].failureAction.
  const std::string policy = std::string(kHeader) + R"(  validationFailureAction: Audit
  rules:
    - name: verify-bookstore-images
      match: {any: [{resources: {kinds: [Pod], namespaces: [bookstore]}}]}
      validationFailureAction: Enforce
      verifyImages:
        - imageReferences: ["*/bookstore/*"]
          attestors: [{entries: [{keys: {publicKeys: "k"}}]}]
)";
  EXPECT_EQ(error_of(policy),
            "p.yaml: ClusterPolicy p: spec.rules[0].validationFailureAction: not a field of a verifyImages rule, which "
            "would stay in the policy's action: set failureAction on each verifyImages entry (Kyverno 1.13+) or "
            "spec.validationFailureAction");
  std::string fixed = policy;
  fixed.replace(fixed.find("      validationFailureAction: Enforce\n"), 39, "");
  const std::string entry = "        - imageReferences";
  fixed.replace(fixed.find(entry), entry.size(), "        - failureAction: Enforce\n          imageReferences");
  auto ps = parse_policies(fixed, "p.yaml");
  ASSERT_TRUE(ps.ok()) << ps.error().message;
  ASSERT_EQ(ps->size(), 1u);
  const auto& iv = (*ps)[0].rules.at(0).verify_images.at(0);
  ASSERT_TRUE(iv.failure_action.has_value());
  EXPECT_EQ(*iv.failure_action, FailureAction::kEnforce);
}

TEST(PolicyParser, ReadsSpecAndRuleFields) {
  auto ps = parse_policies(std::string(kHeader) + R"(  validationFailureAction: Enforce
  validationFailureActionOverrides:
    - action: Audit
      namespaces: [dev]
  background: false
  failurePolicy: Ignore
  webhookTimeoutSeconds: 15
  rules:
    - name: r
      match:
        resources:
          kinds: [Pod]
          namespaceSelector:
            matchExpressions: [{key: env, operator: NotIn, values: [dev]}]
      exclude:
        any:
          - subjects: [{kind: User, name: admin}]
      context:
        - name: v
          variable: {jmesPath: request.object.metadata.name, default: x}
      validate:
        failureAction: Audit
        message: m
        anyPattern: [{spec: {}}, {metadata: {}}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: ignored}
)", "p.yaml");
  ASSERT_TRUE(ps.ok()) << ps.error().message;
  ASSERT_EQ(ps->size(), 1u);
  const Policy& p = (*ps)[0];
  EXPECT_EQ(p.failure_action, FailureAction::kEnforce);
  ASSERT_EQ(p.overrides.size(), 1u);
  EXPECT_EQ(p.overrides[0].namespaces, std::vector<std::string>{"dev"});
  EXPECT_FALSE(p.background);
  EXPECT_EQ(p.failure_policy, "Ignore");
  EXPECT_EQ(p.webhook_timeout_seconds, 15);
  const Rule& r = p.rules[0];
  ASSERT_EQ(r.match.all.size(), 1u);  // the legacy form
  EXPECT_EQ(r.match.all[0].resources.kinds, std::vector<std::string>{"Pod"});
  ASSERT_TRUE(r.match.all[0].resources.namespace_selector);
  EXPECT_EQ(r.exclude.any[0].subjects[0].name, "admin");
  EXPECT_EQ(r.context[0].jmes_path, "request.object.metadata.name");
  ASSERT_TRUE(r.validate);
  EXPECT_EQ(r.validate->failure_action, FailureAction::kAudit);
  EXPECT_EQ(r.validate->any_pattern->size(), 2u);
}

TEST(PolicyParser, VerifyImagesParsedCompletely) {
  auto ps = parse_policies(std::string(kHeader) + R"(  rules:
    - name: verify
      match: {any: [{resources: {kinds: [Pod]}}]}
      verifyImages:
        - type: Cosign
          imageReferences: ["ghcr.io/org/*"]
          skipImageReferences: ["ghcr.io/org/test-*"]
          repository: ghcr.io/org/signatures
          failureAction: Audit
          mutateDigest: false
          verifyDigest: false
          required: false
          useCache: false
          attestors:
            - count: 1
              entries:
                - keys:
                    publicKeys: "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----"
                    signatureAlgorithm: sha384
                    rekor: {url: https://rekor.example, ignoreTlog: true}
                    ctlog: {ignoreSCT: true}
                - keyless:
                    issuer: https://token.actions.githubusercontent.com
                    subjectRegExp: "https://github.com/org/.*"
                    additionalExtensions: {githubWorkflowTrigger: push}
                  annotations: {env: prod}
                - certificates: {cert: "PEM", certChain: "CHAIN"}
          attestations:
            - name: sbom
              type: https://spdx.dev/Document
              conditions:
                - all:
                    - {key: "{{ creationInfo.licenseListVersion }}", operator: Equals, value: "3.20"}
)", "p.yaml");
  ASSERT_TRUE(ps.ok()) << ps.error().message;
  const ImageVerification& iv = (*ps)[0].rules[0].verify_images[0];
  EXPECT_EQ(iv.type, "Cosign");
  EXPECT_EQ(iv.skip_image_references[0], "ghcr.io/org/test-*");
  EXPECT_EQ(iv.repository, "ghcr.io/org/signatures");
  EXPECT_EQ(iv.failure_action, FailureAction::kAudit);
  EXPECT_FALSE(iv.mutate_digest);
  EXPECT_FALSE(iv.verify_digest);
  EXPECT_FALSE(iv.required);
  EXPECT_FALSE(iv.use_cache);
  ASSERT_EQ(iv.attestors.size(), 1u);
  EXPECT_EQ(iv.attestors[0].count, 1);
  ASSERT_EQ(iv.attestors[0].entries.size(), 3u);
  EXPECT_EQ(iv.attestors[0].entries[0].keys->signature_algorithm, "sha384");
  EXPECT_EQ(iv.attestors[0].entries[0].keys->rekor->url, "https://rekor.example");
  EXPECT_TRUE(iv.attestors[0].entries[0].keys->rekor->ignore_tlog);
  EXPECT_TRUE(iv.attestors[0].entries[0].keys->ctlog->ignore_sct);
  EXPECT_EQ(iv.attestors[0].entries[1].keyless->subject_regexp, "https://github.com/org/.*");
  EXPECT_EQ(iv.attestors[0].entries[1].keyless->additional_extensions.at("githubWorkflowTrigger"), "push");
  EXPECT_EQ(iv.attestors[0].entries[1].annotations.at("env"), "prod");
  EXPECT_EQ(iv.attestors[0].entries[2].certificates->cert_chain, "CHAIN");
  ASSERT_EQ(iv.attestations.size(), 1u);
  EXPECT_EQ(iv.attestations[0].type, "https://spdx.dev/Document");
  EXPECT_EQ(iv.attestations[0].conditions[0].all[0].op, "Equals");
}

TEST(PolicyParser, AutogenFollowsKyverno) {
  auto ps = parse_policies(std::string(kHeader) + R"(  rules:
    - name: check
      match: {any: [{resources: {kinds: [Pod]}}]}
      validate:
        message: "{{ request.object.metadata.name }}"
        deny:
          conditions:
            all: [{key: "{{ request.object.spec.hostNetwork }}", operator: Equals, value: true}]
)", "p.yaml");
  ASSERT_TRUE(ps.ok()) << ps.error().message;
  const auto& rules = (*ps)[0].rules;
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules[1].name, "autogen-check");
  EXPECT_EQ(rules[1].match.any[0].resources.kinds,
            (std::vector<std::string>{"DaemonSet", "Deployment", "Job", "StatefulSet", "ReplicaSet", "ReplicationController"}));
  EXPECT_EQ(rules[1].validate->message, "{{ request.object.spec.template.metadata.name }}");
  EXPECT_EQ(rules[1].validate->deny->all[0].key.as_string(), "{{ request.object.spec.template.spec.hostNetwork }}");
  EXPECT_EQ(rules[2].name, "autogen-cronjob-check");
  EXPECT_EQ(rules[2].match.any[0].resources.kinds, std::vector<std::string>{"CronJob"});
  EXPECT_EQ(rules[2].validate->deny->all[0].key.as_string(),
            "{{ request.object.spec.jobTemplate.spec.template.spec.hostNetwork }}");

  // The annotation limits (or disables) the controllers; names and selectors disable autogen.
  auto limited = parse_policies(R"(apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: p
  annotations: {pod-policies.kyverno.io/autogen-controllers: "Deployment,CronJob"}
spec:
  rules:
    - name: check
      match: {any: [{resources: {kinds: [Pod]}}]}
      validate: {pattern: {spec: {containers: [{name: "*"}]}}}
)", "p.yaml");
  ASSERT_TRUE(limited.ok());
  ASSERT_EQ((*limited)[0].rules.size(), 3u);
  EXPECT_EQ((*limited)[0].rules[1].match.any[0].resources.kinds, std::vector<std::string>{"Deployment"});
  EXPECT_TRUE((*limited)[0].rules[1].validate->pattern->at("spec").at("template").at("spec").is_object());
  EXPECT_TRUE((*limited)[0].rules[2].validate->pattern->at("spec").at("jobTemplate").at("spec").at("template").is_object());
  auto named = parse_policies(std::string(kHeader) + R"(  rules:
    - name: check
      match: {any: [{resources: {kinds: [Pod], names: [web]}}]}
      validate: {pattern: {spec: {}}}
)", "p.yaml");
  ASSERT_TRUE(named.ok());
  EXPECT_EQ((*named)[0].rules.size(), 1u);
}

TEST(Documents, BoundedAndMultiDocument) {
  auto docs = parse_documents("a: 1\n---\n---\nb: [yes, 'no', 0x10]\n", "d.yaml");
  ASSERT_TRUE(docs.ok()) << docs.error().message;
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ((*docs)[1].at("b").at(0).as_bool(), true);
  EXPECT_EQ((*docs)[1].at("b").at(1).as_string(), "no");
  EXPECT_EQ((*docs)[1].at("b").at(2).to_number<int64_t>(), 16);
  std::string deep(200, '[');
  EXPECT_FALSE(parse_documents(deep, "d.yaml").ok());
  // Alias expansion is bounded.
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'k'; ++c) {
    std::string prev(1, static_cast<char>(c - 1));
    bomb += std::string(1, c) + ": &" + std::string(1, c) + " [";
    for (int i = 0; i < 10; ++i) bomb += (i ? ", *" : "*") + prev;
    bomb += "]\n";
  }
  auto b = parse_documents(bomb, "bomb.yaml");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("too large"), std::string::npos) << b.error().message;
}

// A malformed stream on which yaml-cpp's LoadAll never returns (found by fuzz_policy): it
// must end with an error or a result.
TEST(Documents, MalformedStreamEnds) {
  constexpr std::string_view kInput = R"(# :
          - resources:
         FAL  kinds: [Pod]
      , shop-*]
      validate:
        failureAction: Enforce
        Overrides:
          - action: Audit
            namespaces: [shop-dev]
        message: "Images in {{ request.namespace }} must be pinned by digest."
        pattern:
          spec:
            containers:
   !             "
)";
  auto docs = parse_documents(kInput, "fuzz.yaml");
  (void)docs;
  auto policies = parse_policies(kInput, "fuzz.yaml");
  EXPECT_TRUE(policies.ok() || !policies.error().message.empty());
}

TEST(Documents, SplitOnSeparatorLines) {
  auto docs = parse_documents("a: 1\n--- \nb: 2\n---\n# only a comment\n---\nc: '---'\n", "d.yaml");
  ASSERT_TRUE(docs.ok()) << docs.error().message;
  ASSERT_EQ(docs->size(), 3u);
  EXPECT_EQ((*docs)[2].at("c").as_string(), "---");
  auto bad = parse_documents("a: 1\n---\nb: [\n", "d.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("d.yaml: line "), std::string::npos) << bad.error().message;
  auto inf = parse_documents("a: 1\n---\nb: 2\nc: .inf\n", "d.yaml");
  ASSERT_FALSE(inf.ok());
  EXPECT_NE(inf.error().message.find("d.yaml: line 4:"), std::string::npos) << inf.error().message;
}

}  // namespace
}  // namespace vouch::policy
