// kyverno-test.yaml: parsing and the result matcher.
#include "vouch/policy/kyverno_test.h"

#include <set>

#include <fmt/format.h>

#include "vouch/policy/document.h"

namespace vouch::policy {

namespace {

std::vector<std::string> string_list(const bj::value* v) {
  std::vector<std::string> out;
  if (!v) return out;
  if (v->is_string()) {
    out.emplace_back(v->get_string());
  } else if (v->is_array()) {
    for (const auto& e : v->get_array())
      if (e.is_string()) out.emplace_back(e.get_string());
  }
  return out;
}

std::string string_at(const bj::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

bool resource_named(const std::string& entry, const ResourceRef& r) {
  return entry == r.name || entry == r.ns + "/" + r.name || entry == r.kind + "/" + r.ns + "/" + r.name ||
         entry == r.kind + "/" + r.name;
}

bool rule_named(const std::string& expected, const RuleResult& r) {
  if (expected == r.rule) return true;
  if (r.autogen) {
    return expected == r.origin_rule || expected == "autogen-" + r.origin_rule ||
           expected == "autogen-cronjob-" + r.origin_rule;
  }
  return false;
}

bool policy_named(const std::string& expected, const RuleResult& r) {
  if (expected == r.policy) return true;
  size_t slash = r.policy.find('/');
  return slash != std::string::npos && expected == r.policy.substr(slash + 1);
}

}  // namespace

Result<KyvernoTest> parse_kyverno_test(std::string_view text, std::string_view source) {
  VOUCH_ASSIGN_OR_RETURN(bj::value doc, parse_document(text, source));
  if (!doc.is_object()) return invalid_input(fmt::format("{}: expected an object", source));
  auto& o = doc.get_object();
  if (auto* api = o.if_contains("apiVersion"); api && api->is_string()) {
    if (api->get_string() != "cli.kyverno.io/v1alpha1")
      return invalid_input(fmt::format("{}: apiVersion: expected cli.kyverno.io/v1alpha1", source));
    if (auto* kind = o.if_contains("kind"); !kind || !kind->is_string() || kind->get_string() != "Test")
      return invalid_input(fmt::format("{}: kind: expected Test", source));
  }
  KyvernoTest test;
  test.policies = string_list(o.if_contains("policies"));
  test.resources = string_list(o.if_contains("resources"));
  if (test.policies.empty()) return invalid_input(fmt::format("{}: policies: required", source));
  test.values = string_at(o, "variables");
  if (test.values.empty()) test.values = string_at(o, "values");
  test.user_info = string_at(o, "userinfo");
  auto* results = o.if_contains("results");
  if (!results || !results->is_array()) return invalid_input(fmt::format("{}: results: expected a list", source));
  for (size_t i = 0; i < results->get_array().size(); ++i) {
    const auto& r = results->get_array()[i];
    if (!r.is_object()) return invalid_input(fmt::format("{}: results[{}]: expected an object", source, i));
    const auto& ro = r.get_object();
    ExpectedResult e;
    e.policy = string_at(ro, "policy");
    e.rule = string_at(ro, "rule");
    e.kind = string_at(ro, "kind");
    e.ns = string_at(ro, "namespace");
    e.result = string_at(ro, "result");
    e.operation = string_at(ro, "operation");
    if (!e.operation.empty() && e.operation != "CREATE" && e.operation != "UPDATE" && e.operation != "DELETE" &&
        e.operation != "CONNECT")
      return invalid_input(fmt::format("{}: results[{}].operation: expected CREATE, UPDATE, DELETE or CONNECT", source, i));
    if (e.result.empty()) e.result = string_at(ro, "status");
    e.resources = string_list(ro.if_contains("resources"));
    for (const auto& one : string_list(ro.if_contains("resource"))) e.resources.push_back(one);
    static const std::set<std::string> kResults = {"pass", "fail", "warn", "error", "skip"};
    if (!kResults.count(e.result))
      return invalid_input(fmt::format("{}: results[{}].result: expected pass, fail, warn, error or skip", source, i));
    if (e.policy.empty()) return invalid_input(fmt::format("{}: results[{}].policy: required", source, i));
    test.results.push_back(std::move(e));
  }
  return test;
}

std::vector<TestRow> match_test_results(const std::vector<ExpectedResult>& expected,
                                        const std::map<std::string, std::vector<Evaluated>>& by_operation) {
  static const std::vector<Evaluated> kNone;
  std::vector<TestRow> rows;
  for (const auto& e : expected) {
    auto it = by_operation.find(e.operation);
    const std::vector<Evaluated>& evaluated = it == by_operation.end() ? kNone : it->second;
    size_t slash = e.policy.find('/');
    for (const auto& res : e.resources) {
      std::vector<const Evaluated*> found;
      for (const auto& ev : evaluated) {
        if (!policy_named(e.policy, ev.result) && !(slash != std::string::npos && ev.result.policy == e.policy)) continue;
        if (!e.rule.empty() && !rule_named(e.rule, ev.result)) continue;
        if (!resource_named(res, ev.resource)) continue;
        if (!e.kind.empty() && ev.resource.kind != e.kind) continue;
        if (!e.ns.empty() && ev.resource.ns != e.ns) continue;
        found.push_back(&ev);
      }
      TestRow row{e.policy, e.rule, res, e.result, "", "", false};
      if (found.empty()) {
        row.got = "skip";
        row.ok = e.result == "skip";
        row.reason = row.ok ? "" : "no result: the rule did not apply to this resource";
      } else {
        // A rule written for Pods also reports its autogen variants: any result that agrees.
        row.got = std::string(rule_status_name(found[0]->result.status));
        for (const auto* f : found) {
          std::string got(rule_status_name(f->result.status));
          if (got == e.result) {
            row.got = got;
            row.ok = true;
            row.reason = f->result.message;
            break;
          }
          row.reason = f->result.message;
        }
      }
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

}  // namespace vouch::policy
