// The deployment objects of the admission webhook: which objects, and the webhooks derived from
// the policies (failure policies, timeouts, rules from kinds and operations, autogen controllers,
// namespace exclusion), the refusals, and the YAML writer read back by a YAML parser.
#include "vouch/admission/manifests.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fmt/ranges.h>

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "vouch/base/bytes.h"
#include "vouch/base/json.h"
#include "vouch/policy/document.h"
#include "vouch/policy/policy.h"

namespace vouch::admission {
namespace {

constexpr const char* kCaPem = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";

// A ClusterPolicy with one rule; `spec` adds spec fields, `rule` the rule's body (after match).
std::string cluster_policy(std::string_view name, std::string_view spec, std::string_view match,
                           std::string_view body) {
  return fmt::format(R"(apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: {}
spec:
{}
  rules:
    - name: r
      match:
{}
{}
)",
                     name, spec, match, body);
}

constexpr const char* kPodMatch = "        any:\n          - resources:\n              kinds: [Pod]";
constexpr const char* kValidate =
    "      validate:\n        message: no latest\n        pattern:\n          spec:\n            containers:\n"
    "              - image: \"!*:latest\"";
constexpr const char* kVerifyImages =
    "      verifyImages:\n        - imageReferences: [\"*\"]\n          attestors:\n            - entries:\n"
    "                - keys:\n                    publicKeys: KEY";

PolicyFile file(std::string key, std::string contents) {
  auto policies = policy::parse_policies(contents, key);
  EXPECT_TRUE(policies.ok()) << policies.error().message;
  return {std::move(key), std::move(contents), policies.ok() ? *policies : std::vector<policy::Policy>{}};
}

ManifestOptions options() {
  ManifestOptions o;
  o.ca_bundle_pem = kCaPem;
  o.secret = ServingSecret{"-----BEGIN CERTIFICATE-----\ncert\n-----END CERTIFICATE-----\n",
                           "-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n", kCaPem};
  return o;
}

Manifests build(const std::vector<PolicyFile>& files, const ManifestOptions& o = options()) {
  auto m = build_manifests(files, o);
  EXPECT_TRUE(m.ok()) << m.error().message;
  return m.ok() ? *m : Manifests{};
}

std::vector<std::string> kinds(const Manifests& m) {
  std::vector<std::string> out;
  for (const auto& o : m.objects) out.emplace_back(o.at("kind").as_string());
  return out;
}

const bj::object* find(const Manifests& m, std::string_view kind) {
  for (const auto& o : m.objects)
    if (o.at("kind").as_string() == kind) return &o;
  return nullptr;
}

// The webhooks of the Validating- or MutatingWebhookConfiguration, by name.
std::map<std::string, bj::object> webhooks(const Manifests& m, std::string_view kind) {
  std::map<std::string, bj::object> out;
  if (const auto* config = find(m, kind))
    for (const auto& w : config->at("webhooks").as_array()) out[std::string(w.at("name").as_string())] = w.as_object();
  return out;
}

// "group/version/resource:OPS" for every resource of a webhook's rules, sorted.
std::vector<std::string> rule_lines(const bj::object& webhook) {
  std::vector<std::string> out;
  for (const auto& r : webhook.at("rules").as_array()) {
    std::string ops;
    for (const auto& op : r.at("operations").as_array()) ops += (ops.empty() ? "" : ",") + std::string(op.as_string());
    for (const auto& res : r.at("resources").as_array())
      out.push_back(fmt::format("{}/{}/{}:{}", r.at("apiGroups").at(0).as_string(), r.at("apiVersions").at(0).as_string(),
                                res.as_string(), ops));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string joined(const std::vector<std::string>& lines) { return fmt::format("{}", fmt::join(lines, "\n")); }

TEST(AdmissionManifests, ObjectsInApplyOrder) {
  Manifests m = build({file("signed.yaml", cluster_policy("signed", "  webhookTimeoutSeconds: 30", kPodMatch, kVerifyImages)),
                       file("hygiene.yaml", cluster_policy("hygiene", "  background: true", kPodMatch, kValidate))});
  EXPECT_EQ(kinds(m), (std::vector<std::string>{"Namespace", "ServiceAccount", "ConfigMap", "Secret", "Service",
                                                "Deployment", "PodDisruptionBudget", "ValidatingWebhookConfiguration",
                                                "MutatingWebhookConfiguration"}));
  for (const auto& o : m.objects) {
    const auto& meta = o.at("metadata").as_object();
    const bool cluster_scoped = o.at("kind").as_string() == "Namespace" ||
                                o.at("kind").as_string().ends_with("WebhookConfiguration");
    EXPECT_EQ(meta.contains("namespace"), !cluster_scoped) << o.at("kind").as_string();
    if (!cluster_scoped) {
      EXPECT_EQ(meta.at("namespace"), "vouch");
    }
    EXPECT_EQ(meta.at("labels").at("app.kubernetes.io/part-of"), "vouch");
  }

  const auto& ns = *find(m, "Namespace");
  EXPECT_EQ(ns.at("metadata").at("labels").at("kubernetes.io/metadata.name"), "vouch");
  EXPECT_EQ(ns.at("metadata").at("labels").at("pod-security.kubernetes.io/enforce"), "restricted");

  const auto& sa = *find(m, "ServiceAccount");
  EXPECT_EQ(sa.at("automountServiceAccountToken"), false);
  EXPECT_EQ(std::string(sa.at("metadata").at("annotations").at("vouch.dev/rbac").as_string()).substr(0, 5), "none:");
  EXPECT_NE(m.notes[1].find("RBAC: none"), std::string::npos);
  for (const char* rbac : {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}) EXPECT_EQ(find(m, rbac), nullptr);

  const auto& cm = *find(m, "ConfigMap");
  EXPECT_EQ(cm.at("metadata").at("name"), "vouch-admission-policies");
  EXPECT_EQ(cm.at("data").as_object().size(), 2u);
  EXPECT_EQ(cm.at("data").at("signed.yaml").as_string(),
            cluster_policy("signed", "  webhookTimeoutSeconds: 30", kPodMatch, kVerifyImages));

  const auto& secret = *find(m, "Secret");
  EXPECT_EQ(secret.at("type"), "kubernetes.io/tls");
  auto decoded = [&](const char* key) {
    auto b = base64_decode(secret.at("data").at(key).as_string());
    EXPECT_TRUE(b.ok());
    return b.ok() ? to_string(*b) : std::string();
  };
  EXPECT_EQ(decoded("tls.key"), options().secret->key_pem);
  EXPECT_EQ(decoded("tls.crt"), options().secret->cert_pem);
  EXPECT_EQ(decoded("ca.crt"), kCaPem);

  const auto& svc = *find(m, "Service");
  EXPECT_EQ(svc.at("spec").at("ports").at(0).at("port"), 443);
  EXPECT_EQ(svc.at("spec").at("ports").at(0).at("targetPort"), "https");

  const auto& deploy = *find(m, "Deployment");
  EXPECT_EQ(deploy.at("spec").at("replicas"), 3);
  const auto& pod = deploy.at("spec").at("template").at("spec").as_object();
  EXPECT_EQ(pod.at("automountServiceAccountToken"), false);
  EXPECT_EQ(pod.at("serviceAccountName"), "vouch-admission");
  EXPECT_FALSE(pod.contains("priorityClassName"));
  const auto& term = pod.at("affinity").at("podAntiAffinity").at("preferredDuringSchedulingIgnoredDuringExecution").at(0);
  EXPECT_EQ(term.at("podAffinityTerm").at("topologyKey"), "kubernetes.io/hostname");
  EXPECT_EQ(term.at("podAffinityTerm").at("labelSelector").at("matchLabels"),
            deploy.at("spec").at("selector").at("matchLabels"));
  const auto& c = pod.at("containers").at(0).as_object();
  EXPECT_EQ(json::serialize(c.at("args")),
            R"(["admission","serve","--policies","/etc/vouch/policies","--tls-cert","/etc/vouch/tls/tls.crt",)"
            R"("--tls-key","/etc/vouch/tls/tls.key","--listen","0.0.0.0:9443","--reports","/var/lib/vouch/reports.db"])");
  EXPECT_EQ(c.at("ports").at(0).at("containerPort"), 9443);
  EXPECT_EQ(json::serialize(c.at("livenessProbe").at("httpGet")), R"({"path":"/healthz","port":"https","scheme":"HTTPS"})");
  EXPECT_EQ(json::serialize(c.at("readinessProbe").at("httpGet")), R"({"path":"/readyz","port":"https","scheme":"HTTPS"})");
  EXPECT_TRUE(c.at("resources").at("requests").as_object().contains("memory"));
  EXPECT_TRUE(c.at("resources").at("limits").as_object().contains("memory"));
  const auto& sc = c.at("securityContext");
  EXPECT_EQ(sc.at("runAsNonRoot"), true);
  EXPECT_EQ(sc.at("readOnlyRootFilesystem"), true);
  EXPECT_EQ(sc.at("allowPrivilegeEscalation"), false);
  EXPECT_EQ(json::serialize(sc.at("capabilities")), R"({"drop":["ALL"]})");
  EXPECT_EQ(sc.at("seccompProfile").at("type"), "RuntimeDefault");
  EXPECT_EQ(pod.at("securityContext").at("runAsNonRoot"), true);
  // Every mount has a volume; the data directory is an emptyDir.
  std::map<std::string, bj::object> volumes;
  for (const auto& v : pod.at("volumes").as_array()) volumes[std::string(v.at("name").as_string())] = v.as_object();
  for (const auto& mount : c.at("volumeMounts").as_array())
    EXPECT_TRUE(volumes.count(std::string(mount.at("name").as_string()))) << mount.at("name").as_string();
  EXPECT_TRUE(volumes.at("data").contains("emptyDir"));
  EXPECT_EQ(volumes.at("policies").at("configMap").at("name"), "vouch-admission-policies");
  EXPECT_EQ(volumes.at("tls").at("secret").at("secretName"), "vouch-admission-tls");

  const auto& pdb = *find(m, "PodDisruptionBudget");
  EXPECT_EQ(pdb.at("spec").at("maxUnavailable"), 1);
  EXPECT_EQ(pdb.at("spec").at("selector").at("matchLabels"), deploy.at("spec").at("selector").at("matchLabels"));
}

TEST(AdmissionManifests, ReplicasImageAndDigestAnnotation) {
  ManifestOptions o = options();
  o.replicas = 5;
  o.image = "registry.example/vouch@sha256:0123";
  o.config_digest = "sha256:abcd";
  Manifests m = build({file("p.yaml", cluster_policy("p", "  background: true", kPodMatch, kValidate))}, o);
  const auto& spec = find(m, "Deployment")->at("spec");
  EXPECT_EQ(spec.at("replicas"), 5);
  EXPECT_EQ(spec.at("template").at("spec").at("containers").at(0).at("image"), "registry.example/vouch@sha256:0123");
  EXPECT_EQ(spec.at("template").at("metadata").at("annotations").at("vouch.dev/config-digest"), "sha256:abcd");
}

TEST(AdmissionManifests, NoSecretMeansNoPrivateKeyInTheOutput) {
  ManifestOptions o = options();
  o.secret.reset();
  Manifests m = build({file("p.yaml", cluster_policy("p", "  background: true", kPodMatch, kVerifyImages))}, o);
  EXPECT_EQ(find(m, "Secret"), nullptr);
  // The Deployment still mounts the Secret made apart.
  EXPECT_NE(json::serialize(find(m, "Deployment")->at("spec")).find("vouch-admission-tls"), std::string::npos);
  std::string yaml = to_yaml(m);
  EXPECT_EQ(yaml.find("PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(json::serialize(to_list(m)).find("PRIVATE KEY"), std::string::npos);
  EXPECT_NE(yaml.find("kubectl -n vouch create secret tls vouch-admission-tls"), std::string::npos) << yaml;
}

TEST(AdmissionManifests, FailurePolicyAndTimeoutFromThePolicies) {
  Manifests m = build({
      file("a.yaml", cluster_policy("a", "  webhookTimeoutSeconds: 15", kPodMatch, kValidate)),
      file("b.yaml", cluster_policy("b", "  webhookConfiguration:\n    timeoutSeconds: 25", kPodMatch, kValidate)),
      file("c.yaml", cluster_policy("c", "  failurePolicy: Ignore\n  webhookTimeoutSeconds: 5", kPodMatch, kValidate)),
      file("d.yaml", cluster_policy("d", "  webhookConfiguration:\n    failurePolicy: Ignore", kPodMatch, kVerifyImages)),
  });
  auto validating = webhooks(m, "ValidatingWebhookConfiguration");
  ASSERT_EQ(validating.size(), 2u);
  // The max over the policies a webhook serves.
  EXPECT_EQ(validating.at("validate.vouch.svc-fail").at("timeoutSeconds"), 25);
  EXPECT_EQ(validating.at("validate.vouch.svc-fail").at("failurePolicy"), "Fail");
  EXPECT_EQ(validating.at("validate.vouch.svc-fail").at("clientConfig").at("service").at("path"), "/validate/fail");
  // A policy's lower timeout does not lower the default of 10 (as in Kyverno).
  EXPECT_EQ(validating.at("validate.vouch.svc-ignore").at("timeoutSeconds"), 10);
  EXPECT_EQ(validating.at("validate.vouch.svc-ignore").at("failurePolicy"), "Ignore");
  EXPECT_EQ(validating.at("validate.vouch.svc-ignore").at("clientConfig").at("service").at("path"), "/validate/ignore");
  // verifyImages runs in the mutating webhook; only the Ignore policy has it.
  auto mutating = webhooks(m, "MutatingWebhookConfiguration");
  ASSERT_EQ(mutating.size(), 1u);
  EXPECT_EQ(mutating.at("mutate.vouch.svc-ignore").at("failurePolicy"), "Ignore");
  EXPECT_EQ(mutating.at("mutate.vouch.svc-ignore").at("clientConfig").at("service").at("path"), "/mutate/ignore");
  EXPECT_EQ(mutating.at("mutate.vouch.svc-ignore").at("timeoutSeconds"), 10);
  EXPECT_EQ(mutating.at("mutate.vouch.svc-ignore").at("reinvocationPolicy"), "IfNeeded");

  // No timeout anywhere: 10. A timeout above 30 (the parser refuses it; a policy built otherwise) is capped.
  Manifests plain = build({file("a.yaml", cluster_policy("a", "  background: true", kPodMatch, kValidate))});
  EXPECT_EQ(webhooks(plain, "ValidatingWebhookConfiguration").at("validate.vouch.svc-fail").at("timeoutSeconds"), 10);
  PolicyFile slow = file("a.yaml", cluster_policy("a", "  webhookTimeoutSeconds: 30", kPodMatch, kVerifyImages));
  slow.policies[0].webhook_timeout_seconds = 45;
  Manifests capped = build({slow});
  EXPECT_EQ(webhooks(capped, "MutatingWebhookConfiguration").at("mutate.vouch.svc-fail").at("timeoutSeconds"), 30);
  EXPECT_EQ(webhooks(capped, "ValidatingWebhookConfiguration").at("validate.vouch.svc-fail").at("timeoutSeconds"), 30);
}

TEST(AdmissionManifests, IgnoreOnlyPoliciesGiveOnlyIgnoreWebhooks) {
  Manifests m = build({file("a.yaml", cluster_policy("a", "  failurePolicy: Ignore", kPodMatch, kValidate)),
                       file("b.yaml", cluster_policy("b", "  failurePolicy: Ignore", kPodMatch, kVerifyImages))});
  auto validating = webhooks(m, "ValidatingWebhookConfiguration");
  auto mutating = webhooks(m, "MutatingWebhookConfiguration");
  ASSERT_EQ(validating.size(), 1u);
  ASSERT_EQ(mutating.size(), 1u);
  EXPECT_TRUE(validating.count("validate.vouch.svc-ignore"));
  EXPECT_TRUE(mutating.count("mutate.vouch.svc-ignore"));
}

TEST(AdmissionManifests, NoVerifyImagesNoMutatingWebhook) {
  Manifests m = build({file("a.yaml", cluster_policy("a", "  background: true", kPodMatch, kValidate))});
  EXPECT_EQ(find(m, "MutatingWebhookConfiguration"), nullptr);
  EXPECT_NE(find(m, "ValidatingWebhookConfiguration"), nullptr);

  // verifyImages that neither requires a verified image nor checks digests has nothing to validate.
  std::string lax = std::string(kVerifyImages) + "\n          required: false\n          verifyDigest: false";
  Manifests only_mutating = build({file("b.yaml", cluster_policy("b", "  background: true", kPodMatch, lax))});
  EXPECT_EQ(find(only_mutating, "ValidatingWebhookConfiguration"), nullptr);
  EXPECT_NE(find(only_mutating, "MutatingWebhookConfiguration"), nullptr);

  // A policy kept out of admission (admission: false) registers nothing.
  Manifests background = build({file("a.yaml", cluster_policy("a", "  background: true", kPodMatch, kValidate)),
                                file("c.yaml", cluster_policy("c", "  admission: false", kPodMatch, kVerifyImages))});
  EXPECT_EQ(find(background, "MutatingWebhookConfiguration"), nullptr);
  EXPECT_EQ(find(background, "ConfigMap")->at("data").as_object().size(), 2u);
}

TEST(AdmissionManifests, RulesFromKindsIncludingAutogenControllers) {
  Manifests m = build({file("a.yaml", cluster_policy("a", "  background: true", kPodMatch, kValidate))});
  auto hook = webhooks(m, "ValidatingWebhookConfiguration").at("validate.vouch.svc-fail");
  EXPECT_EQ(joined(rule_lines(hook)), joined({"/v1/pods:CREATE,UPDATE", "/v1/replicationcontrollers:CREATE,UPDATE",
                                              "apps/v1/daemonsets:CREATE,UPDATE", "apps/v1/deployments:CREATE,UPDATE",
                                              "apps/v1/replicasets:CREATE,UPDATE", "apps/v1/statefulsets:CREATE,UPDATE",
                                              "batch/v1/cronjobs:CREATE,UPDATE", "batch/v1/jobs:CREATE,UPDATE"}));
  for (const auto& r : hook.at("rules").as_array()) EXPECT_EQ(r.at("scope"), "*");

  // Autogen off: the Pod alone. Operations as the match names them; kinds by version and by group.
  std::string spec = "  background: true";
  std::string match =
      "        any:\n"
      "          - resources:\n              kinds: [Pod]\n              operations: [CREATE]\n"
      "          - resources:\n              kinds: [apps/v1/Deployment, v1/ConfigMap, Pod/exec]\n"
      "              operations: [CREATE, CONNECT]\n"
      "          - resources:\n              kinds: [example.com/v1alpha1/Widget, Ingress]";
  std::string text = fmt::format(
      "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: k\n  annotations:\n"
      "    pod-policies.kyverno.io/autogen-controllers: none\nspec:\n{}\n  rules:\n    - name: r\n      match:\n{}\n{}\n",
      spec, match, kValidate);
  Manifests kinds_given = build({file("k.yaml", text)});
  EXPECT_EQ(joined(rule_lines(webhooks(kinds_given, "ValidatingWebhookConfiguration").at("validate.vouch.svc-fail"))),
            joined({"/v1/configmaps:CREATE,CONNECT", "/v1/pods/exec:CREATE,CONNECT", "/v1/pods:CREATE",
                    "apps/v1/deployments:CREATE,CONNECT", "example.com/v1alpha1/widgets:CREATE,UPDATE",
                    "networking.k8s.io/v1/ingresses:CREATE,UPDATE"}));
  // The guessed plural is said.
  bool noted = false;
  for (const auto& n : kinds_given.notes) noted = noted || n.find("'widgets' guessed") != std::string::npos;
  EXPECT_TRUE(noted);

  // An unconditional exclude takes operations away; a conditional one (namespaces) does not.
  std::string excluding = fmt::format(
      "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: x\n  annotations:\n"
      "    pod-policies.kyverno.io/autogen-controllers: none\nspec:\n  rules:\n    - name: r\n      match:\n"
      "        any:\n          - resources:\n              kinds: [Pod, Service, ConfigMap]\n      exclude:\n"
      "        any:\n          - resources:\n              kinds: [Pod]\n              operations: [UPDATE]\n"
      "          - resources:\n              kinds: [Service]\n"
      "          - resources:\n              kinds: [ConfigMap]\n              namespaces: [dev]\n{}\n",
      kValidate);
  Manifests excluded = build({file("x.yaml", excluding)});
  EXPECT_EQ(joined(rule_lines(webhooks(excluded, "ValidatingWebhookConfiguration").at("validate.vouch.svc-fail"))),
            joined({"/v1/configmaps:CREATE,UPDATE", "/v1/pods:CREATE"}));

  // A namespaced Policy sees namespaced resources only.
  std::string namespaced =
      "apiVersion: kyverno.io/v1\nkind: Policy\nmetadata:\n  name: shop-images\n  namespace: shop\nspec:\n  rules:\n"
      "    - name: r\n      match:\n        any:\n          - resources:\n              kinds: [\"*\"]\n" +
      std::string(kValidate) + "\n";
  Manifests scoped = build({file("n.yaml", namespaced)});
  auto scoped_hooks = webhooks(scoped, "ValidatingWebhookConfiguration");
  const auto& rule = scoped_hooks.at("validate.vouch.svc-fail").at("rules").at(0);
  EXPECT_EQ(json::serialize(rule), R"({"apiGroups":["*"],"apiVersions":["*"],"operations":["CREATE","UPDATE"],)"
                                   R"("resources":["*"],"scope":"Namespaced"})");
}

TEST(AdmissionManifests, ExcludesItsOwnNamespaceAndKubeSystem) {
  ManifestOptions o = options();
  o.ns = "supply-chain";
  Manifests m = build({file("a.yaml", cluster_policy("a", "  background: true", kPodMatch, kValidate)),
                       file("b.yaml", cluster_policy("b", "  background: true", kPodMatch, kVerifyImages))},
                      o);
  size_t seen = 0;
  for (const char* kind : {"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"}) {
    const auto* config = find(m, kind);
    ASSERT_NE(config, nullptr);
    EXPECT_EQ(config->at("metadata").at("name"), "vouch-admission.supply-chain");
    for (const auto& [name, w] : webhooks(m, kind)) {
      ++seen;
      EXPECT_EQ(json::serialize(w.at("namespaceSelector")),
                R"({"matchExpressions":[{"key":"kubernetes.io/metadata.name","operator":"NotIn",)"
                R"("values":["supply-chain","kube-system"]}]})")
          << name;
      EXPECT_EQ(w.at("clientConfig").at("service").at("namespace"), "supply-chain");
      EXPECT_EQ(w.at("clientConfig").at("service").at("name"), "vouch-admission");
      EXPECT_EQ(w.at("clientConfig").at("service").at("port"), 443);
      auto ca = base64_decode(w.at("clientConfig").at("caBundle").as_string());
      ASSERT_TRUE(ca.ok());
      EXPECT_EQ(to_string(*ca), kCaPem);
      EXPECT_EQ(json::serialize(w.at("admissionReviewVersions")), R"(["v1"])");
      EXPECT_EQ(w.at("sideEffects"), "NoneOnDryRun");
      EXPECT_EQ(w.at("matchPolicy"), "Equivalent");
      EXPECT_EQ(w.contains("reinvocationPolicy"), std::string_view(kind) == "MutatingWebhookConfiguration");
    }
  }
  EXPECT_EQ(seen, 2u);
  EXPECT_EQ(find(m, "Namespace")->at("metadata").at("name"), "supply-chain");
  EXPECT_EQ(service_dns_names("supply-chain"),
            (std::vector<std::string>{"vouch-admission.supply-chain.svc", "vouch-admission.supply-chain.svc.cluster.local"}));
}

TEST(AdmissionManifests, NotesNamespaceSelectorsTheServerCannotResolveAlone) {
  std::string match =
      "        any:\n          - resources:\n              kinds: [Pod]\n              namespaceSelector:\n"
      "                matchLabels:\n                  team: shop";
  Manifests m = build({file("a.yaml", cluster_policy("plain", "  background: true", kPodMatch, kValidate)),
                       file("b.yaml", cluster_policy("by-label", "  background: true", match, kValidate))});
  std::vector<std::string> selecting;
  for (const auto& n : m.notes)
    if (n.find("selects namespaces by label") != std::string::npos) selecting.push_back(n);
  ASSERT_EQ(selecting.size(), 1u);
  EXPECT_EQ(selecting[0].substr(0, 72), "b.yaml: ClusterPolicy by-label selects namespaces by label: the server k");
}

TEST(AdmissionManifests, UnknownKindIsAnErrorNamingTheKindAndThePolicy) {
  std::string match = "        any:\n          - resources:\n              kinds: [Pod, Widget]";
  auto m = build_manifests({file("widgets.yaml", cluster_policy("no-widgets", "  background: true", match, kValidate))},
                           options());
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(m.error().message,
            "widgets.yaml: ClusterPolicy no-widgets: rule r: match.any[0].resources.kinds: unknown kind 'Widget': not a "
            "built-in Kubernetes kind; name a custom resource with its group and version (group/version/Widget)");

  // Named by version alone, a custom kind is still unknown.
  match = "        any:\n          - resources:\n              kinds: [v1/Widget]";
  m = build_manifests({file("w.yaml", cluster_policy("w", "  background: true", match, kValidate))}, options());
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("unknown kind 'v1/Widget'"), std::string::npos) << m.error().message;

  // The parser requires kinds and known operations; a policy built otherwise is refused here too:
  // a match without kinds would never be sent a request.
  PolicyFile no_kinds = file("w.yaml", cluster_policy("w", "  background: true", kPodMatch, kValidate));
  no_kinds.policies[0].rules[0].match.any[0].resources.kinds.clear();
  m = build_manifests({no_kinds}, options());
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message.substr(0, 71), "w.yaml: ClusterPolicy w: rule r: match.any[0].resources.kinds: required");

  PolicyFile patch = file("w.yaml", cluster_policy("w", "  background: true", kPodMatch, kValidate));
  patch.policies[0].rules[0].match.any[0].resources.operations = {"PATCH"};
  m = build_manifests({patch}, options());
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("rule r: match.any[0].resources.operations: unknown operation 'PATCH'"),
            std::string::npos)
      << m.error().message;
}

TEST(AdmissionManifests, ResolvesKyvernoKindSelectors) {
  auto one = [](std::string_view selector) {
    auto r = resolve_kind(selector);
    EXPECT_TRUE(r.ok()) << selector << ": " << r.error().message;
    std::vector<std::string> out;
    if (r.ok())
      for (const auto& ref : *r) out.push_back(fmt::format("{}|{}|{}{}", ref.group, ref.version, ref.resource, ref.guessed ? " (guessed)" : ""));
    return joined(out);
  };
  EXPECT_EQ(one("Pod"), "|v1|pods");
  EXPECT_EQ(one("Deployment"), "apps|v1|deployments");
  EXPECT_EQ(one("CronJob"), "batch|v1|cronjobs");
  EXPECT_EQ(one("Event"), "|v1|events\nevents.k8s.io|v1|events");
  EXPECT_EQ(one("v1/Pod"), "|v1|pods");
  EXPECT_EQ(one("apps/v1/Deployment"), "apps|v1|deployments");
  EXPECT_EQ(one("apps/*/Deployment"), "apps|*|deployments");
  EXPECT_EQ(one("autoscaling/v1/HorizontalPodAutoscaler"), "autoscaling|v1|horizontalpodautoscalers");
  EXPECT_EQ(one("Pod/exec"), "|v1|pods/exec");
  EXPECT_EQ(one("Pod.status"), "|v1|pods/status");
  EXPECT_EQ(one("v1/Pod/ephemeralcontainers"), "|v1|pods/ephemeralcontainers");
  EXPECT_EQ(one("apps/v1/Deployment/scale"), "apps|v1|deployments/scale");
  EXPECT_EQ(one("*"), "*|*|*");
  EXPECT_EQ(one("*/*"), "*|*|*/*");
  EXPECT_EQ(one("*/scale"), "*|*|*/scale");
  EXPECT_EQ(one("kyverno.io/v1/ClusterPolicy"), "kyverno.io|v1|clusterpolicies (guessed)");
  EXPECT_EQ(one("example.com/v1/Gateway"), "example.com|v1|gateways (guessed)");
  EXPECT_EQ(one("example.com/v1/Patch"), "example.com|v1|patches (guessed)");
  EXPECT_EQ(one("example.com/v1/Box"), "example.com|v1|boxes (guessed)");
  EXPECT_EQ(one("example.com/v1/Class"), "example.com|v1|classes (guessed)");
  for (std::string_view bad : {"Widget", "v1/Widget", "pod", "apps/v1/deployment", "a/b/c/d/e", "Example.com/v1/X",
                               "apps/one/Deployment", "Pod/Exec", ""}) {
    auto r = resolve_kind(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
}

TEST(AdmissionManifests, RefusesWhatCannotBeDeployed) {
  const auto good = file("a.yaml", cluster_policy("a", "  background: true", kPodMatch, kValidate));
  struct Case {
    const char* name;
    std::function<void(std::vector<PolicyFile>&, ManifestOptions&)> change;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"kube-system", [](auto&, auto& o) { o.ns = "kube-system"; },
       "namespace 'kube-system': install the webhook in a namespace of its own"},
      {"bad namespace", [](auto&, auto& o) { o.ns = "Vouch_NS"; }, "namespace 'Vouch_NS': not a DNS-1123 label"},
      {"no replicas", [](auto&, auto& o) { o.replicas = 0; }, "replicas: 0: at least 1 is needed"},
      {"image with a space", [](auto&, auto& o) { o.image = "vouch latest"; }, "image: 'vouch latest' is not an image"},
      {"no CA", [](auto&, auto& o) { o.ca_bundle_pem.clear(); }, "the webhooks' CA bundle holds no PEM certificate"},
      {"two files, one name", [&](auto& f, auto&) { f.push_back(good); },
       "two policy files are named 'a.yaml': one ConfigMap key each is needed"},
      {"bad key", [](auto& f, auto&) { f[0].key = "my policy.yaml"; }, "'my policy.yaml': not a usable ConfigMap key"},
      {"not UTF-8", [](auto& f, auto&) { f[0].contents += "# \xff\n"; }, "a.yaml: not UTF-8 text"},
      {"too large", [](auto& f, auto&) { f[0].contents += std::string(1 << 20, '#'); }, "the policy files hold "},
      {"nothing at admission", [](auto& f, auto&) { f[0].policies[0].admission = false; },
       "no policy has a rule that runs at admission"},
      {"no policy", [](auto& f, auto&) { f[0].policies.clear(); }, "the policy files hold no ClusterPolicy or Policy"},
  };
  for (const auto& c : cases) {
    std::vector<PolicyFile> files = {good};
    ManifestOptions o = options();
    c.change(files, o);
    auto m = build_manifests(files, o);
    ASSERT_FALSE(m.ok()) << c.name;
    EXPECT_EQ(m.error().code, ErrorCode::kInvalidInput) << c.name;
    EXPECT_EQ(m.error().message.substr(0, std::string(c.message).size()), c.message) << c.name << ": " << m.error().message;
  }
}

// The YAML writer, read back by vouch's YAML reader (yaml-cpp, YAML 1.1 scalars as Kubernetes
// reads them): every object comes back as it went in, however its strings look.
TEST(AdmissionManifests, YamlReadsBackAsTheObjects) {
  Manifests m = build({file("signed.yaml", cluster_policy("signed", "  webhookTimeoutSeconds: 30", kPodMatch, kVerifyImages))});
  bj::object tricky{
      {"yes", "no"},
      {"on", "off"},
      {"null", "~"},
      {"number", "0123"},
      {"octal", "0o17"},
      {"float", "1.5"},
      {"exp", "1e3"},
      {"sexagesimal", "1:20"},
      {"date", "2001-12-14"},
      {"colon", "a: b"},
      {"hash", "a #b"},
      {"leading space", " x"},
      {"dash", "- x"},
      {"quotes", "\"'"},
      {"backslash", "a\\b"},
      {"empty", ""},
      {"merge", "<<"},
      {"star", "*"},
      {"amp", "&a"},
      {"unicode", "caf\xc3\xa9 \xe2\x9c\x93"},
      {"c1 control", "a\xc2\x85" "b\xc2\x9f"},
      {"bom", "\xef\xbb\xbfx"},
      {"controls", std::string("a\x01\x7f\tb\r", 7)},
      {"multi", "line one\n  indented\n\nlast\n"},
      {"no final newline", "a\nb"},
      {"two final newlines", "a\nb\n\n"},
      {"leading newline", "\nfirst\n"},
      {"first line indented", "  a\nb\n"},
      {"only newlines", "\n\n"},
      {"tab in block", "a\tb\nc\n"},
      {"trailing spaces", "a  \nb \n"},
      {"key: with colon", 1},
      {"-1", -1},
      {"big", 9007199254740991ll},
      {"double", 2.5},
      {"whole double", 3.0},
      {"tiny", 1e-7},
      {"bool", true},
      {"nothing", nullptr},
      {"empty list", bj::array{}},
      {"empty map", bj::object{}},
      {"nested", bj::array{bj::array{"a", bj::array{}}, bj::object{{"k", bj::array{bj::object{{"x", "y\nz\n"}}}}}}},
  };
  m.objects.push_back(tricky);
  m.notes.push_back("a note long enough to be wrapped over more than one comment line, " + std::string(60, 'x') +
                    " and with\nline breaks --- and document markers");
  std::string yaml = to_yaml(m);
  auto docs = policy::parse_documents(yaml, "manifests.yaml");
  ASSERT_TRUE(docs.ok()) << docs.error().message << "\n" << yaml;
  ASSERT_EQ(docs->size(), m.objects.size()) << yaml;
  for (size_t i = 0; i < docs->size(); ++i) {
    bj::value want = m.objects[i];
    if (i + 1 == docs->size()) {
      // YAML has one kind of number: a double that is whole reads back as an integer.
      want.as_object()["whole double"] = 3;
    }
    EXPECT_EQ(json::serialize((*docs)[i]), json::serialize(want)) << i;
  }
  // Policy files and PEMs stay readable: literal blocks.
  EXPECT_NE(yaml.find("  signed.yaml: |\n    apiVersion: kyverno.io/v1\n"), std::string::npos) << yaml;
  // The notes are comments only.
  for (size_t start = 0; start < yaml.size();) {
    size_t end = yaml.find('\n', start);
    std::string_view line(yaml.data() + start, end - start);
    if (line == "---") break;
    EXPECT_TRUE(line.starts_with("#")) << line;
    EXPECT_LE(line.size(), 102u) << line;
    start = end + 1;
  }

  bj::object list = to_list(m);
  EXPECT_EQ(list.at("kind"), "List");
  EXPECT_EQ(list.at("items").as_array().size(), m.objects.size());
}

}  // namespace
}  // namespace vouch::admission

namespace vouch::admission {
namespace {

TEST(AdmissionManifests, ImageValidatingPolicyGoesToBothWebhooksAsItsResourceRulesSay) {
  const char* ivpol = R"(apiVersion: policies.kyverno.io/v1
kind: ImageValidatingPolicy
metadata: {name: images}
spec:
  failurePolicy: Ignore
  webhookConfiguration: {timeoutSeconds: 25}
  matchConstraints:
    resourceRules:
      - {apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [pods]}
      - {apiGroups: [apps], apiVersions: [v1], resources: [deployments]}
  attestors: []
  validations:
    - expression: "true"
)";
  Manifests m = build({file("ivpol.yaml", ivpol)});
  auto validating = webhooks(m, "ValidatingWebhookConfiguration");
  auto mutating = webhooks(m, "MutatingWebhookConfiguration");
  ASSERT_EQ(validating.count("validate.vouch.svc-ignore"), 1u);
  ASSERT_EQ(mutating.count("mutate.vouch.svc-ignore"), 1u);
  for (const auto* hook : {&validating.at("validate.vouch.svc-ignore"), &mutating.at("mutate.vouch.svc-ignore")}) {
    EXPECT_EQ(rule_lines(*hook), (std::vector<std::string>{"/v1/pods:CREATE,UPDATE", "apps/v1/deployments:CREATE,UPDATE,DELETE,CONNECT"}));
    EXPECT_EQ(hook->at("timeoutSeconds"), 25);
  }
  // Without mutateDigest there is nothing to pin: the validating webhook only.
  std::string no_pin = std::string(ivpol) + "  validationConfigurations: {mutateDigest: false}\n";
  Manifests v = build({file("ivpol.yaml", no_pin)});
  EXPECT_EQ(webhooks(v, "MutatingWebhookConfiguration").size(), 0u);
  EXPECT_EQ(webhooks(v, "ValidatingWebhookConfiguration").size(), 1u);
}

// A ValidatingPolicy on Pods goes to the validating webhook with its autogen controllers
// (Kyverno's default: every Pod controller); a JSON-mode one never reaches the API server.
TEST(AdmissionManifests, ValidatingPolicyGoesToTheValidatingWebhookWithItsControllers) {
  const char* vpol = R"(apiVersion: policies.kyverno.io/v1
kind: ValidatingPolicy
metadata: {name: pods}
spec:
  webhookConfiguration: {timeoutSeconds: 15}
  matchConstraints:
    resourceRules:
      - {apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [pods]}
  validations:
    - expression: "true"
)";
  Manifests m = build({file("vpol.yaml", vpol)});
  EXPECT_EQ(webhooks(m, "MutatingWebhookConfiguration").size(), 0u);
  auto validating = webhooks(m, "ValidatingWebhookConfiguration");
  ASSERT_EQ(validating.count("validate.vouch.svc-fail"), 1u);
  const auto& hook = validating.at("validate.vouch.svc-fail");
  EXPECT_EQ(rule_lines(hook),
            (std::vector<std::string>{"/v1/pods:CREATE,UPDATE", "apps/v1/daemonsets:CREATE,UPDATE",
                                      "apps/v1/deployments:CREATE,UPDATE", "apps/v1/replicasets:CREATE,UPDATE",
                                      "apps/v1/statefulsets:CREATE,UPDATE", "batch/v1/cronjobs:CREATE,UPDATE",
                                      "batch/v1/jobs:CREATE,UPDATE"}));
  EXPECT_EQ(hook.at("timeoutSeconds"), 15);

  std::string json_mode = std::string(vpol) + "  evaluation: {mode: JSON}\n";
  auto only_json = build_manifests({file("vpol.yaml", json_mode)}, options());
  EXPECT_FALSE(only_json.ok());
  std::string background = std::string(vpol) + "  evaluation: {admission: {enabled: false}}\n";
  EXPECT_FALSE(build_manifests({file("vpol.yaml", background)}, options()).ok());
}

}  // namespace
}  // namespace vouch::admission
