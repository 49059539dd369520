// The webhook with CEL policies: Kyverno's vpol answers for Deny, Warn and Audit, and the
// report source of each CEL kind.
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "../temp_dir.h"
#include "vouch/admission/policy_reports.h"
#include "vouch/admission/policy_set.h"
#include "vouch/admission/review.h"
#include "vouch/admission/webhook.h"

namespace vouch::admission {
namespace {

namespace bj = boost::json;
using policy::RuleStatus;

std::string vpol(const std::string& name, const std::string& actions) {
  return fmt::format(R"yaml(apiVersion: policies.kyverno.io/v1
kind: ValidatingPolicy
metadata: {{name: {}}}
spec:
  validationActions: [{}]
  matchConstraints:
    resourceRules:
      - {{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}}
  matchConditions:
    - {{name: own-namespace, expression: "request.namespace == '{}'"}}
  validations:
    - expression: "object.spec.containers.all(c, !c.image.endsWith(':latest'))"
      messageExpression: "'no :latest in ' + object.metadata.name"
)yaml",
                     name, actions, name);
}

const char* kClusterPolicy = R"(apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: both}
spec:
  validationFailureAction: Enforce
  rules:
    - name: no-latest-tag
      match: {any: [{resources: {kinds: [Pod], namespaces: [both]}}]}
      validate:
        message: "The :latest tag is not allowed."
        pattern: {spec: {containers: [{image: "!*:latest"}]}}
)";

