// The OIDC issuer and the token verifier against each other over loopback HTTP: discovery, JWKS
// (with a refresh when the key rotates), claim checks, and the tokens a verifier must refuse.
#include <gtest/gtest.h>
#include <openssl/hmac.h>

#include <atomic>
#include <memory>
#include <mutex>

#include "vouch/base/bytes.h"
#include "vouch/base/json.h"
#include "vouch/ca/oidc.h"
#include "vouch/ca/oidc_issuer.h"
#include "vouch/crypto/jose.h"
#include "vouch/net/http_server.h"
#include "issuer_server.h"

namespace vouch::ca {
namespace {

namespace bj = boost::json;
using testing::IssuerServer;

class OidcTest : public ::testing::Test {
 protected:
  std::unique_ptr<TokenVerifier> verifier(IssuerType type = IssuerType::kEmail, std::string subject_domain = {},
                                          OidcOptions options = {}) {
    IssuerConfig c;
    c.issuer_url = server_.url();
    c.type = type;
    c.subject_domain = std::move(subject_domain);
    options.min_refresh_interval = std::chrono::seconds(0);
    return make_oidc_verifier({c}, options).value();
  }
  std::string email_token(bj::object extra = {}) {
    bj::object claims{{"sub", "user-1"}, {"email", "dev@example.com"}, {"email_verified", true}};
    for (auto& [k, v] : extra) claims[k] = v;
    return server_.issuer().issue(claims).value();
  }
  // A token with any header and payload, signed (or not) as the caller says.
  static std::string compact(const bj::object& header, const bj::object& payload, std::string_view signature_b64 = "") {
    return base64url_encode(as_bytes(json::serialize(header))) + "." + base64url_encode(as_bytes(json::serialize(payload))) +
           "." + std::string(signature_b64);
  }
  bj::object payload_of(const std::string& token) {
    auto jws = crypto::parse_compact_jws(token).value();
    return json::parse(jws.payload).value().as_object();
  }

  IssuerServer server_;
};

TEST_F(OidcTest, EmailTokenNamesTheVerifiedAddress) {
  auto p = verifier()->verify(email_token());
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->san_kind, Principal::SanKind::kEmail);
  EXPECT_EQ(p->san, "dev@example.com");
  EXPECT_EQ(p->challenge, "dev@example.com");
  EXPECT_EQ(p->issuer, server_.url());
  EXPECT_EQ(p->extensions.issuer, server_.url());
  EXPECT_EQ(p->extensions.token_subject, "user-1");
}

TEST_F(OidcTest, GithubWorkflowTokenMapsEveryClaimAsFulcio) {
  auto v = verifier(IssuerType::kGithubWorkflow);
  auto claims = server_.issuer().github_claims("sigstore");
  auto p = v->verify(server_.issuer().issue(claims).value());
  ASSERT_TRUE(p.ok()) << p.error().message;
  auto s = [&](std::string_view k) { return std::string(claims.at(k).as_string()); };
  EXPECT_EQ(p->san_kind, Principal::SanKind::kUri);
  EXPECT_EQ(p->san, "https://github.com/example/app/.github/workflows/release.yml@refs/heads/main");
  EXPECT_EQ(p->challenge, "repo:example/app:ref:refs/heads/main");
  const auto& e = p->extensions;
  EXPECT_EQ(e.github_workflow_trigger, "push");
  EXPECT_EQ(e.github_workflow_sha, s("sha"));
  EXPECT_EQ(e.github_workflow_name, "release");
  EXPECT_EQ(e.github_workflow_repository, "example/app");
  EXPECT_EQ(e.github_workflow_ref, "refs/heads/main");
  EXPECT_EQ(e.build_signer_uri, p->san);
  EXPECT_EQ(e.build_signer_digest, s("job_workflow_sha"));
  EXPECT_EQ(e.runner_environment, "github-hosted");
  EXPECT_EQ(e.source_repository_uri, "https://github.com/example/app");
  EXPECT_EQ(e.source_repository_digest, s("sha"));
  EXPECT_EQ(e.source_repository_ref, "refs/heads/main");
  EXPECT_EQ(e.source_repository_identifier, s("repository_id"));
  EXPECT_EQ(e.source_repository_owner_uri, "https://github.com/example");
  EXPECT_EQ(e.source_repository_owner_identifier, s("repository_owner_id"));
  EXPECT_EQ(e.build_config_uri, "https://github.com/example/app/.github/workflows/release.yml@refs/heads/main");
  EXPECT_EQ(e.build_config_digest, s("workflow_sha"));
  EXPECT_EQ(e.build_trigger, "push");
  EXPECT_EQ(e.run_invocation_uri, "https://github.com/example/app/actions/runs/" + s("run_id") + "/attempts/1");
  EXPECT_EQ(e.source_repository_visibility_at_signing, "public");
  EXPECT_EQ(e.deployment_environment, "");
  EXPECT_EQ(e.token_subject, p->challenge);
  EXPECT_EQ(e.issuer, server_.url());

  claims.erase("job_workflow_sha");
  auto missing = v->verify(server_.issuer().issue(claims).value());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("missing job_workflow_sha claim"), std::string::npos);
}

