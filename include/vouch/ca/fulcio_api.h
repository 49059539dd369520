// Fulcio's HTTP API (fulcio.proto through grpc-gateway) over a CertificateAuthority:
//   POST /api/v2/signingCert    CreateSigningCertificateRequest -> SigningCertificate
//                               (signedCertificateEmbeddedSct, or signedCertificateDetachedSct
//                               without a CT log); the token in credentials.oidcIdentityToken or
//                               "Authorization: Bearer"
//   GET  /api/v2/trustBundle    {"chains":[{"certificates":[PEM…]}]}
//   GET  /api/v2/configuration  {"issuers":[…]}
//   POST /api/v1/signingCert    the legacy API: 201 with a PEM chain
//   GET  /api/v1/rootCert       the chain, PEM
//   /healthz, /readyz, /metrics; requests under /ct/v1/ go to the CT log handler when one is given.
// Errors are grpc-gateway's {"code": N, "message": "...", "details": []}: HTTP 400 (code 3) for
// an identity token that fails a check (the message names the check), a bad key or proof of
// possession; 500 (code 13) when the CA or its log fails.
#pragma once

#include <memory>

#include "vouch/ca/certificate_authority.h"
#include "vouch/ca/oidc.h"
#include "vouch/net/http_server.h"

namespace vouch::ca {

class FulcioApi {
 public:
  // `ca` and `verifier` must outlive the API; `ct_log` may be empty.
  FulcioApi(CertificateAuthority& ca, TokenVerifier& verifier, net::HttpHandler ct_log = {});
  ~FulcioApi();
  FulcioApi(const FulcioApi&) = delete;
  FulcioApi& operator=(const FulcioApi&) = delete;

  net::HttpResponse handle_request(const net::HttpRequest& request);
  void handle(net::HttpRequest request, net::Responder respond);
  net::HttpHandler handler() {
    return [this](net::HttpRequest r, net::Responder respond) { handle(std::move(r), std::move(respond)); };
  }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vouch::ca
