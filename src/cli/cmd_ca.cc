// vouch ca serve (a Fulcio-compatible CA with its CT log) and vouch oidc serve (an OIDC issuer for
// development and air-gapped sites).
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "vouch/ca/ca_server.h"
#include "vouch/ca/oidc_issuer.h"
#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/net/http_server.h"

namespace vouch::cli {
namespace {

namespace bj = boost::json;

struct CaServeFlags {
  std::string listen = "127.0.0.1:5555";
  std::string dir;
  std::string config_path;
  std::vector<std::string> oidc_issuers;
  std::string issuer_type;  // empty: email
  std::string client_id;    // empty: sigstore
  std::string subject_domain;
  std::string oidc_ca_file;
  bool no_ct_log = false;
  std::string ct_log_storage;
  unsigned threads = 4;
};

Result<std::vector<ca::IssuerConfig>> issuers_from_flags(const CaServeFlags& f) {
  if (!f.config_path.empty()) {
    if (!f.oidc_issuers.empty() || !f.issuer_type.empty() || !f.client_id.empty() || !f.subject_domain.empty())
      return invalid_input("--config-path names the issuers; --oidc-issuer, --issuer-type, --client-id and "
                           "--subject-domain cannot be given with it");
    VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(f.config_path));
    auto issuers = ca::parse_fulcio_config(text);
    if (!issuers.ok()) return std::move(issuers).error().context(f.config_path);
    return issuers;
  }
  if (f.oidc_issuers.empty()) return invalid_input("name the identity token issuers: --oidc-issuer URL or --config-path FILE");
  VOUCH_ASSIGN_OR_RETURN(ca::IssuerType type, ca::parse_issuer_type(f.issuer_type.empty() ? "email" : f.issuer_type));
  std::vector<ca::IssuerConfig> out;
  for (const auto& url : f.oidc_issuers) {
    ca::IssuerConfig c;
    c.issuer_url = url;
    if (!f.client_id.empty()) c.client_id = f.client_id;
    c.type = type;
    c.subject_domain = f.subject_domain;
    out.push_back(std::move(c));
  }
  // The same checks as a configuration file's entries (https, subject domain for uri issuers).
  auto checked = ca::parse_fulcio_config(ca::fulcio_config_json(out));
  if (!checked.ok()) return invalid_input(fmt::format("--oidc-issuer: {}", checked.error().message));
  return checked;
}

Status serve_ca(const CaServeFlags& f) {
  VOUCH_ASSIGN_OR_RETURN(auto issuers, issuers_from_flags(f));
  ca::CaServerOptions options;
  options.dir = f.dir;
  options.issuers = std::move(issuers);
  options.oidc_ca_file = f.oidc_ca_file;
  options.ct_log = !f.no_ct_log;
  options.ct_log_storage = f.ct_log_storage;
  VOUCH_ASSIGN_OR_RETURN(auto service, ca::CaServer::open(options));
  net::HttpServerOptions http;
  http.listen = f.listen;
  http.worker_threads = f.threads;
  http.max_body_bytes = 256 << 10;
  http.read_timeout = std::chrono::seconds(30);
  http.request_deadline = std::chrono::seconds(30);
  VOUCH_ASSIGN_OR_RETURN(auto server, net::HttpServer::start(http, service->handler()));
  bj::object fields{{"address", server->address()}, {"dir", f.dir}, {"created", service->created()}};
  if (service->ct_log()) fields["ctLogID"] = hex_encode(service->ct_log()->log_id());
  bj::array issuer_urls;
  for (const auto& i : options.issuers) issuer_urls.push_back(bj::string(i.issuer_url));
  fields["issuers"] = std::move(issuer_urls);
  server_log("certificate authority serving", std::move(fields));
  server->run_until_signal();
  server_log("certificate authority stopped", {});
  return ok_status();
}

struct OidcServeFlags {
  std::string listen = "127.0.0.1:5556";
  std::string issuer_url;
  std::string key;
  std::string audience = "sigstore";
  double lifetime_seconds = 600;
  std::string client_secret_file;
  ca::GithubWorkflowIdentity github;
  unsigned threads = 2;
};

Status serve_oidc(const OidcServeFlags& f) {
  ca::OidcIssuerOptions options;
  options.default_audience = f.audience;
  options.token_lifetime = std::chrono::seconds(static_cast<int64_t>(f.lifetime_seconds));
  options.github = f.github;
  if (!f.client_secret_file.empty()) {
    VOUCH_ASSIGN_OR_RETURN(std::string secret, read_file(f.client_secret_file, 4096));
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
    if (secret.empty()) return invalid_input(fmt::format("{}: empty client secret", f.client_secret_file));
    options.client_secret = secret;
  }
  net::HttpServerOptions http;
  http.listen = f.listen;
  http.worker_threads = f.threads;
  http.max_body_bytes = 64 << 10;
  http.read_timeout = std::chrono::seconds(10);
  http.request_deadline = std::chrono::seconds(10);
  // The issuer URL names the port, which is known once listening: requests wait for the issuer.
  std::unique_ptr<ca::OidcIssuer> issuer;
  std::atomic<ca::OidcIssuer*> ready{nullptr};
  VOUCH_ASSIGN_OR_RETURN(auto server, net::HttpServer::start(http, [&ready](net::HttpRequest r, net::Responder respond) {
                           ca::OidcIssuer* i = ready.load();
                           if (!i) return respond({503, "text/plain", "starting\n", {}});
                           respond(i->handle_request(r));
                         }));
  options.issuer_url = f.issuer_url.empty() ? "http://" + server->address() : f.issuer_url;
  auto key = f.key.empty() ? crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256)
                           : crypto::load_or_create_private_key(f.key, crypto::KeyType::kEcdsaP256);
  auto created = key.ok() ? ca::OidcIssuer::create(std::move(*key), options)
                          : Result<std::unique_ptr<ca::OidcIssuer>>(std::move(key).error());
  if (!created.ok()) {
    server->stop(std::chrono::milliseconds(0));
    return std::move(created).error();
  }
  issuer = std::move(*created);
  ready = issuer.get();
  bj::object fields{{"address", server->address()},
                    {"issuer", issuer->issuer_url()},
                    {"kid", issuer->key_id()},
                    {"actionsRequestURL", issuer->actions_request_url()}};
  // The request token is a credential: shown only when nobody but this machine can use it.
  if (!options.client_secret && server->address().rfind("127.", 0) == 0)
    fields["actionsRequestToken"] = issuer->actions_request_token();
  server_log("OIDC issuer serving", std::move(fields));
  server->run_until_signal();
  ready = nullptr;
  server_log("OIDC issuer stopped", {});
  return ok_status();
}

