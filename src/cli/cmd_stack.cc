// vouch stack up: a private Sigstore stack on one host (an OIDC issuer that speaks GitHub Actions'
// token protocol, the CA with its CT log, a Rekor-compatible log and a timestamp authority), with
// the trusted root and signing config that point clients at it.
#include <atomic>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/ca/ca_server.h"
#include "vouch/ca/oidc_issuer.h"
#include "vouch/ca/tsa.h"
#include "vouch/crypto/digest.h"
#include "vouch/net/http_server.h"
#include "vouch/sigstore/signing_config.h"
#include "vouch/sigstore/trusted_root.h"
#include "vouch/tlog/log.h"
#include "vouch/tlog/rekor_api.h"

namespace vouch::cli {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;

struct StackFlags {
  std::string dir;
  std::string listen_host = "127.0.0.1";
  ca::GithubWorkflowIdentity github;
};

// A server that starts before the service behind it exists (its URL names the port it got).
struct LateServer {
  std::atomic<net::HttpHandler*> handler{nullptr};
  std::unique_ptr<net::HttpServer> server;
  std::string url;

  Status start(const std::string& address, size_t max_body) {
    net::HttpServerOptions o;
    o.listen = address;
    o.io_threads = 1;
    o.worker_threads = 2;
    o.max_body_bytes = max_body;
    o.read_timeout = std::chrono::seconds(30);
    o.request_deadline = std::chrono::seconds(30);
    VOUCH_ASSIGN_OR_RETURN(server, net::HttpServer::start(o, [this](net::HttpRequest r, net::Responder respond) {
                             net::HttpHandler* h = handler.load();
                             if (!h) return respond({503, "text/plain", "starting\n", {}});
                             (*h)(std::move(r), std::move(respond));
                           }));
    url = "http://" + server->address();
    return ok_status();
  }
};

std::string shell_quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

Result<sigstore::LogInstance> log_instance(std::string url, const crypto::PublicKey& key, UnixSeconds start) {
  sigstore::LogInstance log;
  log.base_url = std::move(url);
  VOUCH_ASSIGN_OR_RETURN(log.key_details, sigstore::key_details_for(key));
  log.log_id = crypto::sha256(key.der());
  log.key = key;
  log.valid_for.start = start;
  return log;
}

sigstore::Service service(std::string url, UnixSeconds start) {
  sigstore::Service s;
  s.url = std::move(url);
  s.major_api_version = 1;
  s.valid_for.start = start;
  s.operator_name = "vouch stack";
  return s;
}

Status stack_up(const StackFlags& f) {
  if (!f.github.sha.empty() && (f.github.sha.size() != 40 || f.github.sha.find_first_not_of("0123456789abcdef") != std::string::npos))
    return invalid_input(fmt::format("--github-sha {}: expected a commit, 40 lower-case hex digits", f.github.sha));
  const fs::path dir = f.dir;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return io_error(fmt::format("{}: {}", f.dir, ec.message()));

  // Every listener first: the URLs they got go into the identity tokens, the certificates and
  // the trusted root, so a restart listens where the first start did (DIR/services.json).
  LateServer oidc_server, ca_server, rekor_server, tsa_server;
  const std::pair<const char*, LateServer*> servers[] = {
      {"oidc", &oidc_server}, {"fulcio", &ca_server}, {"rekor", &rekor_server}, {"tsa", &tsa_server}};
  const fs::path services_path = dir / "services.json";
  std::map<std::string, std::string> addresses;
  // When the Rekor log began, kept so that the trusted root a restart writes is the same.
  std::optional<UnixSeconds> log_start;
  if (fs::exists(services_path)) {
    VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(services_path, 64 << 10));
    auto doc = json::parse(text);
    if (!doc.ok() || !doc->is_object()) return invalid_input(fmt::format("{}: not a JSON object", services_path.string()));
    for (const auto& [name, server] : servers) {
      json::Node node = json::Node::root(*doc);
      auto address = node.get_string(name);
      if (!address.ok()) return std::move(address).error().context(services_path.string());
      if (address->rfind(f.listen_host + ":", 0) != 0)
        return invalid_input(fmt::format("{}: the stack listens on {}, not on --listen-host {} (remove the directory to start "
                                         "another stack)", services_path.string(), *address, f.listen_host));
      addresses[name] = *address;
    }
    auto start = json::Node::root(*doc).get_int64("rekorValidFrom");
    if (!start.ok()) return std::move(start).error().context(services_path.string());
    log_start = *start;
  }
  const size_t body_limits[] = {64 << 10, 256 << 10, 8 << 20, 64 << 10};
  bj::object bound;
  for (size_t i = 0; i < std::size(servers); ++i) {
    const auto& [name, server] = servers[i];
    const std::string address = addresses.count(name) ? addresses[name] : f.listen_host + ":0";
    auto started = server->start(address, body_limits[i]);
    if (!started.ok()) return std::move(started).error().context(fmt::format("{} service on {}", name, address));
    bound[name] = server->server->address();
  }

