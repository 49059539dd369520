// What the SQLite and PostgreSQL report stores share: the rows a set of results becomes, and the
// group commit that turns concurrent record() calls into one transaction.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "vouch/admission/report_store.h"

namespace vouch::admission::report_store_internal {

// The API group of an apiVersion ("apps/v1" → "apps", "v1" → ""): a resource is the same object
// whichever version it was seen in.
std::string api_group(const std::string& api_version);
// The rule as written: origin_rule for autogen rules.
const std::string& written_rule(const policy::RuleResult& result);
Result<policy::RuleStatus> parse_status(std::string_view name);
policy::FailureAction parse_action(std::string_view name);
// A result's reportProperties as stored: a JSON object of strings ("{}" when it has none).
std::string properties_text(const policy::RuleResult& result);
Result<std::map<std::string, std::string>> parse_properties(std::string_view text);

// The newest state of one rule in one namespace that a batch brings.
struct RuleState {
  std::string ns, policy, rule;
  UnixSeconds first = 0, last = 0;
  policy::FailureAction action = policy::FailureAction::kAudit;
};

// A set of results as rows: every result for the history; the newest per (resource, policy,
// rule) for the latest table and per (namespace, policy, rule) for the rule states, each sorted
// by its key so that concurrent writers take row locks in the same order.
struct WriteBatch {
  std::vector<const RecordedResult*> history;
  std::vector<const RecordedResult*> latest;
  std::vector<RuleState> states;
  UnixSeconds prune_before = 0;  // history older than this goes
};

// record() for a store that writes a WriteBatch in one transaction: callers queue their results;
// one of them writes everything queued while no write is under way, the others wait for it.
class GroupCommitStore : public ReportStore {
 public:
  explicit GroupCommitStore(ReportStoreOptions options) : options_(std::move(options)) {}
  Status record(const std::vector<RecordedResult>& results) final;

 protected:
  virtual Status write(const WriteBatch& batch) = 0;

 private:
  struct Pending {
    const std::vector<RecordedResult>* results;
    bool done = false;
    Status status;
  };
  ReportStoreOptions options_;
  std::mutex mu_;
  std::condition_variable written_;
  std::vector<Pending*> queue_;
  bool writing_ = false;
};

// The rows of the results of `pending` (in the order the calls came); history recorded before
// `prune_before` is to be pruned.
WriteBatch make_batch(const std::vector<const std::vector<RecordedResult>*>& pending, UnixSeconds prune_before);

}  // namespace vouch::admission::report_store_internal
