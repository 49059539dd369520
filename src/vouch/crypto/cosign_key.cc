#include "vouch/crypto/cosign_key.h"
#include "vouch/crypto/pem.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstdint>

#include "openssl_util.h"
#include "vouch/base/json.h"

namespace vouch::crypto {
namespace {

constexpr std::string_view kSigstorePemType = "ENCRYPTED SIGSTORE PRIVATE KEY";
constexpr std::string_view kCosignPemType = "ENCRYPTED COSIGN PRIVATE KEY";  // written by older cosign
constexpr std::string_view kKdfName = "scrypt";
constexpr std::string_view kCipherName = "nacl/secretbox";
constexpr size_t kMaxPemBytes = 1 << 20;
constexpr size_t kMaxDocumentBytes = 64 * 1024;  // an 8192-bit RSA key in PKCS#8 is under 5 KiB
constexpr size_t kSaltBytes = 32;                 // what go-securesystemslib writes
constexpr size_t kKeyBytes = crypto_secretbox_KEYBYTES;
constexpr size_t kNonceBytes = crypto_secretbox_NONCEBYTES;
static_assert(kKeyBytes == 32 && kNonceBytes == 24 && crypto_secretbox_MACBYTES == 16);

struct ScryptParams {
  uint64_t n;
  uint64_t r;
  uint64_t p;
};
// go-securesystemslib's Legacy (older cosign), Standard (its default, cosign today) and OWASP
// levels. Its Decrypt refuses every other combination; so do we.
constexpr std::array<ScryptParams, 3> kAcceptedParams{{{32768, 8, 1}, {65536, 8, 1}, {131072, 8, 1}}};
constexpr ScryptParams kDefaultParams{65536, 8, 1};
// OpenSSL needs about 128 * r * (N + 2) + 128 * r * p bytes: 128 MiB for the largest set above.
constexpr uint64_t kScryptMaxMem = 256ull << 20;

const Error& wrong_password() {
  static const Error e = verification_failed("cosign key: wrong password or corrupted key");
  return e;
}

Status sodium_ready() {
  static const int rc = sodium_init();
  if (rc < 0) return internal_error("libsodium failed to initialize");
  return ok_status();
}

// Key material that is wiped when it goes out of scope.
class Secret {
 public:
  explicit Secret(size_t n) : bytes_(n) {}
  ~Secret() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  uint8_t* data() { return bytes_.data(); }
  const uint8_t* data() const { return bytes_.data(); }
  size_t size() const { return bytes_.size(); }
  ByteView view() const { return bytes_; }

