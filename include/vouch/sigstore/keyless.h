// Keyless signing as cosign does it: an OIDC identity token is exchanged at a Fulcio-compatible
// certificate authority for a short-lived certificate over an ephemeral key that lives only in
// memory; the signature then goes to the transparency log and, when configured, to a timestamp
// authority, so that verifiers can tell it was made while the certificate was valid.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"
#include "vouch/crypto/keys.h"
#include "vouch/crypto/x509.h"
#include "vouch/net/http.h"
#include "vouch/sigstore/signer.h"

namespace vouch::sigstore {

// What a client reads from an identity token before sending it (unverified: the CA verifies it).
struct IdentityToken {
  std::string raw;
  std::string issuer;     // iss
  // What the proof of possession signs, as cosign picks it: the email claim when present
  // (which must then be email_verified), else sub.
  std::string challenge;
};

Result<IdentityToken> parse_identity_token(std::string_view jwt);

struct TokenSource {
  std::string identity_token;       // --identity-token: the token, or a file that holds it
  std::string audience = "sigstore";  // asked for from GitHub Actions
  net::ClientOptions http;
};

// The identity token, from the first of: --identity-token, $SIGSTORE_ID_TOKEN, GitHub Actions'
// token request ($ACTIONS_ID_TOKEN_REQUEST_URL with $ACTIONS_ID_TOKEN_REQUEST_TOKEN). kNotFound
// when none is there.
Result<std::string> find_identity_token(const TokenSource& source);

struct FulcioCertificate {
  std::vector<crypto::Certificate> chain;  // leaf first
  std::optional<Bytes> detached_sct;       // signedCertificateDetachedSct: the SCT, when not embedded
};

// POST /api/v2/signingCert: a certificate for `key`'s public key, with a proof of possession
// (the key's signature over the token's challenge).
Result<FulcioCertificate> request_signing_certificate(const std::string& fulcio_url, const IdentityToken& token,
                                                      const crypto::PrivateKey& key, const net::ClientOptions& http);

// An ephemeral ECDSA P-256 key with its certificate.
class KeylessSigner final : public Signer {
 public:
  static Result<std::unique_ptr<KeylessSigner>> create(const std::string& fulcio_url, const IdentityToken& token,
                                                       const net::ClientOptions& http);

  Result<Bytes> sign(ByteView data) const override { return key_.sign(data, crypto::HashAlgorithm::kSha256); }
  crypto::HashAlgorithm hash_algorithm() const override { return crypto::HashAlgorithm::kSha256; }
  const SignerMaterial& material() const override { return material_; }
  const IdentityToken& token() const { return token_; }

 private:
  KeylessSigner(crypto::PrivateKey key, SignerMaterial material, IdentityToken token)
      : key_(std::move(key)), material_(std::move(material)), token_(std::move(token)) {}
  crypto::PrivateKey key_;
  SignerMaterial material_;
  IdentityToken token_;
};

// RFC 3161: a signed timestamp over `signature` from the timestamp authority at `url` (its full
// endpoint, e.g. https://timestamp.sigstore.dev/api/v1/timestamp), checked to answer the request.
Result<Bytes> request_timestamp(const std::string& url, ByteView signature, const net::ClientOptions& http);
// The same with the default client options, bounded by `deadline` when set.
Result<Bytes> request_timestamp(const std::string& url, ByteView signature,
                                std::optional<std::chrono::steady_clock::time_point> deadline);

}  // namespace vouch::sigstore
