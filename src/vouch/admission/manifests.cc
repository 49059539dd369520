#include "vouch/admission/manifests.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <tuple>

#include "vouch/base/ascii.h"
#include "vouch/base/bytes.h"
#include "vouch/policy/image_policy.h"

namespace vouch::admission {
namespace {

// ---------------------------------------------------------------- kinds

struct BuiltinKind {
  std::string_view kind, group, version, resource;
};

// The kinds a policy may name without a group: Kubernetes' built-in ones, at the version a webhook
// rule names them by (matchPolicy Equivalent also sends requests made through other versions).
// The webhook reads it backwards (builtin_kind_of) for the kind a subresource request belongs to.
constexpr BuiltinKind kBuiltinKinds[] = {
    {"Pod", "", "v1", "pods"},
    {"Service", "", "v1", "services"},
    {"ConfigMap", "", "v1", "configmaps"},
    {"Secret", "", "v1", "secrets"},
    {"Namespace", "", "v1", "namespaces"},
    {"ReplicationController", "", "v1", "replicationcontrollers"},
    {"ServiceAccount", "", "v1", "serviceaccounts"},
    {"PersistentVolumeClaim", "", "v1", "persistentvolumeclaims"},
    {"PersistentVolume", "", "v1", "persistentvolumes"},
    {"Node", "", "v1", "nodes"},
    {"Endpoints", "", "v1", "endpoints"},
    {"Event", "", "v1", "events"},
    {"Event", "events.k8s.io", "v1", "events"},
    {"LimitRange", "", "v1", "limitranges"},
    {"ResourceQuota", "", "v1", "resourcequotas"},
    {"PodTemplate", "", "v1", "podtemplates"},
    {"Binding", "", "v1", "bindings"},
    {"Deployment", "apps", "v1", "deployments"},
    {"StatefulSet", "apps", "v1", "statefulsets"},
    {"DaemonSet", "apps", "v1", "daemonsets"},
    {"ReplicaSet", "apps", "v1", "replicasets"},
    {"ControllerRevision", "apps", "v1", "controllerrevisions"},
    {"Job", "batch", "v1", "jobs"},
    {"CronJob", "batch", "v1", "cronjobs"},
    {"HorizontalPodAutoscaler", "autoscaling", "v2", "horizontalpodautoscalers"},
    {"PodDisruptionBudget", "policy", "v1", "poddisruptionbudgets"},
    {"Ingress", "networking.k8s.io", "v1", "ingresses"},
    {"IngressClass", "networking.k8s.io", "v1", "ingressclasses"},
    {"NetworkPolicy", "networking.k8s.io", "v1", "networkpolicies"},
    {"Role", "rbac.authorization.k8s.io", "v1", "roles"},
    {"RoleBinding", "rbac.authorization.k8s.io", "v1", "rolebindings"},
    {"ClusterRole", "rbac.authorization.k8s.io", "v1", "clusterroles"},
    {"ClusterRoleBinding", "rbac.authorization.k8s.io", "v1", "clusterrolebindings"},
    {"StorageClass", "storage.k8s.io", "v1", "storageclasses"},
    {"CSIDriver", "storage.k8s.io", "v1", "csidrivers"},
    {"CSINode", "storage.k8s.io", "v1", "csinodes"},
    {"VolumeAttachment", "storage.k8s.io", "v1", "volumeattachments"},
    {"ValidatingWebhookConfiguration", "admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations"},
    {"MutatingWebhookConfiguration", "admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations"},
    {"ValidatingAdmissionPolicy", "admissionregistration.k8s.io", "v1", "validatingadmissionpolicies"},
    {"ValidatingAdmissionPolicyBinding", "admissionregistration.k8s.io", "v1", "validatingadmissionpolicybindings"},
    {"CustomResourceDefinition", "apiextensions.k8s.io", "v1", "customresourcedefinitions"},
    {"PriorityClass", "scheduling.k8s.io", "v1", "priorityclasses"},
    {"Lease", "coordination.k8s.io", "v1", "leases"},
    {"EndpointSlice", "discovery.k8s.io", "v1", "endpointslices"},
    {"CertificateSigningRequest", "certificates.k8s.io", "v1", "certificatesigningrequests"},
    {"RuntimeClass", "node.k8s.io", "v1", "runtimeclasses"},
};

// Kyverno's version pattern: v1, v2beta1, v1alpha3, or `*`.
bool is_version(std::string_view s) {
  if (s == "*") return true;
  if (s.size() < 2 || s[0] != 'v') return false;
  size_t i = 1;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > start;
  };
  if (!digits()) return false;
  if (i == s.size()) return true;
  for (std::string_view stage : {"alpha", "beta"}) {
    if (s.substr(i).starts_with(stage)) {
      i += stage.size();
      return digits() && i == s.size();
    }
  }
  return false;
}

bool is_kind_name(std::string_view s) {
  if (s.empty() || !(s[0] >= 'A' && s[0] <= 'Z')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  });
}

bool is_lower_name(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  });
}

// A custom resource's plural guessed from its kind by English rules (Gateway: gateways, Policy:
// policies, Ingress: ingresses). Kubernetes' own guess (meta.UnsafeGuessKindToResource) turns
// Gateway into gatewaies; the CRD's real name may differ either way, so the output says it guessed.
std::string guess_resource(std::string_view kind) {
  std::string plural = lower(kind);
  auto vowel = [](char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'; };
  if (plural.ends_with('s') || plural.ends_with('x') || plural.ends_with('z') || plural.ends_with("ch") ||
      plural.ends_with("sh"))
    return plural + "es";
  if (plural.size() > 1 && plural.ends_with('y') && !vowel(plural[plural.size() - 2]))
    return plural.substr(0, plural.size() - 1) + "ies";
  return plural + "s";
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    out.emplace_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) return out;
    start = pos + 1;
  }
}

