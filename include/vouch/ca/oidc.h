// Who is asking for a certificate: OIDC identity tokens verified as Fulcio verifies them, against
// the issuers a CA is configured to trust, and the identity (principal) a certificate then names.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "vouch/base/result.h"
#include "vouch/base/time.h"
#include "vouch/crypto/fulcio.h"
#include "vouch/net/http.h"

namespace vouch::ca {

// The kinds of issuer Fulcio's configuration names ("Type"), of which vouch implements these.
enum class IssuerType {
  kEmail,           // "email": the SAN is the verified email claim
  kGithubWorkflow,  // "github-workflow": the SAN is https://github.com/<job_workflow_ref>, claims to extensions
  kUri,             // "uri": the SAN is the sub claim, a URI under the issuer's subject domain
};

std::string_view issuer_type_name(IssuerType type);
Result<IssuerType> parse_issuer_type(std::string_view name);

// One trusted issuer, as an entry of Fulcio's OIDCIssuers configuration.
struct IssuerConfig {
  std::string issuer_url;              // the token's "iss", exactly
  std::string client_id = "sigstore";  // "aud" must contain it
  IssuerType type = IssuerType::kEmail;
  std::string subject_domain;          // uri issuers: the subject's scheme and host must match it
};

// Fulcio's --config-path JSON: {"OIDCIssuers": {"<url>": {"IssuerURL", "ClientID", "Type",
// "SubjectDomain"}}}. A type vouch does not implement, a MetaIssuers entry or an unknown field is
// an error naming it, never skipped. Issuer URLs must be https, or http on a loopback host.
Result<std::vector<IssuerConfig>> parse_fulcio_config(std::string_view json);
// The same document, as `vouch ca serve` writes it for the issuers it was given on the command line.
std::string fulcio_config_json(const std::vector<IssuerConfig>& issuers);

// The identity a certificate is issued to.
struct Principal {
  enum class SanKind { kEmail, kUri };
  std::string issuer;     // the token's iss
  std::string challenge;  // what the proof of possession signs: the email, else the sub claim
  SanKind san_kind = SanKind::kEmail;
  std::string san;        // the one subject alternative name
  crypto::FulcioExtensions extensions;  // issuer, token subject and, for CI issuers, the claims Fulcio maps
};

struct OidcOptions {
  // Discovery and JWKS fetches: each within 10 s, retried once, so a slow issuer cannot hold a
  // signing request past its own deadline.
  net::ClientOptions http = [] {
    net::ClientOptions o;
    o.timeout = std::chrono::seconds(10);
    o.max_retries = 1;
    return o;
  }();
  std::chrono::seconds clock_skew{60};  // allowed on exp, nbf and iat
  // A token naming a key the cached JWK Set lacks fetches the set again, at most this often.
  std::chrono::seconds min_refresh_interval{10};
  std::function<UnixSeconds()> now = now_unix;
};

// Verifies identity tokens. Errors are kVerification with a message that names the failed check
// ("token expired at …", "audience … does not contain sigstore", "unknown issuer …",
// "JWS algorithm none is not accepted", …); a CA answers them with an error and issues nothing.
class TokenVerifier {
 public:
  virtual ~TokenVerifier() = default;
  virtual Result<Principal> verify(std::string_view token) = 0;
  virtual const std::vector<IssuerConfig>& issuers() const = 0;
};

// A verifier over OIDC discovery and JWKS (fetched on first use of an issuer, cached, and fetched
// again when a token names a key the cache does not hold). Safe to call from several threads.
Result<std::unique_ptr<TokenVerifier>> make_oidc_verifier(std::vector<IssuerConfig> issuers, OidcOptions options = {});

// The principal a verified token's claims name for an issuer of `config`'s type (Fulcio's
// PrincipalFromIDToken for email, github-workflow and uri issuers).
Result<Principal> principal_from_claims(const IssuerConfig& config, const boost::json::object& claims);

}  // namespace vouch::ca
