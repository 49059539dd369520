// The validate handler: pattern, anyPattern, deny and foreach.
#include "engine_internal.h"

#include <algorithm>

#include <fmt/format.h>

#include "vouch/policy/pattern.h"

namespace vouch::policy {

namespace engine_internal {

// The first segment of a dotted variable name: the context entry it lives under.
std::string top_segment(const std::string& name) { return split_dotted(name).front(); }

// Top-level context entries as they were when made, to put back: a foreach iteration
// starts from the context its loop started from.
class ContextCheckpoint {
 public:
  ContextCheckpoint(EvalContext& ctx, const std::vector<std::string>& keys) : ctx_(ctx) {
    for (const auto& key : keys) {
      if (std::any_of(saved_.begin(), saved_.end(), [&](const auto& s) { return s.first == key; })) continue;
      auto* v = ctx.obj().if_contains(key);
      saved_.emplace_back(key, v ? std::optional<bj::value>(*v) : std::nullopt);
    }
  }

  void restore() {
    // Entries absent at the checkpoint were added after every entry kept in place, so
    // erasing them leaves the order of the others as it was.
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) ctx_.set_entry(it->first, *it->second);
      else ctx_.erase_entry(it->first);
    }
  }

 private:
  EvalContext& ctx_;
  std::vector<std::pair<std::string, std::optional<bj::value>>> saved_;
};

std::optional<std::string> Validator::substituted_message() {
  auto m = ctx.substitute(bj::value(message));
  if (!m.ok()) return std::nullopt;
  return m->is_string() ? std::string(m->get_string()) : "the produced message didn't resolve to a string, check your policy definition.";
}

// A message whose variables do not resolve is replaced by the failure itself, as Kyverno's
// buildErrorMessage and buildAnyPatternErrorMessage do (the rule keeps its fail or error status).
namespace {
std::string unresolved_message(const std::string& rule_name, const std::string& err) {
  return fmt::format("validation error: variables substitution error in rule {} execution error: {}", rule_name, err);
}
}  // namespace

std::string Validator::error_message(const std::string& err, const std::string& path) {
  if (message.empty()) {
    if (!path.empty()) return fmt::format("validation error: rule {} failed at path {}", rule.name, path);
    return fmt::format("validation error: rule {} execution error: {}", rule.name, err);
  }
  std::optional<std::string> substituted = substituted_message();
  if (!substituted) return unresolved_message(rule.name, err);
  std::string msg = std::move(*substituted);
  if (!msg.ends_with(".")) msg += ".";
  if (!path.empty()) return fmt::format("validation error: {} rule {} failed at path {}", msg, rule.name, path);
  return fmt::format("validation error: {} rule {} execution error: {}", msg, rule.name, err);
}

Outcome Validator::patterns(const bj::value& resource, const std::optional<bj::value>& pattern,
                 const std::optional<bj::array>& any_pattern) {
  if (pattern) {
    auto p = ctx.substitute(*pattern);
    if (!p.ok()) return {RuleStatus::kError, "variable substitution failed: " + p.error().message};
    auto r = match_pattern(resource, *p);
    switch (r.kind) {
      case PatternResult::kPass: return {RuleStatus::kPass, fmt::format("validation rule '{}' passed.", rule.name)};
      case PatternResult::kSkip: return {RuleStatus::kSkip, r.message};
      case PatternResult::kFail: return {RuleStatus::kFail, error_message(r.message, r.path)};
      case PatternResult::kError: return {RuleStatus::kError, error_message(r.message, "")};
    }
  }
  // Kyverno resolves the references of the whole anyPattern list before any of its patterns.
  std::optional<bj::value> resolved;
  if (std::any_of(any_pattern->begin(), any_pattern->end(), [](const bj::value& p) { return mentions_reference(p); })) {
    auto r = substitute_references(bj::value(*any_pattern));
    if (!r.ok()) return {RuleStatus::kError, "variable substitution failed: " + r.error().message};
    resolved = std::move(*r);
  }
  const bj::array& any = resolved ? resolved->get_array() : *any_pattern;
  std::vector<std::string> failed, skipped;
  for (size_t i = 0; i < any.size(); ++i) {
    auto p = ctx.substitute_variables(any[i]);
    if (!p.ok()) return {RuleStatus::kError, "variable substitution failed: " + p.error().message};
    auto r = match_pattern(resource, *p);
    if (r.kind == PatternResult::kPass)
      return {RuleStatus::kPass, fmt::format("validation rule '{}' anyPattern[{}] passed.", rule.name, i)};
    if (r.kind == PatternResult::kSkip) {
      skipped.push_back(fmt::format("rule {}[{}] skipped: {}", rule.name, i, r.message));
    } else if (r.path.empty()) {
      failed.push_back(fmt::format("rule {}[{}] failed: {}", rule.name, i, r.message));
    } else {
      failed.push_back(fmt::format("rule {}[{}] failed at path {}", rule.name, i, r.path));
    }
  }
  if (failed.empty() && !skipped.empty()) return {RuleStatus::kSkip, join_non_empty(skipped, " ")};
  std::string joined = join_non_empty(failed, " ");
  if (message.empty()) return {RuleStatus::kFail, fmt::format("validation error: {}", joined)};
  std::optional<std::string> substituted = substituted_message();
  if (!substituted) return {RuleStatus::kFail, unresolved_message(rule.name, joined)};
  std::string msg = std::move(*substituted);
  if (!msg.ends_with(".")) msg += ".";
  return {RuleStatus::kFail, fmt::format("validation error: {} {}", msg, joined)};
}

