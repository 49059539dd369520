// The audit → enforce ladder: verdicts from the history, and the policy changes they allow.
#include "vouch/admission/rollout.h"

#include <algorithm>
#include <set>
#include <tuple>

#include <fmt/format.h>

namespace vouch::admission {
namespace {

namespace bj = boost::json;
using policy::FailureAction;

constexpr UnixSeconds kDay = 86400;

std::string plural(int64_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

std::string ns_label(const std::string& ns) { return ns.empty() ? "(cluster-scoped)" : ns; }

std::string join(const std::vector<std::string>& items, std::string_view separator = ", ") {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += separator;
    out += items[i];
  }
  return out;
}

NamespaceRollout assess_namespace(const RuleHistory& h, int days, UnixSeconds now) {
  NamespaceRollout n;
  n.ns = h.ns;
  n.action = h.action;
  n.counts = h.counts;
  for (const char* bad : {"fail", "error"})
    if (auto it = h.counts.find(bad); it != h.counts.end()) n.failures += it->second;
  n.failing = h.problems;
  std::sort(n.failing.begin(), n.failing.end(), [](const ResultGroup& a, const ResultGroup& b) {
    return std::tie(b.last_seen, a.resource.kind, a.resource.name) < std::tie(a.last_seen, b.resource.kind, b.resource.name);
  });
  for (const ResultGroup& g : n.failing) {
    if (n.first_failure == 0 || g.first_seen < n.first_failure) n.first_failure = g.first_seen;
    n.last_failure = std::max(n.last_failure, g.last_seen);
  }
  n.observed_since = h.first_recorded;
  if (h.first_recorded > 0 && h.first_recorded <= now) n.observed_days = static_cast<int>((now - h.first_recorded) / kDay);
  const bool long_enough = h.first_recorded > 0 && now - h.first_recorded >= days * kDay;
  int64_t in_window = 0;
  for (const auto& [status, count] : h.counts) in_window += count;
  if (h.action == FailureAction::kEnforce) {
    n.verdict = Verdict::kEnforced;
    n.reason = "enforcing";
  } else if (in_window == 0) {
    // Nothing seen lately proves nothing: what failed before the window may still be running.
    n.verdict = Verdict::kNoGo;
    n.reason = fmt::format("no results in the last {} (vouch admission scan records the running resources)",
                           plural(days, "day", "days"));
  } else if (n.failures == 0 && long_enough) {
    n.verdict = Verdict::kGo;
    n.reason = fmt::format("no fail or error result in {}", plural(days, "day", "days"));
  } else {
    n.verdict = Verdict::kNoGo;
    std::vector<std::string> why;
    if (n.failures > 0) {
      std::vector<std::string> kinds;
      for (const char* bad : {"fail", "error"})
        if (auto it = h.counts.find(bad); it != h.counts.end() && it->second > 0)
          kinds.push_back(fmt::format("{} {}", it->second, bad));
      why.push_back(fmt::format("{} {} in {} (the last at {})", join(kinds, " and "), n.failures == 1 ? "result" : "results",
                                plural(days, "day", "days"), format_rfc3339(n.last_failure)));
    }
    if (!long_enough)
      why.push_back(n.observed_days == 0
                        ? fmt::format("less than a day of reports (needs {})", days)
                        : fmt::format("only {} of reports (needs {})", plural(n.observed_days, "day", "days"), days));
    n.reason = join(why, "; ");
  }
  return n;
}

// ---------------------------------------------------------------- plan

// Kyverno's wildcards: '*' any run of characters, '?' one character.
bool wildcard_match(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::string str_of(const bj::value* v) { return v && v->is_string() ? std::string(v->get_string()) : std::string(); }

// The action of the first override entry that names `ns` (entries with a namespaceSelector are
// not evaluated: labels are unknown here).
std::optional<FailureAction> override_for(const bj::array& overrides, const std::string& ns) {
  for (const auto& entry : overrides) {
    const auto* o = entry.if_object();
    if (!o || o->contains("namespaceSelector")) continue;
    const auto* names = o->if_contains("namespaces");
    if (!names || !names->is_array()) continue;
    for (const auto& n : names->get_array()) {
      if (n.is_string() && wildcard_match(n.get_string(), ns))
        return str_of(o->if_contains("action")) == "Enforce" || str_of(o->if_contains("action")) == "enforce"
                   ? FailureAction::kEnforce
                   : FailureAction::kAudit;
    }
  }
  return std::nullopt;
}

// Puts `namespaces` under Enforce at the front of `overrides`: into the first entry when it is
// already an Enforce entry by name, else in a new entry before the others.
void add_enforce_entry(bj::array& overrides, const std::vector<std::string>& namespaces) {
  if (!overrides.empty() && overrides[0].is_object()) {
    auto& first = overrides[0].get_object();
    if (str_of(first.if_contains("action")) == "Enforce" && !first.contains("namespaceSelector") &&
        first.contains("namespaces") && first["namespaces"].is_array()) {
      for (const auto& n : namespaces) first["namespaces"].get_array().push_back(bj::string(n));
      return;
    }
  }
  bj::array names;
  for (const auto& n : namespaces) names.push_back(bj::string(n));
  overrides.insert(overrides.begin(), bj::object{{"action", "Enforce"}, {"namespaces", std::move(names)}});
}

void drop_server_fields(bj::value& doc) {
  auto* o = doc.if_object();
  if (!o) return;
  o->erase("status");
  if (auto* meta = o->if_contains("metadata"); meta && meta->is_object()) {
    auto& m = meta->get_object();
    for (const char* f : {"resourceVersion", "uid", "generation", "creationTimestamp", "managedFields"}) m.erase(f);
    if (auto* ann = m.if_contains("annotations"); ann && ann->is_object()) {
      ann->get_object().erase("kubectl.kubernetes.io/last-applied-configuration");
      if (ann->get_object().empty()) m.erase("annotations");
    }
  }
}

const NamespaceRollout* find_ns(const RuleRollout* r, const std::string& ns) {
  if (!r) return nullptr;
  for (const auto& n : r->namespaces)
    if (n.ns == ns) return &n;
  return nullptr;
}

}  // namespace

std::string_view stage_name(Stage stage) {
  switch (stage) {
    case Stage::kAudit: return "audit";
    case Stage::kPartialEnforce: return "partial enforce";
    case Stage::kFullEnforce: return "full enforce";
  }
  return "audit";
}

std::string_view verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::kGo: return "GO";
    case Verdict::kNoGo: return "NO-GO";
    case Verdict::kEnforced: return "ENFORCED";
  }
  return "NO-GO";
}

