#include "vouch/crypto/keys.h"

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <mutex>
#include <vector>

#include "openssl_util.h"
#include "vouch/base/file.h"

namespace vouch::crypto {
namespace {

Result<KeyType> classify(EVP_PKEY* pkey) {
  switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_ED25519: return KeyType::kEd25519;
    case EVP_PKEY_RSA: {
      int bits = EVP_PKEY_get_bits(pkey);
      if (bits < 2048) return invalid_input(fmt::format("RSA key of {} bits is too small (minimum 2048)", bits));
      if (bits > 8192) return invalid_input(fmt::format("RSA key of {} bits is too large (maximum 8192)", bits));
      return KeyType::kRsa;
    }
    case EVP_PKEY_EC: {
      char name[64] = {0};
      size_t len = 0;
      if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &len))
        return invalid_input("EC key without a named curve");
      std::string_view n(name, len);
      if (n == "prime256v1" || n == "P-256") return KeyType::kEcdsaP256;
      if (n == "secp384r1" || n == "P-384") return KeyType::kEcdsaP384;
      if (n == "secp521r1" || n == "P-521") return KeyType::kEcdsaP521;
      return invalid_input(fmt::format("unsupported elliptic curve '{}'", n));
    }
    default:
      return invalid_input("unsupported key type (want ECDSA, RSA or Ed25519)");
  }
}

HashAlgorithm hash_for(KeyType t) {
  switch (t) {
    case KeyType::kEcdsaP384: return HashAlgorithm::kSha384;
    case KeyType::kEcdsaP521: return HashAlgorithm::kSha512;
    default: return HashAlgorithm::kSha256;
  }
}

std::shared_ptr<EVP_PKEY> share(EVP_PKEY* p) { return std::shared_ptr<EVP_PKEY>(p, EVP_PKEY_free); }

}  // namespace

// Takes ownership of a parsed private key.
Result<PrivateKey> PrivateKey::adopt(EVP_PKEY* pkey) {
  EvpPkeyPtr owned(pkey);
  VOUCH_ASSIGN_OR_RETURN(KeyType type, classify(pkey));
  PrivateKey k;
  k.key_ = share(owned.release());
  k.type_ = type;
  VOUCH_RETURN_IF_ERROR(k.derive_public_key());
  return k;
}

// The public half, encoded and parsed once: signers ask for it on every certificate and SCT.
Status PrivateKey::derive_public_key() {
  unsigned char* buf = nullptr;
  int len = i2d_PUBKEY(key_.get(), &buf);
  if (len <= 0) return internal_error("the public half of a private key cannot be encoded");
  Bytes der(buf, buf + len);
  OPENSSL_free(buf);
  VOUCH_ASSIGN_OR_RETURN(PublicKey pub, PublicKey::from_der(der));
  public_key_ = std::make_shared<const PublicKey>(std::move(pub));
  return ok_status();
}

namespace {

Status set_padding(EVP_PKEY_CTX* ctx, KeyType type, RsaPadding padding) {
  if (type != KeyType::kRsa) return ok_status();
  if (padding == RsaPadding::kPss) {
    if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_AUTO) <= 0)
      return internal_error("cannot set RSA-PSS padding");
  } else if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0) {
    return internal_error("cannot set RSA PKCS#1 padding");
  }
  return ok_status();
}

}  // namespace

std::string_view key_type_name(KeyType type) {
  switch (type) {
    case KeyType::kEcdsaP256: return "ECDSA P-256";
    case KeyType::kEcdsaP384: return "ECDSA P-384";
    case KeyType::kEcdsaP521: return "ECDSA P-521";
    case KeyType::kRsa: return "RSA";
    case KeyType::kEd25519: return "Ed25519";
  }
  return "unknown";
}

void PublicKey::Free::operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }

int PublicKey::bits() const { return key_ ? EVP_PKEY_get_bits(key_.get()) : 0; }

// Verification contexts set up for this key (with a digest and a padding), waiting for the next
// verification: setting one up fetches the provider's implementations again each time.
struct PublicKey::ContextPool {
  struct Idle {
    HashAlgorithm hash;
    RsaPadding padding;
    EVP_PKEY_CTX* ctx;
  };
  static constexpr size_t kMaxIdle = 16;  // about one per thread that verifies with the key at once

  std::mutex mu;
  std::vector<Idle> idle;

  ~ContextPool() {
    for (const Idle& i : idle) EVP_PKEY_CTX_free(i.ctx);
  }
  EVP_PKEY_CTX* take(HashAlgorithm hash, RsaPadding padding) {
    std::lock_guard lock(mu);
    for (size_t i = 0; i < idle.size(); ++i) {
      if (idle[i].hash != hash || idle[i].padding != padding) continue;
      EVP_PKEY_CTX* ctx = idle[i].ctx;
      idle[i] = idle.back();
      idle.pop_back();
      return ctx;
    }
    return nullptr;
  }
  void give_back(HashAlgorithm hash, RsaPadding padding, EvpPkeyCtxPtr ctx) {
    std::lock_guard lock(mu);
    if (idle.size() >= kMaxIdle) return;
    idle.push_back({hash, padding, ctx.release()});
  }
};

