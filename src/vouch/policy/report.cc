// PolicyReports from rule results.
#include "vouch/policy/report.h"

namespace vouch::policy {

RuleStatus reported_status(const RuleResult& result, bool audit_warn) {
  if (result.status == RuleStatus::kFail && !result.scored) return RuleStatus::kWarn;
  if (result.status == RuleStatus::kFail && audit_warn && result.action == FailureAction::kAudit) return RuleStatus::kWarn;
  return result.status;
}

bj::object report_result(const RuleResult& result, const ResourceRef& resource, UnixSeconds when) {
  // PolicyReportResult (wgpolicyk8s.io/v1alpha2): the resource as an ObjectReference in
  // `resources`, and what the type has no field for in `properties` (string values).
  bj::object properties;
  for (const auto& [k, v] : result.properties) properties[k] = v;  // rule.reportProperties
  properties["type"] = result.type;
  properties["failureAction"] = failure_action_name(result.action);
  if (!result.patches.empty()) {
    bj::array ops(result.patches.begin(), result.patches.end());
    properties["patches"] = bj::serialize(ops);
  }
  return bj::object{{"source", "kyverno"},
                    {"policy", result.policy},
                    {"rule", result.rule},
                    {"result", rule_status_name(result.status)},
                    {"scored", result.scored},
                    {"message", result.message},
                    {"timestamp", bj::object{{"seconds", when}, {"nanos", 0}}},
                    {"resources", bj::array{bj::object{{"apiVersion", resource.api_version},
                                                       {"kind", resource.kind},
                                                       {"namespace", resource.ns},
                                                       {"name", resource.name}}}},
                    {"properties", std::move(properties)}};
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