TEST_F(OidcTest, UriSubjectMustLieUnderTheSubjectDomain) {
  auto v = verifier(IssuerType::kUri, "https://ci.example.com");
  auto ok = v->verify(server_.issuer().issue(bj::object{{"sub", "https://ci.example.com/jobs/7"}}).value());
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->san, "https://ci.example.com/jobs/7");
  auto other = v->verify(server_.issuer().issue(bj::object{{"sub", "https://evil.example.com/jobs/7"}}).value());
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().message.find("must match expected domain"), std::string::npos);
}

TEST_F(OidcTest, RefusesWithAMessageNamingTheCheck) {
  auto v = verifier();
  auto expect_refused = [&](const std::string& token, std::string_view needle) {
    auto p = v->verify(token);
    ASSERT_FALSE(p.ok()) << needle;
    EXPECT_EQ(p.error().code, ErrorCode::kVerification) << p.error().message;
    EXPECT_NE(p.error().message.find(needle), std::string::npos) << p.error().message;
  };
  expect_refused(email_token({{"aud", "somebody-else"}}), "audience \"somebody-else\" does not contain sigstore");
  expect_refused(email_token({{"email_verified", false}}), "email_verified claim is not true");
  {
    bj::object claims{{"sub", "u"}, {"email", "dev@example.com"}};
    expect_refused(server_.issuer().issue(claims).value(), "email_verified claim is not true");
  }
  // Expired (beyond the allowed skew) and not yet valid.
  server_.replace_key([] { return now_unix() - 3600; });
  expect_refused(email_token(), "token expired at");
  server_.replace_key([] { return now_unix() + 3600; });
  expect_refused(email_token(), "not valid before");
  server_.replace_key();

  // A signature byte changed.
  std::string token = email_token();
  token[token.size() - 5] = token[token.size() - 5] == 'A' ? 'B' : 'A';
  expect_refused(token, "bad token signature");

  // A payload changed under the original signature.
  std::string good = email_token();
  auto parts_end = good.rfind('.');
  auto payload = payload_of(good);
  payload["email"] = "admin@example.com";
  std::string forged = std::string(good.substr(0, good.find('.'))) + "." +
                       base64url_encode(as_bytes(json::serialize(payload))) + good.substr(parts_end);
  expect_refused(forged, "bad token signature");

  // alg none, with and without a signature part.
  auto claims = payload_of(email_token());
  expect_refused(compact({{"alg", "none"}, {"typ", "JWT"}}, claims), "none");
  expect_refused(compact({{"alg", "none"}}, claims, "c2ln"), "none");

  // HS256 keyed with the issuer's public key: the classic algorithm confusion.
  {
    std::string header_payload = base64url_encode(as_bytes(json::serialize(bj::object{{"alg", "HS256"}, {"typ", "JWT"}}))) +
                                 "." + base64url_encode(as_bytes(json::serialize(claims)));
    std::string secret = crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256).value().public_key().pem();
    unsigned char mac[32];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(header_payload.data()), header_payload.size(), mac, &mac_len);
    expect_refused(header_payload + "." + base64url_encode(ByteView(mac, mac_len)), "HS256");
  }

  // An issuer the CA does not trust, even with a well-formed signed token.
  {
    IssuerServer stranger;
    expect_refused(stranger.issuer().issue(bj::object{{"sub", "u"}, {"email", "dev@example.com"}, {"email_verified", true}}).value(),
                   "unknown issuer \"" + stranger.url() + "\"");
  }
  expect_refused("not-a-token", "malformed token");
}