Result<PublicKey> PublicKey::adopt(EVP_PKEY* pkey) {
  EvpPkeyPtr owned(pkey);
  unsigned char* buf = nullptr;
  int len = i2d_PUBKEY(pkey, &buf);
  if (len <= 0) return invalid_input("public key cannot be encoded as SubjectPublicKeyInfo");
  Bytes der(buf, buf + len);
  OPENSSL_free(buf);
  return adopt_encoded(owned.release(), std::move(der));
}

Result<PublicKey> PublicKey::adopt_encoded(EVP_PKEY* pkey, Bytes der) {
  EvpPkeyPtr owned(pkey);
  VOUCH_ASSIGN_OR_RETURN(KeyType type, classify(pkey));
  PublicKey k;
  k.der_ = std::make_shared<const Bytes>(std::move(der));
  k.key_ = share(owned.release());
  k.contexts_ = std::make_shared<ContextPool>();
  k.type_ = type;
  return k;
}

Result<PublicKey> PublicKey::from_der(ByteView der) {
  const unsigned char* p = der.data();
  EVP_PKEY* pkey = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  if (!pkey) {
    ERR_clear_error();
    return invalid_input("not a DER SubjectPublicKeyInfo public key");
  }
  if (p != der.data() + der.size()) {
    EVP_PKEY_free(pkey);
    return invalid_input("trailing data after DER public key");
  }
  return adopt(pkey);
}

Result<PublicKey> PublicKey::from_pem(std::string_view pem) {
  if (pem.size() > 1 << 20) return invalid_input("PEM public key too large");
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* pkey = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  if (!pkey) {
    ERR_clear_error();
    // PKCS#1 "RSA PUBLIC KEY".
    OSSL_DECODER_CTX* dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", "type-specific", "RSA",
                                                           EVP_PKEY_PUBLIC_KEY, nullptr, nullptr);
    if (dctx) {
      const unsigned char* data = reinterpret_cast<const unsigned char*>(pem.data());
      size_t len = pem.size();
      if (OSSL_DECODER_from_data(dctx, &data, &len) != 1) pkey = nullptr;
      OSSL_DECODER_CTX_free(dctx);
    }
  }
  if (!pkey) {
    ERR_clear_error();
    return invalid_input("not a PEM public key (want -----BEGIN PUBLIC KEY-----)");
  }
  return adopt(pkey);
}

Result<PublicKey> PublicKey::from_pkcs1_rsa_der(ByteView der) {
  EVP_PKEY* pkey = nullptr;
  OSSL_DECODER_CTX* dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "DER", "type-specific", "RSA", EVP_PKEY_PUBLIC_KEY,
                                                         nullptr, nullptr);
  if (!dctx) return internal_error("cannot create an RSA key decoder");
  const unsigned char* data = der.data();
  size_t len = der.size();
  int rc = OSSL_DECODER_from_data(dctx, &data, &len);
  OSSL_DECODER_CTX_free(dctx);
  if (rc != 1 || !pkey || len != 0) {
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    return invalid_input("not a DER PKCS#1 RSA public key");
  }
  return adopt(pkey);
}

Result<PublicKey> PublicKey::from_raw_ed25519(ByteView raw) {
  if (raw.size() != 32) return invalid_input("Ed25519 public key must be 32 bytes");
  EVP_PKEY* pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, raw.data(), raw.size());
  if (!pkey) return invalid_input(fmt::format("bad Ed25519 key: {}", openssl_error()));
  return adopt(pkey);
}

HashAlgorithm PublicKey::default_hash() const { return hash_for(type_); }

std::string PublicKey::pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(bio.get(), key_.get());
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

Bytes PublicKey::raw_ed25519() const {
  Bytes out(32);
  size_t len = out.size();
  if (type_ != KeyType::kEd25519 || !EVP_PKEY_get_raw_public_key(key_.get(), out.data(), &len)) return {};
  return out;
}

bool PublicKey::equals(const PublicKey& other) const { return bytes_equal(*der_, *other.der_); }

Status PublicKey::verify(ByteView message, ByteView signature, HashAlgorithm hash, RsaPadding padding) const {
  // ECDSA and RSA sign a digest: hashing here and verifying the digest is what EVP_DigestVerify
  // does, with a context that can be kept. Ed25519 signs the message itself.
  if (type_ != KeyType::kEd25519) return verify_digest(digest(hash, message), signature, hash, padding);
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!key_ || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1)
    return internal_error(fmt::format("signature verification setup failed: {}", openssl_error()));
  int rc = EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(), message.size());
  ERR_clear_error();
  if (rc != 1) return verification_failed(fmt::format("{} signature does not verify", key_type_name(type_)));
  return ok_status();
}

