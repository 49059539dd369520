// Internal helpers shared by the cosign module's signing and verification.
#pragma once

#include <cstring>
#include <memory>
#include <string>

#include "vouch/oci/manifest.h"
#include "vouch/oci/store.h"

namespace vouch::cosign::detail {

// A BlobReader over bytes held in memory.
class MemoryReader final : public oci::BlobReader {
 public:
  explicit MemoryReader(std::string data) : data_(std::move(data)) {}
  Result<size_t> read(std::span<uint8_t> out) override {
    size_t n = std::min(out.size(), data_.size() - pos_);
    if (n) std::memcpy(out.data(), data_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  std::string data_;
  size_t pos_ = 0;
};

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
  MemoryReader reader(data);
  return store.put_blob(d, reader);
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
