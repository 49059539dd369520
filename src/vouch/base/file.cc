#include "vouch/base/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

namespace vouch {

namespace {

// Reads an open file to its end, at most `max_bytes`; closes `fd`.
Result<std::string> read_all(int fd, const std::filesystem::path& path, size_t max_bytes) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return io_error(fmt::format("{}: {}", path.string(), std::strerror(e)));
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_bytes) {
      ::close(fd);
      return invalid_input(fmt::format("{}: larger than the limit of {} bytes", path.string(), max_bytes));
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

// What a file that is not a regular file is, for error messages.
std::string_view file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

}  // namespace

Result<std::string> read_file(const std::filesystem::path& path, size_t max_bytes) {
  // O_NONBLOCK: opening a FIFO with no writer must not hang; it is refused below.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return not_found(fmt::format("{}: no such file", path.string()));
    return io_error(fmt::format("{}: {}", path.string(), std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return io_error(fmt::format("{}: {}", path.string(), std::strerror(e)));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    std::string_view kind = file_kind(st.st_mode);
    return invalid_input(fmt::format("{}: {}{}", path.string(), kind.starts_with("not ") ? "" : "is ", kind));
  }
  return read_all(fd, path, max_bytes);
}

Result<std::string> read_regular_file_no_follow(const std::filesystem::path& path, size_t max_bytes) {
  // O_NONBLOCK: opening a FIFO must not hang; it is refused below.
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return io_error(fmt::format("{}: {}", path.string(), std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return io_error(fmt::format("{}: not a regular file", path.string()));
  }
  return read_all(fd, path, max_bytes);
}

namespace {

// write_file_atomic replaces only a regular file (or a symbolic link): renaming over a device
// node, a FIFO or a socket would replace it with a regular file, and a directory cannot be
// replaced. A symbolic link to anything but a regular file is refused too, since the user meant
// what it points to.
Status check_replaceable(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return ok_status();  // a new file (or a dangling link, which is replaced)
    return io_error(fmt::format("{}: {}", path.string(), std::strerror(errno)));
  }
  if (S_ISREG(st.st_mode)) return ok_status();
  std::string_view kind = file_kind(st.st_mode);
  return invalid_input(fmt::format("{}: {}{}; not writing over it (give a regular file)", path.string(),
                                   kind.starts_with("not ") ? "" : "is ", kind));
}

}  // namespace

Status write_file_atomic(const std::filesystem::path& path, std::string_view contents, unsigned mode) {
  VOUCH_RETURN_IF_ERROR(check_replaceable(path));
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  std::random_device rd;
  std::filesystem::path tmp = dir / fmt::format(".{}.tmp-{:08x}", path.filename().string(), rd());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return io_error(fmt::format("{}: {}", path.string(), std::strerror(errno)));
  auto fail = [&](int e) -> Status {
    ::close(fd);
    ::unlink(tmp.c_str());
    return io_error(fmt::format("{}: {}", path.string(), std::strerror(e)));
  };
  size_t off = 0;
  while (off < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + off, contents.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno);
    }
    off += static_cast<size_t>(n);
  }
  if (::fchmod(fd, mode) != 0) return fail(errno);
  if (::fsync(fd) != 0) return fail(errno);
  if (::close(fd) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return io_error(fmt::format("{}: {}", path.string(), std::strerror(e)));
  }
  // Again just before the rename, in case the path changed while the file was written.
  if (Status st = check_replaceable(path); !st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return io_error(fmt::format("{}: {}", path.string(), std::strerror(e)));
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return ok_status();
}

}  // namespace vouch
