// libFuzzer target: Kyverno policy parsing (every kind: ClusterPolicy/Policy with autogen,
// ValidatingPolicy, ImageValidatingPolicy, ValidatingAdmissionPolicy) and evaluation of what
// parses against a fixed Pod, with a stand-in cluster (objects, parameters, global context
// entries, image data) for the CEL libraries and context entries that read one; PolicyExceptions,
// values files, kyverno-test.yaml (its global context entries resolved), Context,
// ClusterResource and CustomResourceDefinition documents, on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "vouch/policy/cel_policy.h"
#include "vouch/policy/document.h"
#include "vouch/policy/engine.h"
#include "vouch/policy/kyverno_test.h"
#include "vouch/policy/pattern.h"
#include "vouch/policy/policy.h"
#include "vouch/policy/values.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vouch;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  static const auto cluster = [] {
    auto c = std::make_shared<policy::CelClusterData>();
    auto objects = *policy::parse_documents(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: limits, namespace: ns, labels: {tier: a}}\n"
        "data: {max: '3'}\n---\napiVersion: example.com/v1\nkind: Quota\nmetadata: {name: q}\nspec: {n: 1}\n",
        "cluster");
    c->resources = objects;
    c->params = objects;
    c->plurals["example.com/Quota"] = "quotas";
    c->global_context["entry"] = *policy::parse_document("{items: [{name: a}], n: 2}", "global");
    c->images["ghcr.io/org/a:1"] = *policy::parse_document("{image: 'ghcr.io/org/a:1', config: {}}", "image");
    c->http_responses["https://svc.example/check"] =
        *policy::parse_document("{body: {allowed: true, items: [1, 2]}, statusCode: 200}", "http");
    return std::shared_ptr<const policy::CelClusterData>(std::move(c));
  }();
  static const policy::Engine engine({.verifier = nullptr, .cel_cluster = cluster});
  static const boost::json::value pod = *policy::parse_document(
      "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ns, labels: {app: x}}\n"
      "spec: {containers: [{name: a, image: 'ghcr.io/org/a:1', securityContext: {privileged: false}}]}\n",
      "pod");
  auto exceptions = policy::parse_policy_exceptions(input, "fuzz");
  auto policies = policy::parse_policies(input, "fuzz");
  if (policies.ok()) {
    policy::Request req;
    req.object = pod;
    if (exceptions.ok()) req.exceptions = std::make_shared<const std::vector<policy::PolicyException>>(*exceptions);
    for (const auto& p : *policies) (void)engine.apply(p, req);
  }
  (void)policy::parse_values(input, "fuzz");
  (void)policy::parse_user_info(input, "fuzz");
  if (auto tests = policy::parse_kyverno_tests(input, "fuzz"); tests.ok()) {
    for (const auto& t : *tests)
      for (const auto& entry : t.global_context_entries) (void)policy::resolve_global_context_entry(entry, {});
  }
  auto docs = policy::parse_documents(input, "fuzz");
  if (docs.ok()) {
    // Each object also as a payload of every mode (JSON, and Envoy's and HTTP's authorization
    // requests), for the policies that judge payloads.
    if (policies.ok()) {
      std::vector<policy::JsonPayload> payloads;
      for (const auto& d : *docs)
        if (d.is_object())
          for (const char* mode : {"JSON", "Envoy", "HTTP"}) payloads.push_back({"payload", d, mode});
      (void)policy::evaluate_json_payloads(engine, *policies, payloads);
    }
    policy::CelClusterData scratch;
    for (const auto& d : *docs) {
      (void)policy::match_pattern(pod, d);
      (void)policy::parse_cel_context(d, "fuzz");
      (void)policy::parse_cluster_resource(d, "fuzz");
      (void)policy::add_custom_resource_definition(d, "fuzz", scratch);
    }
  }
  return 0;
}
