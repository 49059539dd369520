// Conditions (preconditions, deny, attestation conditions): any/all lists of operators.
#include "engine_internal.h"

namespace vouch::policy {

namespace engine_internal {

std::string join_non_empty(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const auto& p : parts) {
    if (p.empty()) continue;
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

Result<bool> evaluate_condition(EvalContext& ctx, const Condition& c, std::string& message) {
  auto key = ctx.substitute(c.key);
  if (!key.ok()) return invalid_input("failed to substitute variables in condition key: " + key.error().message);
  auto value = ctx.substitute(c.value);
  if (!value.ok()) return invalid_input("failed to substitute variables in condition value: " + value.error().message);
  message = c.message;
  return evaluate_operator(c.op, *key, *value);
}

Result<CondResult> evaluate_conditions(EvalContext& ctx, const Conditions& conds) {
  bool any_result = true, all_result = true;
  std::vector<std::string> true_msgs, false_msgs;
  if (conds.any) {
    any_result = false;
    for (const auto& c : *conds.any) {
      std::string msg;
      VOUCH_ASSIGN_OR_RETURN(bool v, evaluate_condition(ctx, c, msg));
      if (v) {
        any_result = true;
        true_msgs.push_back(msg);
        break;
      }
      false_msgs.push_back(msg);
    }
  }
  for (const auto& c : conds.all) {
    std::string msg;
    VOUCH_ASSIGN_OR_RETURN(bool v, evaluate_condition(ctx, c, msg));
    if (!v) {
      all_result = false;
      false_msgs.push_back(msg);
      break;
    }
    true_msgs.push_back(msg);
  }
  bool result = any_result && all_result;
  return CondResult{result, join_non_empty(result ? true_msgs : false_msgs, "; ")};
}

}  // namespace engine_internal

}  // namespace vouch::policy