Outcome Validator::deny(const Conditions& conds) {
  auto r = evaluate_conditions(ctx, conds);
  if (!r.ok()) return {RuleStatus::kError, "failed to check deny conditions: " + r.error().message};
  if (!r->value) return {RuleStatus::kPass, fmt::format("validation rule '{}' passed.", rule.name)};
  if (message.empty() && r->message.empty())
    return {RuleStatus::kFail, fmt::format("validation error: rule {} failed", rule.name)};
  auto m = ctx.substitute(bj::value(join_non_empty({message, r->message}, "; ")));
  if (!m.ok()) return {RuleStatus::kFail, r->message};
  return {RuleStatus::kFail, m->is_string() ? std::string(m->get_string()) : "the produced message didn't resolve to a string, check your policy definition."};
}

Outcome Validator::foreach_list(const std::vector<ForEachValidation>& list, unsigned nesting) {
  int applied = 0;
  std::optional<std::string> list_error;
  for (const auto& fe : list) {
    auto elements = ctx.query(fe.list);
    if (!elements.ok()) {
      if (elements.error().message.find("Unknown key") != std::string::npos) continue;
      list_error = elements.error().message;
      continue;
    }
    if (elements->is_null()) continue;
    if (!elements->is_array()) {
      list_error = fmt::format("failed to evaluate list {}: expected a list", fe.list);
      continue;
    }
    int count = 0;
    Outcome r = foreach_elements(fe, elements->get_array(), nesting, count);
    if (r.status != RuleStatus::kPass) return r;
    applied += count;
  }
  if (applied == 0) {
    if (list_error) return {RuleStatus::kError, "failed to evaluate list: " + *list_error};
    return {RuleStatus::kSkip, "", true};
  }
  return {RuleStatus::kPass, "rule passed"};
}

Outcome Validator::foreach_elements(const ForEachValidation& fe, const bj::array& elements, unsigned nesting, int& applied) {
  // Each element starts from the context as it was before the loop. Only the top-level
  // entries an iteration sets (the element variables and the foreach's own context) are
  // kept and put back: copying the whole context, which holds the resource, per element
  // made a foreach over a resource's N containers cost N².
  std::vector<std::string> keys = {"element", "elementIndex", fmt::format("element{}", nesting),
                                   fmt::format("elementIndex{}", nesting)};
  for (const auto& entry : fe.context) keys.push_back(top_segment(entry.name));
  ContextCheckpoint saved(ctx, keys);
  for (size_t i = 0; i < elements.size(); ++i) {
    const auto& element = elements[i];
    if (element.is_null()) continue;
    if (fe.element_scope.value_or(false) && !element.is_object()) {
      saved.restore();
      return {RuleStatus::kError,
              fmt::format("failed to process foreach: cannot use elementScope=true foreach rules for elements that are "
                          "not maps, expected type=map got type={}", element.is_string() ? "string" : jmespath::type_name(element))};
    }
    saved.restore();
    ctx.set_entry("element", element);
    ctx.set_entry("elementIndex", static_cast<int64_t>(i));
    ctx.set_entry(fmt::format("element{}", nesting), element);
    ctx.set_entry(fmt::format("elementIndex{}", nesting), static_cast<int64_t>(i));
    Outcome r = foreach_one(fe, element, nesting);
    if (r.none || r.status == RuleStatus::kSkip) continue;
    if (r.status != RuleStatus::kPass) {
      if (r.status == RuleStatus::kError && r.message.find("failed to evaluate preconditions") != std::string::npos) continue;
      saved.restore();
      return {r.status, fmt::format("validation failure: {}", r.message)};
    }
    ++applied;
  }
  saved.restore();
  return {RuleStatus::kPass, ""};
}

Outcome Validator::foreach_one(const ForEachValidation& fe, const bj::value& element, unsigned nesting) {
  auto st = ctx.load_context(fe.context, request);
  if (!st.ok()) return {RuleStatus::kError, "failed to load context: " + st.error().message};
  if (fe.preconditions) {
    auto p = evaluate_conditions(ctx, *fe.preconditions);
    if (!p.ok()) return {RuleStatus::kError, "failed to evaluate preconditions: " + p.error().message};
    if (!p->value) return {RuleStatus::kSkip, join_non_empty({"preconditions not met", p->message}, "; ")};
  }
  if (fe.deny) return deny(*fe.deny);
  if (fe.pattern || fe.any_pattern) {
    bool scope = fe.element_scope.value_or(element.is_object());
    if (scope) return patterns(element, fe.pattern, fe.any_pattern);
    // The whole resource, read in place (validation does not change the context).
    static const bj::value kNone;
    const bj::value* resource = nullptr;
    if (auto* req = ctx.obj().if_contains("request"); req && req->is_object())
      resource = req->get_object().if_contains("object");
    return patterns(resource ? *resource : kNone, fe.pattern, fe.any_pattern);
  }
  return foreach_list(fe.foreach, nesting + 1);
}

}  // namespace engine_internal

}  // namespace vouch::policy
