// Pieces shared by the store implementations.
#pragma once

#include <cstdio>
#include <filesystem>

#include "vouch/oci/store.h"

namespace vouch::oci::detail {

// Reads a file from its start (or from a FILE* position).
class FileReader final : public BlobReader {
 public:
  explicit FileReader(std::FILE* f) : f_(f) {}
  ~FileReader() override {
    if (f_) std::fclose(f_);
  }
  Result<size_t> read(std::span<uint8_t> out) override {
    size_t n = std::fread(out.data(), 1, out.size(), f_);
    if (n == 0 && std::ferror(f_)) return io_error("read error");
    return n;
  }

 private:
  std::FILE* f_;
};

Result<std::unique_ptr<BlobReader>> open_file_reader(const std::filesystem::path& path);

// Streams `from` into a new file beside `path` and renames it into place once the digest
// and size check out (a verifying reader fails at the end otherwise); nothing is left on failure.
Status write_blob_file(const std::filesystem::path& path, BlobReader& from);

// Whether `path` holds the blob `d` so that it can be reused: a regular file (not a symlink,
// not a device) of the descriptor's size whose content has its digest. Anything else there is
// not trusted and gets replaced by write_blob_file.
Result<bool> blob_file_intact(const std::filesystem::path& path, const Descriptor& d);

// Reads a manifest blob fully and parses it, checked against the descriptor.
Result<Manifest> manifest_from_reader(BlobReader& reader, const Descriptor& d, std::string_view where);

// One per transport, behind open_store.
Result<std::unique_ptr<Store>> make_layout_store(const ImageRef& ref, bool for_writing);
Result<std::unique_ptr<Store>> make_dir_store(const ImageRef& ref, bool for_writing);
Result<std::unique_ptr<Store>> make_archive_store(const ImageRef& ref, bool for_writing);
Result<std::unique_ptr<Store>> make_registry_store(const ImageRef& ref, const StoreOptions& options, bool for_writing);

}  // namespace vouch::oci::detail
