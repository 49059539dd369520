// vouch ui serve: the read-only web dashboard over the report store, the inventory and a log.
#include <atomic>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/policy_inputs.h"
#include "vouch/admission/report_store.h"
#include "vouch/inventory/store.h"
#include "vouch/net/http_server.h"
#include "vouch/ui/app.h"
#include "vouch/ui/dashboard.h"

namespace vouch::cli {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;

struct UiFlags {
  std::string listen = "127.0.0.1:8080";
  std::string reports;
  std::string inventory;
  std::string log;
  std::string log_ca_file;
  std::vector<std::string> policies;
  std::string tls_cert, tls_key, tls_client_ca;
  std::string token_file;
  double log_timeout = 5;
};

// The SQLite file a store URL names ("sqlite:PATH" or a bare path); empty for postgres://.
std::string sqlite_file(const std::string& url) {
  if (url.starts_with("postgres://") || url.starts_with("postgresql://")) return "";
  return url.starts_with("sqlite:") ? url.substr(7) : url;
}

Status serve(const UiFlags& f) {
  std::string reports_url = f.reports;
  if (reports_url.empty()) {
    if (const char* env = std::getenv("VOUCH_REPORTS"); env && *env) reports_url = env;
  }
  std::string inventory_url = f.inventory;
  if (inventory_url.empty()) {
    if (const char* env = std::getenv("VOUCH_INVENTORY"); env && *env) inventory_url = env;
  }
  if (reports_url.empty() && inventory_url.empty() && f.log.empty())
    return invalid_input("nothing to show: give --reports, --inventory or --log (or set $VOUCH_REPORTS, $VOUCH_INVENTORY)");
  if (!f.policies.empty() && reports_url.empty())
    return invalid_input("--policies: the rollout plan needs the report store (--reports)");
  if (f.log_timeout <= 0 || f.log_timeout > 300) return invalid_input("--log-timeout: between 0 and 300 seconds");

  std::string token;
  if (!f.token_file.empty()) {
    VOUCH_ASSIGN_OR_RETURN(token, ui::read_token_file(f.token_file));
  }
  const bool tls = !f.tls_cert.empty() || !f.tls_key.empty();
  if (tls && (f.tls_cert.empty() || f.tls_key.empty())) return invalid_input("--tls-cert and --tls-key go together");
  if (!f.tls_client_ca.empty() && !tls) return invalid_input("--tls-client-ca needs --tls-cert and --tls-key");
  VOUCH_RETURN_IF_ERROR(ui::check_exposure(f.listen, tls, !token.empty(), !f.tls_client_ca.empty()));

  ui::DashboardOptions options;
  if (!reports_url.empty()) {
    // Reading never creates a store (as vouch report get).
    VOUCH_ASSIGN_OR_RETURN(auto store, admission::open_report_store(reports_url, {.must_exist = true}));
    options.reports = std::move(store);
    options.reports_url = reports_url;
  }
  if (!inventory_url.empty()) {
    if (std::string file = sqlite_file(inventory_url); !file.empty() && !fs::exists(file))
      return invalid_input(fmt::format("inventory {}: no such file", file));
    VOUCH_ASSIGN_OR_RETURN(auto store, inventory::open_inventory_store(inventory_url));
    options.inventory = std::move(store);
    options.inventory_url = inventory_url;
  }
  if (!f.log.empty()) {
    if (!f.log.starts_with("http://") && !f.log.starts_with("https://"))
      return invalid_input(fmt::format("--log {}: want the http(s):// URL of a Rekor v1 API log", f.log));
    options.log = ui::rekor_log_reader(f.log, f.log_ca_file,
                                       std::chrono::milliseconds(static_cast<int64_t>(f.log_timeout * 1000)));
  }
  if (!f.policies.empty()) {
    // Checked now, so that a wrong path fails the start; read again for every ladder request.
    VOUCH_ASSIGN_OR_RETURN(auto files, expand_paths(f.policies));
    VOUCH_ASSIGN_OR_RETURN(auto loaded, load_policies(files));
    if (loaded.empty()) return invalid_input("--policies: no ClusterPolicy or Policy found in the given files");
    options.policies = [paths = f.policies]() -> Result<std::vector<policy::Policy>> {
      VOUCH_ASSIGN_OR_RETURN(auto files, expand_paths(paths));
      return load_policies(files);
    };
    std::string source;
    for (const auto& p : f.policies) source += (source.empty() ? "" : ", ") + p;
    options.policies_source = source;
  }

  auto dashboard = std::make_shared<ui::Dashboard>(std::move(options));
  VOUCH_RETURN_IF_ERROR(dashboard->warm());
  auto app = std::make_shared<ui::UiApp>(
      dashboard, ui::AccessOptions{.token = token,
                                   .client_certificates = !f.tls_client_ca.empty(),
                                   .loopback_only = ui::is_loopback_listen(f.listen)});

  net::HttpServerOptions http;
  http.listen = f.listen;
  http.io_threads = 2;
  http.worker_threads = 4;
  http.max_body_bytes = 64 << 10;  // GET only: a body is never read
  http.read_timeout = std::chrono::seconds(30);
  http.request_deadline = std::chrono::seconds(30);
  http.server_name = "vouch-ui";
  http.tls_cert_file = f.tls_cert;
  http.tls_key_file = f.tls_key;
  http.tls_client_ca_file = f.tls_client_ca;
  auto handler = [app](net::HttpRequest req, net::Responder respond) {
    auto started = std::chrono::steady_clock::now();
    net::HttpResponse r = app->handle(req);
    if (req.path != "/healthz" && req.path != "/readyz" && req.path != "/metrics") {
      auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
      server_log("request", {{"method", req.method},
                             {"path", req.path},
                             {"status", r.status},
                             {"ms", static_cast<int64_t>(std::lround(ms))},
                             {"peer", req.peer_address}});
    }
    respond(std::move(r));
  };
  VOUCH_ASSIGN_OR_RETURN(auto server, net::HttpServer::start(http, handler));
  server_log("dashboard serving",
             {{"address", server->address()},
              {"url", fmt::format("{}://{}/", tls ? "https" : "http", server->address())},
              {"reports", reports_url.empty() ? bj::value(nullptr) : bj::value(reports_url)},
              {"inventory", inventory_url.empty() ? bj::value(nullptr) : bj::value(inventory_url)},
              {"log", f.log.empty() ? bj::value(nullptr) : bj::value(f.log)},
              {"auth", !token.empty() ? "bearer token" : !f.tls_client_ca.empty() ? "client certificate" : "none (loopback)"}});
  // SIGHUP: the serving certificate was rotated in place.
  static std::atomic<bool> hup{false};
  std::atomic<bool> done{false};
  std::thread tls_watch;
  if (tls) {
    std::signal(SIGHUP, [](int) { hup = true; });
    tls_watch = std::thread([&] {
      while (!done) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        if (!hup.exchange(false)) continue;
        Status st = server->reload_tls();
        if (st.ok()) server_log("serving certificate reloaded", {{"cert", f.tls_cert}});
        else server_log("serving certificate not reloaded: the previous one keeps serving", {{"error", st.error().message}});
      }
    });
  }
  server->run_until_signal();
  done = true;
  if (tls_watch.joinable()) tls_watch.join();
  server_log("dashboard stopped", {});
  return ok_status();
}

}  // namespace

