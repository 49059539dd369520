#include "cli/common.h"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/crypto/cosign_key.h"

namespace vouch::cli {

int exit_code_for(const Error& error) {
  return error.code == ErrorCode::kVerification ? kExitFailed : kExitUsage;
}

int report(const Error& error) {
  std::string line = error.message;
  for (char& c : line)
    if (c == '\n' || c == '\r') c = ' ';
  fmt::print(stderr, "vouch: {}\n", line);
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

Result<crypto::PrivateKey> load_private_key(const std::string& path) {
  VOUCH_ASSIGN_OR_RETURN(std::string pem, read_file(path, 1 << 20));
  std::string password;
  if (pem.find("ENCRYPTED") != std::string::npos) {
    VOUCH_ASSIGN_OR_RETURN(password, read_password(false));
  }
  auto key = crypto::decrypt_cosign_private_key(pem, password);
  if (!key.ok()) return std::move(key).error().context(path);
  return key;
}

}  // namespace vouch::cli