  ca::OidcIssuerOptions oidc_options;
  oidc_options.issuer_url = oidc_server.url;
  oidc_options.github = f.github;
  VOUCH_ASSIGN_OR_RETURN(auto issuer, ca::OidcIssuer::open(dir / "oidc_key.pem", oidc_options));
  net::HttpHandler oidc_handler = issuer->handler();

  ca::CaServerOptions ca_options;
  ca_options.dir = dir / "ca";
  ca::IssuerConfig github;
  github.issuer_url = issuer->issuer_url();
  github.type = ca::IssuerType::kGithubWorkflow;
  ca_options.issuers = {github};
  VOUCH_ASSIGN_OR_RETURN(auto ca, ca::CaServer::open(ca_options));
  net::HttpHandler ca_handler = ca->handler();

  fs::create_directories(dir / "rekor", ec);
  if (ec) return io_error(fmt::format("{}: {}", (dir / "rekor").string(), ec.message()));
  VOUCH_ASSIGN_OR_RETURN(crypto::PrivateKey rekor_key,
                         crypto::load_or_create_private_key(dir / "rekor" / "signing_key.pem", crypto::KeyType::kEcdsaP256));
  VOUCH_ASSIGN_OR_RETURN(auto storage, tlog::open_storage("sqlite:" + (dir / "rekor" / "log.db").string()));
  VOUCH_ASSIGN_OR_RETURN(auto log, tlog::Log::open(std::move(storage), rekor_key, tlog::LogOptions{f.listen_host, 1024}));
  auto rekor_api = std::make_unique<tlog::RekorApi>(*log);
  net::HttpHandler rekor_handler = rekor_api->handler();

  VOUCH_ASSIGN_OR_RETURN(ca::TsaOptions tsa_options, ca::load_or_create_tsa_material(dir / "tsa"));
  const auto tsa_chain = tsa_options.chain;
  ca::TimestampAuthorityServer tsa(std::move(tsa_options));
  net::HttpHandler tsa_handler = tsa.handler();

  // The trusted root pins what each service signs with, from when it began.
  sigstore::TrustedRoot root;
  if (!log_start) {
    log_start = now_unix();
    if (auto first = log->storage().entry(0); first.ok() && first->has_value()) log_start = (*first)->integrated_time;
    bound["rekorValidFrom"] = *log_start;
    VOUCH_RETURN_IF_ERROR(write_file_atomic(services_path, json::pretty(bound) + "\n"));
  }
  VOUCH_ASSIGN_OR_RETURN(auto rekor_instance, log_instance(rekor_server.url, log->public_key(), *log_start));
  root.tlogs.push_back(std::move(rekor_instance));
  sigstore::CertificateAuthority fulcio;
  fulcio.uri = ca_server.url;
  fulcio.chain = ca->ca().chain();
  fulcio.valid_for.start = fulcio.chain.front().not_before();
  root.certificate_authorities.push_back(std::move(fulcio));
  VOUCH_ASSIGN_OR_RETURN(auto ct_instance, log_instance(ca_server.url, ca->ct_log()->public_key(), ca->ct_log()->created()));
  root.ctlogs.push_back(std::move(ct_instance));
  sigstore::CertificateAuthority tsa_authority;
  tsa_authority.uri = tsa_server.url;
  tsa_authority.chain = tsa_chain;
  tsa_authority.valid_for.start = tsa_chain.front().not_before();
  root.timestamp_authorities.push_back(std::move(tsa_authority));

  const UnixSeconds start = now_unix() - 60;
  sigstore::SigningConfig config;
  config.ca_urls.push_back(service(ca_server.url, start));
  config.oidc_urls.push_back(service(oidc_server.url, start));
  config.rekor_tlog_urls.push_back(service(rekor_server.url, start));
  config.tsa_urls.push_back(service(tsa_server.url + "/api/v1/timestamp", start));
  config.rekor_tlog_config.selector = sigstore::ServiceSelection::Selector::kAny;
  config.tsa_config.selector = sigstore::ServiceSelection::Selector::kAny;

