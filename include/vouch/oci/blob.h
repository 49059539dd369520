// A blob's bytes as they arrive: read in pieces, checked against the descriptor that names them
// (digest and size) before the last piece is handed out, wherever they come from (a registry, a
// layout's file, a tarball, memory).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "vouch/base/result.h"
#include "vouch/oci/manifest.h"

namespace vouch::oci {

// Pull-based reading of a blob. A verifying reader returns an error instead of the final 0
// when the bytes do not match the descriptor's digest or size, and fails as soon as more
// bytes than the size arrive.
class BlobReader {
 public:
  virtual ~BlobReader() = default;
  virtual Result<size_t> read(std::span<uint8_t> out) = 0;
};

std::unique_ptr<BlobReader> verifying_reader(std::unique_ptr<BlobReader> raw, const Descriptor& expected,
                                             std::string what);
// A reader over bytes in memory: `bytes_reader` keeps its own copy; `view_reader` reads bytes
// that must outlive it.
std::unique_ptr<BlobReader> bytes_reader(std::string bytes);
std::unique_ptr<BlobReader> view_reader(std::string_view bytes);
// Reads the whole blob into memory, refusing more than max_bytes.
Result<std::string> read_all(BlobReader& reader, size_t max_bytes, std::string_view what);

}  // namespace vouch::oci
