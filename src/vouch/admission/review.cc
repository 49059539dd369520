// AdmissionReview decoding and encoding, and Kyverno's deny and warning texts.
#include "vouch/admission/review.h"

#include <algorithm>

#include <fmt/format.h>

#include "vouch/admission/manifests.h"
#include "vouch/base/bytes.h"

namespace vouch::admission {
namespace {

namespace bj = boost::json;

ReviewError bad(std::string message) { return ReviewError{400, std::move(message)}; }

// A string member: absent or null is empty; another type is an error naming the path.
bool string_at(const bj::object& o, std::string_view key, std::string_view path, std::string& out, ReviewError& err) {
  const bj::value* v = o.if_contains(key);
  if (!v || v->is_null()) return true;
  if (!v->is_string()) {
    err = bad(fmt::format("{}.{}: expected a string", path, key));
    return false;
  }
  out = std::string(v->get_string());
  return true;
}

bool strings_at(const bj::object& o, std::string_view key, std::string_view path, std::vector<std::string>& out,
                ReviewError& err) {
  const bj::value* v = o.if_contains(key);
  if (!v || v->is_null()) return true;
  if (!v->is_array()) {
    err = bad(fmt::format("{}.{}: expected a list of strings", path, key));
    return false;
  }
  for (const auto& item : v->get_array()) {
    if (!item.is_string()) {
      err = bad(fmt::format("{}.{}: expected a list of strings", path, key));
      return false;
    }
    out.emplace_back(item.get_string());
  }
  return true;
}

// A group/version/<name> member: absent/null, or an object of strings (kind and requestKind name
// a kind, resource and requestResource a resource).
bool group_version_at(const bj::object& o, std::string_view key, std::string_view name, std::string& group,
                      std::string& version, std::string& value, ReviewError& err) {
  const bj::value* v = o.if_contains(key);
  if (!v || v->is_null()) return true;
  std::string path = fmt::format("request.{}", key);
  if (!v->is_object()) {
    err = bad(path + ": expected an object");
    return false;
  }
  const auto& k = v->get_object();
  return string_at(k, "group", path, group, err) && string_at(k, "version", path, version, err) &&
         string_at(k, name, path, value, err);
}

bool kind_at(const bj::object& o, std::string_view key, GroupVersionKind& out, ReviewError& err) {
  return group_version_at(o, key, "kind", out.group, out.version, out.kind, err);
}

bool resource_at_key(const bj::object& o, std::string_view key, GroupVersionResource& out, ReviewError& err) {
  return group_version_at(o, key, "resource", out.group, out.version, out.resource, err);
}

// A resource (object or oldObject): absent/null, or an object with a kind.
bool resource_at(const bj::object& o, std::string_view key, bj::value& out, ReviewError& err) {
  const bj::value* v = o.if_contains(key);
  if (!v || v->is_null()) return true;
  if (!v->is_object()) {
    err = bad(fmt::format("request.{}: expected an object", key));
    return false;
  }
  out = *v;
  return true;
}

bool plain_safe(std::string_view s) {
  if (s.empty()) return false;
  // Indicators that may not start a plain scalar, and surrounding spaces.
  static constexpr std::string_view kLeading = "-?:,[]{}#&*!|>'\"%@`";
  if (kLeading.find(s.front()) != std::string_view::npos) return false;
  if (s.front() == ' ' || s.back() == ' ' || s.back() == ':') return false;
  if (s.find(": ") != std::string_view::npos || s.find(" #") != std::string_view::npos) return false;
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return false;
  // Words a YAML 1.1 reader would take as another type.
  static const char* kReserved[] = {"true", "false", "yes", "no", "on", "off", "y", "n", "null", "~"};
  std::string lower;
  for (char c : s) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  for (const char* r : kReserved)
    if (lower == r) return false;
  // Numbers (and things that look like them) stay strings only when quoted.
  bool numeric = std::all_of(s.begin(), s.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E' ||
           c == '_';
  });
  return !numeric;
}

}  // namespace

