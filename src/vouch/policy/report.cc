// PolicyReports from rule results.
#include "vouch/policy/report.h"

namespace vouch::policy {

RuleStatus reported_status(const RuleResult& result, bool audit_warn) {
  if (result.status == RuleStatus::kFail && audit_warn && result.action == FailureAction::kAudit) return RuleStatus::kWarn;
  return result.status;
}

bj::object report_result(const RuleResult& result, const ResourceRef& resource) {
  bj::object r{{"policy", result.policy},
               {"rule", result.rule},
               {"resource", bj::object{{"apiVersion", resource.api_version},
                                       {"kind", resource.kind},
                                       {"namespace", resource.ns},
                                       {"name", resource.name}}},
               {"result", rule_status_name(result.status)},
               {"message", result.message},
               {"type", result.type},
               {"failureAction", failure_action_name(result.action)},
               {"source", "kyverno"}};
  if (!result.patches.empty()) {
    bj::array ops(result.patches.begin(), result.patches.end());
    r["properties"] = bj::object{{"patches", bj::serialize(ops)}};
  }
  return r;
}

bj::object cluster_policy_report(const std::string& name, const ReportSummary& summary, bj::array results) {
  bj::object counts;
  for (const auto& [k, v] : summary.counts) counts[k] = v;
  return bj::object{{"apiVersion", "wgpolicyk8s.io/v1alpha2"},
                    {"kind", "ClusterPolicyReport"},
                    {"metadata", bj::object{{"name", name}}},
                    {"summary", std::move(counts)},
                    {"results", std::move(results)}};
}

}  // namespace vouch::policy
