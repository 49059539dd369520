#include "vouch/ca/oidc_issuer.h"

#include <atomic>

#include <fmt/format.h>

#include "vouch/base/ascii.h"
#include "vouch/base/bytes.h"
#include "vouch/base/json.h"
#include "vouch/crypto/digest.h"
#include "vouch/crypto/jose.h"
#include "vouch/crypto/random.h"
#include "vouch/net/prometheus.h"

namespace vouch::ca {
namespace {

namespace bj = boost::json;

constexpr size_t kMaxTokenRequestBytes = 64 * 1024;

net::HttpResponse json_response(int status, const bj::value& body) {
  net::HttpResponse r;
  r.status = status;
  r.body = json::serialize(body) + "\n";
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

// OAuth 2.0's error response (RFC 6749 §5.2), which OIDC clients read.
net::HttpResponse oauth_error(int status, std::string_view error, std::string_view description) {
  auto r = json_response(status, bj::object{{"error", error}, {"error_description", description}});
  if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"vouch\"");
  return r;
}

// Stable stand-ins for the numeric IDs and commit SHA a real run would carry.
std::string derived_hex(std::string_view seed, size_t digits) {
  return hex_encode(crypto::sha256(seed)).substr(0, digits);
}
std::string derived_id(std::string_view seed) {
  Bytes d = crypto::sha256(seed);
  uint64_t v = 0;
  for (int i = 0; i < 6; ++i) v = (v << 8) | d[static_cast<size_t>(i)];
  return std::to_string(10000000 + v % 900000000);
}

}  // namespace

struct OidcIssuer::Impl {
  crypto::PrivateKey key;
  crypto::JwsAlgorithm alg{};
  std::string kid;
  OidcIssuerOptions options;
  std::atomic<uint64_t> tokens_issued{0};
  std::atomic<uint64_t> requests_refused{0};
};

OidcIssuer::OidcIssuer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OidcIssuer::~OidcIssuer() = default;

Result<std::unique_ptr<OidcIssuer>> OidcIssuer::create(crypto::PrivateKey key, OidcIssuerOptions options) {
  if (options.issuer_url.empty()) return invalid_input("OIDC issuer: no issuer URL");
  while (options.issuer_url.size() > 1 && options.issuer_url.back() == '/') options.issuer_url.pop_back();
  if (options.token_lifetime <= std::chrono::seconds(0) || options.token_lifetime > std::chrono::hours(24))
    return invalid_input("OIDC issuer: token lifetime must be between 1 second and 24 hours");
  if (options.client_secret && options.client_secret->empty()) return invalid_input("OIDC issuer: empty client secret");
  if (options.actions_request_token.empty()) {
    VOUCH_ASSIGN_OR_RETURN(Bytes random, crypto::random_bytes(32));
    options.actions_request_token = base64url_encode(random);
  }
  auto impl = std::make_unique<Impl>();
  impl->alg = crypto::default_jws_algorithm(key.type());
  impl->kid = crypto::jwk_thumbprint(key.public_key());
  impl->key = std::move(key);
  impl->options = std::move(options);
  return std::unique_ptr<OidcIssuer>(new OidcIssuer(std::move(impl)));
}

Result<std::unique_ptr<OidcIssuer>> OidcIssuer::open(const std::filesystem::path& key_file, OidcIssuerOptions options) {
  VOUCH_ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::load_or_create_private_key(key_file, crypto::KeyType::kEcdsaP256));
  return create(std::move(key), std::move(options));
}

const std::string& OidcIssuer::issuer_url() const { return impl_->options.issuer_url; }
const std::string& OidcIssuer::key_id() const { return impl_->kid; }
const std::string& OidcIssuer::actions_request_token() const { return impl_->options.actions_request_token; }
std::string OidcIssuer::actions_request_url() const {
  return impl_->options.issuer_url + "/github-actions/token?api-version=2.0";
}

