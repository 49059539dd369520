// policies.kyverno.io PolicyException, judged as Kyverno's CEL engines do: after the policy's
// match constraints took the request and before its own matchConditions, an exception that
// names the policy (kind and name) and whose matchConditions all hold replaces the policy's
// evaluation with one result.
#include "cel_exception.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "cel_internal.h"
#include "vouch/base/time.h"
#include "vouch/cel/cel.h"
#include "vouch/policy/cel_policy.h"
#include "vouch/policy/image_policy.h"

namespace vouch::policy {

struct PolicyException::CelConditions {
  std::vector<cel::Program> programs;
};

namespace cel_exception {

bool is_cel_exception_kind(std::string_view api_version, std::string_view kind) {
  return kind == "PolicyException" && (api_version == "policies.kyverno.io/v1alpha1" ||
                                       api_version == "policies.kyverno.io/v1beta1" || api_version == "policies.kyverno.io/v1");
}

Result<PolicyException> parse(const JsonField& root) {
  VOUCH_RETURN_IF_ERROR(root.only({"apiVersion", "kind", "metadata", "spec", "status"}));
  PolicyException e;
  e.cel = true;
  JsonField meta = root.at("metadata");
  VOUCH_RETURN_IF_ERROR(meta.object());
  VOUCH_ASSIGN_OR_RETURN(e.name, meta.at("name").str());
  if (e.name.empty()) return meta.at("name").err("required");
  VOUCH_ASSIGN_OR_RETURN(e.ns, meta.at("namespace").str());
  VOUCH_ASSIGN_OR_RETURN(auto labels, meta.at("labels").string_map());
  if (auto it = labels.find("polex.kyverno.io/priority"); it != labels.end()) {
    // Kyverno ignores a priority that is no integer; so does this.
    int value = 0;
    auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), value);
    if (ec == std::errc() && end == it->second.data() + it->second.size()) e.priority = value;
  }

  JsonField spec = root.at("spec");
  if (!spec.present()) return spec.err("required");
  VOUCH_RETURN_IF_ERROR(spec.object());
  VOUCH_RETURN_IF_ERROR(spec.only({"policyRefs", "matchConditions", "reportResult", "expiresAt", "properties",
                                   "evaluationMode", "images", "allowedValues"}));
  VOUCH_ASSIGN_OR_RETURN(auto refs, spec.at("policyRefs").list());
  if (refs.empty()) return spec.at("policyRefs").err("at least one entry is required");
  for (const auto& r : refs) {
    VOUCH_RETURN_IF_ERROR(r.object());
    VOUCH_RETURN_IF_ERROR(r.only({"name", "kind"}));
    PolicyException::PolicyRef ref;
    VOUCH_ASSIGN_OR_RETURN(ref.name, r.at("name").str(true));
    VOUCH_ASSIGN_OR_RETURN(ref.kind, r.at("kind").str(true));
    e.policy_refs.push_back(std::move(ref));
  }

  auto compiled = std::make_shared<PolicyException::CelConditions>();
  cel::Environment env(cel_internal::environment_options());
  VOUCH_ASSIGN_OR_RETURN(auto conditions, spec.at("matchConditions").list());
  for (const auto& c : conditions) {
    VOUCH_RETURN_IF_ERROR(c.object());
    VOUCH_RETURN_IF_ERROR(c.only({"name", "expression"}));
    VOUCH_ASSIGN_OR_RETURN(auto name, c.at("name").str(true));
    VOUCH_ASSIGN_OR_RETURN(auto expression, c.at("expression").str(true));
    auto program = env.compile(expression);
    if (!program.ok()) return c.at("expression").err(program.error().message);
    compiled->programs.push_back(std::move(program).value());
    e.match_conditions.emplace_back(std::move(name), std::move(expression));
  }
  e.compiled = std::move(compiled);

  VOUCH_ASSIGN_OR_RETURN(auto report, spec.at("reportResult").str());
  if (!report.empty()) {
    if (report != "skip" && report != "pass") return spec.at("reportResult").err("expected skip or pass");
    e.report_result = report;
  }
  VOUCH_ASSIGN_OR_RETURN(auto expires, spec.at("expiresAt").str());
  if (!expires.empty()) {
    auto t = parse_rfc3339(expires);
    if (!t.ok()) return spec.at("expiresAt").err(t.error().message);
    e.expires_at = *t;
  }
  VOUCH_ASSIGN_OR_RETURN(e.properties, spec.at("properties").string_map());
  // evaluationMode is descriptive: Kyverno's engines judge an exception the same either way.
  VOUCH_ASSIGN_OR_RETURN(auto mode, spec.at("evaluationMode").str());
  if (!mode.empty() && mode != "Kubernetes" && mode != "JSON")
    return spec.at("evaluationMode").err("expected Kubernetes or JSON");
  // images and allowedValues make a partial exemption read by the policy through the
  // `exceptions` CEL variable, which vouch's CEL environment does not have.
  VOUCH_ASSIGN_OR_RETURN(auto images, spec.at("images").strings());
  if (!images.empty()) return spec.at("images").err("partial exemptions (exceptions.allowedImages) are not supported");
  VOUCH_ASSIGN_OR_RETURN(auto allowed, spec.at("allowedValues").strings());
  if (!allowed.empty())
    return spec.at("allowedValues").err("partial exemptions (exceptions.allowedValues) are not supported");
  return e;
}

