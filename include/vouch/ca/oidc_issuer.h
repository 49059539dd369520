// An OpenID Connect issuer for development and air-gapped sites: discovery, a JWK Set, tokens for
// given claims (POST /token), and GitHub Actions' ID-token request protocol, so that a CI run's
// workflow identity can be reproduced against a private Sigstore stack.
//   GET  /.well-known/openid-configuration   issuer, jwks_uri, token_endpoint, ...
//   GET  /keys                                the JWK Set (one signing key, kid = RFC 7638 thumbprint)
//   POST /token                               claims as a JSON object or a form -> {"access_token",
//                                             "id_token", "token_type", "expires_in"}; loopback peers
//                                             only unless a client secret is configured
//   GET  /github-actions/token?api-version=2.0&audience=A
//                                             with "Authorization: Bearer <request token>" -> {"value": JWT}
//   GET  /healthz, /readyz, /metrics
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/json.hpp>

#include "vouch/base/result.h"
#include "vouch/base/time.h"
#include "vouch/crypto/keys.h"
#include "vouch/net/http_server.h"

namespace vouch::ca {

// The workflow run whose claims the GitHub Actions endpoint puts into its tokens.
struct GithubWorkflowIdentity {
  std::string repository = "example/app";
  std::string workflow_path = ".github/workflows/release.yml";
  std::string ref = "refs/heads/main";
  std::string sha;          // empty: 40 hex digits derived from repository and ref
  std::string event_name = "push";
  std::string actor = "example-user";
  std::string environment;  // the "environment" claim, only when set
  std::string repository_visibility = "public";
  std::string runner_environment = "github-hosted";
};

struct OidcIssuerOptions {
  std::string issuer_url;  // "iss"; also the base of the endpoint URLs
  std::chrono::seconds token_lifetime = std::chrono::minutes(10);
  std::string default_audience = "sigstore";
  std::optional<std::string> client_secret;  // when set, /token requires it (HTTP Basic or client_secret)
  GithubWorkflowIdentity github;
  std::string actions_request_token;         // empty: a random one is generated
  std::function<UnixSeconds()> now = now_unix;
};

class OidcIssuer {
 public:
  // Signs with `key` (ECDSA P-256: ES256, P-384: ES384, RSA: RS256, Ed25519: EdDSA).
  static Result<std::unique_ptr<OidcIssuer>> create(crypto::PrivateKey key, OidcIssuerOptions options);
  // The key at `key_file`, or a new ECDSA P-256 key written there (mode 0600) when it does not exist.
  static Result<std::unique_ptr<OidcIssuer>> open(const std::filesystem::path& key_file, OidcIssuerOptions options);
  ~OidcIssuer();
  OidcIssuer(const OidcIssuer&) = delete;
  OidcIssuer& operator=(const OidcIssuer&) = delete;

  const std::string& issuer_url() const;
  const std::string& key_id() const;
  const std::string& actions_request_token() const;
  // "<issuer>/github-actions/token?api-version=2.0", for ACTIONS_ID_TOKEN_REQUEST_URL.
  std::string actions_request_url() const;

  // A signed token with iss, iat, nbf, exp and `claims` (aud defaults to the default audience).
  // iss, iat, nbf and exp are the issuer's to set: a claims object naming one is refused.
  Result<std::string> issue(boost::json::object claims) const;
  // The claims of a GitHub Actions token for the configured workflow identity and `audience`.
  boost::json::object github_claims(std::string_view audience) const;

  // Answers one request; handler() serves it.
  net::HttpResponse handle_request(const net::HttpRequest& request);
  net::HttpHandler handler() {
    return [this](net::HttpRequest r, net::Responder respond) { respond(handle_request(r)); };
  }

 private:
  struct Impl;
  explicit OidcIssuer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vouch::ca
