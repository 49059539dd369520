// OIDC identity tokens checked as Fulcio (through go-oidc) checks them: the issuer must be one
// the CA trusts, the signature must verify with a key of that issuer's JWK Set (found through
// discovery), and the token must be meant for this CA (audience) and valid now.
#include <algorithm>
#include <map>
#include <mutex>

#include <fmt/format.h>

#include "vouch/base/json.h"
#include "vouch/ca/oidc.h"
#include "vouch/crypto/jose.h"
#include "vouch/net/url_policy.h"

namespace vouch::ca {
namespace {

namespace bj = boost::json;

constexpr size_t kMaxDiscoveryBytes = 64 * 1024;
constexpr size_t kMaxJwksBytes = 256 * 1024;
constexpr json::ParseLimits kClaimLimits{64 * 1024, 16};

// A claim as Fulcio's CI templates read it: strings as they are, integral numbers in decimal.
std::optional<std::string> claim_string(const bj::object& claims, std::string_view name) {
  auto it = claims.find(name);
  if (it == claims.end()) return std::nullopt;
  const bj::value& v = it->value();
  if (v.is_string()) return std::string(v.as_string());
  if (v.is_int64()) return std::to_string(v.as_int64());
  if (v.is_uint64()) return std::to_string(v.as_uint64());
  if (v.is_double() && v.as_double() == static_cast<double>(static_cast<int64_t>(v.as_double())))
    return std::to_string(static_cast<int64_t>(v.as_double()));
  return std::nullopt;
}

Result<std::string> required_claim(const bj::object& claims, std::string_view name) {
  auto value = claim_string(claims, name);
  if (!value || value->empty()) return verification_failed(fmt::format("missing {} claim in ID token", name));
  return *value;
}

// A NumericDate claim (RFC 7519 §2): a JSON number of seconds.
Result<std::optional<int64_t>> numeric_date(const bj::object& claims, std::string_view name) {
  auto it = claims.find(name);
  if (it == claims.end() || it->value().is_null()) return std::optional<int64_t>();
  const bj::value& v = it->value();
  if (v.is_int64()) return std::optional<int64_t>(v.as_int64());
  if (v.is_uint64() && v.as_uint64() <= static_cast<uint64_t>(INT64_MAX))
    return std::optional<int64_t>(static_cast<int64_t>(v.as_uint64()));
  if (v.is_double() && v.as_double() > -9.2e18 && v.as_double() < 9.2e18)
    return std::optional<int64_t>(static_cast<int64_t>(v.as_double()));
  return verification_failed(fmt::format("claim {} is not a NumericDate", name));
}

// As govalidator.IsEmail would accept for an address Fulcio puts in a certificate: one '@',
// non-empty parts, a dotted domain, no spaces or control characters.
bool plausible_email(std::string_view email) {
  auto at = email.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= email.size() || email.find('@', at + 1) != std::string_view::npos)
    return false;
  if (email.size() > 254) return false;
  for (unsigned char c : email)
    if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '(' || c == ')' || c == ',' || c == ';' || c == '\\' ||
        c == '"' || c == '[' || c == ']')
      return false;
  std::string_view domain = email.substr(at + 1);
  return domain.find('.') != std::string_view::npos && domain.front() != '.' && domain.back() != '.';
}

Result<Principal> email_principal(const IssuerConfig& config, const bj::object& claims) {
  auto email = claim_string(claims, "email");
  if (!email || email->empty()) return verification_failed("token has no email claim");
  // go-oidc reads email_verified as a boolean; some issuers send the string "true".
  auto it = claims.find("email_verified");
  bool verified = it != claims.end() && ((it->value().is_bool() && it->value().as_bool()) ||
                                         (it->value().is_string() && it->value().as_string() == "true"));
  if (!verified) return verification_failed(fmt::format("email_verified claim is not true for {}", *email));
  if (!plausible_email(*email)) return verification_failed(fmt::format("email claim \"{}\" is not an email address", *email));
  Principal p;
  p.issuer = config.issuer_url;
  p.challenge = *email;
  p.san_kind = Principal::SanKind::kEmail;
  p.san = *email;
  p.extensions.issuer = config.issuer_url;
  if (auto sub = claim_string(claims, "sub")) p.extensions.token_subject = *sub;
  return p;
}

