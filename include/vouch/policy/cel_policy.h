// Policies whose rules are CEL expressions: Kyverno's ValidatingPolicy (policies.kyverno.io
// v1alpha1, v1beta1, v1) and Kubernetes' ValidatingAdmissionPolicy with its binding
// (admissionregistration.k8s.io/v1). Expressions are compiled when the policy is read, so a
// policy that does not compile is refused, and evaluated per request under CEL's cost limit.
//
//   auto p = parse_cel_policy(doc);              // a Policy whose `cel` is set
//   auto results = engine.apply(*p, request);    // Engine dispatches to evaluate_cel_policy
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "vouch/base/result.h"
#include "vouch/policy/policy.h"

namespace vouch::policy {

struct RuleResult;
struct Request;
struct CelClusterData;

// One entry of matchConstraints.resourceRules (or excludeResourceRules).
struct CelResourceRule {
  std::vector<std::string> api_groups;
  std::vector<std::string> api_versions;
  std::vector<std::string> operations;
  std::vector<std::string> resources;       // plural resource names, "*" or "pods/status"
  std::vector<std::string> resource_names;
};

struct CelMatchConstraints {
  std::vector<CelResourceRule> resource_rules;
  std::vector<CelResourceRule> exclude_resource_rules;
  std::optional<LabelSelector> namespace_selector;
  std::optional<LabelSelector> object_selector;
};

struct CelNamedExpression {
  std::string name;
  std::string expression;
};

struct CelValidation {
  std::string expression;
  std::string message;
  std::string message_expression;
  std::string reason;  // the API server's status reason for a denial (empty: Invalid)
};

struct CelParamKind {
  std::string api_version;
  std::string kind;
};

// A binding's paramRef: one object by name, or every object a selector picks, in `ns` (empty: the
// request's namespace for a namespaced kind).
struct CelParamRef {
  std::string name;
  std::string ns;
  std::optional<LabelSelector> selector;
  bool deny_when_not_found = true;  // parameterNotFoundAction Deny (the default here) or Allow
};

struct CelBinding {
  std::string name;
  std::optional<CelMatchConstraints> match;     // matchResources, narrowing the policy's own
  std::vector<std::string> validation_actions;  // Deny, Audit, Warn
  std::optional<CelParamRef> param_ref;
};

struct CelPolicy {
  std::string api_version;
  std::string kind;  // ValidatingPolicy or ValidatingAdmissionPolicy
  std::string name;
  CelMatchConstraints match;
  std::vector<CelNamedExpression> match_conditions;
  std::vector<CelNamedExpression> variables;
  std::vector<CelValidation> validations;
  std::vector<CelNamedExpression> audit_annotations;  // key, valueExpression
  std::vector<std::string> validation_actions;        // Deny, Audit, Warn
  std::string failure_policy = "Fail";                // Fail or Ignore
  // spec.evaluation.mode JSON (Kyverno): the policy judges arbitrary JSON documents, not
  // admission requests. `object` is the document; oldObject, request, namespaceObject and
  // params are null; matchConstraints and auditAnnotations do not apply. Such a policy gives
  // no result at admission (a request from the API server).
  bool json_mode = false;
  // spec.evaluation.mode Envoy or HTTP (kyverno-authz): a payload mode like JSON, whose `object`
  // is an authorization request (Envoy's CheckRequest, or kyverno-authz's HTTP CheckRequest) and
  // whose validations answer with a response built by envoy.* / http.* or null; the first
  // response decides (allowed: pass, denied: fail; none: skip). "JSON" for JSON mode.
  std::string payload_mode;
  // A ValidatingPolicy written for Pods: its variants for the Pod controllers (Kyverno's
  // autogen, spec.autogen.podControllers), each judging what the policy itself does not match.
  std::vector<std::shared_ptr<const CelPolicy>> autogen;
  // ValidatingAdmissionPolicy: the kind of its parameter objects (`params`), when it takes any.
  std::optional<CelParamKind> param_kind;
  // Its ValidatingAdmissionPolicyBindings, each judged on its own as the API server judges them.
  // None: the policy is judged as written (validationActions Deny, no params).
  std::vector<CelBinding> bindings;

