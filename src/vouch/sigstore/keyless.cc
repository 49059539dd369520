#include "vouch/sigstore/keyless.h"

#include <cstdlib>
#include <filesystem>

#include "vouch/base/bytes.h"
#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/crypto/digest.h"
#include "vouch/crypto/random.h"
#include "vouch/crypto/timestamp.h"

namespace vouch::sigstore {
namespace {

namespace bj = boost::json;
using json::Node;

constexpr size_t kMaxTokenBytes = 64 << 10;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// --identity-token takes the token itself or a file holding it, as cosign's flag does.
Result<std::string> token_from_flag(const std::string& value) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(value, ec)) {
    VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(value, kMaxTokenBytes));
    return std::string(trim(text));
  }
  return std::string(trim(value));
}

// GitHub Actions' token request (as cosign's github provider): GET the request URL with the
// audience added, bearer the request token, answer {"value": JWT}.
Result<std::string> github_actions_token(const TokenSource& source) {
  const std::string url = env("ACTIONS_ID_TOKEN_REQUEST_URL"), bearer = env("ACTIONS_ID_TOKEN_REQUEST_TOKEN");
  net::Request req;
  req.url = url + (url.find('?') == std::string::npos ? "?" : "&") + "audience=" + net::url_escape(source.audience);
  req.headers.add("Authorization", "bearer " + bearer);
  req.headers.add("Accept", "application/json");
  net::Client client(source.http);
  auto res = client.send(req, kMaxTokenBytes);
  if (!res.ok()) return std::move(res).error().context("GitHub Actions token request");
  if (res->status != 200)
    return io_error(fmt::format("GitHub Actions token request: {} answered HTTP {}", url, res->status));
  auto doc = json::parse(res->body);
  if (!doc.ok()) return std::move(doc).error().context("GitHub Actions token request");
  auto value = Node::root(*doc).get_string("value");
  if (!value.ok()) return std::move(value).error().context("GitHub Actions token request");
  return *value;
}

Result<crypto::Certificate> certificate_from_pem(const Node& n) {
  VOUCH_ASSIGN_OR_RETURN(std::string pem, n.string());
  auto cert = crypto::Certificate::from_pem(pem);
  if (!cert.ok()) return n.error(cert.error().message);
  return cert;
}

Result<std::vector<crypto::Certificate>> parse_chain(const Node& chain) {
  VOUCH_ASSIGN_OR_RETURN(Node list, chain.get("certificates"));
  VOUCH_ASSIGN_OR_RETURN(std::vector<Node> items, list.array());
  if (items.empty()) return list.error("no certificates");
  std::vector<crypto::Certificate> out;
  for (const Node& item : items) {
    VOUCH_ASSIGN_OR_RETURN(crypto::Certificate c, certificate_from_pem(item));
    out.push_back(std::move(c));
  }
  return out;
}

std::string fulcio_error(const net::Response& res) {
  auto doc = json::parse(res.body);
  if (doc.ok() && doc->is_object())
    if (auto m = Node::root(*doc).find("message"))
      if (auto text = m->string(); text.ok()) return *text;
  return std::string(trim(res.body.substr(0, 200)));
}

}  // namespace

Result<IdentityToken> parse_identity_token(std::string_view jwt) {
  IdentityToken token;
  token.raw = std::string(trim(jwt));
  const size_t dot1 = token.raw.find('.');
  const size_t dot2 = dot1 == std::string::npos ? dot1 : token.raw.find('.', dot1 + 1);
  if (dot2 == std::string::npos || token.raw.find('.', dot2 + 1) != std::string::npos)
    return invalid_input("identity token: not a JWT (want header.payload.signature)");
  auto payload = base64url_decode(std::string_view(token.raw).substr(dot1 + 1, dot2 - dot1 - 1));
  if (!payload.ok()) return invalid_input("identity token: payload is not base64url");
  auto doc = json::parse(as_chars(*payload), {.max_bytes = kMaxTokenBytes, .max_depth = 16});
  if (!doc.ok() || !doc->is_object()) return invalid_input("identity token: payload is not a JSON object");
  Node claims = Node::root(*doc);
  auto iss = claims.get_string("iss");
  if (!iss.ok()) return invalid_input("identity token: no iss claim");
  token.issuer = *iss;
  if (auto email = claims.find("email")) {
    VOUCH_ASSIGN_OR_RETURN(token.challenge, email->string());
    auto verified = claims.find("email_verified");
    if (!verified || !verified->raw().is_bool() || !verified->raw().as_bool())
      return invalid_input(fmt::format("identity token: email {} is not verified by the identity provider", token.challenge));
  }
  if (token.challenge.empty()) {
    auto sub = claims.get_string("sub");
    if (!sub.ok() || sub->empty()) return invalid_input("identity token: neither an email nor a sub claim");
    token.challenge = *sub;
  }
  return token;
}

Result<std::string> find_identity_token(const TokenSource& source) {
  if (!source.identity_token.empty()) return token_from_flag(source.identity_token);
  if (std::string t = env("SIGSTORE_ID_TOKEN"); !t.empty()) return std::string(trim(t));
  if (!env("ACTIONS_ID_TOKEN_REQUEST_URL").empty() && !env("ACTIONS_ID_TOKEN_REQUEST_TOKEN").empty())
    return github_actions_token(source);
  return not_found(
      "no identity token: give --identity-token, set SIGSTORE_ID_TOKEN, or run where GitHub Actions' "
      "ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are set (or sign with --key)");
}