// ---------------------------------------------------------------- webhooks

constexpr std::array<std::string_view, 4> kOperations = {"CREATE", "UPDATE", "DELETE", "CONNECT"};
using OperationSet = unsigned;  // bit i: kOperations[i]
constexpr OperationSet kAllOperations = 0xf;
// Requests a rule sees when its match names no operations: creations and updates.
constexpr OperationSet kDefaultOperations = 0x3;

constexpr int kDefaultTimeoutSeconds = 10;
constexpr int kMaxTimeoutSeconds = 30;

Result<OperationSet> operation_set(const std::vector<std::string>& ops, OperationSet fallback, std::string_view where) {
  if (ops.empty()) return fallback;
  OperationSet set = 0;
  for (const auto& op : ops) {
    auto it = std::find(kOperations.begin(), kOperations.end(), op);
    if (it == kOperations.end())
      return invalid_input(fmt::format("{}: unknown operation '{}' (expected CREATE, UPDATE, DELETE or CONNECT)", where, op));
    set |= 1u << (it - kOperations.begin());
  }
  return set;
}

// One webhook being assembled: (group, version, scope) -> resource -> operations.
struct WebhookPlan {
  std::map<std::tuple<std::string, std::string, std::string>, std::map<std::string, OperationSet>> rules;
  int timeout = kDefaultTimeoutSeconds;
  bool empty() const {
    for (const auto& [gvs, resources] : rules)
      for (const auto& [resource, ops] : resources)
        if (ops) return false;
    return true;
  }
};

std::string policy_label(const PolicyFile& file, const policy::Policy& p) {
  return fmt::format("{}: {} {}", file.key, p.kind, p.ns.empty() ? p.name : p.ns + "/" + p.name);
}

// The kinds a rule's match names, with the operations each is to be sent for, less what an
// unconditional exclude takes away (an exclude.any entry naming nothing but kinds and operations),
// as Kyverno's webhook controller collects them.
Result<std::map<std::string, OperationSet>> rule_kinds(const policy::Rule& rule, std::string_view where) {
  std::map<std::string, OperationSet> out;
  auto collect = [&](const std::vector<policy::ResourceFilter>& filters, std::string_view list) -> Status {
    for (size_t i = 0; i < filters.size(); ++i) {
      const auto& d = filters[i].resources;
      std::string at = fmt::format("{}: match.{}[{}].resources", where, list, i);
      VOUCH_ASSIGN_OR_RETURN(OperationSet ops, operation_set(d.operations, kDefaultOperations, at + ".operations"));
      for (const auto& kind : d.kinds) {
        auto resolved = resolve_kind(kind);
        if (!resolved.ok()) return std::move(resolved).error().context(at + ".kinds");
        out[kind] |= ops;
      }
    }
    return ok_status();
  };
  // The API server sends a webhook only the resources its rules name: a match entry without kinds
  // would match requests that never arrive.
  for (size_t i = 0; i < rule.match.any.size(); ++i)
    if (rule.match.any[i].resources.kinds.empty())
      return invalid_input(fmt::format("{}: match.any[{}].resources.kinds: required: the webhook is sent only the kinds "
                                       "a rule names", where, i));
  if (!rule.match.all.empty() && std::all_of(rule.match.all.begin(), rule.match.all.end(), [](const auto& f) {
        return f.resources.kinds.empty();
      }))
    return invalid_input(fmt::format("{}: match.all: no entry names kinds: the webhook is sent only the kinds a rule names",
                                     where));
  VOUCH_RETURN_IF_ERROR(collect(rule.match.any, "any"));
  VOUCH_RETURN_IF_ERROR(collect(rule.match.all, "all"));
  if (out.empty()) return invalid_input(fmt::format("{}: match names no kinds", where));

  for (size_t i = 0; i < rule.exclude.any.size(); ++i) {
    const auto& f = rule.exclude.any[i];
    const auto& d = f.resources;
    if (!f.subjects.empty() || !f.roles.empty() || !f.cluster_roles.empty()) continue;
    if (!d.names.empty() || !d.namespaces.empty() || !d.annotations.empty() || d.selector || d.namespace_selector) continue;
    VOUCH_ASSIGN_OR_RETURN(OperationSet ops, operation_set(d.operations, kAllOperations,
                                                           fmt::format("{}: exclude.any[{}].resources.operations", where, i)));
    if (d.kinds.empty()) {
      for (auto& [kind, kind_ops] : out) kind_ops &= ~ops;
    } else {
      for (const auto& kind : d.kinds)
        if (auto it = out.find(kind); it != out.end()) it->second &= ~ops;
    }
  }
  return out;
}

// verifyImages runs in the mutating webhook (digests are patched there); the validating webhook
// sees validate rules and, as Kyverno's, verifyImages rules that check digests or require a
// verified image.
bool runs_in_validating(const policy::Rule& rule) {
  if (rule.validate) return true;
  return std::any_of(rule.verify_images.begin(), rule.verify_images.end(),
                     [](const auto& v) { return v.verify_digest || v.required; });
}
// Mutate rules run there too (mutateExisting, mutate.targets, is left to Kyverno's background
// controller).
bool runs_in_mutating(const policy::Rule& rule) {
  return !rule.verify_images.empty() || (rule.mutate && !rule.mutate->targets);
}

struct Plans {
  // [0] validating, [1] mutating; [x][0] failurePolicy Fail, [x][1] Ignore.
  WebhookPlan hooks[2][2];
  std::set<std::string> guessed;             // notes on guessed plurals
  std::set<std::string> namespace_selectors;  // policies that select namespaces by label
};

bool selects_namespaces(const policy::MatchResources& m) {
  for (const auto* list : {&m.any, &m.all})
    for (const auto& f : *list)
      if (f.resources.namespace_selector) return true;
  return false;
}