// Fulcio's GitHub Actions mapping (its ci-provider templates for github-workflow): every claim it
// names is required except "environment".
Result<Principal> github_principal(const IssuerConfig& config, const bj::object& claims) {
  static constexpr std::string_view kRequired[] = {
      "sub", "job_workflow_ref", "sha", "event_name", "repository", "workflow", "ref", "job_workflow_sha",
      "runner_environment", "repository_id", "repository_owner", "repository_owner_id", "repository_visibility",
      "workflow_ref", "workflow_sha", "run_id", "run_attempt"};
  std::map<std::string_view, std::string> c;
  for (std::string_view name : kRequired) {
    VOUCH_ASSIGN_OR_RETURN(c[name], required_claim(claims, name));
  }
  const std::string url = "https://github.com";
  Principal p;
  p.issuer = config.issuer_url;
  p.challenge = c["sub"];
  p.san_kind = Principal::SanKind::kUri;
  p.san = url + "/" + c["job_workflow_ref"];
  auto& e = p.extensions;
  e.issuer = config.issuer_url;
  e.token_subject = c["sub"];
  e.github_workflow_trigger = c["event_name"];
  e.github_workflow_sha = c["sha"];
  e.github_workflow_name = c["workflow"];
  e.github_workflow_repository = c["repository"];
  e.github_workflow_ref = c["ref"];
  e.build_signer_uri = p.san;
  e.build_signer_digest = c["job_workflow_sha"];
  e.runner_environment = c["runner_environment"];
  e.source_repository_uri = url + "/" + c["repository"];
  e.source_repository_digest = c["sha"];
  e.source_repository_ref = c["ref"];
  e.source_repository_identifier = c["repository_id"];
  e.source_repository_owner_uri = url + "/" + c["repository_owner"];
  e.source_repository_owner_identifier = c["repository_owner_id"];
  e.build_config_uri = url + "/" + c["workflow_ref"];
  e.build_config_digest = c["workflow_sha"];
  e.build_trigger = c["event_name"];
  e.run_invocation_uri = fmt::format("{}/{}/actions/runs/{}/attempts/{}", url, c["repository"], c["run_id"], c["run_attempt"]);
  e.source_repository_visibility_at_signing = c["repository_visibility"];
  e.deployment_environment = claim_string(claims, "environment").value_or("");
  return p;
}

Result<Principal> uri_principal(const IssuerConfig& config, const bj::object& claims) {
  VOUCH_ASSIGN_OR_RETURN(std::string sub, required_claim(claims, "sub"));
  if (plausible_email(sub)) return verification_failed("uri subject should not be an email address");
  auto subject = net::url_origin(sub);
  if (!subject.ok()) return verification_failed(fmt::format("subject \"{}\" is not an http(s) URI", sub));
  auto domain = net::url_origin(config.subject_domain);
  if (!domain.ok()) return verification_failed(fmt::format("subject domain \"{}\" is not an http(s) URI", config.subject_domain));
  if (subject->scheme != domain->scheme)
    return verification_failed(fmt::format("subject URI scheme ({}) must match expected domain URI scheme ({})",
                                           subject->scheme, domain->scheme));
  if (subject->host != domain->host)
    return verification_failed(fmt::format("subject hostname ({}) must match expected domain ({})", subject->host, domain->host));
  Principal p;
  p.issuer = config.issuer_url;
  p.challenge = sub;
  p.san_kind = Principal::SanKind::kUri;
  p.san = sub;
  p.extensions.issuer = config.issuer_url;
  p.extensions.token_subject = sub;
  return p;
}

bool audience_contains(const bj::value* aud, std::string_view client_id) {
  if (!aud) return false;
  if (aud->is_string()) return aud->as_string() == client_id;
  if (aud->is_array()) {
    for (const auto& a : aud->as_array())
      if (a.is_string() && a.as_string() == client_id) return true;
  }
  return false;
}