AdmissionReview review(const std::string& ns, const std::string& image) {
  bj::object pod{{"apiVersion", "v1"},
                 {"kind", "Pod"},
                 {"metadata", bj::object{{"name", "web"}, {"namespace", ns}}},
                 {"spec", bj::object{{"containers", bj::array{bj::object{{"name", "app"}, {"image", image}}}}}}};
  bj::object req{{"uid", "705ab4f5-6393-11e8-b7cc-42010a800002"},
                 {"kind", bj::object{{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
                 {"resource", bj::object{{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
                 {"name", "web"},
                 {"namespace", ns},
                 {"operation", "CREATE"},
                 {"userInfo", bj::object{{"username", "admin"}}},
                 {"object", pod}};
  auto r = decode_review(bj::serialize(bj::object{
      {"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"}, {"request", req}}));
  EXPECT_TRUE(std::holds_alternative<AdmissionReview>(r)) << std::get<ReviewError>(r).message;
  return std::get<AdmissionReview>(std::move(r));
}

struct CelFixture {
  vouch::testing::TempDir tmp;
  std::vector<ReviewResults> recorded;
  std::unique_ptr<Webhook> webhook;

  explicit CelFixture(const std::vector<std::string>& docs) {
    for (size_t i = 0; i < docs.size(); ++i) std::ofstream(tmp.path() / fmt::format("p{}.yaml", i)) << docs[i];
    auto d = PolicyDirectory::open(tmp.path().string());
    EXPECT_TRUE(d.ok()) << d.error().message;
    WebhookOptions o;
    o.policies = std::move(*d);
    o.evaluation_threads = 1;
    o.on_results = [this](ReviewResults r) { recorded.push_back(std::move(r)); };
    webhook = std::make_unique<Webhook>(std::move(o));
  }
};

TEST(CelAdmission, DenyWarnAndAuditAnswerAsKyvernosValidatingPolicyHandler) {
  CelFixture fx({vpol("deny", "Deny"), vpol("warn", "Warn"), vpol("audit", "Audit"), vpol("both", "Deny, Warn"),
                 kClusterPolicy});
  auto denied = fx.webhook->evaluate(review("deny", "nginx:latest"), false, false);
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.message, "Policy deny failed: no :latest in web");
  EXPECT_TRUE(denied.warnings.empty());

  auto warned = fx.webhook->evaluate(review("warn", "nginx:latest"), false, false);
  EXPECT_TRUE(warned.allowed);
  EXPECT_EQ(warned.warnings, std::vector<std::string>{"Policy warn failed: no :latest in web"});

  auto audited = fx.webhook->evaluate(review("audit", "nginx:latest"), false, false);
  EXPECT_TRUE(audited.allowed);
  EXPECT_TRUE(audited.warnings.empty());

  // Deny and Warn together: denied and warned; a ClusterPolicy of the same name blocks too.
  auto both = fx.webhook->evaluate(review("both", "nginx:latest"), false, false);
  EXPECT_FALSE(both.allowed);
  EXPECT_NE(both.message.find("resource Pod/both/web was blocked due to the following policies"), std::string::npos)
      << both.message;
  EXPECT_TRUE(both.message.ends_with("; Policy both failed: no :latest in web")) << both.message;
  EXPECT_EQ(both.warnings, std::vector<std::string>{"Policy both failed: no :latest in web"});

  auto passed = fx.webhook->evaluate(review("deny", "nginx:1.27"), false, false);
  EXPECT_TRUE(passed.allowed);

  // Every decision is reported, Audit's and Warn's fails as fails, under Kyverno's source.
  ASSERT_EQ(fx.recorded.size(), 5u);
  const policy::RuleResult& audit = fx.recorded[2].results.at(0);
  EXPECT_EQ(audit.policy, "audit");
  EXPECT_EQ(audit.status, RuleStatus::kFail);
  EXPECT_EQ(fx.recorded[1].results.at(0).status, RuleStatus::kFail);
  EXPECT_EQ(fx.recorded[4].results.at(0).status, RuleStatus::kPass);
  RecordedResult recorded;
  recorded.result = audit;
  recorded.resource = fx.recorded[2].resource;
  bj::object entry = policy_report_result(recorded);
  EXPECT_EQ(entry.at("source"), "KyvernoValidatingPolicy");
  EXPECT_EQ(entry.at("properties").at("type"), "Validation");
  EXPECT_EQ(entry.at("message"), "no :latest in web");
}

TEST(CelAdmission, TheMutatingWebhookLeavesCelPoliciesToTheValidatingOne) {
  CelFixture fx({vpol("deny", "Deny")});
  auto r = fx.webhook->evaluate(review("deny", "nginx:latest"), true, false);
  EXPECT_TRUE(r.allowed);
  EXPECT_TRUE(fx.recorded.empty());
}

TEST(CelAdmission, ReportSourcesOfTheCelKinds) {
  EXPECT_EQ(cel_result_type("ValidatingPolicy"), "KyvernoValidatingPolicy/Validation");
  EXPECT_EQ(cel_result_type("ValidatingAdmissionPolicy"), "ValidatingAdmissionPolicy/Validation");
  RecordedResult r;
  r.result.type = cel_result_type("ValidatingAdmissionPolicy");
  bj::object entry = policy_report_result(r);
  EXPECT_EQ(entry.at("source"), "ValidatingAdmissionPolicy");
  EXPECT_EQ(entry.at("properties").at("type"), "Validation");
  r.result.type = "Validation";
  EXPECT_EQ(policy_report_result(r).at("source"), "kyverno");
}

}  // namespace
}  // namespace vouch::admission

namespace vouch::admission {
namespace {

TEST(CelAdmission, AuditAnnotationsComeBackInTheResponse) {
  std::string policy = R"yaml(apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: images}
spec:
  matchConstraints:
    resourceRules:
      - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}
  validations:
    - expression: "true"
  auditAnnotations:
    - key: first-image
      valueExpression: "object.spec.containers[0].image"
    - key: nothing
      valueExpression: "null"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: images-binding}
spec:
  policyName: images
  validationActions: [Audit]
)yaml";
  CelFixture fx({policy});
  auto r = fx.webhook->evaluate(review("shop", "nginx:1.27"), false, false);
  EXPECT_TRUE(r.allowed);
  EXPECT_EQ(r.audit_annotations, (std::map<std::string, std::string>{{"images/first-image", "nginx:1.27"}}));
  bj::value encoded = bj::parse(encode_review_response(review("shop", "nginx:1.27"), r));
  EXPECT_EQ(encoded.at("response").at("auditAnnotations").at("images/first-image"), "nginx:1.27");
  // A valueExpression that does not compile is refused with the policy.
  std::string bad = policy;
  bad.replace(bad.find("\"null\""), 6, "\"1 +\"");
  vouch::testing::TempDir tmp;
  std::ofstream(tmp.path() / "p.yaml") << bad;
  auto d = PolicyDirectory::open(tmp.path().string());
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("spec.auditAnnotations[1].valueExpression"), std::string::npos) << d.error().message;
}

TEST(CelAdmission, PolicyExceptionsAmongThePolicyFilesApply) {
  std::string exception = R"yaml(apiVersion: kyverno.io/v2
kind: PolicyException
metadata: {name: legacy, namespace: both}
spec:
  exceptions: [{policyName: both, ruleNames: [no-latest-tag]}]
  match: {any: [{resources: {kinds: [Pod], namespaces: [both], names: [web]}}]}
)yaml";
  CelFixture fx({kClusterPolicy, exception});
  auto r = fx.webhook->evaluate(review("both", "nginx:latest"), false, false);
  EXPECT_TRUE(r.allowed) << r.message;
  ASSERT_EQ(fx.recorded.size(), 1u);
  ASSERT_EQ(fx.recorded[0].results.size(), 1u);
  EXPECT_EQ(fx.recorded[0].results[0].status, RuleStatus::kSkip);
  EXPECT_EQ(fx.recorded[0].results[0].message, "rule is skipped due to policy exceptionsboth/legacy");
}

