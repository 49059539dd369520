// PolicyReports (wgpolicyk8s.io/v1alpha2) from the report store's latest results, shaped as
// Kyverno writes its aggregated reports: one PolicyReport per namespace (polr-ns-<namespace>)
// and one ClusterPolicyReport (clusterpolicyreport) for cluster-scoped resources, so that what
// users run against `kubectl get policyreport -A -o json` works on `vouch report get -A -o json`.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "vouch/admission/report_store.h"

namespace vouch::admission {

// The label Kyverno's reports carry, kept so that selectors on the key still find them; its
// value names vouch.
inline constexpr std::string_view kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr std::string_view kManagedByValue = "vouch";

// The type a result of a CEL policy kind is recorded with: Kyverno's report source for the kind
// and the rule type, "KyvernoValidatingPolicy/Validation" (ValidatingAdmissionPolicy for
// Kubernetes' kind), so that the report stores keep the source without a column of their own.
// policy_report_result writes it back as `source` and properties.type.
std::string cel_result_type(std::string_view policy_kind);

// One results[] entry: policy::report_result's fields (the rule's reportProperties among the
// properties), properties.process, and the resource's uid in resources[0] when known (no
// namespace there for a cluster-scoped resource). `result` is the status Kyverno reports: warn
// for a failure of an unscored policy (scored: false).
boost::json::object policy_report_result(const RecordedResult& recorded);

// The PolicyReport of namespace `ns` (or, for ns "", the ClusterPolicyReport) with the results
// of `results` that belong to it, sorted by resource (kind, name), policy and rule, and their
// summary {pass, fail, warn, error, skip} of the statuses reported.
boost::json::object policy_report(const std::string& ns, const std::vector<RecordedResult>& results);

// A Kubernetes List ({"apiVersion": "v1", "kind": "List", "items": […], "metadata":
// {"resourceVersion": ""}}) of the reports: of namespace `ns` only, or, with nullopt, one
// PolicyReport per namespace that has results (by name) followed by the ClusterPolicyReport
// when cluster-scoped resources have results.
boost::json::object policy_report_list(const std::vector<RecordedResult>& latest, const std::optional<std::string>& ns);

}  // namespace vouch::admission
