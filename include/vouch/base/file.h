// File I/O that bounds what it reads and never leaves a partial file behind.
#pragma once

#include <filesystem>
#include <string>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"

namespace vouch {

constexpr size_t kDefaultMaxFileBytes = 256 * 1024 * 1024;

// Reads a regular file (following symbolic links), at most `max_bytes`. Anything else (a
// directory, FIFO, device or socket) is refused at once with an invalid-input error, so that a
// FIFO with no writer or an endless device never blocks or fills memory.
Result<std::string> read_file(const std::filesystem::path& path, size_t max_bytes = kDefaultMaxFileBytes);

// As read_file, for trees that must not lead elsewhere: a symbolic link is not followed and
// anything but a regular file is refused.
Result<std::string> read_regular_file_no_follow(const std::filesystem::path& path,
                                                size_t max_bytes = kDefaultMaxFileBytes);

// Writes to a temporary file in the same directory, fsyncs it and renames it into place,
// so readers see either the old file or the whole new one. `mode` applies to the new file.
// Only a new path or an existing regular file is written: a directory, device, FIFO or socket
// (or a symbolic link to one) is refused with an invalid-input error and left alone.
Status write_file_atomic(const std::filesystem::path& path, std::string_view contents,
                         unsigned mode = 0644);

}  // namespace vouch
