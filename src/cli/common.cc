#include "cli/common.h"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/crypto/cosign_key.h"
#include "vouch/net/http.h"
#include "vouch/sigstore/trusted_root.h"
#include "vouch/tuf/sigstore_trust.h"

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

void TrustedRootFlags::add(CLI::App* cmd, const std::string& help) {
  cmd->add_option("--trusted-root", paths, help + " (repeatable: every root given is trusted)")->allow_extra_args(false);
}

namespace {
Result<sigstore::TrustedRoot> read_trusted_root(const std::string& path) {
  VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(path, 16 << 20));
  // cosign reads SIGSTORE_ROOT_FILE as PEM certificates; a trusted root is JSON.
  auto first = text.find_first_not_of(" \t\r\n");
  auto root = first != std::string::npos && text[first] == '-' ? sigstore::trusted_root_from_certificates(text)
                                                                : sigstore::parse_trusted_root(text);
  if (!root.ok()) return std::move(root).error().context(path);
  return root;
}
// "40 s", "12 min", "5 h", "3 days".
std::string age_text(int64_t seconds) {
  if (seconds < 120) return fmt::format("{} s", seconds);
  if (seconds < 7200) return fmt::format("{} min", seconds / 60);
  if (seconds < 172800) return fmt::format("{} h", seconds / 3600);
  return fmt::format("{} days", seconds / 86400);
}

}  // namespace

Result<std::shared_ptr<const sigstore::TrustedMaterial>> TrustedRootFlags::load() const {
  std::vector<std::string> files = paths;
  if (files.empty())
    if (const char* env = std::getenv("SIGSTORE_ROOT_FILE"); env && *env) files.push_back(env);
  if (files.empty()) return std::shared_ptr<const sigstore::TrustedMaterial>();
  std::vector<std::shared_ptr<const sigstore::TrustedMaterial>> roots;
  for (const auto& path : files) {
    VOUCH_ASSIGN_OR_RETURN(sigstore::TrustedRoot root, read_trusted_root(path));
    roots.push_back(std::make_shared<const sigstore::TrustedRoot>(std::move(root)));
  }
  if (roots.size() == 1) return roots.front();
  return std::shared_ptr<const sigstore::TrustedMaterial>(
      std::make_shared<const sigstore::TrustedMaterialCollection>(std::move(roots)));
}

Result<std::shared_ptr<const sigstore::TrustedMaterial>> TrustedRootFlags::load_or_tuf(
    bool needed, std::chrono::steady_clock::time_point deadline) const {
  VOUCH_ASSIGN_OR_RETURN(auto given, load());
  if (given || !needed) return given;
  net::ClientOptions http;
  http.deadline = deadline;
  auto trust = tuf::sigstore_trust(http);
  // Metadata that fails a check (a rollback, a freeze, a bad signature) is reported as such.
  if (!trust.ok() && trust.error().code == ErrorCode::kVerification) return std::move(trust).error();
  if (!trust.ok())
    return invalid_input(fmt::format("no trusted root: pass --trusted-root FILE, set SIGSTORE_ROOT_FILE or run vouch "
                                     "initialize ({})", trust.error().message));
  if (trust->offline) {
    std::string age = trust->refreshed_at ? fmt::format("refreshed {} ago", age_text(now_unix() - *trust->refreshed_at))
                                          : std::string("of unknown age");
    fmt::print(stderr, "vouch: using the cached trusted root from {} ({}{}); the mirror could not be reached: {}\n",
               trust->mirror, age, trust->stale ? ", its timestamp has expired" : "", printable_line(trust->offline_reason));
  }
  auto root = sigstore::parse_trusted_root(trust->trusted_root);
  if (!root.ok()) return std::move(root).error().context(fmt::format("trusted_root.json from TUF {}", trust->mirror));
  return std::shared_ptr<const sigstore::TrustedMaterial>(std::make_shared<const sigstore::TrustedRoot>(std::move(*root)));
}

