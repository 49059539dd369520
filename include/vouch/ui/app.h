// The dashboard as an HTTP application: who may ask (nobody needs credentials on a loopback
// address; elsewhere a bearer token or a client certificate is required), what may be asked
// (GET only: the dashboard changes nothing), and where each path goes: the pages and their
// scripts embedded in the binary, /api/… to the Dashboard, /healthz, /readyz and /metrics.
//
//   UiApp app(dashboard, {.token = token, .loopback_only = true});
//   net::HttpServer::start(options, [&](auto req, auto respond) { respond(app.handle(req)); });
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "vouch/base/result.h"
#include "vouch/net/http_server.h"
#include "vouch/ui/dashboard.h"

namespace vouch::ui {

struct AccessOptions {
  // A bearer token every /api/ and /metrics request must carry (Authorization: Bearer …);
  // empty: none.
  std::string token;
  // The server checks client certificates (mutual TLS): a request that arrives has one.
  bool client_certificates = false;
  // Listening on a loopback address only: requests need no credentials unless a token is set.
  bool loopback_only = true;
};

// Whether `listen` ("HOST:PORT") binds only loopback addresses: 127.0.0.0/8, ::1, localhost.
bool is_loopback_listen(std::string_view listen);

// Refuses a configuration that would serve the stores to the network without credentials:
// a non-loopback address needs TLS and a token or client certificates.
Status check_exposure(std::string_view listen, bool tls, bool token, bool client_certificates);

// A token file's token: the file's first line without surrounding white space; at least 16
// characters.
Result<std::string> read_token_file(const std::string& path);

// A file the binary embeds (src/vouch/ui/assets/…), by its URL path ("/app.js").
struct Asset {
  std::string_view path;
  std::string_view content_type;
  std::string_view body;
};
const Asset* find_asset(std::string_view path);
std::vector<const Asset*> all_assets();

class UiApp {
 public:
  UiApp(std::shared_ptr<Dashboard> dashboard, AccessOptions access);

  net::HttpResponse handle(const net::HttpRequest& request);

  // Requests by route and status, and their latency, in Prometheus' text format.
  std::string metrics() const;

 private:
  bool authorized(const net::HttpRequest& request) const;
  void count(std::string_view route, int status, std::chrono::steady_clock::duration took);

  std::shared_ptr<Dashboard> dashboard_;
  AccessOptions access_;
  std::string page_;  // index.html with the style sheet and the script inlined
  std::string csp_;   // allows exactly those two inline blocks
  mutable std::mutex metrics_mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, std::pair<double, uint64_t>> latency_;  // seconds summed, count
  std::atomic<uint64_t> unauthorized_{0};
};

}  // namespace vouch::ui