Result<std::string> OidcIssuer::issue(bj::object claims) const {
  for (std::string_view reserved : {"iss", "iat", "nbf", "exp"})
    if (claims.contains(reserved)) return invalid_input(fmt::format("claim {} is set by the issuer", reserved));
  if (!claims.contains("sub")) return invalid_input("claim sub is required");
  if (!claims.at("sub").is_string() || claims.at("sub").as_string().empty())
    return invalid_input("claim sub must be a non-empty string");
  if (!claims.contains("aud")) claims["aud"] = impl_->options.default_audience;
  const int64_t now = impl_->options.now();
  bj::object token{{"iss", impl_->options.issuer_url}};
  for (auto& [k, v] : claims) token[k] = std::move(v);
  token["iat"] = now;
  token["nbf"] = now;
  token["exp"] = now + impl_->options.token_lifetime.count();
  VOUCH_ASSIGN_OR_RETURN(std::string jwt,
                         crypto::sign_compact_jws(impl_->key, impl_->alg, json::serialize(token), impl_->kid, "JWT"));
  impl_->tokens_issued++;
  return jwt;
}

bj::object OidcIssuer::github_claims(std::string_view audience) const {
  const auto& g = impl_->options.github;
  std::string owner = g.repository.substr(0, g.repository.find('/'));
  std::string sha = g.sha.empty() ? derived_hex(g.repository + "@" + g.ref, 40) : g.sha;
  std::string workflow_ref = fmt::format("{}/{}@{}", g.repository, g.workflow_path, g.ref);
  std::string workflow_name = g.workflow_path.substr(g.workflow_path.rfind('/') + 1);
  if (auto dot = workflow_name.rfind('.'); dot != std::string::npos && dot > 0) workflow_name.resize(dot);
  std::string ref_type = g.ref.rfind("refs/tags/", 0) == 0 ? "tag" : "branch";
  std::string sub = g.environment.empty() ? fmt::format("repo:{}:ref:{}", g.repository, g.ref)
                                          : fmt::format("repo:{}:environment:{}", g.repository, g.environment);
  std::string run_id = derived_id("run:" + g.repository + g.ref);
  auto jti = crypto::random_bytes(16);
  bj::object c{{"jti", jti.ok() ? hex_encode(*jti) : derived_hex(sub + run_id, 32)},
               {"sub", sub},
               {"aud", audience},
               {"ref", g.ref},
               {"sha", sha},
               {"repository", g.repository},
               {"repository_owner", owner},
               {"repository_owner_id", derived_id("owner:" + owner)},
               {"run_id", run_id},
               {"run_number", "1"},
               {"run_attempt", "1"},
               {"repository_visibility", g.repository_visibility},
               {"repository_id", derived_id("repo:" + g.repository)},
               {"actor_id", derived_id("actor:" + g.actor)},
               {"actor", g.actor},
               {"workflow", workflow_name},
               {"head_ref", ""},
               {"base_ref", ""},
               {"event_name", g.event_name},
               {"ref_protected", "false"},
               {"ref_type", ref_type},
               {"workflow_ref", workflow_ref},
               {"workflow_sha", sha},
               {"job_workflow_ref", workflow_ref},
               {"job_workflow_sha", sha},
               {"runner_environment", g.runner_environment}};
  if (!g.environment.empty()) c["environment"] = g.environment;
  return c;
}

