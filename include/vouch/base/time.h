// Points in time as Unix seconds, and RFC 3339 text as protobuf's JSON Timestamp writes it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "vouch/base/result.h"

namespace vouch {

using UnixSeconds = int64_t;

// Parses "2021-10-07T13:56:59Z" or "2021-10-07T13:56:59.123+02:00"; fractional seconds are
// truncated (validity windows are compared at one-second resolution, as X.509 times are).
Result<UnixSeconds> parse_rfc3339(std::string_view text);
std::string format_rfc3339(UnixSeconds t);
UnixSeconds now_unix();

}  // namespace vouch
