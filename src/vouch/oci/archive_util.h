// libarchive over a BlobReader, and the path checks every tar entry goes through.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <string>
#include <vector>

#include "vouch/oci/store.h"

namespace vouch::oci::detail {

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveDeleter>;

// Reads `source` through libarchive: tar (any compression) when `tar`, else raw decompression.
Result<ArchivePtr> open_archive_reader(BlobReader& source, bool tar);

// Reads the tar file at `path` (any compression) through libarchive, which skips the data of
// entries not read by seeking.
Result<ArchivePtr> open_archive_file(const std::string& path);

// Reads a layer (a tar, gzip- or zstd-compressed or plain) through libarchive, with gzip
// inflated by isa-l.
Result<ArchivePtr> open_layer_reader(BlobReader& source);

// Splits a tar entry name into clean components ("./a//b/" -> {"a","b"}); fails for absolute
// paths and ".." components.
Result<std::vector<std::string>> safe_entry_path(std::string_view name);

std::string archive_error(archive* a);

}  // namespace vouch::oci::detail
