// The mutate handler (Kyverno's pkg/engine/mutation.go, handlers/mutation, mutate/mutation.go):
// the policy's mutate rules apply in order, each to the resource as the rules before it left
// it; a rule that changed the resource passes and carries the JSON Patch of its change.
#include <algorithm>

#include <fmt/format.h>

#include "engine_internal.h"
#include "mutate_patch.h"

namespace vouch::policy {

using namespace engine_internal;

namespace {

struct Mutated {
  RuleStatus status = RuleStatus::kSkip;
  std::string message;
  bj::value resource;  // set when status is pass
};

Mutated error(std::string message) { return {RuleStatus::kError, std::move(message), {}}; }

// One patchStrategicMerge or patchesJson6902, with its references and the context's variables
// substituted (Kyverno's mutate.Mutate and mutate.ForEach). `base` is where the patch stands in
// the document Kyverno substitutes: "/mutate" in a rule, "" in a foreach entry.
Mutated apply_patch(EvalContext& ctx, const std::optional<bj::value>& strategic_merge, const std::string& json6902,
                    const bj::value& resource, const std::string& base) {
  Result<bj::value> patched = bj::value();
  if (strategic_merge) {
    auto patch = ctx.substitute(*strategic_merge, base + "/patchStrategicMerge");
    if (!patch.ok()) return error("variable substitution failed: " + patch.error().message);
    auto merged = mutate_internal::strategic_merge(resource, *patch);
    if (!merged.ok()) return error("failed to patch resource: " + merged.error().message);
    patched = std::move(merged->resource);
  } else if (!json6902.empty()) {
    auto text = ctx.substitute(bj::value(json6902), base + "/patchesJson6902");
    if (!text.ok()) return error("variable substitution failed: " + text.error().message);
    std::string ops = text->is_string() ? std::string(text->get_string()) : bj::serialize(*text);
    patched = mutate_internal::apply_json6902(resource, ops);
    if (!patched.ok()) return error("failed to patch resource: " + patched.error().message);
  } else {
    return error("empty mutate rule");
  }
  if (*patched == resource) return {RuleStatus::kSkip, "no patches applied", {}};
  return {RuleStatus::kPass, "resource patched", std::move(*patched)};
}

// Sets request.object in the context (Kyverno's AddResource), keeping the node count right.
void set_resource(EvalContext& ctx, const bj::value& resource) {
  ctx.change_entry("request", [&](bj::value& request) {
    if (!request.is_object()) request = bj::object{};
    request.as_object()["object"] = resource;
  });
}

// The context entries an iteration sets, to put back before the next one (Kyverno's
// Checkpoint/Reset of the JSON context).
class Saved {
 public:
  Saved(EvalContext& ctx, std::vector<std::string> keys) : ctx_(ctx) {
    for (auto& k : keys) {
      if (std::any_of(saved_.begin(), saved_.end(), [&](const auto& s) { return s.first == k; })) continue;
      const bj::value* v = ctx.obj().if_contains(k);
      saved_.emplace_back(std::move(k), v ? std::optional<bj::value>(*v) : std::nullopt);
    }
  }
  void restore() {
    for (const auto& [k, v] : saved_) {
      if (v) ctx_.set_entry(k, *v);
      else ctx_.erase_entry(k);
    }
  }

 private:
  EvalContext& ctx_;
  std::vector<std::pair<std::string, std::optional<bj::value>>> saved_;
};

struct ForEachMutator {
  EvalContext& ctx;
  const Request& request;

  Mutated list(const std::vector<ForEachMutation>& foreach, bj::value resource, unsigned nesting) {
    int applied = 0;
    for (const auto& fe : foreach) {
      auto found = ctx.query(fe.list);
      if (!found.ok()) return error(fmt::format("failed to evaluate list {}: {}", fe.list, found.error().message));
      bj::array elements;
      if (found->is_array()) elements = std::move(found->get_array());
      else elements.push_back(std::move(*found));
      Mutated m = elements_of(fe, elements, resource, nesting);
      if (m.status == RuleStatus::kError) return error("failed to mutate elements: " + m.message);
      if (m.status == RuleStatus::kSkip) continue;
      ++applied;
      if (m.status == RuleStatus::kPass) resource = std::move(m.resource);
      set_resource(ctx, resource);
    }
    std::string msg = fmt::format("{} elements processed", applied);
    if (applied == 0) return {RuleStatus::kSkip, msg, {}};
    return {RuleStatus::kPass, msg, std::move(resource)};
  }

