// CEL policy throughput: the Pod Security Standards "restricted" checks (runAsNonRoot,
// allowPrivilegeEscalation false, capabilities drop ALL, seccompProfile RuntimeDefault or
// Localhost, volume types) written once as a ValidatingPolicy and once as a ClusterPolicy the
// way Kyverno's pod-security policies write them (patterns, and deny conditions where Kyverno
// uses them), applied by the same engine to the same typical Pod; and the compiled expressions
// alone. Both sets are checked to pass that Pod and to fail all five checks on a Pod that breaks
// them, so the two figures measure the same decisions.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "vouch/cel/cel.h"
#include "vouch/policy/cel_policy.h"
#include "vouch/policy/document.h"
#include "vouch/policy/engine.h"

namespace {

using namespace vouch;
namespace bj = boost::json;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "cel_bench: %s\n", what.c_str());
  std::exit(2);
}

// The checks as CEL, over every container of the Pod (variables.containers).
constexpr const char* kAllContainers =
    "object.spec.containers + (has(object.spec.initContainers) ? object.spec.initContainers : []) + "
    "(has(object.spec.ephemeralContainers) ? object.spec.ephemeralContainers : [])";
constexpr const char* kRunAsNonRoot =
    "(has(object.spec.securityContext) && has(object.spec.securityContext.runAsNonRoot) && "
    "object.spec.securityContext.runAsNonRoot == true) ? variables.containers.all(c, !has(c.securityContext) || "
    "!has(c.securityContext.runAsNonRoot) || c.securityContext.runAsNonRoot == true) : variables.containers.all(c, "
    "has(c.securityContext) && has(c.securityContext.runAsNonRoot) && c.securityContext.runAsNonRoot == true)";
constexpr const char* kNoPrivilegeEscalation =
    "variables.containers.all(c, has(c.securityContext) && has(c.securityContext.allowPrivilegeEscalation) && "
    "c.securityContext.allowPrivilegeEscalation == false)";
constexpr const char* kDropAll =
    "variables.containers.all(c, has(c.securityContext) && has(c.securityContext.capabilities) && "
    "has(c.securityContext.capabilities.drop) && 'ALL' in c.securityContext.capabilities.drop && "
    "(!has(c.securityContext.capabilities.add) || c.securityContext.capabilities.add.all(a, a == "
    "'NET_BIND_SERVICE')))";
constexpr const char* kSeccomp =
    "(has(object.spec.securityContext) && has(object.spec.securityContext.seccompProfile) && "
    "object.spec.securityContext.seccompProfile.type in ['RuntimeDefault', 'Localhost']) ? "
    "variables.containers.all(c, !has(c.securityContext) || !has(c.securityContext.seccompProfile) || "
    "c.securityContext.seccompProfile.type in ['RuntimeDefault', 'Localhost']) : variables.containers.all(c, "
    "has(c.securityContext) && has(c.securityContext.seccompProfile) && c.securityContext.seccompProfile.type in "
    "['RuntimeDefault', 'Localhost'])";
constexpr const char* kVolumeTypes =
    "!has(object.spec.volumes) || object.spec.volumes.all(v, has(v.configMap) || has(v.csi) || has(v.downwardAPI) || "
    "has(v.emptyDir) || has(v.ephemeral) || has(v.persistentVolumeClaim) || has(v.projected) || has(v.secret))";

std::string yaml_quoted(const char* expression) {
  std::string out = "'";
  for (const char* p = expression; *p; ++p) out += *p == '\'' ? std::string("''") : std::string(1, *p);
  return out + "'";
}

bj::value load(const std::string& yaml) {
  auto doc = policy::parse_document(yaml, "cel_bench");
  if (!doc.ok()) die(doc.error().message);
  return *doc;
}

const policy::Policy& cel_policy() {
  static const policy::Policy p = [] {
    std::string yaml = R"(apiVersion: policies.kyverno.io/v1
kind: ValidatingPolicy
metadata: {name: pss-restricted}
spec:
  validationActions: [Deny]
  matchConstraints:
    resourceRules:
      - {apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [pods]}
  variables:
    - {name: containers, expression: )" + yaml_quoted(kAllContainers) + R"(}
  validations:
)";
    for (const char* e : {kRunAsNonRoot, kNoPrivilegeEscalation, kDropAll, kSeccomp, kVolumeTypes})
      yaml += "    - expression: " + yaml_quoted(e) + "\n";
    auto parsed = policy::parse_cel_policy(load(yaml));
    if (!parsed.ok()) die(parsed.error().message);
    return *parsed;
  }();
  return p;
}

