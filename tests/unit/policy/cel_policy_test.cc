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

constexpr const char* kPodPolicy = R"yaml(
apiVersion: policies.kyverno.io/v1
kind: ValidatingPolicy
metadata: {name: no-host-path}
spec:
  validationActions: [Deny]
  matchConstraints:
    resourceRules:
    - apiGroups: [""]
      apiVersions: [v1]
      operations: [CREATE, UPDATE]
      resources: [pods]
  matchConditions:
  - name: labelled
    expression: "has(object.metadata.labels) && object.metadata.namespace != 'kube-system'"
  validations:
  - expression: "!has(object.spec.volumes) || object.spec.volumes.all(v, !has(v.hostPath))"
    messageExpression: "'hostPath in ' + object.metadata.labels.app"
)yaml";

// A Pod spec with (or without) a hostPath volume, as a Pod or inside a controller's template.
bj::value workload(std::string_view kind, bool host_path) {
  std::string pod_spec = host_path ? R"({"containers": [{"name": "c", "image": "nginx"}],
      "volumes": [{"name": "v", "hostPath": {"path": "/"}}]})"
                                   : R"({"containers": [{"name": "c", "image": "nginx"}]})";
  std::string meta = R"({"labels": {"app": "web"}})";
  std::string api = "v1", spec = pod_spec;
  if (kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet" || kind == "ReplicaSet") api = "apps/v1";
  if (kind == "Job" || kind == "CronJob") api = "batch/v1";
  if (kind != "Pod") spec = fmt::format(R"({{"template": {{"metadata": {}, "spec": {}}}}})", meta, pod_spec);
  if (kind == "CronJob") spec = fmt::format(R"({{"schedule": "* * * * *", "jobTemplate": {{"spec": {}}}}})", spec);
  // The controller's own metadata has no labels: only the template's satisfy the match condition.
  std::string own_meta = kind == "Pod" ? R"({"name": "w", "namespace": "prod", "labels": {"app": "web"}})"
                                       : R"({"name": "w", "namespace": "prod"})";
  return *json::parse(fmt::format(R"({{"apiVersion": "{}", "kind": "{}", "metadata": {}, "spec": {}}})", api, kind,
                                  own_meta, spec));
}

// Kyverno's autogen: a ValidatingPolicy on Pods also judges the Pod controllers, reading their
// template where the policy reads the Pod.
TEST(CelPolicy, AutogenJudgesPodControllersThroughTheirTemplate) {
  auto policies = parse_policies(kPodPolicy, "vpol.yaml");
  ASSERT_TRUE(policies.ok()) << policies.error().message;
  const Policy& p = (*policies)[0];
  ASSERT_EQ(p.cel->autogen.size(), 2u);  // CronJobs, then the other controllers
  for (std::string_view kind : {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}) {
    auto bad = run(p, workload(kind, true));
    ASSERT_EQ(bad.size(), 1u) << kind;
    EXPECT_EQ(bad[0].status, RuleStatus::kFail) << kind;
    EXPECT_EQ(bad[0].message, "hostPath in web") << kind;
    EXPECT_EQ(bad[0].policy, "no-host-path");
    EXPECT_EQ(bad[0].autogen, kind != "Pod") << kind;
    auto good = run(p, workload(kind, false));
    ASSERT_EQ(good.size(), 1u) << kind;
    EXPECT_EQ(good[0].status, RuleStatus::kPass) << kind;
  }
  // object.metadata.namespace stays the controller's own (a template has none): kube-system's
  // Deployments are left out by the match condition as its Pods are.
  auto system = workload("Deployment", true);
  system.as_object()["metadata"].as_object()["namespace"] = "kube-system";
  EXPECT_TRUE(run(p, system).empty());
  // Not a Pod controller: no result.
  auto service = json::parse(R"({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}})");
  EXPECT_TRUE(run(p, *service).empty());
}

