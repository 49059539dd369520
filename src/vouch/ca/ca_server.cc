#include "vouch/ca/ca_server.h"

#include <fmt/format.h>

#include "vouch/base/file.h"

namespace vouch::ca {

CaServer::~CaServer() {
  // The API refers to the CA and the log: it goes first, the log (which answers queued
  // submissions as it stops) before the CA whose certificates it logged.
  api_.reset();
  ct_log_.reset();
}

std::filesystem::path CaServer::ct_public_key_path() const { return options_.dir / "ct" / "ct_public.pem"; }

Result<std::unique_ptr<CaServer>> CaServer::open(CaServerOptions options) {
  std::unique_ptr<CaServer> s(new CaServer());
  s->options_ = options;
  CaOptions ca_options;
  ca_options.dir = options.dir;
  ca_options.organization = options.organization;
  ca_options.common_name = options.organization;
  // The CA first (it creates the root the log accepts); its submitter reaches the log through
  // the server, which outlives both.
  CaServer* self = s.get();
  if (options.ct_log) {
    ca_options.submit_precertificate = [self](const std::vector<Bytes>& chain) -> Result<crypto::SignedCertificateTimestamp> {
      VOUCH_ASSIGN_OR_RETURN(tlog::CtAddResult added, self->ct_log_->add_pre_chain(chain));
      return added.sct;
    };
  }
  VOUCH_ASSIGN_OR_RETURN(s->ca_, CertificateAuthority::open(ca_options));
  if (options.ct_log) {
    tlog::CtLogOptions ct;
    ct.dir = options.dir / "ct";
    std::error_code ec;
    std::filesystem::create_directories(ct.dir, ec);
    if (ec) return io_error(fmt::format("{}: {}", ct.dir.string(), ec.message()));
    ct.storage = options.ct_log_storage;
    ct.accepted_roots = {s->ca_->chain().back().der()};
    VOUCH_ASSIGN_OR_RETURN(s->ct_log_, tlog::CtLog::open(ct));
    VOUCH_RETURN_IF_ERROR(write_file_atomic(s->ct_public_key_path(), s->ct_log_->public_key().pem()));
  }
  OidcOptions oidc;
  oidc.http.ca_file = options.oidc_ca_file;
  VOUCH_ASSIGN_OR_RETURN(s->verifier_, make_oidc_verifier(options.issuers, oidc));
  s->api_ = std::make_unique<FulcioApi>(*s->ca_, *s->verifier_, s->ct_log_ ? s->ct_log_->handler() : net::HttpHandler());
  return s;
}

net::HttpHandler CaServer::handler() { return api_->handler(); }

}  // namespace vouch::ca
