// Random bytes from OpenSSL's CSPRNG, for nonces, serial numbers and secrets, and the comparison
// that checks a presented secret without telling by its timing how much of it was right.
#pragma once

#include <cstddef>
#include <string_view>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"

namespace vouch::crypto {

// `count` random bytes; an error only when the generator cannot be seeded.
Result<Bytes> random_bytes(size_t count);

// Whether two secrets are equal, in time that depends only on their lengths.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace vouch::crypto