TEST(CelPolicy, AutogenControllersNarrowTheListOrTurnItOff) {
  auto with_autogen = [&](std::string_view autogen, std::string_view policy = kPodPolicy) {
    std::string text(policy);
    text.replace(text.find("  validationActions"), 0, std::string(autogen));
    return parse_policies(text, "vpol.yaml");
  };
  auto deployments = with_autogen("  autogen:\n    podControllers:\n      controllers: [deployments]\n");
  ASSERT_TRUE(deployments.ok()) << deployments.error().message;
  ASSERT_EQ((*deployments)[0].cel->autogen.size(), 1u);
  EXPECT_EQ(run((*deployments)[0], workload("Deployment", true)).size(), 1u);
  EXPECT_TRUE(run((*deployments)[0], workload("Job", true)).empty());
  EXPECT_TRUE(run((*deployments)[0], workload("CronJob", true)).empty());

  auto off = with_autogen("  autogen:\n    podControllers:\n      controllers: []\n");
  ASSERT_TRUE(off.ok()) << off.error().message;
  EXPECT_TRUE((*off)[0].cel->autogen.empty());
  EXPECT_TRUE(run((*off)[0], workload("Deployment", true)).empty());

  auto unknown_name = with_autogen("  autogen:\n    podControllers:\n      controllers: [deployment]\n");
  ASSERT_FALSE(unknown_name.ok());
  EXPECT_NE(unknown_name.error().message.find("spec.autogen.podControllers.controllers[0]: expected one of"),
            std::string::npos)
      << unknown_name.error().message;
  auto unknown = with_autogen("  autogen:\n    podControlers: {}\n");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("spec.autogen.podControlers: unknown field"), std::string::npos)
      << unknown.error().message;
  auto vap = with_autogen("  autogen:\n    validatingAdmissionPolicy: {enabled: true}\n");
  ASSERT_FALSE(vap.ok());
  EXPECT_NE(vap.error().message.find("spec.autogen.validatingAdmissionPolicy.enabled: generating"), std::string::npos)
      << vap.error().message;
  EXPECT_TRUE(with_autogen("  autogen:\n    validatingAdmissionPolicy: {enabled: false}\n").ok());

  // Not Kyverno's "Pods only" shape: no variants.
  auto not_only_pods = std::string(kPodPolicy);
  not_only_pods.replace(not_only_pods.find("resources: [pods]"), 17, "resources: [pods, services]");
  auto several = parse_policies(not_only_pods, "vpol.yaml");
  ASSERT_TRUE(several.ok()) << several.error().message;
  EXPECT_TRUE((*several)[0].cel->autogen.empty());
  auto selected = with_autogen("  autogen: {}\n", std::string(kPodPolicy).replace(
                                                      std::string(kPodPolicy).find("    resourceRules:"), 0,
                                                      "    objectSelector: {matchLabels: {a: b}}\n"));
  ASSERT_TRUE(selected.ok()) << selected.error().message;
  EXPECT_TRUE((*selected)[0].cel->autogen.empty());
}

TEST(CelPolicy, UnknownFieldsAreRefusedWithTheirPath) {
  auto refusal = [](std::string_view from, std::string_view to) {
    std::string text(kPodPolicy);
    text.replace(text.find(from), from.size(), std::string(to));
    auto r = parse_policies(text, "vpol.yaml");
    return r.ok() ? std::string("accepted") : r.error().message;
  };
  EXPECT_NE(refusal("  validationActions", "  validationAction: [Deny]\n  validationActions").find(
                "spec.validationAction: unknown field"),
            std::string::npos);
  EXPECT_NE(refusal("      resources: [pods]", "      resources: [pods]\n      resourceName: [x]")
                .find("spec.matchConstraints.resourceRules[0].resourceName: unknown field"),
            std::string::npos);
  EXPECT_NE(refusal("    messageExpression", "    mesage: x\n    messageExpression").find(
                "spec.validations[0].mesage: unknown field"),
            std::string::npos);
  EXPECT_NE(refusal("    expression: \"has(", "    expresion: x\n    expression: \"has(").find(
                "spec.matchConditions[0].expresion: unknown field"),
            std::string::npos);
  EXPECT_NE(refusal("  validations:", "  validations:\n  - expression: \"true\"\n    reason: Teapot").find(
                "spec.validations[0].reason: expected Unauthorized"),
            std::string::npos);
  EXPECT_NE(refusal("  validationActions", "  evaluation: {admision: {enabled: false}}\n  validationActions")
                .find("spec.evaluation.admision: unknown field"),
            std::string::npos);
}