 private:
  Bytes bytes_;
};

Status derive_key(std::string_view password, ByteView salt, const ScryptParams& params, Secret& key) {
  if (EVP_PBE_scrypt_ex(password.data(), password.size(), salt.data(), salt.size(), params.n, params.r,
                        params.p, kScryptMaxMem, key.data(), key.size(), nullptr, nullptr) != 1)
    return internal_error(fmt::format("scrypt key derivation failed: {}", openssl_error()));
  return ok_status();
}

Result<std::string> string_field(const json::Node& parent, std::string_view key) {
  VOUCH_ASSIGN_OR_RETURN(json::Node node, parent.get(key));
  return node.string();
}

// Go's encoding/json reads []byte as standard base64 with padding.
Result<Bytes> base64_field(const json::Node& parent, std::string_view key) {
  VOUCH_ASSIGN_OR_RETURN(json::Node node, parent.get(key));
  VOUCH_ASSIGN_OR_RETURN(std::string text, node.string());
  auto decoded = base64_decode(text);
  if (!decoded.ok()) return node.error("invalid base64");
  return std::move(decoded).value();
}

// A JSON integer (not a string, not a fraction), as Go's encoding/json reads into an int.
Result<uint64_t> uint_field(const json::Node& parent, std::string_view key) {
  VOUCH_ASSIGN_OR_RETURN(json::Node node, parent.get(key));
  const auto& v = node.raw();
  if (v.is_uint64()) return v.get_uint64();
  if (v.is_int64() && v.get_int64() >= 0) return static_cast<uint64_t>(v.get_int64());
  return node.error("expected a non-negative integer");
}

struct EncryptedDocument {
  ScryptParams params{};
  Bytes salt;
  Bytes nonce;
  Bytes ciphertext;
};

Result<EncryptedDocument> parse_document(ByteView body) {
  VOUCH_ASSIGN_OR_RETURN(auto value, json::parse(as_chars(body), {.max_bytes = kMaxDocumentBytes, .max_depth = 8}));
  auto root = json::Node::root(value);
  if (!root.is_object()) return root.error("expected an object");
  EncryptedDocument doc;

  VOUCH_ASSIGN_OR_RETURN(json::Node kdf, root.get("kdf"));
  VOUCH_ASSIGN_OR_RETURN(std::string kdf_name, string_field(kdf, "name"));
  if (kdf_name != kKdfName)
    return invalid_input(fmt::format("kdf.name: unsupported key derivation function '{}' (want '{}')", kdf_name, kKdfName));
  VOUCH_ASSIGN_OR_RETURN(json::Node params, kdf.get("params"));
  VOUCH_ASSIGN_OR_RETURN(doc.params.n, uint_field(params, "N"));
  VOUCH_ASSIGN_OR_RETURN(doc.params.r, uint_field(params, "r"));
  VOUCH_ASSIGN_OR_RETURN(doc.params.p, uint_field(params, "p"));
  bool accepted = false;
  for (const auto& a : kAcceptedParams)
    accepted = accepted || (a.n == doc.params.n && a.r == doc.params.r && a.p == doc.params.p);
  if (!accepted)
    return invalid_input(fmt::format(
        "kdf.params: unsupported scrypt parameters N={}, r={}, p={} (want N=32768, 65536 or 131072 with r=8, p=1)",
        doc.params.n, doc.params.r, doc.params.p));
  VOUCH_ASSIGN_OR_RETURN(doc.salt, base64_field(kdf, "salt"));

  VOUCH_ASSIGN_OR_RETURN(json::Node cipher, root.get("cipher"));
  VOUCH_ASSIGN_OR_RETURN(std::string cipher_name, string_field(cipher, "name"));
  if (cipher_name != kCipherName)
    return invalid_input(fmt::format("cipher.name: unsupported cipher '{}' (want '{}')", cipher_name, kCipherName));
  VOUCH_ASSIGN_OR_RETURN(doc.nonce, base64_field(cipher, "nonce"));
  if (doc.nonce.size() != kNonceBytes)
    return invalid_input(fmt::format("cipher.nonce: {} bytes, want {}", doc.nonce.size(), kNonceBytes));

  VOUCH_ASSIGN_OR_RETURN(doc.ciphertext, base64_field(root, "ciphertext"));
  if (doc.ciphertext.size() < crypto_secretbox_MACBYTES)
    return invalid_input(fmt::format("ciphertext: {} bytes is shorter than the {}-byte authenticator",
                                     doc.ciphertext.size(), crypto_secretbox_MACBYTES));
  return doc;
}

// The plaintext must be PKCS#8 PrivateKeyInfo, as Go's x509.ParsePKCS8PrivateKey requires
// (cosign refuses a SEC 1 or PKCS#1 key inside the envelope, and so do we).
Result<PrivateKey> parse_pkcs8(ByteView der) {
  const unsigned char* p = der.data();
  PKCS8_PRIV_KEY_INFO* info = d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(der.size()));
  bool whole = info && p == der.data() + der.size();
  PKCS8_PRIV_KEY_INFO_free(info);
  ERR_clear_error();
  if (!whole) return invalid_input("decrypted key is not a DER PKCS#8 private key");
  return PrivateKey::from_pkcs8_der(der);
}

Result<PrivateKey> decrypt_envelope(ByteView body, std::string_view password) {
  VOUCH_RETURN_IF_ERROR(sodium_ready());
  VOUCH_ASSIGN_OR_RETURN(EncryptedDocument doc, parse_document(body));
  Secret key(kKeyBytes);
  VOUCH_RETURN_IF_ERROR(derive_key(password, doc.salt, doc.params, key));
  Secret plaintext(doc.ciphertext.size() - crypto_secretbox_MACBYTES);
  if (crypto_secretbox_open_easy(plaintext.data(), doc.ciphertext.data(), doc.ciphertext.size(), doc.nonce.data(),
                                 key.data()) != 0)
    return wrong_password();
  return parse_pkcs8(plaintext.view());
}

Result<std::string> encrypt_envelope(const PrivateKey& key, std::string_view password) {
  VOUCH_RETURN_IF_ERROR(sodium_ready());
  if (!key.get()) return invalid_input("no private key to encrypt");
  Bytes der = key.pkcs8_der();
  if (der.empty()) return internal_error("cannot encode the private key as PKCS#8");
  Secret plaintext(der.size());
  std::copy(der.begin(), der.end(), plaintext.data());
  OPENSSL_cleanse(der.data(), der.size());

  Bytes salt(kSaltBytes);
  Bytes nonce(kNonceBytes);
  randombytes_buf(salt.data(), salt.size());
  randombytes_buf(nonce.data(), nonce.size());
  Secret box_key(kKeyBytes);
  VOUCH_RETURN_IF_ERROR(derive_key(password, salt, kDefaultParams, box_key));
  Bytes ciphertext(plaintext.size() + crypto_secretbox_MACBYTES);
  if (crypto_secretbox_easy(ciphertext.data(), plaintext.data(), plaintext.size(), nonce.data(), box_key.data()) != 0)
    return internal_error("secretbox encryption failed");

  // Member order as Go's encoding/json writes go-securesystemslib's structs.
  json::bj::object params;
  params["N"] = kDefaultParams.n;
  params["r"] = kDefaultParams.r;
  params["p"] = kDefaultParams.p;
  json::bj::object kdf;
  kdf["name"] = kKdfName;
  kdf["params"] = std::move(params);
  kdf["salt"] = base64_encode(salt);
  json::bj::object cipher;
  cipher["name"] = kCipherName;
  cipher["nonce"] = base64_encode(nonce);
  json::bj::object doc;
  doc["kdf"] = std::move(kdf);
  doc["cipher"] = std::move(cipher);
  doc["ciphertext"] = base64_encode(ciphertext);
  std::string body = json::serialize(doc);

  // PEM with 64-character lines and no headers, as Go's pem.EncodeToMemory.
  BioPtr bio(BIO_new(BIO_s_mem()));
  std::string type(kSigstorePemType);
  if (!bio || PEM_write_bio(bio.get(), type.c_str(), "", reinterpret_cast<const unsigned char*>(body.data()),
                            static_cast<long>(body.size())) <= 0)
    return internal_error(fmt::format("PEM encoding failed: {}", openssl_error()));
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace

Result<PrivateKey> decrypt_cosign_private_key(std::string_view pem, std::string_view password) {
  if (pem.size() > kMaxPemBytes) return invalid_input("cosign key: PEM file larger than 1 MiB");
  auto read = read_pem_block(pem);
  if (!read.ok()) return std::move(read).error().context("cosign key");
  PemBlock block = std::move(read).value();
  if (block.type == kSigstorePemType || block.type == kCosignPemType) {
    if (!block.headers.empty()) return invalid_input(fmt::format("cosign key: unexpected PEM headers in {}", block.type));
    auto key = decrypt_envelope(block.der, password);
    OPENSSL_cleanse(block.der.data(), block.der.size());
    if (!key.ok() && key.error().code != ErrorCode::kVerification) return std::move(key).error().context("cosign key");
    return key;
  }
  OPENSSL_cleanse(block.der.data(), block.der.size());
  if (block.type == "PRIVATE KEY" || block.type == "EC PRIVATE KEY" || block.type == "RSA PRIVATE KEY") {
    auto key = PrivateKey::from_pem(pem);
    if (!key.ok()) return std::move(key).error().context("cosign key");
    return key;
  }
  return invalid_input(fmt::format("cosign key: unsupported PEM block type '{}' (want '{}')", block.type, kSigstorePemType));
}

Result<std::string> encrypt_cosign_private_key(const PrivateKey& key, std::string_view password) {
  auto result = encrypt_envelope(key, password);
  if (!result.ok()) return std::move(result).error().context("cosign key");
  return result;
}

}  // namespace vouch::crypto
