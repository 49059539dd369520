// Public and private keys (ECDSA P-256/P-384/P-521, RSA, Ed25519): parsing, signing and
// signature verification. Signatures are in the encodings Sigstore uses (ASN.1 DER for ECDSA,
// PKCS#1 v1.5 or PSS for RSA, raw 64 bytes for Ed25519). A public key keeps the OpenSSL
// contexts it verified with, so a key that verifies again and again (a log's, a CA's) sets
// up its context once; copies of a key share them, and any thread may use them.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"
#include "vouch/crypto/digest.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace vouch::crypto {

class Certificate;

enum class KeyType { kEcdsaP256, kEcdsaP384, kEcdsaP521, kRsa, kEd25519 };
enum class RsaPadding { kPkcs1v15, kPss };

std::string_view key_type_name(KeyType type);

class PublicKey {
 public:
  // PEM "PUBLIC KEY" (SubjectPublicKeyInfo), or PKCS#1 "RSA PUBLIC KEY".
  static Result<PublicKey> from_pem(std::string_view pem);
  // DER SubjectPublicKeyInfo.
  static Result<PublicKey> from_der(ByteView der);
  // DER PKCS#1 RSAPublicKey (as some trusted roots carry RSA CT log keys).
  static Result<PublicKey> from_pkcs1_rsa_der(ByteView der);
  // Ed25519 raw 32-byte key (as C2SP signed-note keys carry it).
  static Result<PublicKey> from_raw_ed25519(ByteView raw);
  // Takes ownership of an EVP_PKEY that holds a public key.
  static Result<PublicKey> adopt(EVP_PKEY* pkey);

  KeyType type() const { return type_; }
  // The key's size in bits (the modulus for RSA, the curve's order for ECDSA, 256 for Ed25519).
  int bits() const;
  // The digest that goes with this key by default (P-256: SHA-256, P-384: SHA-384, ...).
  HashAlgorithm default_hash() const;
  const Bytes& der() const { return *der_; }  // SubjectPublicKeyInfo
  std::string pem() const;  // "-----BEGIN PUBLIC KEY-----"
  Bytes raw_ed25519() const;  // only for Ed25519
  bool equals(const PublicKey& other) const;

  // Verifies `signature` over `message` hashed with `hash` (ignored for Ed25519).
  Status verify(ByteView message, ByteView signature, HashAlgorithm hash,
                RsaPadding padding = RsaPadding::kPkcs1v15) const;
  Status verify(ByteView message, ByteView signature) const { return verify(message, signature, default_hash()); }
  // Verifies over a digest computed elsewhere (not possible for Ed25519).
  Status verify_digest(ByteView digest, ByteView signature, HashAlgorithm hash,
                       RsaPadding padding = RsaPadding::kPkcs1v15) const;

  EVP_PKEY* get() const { return key_.get(); }

 private:
  friend class Certificate;
  struct ContextPool;
  struct Free {
    void operator()(EVP_PKEY* p) const;
  };
  // Takes ownership of `pkey`, whose SubjectPublicKeyInfo DER is `der` (a certificate's own
  // encoding of it: encoding the key again through OpenSSL's encoders costs more than parsing).
  static Result<PublicKey> adopt_encoded(EVP_PKEY* pkey, Bytes der);
  std::shared_ptr<EVP_PKEY> key_;
  std::shared_ptr<const Bytes> der_ = std::make_shared<const Bytes>();
  std::shared_ptr<ContextPool> contexts_;
  KeyType type_ = KeyType::kEcdsaP256;
};

class PrivateKey {
 public:
  static Result<PrivateKey> generate(KeyType type);
  // Unencrypted PEM: "PRIVATE KEY" (PKCS#8), "EC PRIVATE KEY", "RSA PRIVATE KEY".
  static Result<PrivateKey> from_pem(std::string_view pem);
  static Result<PrivateKey> from_pkcs8_der(ByteView der);

  KeyType type() const { return type_; }
  HashAlgorithm default_hash() const;
  PublicKey public_key() const;
  Bytes pkcs8_der() const;
  std::string pkcs8_pem() const;

  Result<Bytes> sign(ByteView message, HashAlgorithm hash) const;
  Result<Bytes> sign(ByteView message) const { return sign(message, default_hash()); }

  EVP_PKEY* get() const { return key_.get(); }

 private:
  static Result<PrivateKey> adopt(EVP_PKEY* pkey);
  Status derive_public_key();
  std::shared_ptr<EVP_PKEY> key_;
  std::shared_ptr<const PublicKey> public_key_;
  KeyType type_ = KeyType::kEcdsaP256;
};

// The unencrypted PEM private key at `path`, or, when no file exists there, a new key of `type`
// written to it atomically with mode 0600 (`created` then set). A server's identity key is kept
// this way so that a restart signs with the same key.
Result<PrivateKey> load_or_create_private_key(const std::filesystem::path& path, KeyType type, bool* created = nullptr);

}  // namespace vouch::crypto
