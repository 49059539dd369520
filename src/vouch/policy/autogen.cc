// Autogen (Kyverno's pkg/autogen): rules written for Pods gain variants for the Pod
// controllers, with their kinds, patterns and variables moved to the Pod template.
#include "autogen.h"

#include <algorithm>

#include <fmt/format.h>

#include "vouch/base/json.h"

namespace vouch::policy {
namespace {

const std::vector<std::string> kAllControllers = {"DaemonSet", "Deployment", "Job", "StatefulSet",
                                                  "ReplicaSet", "ReplicationController", "CronJob"};

bool is_pod_kind(const std::string& k) {
  return k == "Pod" || k == "v1/Pod" || k == "*/Pod" || k == "core/v1/Pod" || k == "/v1/Pod";
}

// checkAutogenSupport: filters that name, select or annotate resources, or mix Pod with
// other kinds, cannot be carried over to controllers.
bool autogen_supported(const ResourceDescription& d, bool& needed) {
  bool has_pod = std::any_of(d.kinds.begin(), d.kinds.end(), is_pod_kind);
  if (!d.names.empty() || d.selector || !d.annotations.empty() || (d.kinds.size() > 1 && has_pod)) return false;
  needed = needed || has_pod;
  return true;
}

std::vector<std::string> compute_controllers(const Policy& p) {
  bool needed = false;
  for (const auto& r : p.rules) {
    if (r.has_generate) return {};
    // A JSON patch addresses the Pod's own paths: Kyverno generates nothing for the policy.
    if (r.mutate) {
      if (!r.mutate->patches_json6902.empty()) return {};
      for (const auto& fe : r.mutate->foreach)
        if (!fe.patches_json6902.empty()) return {};
    }
    for (const auto* m : {&r.match, &r.exclude}) {
      for (const auto* list : {&m->any, &m->all}) {
        for (const auto& f : *list) {
          if (!autogen_supported(f.resources, needed)) return {};
        }
      }
    }
  }
  if (!needed) return {};
  auto it = p.annotations.find("pod-policies.kyverno.io/autogen-controllers");
  if (it == p.annotations.end()) return kAllControllers;
  if (it->second == "none") return {};
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= it->second.size()) {
    size_t comma = it->second.find(',', start);
    std::string c = it->second.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    while (!c.empty() && c.front() == ' ') c.erase(c.begin());
    while (!c.empty() && c.back() == ' ') c.pop_back();
    if (std::find(kAllControllers.begin(), kAllControllers.end(), c) != kAllControllers.end()) out.push_back(c);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
  return s;
}

void set_kinds(bj::value& match, const bj::array& kinds) {
  if (!match.is_object()) return;
  auto& m = match.get_object();
  auto fix = [&](bj::value& filter) {
    if (!filter.is_object()) return;
    auto* res = filter.get_object().if_contains("resources");
    if (res && res->is_object()) {
      auto* k = res->get_object().if_contains("kinds");
      if (k && k->is_array() && !k->get_array().empty()) *k = kinds;
    }
  };
  for (const char* key : {"any", "all"}) {
    if (auto* list = m.if_contains(key); list && list->is_array()) {
      for (auto& f : list->get_array()) fix(f);
    }
  }
  fix(match);
}

bj::value wrap(const bj::value& pattern, bool cronjob) {
  bj::object tmpl{{"template", pattern}};
  if (cronjob) return bj::object{{"spec", bj::object{{"jobTemplate", bj::object{{"spec", std::move(tmpl)}}}}}};
  return bj::object{{"spec", std::move(tmpl)}};
}

void wrap_validation(bj::object& v, bool cronjob) {
  if (auto* p = v.if_contains("pattern")) *p = wrap(*p, cronjob);
  if (auto* ap = v.if_contains("anyPattern"); ap && ap->is_array()) {
    for (auto& p : ap->get_array()) p = wrap(p, cronjob);
  }
}

// The patches move to the Pod template; as Kyverno, a foreach keeps only its list, context,
// preconditions and patch, and patchStrategicMerge drops the rest of the mutation.
void wrap_mutation(bj::value& mutate, bool cronjob) {
  auto& m = mutate.get_object();
  if (auto* psm = m.if_contains("patchStrategicMerge")) {
    mutate = bj::object{{"patchStrategicMerge", wrap(*psm, cronjob)}};
    return;
  }
  auto* list = m.if_contains("foreach");
  if (!list || !list->is_array() || list->get_array().empty()) return;
  bj::array out;
  for (const auto& fe : list->get_array()) {
    if (!fe.is_object()) continue;
    const auto& fo = fe.get_object();
    auto* psm = fo.if_contains("patchStrategicMerge");
    if (!psm) {
      out.push_back(fe);  // a nested foreach: kept as written
      continue;
    }
    bj::object entry;
    for (const char* k : {"list", "context", "preconditions"})
      if (auto* v = fo.if_contains(k)) entry[k] = *v;
    entry["patchStrategicMerge"] = wrap(*psm, cronjob);
    out.push_back(std::move(entry));
  }
  mutate = bj::object{{"foreach", std::move(out)}};
}

Result<bj::object> generate_rule(const bj::object& original, const std::vector<std::string>& kinds, bool cronjob) {
  bj::object rule = original;
  rule["name"] = fmt::format("{}{}", cronjob ? "autogen-cronjob-" : "autogen-", original.at("name").get_string());
  bj::array k;
  for (const auto& s : kinds) k.push_back(bj::value(s));
  if (auto* m = rule.if_contains("match")) set_kinds(*m, k);
  if (auto* e = rule.if_contains("exclude")) set_kinds(*e, k);
  if (auto* v = rule.if_contains("validate"); v && v->is_object()) {
    auto& vo = v->get_object();
    wrap_validation(vo, cronjob);
  }
  if (auto* m = rule.if_contains("mutate"); m && m->is_object()) wrap_mutation(*m, cronjob);
  // Variables that address the Pod move to the controller's template.
  std::string text = json::serialize(rule);
  const char* spec = cronjob ? "spec.jobTemplate.spec.template.spec" : "spec.template.spec";
  const char* meta = cronjob ? "spec.jobTemplate.spec.template.metadata" : "spec.template.metadata";
  static const std::string kObjectSpec = "request.object.\x01SPEC", kOldObjectSpec = "request.oldObject.\x01SPEC";
  const std::string object_meta = fmt::format("request.object.{}", meta);
  const std::string old_object_meta = fmt::format("request.oldObject.{}", meta);
  text = replace_all(text, "request.object.spec", kObjectSpec);
  text = replace_all(text, "request.oldObject.spec", kOldObjectSpec);
  text = replace_all(text, "\x01SPEC", spec);
  text = replace_all(text, "request.object.metadata", object_meta);
  text = replace_all(text, "request.oldObject.metadata", old_object_meta);
  VOUCH_ASSIGN_OR_RETURN(bj::value v, json::parse(text, {.max_bytes = 64 << 20, .max_depth = 256}));
  return v.get_object();
}


}  // namespace

std::vector<std::string> autogen_controllers(const Policy& policy) { return compute_controllers(policy); }

Result<std::vector<AutogenRule>> autogen_rules(const Policy& p) {
  std::vector<std::string> controllers = compute_controllers(p);
  std::vector<std::string> plain;
  bool cron = false;
  for (const auto& c : controllers) {
    if (c == "CronJob") cron = true;
    else plain.push_back(c);
  }
  std::vector<AutogenRule> out;
  for (int pass = 0; pass < 2; ++pass) {
    if (pass == 0 && plain.empty()) continue;
    if (pass == 1 && !cron) continue;
    for (size_t i = 0; i < p.rules.size(); ++i) {
      const Rule& orig = p.rules[i];
      bool pod = false;
      for (const auto* list : {&orig.match.any, &orig.match.all}) {
        for (const auto& f : *list) pod = pod || std::any_of(f.resources.kinds.begin(), f.resources.kinds.end(), is_pod_kind);
      }
      if (!pod) continue;
      VOUCH_ASSIGN_OR_RETURN(bj::object gen, generate_rule(orig.raw, pass == 0 ? plain : std::vector<std::string>{"CronJob"}, pass == 1));
      out.push_back({i, std::move(gen)});
    }
  }
  return out;
}

}  // namespace vouch::policy
