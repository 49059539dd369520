// Kyverno CLI inputs beside policies and resources: values files (cli.kyverno.io/v1alpha1
// Values: global values, per-policy rule and resource values, namespace labels and Namespace
// objects) and
// admission user-info files, and the request each policy and resource is evaluated with.
//
//   auto values = parse_values(text, "values.yaml");
//   auto results = evaluate_all(engine, policies, resources, *values, user);
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "vouch/base/result.h"
#include "vouch/policy/engine.h"
#include "vouch/policy/policy.h"

namespace vouch::policy {

struct Values {
  std::map<std::string, boost::json::value> global;
  // policy -> rule -> values; policy -> resource name -> values
  std::map<std::string, std::map<std::string, std::map<std::string, boost::json::value>>> rules;
  std::map<std::string, std::map<std::string, std::map<std::string, boost::json::value>>> resources;
  std::map<std::string, std::map<std::string, std::string>> namespace_labels;  // namespace -> labels
  // namespaces: Namespace objects by name; their labels take precedence in namespace_labels.
  std::shared_ptr<const std::map<std::string, boost::json::value>> namespaces;
  // subresources: a resource of a subresource's kind (PodExecOptions) is evaluated as that
  // subresource (pods/exec) of its parent (Pod), as `kyverno test` does.
  struct Subresource {
    std::string api_version, kind;                // the subresource's, e.g. v1 PodExecOptions
    std::string parent_api_version, parent_kind;  // e.g. v1 Pod
    std::string name;                             // e.g. exec
  };
  std::vector<Subresource> subresources;
};

// A values file (YAML or JSON); `source` names it in errors.
Result<Values> parse_values(std::string_view text, std::string_view source);

// A user-info file: roles, clusterRoles, userInfo {username, groups}.
Result<UserInfo> parse_user_info(std::string_view text, std::string_view source);

// The request `policy` is applied to `resource` with: global values, then the resource's,
// then the policy's rules' values (later ones win). A values entry "request.operation" sets
// the operation unless `operation` is given, which then replaces it.
Request request_for(const Policy& policy, const boost::json::value& resource, const Values& values,
                    const UserInfo& user, const std::string& operation = "");

// One rule result of one resource.
struct Evaluated {
  ResourceRef resource;
  size_t resource_index = 0;  // into the resources evaluated
  RuleResult result;
  // From a policy kind without rules (the CEL kinds), whose results a test's `rule` does not
  // select, as Kyverno's CLI leaves it unchecked for them.
  bool ruleless = false;
};

// Applies every policy to every resource, with the values that apply to each pair.
std::vector<Evaluated> evaluate_all(const Engine& engine, const std::vector<Policy>& policies,
                                    const std::vector<boost::json::value>& resources, const Values& values,
                                    const UserInfo& user, const std::string& operation = "");

// A JSON document judged by JSON-mode ValidatingPolicies (Kyverno's jsonPayloads, `kyverno
// apply --json`), named as the results name it (its file name).
struct JsonPayload {
  std::string name;
  boost::json::value document;
  std::string mode = "JSON";  // the evaluation mode that judges it: JSON, Envoy or HTTP
};
// Applies every payload-mode ValidatingPolicy (JSON, Envoy, HTTP) to every payload of its mode;
// the other policies do not apply to payloads. A result's resource carries only the payload's
// name.
std::vector<Evaluated> evaluate_json_payloads(const Engine& engine, const std::vector<Policy>& policies,
                                              const std::vector<JsonPayload>& payloads);

}  // namespace vouch::policy
