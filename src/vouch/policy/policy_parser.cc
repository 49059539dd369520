// ClusterPolicy/Policy parsing into the typed model, with errors naming the offending field;
// the autogen rules (autogen.cc) are parsed like the written ones.
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "autogen.h"
#include "cel_exception.h"
#include "cel_internal.h"
#include "json_field.h"
#include "vouch/base/json.h"
#include "vouch/base/bytes.h"
#include "vouch/crypto/digest.h"
#include "vouch/policy/cel_policy.h"
#include "vouch/policy/document.h"
#include "vouch/policy/image_policy.h"
#include "vouch/policy/policy.h"

namespace vouch::policy {
namespace {

// Whether a field read without its value being needed was well formed.
template <class T>
Status valid(const Result<T>& r) {
  if (!r.ok()) return r.error();
  return ok_status();
}

Result<FailureAction> parse_action(const JsonField& f) {
  VOUCH_ASSIGN_OR_RETURN(std::string s, f.str());
  if (s == "Audit" || s == "audit") return FailureAction::kAudit;
  if (s == "Enforce" || s == "enforce") return FailureAction::kEnforce;
  return f.err(fmt::format("expected Audit or Enforce, got '{}'", s));
}

Result<std::optional<FailureAction>> parse_optional_action(const JsonField& f) {
  if (!f.present()) return std::optional<FailureAction>();
  VOUCH_ASSIGN_OR_RETURN(FailureAction a, parse_action(f));
  return std::optional<FailureAction>(a);
}

Result<ResourceDescription> parse_resource_description(const JsonField& f) {
  VOUCH_RETURN_IF_ERROR(f.object());
  VOUCH_RETURN_IF_ERROR(
      f.only({"kinds", "name", "names", "namespaces", "operations", "annotations", "selector", "namespaceSelector"}));
  ResourceDescription d;
  VOUCH_ASSIGN_OR_RETURN(d.kinds, f.at("kinds").strings());
  VOUCH_ASSIGN_OR_RETURN(d.names, f.at("names").strings());
  VOUCH_ASSIGN_OR_RETURN(std::string name, f.at("name").str());
  if (!name.empty()) d.names.push_back(name);
  VOUCH_ASSIGN_OR_RETURN(d.namespaces, f.at("namespaces").strings());
  VOUCH_ASSIGN_OR_RETURN(d.operations, f.at("operations").strings());
  for (size_t i = 0; i < d.operations.size(); ++i) {
    const auto& op = d.operations[i];
    if (op != "CREATE" && op != "UPDATE" && op != "DELETE" && op != "CONNECT")
      return JsonField{f.v, fmt::format("{}.operations[{}]", f.path, i)}.err(
          fmt::format("expected CREATE, UPDATE, DELETE or CONNECT, got '{}'", op));
  }
  VOUCH_ASSIGN_OR_RETURN(d.annotations, f.at("annotations").string_map());
  VOUCH_ASSIGN_OR_RETURN(d.selector, parse_label_selector(f.at("selector")));
  VOUCH_ASSIGN_OR_RETURN(d.namespace_selector, parse_label_selector(f.at("namespaceSelector")));
  return d;
}

Status parse_user_info(const JsonField& f, ResourceFilter& r) {
  VOUCH_ASSIGN_OR_RETURN(r.roles, f.at("roles").strings());
  VOUCH_ASSIGN_OR_RETURN(r.cluster_roles, f.at("clusterRoles").strings());
  VOUCH_ASSIGN_OR_RETURN(auto subjects, f.at("subjects").list());
  for (const auto& s : subjects) {
    VOUCH_RETURN_IF_ERROR(s.object());
    Subject sub;
    VOUCH_ASSIGN_OR_RETURN(sub.kind, s.at("kind").str());
    VOUCH_ASSIGN_OR_RETURN(sub.name, s.at("name").str());
    VOUCH_ASSIGN_OR_RETURN(sub.ns, s.at("namespace").str());
    if (sub.kind != "User" && sub.kind != "Group" && sub.kind != "ServiceAccount")
      return s.at("kind").err(fmt::format("expected User, Group or ServiceAccount, got '{}'", sub.kind));
    if (sub.name.empty()) return s.at("name").err("required");
    r.subjects.push_back(std::move(sub));
  }
  return ok_status();
}

Result<ResourceFilter> parse_filter(const JsonField& f) {
  VOUCH_RETURN_IF_ERROR(f.object());
  VOUCH_RETURN_IF_ERROR(f.only({"resources", "subjects", "roles", "clusterRoles"}));
  ResourceFilter r;
  VOUCH_ASSIGN_OR_RETURN(r.resources, parse_resource_description(f.at("resources")));
  VOUCH_RETURN_IF_ERROR(parse_user_info(f, r));
  return r;
}

Result<MatchResources> parse_match(const JsonField& f, bool required) {
  MatchResources m;
  if (!f.present()) {
    if (required) return f.err("required");
    return m;
  }
  VOUCH_RETURN_IF_ERROR(f.object());
  VOUCH_RETURN_IF_ERROR(f.only({"any", "all", "resources", "subjects", "roles", "clusterRoles"}));
  VOUCH_ASSIGN_OR_RETURN(auto any, f.at("any").list());
  VOUCH_ASSIGN_OR_RETURN(auto all, f.at("all").list());
  for (const auto& e : any) {
    VOUCH_ASSIGN_OR_RETURN(ResourceFilter r, parse_filter(e));
    m.any.push_back(std::move(r));
  }
  for (const auto& e : all) {
    VOUCH_ASSIGN_OR_RETURN(ResourceFilter r, parse_filter(e));
    m.all.push_back(std::move(r));
  }
  bool legacy = f.at("resources").present() || f.at("subjects").present() || f.at("roles").present() ||
                f.at("clusterRoles").present();
  if (legacy) {
    if (!any.empty() || !all.empty())
      return f.err("use either any/all or resources/subjects/roles/clusterRoles, not both");
    ResourceFilter r;
    VOUCH_ASSIGN_OR_RETURN(r.resources, parse_resource_description(f.at("resources")));
    VOUCH_RETURN_IF_ERROR(parse_user_info(f, r));
    m.all.push_back(std::move(r));
  }
  if (required) {
    if (m.empty()) return f.err("must name resources (any, all or resources)");
    for (size_t i = 0; i < m.any.size(); ++i) {
      if (m.any[i].resources.kinds.empty() && m.any[i].subjects.empty() && m.any[i].roles.empty() &&
          m.any[i].cluster_roles.empty())
        return f.at("any").err(fmt::format("entry {}: resources.kinds is required", i));
    }
  }
  return m;
}

const std::set<std::string, std::less<>> kOperators = {
    "Equals", "Equal", "NotEquals", "NotEqual", "In", "NotIn", "AnyIn", "AllIn", "AnyNotIn", "AllNotIn",
    "GreaterThanOrEquals", "GreaterThan", "LessThanOrEquals", "LessThan", "DurationGreaterThanOrEquals",
    "DurationGreaterThan", "DurationLessThanOrEquals", "DurationLessThan"};

Result<Condition> parse_condition(const JsonField& f) {
  VOUCH_RETURN_IF_ERROR(f.object());
  if (!f.v->is_object()) return f.err("expected an object");
  VOUCH_RETURN_IF_ERROR(f.only({"key", "operator", "value", "message"}));
  Condition c;
  c.key = *f.at("key").v;
  VOUCH_ASSIGN_OR_RETURN(c.op, f.at("operator").str());
  c.value = *f.at("value").v;
  VOUCH_ASSIGN_OR_RETURN(c.message, f.at("message").str());
  if (c.op.empty()) return f.at("operator").err("required");
  if (!kOperators.count(c.op)) return f.at("operator").err(fmt::format("unknown operator '{}'", c.op));
  return c;
}

Result<std::optional<Conditions>> parse_conditions(const JsonField& f) {
  if (!f.present()) return std::optional<Conditions>();
  Conditions c;
  if (f.v->is_array()) {
    VOUCH_ASSIGN_OR_RETURN(auto items, f.list());
    for (const auto& i : items) {
      VOUCH_ASSIGN_OR_RETURN(Condition cond, parse_condition(i));
      c.all.push_back(std::move(cond));
    }
    return std::optional<Conditions>(std::move(c));
  }
  if (!f.v->is_object()) return f.err("expected a list of conditions or an object with any/all");
  VOUCH_RETURN_IF_ERROR(f.only({"any", "all"}));
  if (f.at("any").present()) {
    VOUCH_ASSIGN_OR_RETURN(auto items, f.at("any").list());
    c.any.emplace();
    for (const auto& i : items) {
      VOUCH_ASSIGN_OR_RETURN(Condition cond, parse_condition(i));
      c.any->push_back(std::move(cond));
    }
  }
  VOUCH_ASSIGN_OR_RETURN(auto items, f.at("all").list());
  for (const auto& i : items) {
    VOUCH_ASSIGN_OR_RETURN(Condition cond, parse_condition(i));
    c.all.push_back(std::move(cond));
  }
  return std::optional<Conditions>(std::move(c));
}

Result<std::vector<ContextEntry>> parse_context(const JsonField& f) {
  std::vector<ContextEntry> out;
  VOUCH_ASSIGN_OR_RETURN(auto items, f.list());
  for (const auto& i : items) {
    VOUCH_RETURN_IF_ERROR(i.object());
    ContextEntry e;
    e.raw = *i.v;
    VOUCH_ASSIGN_OR_RETURN(e.name, i.at("name").str());
    if (e.name.empty()) return i.at("name").err("required");
    for (const char* k : {"variable", "configMap", "apiCall", "imageRegistry", "globalReference"}) {
      if (i.at(k).present()) {
        if (!e.kind.empty()) return i.err(fmt::format("only one of variable, configMap, apiCall, imageRegistry, globalReference"));
        e.kind = k;
      }
    }
    if (e.kind.empty()) return i.err("one of variable, configMap, apiCall, imageRegistry or globalReference is required");
    if (e.kind == "variable") {
      JsonField v = i.at("variable");
      VOUCH_RETURN_IF_ERROR(v.object());
      VOUCH_RETURN_IF_ERROR(v.only({"value", "jmesPath", "default"}));
      if (v.at("value").present()) e.value = *v.at("value").v;
      VOUCH_ASSIGN_OR_RETURN(e.jmes_path, v.at("jmesPath").str());
      if (v.at("default").present()) e.default_value = *v.at("default").v;
      if (!e.value && e.jmes_path.empty()) return v.err("value or jmesPath is required");
    }
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::optional<bj::array>> parse_any_pattern(const JsonField& f) {
  if (!f.present()) return std::optional<bj::array>();
  if (!f.v->is_array()) return f.err("expected a list of patterns");
  if (f.v->get_array().empty()) return f.err("must not be empty");
  return std::optional<bj::array>(f.v->get_array());
}

Result<ForEachValidation> parse_foreach(const JsonField& f, unsigned depth) {
  if (depth > 8) return f.err("foreach nested too deeply");
  VOUCH_RETURN_IF_ERROR(f.object());
  VOUCH_RETURN_IF_ERROR(
      f.only({"list", "context", "preconditions", "pattern", "anyPattern", "deny", "foreach", "elementScope"}));
  ForEachValidation fe;
  VOUCH_ASSIGN_OR_RETURN(fe.list, f.at("list").str());
  if (fe.list.empty()) return f.at("list").err("required");
  VOUCH_ASSIGN_OR_RETURN(fe.context, parse_context(f.at("context")));
  VOUCH_ASSIGN_OR_RETURN(fe.preconditions, parse_conditions(f.at("preconditions")));
  if (f.at("pattern").present()) fe.pattern = *f.at("pattern").v;
  VOUCH_ASSIGN_OR_RETURN(fe.any_pattern, parse_any_pattern(f.at("anyPattern")));
  if (f.at("deny").present()) {
    VOUCH_RETURN_IF_ERROR(f.at("deny").object());
    VOUCH_ASSIGN_OR_RETURN(auto c, parse_conditions(f.at("deny").at("conditions")));
    fe.deny = c.value_or(Conditions{});
  }
  VOUCH_ASSIGN_OR_RETURN(fe.element_scope, f.at("elementScope").boolean());
  VOUCH_ASSIGN_OR_RETURN(auto nested, f.at("foreach").list());
  for (const auto& n : nested) {
    VOUCH_ASSIGN_OR_RETURN(ForEachValidation c, parse_foreach(n, depth + 1));
    fe.foreach.push_back(std::move(c));
  }
  int kinds = (fe.pattern ? 1 : 0) + (fe.any_pattern ? 1 : 0) + (fe.deny ? 1 : 0) + (fe.foreach.empty() ? 0 : 1);
  if (kinds != 1) return f.err("exactly one of pattern, anyPattern, deny or foreach is required");
  return fe;
}

Result<ForEachMutation> parse_foreach_mutation(const JsonField& f, unsigned depth) {
  if (depth > 8) return f.err("foreach nested too deeply");
  VOUCH_RETURN_IF_ERROR(f.object());
  VOUCH_RETURN_IF_ERROR(f.only({"list", "order", "context", "preconditions", "patchStrategicMerge", "patchesJson6902",
                                "foreach"}));
  ForEachMutation fe;
  VOUCH_ASSIGN_OR_RETURN(fe.list, f.at("list").str());
  if (fe.list.empty()) return f.at("list").err("required");
  VOUCH_ASSIGN_OR_RETURN(std::string order, f.at("order").str());
  if (order == "Descending") fe.descending = true;
  else if (order == "Ascending") fe.descending = false;
  else if (!order.empty()) return f.at("order").err("expected Ascending or Descending");
  VOUCH_ASSIGN_OR_RETURN(fe.context, parse_context(f.at("context")));
  VOUCH_ASSIGN_OR_RETURN(fe.preconditions, parse_conditions(f.at("preconditions")));
  if (f.at("patchStrategicMerge").present()) {
    VOUCH_RETURN_IF_ERROR(f.at("patchStrategicMerge").object());
    fe.patch_strategic_merge = *f.at("patchStrategicMerge").v;
  }
  VOUCH_ASSIGN_OR_RETURN(fe.patches_json6902, f.at("patchesJson6902").str());
  VOUCH_ASSIGN_OR_RETURN(auto nested, f.at("foreach").list());
  for (const auto& n : nested) {
    VOUCH_ASSIGN_OR_RETURN(ForEachMutation c, parse_foreach_mutation(n, depth + 1));
    fe.foreach.push_back(std::move(c));
  }
  // Kyverno's policy validation (pkg/policy/mutate).
  if (!fe.foreach.empty()) {
    if (!fe.context.empty() || fe.preconditions || fe.patch_strategic_merge || !fe.patches_json6902.empty())
      return f.err("a nested foreach cannot contain other declarations");
  } else if (fe.patch_strategic_merge.has_value() == !fe.patches_json6902.empty()) {
    return f.err("only one of `patchStrategicMerge` or `patchesJson6902` is allowed");
  }
  return fe;
}

Result<Mutation> parse_mutation(const JsonField& f) {
  VOUCH_RETURN_IF_ERROR(f.object());
  VOUCH_RETURN_IF_ERROR(
      f.only({"patchStrategicMerge", "patchesJson6902", "foreach", "targets", "mutateExistingOnPolicyUpdate"}));
  VOUCH_RETURN_IF_ERROR(valid(f.at("mutateExistingOnPolicyUpdate").boolean()));
  Mutation m;
  if (f.at("patchStrategicMerge").present()) {
    VOUCH_RETURN_IF_ERROR(f.at("patchStrategicMerge").object());
    m.patch_strategic_merge = *f.at("patchStrategicMerge").v;
  }
  VOUCH_ASSIGN_OR_RETURN(m.patches_json6902, f.at("patchesJson6902").str());
  VOUCH_ASSIGN_OR_RETURN(auto items, f.at("foreach").list());
  for (const auto& i : items) {
    VOUCH_ASSIGN_OR_RETURN(ForEachMutation fe, parse_foreach_mutation(i, 0));
    m.foreach.push_back(std::move(fe));
  }
  if (f.at("targets").present()) {
    if (!f.at("targets").v->is_array()) return f.at("targets").err("expected a list");
    m.targets = f.at("targets").v->get_array();
  }
  if (!m.foreach.empty() && (m.patch_strategic_merge || !m.patches_json6902.empty()))
    return f.at("foreach").err("only one of `foreach`, `patchStrategicMerge`, or `patchesJson6902` is allowed");
  if (m.patch_strategic_merge && !m.patches_json6902.empty())
    return f.err("only one of `patchStrategicMerge` or `patchesJson6902` is allowed");
  if (m.foreach.empty() && !m.patch_strategic_merge && m.patches_json6902.empty())
    return f.err("one of patchStrategicMerge, patchesJson6902 or foreach is required");
  return m;
}

Result<std::vector<FailureActionOverride>> parse_overrides(const JsonField& f) {
  std::vector<FailureActionOverride> out;
  VOUCH_ASSIGN_OR_RETURN(auto items, f.list());
  for (const auto& i : items) {
    VOUCH_RETURN_IF_ERROR(i.object());
    FailureActionOverride o;
    VOUCH_ASSIGN_OR_RETURN(o.action, parse_action(i.at("action")));
    VOUCH_ASSIGN_OR_RETURN(o.namespaces, i.at("namespaces").strings());
    VOUCH_ASSIGN_OR_RETURN(o.namespace_selector, parse_label_selector(i.at("namespaceSelector")));
    out.push_back(std::move(o));
  }
  return out;
}

// A CelPolicy that matches every request: CEL pieces of a ClusterPolicy (validate.cel,
// webhookConfiguration.matchConditions) run after the policy's own matching.
CelPolicy match_all_cel(const std::string& name, const std::string& failure_policy) {
  CelPolicy p;
  p.api_version = "kyverno.io/v1";
  p.kind = "ClusterPolicy";
  p.name = name;
  p.failure_policy = failure_policy;
  p.match.resource_rules.push_back(CelResourceRule{{"*"}, {"*"}, {"*"}, {"*"}, {}});
  return p;
}


// Compiles a CelPolicy built from a ClusterPolicy's fields; an error names the field as
// written (`where` maps the CelPolicy's own paths back to them).
Status compile_cel_at(CelPolicy& p, const std::vector<std::pair<std::string, std::string>>& where) {
  auto st = compile_cel_policy(p);
  if (st.ok()) return st;
  std::string m = st.error().message;
  for (const auto& [from, to] : where)
    if (m.starts_with(from)) return invalid_input(to + m.substr(from.size()));
  return st;
}

// validate.cel (Kyverno's validate_cel handler): the rule's celPreconditions, then
// validate.cel.variables, then each expression in order.
Status parse_validate_cel(const JsonField& f, const JsonField& preconditions_field, const std::string& rule_name,
                          const std::string& rule_message, Validation& v) {
  VOUCH_RETURN_IF_ERROR(f.object());
  VOUCH_RETURN_IF_ERROR(f.only({"generate", "expressions", "paramKind", "paramRef", "auditAnnotations", "variables"}));
  VOUCH_RETURN_IF_ERROR(valid(f.at("generate").boolean()));
  if (f.at("paramKind").present() || f.at("paramRef").present()) {
    // Parameters are cluster objects found through the API server: a result of error, as
    // Kyverno reports a rule whose parameters it cannot collect.
    v.unsupported = true;
    v.unsupported_kind = "cel.paramKind";
    return ok_status();
  }
  VOUCH_ASSIGN_OR_RETURN(auto preconditions, cel_internal::parse_named_expressions(preconditions_field, "name", "expression"));
  VOUCH_ASSIGN_OR_RETURN(auto variables, cel_internal::parse_named_expressions(f.at("variables"), "name", "expression"));
  VOUCH_ASSIGN_OR_RETURN(auto audit, cel_internal::parse_named_expressions(f.at("auditAnnotations"), "key", "valueExpression"));
  VOUCH_ASSIGN_OR_RETURN(auto exprs, f.at("expressions").list());
  if (exprs.empty()) return f.at("expressions").err("at least one expression is required");
  for (size_t i = 0; i < exprs.size(); ++i) {
    const JsonField& e = exprs[i];
    VOUCH_RETURN_IF_ERROR(e.object());
    if (!e.v->is_object()) return e.err("expected an object");
    VOUCH_RETURN_IF_ERROR(e.only({"expression", "message", "messageExpression", "reason"}));
    CelValidation check;
    VOUCH_ASSIGN_OR_RETURN(check.expression, e.at("expression").str());
    if (check.expression.empty()) return e.at("expression").err("required");
    VOUCH_ASSIGN_OR_RETURN(check.message, e.at("message").str());
    if (check.message.empty()) check.message = rule_message;
    VOUCH_ASSIGN_OR_RETURN(check.message_expression, e.at("messageExpression").str());
    VOUCH_ASSIGN_OR_RETURN(std::string reason, e.at("reason").str());
    if (!reason.empty() && reason != "Unauthorized" && reason != "Forbidden" && reason != "Invalid" &&
        reason != "RequestEntityTooLarge")
      return e.at("reason").err(
          fmt::format("expected Unauthorized, Forbidden, Invalid or RequestEntityTooLarge, got '{}'", reason));
    // Compiled where it will live: programs may refer to the expressions' text.
    auto p = std::make_shared<CelPolicy>(match_all_cel(rule_name, "Fail"));
    p->match_conditions = preconditions;
    p->variables = variables;
    p->audit_annotations = audit;
    p->validations.push_back(std::move(check));
    VOUCH_RETURN_IF_ERROR(compile_cel_at(
        *p, {{"spec.matchConditions", preconditions_field.path},
             {"spec.variables", f.at("variables").path},
             {"spec.validations[0]", e.path}}));
    v.cel.push_back(std::move(p));
  }
  return ok_status();
}

Result<Validation> parse_validation(const JsonField& f, const JsonField& rule) {
  VOUCH_RETURN_IF_ERROR(f.object());
  VOUCH_RETURN_IF_ERROR(f.only({"failureAction", "failureActionOverrides", "allowExistingViolations", "message",
                                "manifests", "foreach", "pattern", "anyPattern", "deny", "podSecurity", "cel",
                                "assert"}));
  Validation v;
  VOUCH_ASSIGN_OR_RETURN(auto allow_existing, f.at("allowExistingViolations").boolean());
  v.allow_existing_violations = allow_existing.value_or(true);
  VOUCH_ASSIGN_OR_RETURN(v.message, f.at("message").str());
  VOUCH_ASSIGN_OR_RETURN(v.failure_action, parse_optional_action(f.at("failureAction")));
  VOUCH_ASSIGN_OR_RETURN(v.overrides, parse_overrides(f.at("failureActionOverrides")));
  if (f.at("pattern").present()) v.pattern = *f.at("pattern").v;
  VOUCH_ASSIGN_OR_RETURN(v.any_pattern, parse_any_pattern(f.at("anyPattern")));
  if (f.at("deny").present()) {
    VOUCH_RETURN_IF_ERROR(f.at("deny").object());
    VOUCH_RETURN_IF_ERROR(f.at("deny").only({"conditions"}));
    VOUCH_ASSIGN_OR_RETURN(auto c, parse_conditions(f.at("deny").at("conditions")));
    v.deny = c.value_or(Conditions{});
  }
  VOUCH_ASSIGN_OR_RETURN(auto fes, f.at("foreach").list());
  for (const auto& e : fes) {
    VOUCH_ASSIGN_OR_RETURN(ForEachValidation fe, parse_foreach(e, 0));
    v.foreach.push_back(std::move(fe));
  }
  if (f.at("cel").present()) {
    VOUCH_ASSIGN_OR_RETURN(std::string name, rule.at("name").str());
    VOUCH_RETURN_IF_ERROR(parse_validate_cel(f.at("cel"), rule.at("celPreconditions"), name, v.message, v));
  }
  for (const char* k : {"podSecurity", "manifests", "assert"}) {
    if (f.at(k).present()) {
      v.unsupported = true;
      v.unsupported_kind = k;
    }
  }
  int kinds = (v.pattern ? 1 : 0) + (v.any_pattern ? 1 : 0) + (v.deny ? 1 : 0) + (v.foreach.empty() ? 0 : 1) +
              (f.at("cel").present() ? 1 : 0) + (v.unsupported && v.unsupported_kind != "cel.paramKind" ? 1 : 0);
  if (kinds != 1) return f.err("exactly one of pattern, anyPattern, deny, foreach, podSecurity, cel or manifests is required");
  return v;
}

Result<std::optional<Rekor>> parse_rekor(const JsonField& f) {
  if (!f.present()) return std::optional<Rekor>();
  VOUCH_RETURN_IF_ERROR(f.object());
  VOUCH_RETURN_IF_ERROR(f.only({"url", "pubkey", "ignoreTlog"}));
  Rekor r;
  VOUCH_ASSIGN_OR_RETURN(std::string url, f.at("url").str());
  if (!url.empty()) r.url = url;
  VOUCH_ASSIGN_OR_RETURN(r.pubkey, f.at("pubkey").str());
  VOUCH_ASSIGN_OR_RETURN(auto ig, f.at("ignoreTlog").boolean());
  r.ignore_tlog = ig.value_or(false);
  return std::optional<Rekor>(std::move(r));
}

Result<std::optional<CTLog>> parse_ctlog(const JsonField& f) {
  if (!f.present()) return std::optional<CTLog>();
  VOUCH_RETURN_IF_ERROR(f.object());
  VOUCH_RETURN_IF_ERROR(f.only({"ignoreSCT", "pubkey", "tsaCertChain"}));
  CTLog c;
  VOUCH_ASSIGN_OR_RETURN(auto ig, f.at("ignoreSCT").boolean());
  c.ignore_sct = ig.value_or(false);
  VOUCH_ASSIGN_OR_RETURN(c.pubkey, f.at("pubkey").str());
  VOUCH_ASSIGN_OR_RETURN(c.tsa_cert_chain, f.at("tsaCertChain").str());
  return std::optional<CTLog>(std::move(c));
}

Result<std::vector<AttestorSet>> parse_attestor_sets(const JsonField& f);

std::string fingerprint_of(const bj::value& v) { return hex_encode(crypto::sha256(bj::serialize(v))); }

Result<Attestor> parse_attestor(const JsonField& f) {
  VOUCH_RETURN_IF_ERROR(f.object());
  VOUCH_RETURN_IF_ERROR(f.only({"keys", "keyless", "certificates", "attestor", "annotations", "repository",
                                "signatureAlgorithm"}));
  Attestor a;
  int n = 0;
  if (JsonField k = f.at("keys"); k.present()) {
    ++n;
    VOUCH_RETURN_IF_ERROR(k.object());
    VOUCH_RETURN_IF_ERROR(k.only({"publicKeys", "kms", "secret", "signatureAlgorithm", "rekor", "ctlog"}));
    KeyAttestor ka;
    VOUCH_ASSIGN_OR_RETURN(ka.public_keys, k.at("publicKeys").str());
    VOUCH_ASSIGN_OR_RETURN(ka.kms, k.at("kms").str());
    VOUCH_ASSIGN_OR_RETURN(ka.secret_name, k.at("secret").at("name").str());
    VOUCH_ASSIGN_OR_RETURN(ka.secret_namespace, k.at("secret").at("namespace").str());
    VOUCH_ASSIGN_OR_RETURN(std::string alg, k.at("signatureAlgorithm").str());
    if (!alg.empty()) {
      if (alg != "sha224" && alg != "sha256" && alg != "sha384" && alg != "sha512")
        return k.at("signatureAlgorithm").err(fmt::format("expected sha224, sha256, sha384 or sha512, got '{}'", alg));
      ka.signature_algorithm = alg;
    }
    VOUCH_ASSIGN_OR_RETURN(ka.rekor, parse_rekor(k.at("rekor")));
    VOUCH_ASSIGN_OR_RETURN(ka.ctlog, parse_ctlog(k.at("ctlog")));
    if (ka.public_keys.empty() && ka.kms.empty() && ka.secret_name.empty())
      return k.err("one of publicKeys, kms or secret is required");
    a.keys = std::move(ka);
  }
  if (JsonField k = f.at("keyless"); k.present()) {
    ++n;
    VOUCH_RETURN_IF_ERROR(k.object());
    VOUCH_RETURN_IF_ERROR(k.only({"issuer", "issuerRegExp", "subject", "subjectRegExp", "roots",
                                  "additionalExtensions", "rekor", "ctlog"}));
    KeylessAttestor kl;
    VOUCH_ASSIGN_OR_RETURN(kl.issuer, k.at("issuer").str());
    VOUCH_ASSIGN_OR_RETURN(kl.issuer_regexp, k.at("issuerRegExp").str());
    VOUCH_ASSIGN_OR_RETURN(kl.subject, k.at("subject").str());
    VOUCH_ASSIGN_OR_RETURN(kl.subject_regexp, k.at("subjectRegExp").str());
    VOUCH_ASSIGN_OR_RETURN(kl.roots, k.at("roots").str());
    VOUCH_ASSIGN_OR_RETURN(kl.additional_extensions, k.at("additionalExtensions").string_map());
    VOUCH_ASSIGN_OR_RETURN(kl.rekor, parse_rekor(k.at("rekor")));
    VOUCH_ASSIGN_OR_RETURN(kl.ctlog, parse_ctlog(k.at("ctlog")));
    if (kl.roots.empty() && kl.issuer.empty() && kl.issuer_regexp.empty())
      return k.err("issuer, issuerRegExp or roots is required");
    a.keyless = std::move(kl);
  }
  if (JsonField k = f.at("certificates"); k.present()) {
    ++n;
    VOUCH_RETURN_IF_ERROR(k.object());
    VOUCH_RETURN_IF_ERROR(k.only({"cert", "certChain", "rekor", "ctlog"}));
    CertificateAttestor c;
    VOUCH_ASSIGN_OR_RETURN(c.cert, k.at("cert").str());
    VOUCH_ASSIGN_OR_RETURN(c.cert_chain, k.at("certChain").str());
    VOUCH_ASSIGN_OR_RETURN(c.rekor, parse_rekor(k.at("rekor")));
    VOUCH_ASSIGN_OR_RETURN(c.ctlog, parse_ctlog(k.at("ctlog")));
    a.certificates = std::move(c);
  }
  if (JsonField k = f.at("attestor"); k.present()) {
    ++n;
    a.attestor = *k.v;
  }
  if (n != 1) return f.err("exactly one of keys, keyless, certificates or attestor is required");
  VOUCH_ASSIGN_OR_RETURN(a.annotations, f.at("annotations").string_map());
  VOUCH_ASSIGN_OR_RETURN(a.repository, f.at("repository").str());
  return a;
}

Result<std::vector<AttestorSet>> parse_attestor_sets(const JsonField& f) {
  std::vector<AttestorSet> out;
  VOUCH_ASSIGN_OR_RETURN(auto items, f.list());
  for (const auto& i : items) {
    VOUCH_RETURN_IF_ERROR(i.object());
    VOUCH_RETURN_IF_ERROR(i.only({"count", "entries"}));
    AttestorSet s;
    if (JsonField c = i.at("count"); c.present()) {
      if (!c.v->is_int64() && !c.v->is_uint64()) return c.err("expected an integer");
      int64_t n = c.v->to_number<int64_t>();
      if (n < 1) return c.err("must be at least 1");
      s.count = static_cast<int>(std::min<int64_t>(n, 1 << 20));
    }
    VOUCH_ASSIGN_OR_RETURN(auto entries, i.at("entries").list());
    if (entries.empty()) return i.at("entries").err("required");
    for (const auto& e : entries) {
      VOUCH_ASSIGN_OR_RETURN(Attestor a, parse_attestor(e));
      s.entries.push_back(std::move(a));
    }
    if (s.count && *s.count > static_cast<int>(s.entries.size()))
      return i.at("count").err(fmt::format("is {} but there are only {} entries", *s.count, s.entries.size()));
    s.fingerprint = fingerprint_of(*i.v);
    out.push_back(std::move(s));
  }
  return out;
}

Result<ImageVerification> parse_verify_image(const JsonField& f) {
  VOUCH_RETURN_IF_ERROR(f.object());
  VOUCH_RETURN_IF_ERROR(f.only({"type", "image", "imageReferences", "skipImageReferences", "attestors", "attestations",
                                "repository", "failureAction", "mutateDigest", "verifyDigest", "required", "useCache",
                                "cosignOCI11", "validate", "imageRegistryCredentials", "key", "roots", "subject",
                                "issuer", "additionalExtensions", "annotations"}));
  ImageVerification iv;
  {
    // What the verifier is asked depends on these settings and the attestor sets (each with its
    // own fingerprint), not on which images are selected or what is done with the outcome:
    // conditions over attestations are evaluated after verification, on every cache hit too.
    bj::object asked = f.v->get_object();
    for (const char* k : {"attestations", "validate", "imageReferences", "image", "skipImageReferences",
                          "failureAction", "mutateDigest", "verifyDigest", "required", "useCache"})
      asked.erase(k);
    iv.fingerprint = fingerprint_of(asked);
  }
  VOUCH_ASSIGN_OR_RETURN(std::string type, f.at("type").str());
  if (!type.empty()) {
    if (type != "Cosign" && type != "SigstoreBundle" && type != "Notary")
      return f.at("type").err(fmt::format("expected Cosign, SigstoreBundle or Notary, got '{}'", type));
    iv.type = type;
  }
  VOUCH_ASSIGN_OR_RETURN(iv.image_references, f.at("imageReferences").strings());
  VOUCH_ASSIGN_OR_RETURN(std::string image, f.at("image").str());
  if (!image.empty()) iv.image_references.push_back(image);
  if (iv.image_references.empty()) return f.at("imageReferences").err("required");
  for (size_t i = 0; i < iv.image_references.size(); ++i) {
    if (iv.image_references[i].find("{{") != std::string::npos)
      return JsonField{f.v, fmt::format("{}.imageReferences[{}]", f.path, i)}.err("variables are not allowed");
  }
  VOUCH_ASSIGN_OR_RETURN(iv.skip_image_references, f.at("skipImageReferences").strings());
  VOUCH_ASSIGN_OR_RETURN(iv.attestors, parse_attestor_sets(f.at("attestors")));
  // The deprecated top-level key/keyless fields become one attestor set.
  {
    VOUCH_ASSIGN_OR_RETURN(std::string key, f.at("key").str());
    VOUCH_ASSIGN_OR_RETURN(std::string subject, f.at("subject").str());
    VOUCH_ASSIGN_OR_RETURN(std::string issuer, f.at("issuer").str());
    VOUCH_ASSIGN_OR_RETURN(std::string roots, f.at("roots").str());
    if (!key.empty() || !subject.empty() || !issuer.empty() || !roots.empty()) {
      Attestor a;
      if (!key.empty()) {
        a.keys = KeyAttestor{};
        a.keys->public_keys = key;
      } else {
        a.keyless = KeylessAttestor{};
        a.keyless->subject = subject;
        a.keyless->issuer = issuer;
        a.keyless->roots = roots;
        VOUCH_ASSIGN_OR_RETURN(a.keyless->additional_extensions, f.at("additionalExtensions").string_map());
      }
      VOUCH_ASSIGN_OR_RETURN(a.annotations, f.at("annotations").string_map());
      iv.attestors.push_back(AttestorSet{std::nullopt, {std::move(a)}, fingerprint_of(bj::value("top-level key"))});
    }
  }
  VOUCH_ASSIGN_OR_RETURN(auto atts, f.at("attestations").list());
  for (const auto& a : atts) {
    VOUCH_RETURN_IF_ERROR(a.object());
    VOUCH_RETURN_IF_ERROR(a.only({"name", "type", "predicateType", "attestors", "conditions"}));
    Attestation at;
    VOUCH_ASSIGN_OR_RETURN(at.name, a.at("name").str());
    VOUCH_ASSIGN_OR_RETURN(at.type, a.at("type").str());
    if (at.type.empty()) {
      VOUCH_ASSIGN_OR_RETURN(at.type, a.at("predicateType").str());
    }
    if (at.type.empty()) return a.at("type").err("required");
    VOUCH_ASSIGN_OR_RETURN(at.attestors, parse_attestor_sets(a.at("attestors")));
    VOUCH_ASSIGN_OR_RETURN(auto conds, a.at("conditions").list());
    for (const auto& c : conds) {
      if (!c.v->is_object()) return c.err("expected an object with any/all");
      VOUCH_ASSIGN_OR_RETURN(auto parsed, parse_conditions(c));
      at.conditions.push_back(parsed.value_or(Conditions{}));
    }
    iv.attestations.push_back(std::move(at));
  }
  VOUCH_ASSIGN_OR_RETURN(iv.repository, f.at("repository").str());
  VOUCH_ASSIGN_OR_RETURN(iv.failure_action, parse_optional_action(f.at("failureAction")));
  VOUCH_ASSIGN_OR_RETURN(auto md, f.at("mutateDigest").boolean());
  VOUCH_ASSIGN_OR_RETURN(auto vd, f.at("verifyDigest").boolean());
  VOUCH_ASSIGN_OR_RETURN(auto rq, f.at("required").boolean());
  VOUCH_ASSIGN_OR_RETURN(auto uc, f.at("useCache").boolean());
  VOUCH_ASSIGN_OR_RETURN(auto oci, f.at("cosignOCI11").boolean());
  iv.mutate_digest = md.value_or(true);
  iv.verify_digest = vd.value_or(true);
  iv.required = rq.value_or(true);
  iv.use_cache = uc.value_or(true);
  iv.cosign_oci11 = oci.value_or(false);
  if (JsonField v = f.at("validate"); v.present()) {
    VOUCH_RETURN_IF_ERROR(v.object());
    VOUCH_RETURN_IF_ERROR(v.only({"message", "deny"}));
    VOUCH_RETURN_IF_ERROR(v.at("deny").object());
    VOUCH_RETURN_IF_ERROR(v.at("deny").only({"conditions"}));
    VOUCH_ASSIGN_OR_RETURN(iv.validate_message, v.at("message").str());
    VOUCH_ASSIGN_OR_RETURN(iv.validate_deny, parse_conditions(v.at("deny").at("conditions")));
  }
  if (JsonField c = f.at("imageRegistryCredentials"); c.present()) {
    VOUCH_RETURN_IF_ERROR(c.object());
    VOUCH_RETURN_IF_ERROR(c.only({"allowInsecureRegistry", "providers", "secrets"}));
    VOUCH_RETURN_IF_ERROR(valid(c.at("allowInsecureRegistry").boolean()));
    VOUCH_ASSIGN_OR_RETURN(auto providers, c.at("providers").strings());
    for (size_t i = 0; i < providers.size(); ++i) {
      const auto& p = providers[i];
      if (p != "default" && p != "amazon" && p != "azure" && p != "google" && p != "github")
        return c.at("providers").err(
            fmt::format("[{}]: expected default, amazon, azure, google or github, got '{}'", i, p));
    }
    VOUCH_RETURN_IF_ERROR(valid(c.at("secrets").strings()));
  }
  return iv;
}

Result<std::map<std::string, std::vector<ImageExtractor>>> parse_image_extractors(const JsonField& f) {
  std::map<std::string, std::vector<ImageExtractor>> out;
  if (!f.present()) return out;
  VOUCH_RETURN_IF_ERROR(f.object());
  for (const auto& kv : f.v->get_object()) {
    JsonField kind = f.at(kv.key());
    VOUCH_ASSIGN_OR_RETURN(auto items, kind.list());
    auto& list = out[std::string(kv.key())];
    for (const auto& i : items) {
      VOUCH_RETURN_IF_ERROR(i.object());
      if (!i.v->is_object()) return i.err("expected an object");
      VOUCH_RETURN_IF_ERROR(i.only({"path", "value", "name", "key", "jmesPath"}));
      ImageExtractor e;
      VOUCH_ASSIGN_OR_RETURN(std::string path, i.at("path").str());
      for (size_t start = 0; start <= path.size();) {
        size_t slash = path.find('/', start);
        if (slash == std::string::npos) slash = path.size();
        std::string part = path.substr(start, slash - start);
        while (!part.empty() && part.front() == ' ') part.erase(part.begin());
        while (!part.empty() && part.back() == ' ') part.pop_back();
        if (!part.empty()) e.fields.push_back(std::move(part));
        start = slash + 1;
      }
      if (e.fields.empty()) return i.at("path").err("required");
      VOUCH_ASSIGN_OR_RETURN(e.value, i.at("value").str());
      if (e.value.empty()) {
        // Without `value`, the path's last segment names the image field.
        e.value = e.fields.back();
        e.fields.pop_back();
      }
      VOUCH_ASSIGN_OR_RETURN(std::string name, i.at("name").str());
      if (!name.empty()) e.name = name;
      VOUCH_ASSIGN_OR_RETURN(e.key, i.at("key").str());
      VOUCH_ASSIGN_OR_RETURN(e.jmes_path, i.at("jmesPath").str());
      list.push_back(std::move(e));
    }
  }
  return out;
}

Result<Rule> parse_rule(const JsonField& f) {
  VOUCH_RETURN_IF_ERROR(f.object());
  if (!f.v->is_object()) return f.err("expected an object");
  Rule r;
  r.raw = f.v->get_object();
  VOUCH_ASSIGN_OR_RETURN(r.name, f.at("name").str());
  if (r.name.empty()) return f.at("name").err("required");
  if (r.name.size() > 63) return f.at("name").err("longer than 63 characters");
  VOUCH_ASSIGN_OR_RETURN(r.match, parse_match(f.at("match"), true));
  VOUCH_ASSIGN_OR_RETURN(r.exclude, parse_match(f.at("exclude"), false));
  VOUCH_ASSIGN_OR_RETURN(r.context, parse_context(f.at("context")));
  VOUCH_ASSIGN_OR_RETURN(r.preconditions, parse_conditions(f.at("preconditions")));
  // Kyverno has no rule-level action: accepting this field would leave an "Enforce" rule in
  // Audit without a word, so it is refused with the fields Kyverno reads.
  if (f.at("validationFailureAction").present()) {
    if (f.at("verifyImages").present())
      return f.at("validationFailureAction")
          .err("not a field of a verifyImages rule, which would stay in the policy's action: set "
               "failureAction on each verifyImages entry (Kyverno 1.13+) or spec.validationFailureAction");
    return f.at("validationFailureAction")
        .err("not a field of a rule, which would stay in the policy's action: set validate.failureAction "
             "(Kyverno 1.13+) or spec.validationFailureAction");
  }
  VOUCH_RETURN_IF_ERROR(f.only({"name", "context", "reportProperties", "match", "exclude", "imageExtractors",
                                "preconditions", "celPreconditions", "mutate", "validate", "generate", "verifyImages",
                                "skipBackgroundRequests"}));
  VOUCH_ASSIGN_OR_RETURN(r.report_properties, f.at("reportProperties").string_map());
  VOUCH_RETURN_IF_ERROR(valid(f.at("skipBackgroundRequests").boolean()));
  // celPreconditions are read by validate.cel (parse_validate_cel); elsewhere Kyverno does not
  // evaluate them either, which `vouch policy lint` points out.
  VOUCH_RETURN_IF_ERROR(valid(cel_internal::parse_named_expressions(f.at("celPreconditions"), "name", "expression")));
  VOUCH_ASSIGN_OR_RETURN(r.image_extractors, parse_image_extractors(f.at("imageExtractors")));
  if (f.at("validate").present()) {
    VOUCH_ASSIGN_OR_RETURN(Validation v, parse_validation(f.at("validate"), f));
    r.validate = std::move(v);
  }
  VOUCH_ASSIGN_OR_RETURN(auto ivs, f.at("verifyImages").list());
  for (const auto& i : ivs) {
    VOUCH_ASSIGN_OR_RETURN(ImageVerification iv, parse_verify_image(i));
    r.verify_images.push_back(std::move(iv));
  }
  r.has_mutate = f.at("mutate").present();
  if (r.has_mutate) {
    VOUCH_ASSIGN_OR_RETURN(Mutation m, parse_mutation(f.at("mutate")));
    r.mutate = std::move(m);
  }
  r.has_generate = f.at("generate").present();
  int kinds = (r.validate ? 1 : 0) + (r.verify_images.empty() ? 0 : 1) + (r.has_mutate ? 1 : 0) + (r.has_generate ? 1 : 0);
  if (kinds != 1) return f.err("exactly one of validate, mutate, generate or verifyImages is required");
  // Kyverno's policy validation: a digest cannot be written back through an extractor that
  // rewrote the value it read.
  for (const auto& [kind, list] : r.image_extractors)
    for (const auto& e : list)
      if (!e.jmes_path.empty())
        for (const auto& iv : r.verify_images)
          if (iv.mutate_digest)
            return f.at("imageExtractors").at(kind).err(
                "an extractor with jmesPath cannot be combined with mutateDigest: set mutateDigest: false");
  return r;
}

}  // namespace

bool ResourceDescription::empty() const {
  return kinds.empty() && names.empty() && namespaces.empty() && operations.empty() && annotations.empty() &&
         !selector && !namespace_selector;
}

std::string_view failure_action_name(FailureAction a) { return a == FailureAction::kEnforce ? "Enforce" : "Audit"; }

Result<Policy> parse_policy(const bj::value& doc) {
  JsonField root{&doc, ""};
  if (!doc.is_object()) return invalid_input("policy: expected an object");
  Policy p;
  p.raw = doc;
  VOUCH_ASSIGN_OR_RETURN(p.api_version, root.at("apiVersion").str());
  VOUCH_ASSIGN_OR_RETURN(p.kind, root.at("kind").str());
  if (p.kind != "ClusterPolicy" && p.kind != "Policy") return root.at("kind").err("expected ClusterPolicy or Policy");
  if (p.api_version != "kyverno.io/v1" && p.api_version != "kyverno.io/v2beta1")
    return root.at("apiVersion").err(fmt::format("expected kyverno.io/v1 or kyverno.io/v2beta1, got '{}'", p.api_version));
  JsonField meta = root.at("metadata");
  VOUCH_RETURN_IF_ERROR(meta.object());
  VOUCH_ASSIGN_OR_RETURN(p.name, meta.at("name").str());
  if (p.name.empty()) return meta.at("name").err("required");
  VOUCH_ASSIGN_OR_RETURN(p.ns, meta.at("namespace").str());
  if (p.kind == "Policy" && p.ns.empty()) p.ns = "default";
  VOUCH_ASSIGN_OR_RETURN(p.annotations, meta.at("annotations").string_map());
  JsonField spec = root.at("spec");
  if (!spec.present()) return spec.err("required");
  VOUCH_RETURN_IF_ERROR(spec.object());
  VOUCH_RETURN_IF_ERROR(spec.only({"rules", "applyRules", "background", "admission", "emitWarning", "useServerSideApply",
                                   "validationFailureAction", "validationFailureActionOverrides", "failurePolicy",
                                   "webhookTimeoutSeconds", "webhookConfiguration", "mutateExistingOnPolicyUpdate",
                                   "generateExisting", "generateExistingOnPolicyUpdate", "schemaValidation"}));
  VOUCH_RETURN_IF_ERROR(spec.at("webhookConfiguration").object());
  VOUCH_RETURN_IF_ERROR(spec.at("webhookConfiguration").only({"failurePolicy", "timeoutSeconds", "matchConditions"}));
  for (const char* flag : {"useServerSideApply", "mutateExistingOnPolicyUpdate", "generateExisting",
                           "generateExistingOnPolicyUpdate", "schemaValidation"})
    VOUCH_RETURN_IF_ERROR(valid(spec.at(flag).boolean()));
  if (spec.at("validationFailureAction").present()) {
    VOUCH_ASSIGN_OR_RETURN(p.failure_action, parse_action(spec.at("validationFailureAction")));
  }
  VOUCH_ASSIGN_OR_RETURN(p.overrides, parse_overrides(spec.at("validationFailureActionOverrides")));
  VOUCH_ASSIGN_OR_RETURN(auto bg, spec.at("background").boolean());
  VOUCH_ASSIGN_OR_RETURN(auto adm, spec.at("admission").boolean());
  VOUCH_ASSIGN_OR_RETURN(auto warn, spec.at("emitWarning").boolean());
  p.background = bg.value_or(true);
  p.admission = adm.value_or(true);
  p.emit_warning = warn.value_or(false);
  VOUCH_ASSIGN_OR_RETURN(std::string apply, spec.at("applyRules").str());
  if (!apply.empty()) {
    if (apply != "One" && apply != "All") return spec.at("applyRules").err("expected One or All");
    p.apply_rules = apply;
  }
  VOUCH_ASSIGN_OR_RETURN(std::string fp, spec.at("failurePolicy").str());
  if (fp.empty()) {
    VOUCH_ASSIGN_OR_RETURN(fp, spec.at("webhookConfiguration").at("failurePolicy").str());
  }
  if (!fp.empty()) {
    if (fp != "Fail" && fp != "Ignore") return spec.at("failurePolicy").err("expected Fail or Ignore");
    p.failure_policy = fp;
  }
  JsonField timeout = spec.at("webhookTimeoutSeconds");
  if (!timeout.present()) timeout = spec.at("webhookConfiguration").at("timeoutSeconds");
  if (timeout.present()) {
    if (!timeout.v->is_int64() && !timeout.v->is_uint64()) return timeout.err("expected an integer");
    int64_t t = timeout.v->to_number<int64_t>();
    if (t < 1 || t > 30) return timeout.err("must be between 1 and 30");
    p.webhook_timeout_seconds = static_cast<int>(t);
  }
  if (JsonField mc = spec.at("webhookConfiguration").at("matchConditions"); mc.present()) {
    VOUCH_ASSIGN_OR_RETURN(auto conditions, cel_internal::parse_named_expressions(mc, "name", "expression"));
    if (conditions.size() > 64) return mc.err("at most 64 match conditions are allowed");
    auto match = std::make_shared<CelPolicy>(match_all_cel(p.name, p.failure_policy));
    match->match_conditions = std::move(conditions);
    VOUCH_RETURN_IF_ERROR(compile_cel_at(*match, {{"spec.matchConditions", mc.path}}));
    if (!match->match_conditions.empty()) p.webhook_match = std::move(match);
  }
  VOUCH_ASSIGN_OR_RETURN(auto rules, spec.at("rules").list());
  if (rules.empty()) return spec.at("rules").err("at least one rule is required");
  std::set<std::string> names;
  for (const auto& r : rules) {
    VOUCH_ASSIGN_OR_RETURN(Rule rule, parse_rule(r));
    if (!names.insert(rule.name).second) return r.at("name").err(fmt::format("duplicate rule name '{}'", rule.name));
    p.rules.push_back(std::move(rule));
  }
  // Autogen.
  VOUCH_ASSIGN_OR_RETURN(auto generated, autogen_rules(p));
  for (const auto& g : generated) {
    bj::value gv(g.rule);
    auto parsed = parse_rule(JsonField{&gv, fmt::format("spec.rules[{}] (autogen)", g.origin)});
    if (!parsed.ok()) return parsed.error();
    parsed->autogen = true;
    parsed->origin = p.rules[g.origin].name;
    p.rules.push_back(std::move(parsed).value());
  }
  return p;
}

bool is_policy_exception_kind(std::string_view api_version, std::string_view kind) {
  return (kind == "PolicyException" && (api_version == "kyverno.io/v2" || api_version == "kyverno.io/v2beta1" ||
                                        api_version == "kyverno.io/v2alpha1")) ||
         cel_exception::is_cel_exception_kind(api_version, kind);
}

Result<std::vector<PolicyException>> parse_policy_exceptions(std::string_view text, std::string_view source) {
  VOUCH_ASSIGN_OR_RETURN(auto docs, parse_documents(text, source, {.max_bytes = 8 << 20, .max_depth = 64, .max_nodes = 100000}));
  std::vector<PolicyException> out;
  for (size_t i = 0; i < docs.size(); ++i) {
    const auto& d = docs[i];
    if (!d.is_object()) continue;
    JsonField root{&d, ""};
    auto api = root.at("apiVersion").str();
    auto kind = root.at("kind").str();
    if (!api.ok() || !kind.ok() || !is_policy_exception_kind(*api, *kind)) continue;
    auto parsed = [&]() -> Result<PolicyException> {
      if (cel_exception::is_cel_exception_kind(*api, *kind)) return cel_exception::parse(root);
      VOUCH_RETURN_IF_ERROR(root.only({"apiVersion", "kind", "metadata", "spec", "status"}));
      PolicyException e;
      JsonField meta = root.at("metadata");
      VOUCH_RETURN_IF_ERROR(meta.object());
      VOUCH_ASSIGN_OR_RETURN(e.name, meta.at("name").str());
      if (e.name.empty()) return meta.at("name").err("required");
      VOUCH_ASSIGN_OR_RETURN(e.ns, meta.at("namespace").str());
      JsonField spec = root.at("spec");
      if (!spec.present()) return spec.err("required");
      VOUCH_RETURN_IF_ERROR(spec.object());
      VOUCH_RETURN_IF_ERROR(spec.only({"background", "match", "conditions", "exceptions", "podSecurity"}));
      VOUCH_ASSIGN_OR_RETURN(auto bg, spec.at("background").boolean());
      e.background = bg.value_or(true);
      // An exception's filters may leave kinds out (Kyverno checks kinds only when given).
      if (!spec.at("match").present()) return spec.at("match").err("required");
      VOUCH_ASSIGN_OR_RETURN(e.match, parse_match(spec.at("match"), false));
      if (e.match.empty()) return spec.at("match").err("any or all is required");
      VOUCH_ASSIGN_OR_RETURN(e.conditions, parse_conditions(spec.at("conditions")));
      VOUCH_ASSIGN_OR_RETURN(auto entries, spec.at("exceptions").list());
      if (entries.empty()) return spec.at("exceptions").err("at least one entry is required");
      for (const auto& x : entries) {
        VOUCH_RETURN_IF_ERROR(x.object());
        VOUCH_RETURN_IF_ERROR(x.only({"policyName", "ruleNames"}));
        PolicyException::Entry entry;
        VOUCH_ASSIGN_OR_RETURN(entry.policy, x.at("policyName").str());
        if (entry.policy.empty()) return x.at("policyName").err("required");
        VOUCH_ASSIGN_OR_RETURN(entry.rules, x.at("ruleNames").strings());
        if (entry.rules.empty()) return x.at("ruleNames").err("at least one rule name is required");
        e.exceptions.push_back(std::move(entry));
      }
      // podSecurity narrows an exception of a podSecurity rule to some controls; vouch does
      // not evaluate podSecurity rules (they report error), so it is only checked here.
      VOUCH_ASSIGN_OR_RETURN(auto pss, spec.at("podSecurity").list());
      for (const auto& c : pss) {
        VOUCH_RETURN_IF_ERROR(c.object());
        VOUCH_RETURN_IF_ERROR(c.only({"controlName", "images", "restrictedField", "values"}));
      }
      return e;
    }();
    if (!parsed.ok()) {
      std::string name = "(unnamed)";
      if (auto n = root.at("metadata").at("name").str(); n.ok() && !n->empty()) name = *n;
      return invalid_input(fmt::format("{}: PolicyException {}: {}", source, name, parsed.error().message));
    }
    out.push_back(std::move(parsed).value());
  }
  return out;
}

Result<std::vector<Policy>> parse_policies(std::string_view text, std::string_view source) {
  // Policies are small: a tighter node budget than for resources keeps alias expansion cheap.
  VOUCH_ASSIGN_OR_RETURN(auto docs, parse_documents(text, source, {.max_bytes = 8 << 20, .max_depth = 64, .max_nodes = 100000}));
  std::vector<Policy> out;
  std::vector<size_t> bindings;
  auto name_of = [](const bj::value& d) {
    if (auto* m = d.get_object().if_contains("metadata"); m && m->is_object())
      if (auto* n = m->get_object().if_contains("name"); n && n->is_string()) return std::string(n->get_string());
    return std::string("(unnamed)");
  };
  for (size_t i = 0; i < docs.size(); ++i) {
    const auto& d = docs[i];
    if (!d.is_object()) return invalid_input(fmt::format("{}: document {}: expected an object", source, i + 1));
    auto* kind = d.get_object().if_contains("kind");
    auto* api = d.get_object().if_contains("apiVersion");
    std::string_view api_version = api && api->is_string() ? std::string_view(api->get_string()) : std::string_view();
    std::string_view kind_name = kind && kind->is_string() ? std::string_view(kind->get_string()) : std::string_view();
    if (is_unsupported_policy_kind(api_version, kind_name))
      return invalid_input(fmt::format("{}: {} {}: policy kind {} is not supported", source, kind_name, name_of(d), kind_name));
    if (is_image_policy_kind(api_version, kind_name)) {
      auto p = parse_image_policy(d);
      if (!p.ok()) return invalid_input(fmt::format("{}: {} {}: {}", source, kind_name, name_of(d), p.error().message));
      out.push_back(std::move(p).value());
      continue;
    }
    if (is_cel_policy_kind(api_version, kind_name)) {
      if (kind_name == "ValidatingAdmissionPolicyBinding") {
        bindings.push_back(i);
        continue;
      }
      auto p = parse_cel_policy(d);
      if (!p.ok()) return invalid_input(fmt::format("{}: {} {}: {}", source, kind_name, name_of(d), p.error().message));
      out.push_back(std::move(p).value());
      continue;
    }
    if (!kind || !kind->is_string() || (kind->get_string() != "ClusterPolicy" && kind->get_string() != "Policy")) continue;
    auto p = parse_policy(d);
    if (!p.ok()) {
      std::string name;
      if (auto* m = d.get_object().if_contains("metadata"); m && m->is_object()) {
        if (auto* n = m->get_object().if_contains("name"); n && n->is_string()) name = std::string(n->get_string());
      }
      return invalid_input(fmt::format("{}: {} {}: {}", source, kind->get_string(), name.empty() ? "(unnamed)" : name,
                                       p.error().message));
    }
    out.push_back(std::move(p).value());
  }
  for (size_t i : bindings) {
    auto st = apply_binding(docs[i], out);
    if (!st.ok())
      return invalid_input(fmt::format("{}: ValidatingAdmissionPolicyBinding {}: {}", source, name_of(docs[i]), st.error().message));
  }
  return out;
}

}  // namespace vouch::policy
