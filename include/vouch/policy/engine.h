// The policy engine: applies Kyverno policies to Kubernetes resources as Kyverno's admission
// controller and CLI do (match/exclude, context, preconditions, mutate, validate,
// verifyImages), and reports one result per rule and resource.
//
//   Engine engine({.verifier = my_verifier});
//   Request req = Request::for_resource(pod);          // operation CREATE, namespace default
//   std::vector<RuleResult> results = engine.apply(policy, req);
//
// Images are verified only through an ImageVerifier; without one, verifyImages rules report
// `error`. Evaluation is const and thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "vouch/base/result.h"
#include "vouch/policy/jmespath.h"
#include "vouch/policy/policy.h"

namespace vouch::policy {

struct ImageVerificationLedger;  // vouch/policy/image_policy.h

enum class RuleStatus { kPass, kFail, kWarn, kError, kSkip };
std::string_view rule_status_name(RuleStatus s);  // "pass", "fail", "warn", "error", "skip"

// What an image verifier reports for one image against one attestor set (and, for an
// attestation, the statements' predicates that verified).
struct ImageVerificationOutcome {
  bool verified = false;
  std::string reason;  // why not, naming the attestor entry when known
  std::string digest;  // the digest the reference resolved to ("sha256:…")
  std::vector<boost::json::value> predicates;
};

class ImageVerifier {
 public:
  virtual ~ImageVerifier() = default;
  // Verifies `image` (as written in the resource) against `attestors` under the rule's
  // settings; with `attestation`, verifies attestations of that type and returns their
  // predicates. An error means verification could not be attempted (registry unreachable).
  virtual Result<ImageVerificationOutcome> verify(const std::string& image, const ImageVerification& rule,
                                                  const AttestorSet& attestors, const Attestation* attestation) = 0;
  // The digest ("sha256:…") `image` names now, for callers that cache outcomes by digest. A
  // reference that carries a digest names that one; resolving a tag is up to the verifier
  // (by default an error).
  virtual Result<std::string> resolve_digest(const std::string& image, const ImageVerification& rule);
};

struct UserInfo {
  std::string username;
  std::vector<std::string> groups;
  std::vector<std::string> roles;          // "namespace:name"
  std::vector<std::string> cluster_roles;
};

// One admission request (or one resource applied offline).
struct Request {
  boost::json::value object;      // the resource
  boost::json::value old_object;  // for UPDATE/DELETE
  std::string operation = "CREATE";
  UserInfo user;
  // Labels of namespaces, for namespaceSelector (by namespace name).
  std::map<std::string, std::map<std::string, std::string>> namespace_labels;
  // Whole Namespace objects by name (a values file's `namespaces`): CEL policies see the one of
  // the request's namespace as namespaceObject; others see a Namespace with name and labels.
  std::shared_ptr<const std::map<std::string, boost::json::value>> namespace_objects;
  // Variables supplied from outside (values files): dotted names, e.g. "request.operation".
  std::map<std::string, boost::json::value> values;
  // PolicyExceptions in force for this request (the admission server's, which reload with its
  // policies), besides EngineOptions::exceptions.
  std::shared_ptr<const std::vector<PolicyException>> exceptions;
  // A subresource request (pods/exec): the parent's kind, matched with the subresource.
  std::string parent_api_version, parent_kind, subresource;
  // From the API server: the AdmissionRequest's kind, resource, subResource, requestKind,
  // requestResource and requestSubResource as sent, which policies read as `request.kind`, …
  // (without them, `request.kind` is {"kind": <the object's kind>}).
  boost::json::object admission;
  // A payload rather than a resource: "JSON", "Envoy" or "HTTP", judged only by ValidatingPolicies
  // of that evaluation mode (empty: a Kubernetes resource; JSON-mode policies take it too).
  std::string payload_mode;
  // What ImageValidatingPolicies verified for this request, shared by all of them so that
  // `required` sees every policy's checks (vouch/policy/image_policy.h); null: each policy alone.
  std::shared_ptr<ImageVerificationLedger> image_verifications;
};

struct RuleResult {
  std::string policy;  // "name", or "namespace/name" for a Policy
  std::string rule;
  std::string type;    // Validation, ImageVerify, Mutation
  RuleStatus status = RuleStatus::kPass;
  std::string message;
  FailureAction action = FailureAction::kAudit;  // the action that applies to this resource
  bool autogen = false;
  std::string origin_rule;  // for autogen rules: the rule written for Pods
  // JSON Patch operations (RFC 6902) the rule makes, on the resource as the rules before it
  // left it: a mutate rule's change; verifyImages' mutateDigest pins a verified tag to its
  // digest ("image:tag@sha256:…").
  std::vector<boost::json::object> patches;
  // Mutate rules: the resource once all of the policy's mutate rules applied (Kyverno's
  // PatchedResource, which `kyverno test` compares with patchedResources).
  boost::json::value patched_resource;
  // verifyImages: each image the rule selected, as pinned when it was ("image:tag@sha256:…"),
  // with its outcome (pass or fail): Kyverno's kyverno.io/verify-images annotation.
  std::vector<std::pair<std::string, RuleStatus>> images;
  // rule.reportProperties: extra PolicyReport result properties.
  std::map<std::string, std::string> properties;
  // CEL policies: the validationActions (Deny, Warn, Audit) in force for this result, the
  // policy's own or, for a ValidatingAdmissionPolicy, those of the bindings that judged it.
  std::vector<std::string> validation_actions;
  // A ValidatingAdmissionPolicy's failed validations (and errors) one by one, each with the
  // binding that judged it, so that the admission answer can word each as the API server does.
  struct BindingFailure {
    std::string binding;  // empty: the policy judged without bindings
    std::vector<std::string> actions;
    std::string message;
    std::string reason;  // Unauthorized, Forbidden, Invalid or RequestEntityTooLarge (empty: Invalid)
  };
  std::vector<BindingFailure> binding_failures;
  // auditAnnotations of a CEL policy ("<policy>/<key>": value), for the AdmissionResponse.
  std::map<std::string, std::string> audit_annotations;
  // False when the policy is annotated policies.kyverno.io/scored: "false": its failures are
  // reported as warnings (PolicyReport `scored: false`).
  bool scored = true;
};

struct ResourceRef {
  std::string api_version, kind, name, ns;
};
// Kind, name and namespace of a resource; namespaced kinds without one live in "default".
ResourceRef resource_ref(const boost::json::value& resource);

class ImagePolicyVerifier;  // vouch/policy/image_policy.h
struct CelClusterData;       // vouch/policy/cel_policy.h
struct EvalContext;
namespace engine_internal {
struct MatchInput;
}

struct EngineOptions {
  std::shared_ptr<ImageVerifier> verifier;  // may be null
  // The registry behind ImageValidatingPolicy's image functions; may be null (a policy that
  // selects images then reports an error).
  std::shared_ptr<ImagePolicyVerifier> image_policy_verifier{};
  jmespath::Budget jmespath_budget{};        // for each evaluation of a policy's expression
  std::vector<PolicyException> exceptions{};  // PolicyExceptions in force
  // What ValidatingPolicies' `resource` library reads offline (a kyverno-test.yaml's context
  // file); null: `resource.*` calls are errors (there is no cluster to read).
  std::shared_ptr<const CelClusterData> cel_cluster{};
};

// Which of a policy's rules apply() runs. Kyverno mutates a resource with every policy before
// it validates it: a caller applying several policies runs kMutate over them in order, feeding
// each the resource the previous left (RuleResult::patched_resource), then kValidate.
enum class Stage { kAll, kMutate, kValidate };

class Engine {
 public:
  explicit Engine(EngineOptions options = {});
  // Results of the policy's rules that match the request (rules that do not match report
  // nothing, as Kyverno). Mutate rules run first, in order, each on the resource as the
  // rules before it left it; the other rules see the mutated resource.
  std::vector<RuleResult> apply(const Policy& policy, const Request& request, Stage stage = Stage::kAll) const;