RolloutStatus assess_rollout(const std::vector<RuleHistory>& history, const RolloutOptions& options) {
  RolloutStatus status;
  status.days = options.days;
  status.now = options.now ? options.now : now_unix();
  status.since = status.now - options.days * kDay;
  std::map<std::pair<std::string, std::string>, RuleRollout> rules;
  for (const RuleHistory& h : history) {
    RuleRollout& r = rules[{h.policy, h.rule}];
    r.policy = h.policy;
    r.rule = h.rule;
    r.namespaces.push_back(assess_namespace(h, options.days, status.now));
  }
  for (auto& [key, r] : rules) {
    std::sort(r.namespaces.begin(), r.namespaces.end(),
              [](const NamespaceRollout& a, const NamespaceRollout& b) { return a.ns < b.ns; });
    size_t enforcing = 0;
    std::vector<std::string> not_ready;
    for (const auto& n : r.namespaces) {
      if (n.verdict == Verdict::kEnforced) ++enforcing;
      if (n.verdict == Verdict::kNoGo) not_ready.push_back(ns_label(n.ns));
    }
    r.stage = enforcing == 0 ? Stage::kAudit : enforcing == r.namespaces.size() ? Stage::kFullEnforce : Stage::kPartialEnforce;
    if (r.stage == Stage::kFullEnforce) {
      r.full_enforce = Verdict::kEnforced;
      r.full_enforce_reason = "every namespace with results enforces the rule";
    } else if (not_ready.empty()) {
      r.full_enforce = Verdict::kGo;
      r.full_enforce_reason = "every namespace with results is GO or enforcing";
    } else {
      r.full_enforce = Verdict::kNoGo;
      r.full_enforce_reason = "not ready: " + join(not_ready);
    }
    status.rules.push_back(std::move(r));
  }
  return status;
}

