// Alert sinks and the delivery of the outbox.
#include "vouch/inventory/alerts.h"

#include <cstdio>
#include <sys/wait.h>

#include <fmt/format.h>

#include "vouch/base/json.h"

namespace vouch::inventory {
namespace {

namespace bj = boost::json;

class StdoutSink final : public AlertSink {
 public:
  Status deliver(const FindingEvent& event) override {
    std::string line = json::serialize(cloud_event(event)) + "\n";
    if (std::fwrite(line.data(), 1, line.size(), stdout) != line.size() || std::fflush(stdout) != 0)
      return io_error("alert sink stdout: write failed");
    return ok_status();
  }
};

class HttpSink final : public AlertSink {
 public:
  HttpSink(std::string url, const net::ClientOptions& options) : url_(std::move(url)), client_(retry_free(options)) {}

  Status deliver(const FindingEvent& event) override {
    net::Request req;
    req.method = "POST";
    req.url = url_;
    req.headers.add("Content-Type", "application/cloudevents+json");
    req.body = json::serialize(cloud_event(event));
    VOUCH_ASSIGN_OR_RETURN(net::Response resp, client_.send(req, 64 << 10));
    if (resp.status < 200 || resp.status >= 300)
      return io_error(fmt::format("alert sink {}: HTTP {}", url_, resp.status));
    return ok_status();
  }

 private:
  // The outbox retries with its own backoff; a request fails fast.
  static net::ClientOptions retry_free(net::ClientOptions o) {
    o.max_retries = 0;
    o.connect_timeout_seconds = 10;
    o.timeout = std::chrono::seconds(30);
    return o;
  }
  std::string url_;
  net::Client client_;
};

class CommandSink final : public AlertSink {
 public:
  explicit CommandSink(std::string command) : command_(std::move(command)) {}

  Status deliver(const FindingEvent& event) override {
    FILE* p = ::popen(command_.c_str(), "w");
    if (!p) return io_error(fmt::format("alert sink exec:{}: cannot start", command_));
    std::string body = json::serialize(cloud_event(event)) + "\n";
    size_t written = std::fwrite(body.data(), 1, body.size(), p);
    int status = ::pclose(p);
    if (written != body.size()) return io_error(fmt::format("alert sink exec:{}: write failed", command_));
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
      return io_error(fmt::format("alert sink exec:{}: exited {}", command_,
                                  WIFEXITED(status) ? WEXITSTATUS(status) : -1));
    return ok_status();
  }

 private:
  std::string command_;
};

}  // namespace

bj::object cloud_event(const FindingEvent& event) {
  return bj::object{{"specversion", "1.0"},
                    {"id", fmt::format("vouch-inventory-{}", event.id)},
                    {"source", "vouch/inventory"},
                    {"type", fmt::format("dev.vouch.inventory.finding.{}", event.kind)},
                    {"subject", event.finding.digest},
                    {"time", format_rfc3339(event.at)},
                    {"datacontenttype", "application/json"},
                    {"data", finding_json(event.finding)}};
}

Result<std::unique_ptr<AlertSink>> make_sink(const std::string& spec, const net::ClientOptions& http_options) {
  if (spec == "stdout") return std::unique_ptr<AlertSink>(std::make_unique<StdoutSink>());
  if (spec.starts_with("http://") || spec.starts_with("https://"))
    return std::unique_ptr<AlertSink>(std::make_unique<HttpSink>(spec, http_options));
  if (spec.starts_with("exec:") && spec.size() > 5)
    return std::unique_ptr<AlertSink>(std::make_unique<CommandSink>(spec.substr(5)));
  return invalid_input(fmt::format("alert sink '{}': want stdout, an http(s):// URL or exec:COMMAND", spec));
}

Result<DeliveryResult> deliver_due(InventoryStore& store, AlertSink& sink, const DeliveryOptions& options,
                                   UnixSeconds now) {
  DeliveryResult out;
  VOUCH_ASSIGN_OR_RETURN(auto events, store.undelivered_events(options.batch));
  for (const auto& e : events) {
    if (e.next_attempt > now) break;  // the oldest waits for its retry; the rest wait behind it
    auto severity = vuln::parse_severity(e.finding.severity);
    const vuln::Severity s = severity.ok() ? *severity : vuln::Severity::kUnknown;
    if (s < options.min_severity) {
      VOUCH_RETURN_IF_ERROR(store.delivered(e.id, now));
      ++out.below_threshold;
      continue;
    }
    Status st = sink.deliver(e);
    if (!st.ok()) {
      int64_t backoff = options.initial_backoff_seconds << std::min(e.attempts, 20);
      backoff = std::min(backoff, options.max_backoff_seconds);
      VOUCH_RETURN_IF_ERROR(store.delivery_failed(e.id, now + backoff, st.error().message));
      ++out.failed;
      out.last_error = st.error().message;
      break;
    }
    VOUCH_RETURN_IF_ERROR(store.delivered(e.id, now));
    ++out.delivered;
  }
  return out;
}

}  // namespace vouch::inventory