bool selects_namespaces(const policy::Policy& p) {
  for (const auto& o : p.overrides)
    if (o.namespace_selector) return true;
  for (const auto& r : p.rules) {
    if (selects_namespaces(r.match) || selects_namespaces(r.exclude)) return true;
    if (r.validate)
      for (const auto& o : r.validate->overrides)
        if (o.namespace_selector) return true;
  }
  return false;
}

// The CEL kinds name what they match as the API server does (matchConstraints.resourceRules), so
// their rules (with those of their autogen variants) go to the webhooks as written: an
// ImageValidatingPolicy's to the mutating one (mutateDigest, unless turned off) and the
// validating one, a ValidatingPolicy's or ValidatingAdmissionPolicy's to the validating one.
Status plan_cel_policy(const policy::Policy& p, const std::vector<policy::CelResourceRule>& rules, bool mutating,
                       Plans& plans) {
  const int failure = p.failure_policy == "Ignore" ? 1 : 0;
  const std::string label = fmt::format("{} {}", p.kind, p.name);
  for (int which = 0; which < (mutating ? 2 : 1); ++which) {
    WebhookPlan& hook = plans.hooks[which][failure];
    for (size_t i = 0; i < rules.size(); ++i) {
      const auto& r = rules[i];
      std::vector<std::string> ops;
      for (const auto& op : r.operations)
        if (op != "*") ops.push_back(op);
      VOUCH_ASSIGN_OR_RETURN(OperationSet set,
                             operation_set(ops, kAllOperations, fmt::format("{}: resourceRules[{}].operations", label, i)));
      for (const auto& g : r.api_groups)
        for (const auto& v : r.api_versions)
          for (const auto& res : r.resources) hook.rules[{g, v, "*"}][res] |= set;
    }
    hook.timeout = std::max(hook.timeout, p.webhook_timeout_seconds);
  }
  return ok_status();
}

Status plan_policy(const PolicyFile& file, const policy::Policy& p, Plans& plans) {
  // Kyverno leaves a policy with `admission: false` out of its webhooks: it runs in background scans only.
  if (!p.admission) return ok_status();
  if (p.image_policy) {
    std::vector<policy::CelResourceRule> rules = p.image_policy->match.resource_rules;
    for (const auto& variant : p.image_policy->autogen)
      rules.insert(rules.end(), variant->match.resource_rules.begin(), variant->match.resource_rules.end());
    return plan_cel_policy(p, rules, p.image_policy->mutate_digest, plans);
  }
  if (p.cel) {
    // A JSON-mode ValidatingPolicy judges documents, never the API server's requests.
    if (p.cel->json_mode) return ok_status();
    std::vector<policy::CelResourceRule> rules = p.cel->match.resource_rules;
    for (const auto& variant : p.cel->autogen)
      rules.insert(rules.end(), variant->match.resource_rules.begin(), variant->match.resource_rules.end());
    return plan_cel_policy(p, rules, false, plans);
  }
  if (selects_namespaces(p)) plans.namespace_selectors.insert(policy_label(file, p));
  const int failure = p.failure_policy == "Ignore" ? 1 : 0;
  const std::string scope = p.kind == "Policy" ? "Namespaced" : "*";
  const std::string label = policy_label(file, p);
  bool used[2] = {false, false};
  for (const auto& rule : p.rules) {
    const bool in[2] = {runs_in_validating(rule), runs_in_mutating(rule)};
    if (!in[0] && !in[1]) continue;
    VOUCH_ASSIGN_OR_RETURN(auto kinds, rule_kinds(rule, fmt::format("{}: rule {}", label, rule.name)));
    for (int which = 0; which < 2; ++which) {
      if (!in[which]) continue;
      used[which] = true;
      WebhookPlan& hook = plans.hooks[which][failure];
      for (const auto& [kind, ops] : kinds) {
        if (!ops) continue;
        VOUCH_ASSIGN_OR_RETURN(auto refs, resolve_kind(kind));
        for (const auto& ref : refs) {
          hook.rules[{ref.group, ref.version, scope}][ref.resource] |= ops;
          if (ref.guessed)
            plans.guessed.insert(fmt::format("{}: resource '{}' guessed from the kind; check it with `kubectl "
                                             "api-resources --api-group={}`", kind, ref.resource, ref.group));
        }
      }
    }
  }
  // A policy's webhookTimeoutSeconds (or webhookConfiguration.timeoutSeconds) raises the timeout of
  // the webhooks it is served by; the default stays the floor, as in Kyverno.
  for (int which = 0; which < 2; ++which)
    if (used[which])
      plans.hooks[which][failure].timeout = std::max(plans.hooks[which][failure].timeout, p.webhook_timeout_seconds);
  return ok_status();
}

bj::array string_array(const std::vector<std::string>& items) {
  bj::array out;
  for (const auto& s : items) out.emplace_back(s);
  return out;
}

bj::array webhook_rules(const WebhookPlan& plan) {
  bj::array out;
  for (const auto& [gvs, resources] : plan.rules) {
    const auto& [group, version, scope] = gvs;
    // One rule per set of operations, so that a resource is sent only what its policies asked for.
    std::map<OperationSet, std::vector<std::string>> by_ops;
    for (const auto& [resource, ops] : resources)
      if (ops) by_ops[ops].push_back(resource);
    for (const auto& [ops, names] : by_ops) {
      bj::array operations;
      for (size_t i = 0; i < kOperations.size(); ++i)
        if (ops & (1u << i)) operations.emplace_back(kOperations[i]);
      out.push_back(bj::object{{"apiGroups", bj::array{bj::value(group)}},
                               {"apiVersions", bj::array{bj::value(version)}},
                               {"operations", std::move(operations)},
                               {"resources", string_array(names)},
                               {"scope", scope}});
    }
  }
  return out;
}