TEST_F(OidcTest, UnknownKeyIdFetchesTheKeySetAgain) {
  auto v = verifier();
  ASSERT_TRUE(v->verify(email_token()).ok());
  int before = server_.key_requests();
  ASSERT_TRUE(v->verify(email_token()).ok());
  EXPECT_EQ(server_.key_requests(), before) << "a known key is served from the cache";
  server_.replace_key();  // the issuer rotates its key
  auto p = v->verify(email_token());
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(server_.key_requests(), before + 1);
}

TEST_F(OidcTest, IssuerKeysOfEveryTypeVerify) {
  // RS256 and EdDSA issuers as well as ES256: the JWKS the issuer serves carries the key type.
  auto v = verifier();
  for (auto [type, alg] : {std::pair{crypto::KeyType::kRsa, "RS256"}, std::pair{crypto::KeyType::kEd25519, "EdDSA"},
                           std::pair{crypto::KeyType::kEcdsaP384, "ES384"}}) {
    server_.replace_key(now_unix, type);
    std::string token = email_token();
    EXPECT_EQ(crypto::parse_compact_jws(token).value().alg, alg);
    auto p = v->verify(token);
    EXPECT_TRUE(p.ok()) << alg << ": " << p.error().message;
  }
}

TEST_F(OidcTest, HostileDiscoveryAndKeySetsAreRefused) {
  // An issuer URL whose server answers for another issuer, points its keys elsewhere over plain
  // HTTP, or serves an oversized key set: no token of it verifies, and the reason is named.
  std::string mode;
  net::HttpServerOptions o;
  o.listen = "127.0.0.1:0";
  std::string url;
  auto hostile = net::HttpServer::start(o, [&](net::HttpRequest r, net::Responder respond) {
                   if (r.path == "/keys") return respond({200, "application/json", std::string(300 * 1024, ' ') + "{}", {}});
                   bj::object doc{{"issuer", mode == "other-issuer" ? "https://accounts.google.com" : url},
                                  {"jwks_uri", mode == "plain-http" ? "http://keys.example.com/keys" : url + "/keys"}};
                   respond({200, "application/json", json::serialize(doc), {}});
                 }).value();
  url = "http://127.0.0.1:" + std::to_string(hostile->port());
  IssuerConfig c;
  c.issuer_url = url;
  // A token that claims that issuer, signed by a key the hostile server could have served.
  OidcIssuerOptions io;
  io.issuer_url = url;
  auto signer = OidcIssuer::create(crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256).value(), io).value();
  std::string token = signer->issue(bj::object{{"sub", "u"}, {"email", "a@example.com"}, {"email_verified", true}}).value();
  for (auto [m, needle] : {std::pair{"other-issuer", "names issuer \"https://accounts.google.com\""},
                           std::pair{"plain-http", "plain HTTP"}, std::pair{"oversized", "JWKS"}}) {
    mode = m;
    auto p = make_oidc_verifier({c}).value()->verify(token);
    ASSERT_FALSE(p.ok()) << m;
    EXPECT_NE(p.error().message.find(needle), std::string::npos) << m << ": " << p.error().message;
  }
  hostile->stop(std::chrono::milliseconds(100));
}

