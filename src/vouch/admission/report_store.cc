// The report store's URL, its default, and what both backends share: rows from results and the
// group commit.
#include "vouch/admission/report_store.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "report_store_internal.h"
#include "vouch/base/json.h"

namespace vouch::admission {

Result<std::unique_ptr<ReportStore>> open_sqlite_report_store(const std::string& path, ReportStoreOptions options);
Result<std::unique_ptr<ReportStore>> open_postgres_report_store(const std::string& url, ReportStoreOptions options);

namespace report_store_internal {

std::string api_group(const std::string& api_version) {
  auto slash = api_version.find('/');
  return slash == std::string::npos ? std::string() : api_version.substr(0, slash);
}

const std::string& written_rule(const policy::RuleResult& result) {
  return result.autogen && !result.origin_rule.empty() ? result.origin_rule : result.rule;
}

Result<policy::RuleStatus> parse_status(std::string_view name) {
  using policy::RuleStatus;
  for (RuleStatus s : {RuleStatus::kPass, RuleStatus::kFail, RuleStatus::kWarn, RuleStatus::kError, RuleStatus::kSkip})
    if (policy::rule_status_name(s) == name) return s;
  return invalid_input(fmt::format("report store: unknown result '{}'", name));
}

policy::FailureAction parse_action(std::string_view name) {
  return name == "Enforce" ? policy::FailureAction::kEnforce : policy::FailureAction::kAudit;
}

std::string properties_text(const policy::RuleResult& result) {
  boost::json::object o;
  for (const auto& [k, v] : result.properties) o[k] = v;
  return json::serialize(o);
}

Result<std::map<std::string, std::string>> parse_properties(std::string_view text) {
  VOUCH_ASSIGN_OR_RETURN(boost::json::value v, json::parse(text));
  if (!v.is_object()) return invalid_input("report store: a result's properties are not a JSON object");
  std::map<std::string, std::string> out;
  for (const auto& [k, value] : v.get_object()) {
    if (!value.is_string())
      return invalid_input(fmt::format("report store: a result's property '{}' is not a string", std::string_view(k)));
    out.emplace(k, value.get_string());
  }
  return out;
}

namespace {

Status check(const RecordedResult& r) {
  if (r.result.policy.empty() || r.result.rule.empty())
    return invalid_input("report store: a result without a policy or rule name");
  if (r.resource.kind.empty() || r.resource.name.empty())
    return invalid_input(fmt::format("report store: result of {}/{}: the resource has no kind or name", r.result.policy,
                                     r.result.rule));
  return ok_status();
}

}  // namespace

WriteBatch make_batch(const std::vector<const std::vector<RecordedResult>*>& pending, UnixSeconds prune_before) {
  WriteBatch batch;
  batch.prune_before = prune_before;
  using LatestKey = std::tuple<std::string, std::string, std::string, std::string, std::string, std::string>;
  std::map<LatestKey, const RecordedResult*> latest;
  std::map<std::tuple<std::string, std::string, std::string>, RuleState> states;
  for (const auto* results : pending) {
    for (const RecordedResult& r : *results) {
      batch.history.push_back(&r);
      LatestKey key{r.resource.ns, r.resource.kind, api_group(r.resource.api_version), r.resource.name, r.result.policy,
                    r.result.rule};
      auto [it, fresh] = latest.try_emplace(key, &r);
      if (!fresh && r.when >= it->second->when) it->second = &r;
      const std::string& rule = written_rule(r.result);
      auto [st, new_state] = states.try_emplace({r.resource.ns, r.result.policy, rule},
                                                RuleState{r.resource.ns, r.result.policy, rule, r.when, r.when, r.result.action});
      if (!new_state) {
        st->second.first = std::min(st->second.first, r.when);
        if (r.when >= st->second.last) {
          st->second.last = r.when;
          st->second.action = r.result.action;
        }
      }
    }
  }
  for (const auto& [key, r] : latest) batch.latest.push_back(r);
  for (auto& [key, s] : states) batch.states.push_back(std::move(s));
  return batch;
}

Status GroupCommitStore::record(const std::vector<RecordedResult>& results) {
  if (results.empty()) return ok_status();
  for (const RecordedResult& r : results) VOUCH_RETURN_IF_ERROR(check(r));
  Pending mine{&results, false, ok_status()};
  std::unique_lock lock(mu_);
  queue_.push_back(&mine);
  while (!mine.done) {
    if (writing_) {
      written_.wait(lock);
      continue;
    }
    writing_ = true;
    std::vector<Pending*> taken;
    taken.swap(queue_);
    lock.unlock();
    Status st;
    try {
      std::vector<const std::vector<RecordedResult>*> sets;
      for (const Pending* p : taken) sets.push_back(p->results);
      const UnixSeconds now = options_.clock ? options_.clock() : now_unix();
      st = write(make_batch(sets, now - static_cast<UnixSeconds>(options_.retention.count())));
    } catch (const std::exception& e) {
      st = internal_error(fmt::format("report store: {}", e.what()));
    }
    lock.lock();
    for (Pending* p : taken) {
      p->status = st;
      p->done = true;
    }
    writing_ = false;
    written_.notify_all();
  }
  return mine.status;
}

}  // namespace report_store_internal

std::string default_report_store_url() {
  const char* env = std::getenv("VOUCH_REPORTS");
  if (env && *env) return env;
  return "vouch-reports.db";
}

Result<std::unique_ptr<ReportStore>> open_report_store(const std::string& url, ReportStoreOptions options) {
  std::string_view u = url;
  if (u.empty()) return invalid_input("report store: empty URL");
  if (options.retention.count() <= 0) return invalid_input("report store: the retention must be positive");
  if (u.starts_with("postgres://") || u.starts_with("postgresql://"))
    return open_postgres_report_store(url, std::move(options));
  if (u.starts_with("sqlite:")) return open_sqlite_report_store(std::string(u.substr(7)), std::move(options));
  if (u.find("://") != std::string_view::npos)
    return invalid_input(fmt::format("report store '{}': unsupported (use a file path, sqlite:PATH or postgres://…)", url));
  return open_sqlite_report_store(url, std::move(options));
}

}  // namespace vouch::admission