const policy::Policy& pattern_policy() {
  static const policy::Policy p = [] {
    auto parsed = policy::parse_policies(R"(apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: pss-restricted}
spec:
  validationFailureAction: Enforce
  rules:
    - name: run-as-non-root
      match: {any: [{resources: {kinds: [Pod]}}]}
      validate:
        anyPattern:
          - spec:
              securityContext: {runAsNonRoot: true}
              =(ephemeralContainers): [{=(securityContext): {=(runAsNonRoot): true}}]
              =(initContainers): [{=(securityContext): {=(runAsNonRoot): true}}]
              containers: [{=(securityContext): {=(runAsNonRoot): true}}]
          - spec:
              =(ephemeralContainers): [{securityContext: {runAsNonRoot: true}}]
              =(initContainers): [{securityContext: {runAsNonRoot: true}}]
              containers: [{securityContext: {runAsNonRoot: true}}]
    - name: privilege-escalation
      match: {any: [{resources: {kinds: [Pod]}}]}
      validate:
        pattern:
          spec:
            =(ephemeralContainers): [{securityContext: {allowPrivilegeEscalation: "false"}}]
            =(initContainers): [{securityContext: {allowPrivilegeEscalation: "false"}}]
            containers: [{securityContext: {allowPrivilegeEscalation: "false"}}]
    - name: capabilities-drop-all
      match: {any: [{resources: {kinds: [Pod]}}]}
      validate:
        foreach:
          - list: request.object.spec.[ephemeralContainers, initContainers, containers][]
            deny:
              conditions:
                any:
                  - key: ALL
                    operator: AnyNotIn
                    value: "{{ element.securityContext.capabilities.drop[] || `[]` }}"
                  - key: "{{ element.securityContext.capabilities.add[] || `[]` }}"
                    operator: AnyNotIn
                    value: [NET_BIND_SERVICE, ""]
    - name: seccomp-profile
      match: {any: [{resources: {kinds: [Pod]}}]}
      validate:
        anyPattern:
          - spec:
              securityContext: {seccompProfile: {type: "RuntimeDefault | Localhost"}}
              =(ephemeralContainers): [{=(securityContext): {=(seccompProfile): {=(type): "RuntimeDefault | Localhost"}}}]
              =(initContainers): [{=(securityContext): {=(seccompProfile): {=(type): "RuntimeDefault | Localhost"}}}]
              containers: [{=(securityContext): {=(seccompProfile): {=(type): "RuntimeDefault | Localhost"}}}]
          - spec:
              =(ephemeralContainers): [{securityContext: {seccompProfile: {type: "RuntimeDefault | Localhost"}}}]
              =(initContainers): [{securityContext: {seccompProfile: {type: "RuntimeDefault | Localhost"}}}]
              containers: [{securityContext: {seccompProfile: {type: "RuntimeDefault | Localhost"}}}]
    - name: volume-types
      match: {any: [{resources: {kinds: [Pod]}}]}
      validate:
        deny:
          conditions:
            all:
              - key: "{{ request.object.spec.volumes[].keys(@)[] || `[]` }}"
                operator: AnyNotIn
                value: [name, configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret]
)",
                                         "cel_bench");
    if (!parsed.ok() || parsed->size() != 1) die(parsed.ok() ? "expected one ClusterPolicy" : parsed.error().message);
    return (*parsed)[0];
  }();
  return p;
}

// A typical restricted Pod: an init container, an app and a sidecar, the usual volumes.
constexpr const char* kPod = R"(apiVersion: v1
kind: Pod
metadata:
  name: shop-7d9f8
  namespace: shop
  labels: {app: shop, tier: frontend}
spec:
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    seccompProfile: {type: RuntimeDefault}
  initContainers:
    - name: migrate
      image: ghcr.io/myorg/shop-migrate@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
      securityContext:
        allowPrivilegeEscalation: false
        capabilities: {drop: [ALL]}
  containers:
    - name: app
      image: ghcr.io/myorg/shop@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
      ports: [{containerPort: 8080}]
      resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {memory: 256Mi}}
      securityContext:
        allowPrivilegeEscalation: false
        capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}
        readOnlyRootFilesystem: true
      volumeMounts: [{name: config, mountPath: /etc/shop}, {name: tmp, mountPath: /tmp}]
    - name: proxy
      image: registry.internal.example.com/envoy:1.29
      securityContext:
        allowPrivilegeEscalation: false
        capabilities: {drop: [ALL]}
  volumes:
    - {name: config, configMap: {name: shop-config}}
    - {name: tmp, emptyDir: {}}
    - {name: token, projected: {sources: [{serviceAccountToken: {path: token}}]}}
)";