constexpr const char* kParamPolicy = R"yaml(
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: replicas}
spec:
  paramKind: {apiVersion: v1, kind: ConfigMap}
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments]}
  validations:
  - expression: "object.spec.replicas <= int(params.data.max)"
    messageExpression: "'at most ' + params.data.max"
)yaml";

bj::value config_map(std::string_view ns, std::string_view name, int max, std::string_view tier = "") {
  std::string labels = tier.empty() ? "" : fmt::format(R"(, "labels": {{"tier": "{}"}})", tier);
  return *json::parse(fmt::format(R"({{"apiVersion": "v1", "kind": "ConfigMap",
      "metadata": {{"name": "{}", "namespace": "{}"{}}}, "data": {{"max": "{}"}}}})",
                                  name, ns, labels, max));
}

std::vector<RuleResult> run_with_params(const Policy& p, bj::value object, std::vector<bj::value> params) {
  auto cluster = std::make_shared<CelClusterData>();
  cluster->params = std::move(params);
  Request r;
  r.object = std::move(object);
  r.operation = "CREATE";
  return Engine({.verifier = nullptr, .cel_cluster = cluster}).apply(p, r);
}

Policy param_policy(std::string_view binding) {
  auto policies = parse_policies(std::string(kParamPolicy) + "---\n" + std::string(binding), "vap.yaml");
  EXPECT_TRUE(policies.ok()) << policies.error().message;
  return policies.ok() ? (*policies)[0] : Policy{};
}

// paramKind/paramRef as the API server reads them: the object by name in the request's
// namespace (or paramRef.namespace), every object a selector picks, parameterNotFoundAction.
TEST(CelPolicy, AdmissionPolicyParamsByNameAndSelector) {
  Policy by_name = param_policy(R"yaml(
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: replicas-binding}
spec:
  policyName: replicas
  validationActions: [Deny]
  paramRef: {name: limits, parameterNotFoundAction: Deny}
)yaml");
  std::vector<bj::value> params = {config_map("prod", "limits", 5), config_map("dev", "limits", 1)};
  auto r = run_with_params(by_name, deployment("prod", "prod", 4), params);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, RuleStatus::kPass) << r[0].message;
  r = run_with_params(by_name, deployment("dev", "dev", 4), params);  // dev's own limits
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, RuleStatus::kFail);
  EXPECT_EQ(r[0].message, "at most 1");
  EXPECT_EQ(r[0].action, FailureAction::kEnforce);
  r = run_with_params(by_name, deployment("test", "x", 1), params);  // none in test: Deny
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, RuleStatus::kFail);
  EXPECT_NE(r[0].message.find("no params found for policy binding replicas-binding"), std::string::npos) << r[0].message;

  Policy allow = param_policy(R"yaml(
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: replicas-binding}
spec:
  policyName: replicas
  validationActions: [Deny]
  paramRef: {name: limits, namespace: prod, parameterNotFoundAction: Allow}
)yaml");
  r = run_with_params(allow, deployment("dev", "dev", 7), params);  // prod's limits, for any namespace
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].message, "at most 5");
  EXPECT_TRUE(run_with_params(allow, deployment("dev", "dev", 7), {}).empty());

  Policy selected = param_policy(R"yaml(
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: replicas-binding}
spec:
  policyName: replicas
  validationActions: [Audit]
  paramRef:
    selector: {matchLabels: {tier: limits}}
    parameterNotFoundAction: Deny
)yaml");
  // Each selected object is a separate evaluation; one failing is a failure.
  std::vector<bj::value> tiers = {config_map("prod", "a", 5, "limits"), config_map("prod", "b", 3, "limits"),
                                  config_map("prod", "c", 1, "other")};
  r = run_with_params(selected, deployment("prod", "prod", 4), tiers);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, RuleStatus::kFail);
  EXPECT_EQ(r[0].message, "at most 3");
  EXPECT_EQ(r[0].action, FailureAction::kAudit);
  r = run_with_params(selected, deployment("prod", "prod", 2), tiers);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, RuleStatus::kPass);
}

