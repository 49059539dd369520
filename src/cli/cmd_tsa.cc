// vouch tsa serve: an RFC 3161 timestamp authority with sigstore/timestamp-authority's API.
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "vouch/base/json.h"
#include "vouch/ca/tsa.h"
#include "vouch/net/http_server.h"

namespace vouch::cli {
namespace {

namespace bj = boost::json;

struct TsaServeFlags {
  std::string listen = "127.0.0.1:3004";
  std::string key, cert_chain, dir;
  unsigned threads = 4;
};

Status serve(const TsaServeFlags& f) {
  if (!f.dir.empty() && (!f.key.empty() || !f.cert_chain.empty()))
    return invalid_input("--dir and --key/--cert-chain are exclusive");
  if (f.dir.empty() && (f.key.empty() || f.cert_chain.empty()))
    return invalid_input("give --key and --cert-chain, or --dir to keep (or create) them there");
  VOUCH_ASSIGN_OR_RETURN(ca::TsaOptions options, f.dir.empty() ? ca::load_tsa_material(f.key, f.cert_chain)
                                                                : ca::load_or_create_tsa_material(f.dir));
  if (!options.chain.front().valid_at(now_unix()))
    return invalid_input(fmt::format("{}: the signing certificate is not valid now ({} to {})", f.cert_chain,
                                     format_rfc3339(options.chain.front().not_before()),
                                     format_rfc3339(options.chain.front().not_after())));
  const std::string subject = options.chain.front().subject();
  ca::TimestampAuthorityServer tsa(std::move(options));
  net::HttpServerOptions http;
  http.listen = f.listen;
  http.worker_threads = f.threads;
  http.max_body_bytes = 64 << 10;
  http.read_timeout = std::chrono::seconds(10);
  http.request_deadline = std::chrono::seconds(10);
  VOUCH_ASSIGN_OR_RETURN(auto server, net::HttpServer::start(http, tsa.handler()));
  server_log("timestamp authority serving", {{"address", server->address()}, {"signer", subject}});
  server->run_until_signal();
  server_log("timestamp authority stopped", {});
  return ok_status();
}

}  // namespace

void register_tsa_commands(CLI::App& app, int& exit_code) {
  auto* tsa = app.add_subcommand("tsa", "An RFC 3161 timestamp authority (sigstore/timestamp-authority's API)");
  tsa->require_subcommand(1);
  auto f = std::make_shared<TsaServeFlags>();
  auto* serve_cmd = tsa->add_subcommand(
      "serve",
      "Serve RFC 3161 timestamps: POST /api/v1/timestamp (a DER TimeStampReq as application/timestamp-query,\n"
      "or the JSON form {artifactHash, hashAlgorithm, nonce, certificates}) answers a signed\n"
      "application/timestamp-reply; GET /api/v1/timestamp/certchain gives the chain (PEM). SHA-256/384/512\n"
      "imprints, policy 1.3.6.1.4.1.57264.2, the nonce echoed, ESSCertIDv2. Also /healthz, /readyz, /metrics.\n"
      "The signing certificate needs the critical extended key usage timeStamping. With --dir, the key and\n"
      "chain are kept there (tsa_key.pem, tsa_chain.pem) and created on first start. Runs until SIGTERM.");
  serve_cmd->add_option("--listen", f->listen, "HOST:PORT to listen on")->capture_default_str();
  serve_cmd->add_option("--key", f->key, "The signing key (PEM, unencrypted)");
  serve_cmd->add_option("--cert-chain", f->cert_chain, "The signing certificate and its chain up to the root (PEM, leaf first)");
  serve_cmd->add_option("--dir", f->dir, "Keep the key and chain here, created on first start (instead of --key and --cert-chain)");
  serve_cmd->add_option("--threads", f->threads, "Worker threads")->capture_default_str();
  on_run(serve_cmd, exit_code, [f] { return serve(*f); });
}

}  // namespace vouch::cli
