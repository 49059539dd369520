#include "cli/output.h"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <streambuf>

namespace vouch::cli {
namespace {

std::atomic<bool> reader_gone{false};
std::atomic<int> write_errno{0};

// The cookie writer behind the replacement stdout FILE: everything goes to fd 1 in full.
ssize_t write_stdout(void*, const char* data, size_t size) {
  if (reader_gone) return static_cast<ssize_t>(size);  // nobody reads: the rest is dropped
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::write(STDOUT_FILENO, data + done, size - done);
    if (n >= 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EPIPE) {
      reader_gone = true;
      return static_cast<ssize_t>(size);
    }
    write_errno = errno;
    return -1;
  }
  return static_cast<ssize_t>(size);
}

// std::cout writes into the same FILE, so that its output and fmt's stay in order.
class StdioBuf : public std::streambuf {
 protected:
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    return std::fputc(c, stdout) == EOF ? traits_type::eof() : c;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    return static_cast<std::streamsize>(std::fwrite(s, 1, static_cast<size_t>(n), stdout));
  }
  int sync() override { return std::fflush(stdout) == 0 ? 0 : -1; }
};

}  // namespace

void install_stdout_writer() {
  // A closed pipe then shows up as EPIPE from write(2), which the writer handles, instead of a
  // signal that kills the process mid-way (and, under `set -o pipefail`, fails the pipeline).
  std::signal(SIGPIPE, SIG_IGN);
  cookie_io_functions_t io{};
  io.write = write_stdout;
  FILE* file = fopencookie(nullptr, "w", io);
  if (file == nullptr) return;  // keep the plain stdout; only the EPIPE nicety is lost
  std::fflush(stdout);
  if (::isatty(STDOUT_FILENO) == 1) std::setvbuf(file, nullptr, _IOLBF, BUFSIZ);
  stdout = file;
  // Never destroyed: std::cout is flushed by the library's own static destructors at exit, which
  // may run after this file's statics are gone.
  static StdioBuf* const buf = new StdioBuf;
  std::cout.rdbuf(buf);
}

bool stdout_reader_gone() { return reader_gone; }

int finish_stdout(int exit_code) {
  std::cout.flush();
  bool failed = std::fflush(stdout) != 0 || std::ferror(stdout) != 0 || write_errno != 0;
  if (!failed || reader_gone) return exit_code;
  int err = write_errno != 0 ? write_errno.load() : EIO;
  fmt::print(stderr, "vouch: writing standard output: {}\n", std::strerror(err));
  return exit_code == 0 ? 2 : exit_code;
}

}  // namespace vouch::cli
