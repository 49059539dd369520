#include "vouch/crypto/random.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <climits>

namespace vouch::crypto {

Result<Bytes> random_bytes(size_t count) {
  if (count > INT_MAX) return invalid_input("random_bytes: count too large");
  Bytes out(count);
  if (count > 0 && RAND_bytes(out.data(), static_cast<int>(count)) != 1)
    return internal_error("random_bytes: the random generator failed");
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace vouch::crypto