TEST(CelAdmission, CelPolicyExceptionsAmongThePolicyFilesApply) {
  std::string exception = R"yaml(apiVersion: policies.kyverno.io/v1
kind: PolicyException
metadata: {name: trusted, namespace: shop}
spec:
  policyRefs: [{name: shop, kind: ValidatingPolicy}]
  matchConditions:
    - {name: admin, expression: "request.userInfo.username == 'admin'"}
)yaml";
  CelFixture fx({vpol("shop", "Deny"), exception});
  auto r = fx.webhook->evaluate(review("shop", "nginx:latest"), false, false);
  EXPECT_TRUE(r.allowed) << r.message;
  ASSERT_EQ(fx.recorded.size(), 1u);
  ASSERT_EQ(fx.recorded[0].results.size(), 1u);
  EXPECT_EQ(fx.recorded[0].results[0].status, RuleStatus::kSkip);
  EXPECT_EQ(fx.recorded[0].results[0].message, "rule is skipped due to policy exception: shop/trusted");
}

}  // namespace
}  // namespace vouch::admission

namespace vouch::admission {
namespace {

AdmissionReview deployment_review(const std::string& ns, const std::string& image) {
  bj::object pod_spec{{"containers", bj::array{bj::object{{"name", "app"}, {"image", image}}}}};
  bj::object deployment{{"apiVersion", "apps/v1"},
                        {"kind", "Deployment"},
                        {"metadata", bj::object{{"name", "web"}, {"namespace", ns}}},
                        {"spec", bj::object{{"replicas", 3}, {"template", bj::object{{"spec", pod_spec}}}}}};
  bj::object req{{"uid", "705ab4f5-6393-11e8-b7cc-42010a800003"},
                 {"kind", bj::object{{"group", "apps"}, {"version", "v1"}, {"kind", "Deployment"}}},
                 {"resource", bj::object{{"group", "apps"}, {"version", "v1"}, {"resource", "deployments"}}},
                 {"name", "web"},
                 {"namespace", ns},
                 {"operation", "CREATE"},
                 {"userInfo", bj::object{{"username", "admin"}}},
                 {"object", deployment}};
  auto r = decode_review(bj::serialize(bj::object{
      {"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"}, {"request", req}}));
  EXPECT_TRUE(std::holds_alternative<AdmissionReview>(r)) << std::get<ReviewError>(r).message;
  return std::get<AdmissionReview>(std::move(r));
}

// A ValidatingPolicy written for Pods denies a Deployment whose template breaks it (autogen).
// Its messageExpression reads the template's metadata.name, which a template does not have, so
// the message is the (rewritten) expression's, as Kyverno's would be.
TEST(CelAdmission, PodPolicyDeniesPodControllersThroughAutogen) {
  CelFixture fx({vpol("deny", "Deny")});
  auto denied = fx.webhook->evaluate(deployment_review("deny", "nginx:latest"), false, false);
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.message,
            "Policy deny failed: failed expression: object.spec.template.spec.containers.all(c, "
            "!c.image.endsWith(':latest'))");
  EXPECT_TRUE(fx.webhook->evaluate(deployment_review("deny", "nginx:1.27"), false, false).allowed);
}

// ValidatingAdmissionPolicy parameters given to the server (--parameter-resource).
TEST(CelAdmission, AdmissionPolicyParamsFromTheServersParameterObjects) {
  vouch::testing::TempDir tmp;
  std::ofstream(tmp.path() / "vap.yaml") << R"yaml(apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: replicas}
spec:
  paramKind: {apiVersion: v1, kind: ConfigMap}
  matchConstraints:
    resourceRules:
      - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}
  validations:
    - expression: "object.spec.replicas <= int(params.data.max)"
      messageExpression: "'at most ' + params.data.max + ' replicas'"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: replicas}
