// What the CEL policy kinds share (ValidatingPolicy, ValidatingAdmissionPolicy,
// ImageValidatingPolicy): the request facts their match constraints are judged on, and the
// admission variables (object, oldObject, request, namespaceObject, params) their expressions
// see. Not part of the module's interface.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "json_field.h"
#include "vouch/cel/cel.h"
#include "vouch/policy/cel_policy.h"
#include "vouch/policy/engine.h"

namespace vouch::policy::cel_internal {

// What a request is, as admission sees it.
struct RequestFacts {
  // group and version are the resource's; resource is the plural, with "/subresource" for a
  // subresource request from the API server ("pods/exec").
  std::string group, version, kind, resource, name, ns, operation;
  std::map<std::string, std::string> labels;
};

// matchConstraints as Kubernetes' MatchResources (and a binding's matchResources): resourceRules,
// excludeResourceRules, namespaceSelector, objectSelector, matchPolicy; unknown fields refused.
Result<CelMatchConstraints> parse_match_constraints(const JsonField& f);
// A list of {name_key, expr_key} objects (matchConditions, variables, auditAnnotations).
Result<std::vector<CelNamedExpression>> parse_named_expressions(const JsonField& f, std::string_view name_key,
                                                                std::string_view expr_key);
// The Kyverno CEL kinds' spec.evaluation (mode, admission.enabled, background.enabled) and
// spec.webhookConfiguration (timeoutSeconds). `json_mode_allowed`: ValidatingPolicy's mode JSON.
struct CelPolicySettings {
  bool json_mode = false;     // a payload mode: JSON, Envoy or HTTP
  std::string payload_mode;   // which (empty: Kubernetes)
  bool admission = true;
  bool background = true;
  int timeout_seconds = 10;
};
Result<CelPolicySettings> parse_policy_settings(const JsonField& spec, bool json_mode_allowed);

// spec.validations (expression, message, messageExpression, reason); at least one is required.
Result<std::vector<CelValidation>> parse_validations(const JsonField& f);

RequestFacts request_facts(const Request& request);
// matchConstraints (resource rules, exclusions, object and namespace selectors).
bool constraints_match(const CelMatchConstraints& m, const RequestFacts& f, const Request& request);
// Whether a ValidatingPolicy/ValidatingAdmissionPolicy takes the request at all: its match
// constraints and its bindings' (JSON mode: any payload, never an API server's request).
bool cel_policy_takes(const CelPolicy& p, const RequestFacts& f, const Request& request);
// Binds object, oldObject, request, namespaceObject and params.
void bind_admission_variables(const Request& request, const RequestFacts& f, cel::Activation& vars);
// Binds object (the JSON payload) and null oldObject, request, namespaceObject and params: a
// JSON-mode ValidatingPolicy's variables.
void bind_json_variables(const boost::json::value& payload, cel::Activation& vars);
// What the `resource`, `http` and `image.GetMetadata` functions read during the evaluation under
// way on this thread (null: no cluster data).
const CelClusterData* current_cluster_data();
// Kyverno's hash (sha1, sha256, md5, also as hash.*), math.round(value, precision), user
// (parseServiceAccount), json.unmarshal, json.marshal and yaml.parse, for ValidatingPolicy.
void add_kyverno_libraries(cel::Environment& env);
// Every number as a double, as Go's json.Unmarshal into `any` (or a protobuf Struct) gives them.
void numbers_as_doubles(boost::json::value& v);
// A CEL value as JSON (maps with string keys; no bytes, types, timestamps or durations).
Result<boost::json::value> to_json(const cel::Value& v, int depth = 0);
// ValidatingPolicy's Envoy and HTTP modes (kyverno-authz; cel_authz.cc): the request and
// response message types and the envoy.* / http.* functions that build responses.
void add_authz_libraries(cel::Environment& env);
// The payload as the mode's request: Envoy's CheckRequest (protojson names) or kyverno-authz's
// HTTP CheckRequest; unknown fields are errors.
Result<cel::Value> authz_request(std::string_view mode, const boost::json::value& payload);
// What a validation's response decides: pass ("request allowed") or fail (denied, with the
// status code or reason); nullopt when the value is not the mode's response type.
struct AuthzDecision {
  RuleStatus status;
  std::string message;
};
std::optional<AuthzDecision> authz_decision(std::string_view mode, const cel::Value& response);
std::string authz_response_type(std::string_view mode);
// Kyverno's resource, http (Get/Post, answered from a test's mocks) and globalContext
// libraries: their functions, and the `resource`, `http` and `globalContext` variables.
void add_cluster_libraries(cel::Environment& env);
void bind_cluster_libraries(cel::Activation& vars);
// What those libraries read while this object lives, on this thread (null: nothing).
class ClusterScope {
 public:
  explicit ClusterScope(const CelClusterData* cluster);
  ~ClusterScope();
  ClusterScope(const ClusterScope&) = delete;
  ClusterScope& operator=(const ClusterScope&) = delete;

 private:
  const CelClusterData* previous_;
};
// The environment the CEL kinds compile in: Kubernetes' libraries.
cel::EnvironmentOptions environment_options();

}  // namespace vouch::policy::cel_internal