Result<RolloutStatus> rollout_status(ReportStore& store, const RolloutOptions& options) {
  if (options.days < 1) return invalid_input(fmt::format("rollout: --days must be 1 or more, got {}", options.days));
  RolloutOptions o = options;
  if (o.now == 0) o.now = now_unix();
  VOUCH_ASSIGN_OR_RETURN(auto history, store.history(o.now - o.days * kDay, std::nullopt));
  return assess_rollout(history, o);
}

std::string rollout_status_table(const RolloutStatus& status, const std::optional<std::string>& ns) {
  constexpr size_t kShownFailures = 5;
  std::string out = fmt::format("Audit -> enforce over the last {} ({} to {})\n", plural(status.days, "day", "days"),
                                format_rfc3339(status.since), format_rfc3339(status.now));
  size_t shown = 0;
  for (const RuleRollout& r : status.rules) {
    std::vector<const NamespaceRollout*> rows;
    for (const auto& n : r.namespaces)
      if (!ns || n.ns == *ns) rows.push_back(&n);
    if (rows.empty()) continue;
    ++shown;
    out += fmt::format("\n{}/{}: stage {}; full enforce {} ({})\n", r.policy, r.rule, stage_name(r.stage),
                       verdict_name(r.full_enforce), r.full_enforce_reason);
    std::vector<std::vector<std::string>> table{{"NAMESPACE", "ACTION", "PASS", "FAIL", "ERROR", "VERDICT", "REASON"}};
    auto count = [](const NamespaceRollout& n, const char* s) {
      auto it = n.counts.find(s);
      return std::to_string(it == n.counts.end() ? 0 : it->second);
    };
    for (const auto* n : rows)
      table.push_back({ns_label(n->ns), std::string(policy::failure_action_name(n->action)), count(*n, "pass"),
                       count(*n, "fail"), count(*n, "error"), std::string(verdict_name(n->verdict)), n->reason});
    std::vector<size_t> width(table[0].size(), 0);
    for (const auto& row : table)
      for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    for (size_t j = 0; j < table.size(); ++j) {
      std::string line = " ";
      for (size_t i = 0; i < table[j].size(); ++i)
        line += (i ? "  " : " ") + (i + 1 == table[j].size() ? table[j][i] : fmt::format("{:<{}}", table[j][i], width[i]));
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out += line + "\n";
      if (j == 0) continue;
      const NamespaceRollout& n = *rows[j - 1];
      for (size_t k = 0; k < n.failing.size() && k < kShownFailures; ++k) {
        const ResultGroup& g = n.failing[k];
        out += fmt::format("      {} {}/{} ({}x, last {}): {}\n", policy::rule_status_name(g.status), g.resource.kind,
                           g.resource.name, g.count, format_rfc3339(g.last_seen), g.message);
      }
      if (n.failing.size() > kShownFailures)
        out += fmt::format("      … and {} more\n", plural(static_cast<int64_t>(n.failing.size() - kShownFailures),
                                                           "resource", "resources"));
    }
  }
  if (shown == 0) out += ns ? fmt::format("\nNo results recorded in namespace {}.\n", ns_label(*ns)) : "\nNo results recorded.\n";
  return out;
}

