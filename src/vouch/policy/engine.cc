// The policy engine (Kyverno's pkg/engine): builds the context of a request and runs each
// matching rule through its handler (mutate, validate, verifyImages). The jobs live in their
// own files: engine_match.cc, engine_context.cc, engine_operators.cc, engine_conditions.cc,
// engine_mutate.cc, engine_validate.cc, engine_verify_images.cc, engine_images.cc.
#include "vouch/policy/engine.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "cel_exception.h"
#include "engine_internal.h"
#include "vouch/policy/cel_policy.h"
#include "vouch/policy/image_policy.h"
#include "kyverno_internal.h"

namespace vouch::policy {

using namespace engine_internal;

namespace {

const std::set<std::string, std::less<>> kClusterScoped = {
    "Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
    "StorageClass", "PriorityClass", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
    "ClusterPolicy", "APIService", "CSIDriver", "CSINode", "IngressClass", "RuntimeClass", "VolumeAttachment",
    "PodSecurityPolicy", "ClusterPolicyReport", "CertificateSigningRequest", "ComponentStatus",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "ClusterCleanupPolicy"};

FailureAction action_for(const Policy& p, const Rule& r, const std::string& ns, const Request& req) {
  FailureAction a = p.failure_action;
  const std::vector<FailureActionOverride>* overrides = &p.overrides;
  if (r.validate) {
    if (r.validate->failure_action) a = *r.validate->failure_action;
    if (!r.validate->overrides.empty()) overrides = &r.validate->overrides;
  } else if (!r.verify_images.empty() && r.verify_images[0].failure_action) {
    a = *r.verify_images[0].failure_action;
  }
  for (const auto& o : *overrides) {
    bool ns_match = !o.namespaces.empty() && wildcard_any(o.namespaces, ns);
    bool sel_match = false;
    if (o.namespace_selector) {
      auto it = req.namespace_labels.find(ns);
      if (it != req.namespace_labels.end()) sel_match = selector_matches(*o.namespace_selector, it->second);
    }
    if (o.namespaces.empty() && o.namespace_selector) ns_match = true;
    if (ns_match && (!o.namespace_selector || sel_match)) return o.action;
  }
  return a;
}

}  // namespace

std::string_view rule_status_name(RuleStatus s) {
  switch (s) {
    case RuleStatus::kPass: return "pass";
    case RuleStatus::kFail: return "fail";
    case RuleStatus::kWarn: return "warn";
    case RuleStatus::kError: return "error";
    case RuleStatus::kSkip: return "skip";
  }
  return "error";
}

namespace engine_internal {
bool cluster_scoped_kind(std::string_view kind) { return kClusterScoped.count(kind) > 0; }
}  // namespace engine_internal

ResourceRef resource_ref(const bj::value& resource) {
  ResourceRef r;
  r.api_version = str_at(resource, {"apiVersion"});
  r.kind = str_at(resource, {"kind"});
  r.name = str_at(resource, {"metadata", "name"});
  if (r.name.empty()) r.name = str_at(resource, {"metadata", "generateName"});
  r.ns = str_at(resource, {"metadata", "namespace"});
  if (kClusterScoped.count(r.kind)) r.ns.clear();
  else if (r.ns.empty()) r.ns = "default";
  return r;
}

Result<std::string> ImageVerifier::resolve_digest(const std::string& image, const ImageVerification&) {
  size_t at = image.rfind('@');
  if (at != std::string::npos) return image.substr(at + 1);
  return invalid_input(fmt::format("{}: this verifier does not resolve tags", image));
}

Engine::Engine(EngineOptions options) : options_(std::move(options)), functions_(jmespath::kyverno_functions()) {}

Result<std::shared_ptr<const jmespath::Expression>> Engine::compile(const std::string& expression) const {
  {
    std::lock_guard lock(cache_mu_);
    auto it = cache_.find(expression);
    if (it != cache_.end()) return it->second;
  }
  jmespath::Limits limits;
  limits.budget = options_.jmespath_budget;
  auto compiled = jmespath::Expression::compile(expression, functions_, limits);
  if (!compiled.ok()) return invalid_input(fmt::format("incorrect query {}: {}", expression, compiled.error().message));
  auto ptr = std::make_shared<const jmespath::Expression>(std::move(compiled).value());
  if (expression.size() > 4096) return ptr;  // long expressions are not kept
  std::lock_guard lock(cache_mu_);
  if (cache_.size() >= 2048) cache_.clear();
  cache_[expression] = ptr;
  return ptr;
}

namespace {

// validate.cel (Kyverno's validate_cel handler): the first expression that fails gives the
// rule's message; preconditions that do not hold skip the rule.
engine_internal::Outcome validate_cel(const Rule& rule, const Request& request) {
  engine_internal::Outcome o;
  for (const auto& check : rule.validate->cel) {
    auto results = evaluate_cel_policy(*check, request);
    if (results.empty()) {
      o.status = RuleStatus::kSkip;
      o.message = "cel preconditions not met";
      return o;
    }
    const RuleResult& r = results.front();
    if (r.status == RuleStatus::kError || r.status == RuleStatus::kFail) {
      o.status = r.status;
      o.message = r.message;
      return o;
    }
  }
  o.status = RuleStatus::kPass;
  o.message = fmt::format("Validation rule '{}' passed.", rule.name);
  return o;
}

}  // namespace

// Whether the object an UPDATE replaces failed `rule` too, judged as Kyverno does: the old
// object alone, as if it were being created.
bool Engine::previously_failed(const Policy& policy, const Rule& rule, const Request& request) const {
  Policy single;
  single.api_version = policy.api_version;
  single.kind = policy.kind;
  single.name = policy.name;
  single.ns = policy.ns;
  single.failure_action = policy.failure_action;
  single.overrides = policy.overrides;
  single.rules.push_back(rule);
  single.rules.back().validate->allow_existing_violations = false;
  Request before = request;
  before.object = request.old_object;
  before.old_object = nullptr;
  before.operation = "CREATE";
  before.values.erase("request.operation");
  for (const auto& r : apply(single, before))
    if (r.status == RuleStatus::kFail) return true;
  return false;
}

// The PolicyExceptions in force (the engine's and the request's) that name `rule` of `policy`
// and match the resource, by key.
std::vector<std::string> Engine::exception_keys(const Policy& policy, const std::string& policy_name, const Rule& rule,
                                                const MatchInput& in, EvalContext& ctx, const Request& request) const {
  std::vector<std::string> keys;
  std::vector<const PolicyException*> in_force;
  for (const auto& ex : options_.exceptions) in_force.push_back(&ex);
  if (request.exceptions)
    for (const auto& ex : *request.exceptions) in_force.push_back(&ex);
  for (const PolicyException* exp : in_force) {
    const PolicyException& ex = *exp;
    bool names_rule = false;
    for (const auto& e : ex.exceptions)
      names_rule = names_rule || ((e.policy == policy_name || e.policy == policy.name) &&
                                  std::find(e.rules.begin(), e.rules.end(), rule.name) != e.rules.end());
    if (!names_rule || !engine_internal::match_resources(ex.match, in)) continue;
    if (ex.conditions) {
      auto c = evaluate_conditions(ctx, *ex.conditions);
      if (!c.ok() || !c->value) continue;  // Kyverno skips an exception whose conditions fail to evaluate
    }
    keys.push_back(ex.key());
  }
  return keys;
}

std::optional<std::pair<RuleStatus, std::string>> Engine::rule_gate(const Policy& policy, const std::string& policy_name,
                                                                    const Rule& rule, const MatchInput& in,
                                                                    EvalContext& ctx, const Request& request) const {
  // PolicyExceptions are judged after the rule matched and before its context is loaded, as
  // Kyverno's handlers do; Kyverno's message has no space before the keys.
  if (auto keys = exception_keys(policy, policy_name, rule, in, ctx, request); !keys.empty())
    return std::pair{RuleStatus::kSkip, "rule is skipped due to policy exceptions" + join_non_empty(keys, ", ")};
  if (auto st = ctx.load_context(rule.context, request); !st.ok())
    return std::pair{RuleStatus::kError, "failed to load context: " + st.error().message};
  if (rule.preconditions) {
    auto p = evaluate_conditions(ctx, *rule.preconditions);
    if (!p.ok()) return std::pair{RuleStatus::kError, "failed to evaluate preconditions: " + p.error().message};
    if (!p->value) return std::pair{RuleStatus::kSkip, join_non_empty({"preconditions not met", p->message}, "; ")};
  }
  return std::nullopt;
}

bj::object engine_internal::request_variables(const Request& request, const std::string& operation, const ResourceRef& ref) {
  bj::object base;
  // A DELETE request carries the resource as oldObject only.
  bool is_delete = operation == "DELETE";
  bj::object req{{"operation", operation},
                 {"object", is_delete ? bj::value() : request.object},
                 {"oldObject", is_delete && request.old_object.is_null() ? request.object : request.old_object},
                 {"namespace", ref.ns},
                 {"name", ref.name},
                 {"kind", bj::object{{"kind", ref.kind}}},
                 {"userInfo", bj::object{{"username", request.user.username}}},
                 {"roles", bj::array(request.user.roles.begin(), request.user.roles.end())},
                 {"clusterRoles", bj::array(request.user.cluster_roles.begin(), request.user.cluster_roles.end())}};
  bj::array groups;
  for (const auto& g : request.user.groups) groups.push_back(bj::value(g));
  req["userInfo"].as_object()["groups"] = std::move(groups);
  for (const auto& field : request.admission) req[field.key()] = field.value();
  base["request"] = std::move(req);
  std::string sa_name, sa_ns;
  const std::string prefix = "system:serviceaccount:";
  if (request.user.username.starts_with(prefix)) {
    std::string rest = request.user.username.substr(prefix.size());
    size_t colon = rest.find(':');
    if (colon != std::string::npos) sa_ns = rest.substr(0, colon), sa_name = rest.substr(colon + 1);
  }
  base["serviceAccountName"] = sa_name;
  base["serviceAccountNamespace"] = sa_ns;
  base["images"] = images_variable(request.object);
  for (const auto& [k, v] : request.values) set_dotted(base, k, v);
  return base;
}

std::vector<RuleResult> Engine::apply(const Policy& policy, const Request& original, Stage stage) const {
  // Values that name fields of request.object (the CLI's values files) change the resource
  // itself, for matching as for validation.
  std::optional<Request> changed;
  for (const auto& [k, v] : original.values) {
    if (!k.starts_with("request.object.") || !original.object.is_object()) continue;
    if (!changed) changed = original;
    set_dotted(changed->object.get_object(), k.substr(15), v);
  }
  const Request& given = changed ? *changed : original;
  if (stage == Stage::kMutate && !has_mutate_rules(policy)) return {};
  if ((policy.cel || policy.image_policy) && (!options_.exceptions.empty() || (given.exceptions && !given.exceptions->empty()))) {
    // policies.kyverno.io PolicyExceptions replace a CEL policy's evaluation.
    std::vector<const PolicyException*> in_force;
    for (const auto& ex : options_.exceptions) in_force.push_back(&ex);
    if (given.exceptions)
      for (const auto& ex : *given.exceptions) in_force.push_back(&ex);
    if (auto r = cel_exception::exception_result(policy, given, in_force)) return {std::move(*r)};
  }
  if (policy.cel) return evaluate_cel_policy(*policy.cel, given, options_.cel_cluster.get());
  if (policy.image_policy)
    return evaluate_image_policy(*policy.image_policy, given, options_.image_policy_verifier.get(), options_.cel_cluster.get());
  std::vector<RuleResult> out;
  if (policy.webhook_match) {
    // The API server would not have sent the request; an error follows the failure policy.
    auto gate = evaluate_cel_policy(*policy.webhook_match, given);
    if (gate.empty()) return out;
    if (gate.front().status == RuleStatus::kError) {
      if (stage == Stage::kValidate && has_mutate_rules(policy)) return out;  // reported by the kMutate stage
      RuleResult r = std::move(gate.front());
      r.policy = policy.kind == "Policy" ? policy.ns + "/" + policy.name : policy.name;
      r.rule = "webhookConfiguration.matchConditions";
      r.action = policy.failure_action;
      out.push_back(std::move(r));
      return out;
    }
  }
  ResourceRef ref = resource_ref(given.object);
  if (policy.kind == "Policy" && ref.ns != policy.ns) return out;  // a Policy applies in its own namespace
  std::string operation = given.operation;
  if (auto it = given.values.find("request.operation"); it != given.values.end() && it->second.is_string())
    operation = std::string(it->second.get_string());
  std::string policy_name = policy.kind == "Policy" ? policy.ns + "/" + policy.name : policy.name;
  // Mutate rules first (engine_mutate.cc): the other rules see the resource they leave.
  std::optional<Request> mutated;
  if (stage != Stage::kValidate && has_mutate_rules(policy)) {
    mutated = given;
    mutate_rules(policy, policy_name, operation, *mutated, out);
    ref = resource_ref(mutated->object);
  }
  if (stage == Stage::kMutate) return out;
  const Request& request = mutated ? *mutated : given;
  MatchInput in{&request.object, ref, &request, operation};

  bj::object base = request_variables(request, operation, ref);

  for (const Rule& rule : policy.rules) {
    // Mutate rules ran above (mutate_rules); generate rules are not applied offline.
    if (!rule.validate && rule.verify_images.empty()) continue;
    if (!rule_matches(rule, in)) continue;
    RuleResult result;
    result.policy = policy_name;
    result.rule = rule.name;
    result.autogen = rule.autogen;
    result.origin_rule = rule.origin;
    result.type = rule.validate ? "Validation" : "ImageVerify";
    result.action = action_for(policy, rule, ref.ns, request);
    result.properties = rule.report_properties;
    if (auto it = policy.annotations.find("policies.kyverno.io/scored"); it != policy.annotations.end())
      result.scored = it->second != "false";
    EvalContext ctx{*this, bj::value(base), operation == "DELETE"};
    auto finish = [&](RuleStatus s, std::string msg) {
      result.status = s;
      result.message = std::move(msg);
      out.push_back(result);
    };
    if (auto ended = rule_gate(policy, policy_name, rule, in, ctx, request)) {
      finish(ended->first, std::move(ended->second));
      continue;
    }
    if (rule.validate) {
      const Validation& v = *rule.validate;
      if (v.unsupported) {
        finish(RuleStatus::kError, fmt::format("validate.{} is not supported", v.unsupported_kind));
        continue;
      }
      Outcome o;
      if (!v.cel.empty()) {
        o = validate_cel(rule, request);
      } else {
        Validator validator{ctx, rule, request, v.message};
        if (v.deny) o = validator.deny(*v.deny);
        else if (v.pattern || v.any_pattern) o = validator.patterns(request.object, v.pattern, v.any_pattern);
        else o = validator.foreach_list(v.foreach, 0);
      }
      if (o.none) continue;  // nothing to validate: no result, as Kyverno
      // allowExistingViolations (default true): an UPDATE under Enforce that fails is skipped
      // when the object before it failed the same rule (evaluated as its CREATE), so fixing
      // one field is never blocked by another that was already wrong.
      if (o.status == RuleStatus::kFail && operation == "UPDATE" && v.allow_existing_violations &&
          v.failure_action.value_or(policy.failure_action) == FailureAction::kEnforce && request.old_object.is_object() &&
          previously_failed(policy, rule, request)) {
        finish(RuleStatus::kSkip, "skipping the rule evaluation as pre-existing violations are allowed");
        continue;
      }
      finish(o.status, o.message);
      // applyRules: One stops after the first rule that applied (passed or failed).
      if (policy.apply_rules == "One" && (o.status == RuleStatus::kPass || o.status == RuleStatus::kFail)) break;
      continue;
    }
    auto verified = verify_images(*this, options_.verifier.get(), rule, request, ctx, result.patches, result.images);
    if (!verified) continue;
    finish(verified->status, verified->message);
  }
  return out;
}
}  // namespace vouch::policy
