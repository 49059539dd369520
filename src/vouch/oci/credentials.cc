#include "vouch/oci/credentials.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>

#include "vouch/base/file.h"
#include "vouch/base/json.h"

namespace vouch::oci {
namespace {

using json::Node;

// Runs "docker-credential-<helper> get" with the server URL on stdin.
Result<Credentials> run_credential_helper(const std::string& helper, const std::string& server) {
  for (char c : helper)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      return invalid_input(fmt::format("credential helper name '{}' is not valid", helper));
  std::string program = "docker-credential-" + helper;
  int in[2], out[2];
  if (pipe(in) != 0 || pipe(out) != 0) return io_error("credential helper: pipe failed");
  pid_t pid = fork();
  if (pid < 0) return io_error("credential helper: fork failed");
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, 2);
    close(in[1]);
    close(out[0]);
    execlp(program.c_str(), program.c_str(), "get", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  ssize_t w = write(in[1], server.data(), server.size());
  (void)w;
  close(in[1]);
  std::string output;
  char buf[4096];
  ssize_t n;
  while ((n = read(out[0], buf, sizeof buf)) > 0 && output.size() < (1 << 20)) output.append(buf, static_cast<size_t>(n));
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    if (output.find("credentials not found") != std::string::npos) return Credentials{};
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
      return not_found(fmt::format("credential helper {} is not on PATH", program));
    return io_error(fmt::format("credential helper {} failed for {}", program, server));
  }
  auto doc = json::parse(output, {.max_bytes = 1 << 20, .max_depth = 8});
  if (!doc.ok()) return std::move(doc).error().context(program);
  Node root = Node::root(*doc);
  Credentials c;
  VOUCH_ASSIGN_OR_RETURN(std::string user, root.get_string("Username"));
  VOUCH_ASSIGN_OR_RETURN(std::string secret, root.get_string("Secret"));
  if (user == "<token>") {
    c.identity_token = secret;
  } else {
    c.username = user;
    c.password = secret;
  }
  return c;
}

std::vector<std::string> config_keys(const std::string& registry) {
  std::vector<std::string> keys;
  if (registry == "docker.io") keys.emplace_back("https://index.docker.io/v1/");
  for (std::string_view prefix : {"", "https://", "http://"}) keys.emplace_back(std::string(prefix) + registry);
  keys.emplace_back("https://" + registry + "/v1/");
  keys.emplace_back("https://" + registry + "/v2/");
  if (registry == "docker.io") {
    keys.emplace_back("index.docker.io");
    keys.emplace_back("registry-1.docker.io");
  }
  return keys;
}

}  // namespace

std::string default_docker_config_path() {
  if (const char* d = std::getenv("DOCKER_CONFIG")) return std::string(d) + "/config.json";
  if (const char* h = std::getenv("HOME")) return std::string(h) + "/.docker/config.json";
  return {};
}

Result<Credentials> credentials_from_docker_config(const std::string& config_path, const std::string& registry) {
  if (config_path.empty()) return Credentials{};
  auto text = read_file(config_path, 4 << 20);
  if (!text.ok()) {
    if (text.error().code == ErrorCode::kNotFound || text.error().code == ErrorCode::kIo) return Credentials{};
    return std::move(text).error();
  }
  auto doc = json::parse(*text, {.max_bytes = 4 << 20, .max_depth = 16});
  if (!doc.ok()) return std::move(doc).error().context(config_path);
  Node root = Node::root(*doc);
  auto keys = config_keys(registry);
  if (auto helpers = root.find("credHelpers"))
    for (const auto& k : keys)
      if (auto h = helpers->find(k)) {
        VOUCH_ASSIGN_OR_RETURN(std::string name, h->string());
        return run_credential_helper(name, registry == "docker.io" ? "https://index.docker.io/v1/" : registry);
      }
  if (auto auths = root.find("auths"))
    for (const auto& k : keys)
      if (auto a = auths->find(k)) {
        Credentials c;
        if (auto auth = a->find("auth")) {
          VOUCH_ASSIGN_OR_RETURN(std::string b64, auth->string());
          auto raw = base64_decode(b64);
          if (!raw.ok()) return invalid_input(fmt::format("{}: auths.{}.auth: not base64", config_path, k));
          std::string pair = to_string(*raw);
          size_t colon = pair.find(':');
          if (colon == std::string::npos) return invalid_input(fmt::format("{}: auths.{}.auth: expected user:password", config_path, k));
          c.username = pair.substr(0, colon);
          c.password = pair.substr(colon + 1);
        }
        if (auto u = a->find("username")) { VOUCH_ASSIGN_OR_RETURN(c.username, u->string()); }
        if (auto p = a->find("password")) { VOUCH_ASSIGN_OR_RETURN(c.password, p->string()); }
        if (auto t = a->find("identitytoken")) { VOUCH_ASSIGN_OR_RETURN(c.identity_token, t->string()); }
        if (!c.empty()) return c;
      }
  if (auto store = root.find("credsStore")) {
    VOUCH_ASSIGN_OR_RETURN(std::string name, store->string());
    if (!name.empty()) return run_credential_helper(name, registry == "docker.io" ? "https://index.docker.io/v1/" : registry);
  }
  return Credentials{};
}

}  // namespace vouch::oci