// ---------------------------------------------------------------- objects

bj::object labels(std::string_view component) {
  return {{"app.kubernetes.io/name", kAppName},
          {"app.kubernetes.io/part-of", "vouch"},
          {"app.kubernetes.io/component", component}};
}
constexpr std::string_view kServerComponent = "admission-server";
constexpr std::string_view kWebhookComponent = "admission-webhook";

bj::object selector_labels() { return {{"app.kubernetes.io/name", kAppName}}; }

bj::object metadata(std::string_view name, std::string_view ns, std::string_view component) {
  bj::object m{{"name", name}};
  if (!ns.empty()) m["namespace"] = ns;
  m["labels"] = labels(component);
  return m;
}

constexpr std::string_view kPoliciesDir = "/etc/vouch/policies";
constexpr std::string_view kTlsDir = "/etc/vouch/tls";
constexpr std::string_view kDataDir = "/var/lib/vouch";
constexpr int kUid = 65532;  // the conventional non-root user of distroless images

bj::object namespace_object(const ManifestOptions& o) {
  bj::object meta{{"name", o.ns}};
  bj::object l = labels(kServerComponent);
  // Set by the API server on every namespace since Kubernetes 1.21; the webhooks' namespaceSelector
  // excludes this namespace by it.
  l["kubernetes.io/metadata.name"] = o.ns;
  // The pods below meet the restricted Pod Security Standard; the namespace holds them to it.
  l["pod-security.kubernetes.io/enforce"] = "restricted";
  meta["labels"] = std::move(l);
  return {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", std::move(meta)}};
}

constexpr std::string_view kRbacNote =
    "RBAC: none. The server never calls the Kubernetes API: policies come from the mounted ConfigMap, the serving "
    "certificate from the mounted Secret, and reports go to its own store (--reports). Its ServiceAccount has no "
    "token (automountServiceAccountToken: false) and no Role or binding; policies that name Kubernetes Secrets "
    "(k8s:// keys) are refused by the server rather than read.";

bj::object service_account(const ManifestOptions& o) {
  bj::object meta = metadata(kAppName, o.ns, kServerComponent);
  meta["annotations"] = bj::object{{"vouch.dev/rbac", "none: the server does not call the Kubernetes API"}};
  return {{"apiVersion", "v1"},
          {"kind", "ServiceAccount"},
          {"metadata", std::move(meta)},
          {"automountServiceAccountToken", false}};
}

bj::object config_map(const std::vector<PolicyFile>& files, const ManifestOptions& o) {
  bj::object data;
  for (const auto& f : files) data[f.key] = f.contents;
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", metadata(kPoliciesConfigMap, o.ns, kServerComponent)},
          {"data", std::move(data)}};
}

bj::object secret_object(const ServingSecret& s, const ManifestOptions& o) {
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", metadata(kTlsSecret, o.ns, kServerComponent)},
          {"type", "kubernetes.io/tls"},
          {"data", bj::object{{"ca.crt", base64_encode(to_bytes(s.ca_pem))},
                              {"tls.crt", base64_encode(to_bytes(s.cert_pem))},
                              {"tls.key", base64_encode(to_bytes(s.key_pem))}}}};
}

bj::object service(const ManifestOptions& o) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", metadata(kAppName, o.ns, kServerComponent)},
          {"spec", bj::object{{"selector", selector_labels()},
                              {"ports", bj::array{bj::object{{"name", "https"},
                                                             {"port", kServicePort},
                                                             {"targetPort", "https"},
                                                             {"protocol", "TCP"}}}}}}};
}

bj::object https_probe(std::string_view path, int period, int failures) {
  return {{"httpGet", bj::object{{"path", path}, {"port", "https"}, {"scheme", "HTTPS"}}},
          {"periodSeconds", period},
          {"timeoutSeconds", 3},
          {"failureThreshold", failures}};
}

