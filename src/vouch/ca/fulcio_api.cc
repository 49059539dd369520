#include "vouch/ca/fulcio_api.h"

#include <atomic>
#include <initializer_list>

#include <fmt/format.h>

#include "vouch/base/ascii.h"
#include "vouch/base/json.h"
#include "vouch/net/prometheus.h"

namespace vouch::ca {
namespace {

namespace bj = boost::json;

constexpr size_t kMaxRequestBytes = 64 * 1024;

// gRPC status codes as grpc-gateway writes them in error bodies.
constexpr int kInvalidArgument = 3;
constexpr int kInternal = 13;

constexpr std::string_view kInvalidIdentityToken = "There was an error processing the identity token";
constexpr std::string_view kInvalidPublicKey = "The public key supplied in the request could not be parsed";
constexpr std::string_view kInsecurePublicKey = "The public key supplied in the request is insecure";
constexpr std::string_view kInvalidSignature = "The signature supplied in the request could not be verified";
constexpr std::string_view kInvalidCsr = "The certificate signing request could not be parsed";

net::HttpResponse grpc_error(int grpc_code, std::string_view message) {
  net::HttpResponse r;
  r.status = grpc_code == kInvalidArgument ? 400 : grpc_code == 5 ? 404 : grpc_code == 12 ? 405 : 500;
  r.body = json::serialize(bj::object{{"code", grpc_code}, {"message", message}, {"details", bj::array{}}}) + "\n";
  return r;
}

net::HttpResponse bad_request(std::string_view message) { return grpc_error(kInvalidArgument, message); }

net::HttpResponse json_ok(const bj::value& body) {
  net::HttpResponse r;
  r.body = json::serialize(body) + "\n";
  return r;
}

// protojson accepts a field under its JSON name and under its proto name.
const bj::value* member(const bj::object& o, std::string_view json_name, std::string_view proto_name) {
  if (auto* v = o.if_contains(json_name)) return v->is_null() ? nullptr : v;
  if (auto* v = o.if_contains(proto_name)) return v->is_null() ? nullptr : v;
  return nullptr;
}

Status only_fields(const bj::object& o, std::string_view where, std::initializer_list<std::string_view> known) {
  for (const auto& m : o) {
    bool ok = false;
    for (auto k : known) ok = ok || m.key() == k;
    if (!ok) return invalid_input(fmt::format("{}: unknown field \"{}\"", where, std::string_view(m.key())));
  }
  return ok_status();
}

Result<std::string> string_field(const bj::object& o, std::string_view json_name, std::string_view proto_name,
                                 std::string_view where) {
  const bj::value* v = member(o, json_name, proto_name);
  if (!v) return std::string();
  if (!v->is_string()) return invalid_input(fmt::format("{}.{}: expected a string", where, json_name));
  return std::string(v->as_string());
}

Result<Bytes> bytes_field(const bj::object& o, std::string_view json_name, std::string_view proto_name,
                          std::string_view where) {
  VOUCH_ASSIGN_OR_RETURN(std::string text, string_field(o, json_name, proto_name, where));
  if (text.empty()) return Bytes();
  // protojson reads bytes as standard or URL-safe base64, padded or not.
  auto standard = base64_decode(text);
  if (standard.ok()) return standard;
  auto url = base64url_decode(text);
  if (url.ok()) return url;
  return invalid_input(fmt::format("{}.{}: not base64", where, json_name));
}

Result<const bj::object*> object_field(const bj::object& o, std::string_view json_name, std::string_view proto_name,
                                       std::string_view where) {
  const bj::value* v = member(o, json_name, proto_name);
  if (!v) return static_cast<const bj::object*>(nullptr);
  if (!v->is_object()) return invalid_input(fmt::format("{}.{}: expected an object", where, json_name));
  return &v->as_object();
}

// What a signing-certificate request carries, from either API version.
struct KeyRequest {
  std::string token;
  std::string public_key;      // PEM or DER (legacy), with a proof of possession
  std::string algorithm;       // PublicKeyAlgorithm name, informational
  Bytes proof_of_possession;
  std::optional<std::string> csr;  // PEM or DER CSR instead of a public key
};

Result<KeyRequest> parse_v2_request(std::string_view body) {
  auto doc = json::parse(body, {.max_bytes = kMaxRequestBytes, .max_depth = 8});
  if (!doc.ok() || !doc->is_object()) return invalid_input("request body is not a JSON object");
  const bj::object& root = doc->as_object();
  VOUCH_RETURN_IF_ERROR(only_fields(root, "request",
                                    {"credentials", "publicKeyRequest", "public_key_request", "certificateSigningRequest",
                                     "certificate_signing_request"}));
  KeyRequest r;
  VOUCH_ASSIGN_OR_RETURN(const bj::object* creds, object_field(root, "credentials", "credentials", "request"));
  if (creds) {
    VOUCH_RETURN_IF_ERROR(only_fields(*creds, "credentials", {"oidcIdentityToken", "oidc_identity_token"}));
    VOUCH_ASSIGN_OR_RETURN(r.token, string_field(*creds, "oidcIdentityToken", "oidc_identity_token", "credentials"));
  }
  VOUCH_ASSIGN_OR_RETURN(const bj::object* pkr, object_field(root, "publicKeyRequest", "public_key_request", "request"));
  VOUCH_ASSIGN_OR_RETURN(Bytes csr, bytes_field(root, "certificateSigningRequest", "certificate_signing_request", "request"));
  if (pkr && !csr.empty()) return invalid_input("request: publicKeyRequest and certificateSigningRequest are exclusive");
  if (!csr.empty()) {
    r.csr = std::string(csr.begin(), csr.end());
  } else if (pkr) {
    VOUCH_RETURN_IF_ERROR(only_fields(*pkr, "publicKeyRequest",
                                      {"publicKey", "public_key", "proofOfPossession", "proof_of_possession"}));
    VOUCH_ASSIGN_OR_RETURN(const bj::object* key, object_field(*pkr, "publicKey", "public_key", "publicKeyRequest"));
    if (key) {
      VOUCH_RETURN_IF_ERROR(only_fields(*key, "publicKey", {"algorithm", "content"}));
      VOUCH_ASSIGN_OR_RETURN(r.public_key, string_field(*key, "content", "content", "publicKey"));
      const bj::value* alg = key->if_contains("algorithm");
      if (alg && alg->is_string()) r.algorithm = std::string(alg->as_string());
      else if (alg && alg->is_int64()) r.algorithm = std::to_string(alg->as_int64());
      else if (alg && !alg->is_null()) return invalid_input("publicKey.algorithm: expected an enum name or number");
    }
    VOUCH_ASSIGN_OR_RETURN(r.proof_of_possession,
                           bytes_field(*pkr, "proofOfPossession", "proof_of_possession", "publicKeyRequest"));
  }
  return r;
}

Result<KeyRequest> parse_v1_request(std::string_view body) {
  auto doc = json::parse(body, {.max_bytes = kMaxRequestBytes, .max_depth = 8});
  if (!doc.ok() || !doc->is_object()) return invalid_input("request body is not a JSON object");
  const bj::object& root = doc->as_object();
  VOUCH_RETURN_IF_ERROR(only_fields(root, "request",
                                    {"publicKey", "public_key", "signedEmailAddress", "signed_email_address",
                                     "certificateSigningRequest", "certificate_signing_request"}));
  KeyRequest r;
  VOUCH_ASSIGN_OR_RETURN(Bytes csr, bytes_field(root, "certificateSigningRequest", "certificate_signing_request", "request"));
  if (!csr.empty()) {
    r.csr = std::string(csr.begin(), csr.end());
    return r;
  }
  VOUCH_ASSIGN_OR_RETURN(const bj::object* key, object_field(root, "publicKey", "public_key", "request"));
  if (!key) return invalid_input("public key not provided");
  VOUCH_RETURN_IF_ERROR(only_fields(*key, "publicKey", {"algorithm", "content"}));
  VOUCH_ASSIGN_OR_RETURN(Bytes content, bytes_field(*key, "content", "content", "publicKey"));
  r.public_key.assign(content.begin(), content.end());
  VOUCH_ASSIGN_OR_RETURN(r.algorithm, string_field(*key, "algorithm", "algorithm", "publicKey"));
  VOUCH_ASSIGN_OR_RETURN(r.proof_of_possession, bytes_field(root, "signedEmailAddress", "signed_email_address", "request"));
  return r;
}

// Fulcio's PublicKeyAlgorithm names (or numbers); the key itself says what it is.
Status check_algorithm_name(std::string_view name) {
  static constexpr std::string_view kKnown[] = {"", "PUBLIC_KEY_ALGORITHM_UNSPECIFIED", "RSA_PSS", "ECDSA", "ED25519",
                                                "0", "1", "2", "3"};
  std::string upper;
  for (char c : name) upper.push_back(static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c));
  for (auto k : kKnown)
    if (upper == k) return ok_status();
  return invalid_input(fmt::format("publicKey.algorithm \"{}\" is not a PublicKeyAlgorithm", name));
}

Result<crypto::PublicKey> parse_public_key(std::string_view content) {
  if (content.find("-----BEGIN") != std::string_view::npos) return crypto::PublicKey::from_pem(content);
  return crypto::PublicKey::from_der(as_bytes(content));
}

std::string chain_pem_text(const std::vector<crypto::Certificate>& certs) {
  std::string out;
  for (const auto& c : certs) out += c.pem();
  return out;
}

bj::array pem_array(const crypto::Certificate& leaf, const std::vector<crypto::Certificate>& chain) {
  bj::array a;
  a.push_back(bj::string(leaf.pem()));
  for (const auto& c : chain) a.push_back(bj::string(c.pem()));
  return a;
}

}  // namespace

