// Message digests (SHA-2 family) over bytes, one shot or streamed.
#pragma once

#include <memory>
#include <string_view>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"

namespace vouch::crypto {

enum class HashAlgorithm { kSha256, kSha384, kSha512 };

std::string_view hash_name(HashAlgorithm alg);  // "sha256"
size_t hash_size(HashAlgorithm alg);
Result<HashAlgorithm> hash_from_name(std::string_view name);  // "sha256", "SHA2_256", ...

Bytes digest(HashAlgorithm alg, ByteView data);
inline Bytes sha256(ByteView data) { return digest(HashAlgorithm::kSha256, data); }
inline Bytes sha256(std::string_view data) { return sha256(as_bytes(data)); }

class Hasher {
 public:
  explicit Hasher(HashAlgorithm alg);
  ~Hasher();
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;
  void update(ByteView data);
  Bytes finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vouch::crypto
