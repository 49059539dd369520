// PolicyReport (wgpolicyk8s.io/v1alpha2) construction from rule results, as `kyverno apply
// --policy-report` and the admission controller's reports give them.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "vouch/base/time.h"
#include "vouch/policy/engine.h"

namespace vouch::policy {

// The status a result is reported with: a failure of a policy that is not scored
// (policies.kyverno.io/scored: "false") is a warning, as Kyverno reports it; with `audit_warn`,
// so is a failure of an Audit rule (`kyverno apply --audit-warn`).
RuleStatus reported_status(const RuleResult& result, bool audit_warn);

// One entry of a report's results, as a PolicyReportResult: source, policy, rule, result, scored,
// message, timestamp (`when`), resources (the one resource); properties: type, failureAction
// and the JSON patches the rule makes (patches).
boost::json::object report_result(const RuleResult& result, const ResourceRef& resource, UnixSeconds when);

// Counts of results by status name: pass, fail, warn, error, skip (all present).
struct ReportSummary {
  std::map<std::string, int> counts{{"pass", 0}, {"fail", 0}, {"warn", 0}, {"error", 0}, {"skip", 0}};
  void add(RuleStatus status) { counts[std::string(rule_status_name(status))]++; }
  int operator[](const std::string& status) const { return counts.at(status); }
};

// A ClusterPolicyReport named `name` with its summary and results.
boost::json::object cluster_policy_report(const std::string& name, const ReportSummary& summary,
                                          boost::json::array results);

}  // namespace vouch::policy