bj::object deployment(const ManifestOptions& o) {
  bj::object container{
      {"name", "vouch"},
      {"image", o.image},
      {"imagePullPolicy", "IfNotPresent"},
      {"command", bj::array{"vouch"}},
      {"args", bj::array{"admission", "serve",
                         "--policies", kPoliciesDir,
                         "--tls-cert", fmt::format("{}/tls.crt", kTlsDir),
                         "--tls-key", fmt::format("{}/tls.key", kTlsDir),
                         "--listen", fmt::format("0.0.0.0:{}", kContainerPort),
                         // One SQLite store per pod, on the emptyDir below. Replicas share their
                         // reports when this is a PostgreSQL URL (postgres://…) instead.
                         "--reports", fmt::format("{}/reports.db", kDataDir)}},
      // The root file system is read-only: anything the server keeps (the TUF cache of Sigstore's
      // trusted root, SQLite's temporary files) goes to the emptyDir volumes.
      {"env", bj::array{bj::object{{"name", "HOME"}, {"value", kDataDir}},
                        bj::object{{"name", "TUF_ROOT"}, {"value", fmt::format("{}/tuf", kDataDir)}},
                        bj::object{{"name", "TMPDIR"}, {"value", "/tmp"}}}},
      {"ports", bj::array{bj::object{{"name", "https"}, {"containerPort", kContainerPort}, {"protocol", "TCP"}}}},
      {"livenessProbe", https_probe("/healthz", 10, 3)},
      {"readinessProbe", https_probe("/readyz", 5, 2)},
      // A memory limit bounds a runaway (huge AdmissionReviews are refused before that, but the
      // caches grow with traffic); no CPU limit, whose throttling would add admission latency.
      {"resources", bj::object{{"requests", bj::object{{"cpu", "100m"}, {"memory", "128Mi"}}},
                               {"limits", bj::object{{"memory", "512Mi"}}}}},
      {"securityContext", bj::object{{"allowPrivilegeEscalation", false},
                                     {"readOnlyRootFilesystem", true},
                                     {"runAsNonRoot", true},
                                     {"capabilities", bj::object{{"drop", bj::array{"ALL"}}}},
                                     {"seccompProfile", bj::object{{"type", "RuntimeDefault"}}}}},
      {"volumeMounts", bj::array{bj::object{{"name", "policies"}, {"mountPath", kPoliciesDir}, {"readOnly", true}},
                                 bj::object{{"name", "tls"}, {"mountPath", kTlsDir}, {"readOnly", true}},
                                 bj::object{{"name", "data"}, {"mountPath", kDataDir}},
                                 bj::object{{"name", "tmp"}, {"mountPath", "/tmp"}}}},
  };
  bj::object pod_meta{{"labels", labels(kServerComponent)}};
  if (!o.config_digest.empty()) pod_meta["annotations"] = bj::object{{"vouch.dev/config-digest", o.config_digest}};
  bj::object pod_spec{
      {"serviceAccountName", kAppName},
      {"automountServiceAccountToken", false},
      {"enableServiceLinks", false},
      {"securityContext", bj::object{{"runAsNonRoot", true},
                                     {"runAsUser", kUid},
                                     {"runAsGroup", kUid},
                                     {"fsGroup", kUid},
                                     {"seccompProfile", bj::object{{"type", "RuntimeDefault"}}}}},
      // Replicas on different nodes, so that losing a node leaves the webhook answering; preferred,
      // not required, so that a small cluster still runs every replica.
      {"affinity",
       bj::object{{"podAntiAffinity",
                   bj::object{{"preferredDuringSchedulingIgnoredDuringExecution",
                               bj::array{bj::object{
                                   {"weight", 100},
                                   {"podAffinityTerm",
                                    bj::object{{"labelSelector", bj::object{{"matchLabels", selector_labels()}}},
                                               {"topologyKey", "kubernetes.io/hostname"}}}}}}}}}},
      {"containers", bj::array{std::move(container)}},
      {"volumes",
       bj::array{bj::object{{"name", "policies"}, {"configMap", bj::object{{"name", kPoliciesConfigMap}}}},
                 // Readable by the pod's group (fsGroup) only; ca.crt is not mounted, the server does not need it.
                 bj::object{{"name", "tls"},
                            {"secret", bj::object{{"secretName", kTlsSecret},
                                                  {"defaultMode", 0440},  // octal; 288 in the output
                                                  {"items", bj::array{bj::object{{"key", "tls.crt"}, {"path", "tls.crt"}},
                                                                      bj::object{{"key", "tls.key"}, {"path", "tls.key"}}}}}}},
                 bj::object{{"name", "data"}, {"emptyDir", bj::object{{"sizeLimit", "1Gi"}}}},
                 bj::object{{"name", "tmp"}, {"emptyDir", bj::object{{"sizeLimit", "64Mi"}}}}}},
  };
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", metadata(kAppName, o.ns, kServerComponent)},
          {"spec", bj::object{{"replicas", o.replicas},
                              {"selector", bj::object{{"matchLabels", selector_labels()}}},
                              // A new pod is ready before an old one goes: the webhook never loses capacity
                              // to a rollout.
                              {"strategy", bj::object{{"type", "RollingUpdate"},
                                                      {"rollingUpdate", bj::object{{"maxSurge", 1}, {"maxUnavailable", 0}}}}},
                              {"template", bj::object{{"metadata", std::move(pod_meta)}, {"spec", std::move(pod_spec)}}}}}};
}

// maxUnavailable 1 rather than minAvailable 1: voluntary evictions (node drains, upgrades) take one
// replica at a time, so with three the webhook keeps two answering while a drain can still make
// progress; minAvailable 1 would let two go at once, and with a single replica it would block
// every drain.
bj::object disruption_budget(const ManifestOptions& o) {
  return {{"apiVersion", "policy/v1"},
          {"kind", "PodDisruptionBudget"},
          {"metadata", metadata(kAppName, o.ns, kServerComponent)},
          {"spec", bj::object{{"maxUnavailable", 1}, {"selector", bj::object{{"matchLabels", selector_labels()}}}}}};
}

std::string webhook_configuration_name(std::string_view ns) { return fmt::format("{}.{}", kAppName, ns); }

bj::object webhook(std::string_view kind, bool ignore, const WebhookPlan& plan, const ManifestOptions& o) {
  const bool mutating = kind == "mutate";
  bj::object w;
  w["name"] = fmt::format("{}.vouch.svc-{}", kind, ignore ? "ignore" : "fail");
  w["admissionReviewVersions"] = bj::array{"v1"};
  // The path only: the API server appends ?timeout=<timeoutSeconds>s itself when it calls the
  // webhook, and refuses a query in a service path.
  w["clientConfig"] = bj::object{{"caBundle", base64_encode(to_bytes(o.ca_bundle_pem))},
                                 {"service", bj::object{{"name", kAppName},
                                                        {"namespace", o.ns},
                                                        {"path", fmt::format("/{}/{}", kind, ignore ? "ignore" : "fail")},
                                                        {"port", kServicePort}}}};
  w["failurePolicy"] = ignore ? "Ignore" : "Fail";
  w["matchPolicy"] = "Equivalent";
  // Never its own namespace (its pods must start while the webhook is down) nor kube-system.
  w["namespaceSelector"] = bj::object{
      {"matchExpressions",
       bj::array{bj::object{{"key", "kubernetes.io/metadata.name"}, {"operator", "NotIn"},
                            {"values", bj::array{bj::value(o.ns), "kube-system"}}}}}};
  if (mutating) w["reinvocationPolicy"] = "IfNeeded";
  w["rules"] = webhook_rules(plan);
  // Kyverno declares None; vouch writes a report for each review, which is a side effect, and skips
  // it for dry-run requests. NoneOnDryRun says exactly that, and still lets `kubectl apply
  // --dry-run=server` through the webhook.
  w["sideEffects"] = "NoneOnDryRun";
  w["timeoutSeconds"] = std::min(plan.timeout, kMaxTimeoutSeconds);
  return w;
}

