#include "vouch/oci/store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "store_common.h"

namespace vouch::oci {
std::string digest_tag(const Digest& d, std::string_view suffix) {
  return fmt::format("{}-{}{}", d.algorithm(), d.hex(), suffix);
}

namespace detail {

Result<std::unique_ptr<BlobReader>> open_file_reader(const std::filesystem::path& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return not_found(fmt::format("{}: cannot open", path.string()));
  return std::unique_ptr<BlobReader>(std::make_unique<FileReader>(f));
}

Result<bool> blob_file_intact(const std::filesystem::path& path, const Descriptor& d) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return false;  // missing, a symlink, or unreadable: written anew
  struct stat st {};
  bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (d.size < 0 || st.st_size == d.size);
  if (!regular) {
    ::close(fd);
    return false;
  }
  Digester digester(d.digest.algorithm());
  std::vector<uint8_t> buf(256 * 1024);
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    digester.update(ByteView(buf.data(), static_cast<size_t>(n)));
  }
  ::close(fd);
  return digester.finish() == d.digest;
}

Status write_blob_file(const std::filesystem::path& path, BlobReader& from) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return io_error(fmt::format("{}: {}", path.parent_path().string(), ec.message()));
  std::string tmp = path.string() + fmt::format(".tmp-{}", std::random_device{}());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return io_error(fmt::format("{}: cannot create", tmp));
  std::vector<uint8_t> buf(256 * 1024);
  Status result;
  for (;;) {
    auto n = from.read(buf);
    if (!n.ok()) {
      result = std::move(n).error();
      break;
    }
    if (*n == 0) break;
    size_t off = 0;
    while (off < *n) {
      ssize_t w = ::write(fd, buf.data() + off, *n - off);
      if (w <= 0) {
        result = io_error(fmt::format("{}: write failed", tmp));
        break;
      }
      off += static_cast<size_t>(w);
    }
    if (!result.ok()) break;
  }
  if (result.ok() && ::fsync(fd) != 0) result = io_error(fmt::format("{}: fsync failed", tmp));
  ::close(fd);
  // rename() replaces whatever file or symlink is at `path` in one step (a symlink itself, never
  // its target); a directory in the way is an error.
  if (result.ok() && std::rename(tmp.c_str(), path.c_str()) != 0)
    result = io_error(fmt::format("{}: cannot put the blob in place: {}", path.string(), std::strerror(errno)));
  if (!result.ok()) ::unlink(tmp.c_str());
  return result;
}

Result<Manifest> manifest_from_reader(BlobReader& reader, const Descriptor& d, std::string_view where) {
  if (d.size > static_cast<int64_t>(kMaxManifestBytes))
    return invalid_input(fmt::format("{}: manifest {} of {} bytes exceeds the limit of {} bytes", where, d.digest.str(),
                                     d.size, kMaxManifestBytes));
  VOUCH_ASSIGN_OR_RETURN(std::string bytes, read_all(reader, kMaxManifestBytes, fmt::format("{}: manifest", where)));
  auto m = parse_manifest(std::move(bytes), d.media_type);
  if (!m.ok()) return std::move(m).error().context(fmt::format("{}: manifest {}", where, d.digest.str()));
  return m;
}

}  // namespace detail

Result<std::unique_ptr<Store>> open_store(const ImageRef& ref, const StoreOptions& options, bool for_writing) {
  switch (ref.transport) {
    case Transport::kOciLayout: return detail::make_layout_store(ref, for_writing);
    case Transport::kDir: return detail::make_dir_store(ref, for_writing);
    case Transport::kDockerArchive: return detail::make_archive_store(ref, for_writing);
    case Transport::kRegistry: return detail::make_registry_store(ref, options, for_writing);
  }
  return internal_error("unknown transport");
}

}  // namespace vouch::oci