std::variant<AdmissionReview, ReviewError> decode_review(std::string_view body, const ReviewLimits& limits) {
  if (body.size() > limits.max_bytes)
    return ReviewError{413, fmt::format("request body of {} bytes exceeds the limit of {} bytes", body.size(),
                                        limits.max_bytes)};
  bj::parse_options opts;
  opts.max_depth = limits.max_depth;
  boost::system::error_code ec;
  AdmissionReview review;
  review.document = bj::parse(body, ec, {}, opts);
  if (ec == bj::error::too_deep)
    return bad(fmt::format("request body nests deeper than {} levels", limits.max_depth));
  if (ec) return ReviewError{417, fmt::format("failed to decode request body: {}", ec.message())};
  if (!review.document.is_object()) return bad("the body is not an AdmissionReview: expected a JSON object");
  const bj::object& doc = review.document.get_object();
  const bj::value* api = doc.if_contains("apiVersion");
  const bj::value* kind = doc.if_contains("kind");
  if (!kind || !kind->is_string() || kind->get_string() != "AdmissionReview")
    return bad("kind: expected AdmissionReview");
  if (!api || !api->is_string() || api->get_string() != "admission.k8s.io/v1")
    return bad("apiVersion: expected admission.k8s.io/v1 (admissionReviewVersions: [v1])");
  const bj::value* req = doc.if_contains("request");
  if (!req || req->is_null()) return bad("request: missing: the AdmissionReview carries no request");
  if (!req->is_object()) return bad("request: expected an object");
  const bj::object& r = req->get_object();
  AdmissionRequest& out = review.request;
  ReviewError err;
  if (!string_at(r, "uid", "request", out.uid, err)) return err;
  if (out.uid.empty()) return bad("request.uid: missing");
  if (!kind_at(r, "kind", out.kind, err) || !resource_at_key(r, "resource", out.resource, err)) return err;
  // Not used to judge the request, but handed to policies as sent: checked like the rest.
  GroupVersionKind request_kind;
  GroupVersionResource request_resource;
  std::string request_sub_resource;
  if (!kind_at(r, "requestKind", request_kind, err) || !resource_at_key(r, "requestResource", request_resource, err) ||
      !string_at(r, "requestSubResource", "request", request_sub_resource, err))
    return err;
  if (!string_at(r, "subResource", "request", out.sub_resource, err) || !string_at(r, "name", "request", out.name, err) ||
      !string_at(r, "namespace", "request", out.ns, err) || !string_at(r, "operation", "request", out.operation, err))
    return err;
  static const char* kOperations[] = {"CREATE", "UPDATE", "DELETE", "CONNECT"};
  if (std::none_of(std::begin(kOperations), std::end(kOperations), [&](const char* o) { return out.operation == o; }))
    return bad(fmt::format("request.operation: expected CREATE, UPDATE, DELETE or CONNECT, got '{}'", out.operation));
  if (const bj::value* u = r.if_contains("userInfo"); u && !u->is_null()) {
    if (!u->is_object()) return bad("request.userInfo: expected an object");
    if (!string_at(u->get_object(), "username", "request.userInfo", out.user.username, err) ||
        !strings_at(u->get_object(), "groups", "request.userInfo", out.user.groups, err))
      return err;
  }
  if (!resource_at(r, "object", out.object, err) || !resource_at(r, "oldObject", out.old_object, err)) return err;
  if (const bj::value* d = r.if_contains("dryRun"); d && !d->is_null()) {
    if (!d->is_bool()) return bad("request.dryRun: expected a boolean");
    out.dry_run = d->get_bool();
  }
  if (out.operation == "DELETE") {
    if (out.old_object.is_null() && !out.object.is_null()) out.old_object = out.object;
  } else if (out.object.is_null()) {
    return bad(fmt::format("request.object: missing for a {} request", out.operation));
  }
  return review;
}

namespace {

std::string api_version_of(std::string_view group, std::string_view version) {
  return group.empty() ? std::string(version) : fmt::format("{}/{}", group, version);
}

// "deployments.apps", "pods": a resource as Kubernetes names a GroupResource.
std::string group_resource(const GroupVersionResource& r) {
  return r.group.empty() ? r.resource : fmt::format("{}.{}", r.resource, r.group);
}

}  // namespace

