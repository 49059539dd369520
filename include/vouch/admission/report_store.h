// The report store: every rule result the admission webhook or a background scan produced,
// kept twice. The latest result per (resource, policy, rule) is what PolicyReports show; the
// history of all results over a retention period is what the audit → enforce ladder reads.
// SQLite by default (one file that several processes may share), PostgreSQL so that several
// webhook replicas share one store.
//
//   auto store = open_report_store(default_report_store_url());
//   (*store)->record({{.result = r, .resource = ref, .process = "admission review", .when = now_unix()}});
//   auto latest = (*store)->latest(std::nullopt);
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vouch/base/result.h"
#include "vouch/base/time.h"
#include "vouch/policy/engine.h"

namespace vouch::admission {

// Kyverno's properties.process values.
inline constexpr std::string_view kProcessAdmission = "admission review";
inline constexpr std::string_view kProcessBackgroundScan = "background scan";

// One rule result for one resource, as the webhook or a background scan produced it.
struct RecordedResult {
  // policy, rule, type, status (as the engine gave it), message, action, patches, properties
  // (the rule's reportProperties) and scored (PolicyReports show an unscored failure as warn)
  policy::RuleResult result;
  policy::ResourceRef resource;  // apiVersion, kind, name, ns ("" for cluster-scoped)
  std::string resource_uid;      // metadata.uid when the resource has one
  std::string process;           // kProcessAdmission or kProcessBackgroundScan
  UnixSeconds when = 0;
};

// A resource's fail or error results of one rule in a time window.
struct ResultGroup {
  policy::ResourceRef resource;
  std::string resource_uid;  // of the newest result
  policy::RuleStatus status = policy::RuleStatus::kFail;
  int64_t count = 0;
  UnixSeconds first_seen = 0, last_seen = 0;
  std::string message;  // of the newest result
};

// What the history holds about one rule in one namespace.
struct RuleHistory {
  std::string ns;  // "" for cluster-scoped resources
  std::string policy;
  // The rule as written: results of autogen rules (autogen-<rule>) count for <rule>.
  std::string rule;
  // The first and the newest result recorded for the rule here. The first is kept while the
  // rule keeps getting results within the retention, so it may lie before the window.
  UnixSeconds first_recorded = 0, last_recorded = 0;
  policy::FailureAction action = policy::FailureAction::kAudit;  // of the newest result
  std::map<std::string, int64_t> counts;  // results in the window by status name (only those seen)
  std::vector<ResultGroup> problems;       // fail and error results in the window, by resource
};

struct ReportStoreOptions {
  // History older than this is pruned on write.
  std::chrono::seconds retention = std::chrono::hours(24 * 90);
  // The current time, for pruning (now_unix when empty).
  std::function<UnixSeconds()> clock = nullptr;
  // A SQLite file that does not exist is an error rather than a new store (for read-only uses).
  bool must_exist = false;
};

class ReportStore {
 public:
  virtual ~ReportStore() = default;

  // Records results durably (one transaction; acknowledged only once committed). The latest
  // result per (resource, policy, rule) replaces the previous one unless it is older; every
  // result is also kept in the history, where results older than the retention are pruned.
  // Thread-safe: calls that arrive while a transaction commits are written together in the
  // next one.
  virtual Status record(const std::vector<RecordedResult>& results) = 0;

  // The latest result per (resource, policy, rule), of the resources in namespace `ns` ("" for
  // cluster-scoped ones), or of all when `ns` is nullopt. In no particular order.
  virtual Result<std::vector<RecordedResult>> latest(const std::optional<std::string>& ns) = 0;

  // Per (namespace, policy, rule) of the history: the results since `since`, counted by the
  // status the engine gave (a failure of an unscored policy is a fail: Enforce would block it),
  // and the fail and error ones by resource. Rules with no result kept are absent.
  virtual Result<std::vector<RuleHistory>> history(UnixSeconds since, const std::optional<std::string>& ns) = 0;
};

// $VOUCH_REPORTS when set, else "vouch-reports.db" in the working directory: the store the
// webhook writes and `vouch report`, `vouch rollout` and `vouch admission scan` use by default.
std::string default_report_store_url();

// "postgres://…" or "postgresql://…" (a libpq URI): PostgreSQL; "sqlite:PATH" or a plain path:
// a SQLite file (WAL journal, synchronous=FULL, created unless options.must_exist). Tables are
// created or migrated on open.
Result<std::unique_ptr<ReportStore>> open_report_store(const std::string& url, ReportStoreOptions options = {});

}  // namespace vouch::admission