void register_ui_commands(CLI::App& app, int& exit_code) {
  auto* ui_cmd = app.add_subcommand("ui", "The web dashboard: reports, the audit -> enforce ladder, images and findings, the log.");
  ui_cmd->require_subcommand(1);
  auto f = std::make_shared<UiFlags>();
  auto* cmd = ui_cmd->add_subcommand(
      "serve",
      "Serve a read-only web dashboard over the stores the servers write: the report store of\n"
      "`vouch admission serve` (results per namespace and policy, their trend, failing resources, the\n"
      "audit -> enforce ladder and the change `vouch rollout plan` would make), the image inventory\n"
      "(images, SBOM packages, findings with their lifecycle) and a transparency log (tree size,\n"
      "checkpoint, search by digest or email). Pages and scripts are embedded in the binary; a JSON\n"
      "API under /api/ serves what they show (docs/ui.md). Only GET is served (anything else: 405).\n"
      "On a loopback address no credentials are needed; on any other address the dashboard refuses to\n"
      "start without TLS and a bearer token (--token) or client certificates (--tls-client-ca).\n"
      "Also /healthz, /readyz, /metrics. SIGTERM drains requests in flight.");
  cmd->add_option("--listen", f->listen, "HOST:PORT to listen on")->capture_default_str();
  cmd->add_option("--reports", f->reports,
                  "Report store: a SQLite file or postgres://… (default $VOUCH_REPORTS); never created");
  cmd->add_option("--inventory", f->inventory,
                  "Inventory store: a SQLite file or postgres://… (default $VOUCH_INVENTORY); never created");
  cmd->add_option("--log", f->log, "Base URL of a Rekor v1 API log (vouch log serve, Rekor)");
  cmd->add_option("--log-ca-file", f->log_ca_file, "CA certificates (PEM) to trust for the log's TLS");
  cmd->add_option("--log-timeout", f->log_timeout, "Seconds one request to the log may take")->capture_default_str();
  cmd->add_option("-p,--policies", f->policies,
                  "The policies as applied in the cluster (files or directories, as vouch rollout plan -p): the ladder "
                  "then shows the change the plan would make");
  cmd->add_option("--tls-cert", f->tls_cert, "Serving certificate (PEM, leaf first): HTTPS only");
  cmd->add_option("--tls-key", f->tls_key, "Its private key (PEM)");
  cmd->add_option("--tls-client-ca", f->tls_client_ca,
                  "CA certificates (PEM): clients must present a certificate they issued (mutual TLS)");
  cmd->add_option("--token", f->token_file,
                  "File holding a bearer token that /api/ and /metrics requests must carry (Authorization: Bearer)");
  on_run(cmd, exit_code, [f] { return serve(*f); });
}

}  // namespace vouch::cli
