// The policy engine: applies Kyverno policies to Kubernetes resources as Kyverno's admission
// controller and CLI do (match/exclude, context, preconditions, validate, verifyImages), and
// reports one result per rule and resource.
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
#include <vector>

#include <boost/json.hpp>

#include "vouch/base/result.h"
#include "vouch/policy/jmespath.h"
#include "vouch/policy/policy.h"

namespace vouch::policy {

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
  // Variables supplied from outside (values files): dotted names, e.g. "request.operation".
  std::map<std::string, boost::json::value> values;
};

struct RuleResult {
  std::string policy;  // "name", or "namespace/name" for a Policy
  std::string rule;
  std::string type;    // Validation, ImageVerify
  RuleStatus status = RuleStatus::kPass;
  std::string message;
  FailureAction action = FailureAction::kAudit;  // the action that applies to this resource
  bool autogen = false;
  std::string origin_rule;  // for autogen rules: the rule written for Pods
  // JSON Patch operations (RFC 6902) the rule makes: verifyImages' mutateDigest pins a
  // verified tag to its digest ("image:tag@sha256:…").
  std::vector<boost::json::object> patches;
  // verifyImages: each image the rule selected, as pinned when it was ("image:tag@sha256:…"),
  // with its outcome (pass or fail): Kyverno's kyverno.io/verify-images annotation.
  std::vector<std::pair<std::string, RuleStatus>> images;
};

struct ResourceRef {
  std::string api_version, kind, name, ns;
};
// Kind, name and namespace of a resource; namespaced kinds without one live in "default".
ResourceRef resource_ref(const boost::json::value& resource);

struct EngineOptions {
  std::shared_ptr<ImageVerifier> verifier;  // may be null
  jmespath::Budget jmespath_budget{};        // for each evaluation of a policy's expression
};

class Engine {
 public:
  explicit Engine(EngineOptions options = {});
  // Results of the policy's rules that match the request (rules that do not match report
  // nothing, as Kyverno).
  std::vector<RuleResult> apply(const Policy& policy, const Request& request) const;

 private:
  friend struct EvalContext;
  Result<std::shared_ptr<const jmespath::Expression>> compile(const std::string& expression) const;

  EngineOptions options_;
  std::shared_ptr<const jmespath::FunctionRegistry> functions_;
  mutable std::mutex cache_mu_;
  mutable std::unordered_map<std::string, std::shared_ptr<const jmespath::Expression>> cache_;
};

}  // namespace vouch::policy