bj::object webhook_configuration(bool mutating, const WebhookPlan (&plans)[2], const ManifestOptions& o) {
  const std::string_view kind = mutating ? "mutate" : "validate";
  bj::array hooks;
  // Ignore before Fail, as Kyverno orders them.
  if (!plans[1].empty()) hooks.push_back(webhook(kind, true, plans[1], o));
  if (!plans[0].empty()) hooks.push_back(webhook(kind, false, plans[0], o));
  return {{"apiVersion", "admissionregistration.k8s.io/v1"},
          {"kind", mutating ? "MutatingWebhookConfiguration" : "ValidatingWebhookConfiguration"},
          {"metadata", metadata(webhook_configuration_name(o.ns), "", kWebhookComponent)},
          {"webhooks", std::move(hooks)}};
}

// ConfigMap keys: [-._a-zA-Z0-9]+, at most 253 characters, not "." or "..".
Status check_config_map_key(std::string_view key) {
  bool ok = !key.empty() && key.size() <= 253 && key != "." && key != ".." &&
            std::all_of(key.begin(), key.end(), [](char c) {
              return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                     c == '_' || c == '.';
            });
  if (!ok)
    return invalid_input(fmt::format("'{}': not a usable ConfigMap key (letters, digits, '-', '_' and '.'; rename the file)",
                                     key));
  return ok_status();
}

// Decodes the UTF-8 sequence at s[i]: its code point and length. False for anything but strict
// UTF-8 (an overlong form, a surrogate, a code point above U+10FFFF, a truncated sequence).
bool decode_utf8(std::string_view s, size_t i, uint32_t& cp, size_t& len) {
  const auto c = static_cast<unsigned char>(s[i]);
  len = 1;
  if (c < 0x80) {
    cp = c;
    return true;
  }
  size_t n = 0;
  uint32_t min = 0;
  if ((c & 0xe0) == 0xc0) {
    n = 1, min = 0x80, cp = c & 0x1f;
  } else if ((c & 0xf0) == 0xe0) {
    n = 2, min = 0x800, cp = c & 0x0f;
  } else if ((c & 0xf8) == 0xf0) {
    n = 3, min = 0x10000, cp = c & 0x07;
  } else {
    return false;
  }
  if (s.size() - i <= n) return false;
  for (size_t k = 1; k <= n; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xc0) != 0x80) return false;
    cp = (cp << 6) | (cc & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
  len = n + 1;
  return true;
}

// ConfigMap data is text.
bool valid_utf8(std::string_view s) {
  uint32_t cp = 0;
  size_t len = 1;
  for (size_t i = 0; i < s.size(); i += len)
    if (!decode_utf8(s, i, cp, len)) return false;
  return true;
}

// A ConfigMap holds at most 1 MiB of data.
constexpr size_t kMaxConfigMapBytes = 1 << 20;

Status check_options(const std::vector<PolicyFile>& files, const ManifestOptions& o) {
  VOUCH_RETURN_IF_ERROR(check_namespace(o.ns));
  if (o.replicas < 1) return invalid_input(fmt::format("replicas: {}: at least 1 is needed", o.replicas));
  if (o.image.empty() || std::any_of(o.image.begin(), o.image.end(), [](char c) { return c <= ' ' || c == 0x7f; }))
    return invalid_input(fmt::format("image: '{}' is not an image reference", o.image));
  if (o.ca_bundle_pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
    return invalid_input("the webhooks' CA bundle holds no PEM certificate");
  if (files.empty()) return invalid_input("no policy files");
  std::set<std::string> keys;
  size_t total = 0;
  for (const auto& f : files) {
    VOUCH_RETURN_IF_ERROR(check_config_map_key(f.key));
    if (!keys.insert(f.key).second)
      return invalid_input(fmt::format("two policy files are named '{}': one ConfigMap key each is needed", f.key));
    if (!valid_utf8(f.contents)) return invalid_input(fmt::format("{}: not UTF-8 text", f.key));
    total += f.key.size() + f.contents.size();
  }
  if (total > kMaxConfigMapBytes)
    return invalid_input(fmt::format("the policy files hold {} bytes; a ConfigMap holds at most {}", total,
                                     kMaxConfigMapBytes));
  return ok_status();
}

// ---------------------------------------------------------------- YAML

bool is_yaml11_keyword(std::string_view s) {
  for (std::string_view w : {"y", "n", "yes", "no", "on", "off", "true", "false", "null"})
    if (iequals(s, w)) return true;
  return false;
}

// Plain (unquoted) only when no YAML 1.1 reader can take the text for anything but this string:
// it starts with a letter, '_' or '/', holds only letters, digits and _ . / -, and is no keyword.
bool plain_ok(std::string_view s) {
  if (s.empty() || is_yaml11_keyword(s)) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!alpha(s[0]) && s[0] != '_' && s[0] != '/') return false;
  return std::all_of(s.begin(), s.end(), [&](char c) {
    return alpha(c) || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '/' || c == '-';
  });
}

// Characters YAML does not allow as they are (outside its printable set), or that would confuse a
// reader: C0 and C1 controls, DEL, the byte-order mark, U+FFFE and U+FFFF.
bool must_escape(uint32_t cp) {
  return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0xfeff || cp == 0xfffe || cp == 0xffff;
}