TEST(CelPolicy, AdmissionPolicyParamsMisconfigured) {
  // A binding without paramRef for a policy with paramKind: an error under failurePolicy Fail.
  Policy no_ref = param_policy(R"yaml(
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: b}
spec: {policyName: replicas, validationActions: [Deny]}
)yaml");
  auto r = run_with_params(no_ref, deployment("prod", "prod", 1), {config_map("prod", "limits", 5)});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, RuleStatus::kError);
  EXPECT_NE(r[0].message.find("needs a paramRef"), std::string::npos) << r[0].message;
  // paramRef on a policy without paramKind, name and selector together: refused when read.
  auto refused = [](std::string_view text) {
    auto p = parse_policies(text, "vap.yaml");
    return p.ok() ? std::string("accepted") : p.error().message;
  };
  std::string without_kind = std::string(kParamPolicy);
  const std::string kind_line = "  paramKind: {apiVersion: v1, kind: ConfigMap}\n";
  without_kind.replace(without_kind.find(kind_line), kind_line.size(), "");
  EXPECT_NE(refused(without_kind + R"yaml(---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: b}
spec: {policyName: replicas, validationActions: [Deny], paramRef: {name: x, parameterNotFoundAction: Deny}}
)yaml").find("spec.paramRef: policy replicas has no paramKind"),
            std::string::npos);
  EXPECT_NE(refused(std::string(kParamPolicy) + R"yaml(---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: b}
spec: {policyName: replicas, paramRef: {name: x, selector: {}, parameterNotFoundAction: Deny}}
)yaml").find("spec.paramRef: exactly one of name or selector is required"),
            std::string::npos);
  EXPECT_NE(refused(std::string(kParamPolicy) + R"yaml(---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: b}
spec: {policyName: replicas, paramRef: {name: x, parameterNotFoundAction: Ignore}}
)yaml").find("spec.paramRef.parameterNotFoundAction: expected Allow or Deny"),
            std::string::npos);
}

// Two bindings of one policy are judged each on its own: an object either binding selects is
// judged (not only one both select).
TEST(CelPolicy, AdmissionPolicyBindingsAreIndependent) {
  auto policies = parse_policies(R"yaml(
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: replicas}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}
  validations: [{expression: "object.spec.replicas <= 5", message: too many}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: prod}
spec:
  policyName: replicas
  validationActions: [Deny]
  matchResources: {objectSelector: {matchLabels: {env: prod}}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: dev}
spec:
  policyName: replicas
  validationActions: [Warn]
  matchResources: {objectSelector: {matchLabels: {env: dev}}}
)yaml",
                                 "vap.yaml");
  ASSERT_TRUE(policies.ok()) << policies.error().message;
  const Policy& p = (*policies)[0];
  auto prod = run(p, deployment("x", "prod", 9));
  ASSERT_EQ(prod.size(), 1u);
  EXPECT_EQ(prod[0].status, RuleStatus::kFail);
  EXPECT_EQ(prod[0].action, FailureAction::kEnforce);
  auto dev = run(p, deployment("x", "dev", 9));
  ASSERT_EQ(dev.size(), 1u);
  EXPECT_EQ(dev[0].status, RuleStatus::kWarn);
  EXPECT_TRUE(run(p, deployment("x", "test", 9)).empty());
}

// Kyverno's small libraries in a ValidatingPolicy (kyverno/sdk extensions/cel/libs), with values
// their Go implementations give.
// "<status> <message>" of a ValidatingPolicy with one validation, `expression`, and the variable
// `cert` = `cert_expression` when given, judging a Deployment.
std::string judged(std::string_view expression, std::string_view cert_expression = "") {
  std::string variables =
      cert_expression.empty() ? "" : fmt::format("  variables:\n  - name: cert\n    expression: {}\n", cert_expression);
  auto policies = parse_policies(fmt::format(R"yaml(
apiVersion: policies.kyverno.io/v1
kind: ValidatingPolicy
metadata: {{name: libs}}
spec:
  matchConstraints:
    resourceRules:
    - {{apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}}
{}  validations:
  - expression: "{}"
)yaml",
                                             variables, expression),
                                 "vpol.yaml");
  EXPECT_TRUE(policies.ok()) << policies.error().message;
  if (!policies.ok()) return "none";
  auto r = run((*policies)[0], deployment("prod", "prod", 1));
  return r.size() == 1 ? std::string(rule_status_name(r[0].status)) + " " + r[0].message : std::string("none");
}

