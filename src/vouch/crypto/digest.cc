#include "vouch/crypto/digest.h"

#include <openssl/evp.h>

#include "openssl_util.h"

namespace vouch::crypto {

std::string_view hash_name(HashAlgorithm alg) {
  switch (alg) {
    case HashAlgorithm::kSha256: return "sha256";
    case HashAlgorithm::kSha384: return "sha384";
    case HashAlgorithm::kSha512: return "sha512";
  }
  return "sha256";
}

size_t hash_size(HashAlgorithm alg) {
  switch (alg) {
    case HashAlgorithm::kSha256: return 32;
    case HashAlgorithm::kSha384: return 48;
    case HashAlgorithm::kSha512: return 64;
  }
  return 32;
}

Result<HashAlgorithm> hash_from_name(std::string_view name) {
  if (name == "sha256" || name == "SHA2_256" || name == "SHA256" || name == "sha-256") return HashAlgorithm::kSha256;
  if (name == "sha384" || name == "SHA2_384" || name == "SHA384" || name == "sha-384") return HashAlgorithm::kSha384;
  if (name == "sha512" || name == "SHA2_512" || name == "SHA512" || name == "sha-512") return HashAlgorithm::kSha512;
  return invalid_input(fmt::format("unsupported hash algorithm '{}'", name));
}

namespace {

// The provider's implementation, fetched once for the life of the process: given the built-in
// EVP_sha256(), OpenSSL 3 fetches it again on every digest and every signature context.
const EVP_MD* fetch_once(const char* name, const EVP_MD* builtin) {
  const EVP_MD* fetched = EVP_MD_fetch(nullptr, name, nullptr);
  if (!fetched) {
    ERR_clear_error();
    return builtin;
  }
  return fetched;
}

}  // namespace

const EVP_MD* evp_md(HashAlgorithm alg) {
  static const EVP_MD* const sha256 = fetch_once("SHA2-256", EVP_sha256());
  static const EVP_MD* const sha384 = fetch_once("SHA2-384", EVP_sha384());
  static const EVP_MD* const sha512 = fetch_once("SHA2-512", EVP_sha512());
  switch (alg) {
    case HashAlgorithm::kSha256: return sha256;
    case HashAlgorithm::kSha384: return sha384;
    case HashAlgorithm::kSha512: return sha512;
  }
  return sha256;
}

Bytes digest(HashAlgorithm alg, ByteView data) {
  Bytes out(hash_size(alg));
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, evp_md(alg), nullptr);
  return out;
}

struct Hasher::Impl {
  EvpMdCtxPtr ctx{EVP_MD_CTX_new()};
  HashAlgorithm alg;
};

Hasher::Hasher(HashAlgorithm alg) : impl_(std::make_unique<Impl>()) {
  impl_->alg = alg;
  EVP_DigestInit_ex(impl_->ctx.get(), evp_md(alg), nullptr);
}
Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::update(ByteView data) { EVP_DigestUpdate(impl_->ctx.get(), data.data(), data.size()); }

Bytes Hasher::finish() {
  Bytes out(hash_size(impl_->alg));
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->ctx.get(), out.data(), &len);
  return out;
}

}  // namespace vouch::crypto