void IdentityFlags::add(CLI::App* cmd) {
  cmd->add_option("--certificate-identity", identity, "Expected certificate identity (SAN), exact");
  cmd->add_option("--certificate-identity-regexp", identity_regexp, "Expected certificate identity, RE2 regexp");
  cmd->add_option("--certificate-oidc-issuer", issuer, "Expected OIDC issuer, exact");
  cmd->add_option("--certificate-oidc-issuer-regexp", issuer_regexp, "Expected OIDC issuer, RE2 regexp");
}

Result<std::vector<sigstore::CertificateIdentity>> IdentityFlags::identities() const {
  std::vector<sigstore::CertificateIdentity> out;
  bool has_identity = !identity.empty() || !identity_regexp.empty();
  bool has_issuer = !issuer.empty() || !issuer_regexp.empty();
  if (has_identity != has_issuer)
    return invalid_input("give both a certificate identity (--certificate-identity[-regexp]) and an OIDC issuer "
                         "(--certificate-oidc-issuer[-regexp])");
  if (!has_identity) return out;
  sigstore::CertificateIdentity id{sigstore::StringMatcher::exact(identity), sigstore::StringMatcher::exact(issuer)};
  if (!identity_regexp.empty()) {
    VOUCH_ASSIGN_OR_RETURN(id.subject_alternative_name, sigstore::StringMatcher::regexp(identity_regexp));
  }
  if (!issuer_regexp.empty()) {
    VOUCH_ASSIGN_OR_RETURN(id.issuer, sigstore::StringMatcher::regexp(issuer_regexp));
  }
  out.push_back(std::move(id));
  return out;
}

void TimeoutFlag::add(CLI::App* cmd) {
  cmd->add_option("-t,--timeout", seconds,
                  "Deadline for all of the command's registry and log requests, as cosign's --timeout: 90s, 5m, 1h (default 5m)")
      ->transform(CLI::AsNumberWithUnit(std::map<std::string, double>{{"ms", 0.001}, {"s", 1}, {"m", 60}, {"h", 3600}}))
      ->check(CLI::Validator(
          [](std::string& v) { return std::stod(v) > 0 ? std::string() : std::string("must be more than 0"); }, "> 0"))
      ->type_name("DURATION");
}

void add_output_flag(CLI::App* cmd, std::string& output, std::vector<std::string> formats, std::string_view note) {
  std::string help = "Output format: ";
  for (size_t i = 0; i < formats.size(); ++i)
    help += formats[i] + (i + 2 < formats.size() ? ", " : i + 2 == formats.size() ? " or " : "");
  if (!note.empty()) help += fmt::format(" ({})", note);
  cmd->add_option("-o,--output", output, help)->check(CLI::IsMember(formats))->capture_default_str();
}

void on_run(CLI::App* cmd, int& exit_code, std::function<Status()> run) {
  cmd->callback([run = std::move(run), &exit_code] {
    Status st = run();
    exit_code = st.ok() ? kExitOk : report(st.error());
  });
}

void server_log(std::string_view msg, boost::json::object fields) {
  fields["time"] = format_rfc3339(now_unix());
  fields["level"] = "info";
  fields["msg"] = msg;
  fmt::print(stderr, "{}\n", json::serialize(fields));
}

Result<std::optional<oci::Reference>> signature_repository() {
  const char* env = std::getenv("COSIGN_REPOSITORY");
  if (!env || !*env) return std::optional<oci::Reference>();
  auto ref = oci::parse_reference_no_default_tag(env);
  if (!ref.ok()) return std::move(ref).error().context("COSIGN_REPOSITORY");
  if (ref->tag || ref->digest) return invalid_input("COSIGN_REPOSITORY: give a repository, without tag or digest");
  return std::optional<oci::Reference>(*ref);
}

}  // namespace vouch::cli
