// Autogen for ValidatingPolicy and ImageValidatingPolicy, as Kyverno's pkg/cel/autogen and
// pkg/cel/policies/{vpol,ivpol}/autogen compute it.
#include "cel_autogen.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

namespace vouch::policy {
namespace bj = boost::json;

namespace {

struct Target {
  std::string group, version, resource;
  bool cronjob;  // the template sits at spec.jobTemplate.spec.template
};

// Kyverno's ConfigsMap: the controller names spec.autogen.podControllers.controllers takes.
const std::map<std::string, Target, std::less<>>& controllers() {
  static const std::map<std::string, Target, std::less<>> all = {
      {"daemonsets", {"apps", "v1", "daemonsets", false}},  {"deployments", {"apps", "v1", "deployments", false}},
      {"replicasets", {"apps", "v1", "replicasets", false}}, {"statefulsets", {"apps", "v1", "statefulsets", false}},
      {"jobs", {"batch", "v1", "jobs", false}},              {"cronjobs", {"batch", "v1", "cronjobs", true}},
  };
  return all;
}

bool is_strings(const bj::value* v, std::initializer_list<std::string_view> expected) {
  if (!v || !v->is_array() || v->get_array().size() != expected.size()) return false;
  size_t i = 0;
  for (std::string_view e : expected) {
    const bj::value& x = v->get_array()[i++];
    if (!x.is_string() || x.get_string() != e) return false;
  }
  return true;
}

bool empty_or_absent(const bj::object& o, std::string_view key) {
  const bj::value* v = o.if_contains(key);
  if (!v || v->is_null()) return true;
  if (v->is_array()) return v->get_array().empty();
  if (v->is_object()) return v->get_object().empty();
  return false;
}

// Kyverno's CanAutoGen, read off the spec as written.
bool pods_only(const bj::object& spec) {
  const bj::value* m = spec.if_contains("matchConstraints");
  if (!m || !m->is_object()) return false;
  const bj::object& match = m->get_object();
  if (const bj::value* sel = match.if_contains("objectSelector"); sel && sel->is_object()) {
    if (!empty_or_absent(sel->get_object(), "matchLabels") || !empty_or_absent(sel->get_object(), "matchExpressions"))
      return false;
  }
  if (!empty_or_absent(match, "excludeResourceRules")) return false;
  const bj::value* rules = match.if_contains("resourceRules");
  if (!rules || !rules->is_array() || rules->get_array().size() != 1 || !rules->get_array()[0].is_object()) return false;
  const bj::object& rule = rules->get_array()[0].get_object();
  return empty_or_absent(rule, "resourceNames") && is_strings(rule.if_contains("apiGroups"), {""}) &&
         is_strings(rule.if_contains("apiVersions"), {"v1"}) && is_strings(rule.if_contains("resources"), {"pods"});
}

void rewrite_strings(bj::value& v, std::string_view from, std::string_view to) {
  if (v.is_string()) {
    std::string_view s = v.get_string();
    if (s.find(from) != std::string_view::npos) v = cel_autogen_rewrite(s, from, to);
  } else if (v.is_array()) {
    for (auto& e : v.get_array()) rewrite_strings(e, from, to);
  } else if (v.is_object()) {
    for (auto& kv : v.get_object()) rewrite_strings(kv.value(), from, to);
  }
}

bool identifier_byte(char c) {
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

std::string replace_protected(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;
  size_t at = 0;
  for (size_t hit; (hit = text.find(from, at)) != std::string_view::npos; at = hit + from.size()) {
    out.append(text.substr(at, hit - at));
    std::string_view rest = text.substr(hit + from.size());
    bool keep = rest.starts_with(".namespace") &&
                (rest.size() == std::string_view(".namespace").size() || !identifier_byte(rest[10]));
    out.append(keep ? from : to);
  }
  out.append(text.substr(at));
  return out;
}

}  // namespace

std::string cel_autogen_rewrite(std::string_view text, std::string_view from, std::string_view to) {
  std::string once = replace_protected(text, fmt::format("object.{}", from), fmt::format("object.{}", to));
  return replace_protected(once, fmt::format("oldObject.{}", from), fmt::format("oldObject.{}", to));
}

Result<std::vector<bj::object>> cel_autogen_specs(const bj::object& spec) {
  std::vector<bj::object> out;
  if (!pods_only(spec)) return out;
  std::set<std::string, std::less<>> chosen;
  for (const auto& [name, target] : controllers()) chosen.insert(name);
  const bj::value* a = spec.if_contains("autogen");
  const bj::value* pc = a && a->is_object() ? a->get_object().if_contains("podControllers") : nullptr;
  const bj::value* list = pc && pc->is_object() ? pc->get_object().if_contains("controllers") : nullptr;
  if (list && !list->is_null()) {
    if (!list->is_array()) return invalid_input("spec.autogen.podControllers.controllers: expected a list");
    chosen.clear();
    for (size_t i = 0; i < list->get_array().size(); ++i) {
      const bj::value& c = list->get_array()[i];
      if (!c.is_string() || !controllers().contains(std::string_view(c.get_string())))
        return invalid_input(fmt::format(
            "spec.autogen.podControllers.controllers[{}]: expected one of cronjobs, daemonsets, deployments, jobs, "
            "replicasets, statefulsets, got {}",
            i, bj::serialize(c)));
      chosen.insert(std::string(c.get_string()));
    }
  }
  const bj::object& match = spec.at("matchConstraints").get_object();
  const bj::value& rule = match.at("resourceRules").get_array()[0];
  const bj::value* operations = rule.get_object().if_contains("operations");
  for (bool cronjob : {true, false}) {  // Kyverno orders its variants "cronjobs", then "defaults"
    // group/version → resources, both sorted as Kyverno's CreateMatchConstraints writes them.
    std::map<std::pair<std::string, std::string>, std::set<std::string>> by_group;
    for (const auto& name : chosen) {
      const Target& t = controllers().find(name)->second;
      if (t.cronjob == cronjob) by_group[{t.group, t.version}].insert(t.resource);
    }
    if (by_group.empty()) continue;
    bj::array rules;
    for (const auto& [gv, resources] : by_group) {
      bj::object r;
      r["apiGroups"] = bj::array{bj::value(gv.first)};
      r["apiVersions"] = bj::array{bj::value(gv.second)};
      bj::array res;
      for (const auto& x : resources) res.emplace_back(x);
      r["resources"] = std::move(res);
      if (operations) r["operations"] = *operations;
      rules.emplace_back(std::move(r));
    }
    bj::object constraints;
    constraints["resourceRules"] = std::move(rules);
    if (const bj::value* ns = match.if_contains("namespaceSelector"); ns && !ns->is_null())
      constraints["namespaceSelector"] = *ns;
    bj::value variant = spec;
    variant.get_object().erase("autogen");
    variant.get_object()["matchConstraints"] = std::move(constraints);
    const std::string prefix = cronjob ? "spec.jobTemplate.spec.template." : "spec.template.";
    rewrite_strings(variant, "spec", prefix + "spec");
    rewrite_strings(variant, "metadata", prefix + "metadata");
    out.push_back(std::move(variant.get_object()));
  }
  return out;
}

}  // namespace vouch::policy