TEST(CelPolicy, KyvernoHashMathUserJsonYamlLibraries) {
  auto with = [](std::string_view expression) { return judged(expression); };
  for (std::string_view e : {
           "sha256('abc') == 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'",
           "hash.sha1('abc') == 'a9993e364706816aba3e25717850c26c9cd0d89d' && sha1('') == hash.sha1('')",
           "md5('abc') == '900150983cd24fb0d6963f7d28e17f72' && hash.md5('abc') == md5('abc')",
           "math.round(3.14159, 2) == 3.14 && math.round(-2.5, 0) == -3.0",
           "user.parseServiceAccount('system:serviceaccount:shop:builder') == {'namespace': 'shop', 'name': 'builder'}",
           "parseServiceAccount('alice') == {}",
           "json.unmarshal('{\\\"a\\\": [1, 2.5, null]}').a[1] == 2.5",
           "yaml.parse('{a: {b: c}, count: 3}').a.b == 'c' && yaml.parse('count: 3').count == 3",
       }) {
    EXPECT_EQ(with(e).substr(0, 4), "pass") << e << ": " << with(e);
  }
  EXPECT_EQ(with("json.unmarshal('{') == {}").substr(0, 5), "error");
  // json.marshal as Go's encoding/json: keys sorted, HTML characters escaped, floats shortest.
  auto marshal = parse_policies(R"yaml(
apiVersion: policies.kyverno.io/v1
kind: ValidatingPolicy
metadata: {name: marshal}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}
  validations:
  - expression: |
      json.marshal({'b': 1, 'a': ['<x&y>', 2.5, null, true]}).replace('\\', '/') == '{"a":["/u003cx/u0026y/u003e",2.5,null,true],"b":1}'
  - expression: |
      json.unmarshal(json.marshal(object.spec)) == {'replicas': 1}
)yaml",
                                 "vpol.yaml");
  ASSERT_TRUE(marshal.ok()) << marshal.error().message;
  auto marshalled = run((*marshal)[0], deployment("prod", "prod", 1));
  ASSERT_EQ(marshalled.size(), 1u);
  EXPECT_EQ(marshalled[0].status, RuleStatus::kPass) << marshalled[0].message;
  EXPECT_EQ(with("yaml.parse('a: [') == {}").substr(0, 5), "error");
}

