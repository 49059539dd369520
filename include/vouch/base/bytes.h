// Byte buffers and their textual encodings (hex, standard and URL-safe base64).
// Decoders are strict: they reject anything that is not the canonical encoding.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vouch/base/result.h"

namespace vouch {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_chars(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline Bytes to_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }
inline std::string to_string(ByteView b) { return std::string(as_chars(b)); }

std::string hex_encode(ByteView data);
Result<Bytes> hex_decode(std::string_view text);  // accepts upper and lower case

std::string base64_encode(ByteView data);
std::string base64url_encode(ByteView data, bool pad = false);
// Standard alphabet with padding (as protojson and PEM write it).
Result<Bytes> base64_decode(std::string_view text);
// URL-safe alphabet; padding optional (JWTs omit it).
Result<Bytes> base64url_decode(std::string_view text);

// protobuf JSON `bytes` fields: standard or URL-safe alphabet, padding optional (as protojson).
Result<Bytes> protojson_bytes_decode(std::string_view text);

// Constant-time equality for secrets and digests.
bool bytes_equal(ByteView a, ByteView b);

}  // namespace vouch
