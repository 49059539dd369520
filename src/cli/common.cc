#include "cli/common.h"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "vouch/base/json.h"

namespace vouch::cli {

int exit_code_for(const Error& error) {
  return error.code == ErrorCode::kVerification ? kExitFailed : kExitUsage;
}

std::string printable_line(std::string_view text) {
  std::string line;
  line.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n' || c == '\r' || c == '\t') {
      line.push_back(' ');
    } else if (c < 0x20 || c == 0x7f) {
      line += fmt::format("\\x{:02x}", c);
    } else if (c == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      // A C1 control character (U+0080..U+009F; U+009B starts a terminal escape sequence).
      line += fmt::format("\\u{:04x}", static_cast<unsigned char>(text[++i]));
    } else {
      line.push_back(static_cast<char>(c));
    }
  }
  return line;
}

int report(const Error& error) {
  fmt::print(stderr, "vouch: {}\n", printable_line(error.message));
  return exit_code_for(error);
}

void print_json(const boost::json::value& value) { std::cout << json::pretty(value) << std::flush; }

bool stdout_is_terminal() { return ::isatty(STDOUT_FILENO) == 1; }

namespace {
Result<std::string> prompt(const char* text) {
  FILE* tty = std::fopen("/dev/tty", "r+");
  if (!tty) return invalid_input("no password: set COSIGN_PASSWORD or run on a terminal");
  std::fputs(text, tty);
  std::fflush(tty);
  termios old {};
  int fd = fileno(tty);
  bool restore = tcgetattr(fd, &old) == 0;
  if (restore) {
    termios silent = old;
    silent.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(fd, TCSAFLUSH, &silent);
  }
  char buf[1024];
  bool got = std::fgets(buf, sizeof buf, tty) != nullptr;
  if (restore) tcsetattr(fd, TCSAFLUSH, &old);
  std::fputs("\n", tty);
  std::fclose(tty);
  if (!got) return invalid_input("no password was entered");
  std::string s(buf);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}
}  // namespace

Result<std::string> read_password(bool confirm) {
  if (const char* env = std::getenv("COSIGN_PASSWORD")) return std::string(env);
  VOUCH_ASSIGN_OR_RETURN(std::string first, prompt("Enter password for private key: "));
  if (!confirm) return first;
  VOUCH_ASSIGN_OR_RETURN(std::string second, prompt("Enter password for private key again: "));
  if (first != second) return invalid_input("passwords do not match");
  return first;
}

}  // namespace vouch::cli