Result<MatchedKind> matched_kind(const AdmissionRequest& request) {
  const GroupVersionResource& res = request.resource;
  const std::optional<std::string> builtin =
      res.resource.empty() ? std::nullopt : builtin_kind_of(res.group, res.resource);
  if (!request.sub_resource.empty()) {
    if (res.resource.empty() || res.version.empty())
      return invalid_input(fmt::format("request.resource: the resource and version are needed to match the "
                                       "subresource '{}'",
                                       request.sub_resource));
    if (!builtin)
      return invalid_input(fmt::format(
          "cannot match {}/{}: {} is not a built-in Kubernetes resource and vouch has no API discovery to find its "
          "kind (rules name a subresource as Kind/{})",
          group_resource(res), request.sub_resource, group_resource(res), request.sub_resource));
    return MatchedKind{api_version_of(res.group, res.version), *builtin, request.sub_resource};
  }
  const bj::value& subject = request.object.is_null() ? request.old_object : request.object;
  if (subject.is_null() && builtin) return MatchedKind{api_version_of(res.group, res.version), *builtin, ""};
  policy::ResourceRef ref = policy::resource_ref(subject);
  if (builtin) {
    std::string expected = api_version_of(res.group, res.version);
    if (ref.kind != *builtin || (!res.version.empty() && ref.api_version != expected))
      return invalid_input(fmt::format("request.object is {} {} but request.resource {} ({}) holds {}",
                                       ref.api_version.empty() ? "(no apiVersion)" : ref.api_version,
                                       ref.kind.empty() ? "(no kind)" : ref.kind, group_resource(res),
                                       expected, *builtin));
  }
  return MatchedKind{ref.api_version, ref.kind, ""};
}

bj::object admitted_fields(const AdmissionReview& review) {
  bj::object out;
  const bj::value* req = review.document.is_object() ? review.document.get_object().if_contains("request") : nullptr;
  if (!req || !req->is_object()) return out;
  for (std::string_view key : {"kind", "resource", "subResource", "requestKind", "requestResource", "requestSubResource"})
    if (const bj::value* v = req->get_object().if_contains(key); v && !v->is_null()) out[key] = *v;
  return out;
}

namespace {

bj::object response_object(std::string_view uid, const AdmissionResponse& response) {
  bj::object out{{"uid", uid}, {"allowed", response.allowed}};
  if (!response.allowed) {
    bj::object status{{"status", "Failure"}, {"message", response.message}};
    if (!response.reason.empty()) status["reason"] = response.reason;
    if (response.code != 0) status["code"] = response.code;
    out["status"] = std::move(status);
  }
  if (!response.patch.empty()) {
    bj::array ops(response.patch.begin(), response.patch.end());
    out["patch"] = base64_encode(as_bytes(bj::serialize(ops)));
    out["patchType"] = "JSONPatch";
  }
  if (!response.warnings.empty()) {
    bj::array w;
    for (const auto& s : response.warnings) w.emplace_back(s);
    out["warnings"] = std::move(w);
  }
  if (!response.audit_annotations.empty()) {
    bj::object a;
    for (const auto& [k, v] : response.audit_annotations) a[k] = v;
    out["auditAnnotations"] = std::move(a);
  }
  return out;
}

}  // namespace

std::string encode_review_response(const AdmissionReview& review, const AdmissionResponse& response) {
  bj::object doc = review.document.get_object();
  doc["response"] = response_object(review.request.uid, response);
  return bj::serialize(doc);
}

std::string encode_bare_response(std::string_view uid, const AdmissionResponse& response) {
  bj::object doc{{"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"}};
  doc["response"] = response_object(uid, response);
  return bj::serialize(doc);
}

std::string yaml_scalar(std::string_view text, int indent) {
  if (text.find('\n') != std::string_view::npos) {
    std::string out = text.back() == '\n' ? "|" : "|-";
    std::string pad(static_cast<size_t>(indent), ' ');
    size_t start = 0;
    while (start < text.size()) {
      size_t nl = text.find('\n', start);
      std::string_view line = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
      out += "\n";
      if (!line.empty()) out += pad + std::string(line);
      if (nl == std::string_view::npos) break;
      start = nl + 1;
    }
    return out;
  }
  if (plain_safe(text)) return std::string(text);
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += "''";
    else out.push_back(c);
  }
  out += "'";
  return out;
}

std::string blocked_message(const policy::ResourceRef& resource, const std::vector<BlockedRule>& blocked) {
  std::map<std::string, std::map<std::string, std::string>> by_policy;
  for (const auto& b : blocked) by_policy[b.policy][b.rule] = b.message;
  std::string out = fmt::format("\n\nresource {}/{}/{} was blocked due to the following policies \n\n", resource.kind,
                                resource.ns, resource.name);
  for (const auto& [policy_name, rules] : by_policy) {
    out += yaml_scalar(policy_name, 0) + ":\n";
    for (const auto& [rule, message] : rules) out += "  " + yaml_scalar(rule, 2) + ": " + yaml_scalar(message, 4) + "\n";
  }
  return out;
}

std::string rule_warning(std::string_view policy, std::string_view rule, std::string_view message) {
  return fmt::format("policy {}.{}: {}", policy, rule, message);
}

}  // namespace vouch::admission