struct FulcioApi::Impl {
  CertificateAuthority& ca;
  TokenVerifier& verifier;
  net::HttpHandler ct_log;
  std::atomic<uint64_t> issued{0};
  std::atomic<uint64_t> refused_token{0};
  std::atomic<uint64_t> refused_key{0};
  std::atomic<uint64_t> failed{0};

  // The shared core of both API versions: authenticate, check possession of the key, issue.
  Result<IssuedCertificate> create(const KeyRequest& request, net::HttpResponse& error) {
    auto fail = [&](net::HttpResponse r, std::atomic<uint64_t>& counter) -> Result<IssuedCertificate> {
      counter++;
      error = std::move(r);
      return invalid_input(error.body);
    };
    if (request.token.empty())
      return fail(bad_request(fmt::format("{}: no identity token (credentials.oidcIdentityToken or Authorization: Bearer)",
                                          kInvalidIdentityToken)),
                  refused_token);
    auto principal = verifier.verify(request.token);
    if (!principal.ok())
      return fail(bad_request(fmt::format("{}: {}", kInvalidIdentityToken, principal.error().message)), refused_token);

    crypto::PublicKey key;
    if (request.csr) {
      auto from_csr = crypto::public_key_of_signed_csr(*request.csr);
      if (!from_csr.ok()) {
        std::string_view what = from_csr.error().code == ErrorCode::kVerification ? kInvalidSignature : kInvalidCsr;
        return fail(bad_request(fmt::format("{}: {}", what, from_csr.error().message)), refused_key);
      }
      key = *from_csr;
    } else {
      if (auto alg = check_algorithm_name(request.algorithm); !alg.ok())
        return fail(bad_request(fmt::format("{}: {}", kInvalidPublicKey, alg.error().message)), refused_key);
      if (request.public_key.empty())
        return fail(bad_request(fmt::format("{}: no public key", kInvalidPublicKey)), refused_key);
      auto parsed = parse_public_key(request.public_key);
      if (!parsed.ok())
        return fail(bad_request(fmt::format("{}: {}", kInvalidPublicKey, parsed.error().message)), refused_key);
      key = *parsed;
    }
    if (auto good = check_subject_key(key); !good.ok())
      return fail(bad_request(fmt::format("{}: {}", kInsecurePublicKey, good.error().message)), refused_key);
    if (!request.csr) {
      // The proof of possession: a signature over the identity the token names (Fulcio's
      // principal.Name: the email address, else the subject).
      if (request.proof_of_possession.empty())
        return fail(bad_request(fmt::format("{}: no proof of possession", kInvalidSignature)), refused_key);
      auto verified = key.verify(as_bytes(principal->challenge), request.proof_of_possession);
      if (!verified.ok())
        return fail(bad_request(fmt::format("{}: the proof of possession is not a signature over \"{}\" with this key",
                                            kInvalidSignature, principal->challenge)),
                    refused_key);
    }
    auto issued_cert = ca.issue(*principal, key);
    if (!issued_cert.ok()) {
      if (issued_cert.error().code == ErrorCode::kInvalidInput)
        return fail(bad_request(issued_cert.error().message), refused_key);
      return fail(grpc_error(kInternal, fmt::format("error communicating with CA backend: {}", issued_cert.error().message)),
                  failed);
    }
    issued++;
    return issued_cert;
  }