spec:
  policyName: replicas
  validationActions: [Deny]
  paramRef: {name: limits, parameterNotFoundAction: Deny}
)yaml";
  auto d = PolicyDirectory::open(tmp.path().string());
  ASSERT_TRUE(d.ok()) << d.error().message;
  WebhookOptions o;
  o.policies = std::move(*d);
  o.evaluation_threads = 1;
  auto cluster = std::make_shared<policy::CelClusterData>();
  cluster->params.push_back(bj::object{{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                                       {"metadata", bj::object{{"name", "limits"}, {"namespace", "small"}}},
                                       {"data", bj::object{{"max", "2"}}}});
  cluster->params.push_back(bj::object{{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                                       {"metadata", bj::object{{"name", "limits"}, {"namespace", "large"}}},
                                       {"data", bj::object{{"max", "10"}}}});
  o.cel_cluster = cluster;
  Webhook webhook(std::move(o));
  auto small = webhook.evaluate(deployment_review("small", "nginx:1.27"), false, false);
  EXPECT_FALSE(small.allowed);
  EXPECT_NE(small.message.find("at most 2 replicas"), std::string::npos) << small.message;
  EXPECT_TRUE(webhook.evaluate(deployment_review("large", "nginx:1.27"), false, false).allowed);
  auto none = webhook.evaluate(deployment_review("elsewhere", "nginx:1.27"), false, false);
  EXPECT_FALSE(none.allowed);
  EXPECT_EQ(none.message,
            "ValidatingAdmissionPolicy 'replicas' with binding 'replicas' denied request: failed to configure binding: "
            "no params found for policy binding with `Deny` parameterNotFoundAction");
}

}  // namespace
}  // namespace vouch::admission

namespace vouch::admission {
namespace {

// A ValidatingAdmissionPolicy answers with its bindings' validationActions: an Audit or Warn
// binding admits (warning under Warn), a Deny binding denies; each binding judges on its own.
TEST(CelAdmission, AdmissionPolicyAnswersWithItsBindingsActions) {
  auto policy = [](const std::string& actions) {
    return fmt::format(R"yaml(apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {{name: no-latest}}
spec:
  matchConstraints:
    resourceRules:
      - {{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}}
  validations:
    - expression: "object.spec.containers.all(c, !c.image.endsWith(':latest'))"
      message: "no :latest"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {{name: shop}}
spec:
  policyName: no-latest
  validationActions: [{}]
  matchResources: {{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: shop}}}}}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {{name: dev}}
spec:
  policyName: no-latest
  validationActions: [Deny]
  matchResources: {{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: dev}}}}}}
)yaml",
                       actions);
  };
  CelFixture warned({policy("Warn")});
  auto shop = warned.webhook->evaluate(review("shop", "nginx:latest"), false, false);
  EXPECT_TRUE(shop.allowed) << shop.message;
  EXPECT_EQ(shop.warnings,
            std::vector<std::string>{"Validation failed for ValidatingAdmissionPolicy 'no-latest' with binding 'shop': no :latest"});
  auto dev = warned.webhook->evaluate(review("dev", "nginx:latest"), false, false);
  EXPECT_FALSE(dev.allowed);
  // The API server's words, reason and code for a ValidatingAdmissionPolicy's denial.
  EXPECT_EQ(dev.message, "ValidatingAdmissionPolicy 'no-latest' with binding 'dev' denied request: no :latest");
  EXPECT_EQ(dev.reason, "Invalid");
  EXPECT_EQ(dev.code, 422);
  bj::value encoded = bj::parse(encode_review_response(review("dev", "nginx:latest"), dev));
  EXPECT_EQ(encoded.at("response").at("status").at("code"), 422);
  EXPECT_EQ(encoded.at("response").at("status").at("reason"), "Invalid");
  EXPECT_TRUE(warned.webhook->evaluate(review("other", "nginx:latest"), false, false).allowed);
  CelFixture audited({policy("Audit")});
  auto quiet = audited.webhook->evaluate(review("shop", "nginx:latest"), false, false);
  EXPECT_TRUE(quiet.allowed);
  EXPECT_TRUE(quiet.warnings.empty());
  // A validation's reason is the denial's, with its code; a failed expression without a
  // message is named as the API server names it.
  std::string forbidden = policy("Warn");
  forbidden.replace(forbidden.find("      message: \"no :latest\""), std::string("      message: \"no :latest\"").size(),
                    "      reason: Forbidden");
  CelFixture reasoned({forbidden});
  auto refused = reasoned.webhook->evaluate(review("dev", "nginx:latest"), false, false);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.message,
            "ValidatingAdmissionPolicy 'no-latest' with binding 'dev' denied request: failed expression: "
            "object.spec.containers.all(c, !c.image.endsWith(':latest'))");
  EXPECT_EQ(refused.reason, "Forbidden");
  EXPECT_EQ(refused.code, 403);
}

}  // namespace
}  // namespace vouch::admission