bj::object rollout_status_json(const RolloutStatus& status, const std::optional<std::string>& ns) {
  bj::array rules;
  for (const RuleRollout& r : status.rules) {
    bj::array namespaces;
    for (const auto& n : r.namespaces) {
      if (ns && n.ns != *ns) continue;
      bj::object counts;
      for (const char* s : {"pass", "fail", "warn", "error", "skip"}) {
        auto it = n.counts.find(s);
        counts[s] = it == n.counts.end() ? 0 : it->second;
      }
      bj::array failing;
      for (const ResultGroup& g : n.failing) {
        bj::object f{{"apiVersion", g.resource.api_version}, {"kind", g.resource.kind}};
        if (!g.resource.ns.empty()) f["namespace"] = g.resource.ns;
        f["name"] = g.resource.name;
        if (!g.resource_uid.empty()) f["uid"] = g.resource_uid;
        f["result"] = policy::rule_status_name(g.status);
        f["count"] = g.count;
        f["firstSeen"] = format_rfc3339(g.first_seen);
        f["lastSeen"] = format_rfc3339(g.last_seen);
        f["message"] = g.message;
        failing.push_back(std::move(f));
      }
      bj::object o{{"namespace", n.ns},
                   {"clusterScoped", n.ns.empty()},
                   {"action", policy::failure_action_name(n.action)},
                   {"verdict", verdict_name(n.verdict)},
                   {"reason", n.reason},
                   {"observedSince", n.observed_since ? bj::value(format_rfc3339(n.observed_since)) : bj::value(nullptr)},
                   {"observedDays", n.observed_days},
                   {"results", std::move(counts)},
                   {"failures", n.failures}};
      if (n.failures > 0) {
        o["firstFailure"] = format_rfc3339(n.first_failure);
        o["lastFailure"] = format_rfc3339(n.last_failure);
      }
      o["failing"] = std::move(failing);
      namespaces.push_back(std::move(o));
    }
    if (namespaces.empty()) continue;
    rules.push_back(bj::object{{"policy", r.policy},
                               {"rule", r.rule},
                               {"stage", stage_name(r.stage)},
                               {"fullEnforce", bj::object{{"verdict", verdict_name(r.full_enforce)}, {"reason", r.full_enforce_reason}}},
                               {"namespaces", std::move(namespaces)}});
  }
  return bj::object{{"days", status.days},
                    {"since", format_rfc3339(status.since)},
                    {"now", format_rfc3339(status.now)},
                    {"rules", std::move(rules)}};
}