namespace {

// Whether the policy's match constraints (and its bindings') take the request: only then are
// exceptions judged, as Kyverno judges them inside the matched policy's evaluation.
bool constraints_take(const Policy& policy, const cel_internal::RequestFacts& f, const Request& request) {
  if (policy.cel) {
    // A variant for Pod controllers (autogen) takes the exceptions of the policy it came from.
    if (cel_internal::cel_policy_takes(*policy.cel, f, request)) return true;
    for (const auto& variant : policy.cel->autogen)
      if (cel_internal::cel_policy_takes(*variant, f, request)) return true;
    return false;
  }
  if (cel_internal::constraints_match(policy.image_policy->match, f, request)) return true;
  for (const auto& variant : policy.image_policy->autogen)
    if (cel_internal::constraints_match(variant->match, f, request)) return true;
  return false;
}

}  // namespace

std::optional<RuleResult> exception_result(const Policy& policy, const Request& request,
                                           const std::vector<const PolicyException*>& in_force) {
  if (!policy.cel && !policy.image_policy) return std::nullopt;
  const std::string& kind = policy.cel ? policy.cel->kind : std::string("ImageValidatingPolicy");
  const std::string& name = policy.cel ? policy.cel->name : policy.image_policy->name;
  std::vector<const PolicyException*> naming;
  UnixSeconds now = now_unix();
  for (const PolicyException* ex : in_force) {
    if (!ex->cel || (ex->expires_at && *ex->expires_at <= now)) continue;
    bool names = std::any_of(ex->policy_refs.begin(), ex->policy_refs.end(),
                             [&](const PolicyException::PolicyRef& r) { return r.kind == kind && r.name == name; });
    if (names) naming.push_back(ex);
  }
  if (naming.empty()) return std::nullopt;
  cel_internal::RequestFacts f = cel_internal::request_facts(request);
  if (!constraints_take(policy, f, request)) return std::nullopt;

  RuleResult result;
  result.policy = name;
  result.rule = "exception";
  result.type = "Validation";
  const auto& actions = policy.cel ? policy.cel->validation_actions : policy.image_policy->validation_actions;
  bool deny = actions.empty() || std::find(actions.begin(), actions.end(), "Deny") != actions.end();
  result.action = deny ? FailureAction::kEnforce : FailureAction::kAudit;

  cel::Activation vars;
  const std::string mode = policy.cel ? policy.cel->payload_mode : "";
  if (mode == "Envoy" || mode == "HTTP") {
    // An authorization request as the policy's own expressions see it (a payload the policy
    // cannot read is the policy's error, reported when it is judged).
    auto object = cel_internal::authz_request(mode, request.object);
    vars.bind("object", object.ok() ? std::move(*object) : cel::Value::error(object.error().message));
  } else if (policy.cel && policy.cel->json_mode) {
    cel_internal::bind_json_variables(request.object, vars);
  } else {
    cel_internal::bind_admission_variables(request, f, vars);
  }
  std::vector<const PolicyException*> matched;
  std::optional<std::string> failure;
  const std::string& failure_policy = policy.cel ? policy.cel->failure_policy : policy.image_policy->failure_policy;
  for (const PolicyException* ex : naming) {
    // As Kubernetes judges matchConditions: one false condition decides; otherwise an error
    // follows the policy's failurePolicy (Ignore: the exception does not match).
    bool any_false = false;
    std::optional<std::string> problem;
    for (size_t i = 0; i < ex->compiled->programs.size() && !any_false; ++i) {
      auto r = ex->compiled->programs[i].evaluate(vars);
      std::string what;
      if (!r.ok()) what = r.error().message;
      else if (r->value.is_error()) what = r->value.error_message();
      else if (!r->value.is(cel::Kind::kBool)) what = fmt::format("expected a bool, got {}", r->value.type_name());
      else any_false = !r->value.as_bool();
      if (!what.empty() && !problem)
        problem = fmt::format("PolicyException {}: matchConditions[{}] ({}): {}", ex->key(), i,
                              ex->match_conditions[i].first, what);
    }
    if (any_false) continue;
    if (problem && failure_policy == "Ignore") continue;
    if (problem) {
      // Kyverno stops at an exception that fails to evaluate unless one before it exempted.
      if (!matched.empty()) continue;
      failure = std::move(problem);
      break;
    }
    matched.push_back(ex);
  }
  if (matched.empty()) {
    if (!failure) return std::nullopt;
    result.rule = "evaluation";
    result.status = RuleStatus::kError;
    result.message = *failure;
    return result;
  }
  std::string keys;
  // The first exception decides unless one has a higher priority than 0 and those before it.
  const PolicyException* deciding = matched.front();
  int highest = 0;
  for (const PolicyException* ex : matched) {
    keys += (keys.empty() ? "" : ", ") + ex->key();
    if (ex->priority > highest) highest = ex->priority, deciding = ex;
  }
  // Kyverno's ImageValidatingPolicy engine always skips; its ValidatingPolicy engine follows
  // reportResult.
  bool pass = policy.cel && deciding->report_result == "pass";
  result.status = pass ? RuleStatus::kPass : RuleStatus::kSkip;
  // The deciding exception's properties (why, ticket, approver) go to the report with the result.
  result.properties = deciding->properties;
  result.message = fmt::format("rule is {} due to policy exception: {}", pass ? "passed" : "skipped", keys);
  return result;
}

}  // namespace cel_exception
}  // namespace vouch::policy