Result<FulcioCertificate> request_signing_certificate(const std::string& fulcio_url, const IdentityToken& token,
                                                      const crypto::PrivateKey& key, const net::ClientOptions& http) {
  VOUCH_ASSIGN_OR_RETURN(Bytes proof, key.sign(as_bytes(token.challenge), crypto::HashAlgorithm::kSha256));
  bj::object body{
      {"credentials", bj::object{{"oidcIdentityToken", token.raw}}},
      {"publicKeyRequest", bj::object{{"publicKey", bj::object{{"algorithm", "ECDSA"}, {"content", key.public_key().pem()}}},
                                      {"proofOfPossession", base64_encode(proof)}}}};
  net::Request req;
  req.method = "POST";
  std::string base = fulcio_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  req.url = base + "/api/v2/signingCert";
  req.headers.add("Content-Type", "application/json");
  req.headers.add("Accept", "application/json");
  req.body = json::serialize(body);
  net::Client client(http);
  auto res = client.send(req, 1 << 20);
  if (!res.ok()) return std::move(res).error().context("certificate authority");
  if (res->status != 200 && res->status != 201)
    return verification_failed(fmt::format("certificate authority {} refused the request (HTTP {}): {}", fulcio_url,
                                           res->status, fulcio_error(*res)));
  auto doc = json::parse(res->body);
  if (!doc.ok()) return std::move(doc).error().context("certificate authority response");
  Node root = Node::root(*doc);
  FulcioCertificate out;
  if (auto embedded = root.find("signedCertificateEmbeddedSct")) {
    VOUCH_ASSIGN_OR_RETURN(Node chain, embedded->get("chain"));
    VOUCH_ASSIGN_OR_RETURN(out.chain, parse_chain(chain));
  } else if (auto detached = root.find("signedCertificateDetachedSct")) {
    VOUCH_ASSIGN_OR_RETURN(Node chain, detached->get("chain"));
    VOUCH_ASSIGN_OR_RETURN(out.chain, parse_chain(chain));
    if (auto sct = detached->find("signedCertificateTimestamp")) {
    VOUCH_ASSIGN_OR_RETURN(out.detached_sct, sct->bytes());
  }
  } else {
    return root.error("certificate authority response has neither signedCertificateEmbeddedSct nor "
                      "signedCertificateDetachedSct");
  }
  // The certificate must be for the key that asked, or the signature would not verify later.
  if (!out.chain.front().public_key().equals(key.public_key()))
    return verification_failed("certificate authority returned a certificate for another public key");
  return out;
}

Result<std::unique_ptr<KeylessSigner>> KeylessSigner::create(const std::string& fulcio_url, const IdentityToken& token,
                                                             const net::ClientOptions& http) {
  VOUCH_ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256));
  VOUCH_ASSIGN_OR_RETURN(FulcioCertificate cert, request_signing_certificate(fulcio_url, token, key, http));
  SignerMaterial material;
  material.public_key = key.public_key();
  material.certificate_chain = std::move(cert.chain);
  return std::unique_ptr<KeylessSigner>(new KeylessSigner(std::move(key), std::move(material), token));
}


Result<Bytes> request_timestamp(const std::string& url, ByteView signature, const net::ClientOptions& http) {
  // The request in sigstore/timestamp-authority's JSON form, which it and sigstore-js's mock
  // accept (as sigstore-js sends it). The nonce stays below 2^53 so that JSON readers holding
  // numbers as doubles keep it exact; the DER request with the same imprint and nonce is what
  // the reply is checked against.
  VOUCH_ASSIGN_OR_RETURN(Bytes random, crypto::random_bytes(6));
  uint64_t nonce_value = 0;
  for (uint8_t b : random) nonce_value = (nonce_value << 8) | b;
  if (nonce_value == 0) nonce_value = 1;
  Bytes nonce;
  for (int shift = 40; shift >= 0; shift -= 8) nonce.push_back(static_cast<uint8_t>(nonce_value >> shift));
  VOUCH_ASSIGN_OR_RETURN(Bytes query, crypto::timestamp_request(signature, crypto::HashAlgorithm::kSha256, true, nonce));
  net::Request req;
  req.method = "POST";
  req.url = url;
  req.headers.add("Content-Type", "application/json");
  req.headers.add("Accept", "application/timestamp-reply");
  req.body = json::serialize(bj::object{{"artifactHash", base64_encode(crypto::sha256(signature))},
                                        {"hashAlgorithm", "sha256"},
                                        {"nonce", nonce_value},
                                        {"certificates", true}});
  net::Client client(http);
  auto res = client.send(req, 1 << 20);
  if (!res.ok()) return std::move(res).error();
  if (res->status != 200 && res->status != 201)
    return io_error(fmt::format("{} answered HTTP {}: {}", url, res->status, trim(res->body.substr(0, 200))));
  Bytes reply = to_bytes(res->body);
  // A reply for another request (another imprint or nonce) is not a timestamp of this signature.
  VOUCH_RETURN_IF_ERROR(crypto::check_timestamp_answers(reply, query));
  return reply;
}

Result<Bytes> request_timestamp(const std::string& url, ByteView signature,
                                std::optional<std::chrono::steady_clock::time_point> deadline) {
  net::ClientOptions http;
  http.deadline = deadline;
  return request_timestamp(url, signature, http);
}

}  // namespace vouch::sigstore