  // Serve, then announce: the files appear once every service answers.
  oidc_server.handler = &oidc_handler;
  ca_server.handler = &ca_handler;
  rekor_server.handler = &rekor_handler;
  tsa_server.handler = &tsa_handler;
  const fs::path root_path = dir / "trusted_root.json", config_path = dir / "signing_config.json";
  VOUCH_RETURN_IF_ERROR(write_file_atomic(root_path, json::pretty(sigstore::trusted_root_json(root)) + "\n"));
  VOUCH_RETURN_IF_ERROR(write_file_atomic(config_path, json::pretty(sigstore::signing_config_json(config)) + "\n"));
  std::string env;
  env += fmt::format("export SIGSTORE_ROOT_FILE={}\n", shell_quote(fs::absolute(root_path).string()));
  env += fmt::format("export VOUCH_SIGNING_CONFIG={}\n", shell_quote(fs::absolute(config_path).string()));
  env += fmt::format("export ACTIONS_ID_TOKEN_REQUEST_URL={}\n", shell_quote(issuer->actions_request_url()));
  env += fmt::format("export ACTIONS_ID_TOKEN_REQUEST_TOKEN={}\n", shell_quote(issuer->actions_request_token()));
  env += fmt::format("export VOUCH_OIDC_URL={}\n", shell_quote(oidc_server.url));
  env += fmt::format("export VOUCH_FULCIO_URL={}\n", shell_quote(ca_server.url));
  env += fmt::format("export VOUCH_REKOR_URL={}\n", shell_quote(rekor_server.url));
  env += fmt::format("export VOUCH_TSA_URL={}\n", shell_quote(tsa_server.url + "/api/v1/timestamp"));
  // The request token is a credential: the file is for this user only.
  VOUCH_RETURN_IF_ERROR(write_file_atomic(dir / "env", env, 0600));
  server_log("private Sigstore stack serving",
             {{"oidc", oidc_server.url},
              {"fulcio", ca_server.url},
              {"rekor", rekor_server.url},
              {"tsa", tsa_server.url},
              {"trustedRoot", root_path.string()},
              {"signingConfig", config_path.string()},
              {"env", (dir / "env").string()},
              {"identity", fmt::format("https://github.com/{}/{}@{}", f.github.repository, f.github.workflow_path,
                                       f.github.ref)}});

  // Until SIGTERM, then every listener stops before the services behind them go away.
  ca_server.server->run_until_signal();
  for (auto* s : {&oidc_server, &rekor_server, &tsa_server}) s->server->stop();
  log->stop();
  for (auto* s : {&oidc_server, &ca_server, &rekor_server, &tsa_server}) s->handler = nullptr;
  server_log("private Sigstore stack stopped", {{"treeSize", log->head().size}});
  return ok_status();
}

}  // namespace

void register_stack_commands(CLI::App& app, int& exit_code) {
  auto* stack = app.add_subcommand("stack", "A private Sigstore stack on one host");
  stack->require_subcommand(1);
  auto f = std::make_shared<StackFlags>();
  auto* up = stack->add_subcommand(
      "up",
      "Run an OIDC issuer (with GitHub Actions' token request protocol for one workflow identity), a\n"
      "Fulcio-compatible CA with its CT log, a Rekor-compatible log and a timestamp authority, each on a\n"
      "free port of --listen-host. Once every service answers, writes DIR/trusted_root.json,\n"
      "DIR/signing_config.json and DIR/env (export lines: SIGSTORE_ROOT_FILE, VOUCH_SIGNING_CONFIG,\n"
      "ACTIONS_ID_TOKEN_REQUEST_URL, ACTIONS_ID_TOKEN_REQUEST_TOKEN and the services' URLs). With DIR/env\n"
      "sourced, `vouch sign-blob --signing-config DIR/signing_config.json --bundle OUT FILE --yes` signs\n"
      "keyless as that workflow. Keys, certificates and logs stay in DIR across restarts. Runs until SIGTERM.");
  up->add_option("--dir", f->dir, "Directory of the stack's keys, logs and client files")->required();
  up->add_option("--listen-host", f->listen_host, "Address every service listens on")->capture_default_str();
  up->add_option("--github-repository", f->github.repository, "ORG/REPO of the workflow identity")->capture_default_str();
  up->add_option("--github-workflow", f->github.workflow_path, "Workflow file of the identity")->capture_default_str();
  up->add_option("--github-ref", f->github.ref, "Git ref of the identity")->capture_default_str();
  up->add_option("--github-sha", f->github.sha,
                 "Commit of the identity's tokens (sha, workflow_sha; default: derived from the repository and ref)");
  on_run(up, exit_code, [f] { return stack_up(*f); });
}

}  // namespace vouch::cli
