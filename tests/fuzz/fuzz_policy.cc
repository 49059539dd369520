// libFuzzer target: Kyverno policy parsing (every kind: ClusterPolicy/Policy with autogen,
// ValidatingPolicy, ImageValidatingPolicy, ValidatingAdmissionPolicy) and evaluation of what
// parses against a fixed Pod; PolicyExceptions, values files and kyverno-test.yaml, on
// arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "vouch/policy/document.h"
#include "vouch/policy/engine.h"
#include "vouch/policy/kyverno_test.h"
#include "vouch/policy/pattern.h"
#include "vouch/policy/policy.h"
#include "vouch/policy/values.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vouch;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  static const policy::Engine engine;
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
  (void)policy::parse_kyverno_tests(input, "fuzz");
  auto docs = policy::parse_documents(input, "fuzz");
  if (docs.ok()) {
    for (const auto& d : *docs) (void)policy::match_pattern(pod, d);
  }
  return 0;
}