  Mutated elements_of(const ForEachMutation& fe, const bj::array& elements, const bj::value& resource,
                      unsigned nesting) {
    std::vector<std::string> keys = {"element", "elementIndex", fmt::format("element{}", nesting),
                                     fmt::format("elementIndex{}", nesting)};
    for (const auto& entry : fe.context) keys.push_back(split_dotted(entry.name).front());
    if (!fe.foreach.empty()) keys.push_back("request");  // a nested foreach updates request.object
    Saved saved(ctx, std::move(keys));
    bj::value patched = resource;
    // kustomize applies a list of strategic merge patches in reverse: so does Kyverno, unless
    // the order is given.
    bool reverse = fe.descending.value_or(fe.patch_strategic_merge.has_value());
    for (size_t n = 0; n < elements.size(); ++n) {
      size_t index = reverse ? elements.size() - 1 - n : n;
      const bj::value& element = elements[index];
      if (element.is_null()) continue;
      saved.restore();
      ctx.set_entry("element", element);
      ctx.set_entry("elementIndex", static_cast<int64_t>(index));
      ctx.set_entry(fmt::format("element{}", nesting), element);
      ctx.set_entry(fmt::format("elementIndex{}", nesting), static_cast<int64_t>(index));
      if (auto st = ctx.load_context(fe.context, request); !st.ok()) {
        saved.restore();
        return error(fmt::format("failed to load to mutate.foreach[{}].context: {}", index, st.error().message));
      }
      if (fe.preconditions) {
        auto p = evaluate_conditions(ctx, *fe.preconditions);
        if (!p.ok()) {
          saved.restore();
          return error(fmt::format("failed to evaluate mutate.foreach[{}].preconditions: {}", index, p.error().message));
        }
        if (!p->value) continue;
      }
      Mutated m = fe.foreach.empty() ? apply_patch(ctx, fe.patch_strategic_merge, fe.patches_json6902, patched, "")
                                     : list(fe.foreach, patched, nesting + 1);
      if (m.status == RuleStatus::kFail || m.status == RuleStatus::kError) {
        saved.restore();
        return m;
      }
      if (m.status == RuleStatus::kPass) patched = std::move(m.resource);
    }
    saved.restore();
    if (patched != resource) return {RuleStatus::kPass, "", std::move(patched)};
    return {RuleStatus::kSkip, "no patches applied", {}};
  }
};

// Kyverno's message for a resource it mutated.
std::string mutated_message(const bj::value& resource) {
  std::string kind = str_at(resource, {"kind"});
  std::string name = str_at(resource, {"metadata", "name"});
  std::string ns = str_at(resource, {"metadata", "namespace"});
  if (ns.empty()) return fmt::format("mutated {}/{}", kind, name);
  return fmt::format("mutated {}/{} in namespace {}", kind, name, ns);
}

}  // namespace

bool engine_internal::has_mutate_rules(const Policy& policy) {
  return std::any_of(policy.rules.begin(), policy.rules.end(), [](const Rule& r) { return r.mutate.has_value(); });
}

void Engine::mutate_rules(const Policy& policy, const std::string& policy_name, const std::string& operation,
                          Request& request, std::vector<RuleResult>& out) const {
  // A DELETE has no new resource to mutate (Kyverno matches mutate rules on the new resource).
  if (operation == "DELETE") return;
  size_t first = out.size();
  int applied = 0;
  for (const Rule& rule : policy.rules) {
    if (!rule.mutate) continue;
    ResourceRef ref = resource_ref(request.object);
    MatchInput in{&request.object, ref, &request, operation};
    if (!rule_matches(rule, in)) continue;
    RuleResult result;
    result.policy = policy_name;
    result.rule = rule.name;
    result.autogen = rule.autogen;
    result.origin_rule = rule.origin;
    result.type = "Mutation";
    // A mutation that fails blocks the request under failurePolicy Fail (Kyverno's BlockRequest).
    result.action = policy.failure_policy == "Fail" ? FailureAction::kEnforce : FailureAction::kAudit;
    result.properties = rule.report_properties;
    auto finish = [&](RuleStatus s, std::string msg) {
      result.status = s;
      result.message = std::move(msg);
      if (s == RuleStatus::kPass || s == RuleStatus::kFail) ++applied;
      out.push_back(std::move(result));
    };
    if (rule.mutate->targets) {
      // mutateExisting reads and writes other resources of the cluster.
      result.action = FailureAction::kAudit;
      finish(RuleStatus::kError,
             "mutate.targets (mutate existing resources) needs the target resources of a cluster: not evaluated offline");
      continue;
    }
    EvalContext ctx{*this, bj::value(request_variables(request, operation, ref)), operation == "DELETE"};
    if (auto ended = rule_gate(policy, policy_name, rule, in, ctx, request)) {
      finish(ended->first, std::move(ended->second));
      continue;
    }
    const Mutation& m = *rule.mutate;
    Mutated done = m.foreach.empty() ? apply_patch(ctx, m.patch_strategic_merge, m.patches_json6902, request.object, "/mutate")
                                     : ForEachMutator{ctx, request}.list(m.foreach, request.object, 0);
    if (done.status == RuleStatus::kPass) {
      result.patches = mutate_internal::json_diff(request.object, done.resource);
      request.object = std::move(done.resource);
      done.message = mutated_message(request.object);
    }
    finish(done.status, std::move(done.message));
    if (policy.apply_rules == "One" && applied > 0) break;
  }
  // Kyverno's PatchedResource: the resource once all of the policy's mutate rules applied.
  for (size_t i = first; i < out.size(); ++i) out[i].patched_resource = request.object;
}

}  // namespace vouch::policy
