// Mutate rules: patchStrategicMerge with Kyverno's anchors and the Kubernetes merge keys,
// patchesJson6902, foreach, variables, the order of rules and what validation sees.
#include <gtest/gtest.h>

#include "vouch/policy/document.h"
#include "vouch/policy/engine.h"
#include "vouch/policy/json_patch.h"
#include "vouch/policy/kyverno_test.h"
#include "vouch/policy/values.h"

namespace vouch::policy {
namespace {

bj::value doc(std::string_view yaml) {
  auto d = parse_document(yaml, "test");
  EXPECT_TRUE(d.ok()) << d.error().message;
  return d.ok() ? *d : bj::value();
}

Policy policy_with(std::string_view rules, std::string_view extra_spec = "") {
  std::string text = "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: p\n"
                     "  annotations: {pod-policies.kyverno.io/autogen-controllers: none}\nspec:\n" +
                     std::string(extra_spec) + "  rules:\n" + std::string(rules);
  auto p = parse_policies(text, "test");
  EXPECT_TRUE(p.ok()) << p.error().message;
  return p.ok() && !p->empty() ? (*p)[0] : Policy{};
}

// One mutate rule `m` for Pods.
Policy mutate_rule(std::string_view mutate_yaml) {
  std::string rule = "  - name: m\n    match: {any: [{resources: {kinds: [Pod]}}]}\n    mutate:\n";
  std::string body(mutate_yaml);
  size_t start = 0;
  while (start < body.size()) {
    size_t nl = body.find('\n', start);
    std::string line = body.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    rule += "      " + line + "\n";
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return policy_with(rule);
}

const char* kPod = R"(
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  containers:
  - {name: app, image: 'nginx:1.25', ports: [{containerPort: 80, protocol: TCP}]}
  - {name: sidecar, image: 'envoy:latest'}
  volumes:
  - {name: cache, emptyDir: {}}
)";

struct Applied {
  std::vector<RuleResult> results;
  bj::value resource;
};

Applied run(const Policy& p, const bj::value& object) {
  Engine engine;
  Request r;
  r.object = object;
  Applied out;
  out.results = engine.apply(p, r);
  out.resource = object;
  for (const auto& rr : out.results)
    if (!rr.patched_resource.is_null()) out.resource = rr.patched_resource;
  return out;
}

const bj::value& at(const bj::value& v, std::initializer_list<std::string_view> path) {
  static const bj::value kNull;
  const bj::value* cur = &v;
  for (auto p : path) {
    if (cur->is_object()) {
      cur = cur->get_object().if_contains(p);
    } else if (cur->is_array()) {
      size_t i = std::stoul(std::string(p));
      cur = i < cur->get_array().size() ? &cur->get_array()[i] : nullptr;
    } else {
      cur = nullptr;
    }
    if (!cur) return kNull;
  }
  return *cur;
}

TEST(Mutate, StrategicMergeAddsLabelsAndPasses) {
  auto a = run(mutate_rule("patchStrategicMerge:\n  metadata:\n    labels:\n      team: '{{request.object.metadata.namespace}}'"),
               doc(kPod));
  ASSERT_EQ(a.results.size(), 1u);
  EXPECT_EQ(a.results[0].status, RuleStatus::kPass);
  EXPECT_EQ(a.results[0].type, "Mutation");
  EXPECT_EQ(a.results[0].message, "mutated Pod/web in namespace shop");
  EXPECT_EQ(at(a.resource, {"metadata", "labels", "team"}), bj::value("shop"));
  EXPECT_EQ(at(a.resource, {"metadata", "labels", "app"}), bj::value("web"));
  // The patches turn the resource as it was into the mutated one.
  auto patched = apply_json_patch(doc(kPod), a.results[0].patches);
  ASSERT_TRUE(patched.ok()) << patched.error().message;
  EXPECT_EQ(*patched, a.resource);
}

TEST(Mutate, NothingToChangeSkips) {
  auto a = run(mutate_rule("patchStrategicMerge:\n  metadata:\n    labels:\n      app: web"), doc(kPod));
  ASSERT_EQ(a.results.size(), 1u);
  EXPECT_EQ(a.results[0].status, RuleStatus::kSkip);
  EXPECT_EQ(a.results[0].message, "no patches applied");
  EXPECT_TRUE(a.results[0].patches.empty());
}

TEST(Mutate, ContainersMergeByName) {
  auto a = run(mutate_rule("patchStrategicMerge:\n  spec:\n    containers:\n    - name: sidecar\n      imagePullPolicy: Always"),
               doc(kPod));
  ASSERT_EQ(a.results.size(), 1u);
  EXPECT_EQ(a.results[0].status, RuleStatus::kPass);
  const auto& containers = at(a.resource, {"spec", "containers"}).as_array();
  ASSERT_EQ(containers.size(), 2u);
  bool found = false;
  for (const auto& c : containers) {
    if (c.at("name") == "sidecar") {
      found = true;
      EXPECT_EQ(c.at("imagePullPolicy"), bj::value("Always"));
      EXPECT_EQ(c.at("image"), bj::value("envoy:latest"));
    } else {
      EXPECT_FALSE(c.as_object().contains("imagePullPolicy"));
    }
  }
  EXPECT_TRUE(found);
}

TEST(Mutate, PortsMergeByContainerPortAndEnvByName) {
  auto a = run(mutate_rule("patchStrategicMerge:\n  spec:\n    containers:\n    - name: app\n      ports:\n"
                           "      - {containerPort: 8080}\n      env:\n      - {name: MODE, value: prod}"),
               doc(kPod));
  const auto& app = at(a.resource, {"spec", "containers", "0"});
  ASSERT_EQ(app.at("name"), bj::value("app"));
  EXPECT_EQ(app.at("ports").as_array().size(), 2u);
  EXPECT_EQ(app.at("env").as_array().size(), 1u);
}

TEST(Mutate, ListsOfUnknownKindsAreReplaced) {
  auto p = policy_with(
      "  - name: m\n    match: {any: [{resources: {kinds: [Widget]}}]}\n    mutate:\n"
      "      patchStrategicMerge:\n        spec:\n          items: [{name: b}]\n");
  auto a = run(p, doc("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {items: [{name: a}]}"));
  ASSERT_EQ(a.results.size(), 1u);
  EXPECT_EQ(at(a.resource, {"spec", "items"}), doc("[{name: b}]"));
}

TEST(Mutate, ConditionalAnchorGatesThePatch) {
  const char* rule = "patchStrategicMerge:\n  metadata:\n    labels:\n      (app): web\n      tier: front";
  auto a = run(mutate_rule(rule), doc(kPod));
  EXPECT_EQ(a.results[0].status, RuleStatus::kPass);
  EXPECT_EQ(at(a.resource, {"metadata", "labels", "tier"}), bj::value("front"));
  EXPECT_FALSE(a.resource.at("metadata").at("labels").as_object().contains("(app)"));
  auto other = doc(kPod);
  other.as_object()["metadata"].as_object()["labels"].as_object()["app"] = "db";
  auto b = run(mutate_rule(rule), other);
  EXPECT_EQ(b.results[0].status, RuleStatus::kSkip);
  EXPECT_FALSE(b.resource.at("metadata").at("labels").as_object().contains("tier"));
}

TEST(Mutate, ConditionalAnchorInListSelectsElements) {
  auto a = run(mutate_rule("patchStrategicMerge:\n  spec:\n    containers:\n    - (image): '*:latest'\n"
                           "      imagePullPolicy: IfNotPresent"),
               doc(kPod));
  EXPECT_EQ(a.results[0].status, RuleStatus::kPass);
  for (const auto& c : at(a.resource, {"spec", "containers"}).as_array()) {
    bool latest = c.at("image").as_string().ends_with(":latest");
    EXPECT_EQ(c.as_object().contains("imagePullPolicy"), latest) << bj::serialize(c);
  }
}

TEST(Mutate, AddIfNotPresentAnchor) {
  const char* rule = "patchStrategicMerge:\n  metadata:\n    labels:\n      +(app): other\n      +(owner): ops";
  auto a = run(mutate_rule(rule), doc(kPod));
  EXPECT_EQ(at(a.resource, {"metadata", "labels", "app"}), bj::value("web"));
  EXPECT_EQ(at(a.resource, {"metadata", "labels", "owner"}), bj::value("ops"));
}

TEST(Mutate, GlobalAnchorSkipsWholePatch) {
  const char* rule =
      "patchStrategicMerge:\n  metadata:\n    annotations:\n      safe-to-evict: 'true'\n"
      "  spec:\n    volumes:\n    - <(hostPath): {path: '*'}";
  auto a = run(mutate_rule(rule), doc(kPod));
  EXPECT_EQ(a.results[0].status, RuleStatus::kSkip);
  auto with_host = doc(kPod);
  with_host.as_object()["spec"].as_object()["volumes"].as_array().push_back(doc("{name: h, hostPath: {path: /x}}"));
  auto b = run(mutate_rule(rule), with_host);
  EXPECT_EQ(b.results[0].status, RuleStatus::kPass);
  EXPECT_EQ(at(b.resource, {"metadata", "annotations", "safe-to-evict"}), bj::value("true"));
  EXPECT_EQ(at(b.resource, {"spec", "volumes"}).as_array().size(), 2u);
}

TEST(Mutate, EqualityAnchorInsideConditionValue) {
  const char* rule = "patchStrategicMerge:\n  (metadata):\n    labels:\n      =(app): web\n  spec:\n    hostNetwork: false";
  auto a = run(mutate_rule(rule), doc(kPod));
  EXPECT_EQ(a.results[0].status, RuleStatus::kPass);
  EXPECT_EQ(at(a.resource, {"spec", "hostNetwork"}), bj::value(false));
}

TEST(Mutate, PatchDirectivesDeleteAndReplace) {
  auto a = run(mutate_rule("patchStrategicMerge:\n  spec:\n    containers:\n    - name: sidecar\n      $patch: delete"),
               doc(kPod));
  ASSERT_EQ(at(a.resource, {"spec", "containers"}).as_array().size(), 1u);
  EXPECT_EQ(at(a.resource, {"spec", "containers", "0", "name"}), bj::value("app"));
  auto b = run(mutate_rule("patchStrategicMerge:\n  metadata:\n    labels:\n      $patch: replace\n      only: this"),
               doc(kPod));
  EXPECT_EQ(at(b.resource, {"metadata", "labels"}), doc("{only: this}"));
  auto c = run(mutate_rule("patchStrategicMerge:\n  metadata:\n    labels:\n      app: null"), doc(kPod));
  EXPECT_FALSE(c.resource.at("metadata").as_object().contains("labels") &&
               c.resource.at("metadata").at("labels").as_object().contains("app"));
}

TEST(Mutate, JsonPatchWithVariables) {
  auto a = run(mutate_rule("patchesJson6902: |-\n  - op: add\n    path: /metadata/annotations/owner\n"
                           "    value: '{{request.object.metadata.labels.app}}'\n"
                           "  - op: replace\n    path: /spec/containers/-1/image\n    value: envoy:1.30\n"
                           "  - op: remove\n    path: /spec/nothing/here"),
               doc(kPod));
  ASSERT_EQ(a.results.size(), 1u);
  EXPECT_EQ(a.results[0].status, RuleStatus::kPass) << a.results[0].message;
  EXPECT_EQ(at(a.resource, {"metadata", "annotations", "owner"}), bj::value("web"));
  EXPECT_EQ(at(a.resource, {"spec", "containers", "1", "image"}), bj::value("envoy:1.30"));
}

TEST(Mutate, JsonPatchFromAnExpressionWithoutCommasAsGoJmespath) {
  // go-jmespath reads the next key of a multi-select hash when the comma is missing.
  auto a = run(mutate_rule("patchesJson6902: |-\n  {{ [{op: 'add'\n    path: '/metadata/labels/x'\n"
                           "    value: 'y'}] | to_string(@) }}"),
               doc(kPod));
  ASSERT_EQ(a.results.size(), 1u);
  EXPECT_EQ(a.results[0].status, RuleStatus::kPass) << a.results[0].message;
  EXPECT_EQ(at(a.resource, {"metadata", "labels", "x"}), bj::value("y"));
}

TEST(Mutate, JsonPatchFailureIsAnError) {
  auto a = run(mutate_rule("patchesJson6902: |-\n  - op: replace\n    path: /spec/missing/field\n    value: x"), doc(kPod));
  ASSERT_EQ(a.results.size(), 1u);
  EXPECT_EQ(a.results[0].status, RuleStatus::kError);
  EXPECT_NE(a.results[0].message.find("failed to patch resource"), std::string::npos) << a.results[0].message;
}

TEST(Mutate, UnresolvedVariableIsAnError) {
  auto a = run(mutate_rule("patchStrategicMerge:\n  metadata:\n    labels:\n      x: '{{request.object.metadata.nope}}'"),
               doc(kPod));
  ASSERT_EQ(a.results.size(), 1u);
  EXPECT_EQ(a.results[0].status, RuleStatus::kError);
  EXPECT_NE(a.results[0].message.find("variable substitution failed"), std::string::npos) << a.results[0].message;
}

TEST(Mutate, ForEachWithElementAndIndex) {
  auto a = run(mutate_rule("foreach:\n- list: request.object.spec.containers\n  patchesJson6902: |-\n"
                           "    - op: add\n      path: /spec/containers/{{elementIndex}}/env\n"
                           "      value: [{name: CONTAINER, value: '{{element.name}}'}]"),
               doc(kPod));
  ASSERT_EQ(a.results.size(), 1u);
  EXPECT_EQ(a.results[0].status, RuleStatus::kPass) << a.results[0].message;
  EXPECT_EQ(at(a.resource, {"spec", "containers", "0", "env", "0", "value"}), bj::value("app"));
  EXPECT_EQ(at(a.resource, {"spec", "containers", "1", "env", "0", "value"}), bj::value("sidecar"));
}

TEST(Mutate, ForEachStrategicMergeWithPreconditionsAndContext) {
  auto a = run(mutate_rule("foreach:\n- list: request.object.spec.containers\n"
                           "  context:\n  - name: policy\n    variable: {value: Always}\n"
                           "  preconditions:\n    all:\n    - {key: '{{element.image}}', operator: Equals, value: '*:latest'}\n"
                           "  patchStrategicMerge:\n    spec:\n      containers:\n"
                           "      - name: '{{element.name}}'\n        imagePullPolicy: '{{policy}}'"),
               doc(kPod));
  EXPECT_EQ(a.results[0].status, RuleStatus::kPass) << a.results[0].message;
  for (const auto& c : at(a.resource, {"spec", "containers"}).as_array())
    EXPECT_EQ(c.as_object().contains("imagePullPolicy"), c.at("name") == "sidecar") << bj::serialize(c);
}

TEST(Mutate, NestedForEach) {
  auto a = run(mutate_rule("foreach:\n- list: request.object.spec.containers\n  foreach:\n"
                           "  - list: element.ports || `[]`\n    patchesJson6902: |-\n"
                           "      - op: add\n        path: /metadata/annotations/port-{{element0.name}}-{{elementIndex1}}\n"
                           "        value: '{{to_string(element1.containerPort)}}'"),
               doc(kPod));
  EXPECT_EQ(a.results[0].status, RuleStatus::kPass) << a.results[0].message;
  EXPECT_EQ(at(a.resource, {"metadata", "annotations", "port-app-0"}), bj::value("80"));
}

TEST(Mutate, ForEachOverNothingSkips) {
  auto a = run(mutate_rule("foreach:\n- list: request.object.spec.initContainers || `[]`\n  patchStrategicMerge:\n"
                           "    metadata: {labels: {x: y}}"),
               doc(kPod));
  ASSERT_EQ(a.results.size(), 1u);
  EXPECT_EQ(a.results[0].status, RuleStatus::kSkip);
  EXPECT_EQ(a.results[0].message, "0 elements processed");
}

TEST(Mutate, RulesApplyInOrderAndValidationSeesTheResult) {
  auto p = policy_with(
      "  - name: add\n    match: {any: [{resources: {kinds: [Pod]}}]}\n    mutate:\n"
      "      patchStrategicMerge: {metadata: {labels: {team: a}}}\n"
      "  - name: copy\n    match: {any: [{resources: {kinds: [Pod]}}]}\n    mutate:\n"
      "      patchStrategicMerge: {metadata: {annotations: {team: '{{request.object.metadata.labels.team}}'}}}\n"
      "  - name: check\n    match: {any: [{resources: {kinds: [Pod]}}]}\n    validate:\n"
      "      message: team label required\n      pattern: {metadata: {labels: {team: '?*'}}}\n");
  auto a = run(p, doc(kPod));
  ASSERT_EQ(a.results.size(), 3u);
  EXPECT_EQ(a.results[0].status, RuleStatus::kPass);
  EXPECT_EQ(a.results[1].status, RuleStatus::kPass);
  EXPECT_EQ(a.results[2].status, RuleStatus::kPass) << a.results[2].message;
  EXPECT_EQ(at(a.resource, {"metadata", "annotations", "team"}), bj::value("a"));
  // Each rule's patches apply to the resource the rules before it left.
  std::vector<bj::object> all = a.results[0].patches;
  all.insert(all.end(), a.results[1].patches.begin(), a.results[1].patches.end());
  auto patched = apply_json_patch(doc(kPod), all);
  ASSERT_TRUE(patched.ok()) << patched.error().message;
  EXPECT_EQ(*patched, a.resource);
}

TEST(Mutate, PoliciesMutateInOrderBeforeAnyValidates) {
  auto first = policy_with(
      "  - name: check\n    match: {any: [{resources: {kinds: [Pod]}}]}\n    validate:\n"
      "      message: owner required\n      pattern: {metadata: {labels: {owner: '?*'}}}\n");
  auto second = mutate_rule("patchStrategicMerge: {metadata: {labels: {owner: ops}}}");
  second.name = "q";
  Engine engine;
  auto evaluated = evaluate_all(engine, {first, second}, {doc(kPod)}, Values{}, UserInfo{});
  ASSERT_EQ(evaluated.size(), 2u);
  EXPECT_EQ(evaluated[0].result.type, "Mutation");
  EXPECT_EQ(evaluated[1].result.status, RuleStatus::kPass) << evaluated[1].result.message;
}

TEST(Mutate, TargetsAreNotEvaluatedOffline) {
  auto a = run(mutate_rule("targets:\n- {apiVersion: v1, kind: Secret, name: s, namespace: shop}\n"
                           "patchStrategicMerge: {metadata: {labels: {x: y}}}"),
               doc(kPod));
  ASSERT_EQ(a.results.size(), 1u);
  EXPECT_EQ(a.results[0].status, RuleStatus::kError);
  EXPECT_NE(a.results[0].message.find("mutate.targets"), std::string::npos);
}

TEST(Mutate, AutogenWrapsThePatchInThePodTemplate) {
  auto p = parse_policies(
      "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\nspec:\n  rules:\n  - name: m\n"
      "    match: {any: [{resources: {kinds: [Pod]}}]}\n    mutate:\n"
      "      patchStrategicMerge: {spec: {containers: [{(name): '*', imagePullPolicy: Always}]}}\n",
      "test");
  ASSERT_TRUE(p.ok()) << p.error().message;
  auto deploy = doc("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: shop}\nspec:\n  template:\n"
                    "    spec: {containers: [{name: c, image: 'x:1'}]}");
  auto a = run((*p)[0], deploy);
  ASSERT_FALSE(a.results.empty());
  EXPECT_EQ(a.results[0].rule, "autogen-m");
  EXPECT_EQ(a.results[0].status, RuleStatus::kPass) << a.results[0].message;
  EXPECT_EQ(at(a.resource, {"spec", "template", "spec", "containers", "0", "imagePullPolicy"}), bj::value("Always"));
}

TEST(Mutate, ParserRejectsMixedPatches) {
  auto p = parse_policies(
      "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\nspec:\n  rules:\n  - name: m\n"
      "    match: {any: [{resources: {kinds: [Pod]}}]}\n    mutate:\n"
      "      patchStrategicMerge: {metadata: {labels: {a: b}}}\n      patchesJson6902: '[]'\n",
      "test");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("only one of"), std::string::npos) << p.error().message;
  auto q = parse_policies(
      "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\nspec:\n  rules:\n  - name: m\n"
      "    match: {any: [{resources: {kinds: [Pod]}}]}\n    mutate:\n      patchStrategicMerge: {}\n      bogus: 1\n",
      "test");
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.error().message.find("bogus"), std::string::npos) << q.error().message;
}

TEST(Mutate, PatchedResourcesCompareAsKyvernoTest) {
  std::string diff;
  EXPECT_TRUE(same_patched_resource(doc("{a: 1, b: {}, c: [], d: null, e: [x]}"), doc("{a: 1.0, e: [x]}"), diff));
  EXPECT_FALSE(same_patched_resource(doc("{a: 1, e: [p, q]}"), doc("{a: 1, e: [q, p]}"), diff));
  EXPECT_EQ(diff, "/e/0: expected \"q\", found \"p\"");
  EXPECT_TRUE(same_patched_resource(doc("{metadata: {name: n, namespace: default}}"), doc("{metadata: {name: n}}"), diff));
}

}  // namespace
}  // namespace vouch::policy