  static std::string bearer_token(const net::HttpRequest& request) {
    std::string_view auth = request.header("authorization");
    if (auth.size() > 7 && iequals(auth.substr(0, 7), "bearer ")) return std::string(auth.substr(7));
    return {};
  }

  net::HttpResponse signing_cert_v2(const net::HttpRequest& request) {
    auto parsed = parse_v2_request(request.body);
    if (!parsed.ok()) {
      refused_key++;
      return bad_request(parsed.error().message);
    }
    if (parsed->token.empty()) parsed->token = bearer_token(request);
    net::HttpResponse error;
    auto issued_cert = create(*parsed, error);
    if (!issued_cert.ok()) return error;
    bj::object chain{{"certificates", pem_array(issued_cert->leaf, issued_cert->chain)}};
    if (issued_cert->sct_embedded)
      return json_ok(bj::object{{"signedCertificateEmbeddedSct", bj::object{{"chain", std::move(chain)}}}});
    return json_ok(bj::object{{"signedCertificateDetachedSct", bj::object{{"chain", std::move(chain)}}}});
  }

  net::HttpResponse signing_cert_v1(const net::HttpRequest& request) {
    auto parsed = parse_v1_request(request.body);
    if (!parsed.ok()) {
      refused_key++;
      return bad_request(parsed.error().message);
    }
    parsed->token = bearer_token(request);
    net::HttpResponse error;
    auto issued_cert = create(*parsed, error);
    if (!issued_cert.ok()) return error;
    std::string text = issued_cert->leaf.pem() + chain_pem_text(issued_cert->chain);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return {201, "application/pem-certificate-chain", std::move(text), {}};
  }

