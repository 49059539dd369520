// Internal helpers shared by the cosign module's signing and verification.
#pragma once

#include <memory>
#include <string>

#include "vouch/oci/manifest.h"
#include "vouch/oci/store.h"

namespace vouch::cosign::detail {

inline oci::Descriptor blob_descriptor(std::string_view media_type, const std::string& data) {
  oci::Descriptor d;
  d.media_type = std::string(media_type);
  d.digest = oci::Digest::sha256_of(as_bytes(data));
  d.size = static_cast<int64_t>(data.size());
  return d;
}

// Uploads `data` unless the store already has it.
inline Status put_bytes(oci::Store& store, const oci::Descriptor& d, const std::string& data) {
  VOUCH_ASSIGN_OR_RETURN(bool present, store.has_blob(d));
  if (present) return ok_status();
  auto reader = oci::view_reader(data);
  return store.put_blob(d, *reader);
}

// Reads a whole blob (digest and size checked by the store), refusing more than max_bytes.
inline Result<std::string> get_bytes(oci::Store& store, const oci::Descriptor& d, size_t max_bytes,
                                     std::string_view what) {
  if (d.size < 0 || static_cast<uint64_t>(d.size) > max_bytes)
    return invalid_input(fmt::format("{}: {} bytes exceeds the limit of {}", what, d.size, max_bytes));
  VOUCH_ASSIGN_OR_RETURN(auto reader, store.open_blob(d));
  return oci::read_all(*reader, max_bytes, what);
}

}  // namespace vouch::cosign::detail
