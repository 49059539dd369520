#include "archive_util.h"

namespace vouch::oci::detail {
namespace {

struct ReaderState {
  BlobReader* source;
  std::vector<uint8_t> buf = std::vector<uint8_t>(256 * 1024);
  std::string error;
};

la_ssize_t read_cb(archive* a, void* data, const void** out) {
  auto* s = static_cast<ReaderState*>(data);
  auto n = s->source->read(s->buf);
  if (!n.ok()) {
    s->error = n.error().message;
    archive_set_error(a, EIO, "%s", s->error.c_str());
    return -1;
  }
  *out = s->buf.data();
  return static_cast<la_ssize_t>(*n);
}

int close_cb(archive*, void* data) {
  delete static_cast<ReaderState*>(data);
  return ARCHIVE_OK;
}

}  // namespace

std::string archive_error(archive* a) {
  const char* e = archive_error_string(a);
  return e ? e : "unknown archive error";
}

Result<ArchivePtr> open_archive_reader(BlobReader& source, bool tar) {
  ArchivePtr a(archive_read_new());
  if (!a) return internal_error("libarchive: cannot allocate a reader");
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_zstd(a.get());
  archive_read_support_filter_none(a.get());
  if (tar) {
    archive_read_support_format_tar(a.get());
  } else {
    archive_read_support_format_raw(a.get());
  }
  auto* state = new ReaderState{&source, std::vector<uint8_t>(256 * 1024), {}};
  if (archive_read_open(a.get(), state, nullptr, read_cb, close_cb) != ARCHIVE_OK)
    return invalid_input(fmt::format("archive: {}", archive_error(a.get())));
  return a;
}

Result<std::vector<std::string>> safe_entry_path(std::string_view name) {
  if (name.empty()) return invalid_input("tar entry with an empty name");
  if (name.size() > 4096) return invalid_input("tar entry name longer than 4096 bytes");
  if (name.front() == '/') return invalid_input(fmt::format("tar entry '{}': absolute path refused", name.substr(0, 300)));
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= name.size()) {
    size_t slash = name.find('/', start);
    std::string_view part = name.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part == "..") return invalid_input(fmt::format("tar entry '{}': '..' in path refused", name.substr(0, 300)));
    if (part.find('\0') != std::string_view::npos) return invalid_input("tar entry name with a NUL byte");
    if (!part.empty() && part != ".") parts.emplace_back(part);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return parts;
}

}  // namespace vouch::oci::detail