  net::HttpResponse configuration() {
    bj::array issuers;
    for (const auto& i : verifier.issuers()) {
      bj::object o{{"issuerUrl", i.issuer_url},
                   {"audience", i.client_id},
                   {"challengeClaim", i.type == IssuerType::kEmail ? "email" : "sub"},
                   {"issuerType", issuer_type_name(i.type)}};
      if (!i.subject_domain.empty()) o["subjectDomain"] = i.subject_domain;
      issuers.push_back(std::move(o));
    }
    return json_ok(bj::object{{"issuers", std::move(issuers)}});
  }

  net::HttpResponse metrics() {
    net::PrometheusText text;
    text.counter("vouch_ca_certificates_issued_total", "Certificates issued.", issued.load());
    text.family("vouch_ca_requests_refused_total", "counter", "Signing-certificate requests refused, by reason.")
        .sample("vouch_ca_requests_refused_total", refused_token.load(), {{"reason", "identity_token"}})
        .sample("vouch_ca_requests_refused_total", refused_key.load(), {{"reason", "key_or_request"}});
    text.counter("vouch_ca_errors_total", "Requests that failed in the CA or its CT log.", failed.load());
    return {200, std::string(net::PrometheusText::kContentType), text.take(), {}};
  }
};

FulcioApi::FulcioApi(CertificateAuthority& ca, TokenVerifier& verifier, net::HttpHandler ct_log)
    : impl_(new Impl{ca, verifier, std::move(ct_log)}) {}
FulcioApi::~FulcioApi() = default;

net::HttpResponse FulcioApi::handle_request(const net::HttpRequest& request) {
  const std::string& path = request.path;
  auto method_is = [&](std::string_view m) { return request.method == m; };
  if (path == "/healthz" || path == "/readyz") return {200, "text/plain", "ok\n", {}};
  if (path == "/metrics") return impl_->metrics();
  if (path == "/api/v2/signingCert" || path == "/api/v1/signingCert") {
    if (!method_is("POST")) return grpc_error(12, "Method Not Allowed");
    if (request.body.size() > kMaxRequestBytes) return bad_request("request body too large");
    return path == "/api/v2/signingCert" ? impl_->signing_cert_v2(request) : impl_->signing_cert_v1(request);
  }
  if (path == "/api/v2/trustBundle") {
    if (!method_is("GET")) return grpc_error(12, "Method Not Allowed");
    bj::array certs;
    for (const auto& c : impl_->ca.chain()) certs.push_back(bj::string(c.pem()));
    return json_ok(bj::object{{"chains", bj::array{bj::object{{"certificates", std::move(certs)}}}}});
  }
  if (path == "/api/v2/configuration") {
    if (!method_is("GET")) return grpc_error(12, "Method Not Allowed");
    return impl_->configuration();
  }
  if (path == "/api/v1/rootCert") {
    if (!method_is("GET")) return grpc_error(12, "Method Not Allowed");
    return {200, "application/pem-certificate-chain", chain_pem_text(impl_->ca.chain()), {}};
  }
  return grpc_error(5, "Not Found");
}

void FulcioApi::handle(net::HttpRequest request, net::Responder respond) {
  if (impl_->ct_log && request.path.rfind("/ct/v1/", 0) == 0) return impl_->ct_log(std::move(request), std::move(respond));
  respond(handle_request(request));
}

}  // namespace vouch::ca
