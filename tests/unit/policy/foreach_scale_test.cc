// A foreach validate rule costs time linear in the number of elements: one Pod with many
// containers under a foreach rule checks in about the time of a plain pattern over them.
#include <chrono>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "vouch/policy/engine.h"

namespace vouch::policy {
namespace {

bj::value pod_with_containers(size_t count, size_t latest_at) {
  bj::array containers;
  for (size_t i = 0; i < count; ++i) {
    std::string tag = i == latest_at ? "latest" : fmt::format("1.{}", i);
    containers.push_back(bj::object{{"name", fmt::format("c{}", i)}, {"image", fmt::format("ghcr.io/acme/app{}:{}", i, tag)}});
  }
  return bj::object{{"apiVersion", "v1"},
                    {"kind", "Pod"},
                    {"metadata", bj::object{{"name", "big"}, {"namespace", "apps"}}},
                    {"spec", bj::object{{"containers", std::move(containers)}}}};
}

Policy foreach_policy() {
  auto p = parse_policies(R"yaml(
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: no-latest}
spec:
  validationFailureAction: Enforce
  rules:
  - name: no-latest
    match: {any: [{resources: {kinds: [Pod]}}]}
    context:
    - name: registry
      variable: {value: ghcr.io}
    validate:
      message: "image {{ element.image }} uses latest"
      foreach:
      - list: "request.object.spec.containers"
        context:
        - name: image
          variable: {jmesPath: "element.image"}
        deny:
          conditions:
            any:
            - key: "{{ image }}"
              operator: Equals
              value: "*:latest"
)yaml",
                          "test");
  EXPECT_TRUE(p.ok()) << p.error().message;
  return (*p)[0];
}

TEST(ForeachScale, EightThousandContainers) {
  constexpr size_t kContainers = 8000;
  Engine engine;
  Policy policy = foreach_policy();
  auto started = std::chrono::steady_clock::now();

  Request passing;
  passing.object = pod_with_containers(kContainers, kContainers);  // no container uses latest
  auto results = engine.apply(policy, passing);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, RuleStatus::kPass) << results[0].message;

  Request failing;
  failing.object = pod_with_containers(kContainers, kContainers - 1);  // the last one does
  results = engine.apply(policy, failing);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, RuleStatus::kFail);
  EXPECT_NE(results[0].message.find(fmt::format("ghcr.io/acme/app{}:latest", kContainers - 1)), std::string::npos)
      << results[0].message;

  // A guard only: linear evaluation takes well under a second; quadratic took minutes.
  auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_LT(std::chrono::duration_cast<std::chrono::seconds>(elapsed).count(), 30);
}

// The context an iteration sets does not leak into the next one nor out of the loop.
TEST(ForeachScale, IterationsStartFromTheLoopContext) {
  auto p = parse_policies(R"yaml(
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: scoped}
spec:
  validationFailureAction: Enforce
  rules:
  - name: scoped
    match: {any: [{resources: {kinds: [Pod]}}]}
    context:
    - name: acc
      variable: {value: none}
    validate:
      foreach:
      - list: "request.object.spec.containers"
        context:
        - name: acc
          variable: {jmesPath: "join(',', [acc, element.name])"}
        deny:
          conditions:
            any:
            - key: "{{ acc }}"
              operator: NotEquals
              value: "none,{{ element.name }}"
)yaml",
                          "test");
  ASSERT_TRUE(p.ok()) << p.error().message;
  Engine engine;
  Request r;
  r.object = pod_with_containers(3, 3);
  auto results = engine.apply((*p)[0], r);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, RuleStatus::kPass) << results[0].message;
}

}  // namespace
}  // namespace vouch::policy