net::HttpResponse OidcIssuer::handle_request(const net::HttpRequest& request) {
  const auto& o = impl_->options;
  const std::string& path = request.path;
  if (path == "/healthz" || path == "/readyz") return {200, "text/plain", "ok\n", {}};
  if (path == "/metrics") {
    net::PrometheusText text;
    text.counter("vouch_oidc_tokens_issued_total", "Identity tokens issued.", impl_->tokens_issued.load());
    text.counter("vouch_oidc_requests_refused_total", "Token requests refused.", impl_->requests_refused.load());
    return {200, std::string(net::PrometheusText::kContentType), text.take(), {}};
  }
  auto refuse = [this](net::HttpResponse r) {
    impl_->requests_refused++;
    return r;
  };
  if (path == "/.well-known/openid-configuration") {
    if (request.method != "GET") return oauth_error(405, "invalid_request", "use GET");
    return json_response(
        200, bj::object{{"issuer", o.issuer_url},
                        {"jwks_uri", o.issuer_url + "/keys"},
                        {"token_endpoint", o.issuer_url + "/token"},
                        {"response_types_supported", bj::array{"id_token"}},
                        {"subject_types_supported", bj::array{"public"}},
                        {"id_token_signing_alg_values_supported", bj::array{bj::string(crypto::jws_algorithm_name(impl_->alg))}},
                        {"grant_types_supported", bj::array{"client_credentials"}},
                        {"scopes_supported", bj::array{"openid", "email"}},
                        {"claims_supported", bj::array{"iss", "sub", "aud", "exp", "iat", "nbf", "email", "email_verified"}}});
  }
  if (path == "/keys") {
    if (request.method != "GET") return oauth_error(405, "invalid_request", "use GET");
    bj::array keys{crypto::jwk_from_public_key(impl_->key.public_key(), impl_->kid, impl_->alg)};
    return json_response(200, bj::object{{"keys", std::move(keys)}});
  }
  if (path == "/github-actions/token") {
    if (request.method != "GET") return refuse(oauth_error(405, "invalid_request", "use GET"));
    std::string_view auth = request.header("authorization");
    std::string_view presented;
    if (auth.size() > 7 && iequals(auth.substr(0, 7), "bearer ")) presented = auth.substr(7);
    if (!crypto::constant_time_equal(presented, o.actions_request_token))
      return refuse(oauth_error(401, "invalid_client", "the request token is missing or wrong"));
    std::string audience = o.default_audience;
    if (auto it = request.query.find("audience"); it != request.query.end()) audience = it->second;
    if (audience.empty()) return refuse(oauth_error(400, "invalid_request", "audience is empty"));
    auto jwt = issue(github_claims(audience));
    if (!jwt.ok()) return refuse(oauth_error(500, "server_error", jwt.error().message));
    return json_response(200, bj::object{{"count", 1}, {"value", *jwt}});
  }
  if (path != "/token") return oauth_error(404, "invalid_request", "not found");
  if (request.method != "POST") return refuse(oauth_error(405, "invalid_request", "use POST"));
  if (request.body.size() > kMaxTokenRequestBytes) return refuse(oauth_error(413, "invalid_request", "request too large"));

  bj::object claims;
  std::string form_secret;
  const std::string type = request.content_type.substr(0, request.content_type.find(';'));
  if (iequals(type, "application/json")) {
    auto doc = json::parse(request.body, {.max_bytes = kMaxTokenRequestBytes, .max_depth = 8});
    if (!doc.ok() || !doc->is_object())
      return refuse(oauth_error(400, "invalid_request", "the body must be a JSON object of claims"));
    claims = std::move(doc->as_object());
  } else if (iequals(type, "application/x-www-form-urlencoded")) {
    auto form = net::parse_form(request.body);
    if (!form.ok()) return refuse(oauth_error(400, "invalid_request", form.error().message));
    for (auto& [k, v] : *form) {
      if (k == "grant_type") {
        if (v != "client_credentials")
          return refuse(oauth_error(400, "unsupported_grant_type", "grant_type must be client_credentials"));
      } else if (k == "client_secret") {
        form_secret = v;
      } else if (k == "client_id") {
        // Named for HTTP Basic's sake; the token's audience is "aud".
      } else if (k == "email_verified") {
        if (v != "true" && v != "false")
          return refuse(oauth_error(400, "invalid_request", "email_verified must be true or false"));
        claims[k] = v == "true";
      } else {
        if (claims.contains(k)) return refuse(oauth_error(400, "invalid_request", fmt::format("{} given twice", k)));
        claims[k] = v;
      }
    }
  } else {
    return refuse(oauth_error(415, "invalid_request",
                              "Content-Type must be application/json or application/x-www-form-urlencoded"));
  }

  if (o.client_secret) {
    std::string presented = form_secret;
    std::string_view auth = request.header("authorization");
    if (auth.size() > 6 && iequals(auth.substr(0, 6), "basic ")) {
      auto decoded = base64_decode(auth.substr(6));
      if (decoded.ok()) {
        std::string userpass(decoded->begin(), decoded->end());
        presented = userpass.substr(userpass.find(':') == std::string::npos ? userpass.size() : userpass.find(':') + 1);
      }
    }
    if (!crypto::constant_time_equal(presented, *o.client_secret))
      return refuse(oauth_error(401, "invalid_client", "the client secret is missing or wrong"));
  } else if (!request.peer_is_loopback) {
    return refuse(oauth_error(403, "access_denied",
                              "tokens are issued to loopback clients only unless a client secret is configured"));
  }

  auto jwt = issue(std::move(claims));
  if (!jwt.ok()) return refuse(oauth_error(400, "invalid_request", jwt.error().message));
  return json_response(200, bj::object{{"access_token", *jwt},
                                       {"id_token", *jwt},
                                       {"token_type", "Bearer"},
                                       {"expires_in", o.token_lifetime.count()}});
}

}  // namespace vouch::ca