void add_github_flags(CLI::App* cmd, ca::GithubWorkflowIdentity& g) {
  cmd->add_option("--github-repository", g.repository, "ORG/REPO of the GitHub Actions tokens")->capture_default_str();
  cmd->add_option("--github-workflow", g.workflow_path, "Workflow file of the GitHub Actions tokens")->capture_default_str();
  cmd->add_option("--github-ref", g.ref, "Git ref of the GitHub Actions tokens")->capture_default_str();
  cmd->add_option("--github-sha", g.sha, "Commit of the GitHub Actions tokens (default: derived from repository and ref)");
  cmd->add_option("--github-event", g.event_name, "event_name of the GitHub Actions tokens")->capture_default_str();
  cmd->add_option("--github-environment", g.environment, "Deployment environment claim (none by default)");
}

}  // namespace

void register_ca_commands(CLI::App& app, int& exit_code) {
  auto* ca_cmd = app.add_subcommand("ca", "A Fulcio-compatible certificate authority with a Certificate Transparency log");
  ca_cmd->require_subcommand(1);
  auto f = std::make_shared<CaServeFlags>();
  auto* serve = ca_cmd->add_subcommand(
      "serve",
      "Issue short-lived code-signing certificates for OIDC identity tokens, with Fulcio's API:\n"
      "POST /api/v2/signingCert (public key + proof of possession, or a CSR; the token in the body or in\n"
      "Authorization: Bearer), GET /api/v2/trustBundle, GET /api/v2/configuration, the legacy\n"
      "POST /api/v1/signingCert and GET /api/v1/rootCert; /healthz, /readyz, /metrics.\n"
      "Tokens are verified against the configured issuers (discovery, JWKS; RS256/ES256/EdDSA; iss, aud,\n"
      "exp, nbf, iat). Certificates: ten minutes, empty subject, one critical SAN, digitalSignature and\n"
      "codeSigning, Fulcio's extensions, SCTs from the embedded RFC 6962 CT log (/ct/v1/...).\n"
      "DIR keeps the root and intermediate (created on first start, keys mode 0600) and the CT log\n"
      "(DIR/ct: ct_key.pem, ct_public.pem, ct.db). Runs until SIGTERM.");
  serve->add_option("--dir", f->dir, "Directory of the CA's keys, certificates and CT log")->required();
  serve->add_option("--listen", f->listen, "HOST:PORT to listen on")->capture_default_str();
  serve->add_option("--config-path", f->config_path,
                    "Fulcio's issuer configuration (JSON: {\"OIDCIssuers\": {URL: {IssuerURL, ClientID, Type, SubjectDomain}}})");
  serve->add_option("--oidc-issuer", f->oidc_issuers, "Trust tokens of this issuer URL (repeatable; instead of --config-path)");
  serve->add_option("--issuer-type", f->issuer_type, "Type of the --oidc-issuer issuers: email, github-workflow or uri")
      ->check(CLI::IsMember({"email", "github-workflow", "uri"}))
      ->default_str("email");
  serve->add_option("--client-id", f->client_id, "Audience the --oidc-issuer tokens must carry")->default_str("sigstore");
  serve->add_option("--subject-domain", f->subject_domain, "For uri issuers: the scheme and host subjects must have");
  serve->add_option("--oidc-ca-file", f->oidc_ca_file, "Extra trust anchors (PEM) for the issuers' HTTPS");
  serve->add_flag("--no-ct-log", f->no_ct_log, "Run without a CT log: certificates carry no SCT");
  serve->add_option("--ct-log-storage", f->ct_log_storage,
                    "Storage of the CT log: sqlite:PATH or a PostgreSQL URI (default DIR/ct/ct.db)");
  serve->add_option("--threads", f->threads, "Worker threads")->capture_default_str();
  on_run(serve, exit_code, [f] { return serve_ca(*f); });
}

