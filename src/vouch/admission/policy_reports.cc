// PolicyReports from the latest results.
#include "vouch/admission/policy_reports.h"

#include <algorithm>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "vouch/policy/report.h"

namespace vouch::admission {

namespace bj = boost::json;

std::string cel_result_type(std::string_view policy_kind) {
  if (policy_kind == "ValidatingAdmissionPolicy") return "ValidatingAdmissionPolicy/Validation";
  return fmt::format("Kyverno{}/Validation", policy_kind);
}

bj::object policy_report_result(const RecordedResult& recorded) {
  bj::object out = policy::report_result(recorded.result, recorded.resource, recorded.when);
  // Kyverno reports a failure of an unscored policy (policies.kyverno.io/scored: "false") as a
  // warning; the store keeps the result as the engine gave it.
  out["result"] = policy::rule_status_name(policy::reported_status(recorded.result, false));
  if (size_t slash = recorded.result.type.find('/'); slash != std::string::npos) {
    out["source"] = recorded.result.type.substr(0, slash);
    out["properties"].as_object()["type"] = recorded.result.type.substr(slash + 1);
  }
  if (auto* resources = out.if_contains("resources"); resources && resources->is_array() && !resources->get_array().empty()) {
    auto& ref = resources->get_array()[0].as_object();
    // An ObjectReference leaves out what it does not have (omitempty): no namespace for a
    // cluster-scoped resource.
    if (recorded.resource.ns.empty()) ref.erase("namespace");
    if (!recorded.resource_uid.empty()) ref["uid"] = recorded.resource_uid;
  }
  if (!recorded.process.empty()) out["properties"].as_object()["process"] = recorded.process;
  return out;
}

bj::object policy_report(const std::string& ns, const std::vector<RecordedResult>& results) {
  std::vector<const RecordedResult*> mine;
  for (const RecordedResult& r : results)
    if (r.resource.ns == ns) mine.push_back(&r);
  auto key = [](const RecordedResult* r) {
    return std::tie(r->resource.kind, r->resource.name, r->resource.api_version, r->result.policy, r->result.rule);
  };
  std::sort(mine.begin(), mine.end(), [&](const RecordedResult* a, const RecordedResult* b) { return key(a) < key(b); });
  policy::ReportSummary summary;
  bj::array items;
  for (const RecordedResult* r : mine) {
    summary.add(policy::reported_status(r->result, false));
    items.push_back(policy_report_result(*r));
  }
  bj::object counts;
  for (const char* status : {"pass", "fail", "warn", "error", "skip"}) counts[status] = summary[status];
  bj::object labels{{kManagedByLabel, kManagedByValue}};
  bj::object metadata;
  if (ns.empty()) {
    metadata = bj::object{{"name", "clusterpolicyreport"}, {"labels", std::move(labels)}};
  } else {
    metadata = bj::object{{"name", "polr-ns-" + ns}, {"namespace", ns}, {"labels", std::move(labels)}};
  }
  return bj::object{{"apiVersion", "wgpolicyk8s.io/v1alpha2"},
                    {"kind", ns.empty() ? "ClusterPolicyReport" : "PolicyReport"},
                    {"metadata", std::move(metadata)},
                    {"summary", std::move(counts)},
                    {"results", std::move(items)}};
}

bj::object policy_report_list(const std::vector<RecordedResult>& latest, const std::optional<std::string>& ns) {
  bj::array items;
  if (ns) {
    bool any = std::any_of(latest.begin(), latest.end(), [&](const RecordedResult& r) { return r.resource.ns == *ns; });
    if (any) items.push_back(policy_report(*ns, latest));
  } else {
    std::map<std::string, bool> namespaces;  // sorted; "" (cluster-scoped) first
    for (const RecordedResult& r : latest) namespaces[r.resource.ns] = true;
    for (const auto& [name, present] : namespaces)
      if (!name.empty()) items.push_back(policy_report(name, latest));
    if (namespaces.count("")) items.push_back(policy_report("", latest));
  }
  return bj::object{{"apiVersion", "v1"},
                    {"kind", "List"},
                    {"items", std::move(items)},
                    {"metadata", bj::object{{"resourceVersion", ""}}}};
}

}  // namespace vouch::admission
