// The audit → enforce ladder, read from the report store's history. The practice it encodes:
// a rule runs in Audit for a few weeks (14 days by default), its failures are triaged, then it
// is enforced namespace by namespace (partial enforce: Kyverno's failureActionOverrides with
// action Enforce), and cluster-wide once every namespace is ready (full enforce).
//
//   GO for a namespace: no fail or error result of the rule there in the whole window, and
//   results recorded for the rule there for at least the window ("only N days of reports"
//   otherwise: a quiet week proves nothing about a fortnight), some of them in the window
//   (a resource that failed before it may still be running).
//   Full enforce GO: every namespace with results (and the cluster-scoped resources) is GO or
//   already enforcing.
//
//   auto status = rollout_status(*store, {.days = 14});
//   RolloutPlan plan = plan_rollout(policies, *status);   // the changed policy documents
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "vouch/admission/report_store.h"
#include "vouch/policy/policy.h"

namespace vouch::admission {

enum class Stage { kAudit, kPartialEnforce, kFullEnforce };
std::string_view stage_name(Stage stage);  // "audit", "partial enforce", "full enforce"

enum class Verdict { kGo, kNoGo, kEnforced };
std::string_view verdict_name(Verdict verdict);  // "GO", "NO-GO", "ENFORCED"

// One rule in one namespace over the window.
struct NamespaceRollout {
  std::string ns;  // "" for cluster-scoped resources
  // The rule's action here, as its newest result applied it.
  policy::FailureAction action = policy::FailureAction::kAudit;
  std::map<std::string, int64_t> counts;  // results in the window by status name
  int64_t failures = 0;                   // fail and error results in the window
  UnixSeconds first_failure = 0, last_failure = 0;
  std::vector<ResultGroup> failing;  // by resource, the most recent first
  UnixSeconds observed_since = 0;    // the first result recorded for the rule here
  int observed_days = 0;
  Verdict verdict = Verdict::kNoGo;
  std::string reason;
};

struct RuleRollout {
  std::string policy;  // as results name it: "name", or "namespace/name" for a Policy
  std::string rule;    // as written (autogen results count for the rule they came from)
  Stage stage = Stage::kAudit;
  std::vector<NamespaceRollout> namespaces;  // by name; "" (cluster-scoped) first
  Verdict full_enforce = Verdict::kNoGo;
  std::string full_enforce_reason;
};

struct RolloutStatus {
  int days = 14;
  UnixSeconds now = 0, since = 0;
  std::vector<RuleRollout> rules;  // by policy, then rule
};

struct RolloutOptions {
  int days = 14;
  UnixSeconds now = 0;  // now_unix() when 0
};

// The ladder from history that `store.history(now - days)` returned.
RolloutStatus assess_rollout(const std::vector<RuleHistory>& history, const RolloutOptions& options);
// Reads the history of the window from `store` and assesses it; days must be 1 or more.
Result<RolloutStatus> rollout_status(ReportStore& store, const RolloutOptions& options = {});

// The status for people (one block per rule) and for programs. With `ns`, only that namespace's
// rows are shown (the full-enforce verdict still covers every namespace).
std::string rollout_status_table(const RolloutStatus& status, const std::optional<std::string>& ns = std::nullopt);
boost::json::object rollout_status_json(const RolloutStatus& status, const std::optional<std::string>& ns = std::nullopt);

// The policy changes that move every GO namespace to Enforce, as documents to apply.
//  - validate rule, partial: an entry {action: Enforce, namespaces: [the GO ones]} at the front
//    of validate.failureActionOverrides (the policy's validationFailureActionOverrides are
//    copied after it when the rule had none, since a rule-level list replaces them).
//  - verifyImages rule, partial: the same entry in spec.validationFailureActionOverrides (Kyverno
//    has no per-rule override for verifyImages). That list applies to every rule of the policy
//    without a list of its own, so a namespace is held back when one of those rules is NO-GO there.
//  - full enforce: failureAction: Enforce on the rule (validate.failureAction, or each
//    verifyImages entry's failureAction), and Enforce entries for GO namespaces that an Audit
//    override would otherwise keep in Audit.
// Namespaces that an Enforce override already names are left as they are, so applying a plan
// and planning again changes nothing. Overrides by namespaceSelector are kept and not
// evaluated (labels are not known here). Server-set fields (status, metadata.resourceVersion,
// uid, generation, creationTimestamp, managedFields) are dropped from the documents.
struct RolloutPlan {
  std::vector<boost::json::value> documents;  // the changed policies, in input order
  std::vector<std::string> changes;           // one line per change
  std::vector<std::string> held_back;         // GO namespaces left in Audit, and why
};
RolloutPlan plan_rollout(const std::vector<policy::Policy>& policies, const RolloutStatus& status);

}  // namespace vouch::admission
