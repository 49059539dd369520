// What `vouch ca serve` runs: the certificate authority, its embedded CT log and the OIDC token
// verifier behind Fulcio's API, opened from one directory so that a restart keeps the CA's keys
// and the log's tree.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "vouch/base/result.h"
#include "vouch/ca/certificate_authority.h"
#include "vouch/ca/fulcio_api.h"
#include "vouch/ca/oidc.h"
#include "vouch/net/http_server.h"
#include "vouch/tlog/ct_log.h"

namespace vouch::ca {

struct CaServerOptions {
  std::filesystem::path dir;            // the CA's files; the CT log in dir/ct
  std::vector<IssuerConfig> issuers;    // whose tokens are trusted
  std::string oidc_ca_file;             // extra trust anchors for the issuers' HTTPS
  bool ct_log = true;                   // embed SCTs from a CT log in dir/ct
  std::string ct_log_storage;           // empty: sqlite in dir/ct
  std::string organization = "vouch";
};

class CaServer {
 public:
  static Result<std::unique_ptr<CaServer>> open(CaServerOptions options);
  ~CaServer();

  net::HttpHandler handler();
  CertificateAuthority& ca() { return *ca_; }
  TokenVerifier& verifier() { return *verifier_; }
  tlog::CtLog* ct_log() { return ct_log_.get(); }  // null without a CT log
  bool created() const { return ca_->created(); }
  // Where the CT log's public key is written (PEM), for trusted-root create --ctfe.
  std::filesystem::path ct_public_key_path() const;

 private:
  CaServer() = default;
  CaServerOptions options_;
  std::unique_ptr<tlog::CtLog> ct_log_;
  std::unique_ptr<CertificateAuthority> ca_;
  std::unique_ptr<TokenVerifier> verifier_;
  std::unique_ptr<FulcioApi> api_;
};

}  // namespace vouch::ca