RolloutPlan plan_rollout(const std::vector<policy::Policy>& policies, const RolloutStatus& status) {
  RolloutPlan plan;
  std::map<std::pair<std::string, std::string>, const RuleRollout*> by_rule;
  for (const RuleRollout& r : status.rules) by_rule[{r.policy, r.rule}] = &r;

  for (const policy::Policy& p : policies) {
    const std::string key = p.kind == "Policy" ? p.ns + "/" + p.name : p.name;
    bj::value doc = p.raw;
    auto* spec = doc.is_object() ? doc.get_object().if_contains("spec") : nullptr;
    if (!spec || !spec->is_object()) continue;
    auto& spec_obj = spec->get_object();
    auto* raw_rules = spec_obj.if_contains("rules");
    if (!raw_rules || !raw_rules->is_array()) continue;
    auto raw_rule = [&](const std::string& name) -> bj::object* {
      for (auto& r : raw_rules->get_array())
        if (r.is_object() && str_of(r.get_object().if_contains("name")) == name) return &r.get_object();
      return nullptr;
    };
    const bj::array policy_overrides = [&] {
      auto* o = spec_obj.if_contains("validationFailureActionOverrides");
      return o && o->is_array() ? o->get_array() : bj::array();
    }();
    auto rollout_of = [&](const std::string& rule) -> const RuleRollout* {
      auto it = by_rule.find({key, rule});
      return it == by_rule.end() ? nullptr : it->second;
    };
    // GO namespaces that `overrides` over `base` leave in Audit now (partial), or would leave in
    // Audit once the rule's own action is Enforce (full).
    auto targets = [&](const RuleRollout& r, const bj::array& overrides, FailureAction base, bool full) {
      std::vector<std::string> out;
      for (const auto& n : r.namespaces) {
        if (n.verdict != Verdict::kGo || n.ns.empty()) continue;
        auto o = override_for(overrides, n.ns);
        FailureAction effective = o ? *o : (full ? FailureAction::kEnforce : base);
        if (effective == FailureAction::kAudit) out.push_back(n.ns);
      }
      return out;
    };

    // Rules that read the policy-level overrides once the plan is applied.
    std::set<std::string> policy_level_readers;
    for (const policy::Rule& rule : p.rules) {
      if (rule.autogen || !rule.validate) continue;
      const RuleRollout* r = rollout_of(rule.name);
      bj::object* raw = raw_rule(rule.name);
      auto* v = raw ? raw->if_contains("validate") : nullptr;
      bool has_own_list = !rule.validate->overrides.empty();
      if (!r || !v || !v->is_object()) {
        if (!has_own_list) policy_level_readers.insert(rule.name);
        continue;
      }
      auto& validate = v->get_object();
      const FailureAction base = rule.validate->failure_action.value_or(p.failure_action);
      const bool full = r->full_enforce == Verdict::kGo;
      bj::array overrides = has_own_list ? validate["failureActionOverrides"].as_array() : policy_overrides;
      auto ns = targets(*r, overrides, base, full);
      if (!ns.empty()) {
        add_enforce_entry(overrides, ns);
        validate["failureActionOverrides"] = std::move(overrides);
        has_own_list = true;
        plan.changes.push_back(fmt::format("{}/{}: Enforce in {} (validate.failureActionOverrides)", key, rule.name, join(ns)));
      }
      if (full && base != FailureAction::kEnforce) {
        validate["failureAction"] = "Enforce";
        raw->erase("validationFailureAction");
        plan.changes.push_back(fmt::format("{}/{}: failureAction Enforce (full enforce: {})", key, rule.name, r->full_enforce_reason));
      }
      if (!has_own_list) policy_level_readers.insert(rule.name);
    }
    for (const policy::Rule& rule : p.rules)
      if (!rule.autogen && !rule.verify_images.empty()) policy_level_readers.insert(rule.name);

    std::vector<std::string> policy_level_enforce;
    for (const policy::Rule& rule : p.rules) {
      if (rule.autogen || rule.verify_images.empty()) continue;
      const RuleRollout* r = rollout_of(rule.name);
      bj::object* raw = raw_rule(rule.name);
      if (!r || !raw) continue;
      const FailureAction base = rule.verify_images[0].failure_action.value_or(p.failure_action);
      const bool full = r->full_enforce == Verdict::kGo;
      std::vector<std::string> accepted;
      for (const std::string& ns : targets(*r, policy_overrides, base, full)) {
        std::vector<std::string> blocking;
        for (const std::string& other : policy_level_readers) {
          if (other == rule.name) continue;
          const NamespaceRollout* n = find_ns(rollout_of(other), ns);
          if (n && n->verdict == Verdict::kNoGo) blocking.push_back(other);
        }
        if (!blocking.empty()) {
          plan.held_back.push_back(fmt::format(
              "{}/{}: {} stays in Audit: spec.validationFailureActionOverrides would also enforce {} there, which {} NO-GO",
              key, rule.name, ns, join(blocking), blocking.size() == 1 ? "is" : "are"));
          continue;
        }
        accepted.push_back(ns);
        if (std::find(policy_level_enforce.begin(), policy_level_enforce.end(), ns) == policy_level_enforce.end())
          policy_level_enforce.push_back(ns);
      }
      if (!accepted.empty())
        plan.changes.push_back(
            fmt::format("{}/{}: Enforce in {} (spec.validationFailureActionOverrides)", key, rule.name, join(accepted)));
      if (full && base != FailureAction::kEnforce) {
        if (auto* ivs = raw->if_contains("verifyImages"); ivs && ivs->is_array())
          for (auto& iv : ivs->get_array())
            if (iv.is_object()) iv.get_object()["failureAction"] = "Enforce";
        plan.changes.push_back(fmt::format("{}/{}: verifyImages failureAction Enforce (full enforce: {})", key, rule.name,
                                           r->full_enforce_reason));
      }
    }
    if (!policy_level_enforce.empty()) {
      bj::array overrides = policy_overrides;
      add_enforce_entry(overrides, policy_level_enforce);
      spec_obj["validationFailureActionOverrides"] = std::move(overrides);
    }
    if (doc != p.raw) {
      drop_server_fields(doc);
      plan.documents.push_back(std::move(doc));
    }
  }
  return plan;
}

}  // namespace vouch::admission
