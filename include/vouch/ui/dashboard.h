// The dashboard's JSON API (/api/…): read-only views over the stores the servers write. The
// report store (PolicyReports' latest results, their trend, the audit → enforce ladder and the
// change `vouch rollout plan` would make), the image inventory (images, packages, findings with
// their lifecycle) and a transparency log (tree size, checkpoint, search). Each store is
// optional; an endpoint over a store that is not configured answers 404 saying so.
//
//   Dashboard d({.reports = store, .inventory = inv, .log = rekor_log_reader(url)});
//   net::HttpResponse r = d.handle(request);  // request.path starts with /api/
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "vouch/admission/report_store.h"
#include "vouch/base/result.h"
#include "vouch/base/time.h"
#include "vouch/inventory/store.h"
#include "vouch/net/http_server.h"
#include "vouch/policy/policy.h"
#include "vouch/tlog/client.h"

namespace vouch::ui {

// What the log pages read from a Rekor v1 API log (a RekorClient in production).
class LogReader {
 public:
  virtual ~LogReader() = default;
  virtual const std::string& url() const = 0;
  virtual Result<tlog::RekorLogInfo> info() = 0;
  // Entry UUIDs for an artifact digest ("sha256:<hex>") or an email identity.
  virtual Result<std::vector<std::string>> search(const std::optional<std::string>& hash,
                                                  const std::optional<std::string>& email) = 0;
  virtual Result<tlog::RekorLogEntry> entry(const std::string& uuid) = 0;
};

// A LogReader over the log at `url`, each request bounded by `timeout` with one retry.
std::unique_ptr<LogReader> rekor_log_reader(const std::string& url, const std::string& ca_file,
                                            std::chrono::milliseconds timeout);

struct DashboardOptions {
  std::shared_ptr<admission::ReportStore> reports;       // null: no report pages
  std::string reports_url;                              // as shown in /api/overview
  std::shared_ptr<inventory::InventoryStore> inventory;  // null: no image pages
  std::string inventory_url;
  std::shared_ptr<LogReader> log;                        // null: no log page
  // The policies `vouch rollout plan --policies` would be given, read again for every ladder
  // request (they change); null: the ladder shows no plan.
  std::function<Result<std::vector<policy::Policy>>()> policies;
  std::string policies_source;  // what --policies named, for the page
  // The current time (now_unix when null), for the trend's days and the ladder's window.
  std::function<UnixSeconds()> clock;
  // The report store's latest results are read into a snapshot that pages, filters and sorts
  // share (reading 10,000 results takes a good part of a second on a small machine). A snapshot
  // older than `cache_for` is refreshed in the background while it keeps answering; one older
  // than `max_stale` (nobody asked for a while) is read again before answering. Zero: every
  // request reads the store.
  std::chrono::milliseconds cache_for{2000};
  std::chrono::milliseconds max_stale{30000};
};

class Dashboard {
 public:
  explicit Dashboard(DashboardOptions options);
  ~Dashboard();
  Dashboard(const Dashboard&) = delete;
  Dashboard& operator=(const Dashboard&) = delete;

  // Reads the report store's latest results now (at start: the first page does not wait for it,
  // and a store that cannot be read is known at once).
  Status warm();
  // The stores configured, as the page's navigation needs them: "reports inventory log".
  std::string stores() const;

  // Answers a GET of /api/…: 200 with JSON, 400 for a bad parameter, 404 for an unknown path,
  // an unknown image or a store that is not configured, 502 when the log cannot be reached,
  // 500 when a store cannot be read; errors as {"error": "<one line>"}.
  net::HttpResponse handle(const net::HttpRequest& request);

  // The individual views, for the handler above and for tests.
  Result<boost::json::object> overview();
  Result<boost::json::object> report_summary(const net::HttpRequest& request);
  Result<boost::json::object> report_results(const net::HttpRequest& request);
  Result<boost::json::object> report_trend(const net::HttpRequest& request);
  Result<boost::json::object> ladder(const net::HttpRequest& request);
  Result<boost::json::object> images(const net::HttpRequest& request);
  Result<boost::json::object> image(const std::string& digest);
  Result<boost::json::object> findings(const net::HttpRequest& request);
  Result<boost::json::object> log_info();
  Result<boost::json::object> log_search(const net::HttpRequest& request);

 private:
  UnixSeconds now() const;
  // The report store's latest results, re-read at most every cache_for.
  // The latest results, and their order newest first (ties by resource, policy and rule,
  // descending), which is the table's default order.
  struct Snapshot {
    std::vector<admission::RecordedResult> rows;
    std::vector<uint32_t> newest_first;
  };
  static std::shared_ptr<const Snapshot> make_snapshot(std::vector<admission::RecordedResult> rows);
  Result<std::shared_ptr<const Snapshot>> latest_results();
  Status need_reports() const;
  Status need_inventory() const;
  Status need_log() const;

  DashboardOptions options_;
  std::mutex cache_mu_;
  std::shared_ptr<const Snapshot> latest_;
  std::chrono::steady_clock::time_point latest_read_{};
  bool refreshing_ = false;
  std::thread refresher_;
  std::mutex inventory_mu_;  // one store connection, used by one request at a time
};

}  // namespace vouch::ui