void write_double_quoted(std::string_view s, std::string& out) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    size_t len = 1;
    if (!decode_utf8(s, i, cp, len)) {
      // Not text (the builder refuses such input; this keeps the output YAML whatever comes).
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(s[i]));
      i += len;
      continue;
    }
    switch (cp) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (must_escape(cp)) {
          out += cp <= 0xff ? fmt::format("\\x{:02x}", cp) : fmt::format("\\u{:04x}", cp);
        } else {
          out.append(s.substr(i, len));
        }
    }
    i += len;
  }
  out += '"';
}

// A literal block (|) keeps multi-line text (a policy file, a PEM) readable. Only for text whose
// every character may stand as it is, and whose first non-empty line does not start with a space
// (which would change the block's detected indentation).
bool literal_ok(std::string_view s) {
  if (s.find('\n') == std::string_view::npos) return false;
  size_t first = s.find_first_not_of('\n');
  if (first == std::string_view::npos || s[first] == ' ') return false;
  uint32_t cp = 0;
  size_t len = 1;
  for (size_t i = 0; i < s.size(); i += len)
    if (!decode_utf8(s, i, cp, len) || (cp != '\n' && must_escape(cp))) return false;
  return true;
}

void write_literal(std::string_view s, int indent, std::string& out) {
  size_t end = s.find_last_not_of('\n') + 1;
  size_t trailing = s.size() - end;
  out += trailing == 0 ? "|-" : trailing == 1 ? "|" : "|+";
  out += '\n';
  std::string_view body = s.substr(0, end);
  for (size_t start = 0; start <= body.size();) {
    size_t nl = body.find('\n', start);
    std::string_view line = body.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (!line.empty()) out.append(static_cast<size_t>(indent), ' ').append(line);
    out += '\n';
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  for (size_t i = 1; i < trailing; ++i) out += '\n';
}

std::string number(const bj::value& v) {
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  // YAML 1.1 reads a float only with a '.' in its mantissa.
  std::string text = fmt::format("{}", v.get_double());
  if (text.find('.') == std::string::npos) {
    size_t e = text.find('e');
    text.insert(e == std::string::npos ? text.size() : e, ".0");
  }
  return text;
}

bool is_scalar(const bj::value& v) {
  return !(v.is_object() && !v.get_object().empty()) && !(v.is_array() && !v.get_array().empty());
}

// A scalar or empty collection after "key:" or "-" (the separating space included); a literal
// block's lines are indented by `indent`.
void write_scalar(const bj::value& v, int indent, std::string& out) {
  out += ' ';
  switch (v.kind()) {
    case bj::kind::null: out += "null"; break;
    case bj::kind::bool_: out += v.get_bool() ? "true" : "false"; break;
    case bj::kind::int64:
    case bj::kind::uint64:
    case bj::kind::double_: out += number(v); break;
    case bj::kind::string: {
      std::string_view s = v.get_string();
      if (plain_ok(s)) {
        out += s;
      } else if (literal_ok(s)) {
        write_literal(s, indent, out);
        return;
      } else {
        write_double_quoted(s, out);
      }
      break;
    }
    case bj::kind::object: out += "{}"; break;
    case bj::kind::array: out += "[]"; break;
  }
  out += '\n';
}

void write_key(std::string_view key, std::string& out) {
  if (plain_ok(key)) {
    out += key;
  } else {
    write_double_quoted(key, out);
  }
  out += ':';
}

// A non-empty collection whose first line continues the current one when `inline_first` (after "- ").
void write_block(const bj::value& v, int indent, bool inline_first, std::string& out) {
  bool first = true;
  auto start_line = [&] {
    if (!(first && inline_first)) out.append(static_cast<size_t>(indent), ' ');
    first = false;
  };
  if (v.is_object()) {
    for (const auto& [key, value] : v.get_object()) {
      start_line();
      write_key(key, out);
      if (is_scalar(value)) {
        write_scalar(value, indent + 2, out);
      } else {
        out += '\n';
        write_block(value, indent + 2, false, out);
      }
    }
  } else {
    for (const auto& item : v.get_array()) {
      start_line();
      out += '-';
      if (is_scalar(item)) {
        write_scalar(item, indent + 2, out);
      } else {
        out += ' ';
        write_block(item, indent + 2, true, out);
      }
    }
  }
}

// `text` as comment lines of at most about 100 columns.
void write_comment(std::string_view text, std::string& out) {
  constexpr size_t kWidth = 98;
  std::string flat(text);
  // A line break or other control character in a note must not end the comment.
  for (char& c : flat)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  std::string line;
  for (const auto& word : split(flat, ' ')) {
    if (word.empty()) continue;
    if (!line.empty() && line.size() + 1 + word.size() > kWidth) {
      out += "# " + line + "\n";
      line.clear();
    }
    if (!line.empty()) line += ' ';
    line += word;
  }
  out += line.empty() ? "#\n" : "# " + line + "\n";
}

}  // namespace

// ---------------------------------------------------------------- public