std::string describe_audience(const bj::value* aud) {
  if (!aud) return "absent";
  return json::serialize(*aud);
}

Status check_times(const bj::object& claims, UnixSeconds now, std::chrono::seconds skew) {
  const int64_t slack = skew.count();
  VOUCH_ASSIGN_OR_RETURN(auto exp, numeric_date(claims, "exp"));
  if (!exp) return verification_failed("token has no exp claim");
  if (now > *exp + slack) return verification_failed(fmt::format("token expired at {}", format_rfc3339(*exp)));
  VOUCH_ASSIGN_OR_RETURN(auto nbf, numeric_date(claims, "nbf"));
  if (nbf && now + slack < *nbf) return verification_failed(fmt::format("token is not valid before {}", format_rfc3339(*nbf)));
  VOUCH_ASSIGN_OR_RETURN(auto iat, numeric_date(claims, "iat"));
  if (iat && now + slack < *iat) return verification_failed(fmt::format("token issued in the future ({})", format_rfc3339(*iat)));
  return ok_status();
}

// One trusted issuer's keys, found through discovery and kept until a token names a key they lack.
struct IssuerKeys {
  std::string jwks_uri;
  crypto::JwkSet keys;
  std::chrono::steady_clock::time_point fetched{};
  bool loaded = false;
};

class OidcVerifier final : public TokenVerifier {
 public:
  OidcVerifier(std::vector<IssuerConfig> issuers, OidcOptions options)
      : issuers_(std::move(issuers)), options_(std::move(options)), client_(options_.http) {}

  const std::vector<IssuerConfig>& issuers() const override { return issuers_; }

  Result<Principal> verify(std::string_view token) override {
    auto jws = crypto::parse_compact_jws(token);
    if (!jws.ok()) return verification_failed(fmt::format("malformed token: {}", jws.error().message));
    // The algorithm is judged before any key is looked at: "none" and HMAC never reach a key.
    auto alg = crypto::parse_jws_algorithm(jws->alg);
    if (!alg.ok()) return verification_failed(alg.error().message);
    auto parsed = json::parse(jws->payload, kClaimLimits);
    if (!parsed.ok() || !parsed->is_object()) return verification_failed("malformed token: the payload is not a JSON object");
    const bj::object& claims = parsed->as_object();
    auto iss = claim_string(claims, "iss");
    if (!iss) return verification_failed("token has no iss claim");
    const IssuerConfig* config = find_issuer(*iss);
    if (!config) return verification_failed(fmt::format("unknown issuer \"{}\"", *iss));
    VOUCH_RETURN_IF_ERROR(check_signature(*config, *jws));
    const bj::value* aud = claims.if_contains("aud");
    if (!audience_contains(aud, config->client_id))
      return verification_failed(fmt::format("audience {} does not contain {}", describe_audience(aud), config->client_id));
    VOUCH_RETURN_IF_ERROR(check_times(claims, options_.now(), options_.clock_skew));
    return principal_from_claims(*config, claims);
  }

 private:
  const IssuerConfig* find_issuer(std::string_view iss) const {
    for (const auto& i : issuers_)
      if (i.issuer_url == iss) return &i;
    return nullptr;
  }

  Status check_signature(const IssuerConfig& config, const crypto::CompactJws& jws) {
    std::vector<crypto::Jwk> candidates;
    {
      std::lock_guard lock(mu_);
      IssuerKeys& keys = keys_[config.issuer_url];
      if (!keys.loaded) VOUCH_RETURN_IF_ERROR(fetch_keys(config, keys));
      candidates = select(keys.keys, jws.kid);
      // A key the set lacks may have been added since: fetch again, at most so often.
      if (candidates.empty() && std::chrono::steady_clock::now() - keys.fetched >= options_.min_refresh_interval) {
        VOUCH_RETURN_IF_ERROR(fetch_keys(config, keys));
        candidates = select(keys.keys, jws.kid);
      }
    }
    if (candidates.empty())
      return verification_failed(fmt::format("no key of issuer {} has kid \"{}\"", config.issuer_url, jws.kid));
    std::string last_error;
    for (const auto& jwk : candidates) {
      auto ok = crypto::verify_compact_jws(jws, jwk);
      if (ok.ok()) return ok_status();
      last_error = ok.error().message;
    }
    return verification_failed(fmt::format("bad token signature: {}", last_error));
  }