 private:
  friend struct EvalContext;
  Result<std::shared_ptr<const jmespath::Expression>> compile(const std::string& expression) const;
  bool previously_failed(const Policy& policy, const Rule& rule, const Request& request) const;
  // The keys of the PolicyExceptions that exempt the resource from `rule`.
  std::vector<std::string> exception_keys(const Policy& policy, const std::string& policy_name, const Rule& rule,
                                          const engine_internal::MatchInput& in, EvalContext& ctx,
                                          const Request& request) const;
  // What every matching rule passes before its own handler, in Kyverno's order: policy
  // exceptions, the rule's context, its preconditions. Returns the result (skip or error) that
  // ends the rule there, or nothing when the handler runs.
  std::optional<std::pair<RuleStatus, std::string>> rule_gate(const Policy& policy, const std::string& policy_name,
                                                              const Rule& rule, const engine_internal::MatchInput& in,
                                                              EvalContext& ctx, const Request& request) const;
  // The mutate rules (engine_mutate.cc): results to `out`, the mutated resource to `request`.
  void mutate_rules(const Policy& policy, const std::string& policy_name, const std::string& operation,
                    Request& request, std::vector<RuleResult>& out) const;

  EngineOptions options_;
  std::shared_ptr<const jmespath::FunctionRegistry> functions_;
  mutable std::mutex cache_mu_;
  mutable std::unordered_map<std::string, std::shared_ptr<const jmespath::Expression>> cache_;
};

}  // namespace vouch::policy
