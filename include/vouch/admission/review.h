// AdmissionReview (admission.k8s.io/v1) as the Kubernetes API server sends it to a webhook and
// reads the answer back: decoding with the limits the API server itself keeps, the response
// echoed in the review, and the deny and warning texts Kyverno's users already grep for.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json.hpp>

#include "vouch/base/result.h"
#include "vouch/policy/engine.h"

namespace vouch::admission {

struct ReviewLimits {
  size_t max_bytes = 3 << 20;  // the API server's own request limit (3 MiB)
  unsigned max_depth = 64;
};

struct GroupVersionKind {
  std::string group, version, kind;
};

struct GroupVersionResource {
  std::string group, version, resource;  // resource: the plural, "pods"
};

// The `request` of an AdmissionReview.
struct AdmissionRequest {
  std::string uid;
  GroupVersionKind kind;          // the object's: PodExecOptions for pods/exec
  GroupVersionResource resource;  // what was called: {"", "v1", "pods"} for pods/exec
  std::string sub_resource;       // "exec", "status", "scale", "ephemeralcontainers", …
  std::string name;
  std::string ns;
  std::string operation;  // CREATE, UPDATE, DELETE, CONNECT
  policy::UserInfo user;
  boost::json::value object;      // null for DELETE
  boost::json::value old_object;  // UPDATE and DELETE
  bool dry_run = false;
};

// A decoded review: the document as received (echoed in the answer) and its request.
struct AdmissionReview {
  boost::json::value document;
  AdmissionRequest request;
};

// Why a body is not a review, with the HTTP status Kyverno answers it with: 413 (too large),
// 417 (not JSON), 400 (JSON, but not an AdmissionReview v1 with a request, or nested too deep).
struct ReviewError {
  int status = 400;
  std::string message;
};

// Decodes a review; the error says what is wrong and where ("request.object: expected an object").
std::variant<AdmissionReview, ReviewError> decode_review(std::string_view body, const ReviewLimits& limits = {});

// What a request's rules are matched against, as Kyverno matches them: the kind of the resource
// request.resource names (Kyverno's "top-level GVK", which it asks API discovery for) and
// request.subResource. pods/exec is {v1 Pod, "exec"} (a rule's `Pod/exec`), deployments/scale
// {apps/v1 Deployment, "scale"}. vouch has no discovery: a subresource of a resource that is not a
// built-in Kubernetes one is an error, as Kyverno's failed look-up is. Without a subresource the
// kind is the object's, which must be the kind a built-in resource holds.
struct MatchedKind {
  std::string api_version;  // "v1", "apps/v1"
  std::string kind;
  std::string sub_resource;
};
Result<MatchedKind> matched_kind(const AdmissionRequest& request);

// The AdmissionRequest's fields that say what is admitted (kind, resource, subResource,
// requestKind, requestResource, requestSubResource), as sent, for policies' `request.…`.
boost::json::object admitted_fields(const AdmissionReview& review);

// What the webhook decided.
struct AdmissionResponse {
  bool allowed = true;
  std::string message;  // status.message when denied
  // status.reason and status.code when denied, when the decision carries them (a
  // ValidatingAdmissionPolicy's reason); empty and 0 otherwise, which the API server reads as 403.
  std::string reason;
  int code = 0;
  std::vector<std::string> warnings;
  std::vector<boost::json::object> patch;  // RFC 6902 operations; sent as base64 with patchType JSONPatch
  std::map<std::string, std::string> audit_annotations;
};

// The review echoed back with `response` set (uid copied from the request), serialized.
std::string encode_review_response(const AdmissionReview& review, const AdmissionResponse& response);
// A response for a body that could not be decoded as a review: no request to echo.
std::string encode_bare_response(std::string_view uid, const AdmissionResponse& response);

// One rule that blocked a resource.
struct BlockedRule {
  std::string policy, rule, message;
};
// Kyverno's deny message: "\n\nresource Pod/ns/name was blocked due to the following policies \n\n"
// followed by YAML of policy → rule → message (sorted by policy and rule).
std::string blocked_message(const policy::ResourceRef& resource, const std::vector<BlockedRule>& blocked);
// Kyverno's warning: "policy <policy>.<rule>: <message>".
std::string rule_warning(std::string_view policy, std::string_view rule, std::string_view message);

// A YAML scalar for `text` as a YAML emitter writes it: plain when that reads back as the same
// string, else single-quoted (a literal block when it spans lines).
std::string yaml_scalar(std::string_view text, int indent);

}  // namespace vouch::admission