TEST_F(OidcTest, IssuerEndpoints) {
  auto& issuer = server_.issuer();
  net::HttpRequest discovery = testing::make_request("GET", "/.well-known/openid-configuration");
  auto d = issuer.handle_request(discovery);
  ASSERT_EQ(d.status, 200);
  auto doc = json::parse(d.body).value().as_object();
  EXPECT_EQ(doc.at("issuer").as_string(), server_.url());
  EXPECT_EQ(doc.at("jwks_uri").as_string(), server_.url() + "/keys");
  EXPECT_EQ(doc.at("id_token_signing_alg_values_supported").as_array().at(0).as_string(), "ES256");

  auto keys = issuer.handle_request(testing::make_request("GET", "/keys"));
  auto set = crypto::parse_jwk_set(keys.body).value();
  ASSERT_EQ(set.keys.size(), 1u);
  EXPECT_EQ(set.keys[0].kid, issuer.key_id());

  // POST /token from loopback: claims in, a token for them out.
  net::HttpRequest token_request = testing::make_request("POST", "/token", "application/x-www-form-urlencoded");
  token_request.body = "grant_type=client_credentials&sub=ci%2Bbot&email=ci%40example.com&email_verified=true";
  token_request.peer_is_loopback = true;
  auto t = issuer.handle_request(token_request);
  ASSERT_EQ(t.status, 200) << t.body;
  std::string jwt(json::parse(t.body).value().as_object().at("id_token").as_string());
  auto claims = payload_of(jwt);
  EXPECT_EQ(claims.at("sub").as_string(), "ci+bot");
  EXPECT_EQ(claims.at("email_verified").as_bool(), true);
  EXPECT_EQ(claims.at("aud").as_string(), "sigstore");
  EXPECT_TRUE(verifier()->verify(jwt).ok());

  // The issuer sets iss and the times; a request that tries is refused.
  net::HttpRequest with_iss = testing::make_request("POST", "/token", "application/json");
  with_iss.body = R"({"sub":"x","iss":"https://accounts.google.com"})";
  with_iss.peer_is_loopback = true;
  EXPECT_EQ(issuer.handle_request(with_iss).status, 400);

  // Not from loopback and no client secret configured: refused.
  token_request.peer_is_loopback = false;
  EXPECT_EQ(issuer.handle_request(token_request).status, 403);

  // GitHub Actions' token request: the bearer request token is required.
  net::HttpRequest actions = testing::make_request("GET", "/github-actions/token");
  actions.query.emplace("audience", "sigstore");
  EXPECT_EQ(issuer.handle_request(actions).status, 401);
  actions.headers.emplace_back("authorization", "Bearer wrong");
  EXPECT_EQ(issuer.handle_request(actions).status, 401);
  actions.headers.back().second = "Bearer " + issuer.actions_request_token();
  auto a = issuer.handle_request(actions);
  ASSERT_EQ(a.status, 200) << a.body;
  std::string gh(json::parse(a.body).value().as_object().at("value").as_string());
  EXPECT_TRUE(verifier(IssuerType::kGithubWorkflow)->verify(gh).ok());
}

TEST_F(OidcTest, ClientSecretGuardsTheTokenEndpoint) {
  OidcIssuerOptions options;
  options.issuer_url = "http://127.0.0.1:1";
  options.client_secret = "s3cret";
  auto issuer = OidcIssuer::create(crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256).value(), options).value();
  net::HttpRequest r = testing::make_request("POST", "/token", "application/json", R"({"sub":"x"})");
  r.peer_is_loopback = true;
  EXPECT_EQ(issuer->handle_request(r).status, 401);
  r.headers.emplace_back("authorization", "Basic " + base64_encode(as_bytes(std::string_view("client:s3cret"))));
  EXPECT_EQ(issuer->handle_request(r).status, 200);
}

TEST(OidcConfig, ParsesFulcioConfigurationAndRefusesWhatItCannotHonour) {
  auto ok = parse_fulcio_config(R"({"OIDCIssuers": {
      "https://accounts.example.com": {"IssuerURL": "https://accounts.example.com", "ClientID": "sigstore", "Type": "email"},
      "https://token.actions.githubusercontent.com": {"IssuerURL": "https://token.actions.githubusercontent.com",
          "ClientID": "sigstore", "Type": "ci-provider", "CIProvider": "github-workflow"},
      "http://127.0.0.1:5556": {"ClientID": "sigstore", "Type": "uri", "SubjectDomain": "https://ci.example.com"}}})");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  ASSERT_EQ(ok->size(), 3u);
  EXPECT_EQ((*ok)[1].type, IssuerType::kGithubWorkflow);
  auto round = parse_fulcio_config(fulcio_config_json(*ok));
  ASSERT_TRUE(round.ok()) << round.error().message;
  EXPECT_EQ(round->size(), 3u);

  auto refused = [](std::string_view text, std::string_view needle) {
    auto r = parse_fulcio_config(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
  };
  refused(R"({"OIDCIssuers": {"https://a.example": {"Type": "kubernetes"}}})", "kubernetes");
  refused(R"({"OIDCIssuers": {"https://a.example": {"Type": "email", "SkipEmailVerification": true}}})",
          "SkipEmailVerification");
  refused(R"({"OIDCIssuers": {"http://a.example": {"Type": "email"}}})", "plain HTTP");
  refused(R"({"MetaIssuers": {"https://*.example": {"Type": "email"}}, "OIDCIssuers": {}})", "MetaIssuers");
  refused(R"({"OIDCIssuers": {"https://a.example": {"Type": "uri"}}})", "SubjectDomain");
  refused(R"({"OIDCIssuers": {"https://a.example": {"Type": "email", "SubjectDomain": "https://ci.example"}}})",
          "SubjectDomain applies to uri issuers only");
}

}  // namespace
}  // namespace vouch::ca
