#include "vouch/ui/app.h"

#include <arpa/inet.h>

#include <cctype>
#include <set>

#include <fmt/format.h>

#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/base/bytes.h"
#include "vouch/crypto/digest.h"
#include "vouch/crypto/random.h"
#include "vouch/net/prometheus.h"

namespace vouch::ui {
namespace {

namespace bj = boost::json;

// The pages run only what this server sends: its own script and style sheet (inlined into the
// page, allowed by their SHA-256), nothing from another origin, no framing.
std::string content_security_policy(std::string_view script, std::string_view style) {
  return fmt::format(
      "default-src 'none'; script-src 'self' 'sha256-{}'; style-src 'self' 'sha256-{}'; img-src 'self' data:; "
      "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      base64_encode(crypto::sha256(script)), base64_encode(crypto::sha256(style)));
}

void secure_headers(net::HttpResponse& r, const std::string& csp) {
  r.headers.emplace_back("Content-Security-Policy", csp);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("X-Frame-Options", "DENY");
}

net::HttpResponse json_error(int status, std::string message) {
  net::HttpResponse r;
  r.status = status;
  r.body = json::serialize(bj::object{{"error", std::move(message)}});
  return r;
}

// The metrics' route label: a fixed set, so that a crawler's paths cannot grow the series.
std::string route_of(std::string_view path) {
  if (path.starts_with("/api/images/")) return "/api/images/{digest}";
  static const std::set<std::string_view> kApi = {"/api/overview", "/api/reports/summary", "/api/reports/results",
                                                  "/api/reports/trend", "/api/ladder",         "/api/images",
                                                  "/api/findings",      "/api/log",            "/api/log/search"};
  if (kApi.contains(path)) return std::string(path);
  if (path.starts_with("/api/")) return "/api/other";
  if (path == "/healthz" || path == "/readyz" || path == "/metrics") return std::string(path);
  if (path == "/" || find_asset(path)) return "asset";
  return "other";
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

bool is_loopback_listen(std::string_view listen) {
  size_t colon = listen.rfind(':');
  std::string_view host = colon == std::string_view::npos ? listen : listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") return true;
  std::string h(host);
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;  // 0.0.0.0, ::, a host name: reachable from elsewhere
}

Status check_exposure(std::string_view listen, bool tls, bool token, bool client_certificates) {
  if (is_loopback_listen(listen)) return ok_status();
  if (!token && !client_certificates) {
    return invalid_input(fmt::format(
        "--listen {}: not a loopback address, so the dashboard needs credentials: --token FILE (a bearer token) "
        "or --tls-client-ca FILE (client certificates), with --tls-cert and --tls-key",
        listen));
  }
  if (!tls) {
    return invalid_input(fmt::format("--listen {}: not a loopback address, so the dashboard needs --tls-cert and --tls-key "
                                     "(a bearer token over plain HTTP can be read on the way)",
                                     listen));
  }
  return ok_status();
}

Result<std::string> read_token_file(const std::string& path) {
  VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(path, 64 << 10));
  std::string_view first = text;
  first = first.substr(0, first.find('\n'));
  std::string token(trim(first));
  if (token.size() < 16) return invalid_input(fmt::format("token file {}: the token is shorter than 16 characters", path));
  for (char c : token) {
    if (c < 0x21 || c > 0x7e) return invalid_input(fmt::format("token file {}: the token holds a character that is not printable ASCII", path));
  }
  return token;
}

UiApp::UiApp(std::shared_ptr<Dashboard> dashboard, AccessOptions access)
    : dashboard_(std::move(dashboard)), access_(std::move(access)) {
  // The page with its style sheet and script inside: one request before the first table.
  const Asset* index = find_asset("/index.html");
  const Asset* style = find_asset("/style.css");
  const Asset* script = find_asset("/app.js");
  page_ = index ? std::string(index->body) : std::string();
  auto inline_asset = [&](std::string_view tag, std::string_view replacement) {
    if (size_t at = page_.find(tag); at != std::string::npos) page_.replace(at, tag.size(), replacement);
  };
  if (style) inline_asset(R"(<link rel="stylesheet" href="/style.css">)", fmt::format("<style>{}</style>", style->body));
  if (script) {
    inline_asset(R"(<script src="/app.js" defer></script>)", "");
    inline_asset("</body>", fmt::format("<script>{}</script>\n</body>", script->body));
  }
  if (size_t at = page_.find("@STORES@"); at != std::string::npos) page_.replace(at, 8, dashboard_->stores());
  csp_ = content_security_policy(script ? script->body : "", style ? style->body : "");
}

bool UiApp::authorized(const net::HttpRequest& request) const {
  if (!access_.token.empty()) {
    std::string_view h = request.header("authorization");
    if (h.size() < 7 || !(h.substr(0, 7) == "Bearer " || h.substr(0, 7) == "bearer ")) return false;
    return crypto::constant_time_equal(trim(h.substr(7)), access_.token);
  }
  // No token: the handshake checked the client's certificate, or the server listens on
  // loopback only (check_exposure refused anything else at start).
  if (access_.client_certificates) return !request.client_subject.empty();
  return access_.loopback_only;
}

net::HttpResponse UiApp::handle(const net::HttpRequest& request) {
  auto started = std::chrono::steady_clock::now();
  net::HttpResponse r;
  const std::string& p = request.path;
  if (request.method != "GET") {
    r = json_error(405, fmt::format("{} {}: the dashboard is read-only; only GET is served", request.method, p));
    r.headers.emplace_back("Allow", "GET");
  } else if (p == "/healthz") {
    r.content_type = "text/plain";
    r.body = "ok\n";
  } else if (p == "/readyz") {
    r.body = json::serialize(bj::object{{"ready", true}});
  } else if (p == "/metrics" || p.starts_with("/api/")) {
    if (!authorized(request)) {
      ++unauthorized_;
      r = json_error(401, access_.token.empty() ? "a client certificate is required"
                                                : "a bearer token is required (Authorization: Bearer <token>)");
      if (!access_.token.empty()) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"vouch\"");
    } else if (p == "/metrics") {
      r.content_type = std::string(net::PrometheusText::kContentType);
      r.body = metrics();
    } else {
      r = dashboard_->handle(request);
    }
  } else if (p == "/" || p == "/index.html") {
    // The page holds no data; it asks /api/ for it with the user's credentials. It is told
    // which stores there are, so that it asks for its table at once.
    r.content_type = "text/html; charset=utf-8";
    r.body = page_;
    r.headers.emplace_back("Cache-Control", "no-cache");
  } else if (const Asset* a = find_asset(p)) {
    r.content_type = std::string(a->content_type);
    r.body = std::string(a->body);
    r.headers.emplace_back("Cache-Control", "no-cache");
  } else {
    r = json_error(404, fmt::format("{}: not found", p));
  }
  secure_headers(r, csp_);
  count(route_of(p), r.status, std::chrono::steady_clock::now() - started);
  return r;
}

void UiApp::count(std::string_view route, int status, std::chrono::steady_clock::duration took) {
  std::lock_guard lock(metrics_mu_);
  ++requests_[{std::string(route), status}];
  auto& l = latency_[std::string(route)];
  l.first += std::chrono::duration<double>(took).count();
  ++l.second;
}

std::string UiApp::metrics() const {
  net::PrometheusText m;
  std::lock_guard lock(metrics_mu_);
  m.family("vouch_ui_requests_total", "counter", "Requests by route and status");
  for (const auto& [k, n] : requests_) {
    std::string status = std::to_string(k.second);
    m.sample("vouch_ui_requests_total", n, {{"route", k.first}, {"status", status}});
  }
  m.family("vouch_ui_request_seconds", "summary", "Time to answer, by route");
  for (const auto& [route, l] : latency_) {
    m.sample("vouch_ui_request_seconds_sum", l.first, {{"route", route}});
    m.sample("vouch_ui_request_seconds_count", l.second, {{"route", route}});
  }
  m.counter("vouch_ui_unauthorized_total", "Requests refused for want of credentials", unauthorized_.load());
  return m.take();
}

}  // namespace vouch::ui
