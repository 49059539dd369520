// libFuzzer target: what the certificate authority, its CT log and the OIDC issuer read from
// outside (the first byte picks which): SCT structures and CT Merkle leaves as a log or verifier
// parses them; Fulcio v2 and legacy signing-certificate requests answered by the API (its token
// verifier accepts every token, so the key, CSR and proof-of-possession paths are reached); a
// token request to the OIDC issuer (JSON or form); a Fulcio issuer configuration.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "vouch/ca/certificate_authority.h"
#include "vouch/ca/fulcio_api.h"
#include "vouch/ca/oidc.h"
#include "vouch/ca/oidc_issuer.h"
#include "vouch/crypto/sct.h"

namespace {

using namespace vouch;

// Every token names the same principal: the fuzzer exercises what comes after authentication.
class AcceptingVerifier final : public ca::TokenVerifier {
 public:
  Result<ca::Principal> verify(std::string_view) override {
    ca::Principal p;
    p.issuer = "https://issuer.example";
    p.challenge = "dev@example.com";
    p.san = "dev@example.com";
    p.extensions.issuer = p.issuer;
    return p;
  }
  const std::vector<ca::IssuerConfig>& issuers() const override { return issuers_; }

 private:
  std::vector<ca::IssuerConfig> issuers_;
};

struct Services {
  std::unique_ptr<ca::CertificateAuthority> authority;
  AcceptingVerifier verifier;
  std::unique_ptr<ca::FulcioApi> api;
  std::unique_ptr<ca::OidcIssuer> issuer;

  Services() {
    const auto dir = std::filesystem::temp_directory_path() / ("vouch-fuzz-ca-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    ca::CaOptions options;
    options.dir = dir;
    authority = ca::CertificateAuthority::open(options).value();
    api = std::make_unique<ca::FulcioApi>(*authority, verifier);
    ca::OidcIssuerOptions issuer_options;
    issuer_options.issuer_url = "http://127.0.0.1:1";
    issuer = ca::OidcIssuer::create(crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256).value(), issuer_options).value();
  }
};

net::HttpRequest request(std::string method, std::string path, std::string content_type, std::string body) {
  net::HttpRequest r;
  r.method = std::move(method);
  r.target = path;
  r.path = std::move(path);
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  r.peer_is_loopback = true;
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Services services;
  if (size == 0) return 0;
  const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  const ByteView view = as_bytes(bytes);
  switch (data[0] % 6) {
    case 0: {
      if (auto sct = crypto::parse_sct(view); sct.ok()) (void)sct->serialize();
      if (auto list = crypto::parse_sct_list(view); list.ok()) (void)crypto::serialize_sct_list(*list);
      (void)crypto::parse_digitally_signed(view);
      break;
    }
    case 1: {
      if (auto leaf = crypto::parse_ct_merkle_leaf(view); leaf.ok()) (void)leaf->serialize();
      break;
    }
    case 2: (void)services.api->handle_request(request("POST", "/api/v2/signingCert", "application/json", bytes)); break;
    case 3: (void)services.api->handle_request(request("POST", "/api/v1/signingCert", "application/json", bytes)); break;
    case 4: {
      const bool form = !bytes.empty() && bytes[0] != '{';
      (void)services.issuer->handle_request(
          request("POST", "/token", form ? "application/x-www-form-urlencoded" : "application/json", bytes));
      break;
    }
    default: (void)ca::parse_fulcio_config(bytes); break;
  }
  return 0;
}
