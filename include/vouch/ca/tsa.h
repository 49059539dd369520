// An RFC 3161 timestamp authority with sigstore/timestamp-authority's REST API:
//   POST /api/v1/timestamp            application/timestamp-query (DER TimeStampReq), or its JSON
//                                     form {"artifactHash", "hashAlgorithm", "nonce", "certificates",
//                                     "tsaPolicyOID"} -> application/timestamp-reply (DER TimeStampResp)
//   GET  /api/v1/timestamp/certchain  PEM chain, signing certificate first
//   GET  /healthz, /readyz, /metrics
// Malformed requests, other hashes than SHA-256/384/512 and other policies get 400 with a
// one-line message; they are never answered with a timestamp.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "vouch/base/result.h"
#include "vouch/crypto/keys.h"
#include "vouch/crypto/timestamp.h"
#include "vouch/crypto/x509.h"
#include "vouch/net/http_server.h"

namespace vouch::ca {

// What a timestamp authority signs with and how.
struct TsaOptions {
  crypto::PrivateKey key;
  std::vector<crypto::Certificate> chain;  // signing certificate first, root last
  crypto::TimestampSigningOptions signing;
};

// Loads a key (PEM) and a chain (PEM, leaf first) and checks that the key matches the leaf.
Result<TsaOptions> load_tsa_material(const std::string& key_pem_path, const std::string& chain_pem_path);

// The timestamping key and chain kept in `dir` (tsa_key.pem, mode 0600, and tsa_chain.pem), or, on
// first use, new ones: a self-signed root whose key is discarded once it has signed, and an
// ECDSA P-256 leaf with the critical extended key usage timeStamping, both valid for ten years.
// A directory holding only one of the two files is refused.
Result<TsaOptions> load_or_create_tsa_material(const std::filesystem::path& dir, std::string_view organization = "vouch");

class TimestampAuthorityServer {
 public:
  explicit TimestampAuthorityServer(TsaOptions options);
  ~TimestampAuthorityServer();
  TimestampAuthorityServer(const TimestampAuthorityServer&) = delete;
  TimestampAuthorityServer& operator=(const TimestampAuthorityServer&) = delete;

  // The chain as GET /api/v1/timestamp/certchain serves it.
  std::string chain_pem() const;

  void handle(net::HttpRequest request, net::Responder respond);
  net::HttpHandler handler() {
    return [this](net::HttpRequest r, net::Responder respond) { handle(std::move(r), std::move(respond)); };
  }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vouch::ca