  static std::vector<crypto::Jwk> select(const crypto::JwkSet& set, std::string_view kid) {
    std::vector<crypto::Jwk> out;
    for (const auto& k : set.keys)
      if (kid.empty() || k.kid == kid) out.push_back(k);
    return out;
  }

  Result<std::string> get(const std::string& url, size_t limit, std::string_view what) {
    net::Request request;
    request.url = url;
    auto response = client_.send(request, limit);
    if (!response.ok()) return std::move(response).error().context(what);
    if (response->status != 200)
      return io_error(fmt::format("{}: {} answered HTTP {}", what, url, response->status));
    return std::move(response->body);
  }

  Status fetch_keys(const IssuerConfig& config, IssuerKeys& keys) {
    if (keys.jwks_uri.empty()) {
      std::string base = config.issuer_url;
      while (!base.empty() && base.back() == '/') base.pop_back();
      VOUCH_ASSIGN_OR_RETURN(std::string text, get(base + "/.well-known/openid-configuration", kMaxDiscoveryBytes,
                                                   "OIDC discovery"));
      auto doc = json::parse(text, json::ParseLimits{kMaxDiscoveryBytes, 16});
      if (!doc.ok() || !doc->is_object())
        return invalid_input(fmt::format("OIDC discovery of {}: not a JSON object", config.issuer_url));
      const auto& obj = doc->as_object();
      // go-oidc refuses a discovery document for another issuer (a mix-up or a spoofed issuer).
      auto issuer = claim_string(obj, "issuer");
      if (!issuer || *issuer != config.issuer_url)
        return verification_failed(fmt::format("OIDC discovery of {} names issuer \"{}\"", config.issuer_url,
                                               issuer.value_or("")));
      auto jwks_uri = claim_string(obj, "jwks_uri");
      if (!jwks_uri || jwks_uri->empty())
        return invalid_input(fmt::format("OIDC discovery of {} has no jwks_uri", config.issuer_url));
      auto origin = net::url_origin(*jwks_uri);
      if (!origin.ok()) return invalid_input(fmt::format("jwks_uri of {}: {}", config.issuer_url, origin.error().message));
      if (origin->scheme == "http" && !net::is_loopback_host(origin->host))
        return verification_failed(fmt::format("jwks_uri \"{}\" of {} is plain HTTP to a host other than loopback",
                                               *jwks_uri, config.issuer_url));
      keys.jwks_uri = *jwks_uri;
    }
    VOUCH_ASSIGN_OR_RETURN(std::string text, get(keys.jwks_uri, kMaxJwksBytes, "JWKS"));
    auto set = crypto::parse_jwk_set(text);
    if (!set.ok()) return std::move(set).error().context(fmt::format("JWKS of {}", config.issuer_url));
    keys.keys = std::move(*set);
    keys.fetched = std::chrono::steady_clock::now();
    keys.loaded = true;
    return ok_status();
  }

  std::vector<IssuerConfig> issuers_;
  OidcOptions options_;
  net::Client client_;
  std::mutex mu_;
  std::map<std::string, IssuerKeys, std::less<>> keys_;
};

}  // namespace

Result<Principal> principal_from_claims(const IssuerConfig& config, const bj::object& claims) {
  switch (config.type) {
    case IssuerType::kEmail: return email_principal(config, claims);
    case IssuerType::kGithubWorkflow: return github_principal(config, claims);
    case IssuerType::kUri: return uri_principal(config, claims);
  }
  return internal_error("unknown issuer type");
}

Result<std::unique_ptr<TokenVerifier>> make_oidc_verifier(std::vector<IssuerConfig> issuers, OidcOptions options) {
  if (issuers.empty()) return invalid_input("no OIDC issuer is configured");
  std::unique_ptr<TokenVerifier> verifier = std::make_unique<OidcVerifier>(std::move(issuers), std::move(options));
  return verifier;
}

}  // namespace vouch::ca