void register_oidc_commands(CLI::App& app, int& exit_code) {
  auto* oidc = app.add_subcommand("oidc", "An OpenID Connect issuer for development and air-gapped sites");
  oidc->require_subcommand(1);
  auto f = std::make_shared<OidcServeFlags>();
  auto* serve = oidc->add_subcommand(
      "serve",
      "Issue OIDC identity tokens: GET /.well-known/openid-configuration, GET /keys (JWK Set),\n"
      "POST /token (claims as JSON or a form -> id_token; loopback clients only unless\n"
      "--client-secret-file is given), and GitHub Actions' token request\n"
      "GET /github-actions/token?api-version=2.0&audience=A with Authorization: Bearer <request token>,\n"
      "answering a token for the --github-* workflow identity, so a CI run's identity can be reproduced\n"
      "(set ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN from the start-up line).\n"
      "Also /healthz, /readyz, /metrics. Runs until SIGTERM.");
  serve->add_option("--listen", f->listen, "HOST:PORT to listen on")->capture_default_str();
  serve->add_option("--issuer-url", f->issuer_url, "The tokens' iss and the base of every URL (default http://LISTEN)");
  serve->add_option("--key", f->key, "Signing key (PEM), created (ECDSA P-256, mode 0600) when absent; default: a key in memory");
  serve->add_option("--audience", f->audience, "Default aud of the tokens")->capture_default_str();
  serve->add_option("--token-lifetime", f->lifetime_seconds, "Lifetime of a token: 90s, 10m, 1h")
      ->transform(CLI::AsNumberWithUnit(std::map<std::string, double>{{"s", 1}, {"m", 60}, {"h", 3600}}))
      ->type_name("DURATION")
      ->default_str("10m");
  serve->add_option("--client-secret-file", f->client_secret_file, "Require this secret (HTTP Basic or client_secret) on /token");
  add_github_flags(serve, f->github);
  serve->add_option("--threads", f->threads, "Worker threads")->capture_default_str();
  on_run(serve, exit_code, [f] { return serve_oidc(*f); });
}

}  // namespace vouch::cli