Status PublicKey::verify_digest(ByteView digest_bytes, ByteView signature, HashAlgorithm hash,
                                RsaPadding padding) const {
  if (type_ == KeyType::kEd25519) return invalid_input("Ed25519 cannot verify a prehashed digest");
  if (digest_bytes.size() != hash_size(hash)) return invalid_input("digest length does not match its algorithm");
  if (!key_) return internal_error("signature verification setup failed: no key");
  EvpPkeyCtxPtr ctx(contexts_ ? contexts_->take(hash, padding) : nullptr);
  if (!ctx) {
    ctx.reset(EVP_PKEY_CTX_new_from_pkey(nullptr, key_.get(), nullptr));
    if (!ctx || EVP_PKEY_verify_init(ctx.get()) != 1 || EVP_PKEY_CTX_set_signature_md(ctx.get(), evp_md(hash)) != 1)
      return internal_error(fmt::format("signature verification setup failed: {}", openssl_error()));
    VOUCH_RETURN_IF_ERROR(set_padding(ctx.get(), type_, padding));
  }
  int rc = EVP_PKEY_verify(ctx.get(), signature.data(), signature.size(), digest_bytes.data(), digest_bytes.size());
  ERR_clear_error();
  if (rc != 1) return verification_failed(fmt::format("{} signature does not verify", key_type_name(type_)));
  // Only a context that has just verified goes back for the next verification.
  if (contexts_) contexts_->give_back(hash, padding, std::move(ctx));
  return ok_status();
}

Result<PrivateKey> PrivateKey::generate(KeyType type) {
  EVP_PKEY* pkey = nullptr;
  switch (type) {
    case KeyType::kEcdsaP256: pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"); break;
    case KeyType::kEcdsaP384: pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"); break;
    case KeyType::kEcdsaP521: pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-521"); break;
    case KeyType::kRsa: pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(3072)); break;
    case KeyType::kEd25519: pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"); break;
  }
  if (!pkey) return internal_error(fmt::format("key generation failed: {}", openssl_error()));
  PrivateKey k;
  k.key_ = share(pkey);
  k.type_ = type;
  VOUCH_RETURN_IF_ERROR(k.derive_public_key());
  return k;
}

Result<PrivateKey> PrivateKey::from_pem(std::string_view pem) {
  if (pem.size() > 1 << 20) return invalid_input("PEM private key too large");
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  // An empty passphrase callback keeps OpenSSL from prompting on encrypted PEM.
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr);
  if (!pkey) {
    ERR_clear_error();
    return invalid_input("not an unencrypted PEM private key");
  }
  return adopt(pkey);
}

Result<PrivateKey> PrivateKey::from_pkcs8_der(ByteView der) {
  const unsigned char* p = der.data();
  EVP_PKEY* pkey = d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(der.size()));
  if (!pkey) {
    ERR_clear_error();
    return invalid_input("not a DER PKCS#8 private key");
  }
  return adopt(pkey);
}

HashAlgorithm PrivateKey::default_hash() const { return hash_for(type_); }

PublicKey PrivateKey::public_key() const { return public_key_ ? *public_key_ : PublicKey(); }

Bytes PrivateKey::pkcs8_der() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  i2d_PKCS8PrivateKey_bio(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return Bytes(data, data + len);
}

std::string PrivateKey::pkcs8_pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PKCS8PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

Result<Bytes> PrivateKey::sign(ByteView message, HashAlgorithm hash) const {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  const EVP_MD* md = type_ == KeyType::kEd25519 ? nullptr : evp_md(hash);
  if (EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, key_.get()) != 1)
    return internal_error(fmt::format("signing setup failed: {}", openssl_error()));
  VOUCH_RETURN_IF_ERROR(set_padding(pctx, type_, RsaPadding::kPkcs1v15));
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, message.data(), message.size()) != 1)
    return internal_error(fmt::format("signing failed: {}", openssl_error()));
  Bytes sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) != 1)
    return internal_error(fmt::format("signing failed: {}", openssl_error()));
  sig.resize(len);
  return sig;
}

Result<PrivateKey> load_or_create_private_key(const std::filesystem::path& path, KeyType type, bool* created) {
  if (created) *created = false;
  std::error_code ec;
  if (std::filesystem::symlink_status(path, ec).type() != std::filesystem::file_type::not_found) {
    VOUCH_ASSIGN_OR_RETURN(std::string pem, read_file(path));
    auto key = PrivateKey::from_pem(pem);
    if (!key.ok()) return std::move(key).error().context(path.string());
    return key;
  }
  VOUCH_ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::generate(type));
  VOUCH_RETURN_IF_ERROR(write_file_atomic(path, key.pkcs8_pem(), 0600));
  if (created) *created = true;
  return key;
}

}  // namespace vouch::crypto