// Kyverno's time, transform, gzip, x509 and random libraries (kyverno/sdk extensions/cel/libs).
TEST(CelPolicy, KyvernoTimeTransformGzipX509RandomLibraries) {
  // A self-signed RSA certificate made for this test with openssl (serial 4660, CA with
  // pathlen 0, digitalSignature + keyCertSign, serverAuth + codeSigning, DNS/IP/email SANs, a
  // CRL distribution point, an OCSP server and one certificate policy).
  const std::string cert = R"(-----BEGIN CERTIFICATE-----
MIID7jCCAtagAwIBAgICEjQwDQYJKoZIhvcNAQELBQAwMzELMAkGA1UEBhMCVVMx
DTALBgNVBAoMBEFjbWUxFTATBgNVBAMMDHNob3AuZXhhbXBsZTAgFw0yNjEyMDcy
MzUyMjNaGA8yMTI2MTExMzIzNTIyM1owMzELMAkGA1UEBhMCVVMxDTALBgNVBAoM
BEFjbWUxFTATBgNVBAMMDHNob3AuZXhhbXBsZTCCASIwDQYJKoZIhvcNAQEBBQAD
ggEPADCCAQoCggEBANDvrSq2dARU2sFqU1X1Lc5azmXwK0N4lRZ6q/VWY8lU37Xq
Z86+Lc6DIkQyUE9oxoleK24XwcpUqcn1wBEfNy2Tgh0Tx1ALWkdszLgkHmw40GNe
zazluVQff3rcgj8zqxgvdS10GuDe9+83aMppZitMUHT1iF/uV50V9FyB6kQ9cd5k
vw3SvndDTHdMncblMxNUCjlGCb6IG8B24Zi8Ac9zl7llSWDbo7pXNK1Fta7IGXoO
458M3FggLZdjv72xWT6POv8six+pzRN4KNHLb8G2zA9zbVVh+aOonh8r+K58Xlzh
V3bJUo2DPWw/sfQTb+oSWJrn+urEocDKDNO0MnMCAwEAAaOCAQgwggEEMBIGA1Ud
EwEB/wQIMAYBAf8CAQAwDgYDVR0PAQH/BAQDAgKEMB0GA1UdJQQWMBQGCCsGAQUF
BwMBBggrBgEFBQcDAzAuBgNVHREEJzAlggxzaG9wLmV4YW1wbGWHBAoAAAGBD29w
c0BleGFtcGxlLmNvbTAqBgNVHR8EIzAhMB+gHaAbhhlodHRwOi8vY3JsLmV4YW1w
bGUvY2EuY3JsMC8GCCsGAQUFBwEBBCMwITAfBggrBgEFBQcwAYYTaHR0cDovL29j
c3AuZXhhbXBsZTATBgNVHSAEDDAKMAgGBmeBDAECATAdBgNVHQ4EFgQUIdXUtNkh
yWQlxPa63EQeaTyXZeMwDQYJKoZIhvcNAQELBQADggEBAIyUcnA260uUdtE7eUzM
qisKJ16AnUoEVw4j8Dyolp9HSA4oUZNJFNinov5oYENWimexVp+fJqJxwMvVuFQc
rt4yk4AzyNxMPB/v9vUtHnxdTPZhFkWcmLLAte0csq/jEYjpZ69a1TTgfTEoizYU
xHoETdlkeR6u2Yu/uWC9kxykQCsTWW+D0Sinuj2V8XCsBTI3EMngosqyUfUxEdn/
7vMDuUMdt0hYBThfPIFe35J6sppRLeaKOdkIF1w3iv8PQx5GN3dfiMI+jO4fNbg/
tFkwPZ6TqRDGIIaXeDOuhngFRDeDrnxFonNgwQJ7TOiAY4+APMtwR0sHmAv2nFgg
GIo=
-----END CERTIFICATE-----)";
  std::string cel_literal = "'";  // the certificate as a CEL string literal
  for (char c : cert) cel_literal += c == '\n' ? std::string("\\n") : std::string(1, c);
  cel_literal += "'";
  const std::string cert_expression = json::serialize(boost::json::value(cel_literal));
  auto with = [&](std::string_view expression) { return judged(expression, cert_expression); };
  for (std::string_view e : {
           "time.truncate(timestamp('2024-06-18T07:21:07.5Z'), duration('1h')) == timestamp('2024-06-18T07:00:00Z')",
           // Multiples of 7 minutes since January 1, year 1 (Go's zero time), not since 1970.
           "time.truncate(timestamp('2024-06-18T07:21:07Z'), duration('7m')) == timestamp('2024-06-18T07:16:00Z')",
           "time.truncate(timestamp('2024-06-18T07:21:07Z'), duration('0s')) == timestamp('2024-06-18T07:21:07Z')",
           "time.toCron(timestamp('2024-06-18T07:21:07Z')) == '21 7 18 6 2'",
           "time.now() > timestamp('2026-01-01T00:00:00Z')",
           "listObjToMap([{'k': 'a'}, {'k': 'b'}], [{'v': 1}, {'w': 2}], 'k', 'v') == {'a': 1, 'b': null}",
           "transform.listObjToMap([{'k': 'a'}], [{'v': [1]}], 'k', 'v') == {'a': [1]}",
           "gzip.decompress(b'\\\\x1f\\\\x8b\\\\x08\\\\x00\\\\x00\\\\x00\\\\x00\\\\x00\\\\x02\\\\x03\\\\xcb\\\\xae\\\\x2c\\\\x4b\\\\x2d\\\\xca\\\\xcb\\\\x07\\\\x00"
           "\\\\xe8\\\\x0f\\\\x9c\\\\x33\\\\x07\\\\x00\\\\x00\\\\x00') == 'kyverno'",
           "gzip.decompress(gzip.compress('kyverno kyverno kyverno')) == 'kyverno kyverno kyverno'",
           // Members one after another are one content, as Go's reader reads them.
           "gzip.decompress(gzip.compress('ky') + gzip.compress('verno')) == 'kyverno'",
           "x509.decode(variables.cert).SerialNumber == 4660 && x509.decode(variables.cert).PublicKeyAlgorithm == 1",
           "x509.decode(variables.cert).IsCA && x509.decode(variables.cert).MaxPathLen == 0 && "
           "x509.decode(variables.cert).MaxPathLenZero && x509.decode(variables.cert).KeyUsage == 33",
           "x509.decode(variables.cert).ExtKeyUsage == [1.0, 3.0] && x509.decode(variables.cert).PublicKey.E == 65537",
           "x509.decode(variables.cert).DNSNames == ['shop.example'] && x509.decode(variables.cert).IPAddresses == ['10.0.0.1']",
           "x509.decode(variables.cert).EmailAddresses == ['ops@example.com'] && "
           "x509.decode(variables.cert).CRLDistributionPoints == ['http://crl.example/ca.crl']",
           "x509.decode(variables.cert).OCSPServer == ['http://ocsp.example'] && "
           "x509.decode(variables.cert).PolicyIdentifiers == [[2, 23, 140, 1, 2, 1]]",
           "x509.decode(variables.cert).Issuer.CommonName == 'shop.example' && "
           "x509.decode(variables.cert).Issuer.Organization == ['Acme']",
           "x509.decode(variables.cert).NotAfter == '2126-11-13T23:52:23Z' && "
           "size(x509.decode(variables.cert).Extensions) == 8 && x509.decode(variables.cert).Extensions[0].Critical",
           "x509.decode(variables.cert).AuthorityKeyId == null && x509.decode(variables.cert).IssuingCertificateURL == null",
           "random('[a-f]{5}-(ab|cd)+x?\\\\\\\\d{2,3}').matches('^[a-f]{5}-(ab|cd)+x?[0-9]{2,3}$')",
           "random().matches('^[0-9a-z]{8}$') && random.random('[^a-z]').matches('^[^a-z]$')",
       }) {
    EXPECT_EQ(with(e).substr(0, 4), "pass") << e << ": " << with(e);
  }
  for (std::string_view e : {
           "listObjToMap([{'k': 'a'}], [], 'k', 'v') == {}",
           "listObjToMap([{'k': 1}], [{'v': 1}], 'k', 'v') == {}",
           "gzip.decompress(b'kyverno') == ''",
           "gzip.decompress(gzip.compress('ky') + b'verno') == ''",
           // Repeats of an empty group write nothing; the generator's step bound stops them.
           "random('(){1000}{1000}') == ''",
           "x509.decode('not a valid PEM') == {}",
           "random('[') == ''",
           "random('a{2,1}') == ''",
       }) {
    EXPECT_EQ(with(e).substr(0, 5), "error") << e << ": " << with(e);
  }
  EXPECT_NE(with("x509.decode('not a valid PEM') == {}").find("failed to decode PEM block"), std::string::npos);
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
  EXPECT_NE(unknown.error().message.find("spec.evaluation.mode: expected Kubernetes, JSON, Envoy or HTTP, got Yaml"), std::string::npos)
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

  // spec.images: Kyverno's ImageData fields, the image required, nothing else.
  auto images = parse_cel_context(*json::parse(R"({"kind": "Context", "spec": {"images": [{"image": "x", "tag": "1"}]}})"), "c");
  ASSERT_TRUE(images.ok()) << images.error().message;
  EXPECT_EQ(json::serialize(images->images.at("x")), R"({"image":"x","resolvedImage":"","registry":"","repository":"","tag":"1"})");
  EXPECT_FALSE(parse_cel_context(*json::parse(R"({"kind": "Context", "spec": {"images": [{"tag": "1"}]}})"), "c").ok());
  EXPECT_FALSE(parse_cel_context(*json::parse(R"({"kind": "Context", "spec": {"images": [{"image": "x", "labels": {}}]}})"), "c").ok());
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