Result<std::vector<ResourceRef>> resolve_kind(std::string_view selector) {
  // As Kyverno's ParseKindSelector: split on '/', and the last part again on '.' (Kind.subresource).
  std::vector<std::string> parts = split(selector, '/');
  std::vector<std::string> last = split(parts.back(), '.');
  parts.pop_back();
  parts.insert(parts.end(), last.begin(), last.end());
  std::string group = "*", version = "*", kind, sub;
  switch (parts.size()) {
    case 1: kind = parts[0]; break;
    case 2:
      if (parts[0] == "*" && parts[1] == "*") {
        kind = "*", sub = "*";
      } else if (parts[0] == "*" && lower(parts[1]) == parts[1]) {
        kind = "*", sub = parts[1];
      } else if (is_version(parts[0])) {
        version = parts[0], kind = parts[1];
      } else {
        kind = parts[0], sub = parts[1];
      }
      break;
    case 3:
      if (is_version(parts[0])) {
        version = parts[0], kind = parts[1], sub = parts[2];
      } else {
        group = parts[0], version = parts[1], kind = parts[2];
      }
      break;
    case 4: group = parts[0], version = parts[1], kind = parts[2], sub = parts[3]; break;
    default: return invalid_input(fmt::format("'{}': not a kind selector", selector));
  }
  const bool group_given = group != "*";
  const bool version_given = version != "*" || parts.size() >= 3;
  if (group_given && group != "" && !is_lower_name(group))
    return invalid_input(fmt::format("'{}': '{}' is not an API group", selector, group));
  if (!is_version(version)) return invalid_input(fmt::format("'{}': '{}' is not an API version", selector, version));
  if (!sub.empty() && sub != "*" && !is_lower_name(sub))
    return invalid_input(fmt::format("'{}': '{}' is not a subresource", selector, sub));
  auto with_sub = [&](std::string resource) { return sub.empty() ? resource : resource + "/" + sub; };

  if (kind == "*") return std::vector<ResourceRef>{{group, version, with_sub("*")}};
  if (!is_kind_name(kind)) return invalid_input(fmt::format("'{}': '{}' is not a kind", selector, kind));
  std::vector<ResourceRef> out;
  for (const auto& b : kBuiltinKinds) {
    if (b.kind != kind || (group_given && b.group != group)) continue;
    out.push_back({std::string(b.group), version_given ? version : std::string(b.version), with_sub(std::string(b.resource))});
  }
  if (!out.empty()) return out;
  if (!group_given)
    return invalid_input(fmt::format("unknown kind '{}': not a built-in Kubernetes kind; name a custom resource with its "
                                     "group and version (group/version/{})", selector, kind));
  return std::vector<ResourceRef>{{group, version, with_sub(guess_resource(kind)), true}};
}

std::optional<std::string> builtin_kind_of(std::string_view group, std::string_view resource) {
  for (const auto& b : kBuiltinKinds)
    if (b.group == group && b.resource == resource) return std::string(b.kind);
  return std::nullopt;
}

std::vector<std::string> service_dns_names(std::string_view ns) {
  return {fmt::format("{}.{}.svc", kAppName, ns), fmt::format("{}.{}.svc.cluster.local", kAppName, ns)};
}

Status check_namespace(std::string_view ns) {
  bool label = !ns.empty() && ns.size() <= 63 && ns.front() != '-' && ns.back() != '-' &&
               std::all_of(ns.begin(), ns.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
  if (!label)
    return invalid_input(fmt::format("namespace '{}': not a DNS-1123 label (lowercase letters, digits and '-', at most 63)", ns));
  for (std::string_view system : {"kube-system", "kube-public", "kube-node-lease", "default"})
    if (ns == system)
      return invalid_input(fmt::format("namespace '{}': install the webhook in a namespace of its own", ns));
  return ok_status();
}

Result<Manifests> build_manifests(const std::vector<PolicyFile>& files, const ManifestOptions& options) {
  VOUCH_RETURN_IF_ERROR(check_options(files, options));
  Plans plans;
  size_t policies = 0;
  for (const auto& f : files) {
    for (const auto& p : f.policies) {
      ++policies;
      VOUCH_RETURN_IF_ERROR(plan_policy(f, p, plans));
    }
  }
  if (policies == 0) return invalid_input("the policy files hold no ClusterPolicy or Policy");
  const bool validating = !plans.hooks[0][0].empty() || !plans.hooks[0][1].empty();
  const bool mutating = !plans.hooks[1][0].empty() || !plans.hooks[1][1].empty();
  if (!validating && !mutating)
    return invalid_input("no policy has a rule that runs at admission (validate or verifyImages, or a CEL policy, with admission not false)");

  Manifests m;
  m.notes.push_back(fmt::format("vouch admission webhook, namespace {}: {} ({} replicas). Generated by `vouch admission "
                                "manifests`; regenerate rather than edit.",
                                options.ns, kAppName, options.replicas));
  m.notes.push_back(std::string(kRbacNote));
  m.objects.push_back(namespace_object(options));
  m.objects.push_back(service_account(options));
  m.objects.push_back(config_map(files, options));
  if (options.secret) {
    m.objects.push_back(secret_object(*options.secret, options));
  } else {
    m.notes.push_back(fmt::format("The Secret {0} (type kubernetes.io/tls) is not included: create it from the serving "
                                  "certificate and key, e.g. `kubectl -n {1} create secret tls {0} --cert=tls.crt "
                                  "--key=tls.key`. The webhooks' caBundle must be the CA that issued tls.crt.",
                                  kTlsSecret, options.ns));
  }
  m.objects.push_back(service(options));
  m.objects.push_back(deployment(options));
  m.objects.push_back(disruption_budget(options));
  if (validating) m.objects.push_back(webhook_configuration(false, plans.hooks[0], options));
  if (mutating) m.objects.push_back(webhook_configuration(true, plans.hooks[1], options));
  for (const auto& g : plans.guessed) m.notes.push_back(g);
  for (const auto& p : plans.namespace_selectors)
    m.notes.push_back(fmt::format("{} selects namespaces by label: the server knows namespace labels only from "
                                  "--namespace-labels, which these manifests do not set; until it has them, such a "
                                  "selector matches no namespace.", p));
  return m;
}

std::string to_yaml(const Manifests& manifests) {
  std::string out;
  for (const auto& note : manifests.notes) write_comment(note, out);
  for (const auto& object : manifests.objects) {
    out += "---\n";
    write_block(object, 0, false, out);
  }
  return out;
}

bj::object to_list(const Manifests& manifests) {
  bj::array items;
  for (const auto& object : manifests.objects) items.push_back(object);
  return {{"apiVersion", "v1"}, {"kind", "List"}, {"items", std::move(items)}};
}

}  // namespace vouch::admission