// The same Pod breaking every check.
constexpr const char* kBadPod = R"(apiVersion: v1
kind: Pod
metadata: {name: bad, namespace: shop}
spec:
  containers:
    - name: app
      image: nginx:1.27
      securityContext:
        allowPrivilegeEscalation: true
        capabilities: {add: [SYS_ADMIN]}
        seccompProfile: {type: Unconfined}
  volumes:
    - {name: host, hostPath: {path: /var/run}}
)";

policy::Request request_for(const char* yaml) {
  policy::Request req;
  req.object = load(yaml);
  req.operation = "CREATE";
  return req;
}

// Both sets decide the same: pass on the typical Pod, fail all five checks on the bad one.
void check_same_decisions(const policy::Engine& engine) {
  static bool checked = false;
  if (checked) return;
  checked = true;
  for (const auto* p : {&cel_policy(), &pattern_policy()}) {
    std::string what = p->cel ? "ValidatingPolicy" : "ClusterPolicy";
    for (const auto& r : engine.apply(*p, request_for(kPod)))
      if (r.status != policy::RuleStatus::kPass) die(what + " " + r.rule + " does not pass the typical Pod: " + r.message);
    auto bad = engine.apply(*p, request_for(kBadPod));
    size_t failed = 0;
    for (const auto& r : bad) {
      if (r.status != policy::RuleStatus::kFail) die(what + " " + r.rule + " does not fail the bad Pod: " + r.message);
      failed += p->cel ? static_cast<size_t>(std::count(r.message.begin(), r.message.end(), ';') + 1) : 1;
    }
    if (failed != 5) die(what + " fails " + std::to_string(failed) + " checks of the bad Pod, not 5");
  }
}

void run(benchmark::State& state, const policy::Policy& policy) {
  policy::Engine engine;
  check_same_decisions(engine);
  policy::Request req = request_for(kPod);
  size_t results = 0;
  for (auto _ : state) results += engine.apply(policy, req).size();
  benchmark::DoNotOptimize(results);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["checks_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()) * 5,
                                                      benchmark::Counter::kIsRate);
}

void BM_PssValidatingPolicyPod(benchmark::State& state) { run(state, cel_policy()); }
void BM_PssClusterPolicyPod(benchmark::State& state) { run(state, pattern_policy()); }
BENCHMARK(BM_PssValidatingPolicyPod);
BENCHMARK(BM_PssClusterPolicyPod);

// The six compiled expressions (the variable and the five checks) alone, on the Pod already
// converted to CEL values: the interpreter's own rate.
void BM_PssCelExpressions(benchmark::State& state) {
  cel::EnvironmentOptions options;
  options.libraries = cel::Libraries::kubernetes();
  cel::Environment env(options);
  auto compile = [&](const char* e) {
    auto program = env.compile(e);
    if (!program.ok()) die(program.error().message);
    return std::move(*program);
  };
  auto containers = compile(kAllContainers);
  std::vector<decltype(containers)> checks;
  for (const char* e : {kRunAsNonRoot, kNoPrivilegeEscalation, kDropAll, kSeccomp, kVolumeTypes})
    checks.push_back(compile(e));
  cel::Activation vars;
  vars.bind("object", cel::from_json(request_for(kPod).object));
  size_t passed = 0;
  for (auto _ : state) {
    auto list = containers.evaluate(vars);
    cel::Map variables;
    variables.insert(cel::Value::string("containers"), list->value);
    vars.bind("variables", cel::Value::map(std::move(variables)));
    for (const auto& c : checks) {
      auto r = c.evaluate(vars);
      passed += r.ok() && r->value.is(cel::Kind::kBool) && r->value.as_bool();
    }
  }
  if (passed != static_cast<size_t>(state.iterations()) * checks.size()) state.SkipWithError("a check did not pass the typical Pod");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * (checks.size() + 1)));
}
BENCHMARK(BM_PssCelExpressions);

}  // namespace