  struct Compiled;
  std::shared_ptr<const Compiled> compiled;  // set by parse_cel_policy / compile_cel_policy
};

// Whether `kind` (with its apiVersion) is one of the CEL policy kinds this module reads, and
// whether it is one Kyverno or Kubernetes defines that this module does not read (which must
// be refused, not ignored).
bool is_cel_policy_kind(std::string_view api_version, std::string_view kind);
bool is_unsupported_policy_kind(std::string_view api_version, std::string_view kind);

// Reads a ValidatingPolicy or ValidatingAdmissionPolicy document and compiles its expressions.
Result<Policy> parse_cel_policy(const boost::json::value& doc);
// Attaches a ValidatingAdmissionPolicyBinding to the policies it names; a binding whose
// policy is not among them is an error.
Status apply_binding(const boost::json::value& doc, std::vector<Policy>& policies);
// (Re)compiles the expressions after the policy was changed.
Status compile_cel_policy(CelPolicy& policy);

// The results of one CEL policy for one request: nothing when neither it nor one of its autogen
// variants matches, otherwise
// one result (pass, fail with the failed validations' messages joined by "; ", or error).
// A JSON-mode policy judges request.object as a JSON document.
// `cluster`: what the `resource` library reads (null: its calls are errors).
std::vector<RuleResult> evaluate_cel_policy(const CelPolicy& policy, const Request& request,
                                            const CelClusterData* cluster = nullptr);

// The cluster objects a ValidatingPolicy's `resource` library (Kyverno's resource.get(apiVersion,
// resource, namespace, name) and resource.list(apiVersion, resource, namespace)) reads offline:
// the `spec.resources` of a Kyverno CLI context file (cli.kyverno.io/v1alpha1 Context).
struct CelClusterData {
  std::vector<boost::json::value> resources;
  // The objects a ValidatingAdmissionPolicy binding's paramRef picks from (a kyverno-test.yaml's
  // paramResources, `--parameter-resource`). A namespaced object without a namespace is in
  // "default", as the API server would have put it.
  std::vector<boost::json::value> params;
  // The plural names CustomResourceDefinitions give their kinds ("group/Kind" -> plural), for
  // objects `resource` is asked for by plural; other kinds' plurals are Kubernetes' own.
  std::map<std::string, std::string> plurals;
  // Image data by image as written (a context file's spec.images), what image.GetMetadata()
  // returns in a ValidatingPolicy.
  std::map<std::string, boost::json::value> images;
  // GlobalContextEntries by name (a kyverno-test.yaml's globalContextEntries): what
  // globalContext.Get() and ClusterPolicies' globalReference context entries read.
  std::map<std::string, boost::json::value> global_context;
  // The `http` library's answers, and ClusterPolicies' apiCall context entries' (a
  // kyverno-test.yaml's apiCallResponses), by "METHOD:url" or, for an entry without a method,
  // by url (or API path): {"body": ..., "statusCode": ...} as Kyverno's CLI serves them. A call
  // without an answer is an error; nothing goes to the network.
  std::map<std::string, boost::json::value> http_responses;
};
// The objects of `api_version` whose plural resource name is `resource` (a CRD's plural, else
// Kubernetes' for the kind), in namespace `ns` (empty: every namespace), in the order held.
std::vector<const boost::json::value*> find_cluster_objects(const CelClusterData& data, std::string_view api_version,
                                                            std::string_view resource, std::string_view ns);

// Reads a Context document: spec.resources and spec.images.
Result<CelClusterData> parse_cel_context(const boost::json::value& doc, std::string_view source);

// A kyverno-test.yaml's clusterResources file: a cli.kyverno.io/v1alpha1 ClusterResource, whose
// spec.resources are objects in the cluster and spec.crds paths of CustomResourceDefinitions.
struct ClusterResourceFile {
  std::vector<boost::json::value> resources;
  std::vector<std::string> crds;  // as written, relative to the test file
};
Result<ClusterResourceFile> parse_cluster_resource(const boost::json::value& doc, std::string_view source);
// Records the plural a CustomResourceDefinition gives its kind in `data.plurals`.
Status add_custom_resource_definition(const boost::json::value& doc, std::string_view source, CelClusterData& data);

}  // namespace vouch::policy
