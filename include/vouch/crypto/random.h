// Random bytes from OpenSSL's CSPRNG, for nonces, serial numbers and secrets.
#pragma once

#include <cstddef>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"

namespace vouch::crypto {

// `count` random bytes; an error only when the generator cannot be seeded.
Result<Bytes> random_bytes(size_t count);

}  // namespace vouch::crypto
