#include "vouch/ui/dashboard.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "vouch/admission/manifests.h"
#include "vouch/admission/policy_reports.h"
#include "vouch/admission/rollout.h"
#include "vouch/base/bytes.h"
#include "vouch/base/json.h"
#include "vouch/policy/report.h"
#include "vouch/tlog/monitor.h"

namespace vouch::ui {
namespace {

namespace bj = boost::json;
using admission::RecordedResult;

constexpr std::array<std::string_view, 5> kStatuses = {"pass", "fail", "warn", "error", "skip"};
constexpr std::array<std::string_view, 6> kSeverities = {"Critical", "High", "Medium", "Low", "Negligible", "Unknown"};
constexpr int64_t kDay = 86400;
// A finding opened this recently is "new" on the pages.
constexpr int64_t kNewFindingSeconds = 7 * kDay;
// Log entries fetched for one search or one image; the rest are counted, not shown.
constexpr size_t kMaxLogEntries = 25;

std::optional<std::string> param(const net::HttpRequest& r, const std::string& name) {
  auto it = r.query.find(name);
  if (it == r.query.end()) return std::nullopt;
  return it->second;
}

// A parameter that is absent or empty means "any".
std::string filter_param(const net::HttpRequest& r, const std::string& name) { return param(r, name).value_or(""); }

Result<int64_t> int_param(const net::HttpRequest& r, const std::string& name, int64_t fallback, int64_t min,
                          int64_t max) {
  auto v = param(r, name);
  if (!v || v->empty()) return fallback;
  int64_t n = 0;
  for (char c : *v) {
    if (c < '0' || c > '9' || n > max) return invalid_input(fmt::format("{}: want a whole number from {} to {}", name, min, max));
    n = n * 10 + (c - '0');
  }
  if (n < min || n > max) return invalid_input(fmt::format("{}: want a whole number from {} to {}", name, min, max));
  return n;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool contains_folded(std::string_view haystack, const std::string& folded_needle) {
  if (folded_needle.empty()) return true;
  return lower(haystack).find(folded_needle) != std::string::npos;
}

bj::object zero_counts() {
  bj::object o;
  for (auto s : kStatuses) o[s] = 0;
  return o;
}

void bump(bj::object& counts, std::string_view status, int64_t by = 1) {
  counts[status] = counts[status].to_number<int64_t>() + by;
}

// The page's namespace filter: "-" names the cluster-scoped resources (namespace "").
std::optional<std::string> namespace_filter(const net::HttpRequest& r) {
  auto ns = param(r, "namespace");
  if (!ns || ns->empty()) return std::nullopt;
  if (*ns == "-") return std::string();
  return ns;
}

// The statuses of a comma-separated list ("fail,error"), each one of kStatuses.
Result<std::set<std::string>> status_set(const net::HttpRequest& r) {
  std::set<std::string> out;
  std::string text = filter_param(r, "result");
  size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    size_t comma = text.find(',', start);
    std::string one = lower(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (!one.empty()) {
      if (std::find(kStatuses.begin(), kStatuses.end(), one) == kStatuses.end())
        return invalid_input(fmt::format("result: '{}' is not one of pass, fail, warn, error, skip", one));
      out.insert(one);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// The rule a result counts for: results of autogen rules count for the rule written for Pods,
// as the ladder counts them.
std::string_view written_rule(const policy::RuleResult& r) {
  return r.autogen && !r.origin_rule.empty() ? std::string_view(r.origin_rule) : std::string_view(r.rule);
}

bj::object result_json(const RecordedResult& r) {
  bj::object o{{"namespace", r.resource.ns},
               {"apiVersion", r.resource.api_version},
               {"kind", r.resource.kind},
               {"name", r.resource.name},
               {"policy", r.result.policy},
               {"rule", r.result.rule},
               {"writtenRule", written_rule(r.result)},
               {"type", r.result.type},
               {"result", policy::rule_status_name(r.result.status)},
               {"message", r.result.message},
               {"action", policy::failure_action_name(r.result.action)},
               {"process", r.process},
               {"time", format_rfc3339(r.when)}};
  if (!r.resource_uid.empty()) o["uid"] = r.resource_uid;
  o["scored"] = r.result.scored;
  if (!r.result.properties.empty()) {
    bj::object properties;
    for (const auto& [k, v] : r.result.properties) properties[k] = v;
    o["properties"] = std::move(properties);  // the rule's reportProperties
  }
  return o;
}

bool is_sha256_digest(std::string_view d) {
  if (d.size() != 71 || !d.starts_with("sha256:")) return false;
  return std::all_of(d.begin() + 7, d.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The entry kind of a log entry body ({"kind": "hashedrekord", …}), or "".
std::string entry_kind(const std::string& body) {
  auto v = json::parse(body);
  if (!v.ok() || !v->is_object()) return "";
  const bj::value* k = v->get_object().if_contains("kind");
  return k && k->is_string() ? std::string(k->get_string()) : "";
}

// The entries of `uuids` (at most kMaxLogEntries of them), as the pages show them.
bj::object log_entries(LogReader& log, const std::vector<std::string>& uuids) {
  bj::array entries;
  bj::array errors;
  for (size_t i = 0; i < uuids.size() && i < kMaxLogEntries; ++i) {
    auto e = log.entry(uuids[i]);
    if (!e.ok()) {
      errors.emplace_back(fmt::format("{}: {}", uuids[i], e.error().message));
      continue;
    }
    bj::array identities;
    for (auto& id : tlog::entry_identities(e->body)) identities.emplace_back(id);
    entries.push_back(bj::object{{"uuid", e->uuid},
                                 {"logIndex", e->log_index},
                                 {"integratedTime", format_rfc3339(e->integrated_time)},
                                 {"kind", entry_kind(e->body)},
                                 {"identities", std::move(identities)},
                                 {"logID", hex_encode(e->log_id)}});
  }
  bj::object out{{"total", static_cast<int64_t>(uuids.size())},
                 {"shown", static_cast<int64_t>(entries.size())},
                 {"entries", std::move(entries)}};
  if (!errors.empty()) out["errors"] = std::move(errors);
  return out;
}

// A log that answered with an error: the page says the log could not be read (502), which is
// not the dashboard's fault.
Error log_error(const Error& e) { return io_error(fmt::format("transparency log: {}", e.message)); }

class RekorLogReader final : public LogReader {
 public:
  RekorLogReader(std::string url, net::ClientOptions options) : url_(url), client_(std::move(url), std::move(options)) {}
  const std::string& url() const override { return url_; }
  Result<tlog::RekorLogInfo> info() override { return client_.log_info(); }
  Result<std::vector<std::string>> search(const std::optional<std::string>& hash,
                                          const std::optional<std::string>& email) override {
    return client_.search(hash, std::nullopt, email);
  }
  Result<tlog::RekorLogEntry> entry(const std::string& uuid) override { return client_.entry_by_uuid(uuid); }

 private:
  std::string url_;
  tlog::RekorClient client_;
};

}  // namespace

std::unique_ptr<LogReader> rekor_log_reader(const std::string& url, const std::string& ca_file,
                                            std::chrono::milliseconds timeout) {
  net::ClientOptions o = tlog::default_rekor_client_options();
  o.ca_file = ca_file;
  o.max_retries = 1;
  o.timeout = timeout;
  o.request_deadline = timeout * 2;
  o.connect_timeout_seconds = std::max<long>(1, static_cast<long>(timeout.count() / 1000));
  return std::make_unique<RekorLogReader>(url, std::move(o));
}

Dashboard::Dashboard(DashboardOptions options) : options_(std::move(options)) {}

UnixSeconds Dashboard::now() const { return options_.clock ? options_.clock() : now_unix(); }

Status Dashboard::need_reports() const {
  if (!options_.reports) return not_found("no report store: start vouch ui serve with --reports");
  return ok_status();
}
Status Dashboard::need_inventory() const {
  if (!options_.inventory) return not_found("no inventory: start vouch ui serve with --inventory");
  return ok_status();
}
Status Dashboard::need_log() const {
  if (!options_.log) return not_found("no transparency log: start vouch ui serve with --log");
  return ok_status();
}

Dashboard::~Dashboard() {
  std::thread refresher;
  {
    std::lock_guard lock(cache_mu_);
    refresher = std::move(refresher_);
  }
  if (refresher.joinable()) refresher.join();
}

Status Dashboard::warm() {
  if (!options_.reports) return ok_status();
  auto t = std::chrono::steady_clock::now();
  VOUCH_ASSIGN_OR_RETURN(auto rows, options_.reports->latest(std::nullopt));
  std::lock_guard lock(cache_mu_);
  latest_ = make_snapshot(std::move(rows));
  latest_read_ = t;
  return ok_status();
}

std::string Dashboard::stores() const {
  std::string out;
  if (options_.reports) out += "reports ";
  if (options_.inventory) out += "inventory ";
  if (options_.log) out += "log ";
  if (!out.empty()) out.pop_back();
  return out;
}

// The key results are told apart by within one time: resource, policy, rule.
static auto result_key(const RecordedResult& r) {
  return std::tie(r.resource.ns, r.resource.kind, r.resource.name, r.result.policy, r.result.rule);
}

std::shared_ptr<const Dashboard::Snapshot> Dashboard::make_snapshot(std::vector<RecordedResult> rows) {
  auto snap = std::make_shared<Snapshot>();
  snap->rows = std::move(rows);
  // Pages count and filter results as Kyverno reports them: a failure of an unscored policy
  // (policies.kyverno.io/scored: "false") is a warning, as in `vouch report get`.
  for (RecordedResult& row : snap->rows) row.result.status = policy::reported_status(row.result, false);
  snap->newest_first.resize(snap->rows.size());
  for (uint32_t i = 0; i < snap->newest_first.size(); ++i) snap->newest_first[i] = i;
  const auto& r = snap->rows;
  std::sort(snap->newest_first.begin(), snap->newest_first.end(), [&](uint32_t a, uint32_t b) {
    if (r[a].when != r[b].when) return r[a].when > r[b].when;
    return result_key(r[b]) < result_key(r[a]);
  });
  return snap;
}

Result<std::shared_ptr<const Dashboard::Snapshot>> Dashboard::latest_results() {
  {
    std::lock_guard lock(cache_mu_);
    auto t = std::chrono::steady_clock::now();
    auto age = t - latest_read_;
    if (latest_ && options_.cache_for.count() > 0 && age < options_.max_stale) {
      if (age >= options_.cache_for && !refreshing_) {
        // Stale while revalidating: this request answers from the snapshot, the next ones from
        // the fresh read. The previous refresher has finished (refreshing_ is false).
        refreshing_ = true;
        if (refresher_.joinable()) refresher_.join();
        refresher_ = std::thread([this, started = t] {
          auto rows = options_.reports->latest(std::nullopt);
          std::lock_guard lock(cache_mu_);
          if (rows.ok()) {
            latest_ = make_snapshot(std::move(rows).value());
            latest_read_ = started;
          }
          refreshing_ = false;
        });
      }
      return latest_;
    }
  }
  auto t = std::chrono::steady_clock::now();
  VOUCH_ASSIGN_OR_RETURN(auto rows, options_.reports->latest(std::nullopt));
  auto snapshot = make_snapshot(std::move(rows));
  std::lock_guard lock(cache_mu_);
  if (options_.cache_for.count() > 0) {
    latest_ = snapshot;
    latest_read_ = t;
  }
  return snapshot;
}

// ---------------------------------------------------------------- overview

Result<bj::object> Dashboard::overview() {
  bj::object reports{{"configured", options_.reports != nullptr}};
  if (options_.reports) {
    reports["url"] = options_.reports_url;
    auto latest = latest_results();
    if (latest.ok()) {
      bj::object counts = zero_counts();
      std::set<std::string> namespaces;
      for (const auto& r : (*latest)->rows) {
        bump(counts, policy::rule_status_name(r.result.status));
        namespaces.insert(r.resource.ns);
      }
      reports["results"] = static_cast<int64_t>((*latest)->rows.size());
      reports["namespaces"] = static_cast<int64_t>(namespaces.size());
      reports["counts"] = std::move(counts);
    } else {
      reports["error"] = latest.error().message;
    }
  }
  bj::object inv{{"configured", options_.inventory != nullptr}};
  if (options_.inventory) {
    inv["url"] = options_.inventory_url;
    std::lock_guard lock(inventory_mu_);
    auto imgs = options_.inventory->images(false);
    inventory::FindingFilter active_only;
    active_only.status = inventory::FindingStatus::kActive;
    auto active = options_.inventory->findings(active_only);
    if (imgs.ok() && active.ok()) {
      inv["images"] = static_cast<int64_t>(imgs->size());
      bj::object by_severity;
      for (auto s : kSeverities) by_severity[s] = 0;
      for (const auto& f : *active) {
        auto* slot = by_severity.if_contains(f.severity);
        if (slot) *slot = slot->to_number<int64_t>() + 1;
      }
      inv["activeFindings"] = static_cast<int64_t>(active->size());
      inv["activeBySeverity"] = std::move(by_severity);
    } else {
      inv["error"] = imgs.ok() ? active.error().message : imgs.error().message;
    }
  }
  bj::object log{{"configured", options_.log != nullptr}};
  if (options_.log) log["url"] = options_.log->url();
  bj::object policies{{"configured", static_cast<bool>(options_.policies)}};
  if (options_.policies) policies["source"] = options_.policies_source;
  return bj::object{{"now", format_rfc3339(now())},
                    {"reports", std::move(reports)},
                    {"inventory", std::move(inv)},
                    {"log", std::move(log)},
                    {"policies", std::move(policies)}};
}

// ---------------------------------------------------------------- reports

Result<bj::object> Dashboard::report_summary(const net::HttpRequest& request) {
  VOUCH_RETURN_IF_ERROR(need_reports());
  VOUCH_ASSIGN_OR_RETURN(auto latest, latest_results());
  auto ns_filter = namespace_filter(request);
  std::string policy_filter = filter_param(request, "policy");
  // namespace -> policy -> counts; policy -> rules
  std::map<std::string, std::map<std::string, bj::object>> matrix;
  std::map<std::string, std::set<std::string>> rules;
  std::map<std::string, bj::object> by_policy;
  bj::object totals = zero_counts();
  std::set<std::tuple<std::string, std::string, std::string>> resources;
  for (const auto& r : latest->rows) {
    if (ns_filter && r.resource.ns != *ns_filter) continue;
    if (!policy_filter.empty() && r.result.policy != policy_filter) continue;
    std::string_view status = policy::rule_status_name(r.result.status);
    auto& cell = matrix[r.resource.ns][r.result.policy];
    if (cell.empty()) cell = zero_counts();
    bump(cell, status);
    auto& pol = by_policy[r.result.policy];
    if (pol.empty()) pol = zero_counts();
    bump(pol, status);
    rules[r.result.policy].insert(std::string(written_rule(r.result)));
    bump(totals, status);
    resources.emplace(r.resource.ns, r.resource.kind, r.resource.name);
  }
  bj::array namespaces;
  for (auto& [ns, policies] : matrix) {
    bj::object counts = zero_counts();
    bj::array cells;
    for (auto& [p, c] : policies) {
      for (auto s : kStatuses) bump(counts, s, c[s].to_number<int64_t>());
      cells.push_back(bj::object{{"policy", p}, {"counts", std::move(c)}});
    }
    namespaces.push_back(bj::object{{"namespace", ns}, {"clusterScoped", ns.empty()}, {"counts", std::move(counts)},
                                    {"policies", std::move(cells)}});
  }
  bj::array policies;
  for (auto& [p, c] : by_policy) {
    bj::array rs;
    for (const auto& r : rules[p]) rs.emplace_back(r);
    policies.push_back(bj::object{{"policy", p}, {"rules", std::move(rs)}, {"counts", std::move(c)}});
  }
  return bj::object{{"totals", std::move(totals)},
                    {"resources", static_cast<int64_t>(resources.size())},
                    {"namespaces", std::move(namespaces)},
                    {"policies", std::move(policies)}};
}

Result<bj::object> Dashboard::report_results(const net::HttpRequest& request) {
  VOUCH_RETURN_IF_ERROR(need_reports());
  VOUCH_ASSIGN_OR_RETURN(int64_t offset, int_param(request, "offset", 0, 0, 100'000'000));
  VOUCH_ASSIGN_OR_RETURN(int64_t limit, int_param(request, "limit", 50, 1, 1000));
  VOUCH_ASSIGN_OR_RETURN(auto statuses, status_set(request));
  std::string sort = filter_param(request, "sort");
  if (sort.empty()) sort = "time";
  static const std::set<std::string> kSorts = {"time", "namespace", "resource", "policy", "result"};
  if (!kSorts.contains(sort)) return invalid_input(fmt::format("sort: '{}' is not one of time, namespace, resource, policy, result", sort));
  std::string order = filter_param(request, "order");
  if (order.empty()) order = sort == "time" ? "desc" : "asc";
  if (order != "asc" && order != "desc") return invalid_input(fmt::format("order: '{}' is not asc or desc", order));

  VOUCH_ASSIGN_OR_RETURN(auto latest, latest_results());
  auto ns_filter = namespace_filter(request);
  std::string policy_filter = filter_param(request, "policy");
  std::string rule_filter = filter_param(request, "rule");
  std::string kind_filter = filter_param(request, "kind");
  std::string name_filter = filter_param(request, "name");
  std::string process_filter = filter_param(request, "process");
  std::string q = lower(filter_param(request, "q"));

  // Counts by status over everything the other filters keep, so the page can offer them.
  bj::object counts = zero_counts();
  std::vector<const RecordedResult*> rows;
  // Filtered in the snapshot's order, newest first: the default order needs no sort.
  for (uint32_t index : latest->newest_first) {
    const RecordedResult& r = latest->rows[index];
    if (ns_filter && r.resource.ns != *ns_filter) continue;
    if (!policy_filter.empty() && r.result.policy != policy_filter) continue;
    if (!rule_filter.empty() && r.result.rule != rule_filter && written_rule(r.result) != rule_filter) continue;
    if (!kind_filter.empty() && r.resource.kind != kind_filter) continue;
    if (!name_filter.empty() && r.resource.name != name_filter) continue;
    if (!process_filter.empty() && r.process != process_filter) continue;
    if (!q.empty() && !contains_folded(r.resource.name, q) && !contains_folded(r.result.message, q) &&
        !contains_folded(r.resource.ns, q) && !contains_folded(r.result.policy, q) &&
        !contains_folded(r.result.rule, q) && !contains_folded(r.resource.kind, q))
      continue;
    std::string_view status = policy::rule_status_name(r.result.status);
    bump(counts, status);
    if (!statuses.empty() && !statuses.contains(std::string(status))) continue;
    rows.push_back(&r);
  }
  // Problems first when sorting by result.
  auto rank = [](policy::RuleStatus s) {
    switch (s) {
      case policy::RuleStatus::kError: return 0;
      case policy::RuleStatus::kFail: return 1;
      case policy::RuleStatus::kWarn: return 2;
      case policy::RuleStatus::kPass: return 3;
      case policy::RuleStatus::kSkip: return 4;
    }
    return 5;
  };
  auto key = [&](const RecordedResult* r) { return result_key(*r); };
  auto less = [&](const RecordedResult* a, const RecordedResult* b) {
    if (sort == "time" && a->when != b->when) return a->when < b->when;
    if (sort == "policy" && a->result.policy != b->result.policy) return a->result.policy < b->result.policy;
    if (sort == "result" && a->result.status != b->result.status) return rank(a->result.status) < rank(b->result.status);
    if (sort == "resource" && std::tie(a->resource.kind, a->resource.name) != std::tie(b->resource.kind, b->resource.name))
      return std::tie(a->resource.kind, a->resource.name) < std::tie(b->resource.kind, b->resource.name);
    return key(a) < key(b);
  };
  if (sort == "time") {
    // Already newest first, ties by key descending: the reverse of `less`.
    if (order == "asc") std::reverse(rows.begin(), rows.end());
  } else if (order == "asc") {
    std::stable_sort(rows.begin(), rows.end(), less);
  } else {
    std::stable_sort(rows.begin(), rows.end(), [&](auto* a, auto* b) { return less(b, a); });
  }
  bj::array items;
  for (size_t i = static_cast<size_t>(offset); i < rows.size() && items.size() < static_cast<size_t>(limit); ++i)
    items.push_back(result_json(*rows[i]));
  return bj::object{{"total", static_cast<int64_t>(rows.size())},
                    {"offset", offset},
                    {"limit", limit},
                    {"counts", std::move(counts)},
                    {"items", std::move(items)}};
}

Result<bj::object> Dashboard::report_trend(const net::HttpRequest& request) {
  VOUCH_RETURN_IF_ERROR(need_reports());
  VOUCH_ASSIGN_OR_RETURN(int64_t days, int_param(request, "days", 14, 1, 90));
  auto ns_filter = namespace_filter(request);
  std::string policy_filter = filter_param(request, "policy");
  std::string rule_filter = filter_param(request, "rule");
  const UnixSeconds t = now();
  // The history counts the results since a time; the results of day i are those since its
  // start less those since the next day's start.
  auto counts_since = [&](UnixSeconds since) -> Result<std::map<std::string, int64_t>> {
    VOUCH_ASSIGN_OR_RETURN(auto history, options_.reports->history(since, ns_filter));
    std::map<std::string, int64_t> out;
    for (const auto& h : history) {
      if (!policy_filter.empty() && h.policy != policy_filter) continue;
      if (!rule_filter.empty() && h.rule != rule_filter) continue;
      for (const auto& [status, n] : h.counts) out[status] += n;
    }
    return out;
  };
  std::vector<std::map<std::string, int64_t>> since(static_cast<size_t>(days) + 1);
  for (int64_t k = 0; k < days; ++k) {
    VOUCH_ASSIGN_OR_RETURN(since[static_cast<size_t>(k)], counts_since(t - (days - k) * kDay));
  }
  bj::array buckets;
  for (int64_t k = 0; k < days; ++k) {
    bj::object b{{"start", format_rfc3339(t - (days - k) * kDay)}, {"end", format_rfc3339(t - (days - k - 1) * kDay)}};
    for (auto s : kStatuses) {
      const std::string key(s);
      int64_t from = since[static_cast<size_t>(k)].contains(key) ? since[static_cast<size_t>(k)].at(key) : 0;
      int64_t next = since[static_cast<size_t>(k) + 1].contains(key) ? since[static_cast<size_t>(k) + 1].at(key) : 0;
      b[s] = from - next;
    }
    buckets.push_back(std::move(b));
  }
  return bj::object{{"days", days}, {"now", format_rfc3339(t)}, {"buckets", std::move(buckets)}};
}

// ---------------------------------------------------------------- the ladder

Result<bj::object> Dashboard::ladder(const net::HttpRequest& request) {
  VOUCH_RETURN_IF_ERROR(need_reports());
  VOUCH_ASSIGN_OR_RETURN(int64_t days, int_param(request, "days", 14, 1, 3650));
  auto ns_filter = namespace_filter(request);
  const UnixSeconds t = now();
  VOUCH_ASSIGN_OR_RETURN(admission::RolloutStatus status,
                         admission::rollout_status(*options_.reports, {.days = static_cast<int>(days), .now = t}));
  bj::object out = admission::rollout_status_json(status, ns_filter);

  // Days without a fail or error result, per rule and namespace: since the last one in the
  // window, else at least the days observed (failures before the window are not read).
  std::map<std::tuple<std::string, std::string, std::string>, const admission::NamespaceRollout*> rows;
  for (const auto& r : status.rules)
    for (const auto& n : r.namespaces) rows[{r.policy, r.rule, n.ns}] = &n;
  for (auto& rule_value : out["rules"].as_array()) {
    bj::object& rule = rule_value.as_object();
    for (auto& ns_value : rule["namespaces"].as_array()) {
      bj::object& ns = ns_value.as_object();
      auto it = rows.find({std::string(rule["policy"].as_string()), std::string(rule["rule"].as_string()),
                           std::string(ns["namespace"].as_string())});
      if (it == rows.end()) continue;
      const admission::NamespaceRollout& n = *it->second;
      if (n.failures > 0) {
        ns["daysWithoutFailures"] = (t - n.last_failure) / kDay;
        ns["daysWithoutFailuresAtLeast"] = false;
      } else {
        ns["daysWithoutFailures"] = std::min<int64_t>(n.observed_days, days);
        ns["daysWithoutFailuresAtLeast"] = n.observed_days >= days;
      }
    }
  }

  bj::object plan{{"available", static_cast<bool>(options_.policies)}};
  if (options_.policies) {
    plan["source"] = options_.policies_source;
    auto policies = options_.policies();
    if (!policies.ok()) {
      plan["error"] = policies.error().message;
    } else {
      admission::RolloutPlan p = admission::plan_rollout(*policies, status);
      bj::array changes, held, documents;
      for (const auto& c : p.changes) changes.emplace_back(c);
      for (const auto& h : p.held_back) held.emplace_back(h);
      std::vector<bj::object> objects;
      for (const auto& d : p.documents) {
        documents.push_back(d);
        if (d.is_object()) objects.push_back(d.get_object());
      }
      plan["changes"] = std::move(changes);
      plan["heldBack"] = std::move(held);
      plan["documents"] = std::move(documents);
      plan["yaml"] = objects.empty() ? std::string() : admission::to_yaml(admission::Manifests{std::move(objects), {}});
    }
  } else {
    plan["note"] = "start vouch ui serve with --policies (the files given to vouch rollout plan) to see the change";
  }
  out["plan"] = std::move(plan);
  return out;
}

// ---------------------------------------------------------------- images and findings

Result<bj::object> Dashboard::images(const net::HttpRequest& request) {
  VOUCH_RETURN_IF_ERROR(need_inventory());
  std::string all = filter_param(request, "all");
  if (!all.empty() && all != "true" && all != "false") return invalid_input("all: want true or false");
  std::string q = lower(filter_param(request, "q"));
  std::lock_guard lock(inventory_mu_);
  VOUCH_ASSIGN_OR_RETURN(auto images, options_.inventory->images(all == "true"));
  VOUCH_ASSIGN_OR_RETURN(auto findings, options_.inventory->findings({}));
  struct Tally {
    std::map<std::string, int64_t> active;
    int64_t suppressed = 0, closed = 0;
  };
  std::map<std::string, Tally> by_image;
  for (const auto& f : findings) {
    Tally& t = by_image[f.digest];
    if (f.status == inventory::FindingStatus::kActive) ++t.active[f.severity];
    else if (f.status == inventory::FindingStatus::kSuppressed) ++t.suppressed;
    else ++t.closed;
  }
  std::sort(images.begin(), images.end(), [](const auto& a, const auto& b) {
    return std::tie(a.repository, a.digest) < std::tie(b.repository, b.digest);
  });
  bj::array items;
  for (const auto& img : images) {
    bool tag_match = false;
    for (const auto& tag : img.tags) tag_match = tag_match || contains_folded(tag, q);
    if (!q.empty() && !contains_folded(img.repository, q) && !contains_folded(img.digest, q) && !tag_match) continue;
    bj::object o = inventory::image_json(img);
    const Tally& t = by_image[img.digest];
    bj::object active;
    int64_t total = 0;
    for (auto s : kSeverities) {
      auto it = t.active.find(std::string(s));
      int64_t n = it == t.active.end() ? 0 : it->second;
      active[s] = n;
      total += n;
    }
    o["findings"] = bj::object{{"active", total}, {"activeBySeverity", std::move(active)},
                               {"suppressed", t.suppressed}, {"closed", t.closed}};
    items.push_back(std::move(o));
  }
  return bj::object{{"total", static_cast<int64_t>(items.size())}, {"items", std::move(items)}};
}

Result<bj::object> Dashboard::image(const std::string& digest) {
  VOUCH_RETURN_IF_ERROR(need_inventory());
  if (!is_sha256_digest(digest)) return invalid_input(fmt::format("image: '{}' is not a sha256:<64 hex> digest", digest));
  bj::object out;
  bool recorded = false;  // whether `inventory add` verified anything of it
  {
    std::lock_guard lock(inventory_mu_);
    VOUCH_ASSIGN_OR_RETURN(auto img, options_.inventory->image(digest));
    if (!img) return not_found(fmt::format("image {} is not in the inventory", digest));
    recorded = !img->verifications.empty();
    VOUCH_ASSIGN_OR_RETURN(sbom::Sbom sbom, options_.inventory->image_sbom(digest));
    inventory::FindingFilter of_image;
    of_image.digest = digest;
    VOUCH_ASSIGN_OR_RETURN(auto findings, options_.inventory->findings(of_image));
    out["image"] = inventory::image_json(*img);
    if (sbom.distro) {
      out["distro"] = bj::object{{"id", sbom.distro->id}, {"versionId", sbom.distro->version_id},
                                 {"prettyName", sbom.distro->pretty_name}};
    }
    bj::array packages;
    std::sort(sbom.packages.begin(), sbom.packages.end(),
              [](const auto& a, const auto& b) { return std::tie(a.name, a.version) < std::tie(b.name, b.version); });
    for (const auto& p : sbom.packages) {
      bj::array licenses;
      for (const auto& l : p.licenses) licenses.emplace_back(l);
      bj::object po{{"id", p.id}, {"name", p.name}, {"version", p.version}, {"type", p.type},
                    {"purl", p.purl}, {"licenses", std::move(licenses)}};
      if (!p.source_name.empty()) po["sourceName"] = p.source_name;
      packages.push_back(std::move(po));
    }
    out["packages"] = std::move(packages);
    const UnixSeconds t = now();
    bj::array fs;
    for (const auto& f : findings) {
      bj::object fo = inventory::finding_json(f);
      fo["new"] = f.status == inventory::FindingStatus::kActive && t - f.first_seen < kNewFindingSeconds;
      fs.push_back(std::move(fo));
    }
    out["findings"] = std::move(fs);
  }
  // The checks `inventory add` made with verification flags (signatures, SBOM attestations,
  // SLSA provenance) are in image.verifications; an image added without them, or from an SBOM
  // file, has none, and the note says so. The log is where signing left a trace, so its entries
  // are shown beside them.
  out["verification"] = bj::object{
      {"recorded", recorded},
      {"note", recorded ? "as vouch verified them when the image was last added (vouch inventory add with --key or "
                          "--certificate-identity)"
                        : "nothing verified: the image was added without --key or --certificate-identity (or from an "
                          "SBOM file); vouch verify, verify-attestation and the admission webhook verify it elsewhere"}};
  if (options_.log) {
    auto uuids = options_.log->search(digest, std::nullopt);
    if (uuids.ok()) {
      out["log"] = log_entries(*options_.log, *uuids);
    } else {
      out["log"] = bj::object{{"error", log_error(uuids.error()).message}};
    }
  }
  return out;
}

Result<bj::object> Dashboard::findings(const net::HttpRequest& request) {
  VOUCH_RETURN_IF_ERROR(need_inventory());
  VOUCH_ASSIGN_OR_RETURN(int64_t offset, int_param(request, "offset", 0, 0, 100'000'000));
  VOUCH_ASSIGN_OR_RETURN(int64_t limit, int_param(request, "limit", 50, 1, 1000));
  inventory::FindingFilter filter;
  filter.digest = filter_param(request, "image");
  if (!filter.digest.empty() && !is_sha256_digest(filter.digest))
    return invalid_input(fmt::format("image: '{}' is not a sha256:<64 hex> digest", filter.digest));
  if (std::string s = filter_param(request, "status"); !s.empty()) {
    VOUCH_ASSIGN_OR_RETURN(filter.status, inventory::parse_status(s));
  }
  if (std::string s = filter_param(request, "severity"); !s.empty()) {
    auto it = std::find_if(kSeverities.begin(), kSeverities.end(), [&](std::string_view k) { return lower(k) == lower(s); });
    if (it == kSeverities.end())
      return invalid_input(fmt::format("severity: '{}' is not one of critical, high, medium, low, negligible, unknown", s));
    filter.min_severity = std::string(*it);  // as the store ranks them: High, Negligible, …
  }
  filter.vulnerability = filter_param(request, "vulnerability");
  std::string q = lower(filter_param(request, "q"));
  std::vector<inventory::FindingRow> rows;
  {
    std::lock_guard lock(inventory_mu_);
    VOUCH_ASSIGN_OR_RETURN(rows, options_.inventory->findings(filter));
  }
  const UnixSeconds t = now();
  bj::array items;
  int64_t total = 0;
  for (const auto& f : rows) {
    if (!q.empty() && !contains_folded(f.vulnerability, q) && !contains_folded(f.package_name, q) &&
        !contains_folded(f.repository, q) && !contains_folded(f.summary, q))
      continue;
    if (total++ < offset || static_cast<int64_t>(items.size()) >= limit) continue;
    bj::object fo = inventory::finding_json(f);
    fo["new"] = f.status == inventory::FindingStatus::kActive && t - f.first_seen < kNewFindingSeconds;
    items.push_back(std::move(fo));
  }
  return bj::object{{"total", total}, {"offset", offset}, {"limit", limit}, {"items", std::move(items)}};
}

// ---------------------------------------------------------------- the log

Result<bj::object> Dashboard::log_info() {
  VOUCH_RETURN_IF_ERROR(need_log());
  auto info = options_.log->info();
  if (!info.ok()) return log_error(info.error());
  std::string origin = info->signed_tree_head.substr(0, info->signed_tree_head.find('\n'));
  return bj::object{{"url", options_.log->url()},
                    {"treeSize", info->tree_size},
                    {"rootHash", hex_encode(info->root_hash)},
                    {"treeID", info->tree_id},
                    {"origin", origin},
                    {"checkpoint", info->signed_tree_head}};
}

Result<bj::object> Dashboard::log_search(const net::HttpRequest& request) {
  VOUCH_RETURN_IF_ERROR(need_log());
  std::string digest = filter_param(request, "digest");
  std::string email = filter_param(request, "email");
  if (digest.empty() == email.empty()) return invalid_input("give one of digest (sha256:<64 hex>) or email");
  std::optional<std::string> hash, mail;
  if (!digest.empty()) {
    if (!is_sha256_digest(digest)) return invalid_input(fmt::format("digest: '{}' is not sha256:<64 hex>", digest));
    hash = digest;
  } else {
    if (email.find('@') == std::string::npos || email.size() > 320)
      return invalid_input(fmt::format("email: '{}' is not an email address", email));
    mail = email;
  }
  auto uuids = options_.log->search(hash, mail);
  if (!uuids.ok()) return log_error(uuids.error());
  bj::object out = log_entries(*options_.log, *uuids);
  out["query"] = hash ? bj::object{{"digest", *hash}} : bj::object{{"email", *mail}};
  return out;
}

// ---------------------------------------------------------------- routing

net::HttpResponse Dashboard::handle(const net::HttpRequest& request) {
  const std::string& p = request.path;
  Result<bj::object> body = not_found(fmt::format("{}: no such API path", p));
  bool from_log = false;
  if (p == "/api/overview") body = overview();
  else if (p == "/api/reports/summary") body = report_summary(request);
  else if (p == "/api/reports/results") body = report_results(request);
  else if (p == "/api/reports/trend") body = report_trend(request);
  else if (p == "/api/ladder") body = ladder(request);
  else if (p == "/api/images") body = images(request);
  else if (p.starts_with("/api/images/")) body = image(p.substr(12));
  else if (p == "/api/findings") body = findings(request);
  else if (p == "/api/log") { body = log_info(); from_log = true; }
  else if (p == "/api/log/search") { body = log_search(request); from_log = true; }

  net::HttpResponse r;
  r.headers.emplace_back("Cache-Control", "no-store");
  if (body.ok()) {
    r.body = json::serialize(*body);
    return r;
  }
  switch (body.error().code) {
    case ErrorCode::kInvalidInput: r.status = 400; break;
    case ErrorCode::kNotFound: r.status = 404; break;
    default: r.status = from_log && body.error().code == ErrorCode::kIo ? 502 : 500;
  }
  r.body = json::serialize(bj::object{{"error", body.error().message}});
  return r;
}

}  // namespace vouch::ui
