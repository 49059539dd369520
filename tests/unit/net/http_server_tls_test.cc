// The server core over TLS, checked with vouch's own client and with real peers (curl, openssl
// s_client) against a throwaway CA and server certificates made by the openssl CLI.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../temp_dir.h"
#include "vouch/base/file.h"
#include "vouch/net/http.h"
#include "vouch/net/http_server.h"

namespace vouch::net {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct CommandResult {
  int status = -1;
  std::string output;  // stdout and stderr
};

CommandResult run(const std::string& command) {
  CommandResult r;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  int status = pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string quoted(const fs::path& path) { return "'" + path.string() + "'"; }

// A CA, two server certificates it issued for 127.0.0.1 and localhost (and a chain file for the
// first), and an expired one; made once for the suite.
class HttpServerTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<testing::TempDir>();
    const fs::path& d = dir_->path();
    ASSERT_TRUE(write_file_atomic(d / "ext.cnf",
                                  "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
                    .ok());
    std::string ec_key = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    std::vector<std::string> commands = {
        "openssl req -x509 " + ec_key + " -keyout " + quoted(d / "ca.key") + " -out " + quoted(d / "ca.crt") +
            " -subj /CN=vouch-test-ca -days 2",
    };
    for (const char* name : {"one", "two"}) {
      fs::path key = d / (std::string(name) + ".key"), csr = d / (std::string(name) + ".csr");
      commands.push_back("openssl req " + ec_key + " -keyout " + quoted(key) + " -out " + quoted(csr) +
                         " -subj /CN=server-" + name);
      commands.push_back("openssl x509 -req -in " + quoted(csr) + " -CA " + quoted(d / "ca.crt") + " -CAkey " +
                         quoted(d / "ca.key") + " -set_serial " + (name == std::string("one") ? "4097" : "8194") +
                         " -days 2 -extfile " + quoted(d / "ext.cnf") + " -out " + quoted(d / (std::string(name) + ".crt")));
    }
    // -days -1: the validity ended a day before it began, so the certificate is expired now.
    commands.push_back("openssl x509 -req -in " + quoted(d / "one.csr") + " -CA " + quoted(d / "ca.crt") +
                       " -CAkey " + quoted(d / "ca.key") + " -set_serial 12291 -days -1 -extfile " +
                       quoted(d / "ext.cnf") + " -out " + quoted(d / "expired.crt"));
    commands.push_back("cat " + quoted(d / "one.crt") + " " + quoted(d / "ca.crt") + " > " + quoted(d / "one-chain.crt"));
    for (const auto& command : commands) {
      auto r = run(command);
      ASSERT_EQ(r.status, 0) << command << "\n" << r.output;
    }
  }
  static void TearDownTestSuite() { dir_.reset(); }

  static fs::path file(const std::string& name) { return dir_->path() / name; }

  static HttpServerOptions tls_options(const std::string& cert, const std::string& key) {
    HttpServerOptions o;
    o.listen = "127.0.0.1:0";
    o.tls_cert_file = file(cert).string();
    o.tls_key_file = file(key).string();
    return o;
  }

  // Answers "METHOD PATH BODY-SIZE" and remembers each request's peer.
  Result<std::unique_ptr<HttpServer>> start(HttpServerOptions options) {
    return HttpServer::start(std::move(options), [this](HttpRequest req, Responder respond) {
      {
        std::lock_guard lock(mu_);
        peers_.push_back(req.peer_address);
        loopback_ = loopback_ && req.peer_is_loopback;
      }
      respond(HttpResponse{200, "text/plain", req.method + " " + req.path + " " + std::to_string(req.body.size()), {}});
    });
  }

  static Result<Response> send(const std::string& method, const std::string& url, std::string body = {},
                               bool trust_test_ca = true) {
    ClientOptions options;
    options.max_retries = 0;
    options.timeout = 5s;
    if (trust_test_ca) options.ca_file = file("ca.crt").string();
    Request request;
    request.method = method;
    request.url = url;
    request.body = std::move(body);
    return Client(options).send(request);
  }

  static CommandResult curl(const std::string& args) {
    return run("curl -sS --noproxy '*' --max-time 5 --cacert " + quoted(file("ca.crt")) + " " + args);
  }

  static CommandResult s_client(const HttpServer& server, const std::string& args) {
    return run("openssl s_client -connect " + server.address() + " " + args + " </dev/null");
  }

  std::vector<std::string> peers() {
    std::lock_guard lock(mu_);
    return peers_;
  }

  static std::unique_ptr<testing::TempDir> dir_;
  std::mutex mu_;
  std::vector<std::string> peers_;
  bool loopback_ = true;
};

std::unique_ptr<testing::TempDir> HttpServerTls::dir_;

// A TCP connection to the server's port that sends `bytes` and then nothing.
class RawConnection {
 public:
  RawConnection(uint16_t port, const std::string& bytes) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                 (bytes.empty() || ::send(fd_, bytes.data(), bytes.size(), 0) == static_cast<ssize_t>(bytes.size()));
  }
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return connected_; }

  // Whether the server ends the connection (EOF or reset) within `limit`; what it sends first is
  // discarded (a TLS alert).
  bool closed_by_server_within(std::chrono::milliseconds limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      std::array<char, 512> buf{};
      if (::recv(fd_, buf.data(), buf.size(), 0) <= 0) return true;
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

TEST_F(HttpServerTls, ServesVerifiedRequestsToVouchClientAndCurl) {
  auto server = start(tls_options("one-chain.crt", "one.key"));
  ASSERT_TRUE(server.ok()) << server.error().message;
  std::string base = "https://" + (*server)->address();

  auto get = send("GET", base + "/hello?x=1");
  ASSERT_TRUE(get.ok()) << get.error().message;
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, "GET /hello 0");
  EXPECT_FALSE(send("GET", base + "/hello", {}, /*trust_test_ca=*/false).ok());  // the certificate is really checked

  auto c = curl(base + "/from-curl");
  EXPECT_EQ(c.status, 0) << c.output;
  EXPECT_EQ(c.output, "GET /from-curl 0");
  c = curl("https://localhost:" + std::to_string((*server)->port()) + "/by-name --resolve localhost:" +
           std::to_string((*server)->port()) + ":127.0.0.1");
  EXPECT_EQ(c.status, 0) << c.output;

  // The chain file's intermediate is sent after the leaf.
  auto s = s_client(**server, "-showcerts -CAfile " + quoted(file("ca.crt")) + " -verify_return_error");
  EXPECT_EQ(s.status, 0) << s.output;
  EXPECT_NE(s.output.find("0 s:CN = server-one"), std::string::npos) << s.output;
  EXPECT_NE(s.output.find("1 s:CN = vouch-test-ca"), std::string::npos) << s.output;

  auto seen = peers();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_TRUE(seen[0].starts_with("127.0.0.1:")) << seen[0];
  EXPECT_TRUE(loopback_);
  (*server)->stop(1s);
}

TEST_F(HttpServerTls, RefusesOldProtocolsAndWeakSuites) {
  auto server = start(tls_options("one.crt", "one.key"));
  ASSERT_TRUE(server.ok()) << server.error().message;
  std::string url = "https://" + (*server)->address() + "/";

  EXPECT_EQ(s_client(**server, "-tls1_3").status, 0);
  auto aead = s_client(**server, "-tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256");
  EXPECT_EQ(aead.status, 0) << aead.output;
  // A client that goes no higher than TLS 1.1, even with every old suite allowed, gets no session.
  EXPECT_NE(s_client(**server, "-tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'").status, 0);
  EXPECT_NE(curl("--tlsv1.0 --tls-max 1.1 --ciphers 'DEFAULT:@SECLEVEL=0' " + url).status, 0);
  // TLS 1.2 suites without AEAD (CBC with HMAC) are refused.
  EXPECT_NE(s_client(**server, "-tls1_2 -cipher ECDHE-ECDSA-AES128-SHA256").status, 0);
  EXPECT_NE(s_client(**server, "-tls1_2 -cipher ECDHE-ECDSA-AES256-SHA").status, 0);

  EXPECT_EQ(curl(url).status, 0);  // and the server is still serving
  (*server)->stop(1s);
}

TEST_F(HttpServerTls, DropsPlainHttpAndStalledHandshakes) {
  auto options = tls_options("one.crt", "one.key");
  options.read_timeout = 200ms;
  auto server = start(options);
  ASSERT_TRUE(server.ok()) << server.error().message;
  uint16_t port = (*server)->port();

  EXPECT_FALSE(send("GET", "http://" + (*server)->address() + "/plain").ok());
  EXPECT_NE(run("curl -sS --noproxy '*' --max-time 5 http://" + (*server)->address() + "/plain").status, 0);

  RawConnection silent(port, "");
  RawConnection half_hello(port, std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11));
  ASSERT_TRUE(silent.connected());
  ASSERT_TRUE(half_hello.connected());
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(silent.closed_by_server_within(900ms));
  EXPECT_TRUE(half_hello.closed_by_server_within(900ms));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 150ms);  // by the deadline, not at once

  auto after = send("GET", "https://" + (*server)->address() + "/after");
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_EQ(after->body, "GET /after 0");
  EXPECT_EQ(peers().size(), 1u);
  (*server)->stop(1s);
}

TEST_F(HttpServerTls, KeepsConnectionsAliveAndLimitsBodies) {
  auto options = tls_options("one.crt", "one.key");
  options.max_body_bytes = 1000;
  auto server = start(options);
  ASSERT_TRUE(server.ok()) << server.error().message;
  std::string base = "https://" + (*server)->address();

  // One curl, two URLs: the second request reuses the first connection.
  auto c = curl("-o /dev/null -o /dev/null -w '%{http_code}:%{num_connects} ' " + base + "/a " + base + "/b");
  EXPECT_EQ(c.status, 0) << c.output;
  EXPECT_EQ(c.output, "200:1 200:0 ");
  auto seen = peers();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], seen[1]);  // the same client port

  auto fits = send("POST", base + "/p", std::string(1000, 'x'));
  ASSERT_TRUE(fits.ok()) << fits.error().message;
  EXPECT_EQ(fits->body, "POST /p 1000");
  auto big = send("POST", base + "/p", std::string(5000, 'x'));
  ASSERT_TRUE(big.ok()) << big.error().message;
  EXPECT_EQ(big->status, 413);
  EXPECT_NE(big->body.find("\"code\":413"), std::string::npos);
  EXPECT_EQ(peers().size(), 3u);  // the handler never saw it
  (*server)->stop(1s);
}

TEST_F(HttpServerTls, StopsGracefullyWhileAnswersComeFromOtherThreads) {
  auto options = tls_options("one.crt", "one.key");
  options.read_timeout = 5s;  // idle connections must not hold stop() this long
  std::promise<Responder> held;
  auto server = HttpServer::start(options, [&held](HttpRequest, Responder respond) { held.set_value(respond); });
  ASSERT_TRUE(server.ok()) << server.error().message;
  std::string url = "https://" + (*server)->address() + "/slow";
  uint16_t port = (*server)->port();

  RawConnection idle(port, "");
  auto request = std::async(std::launch::async, [&] { return send("GET", url); });
  Responder respond = held.get_future().get();

  auto t0 = std::chrono::steady_clock::now();
  auto stopping = std::async(std::launch::async, [&] { (*server)->stop(2s); });
  // stop() closes the listener first; once new connections are refused it is waiting for the
  // request in flight.
  // The bounds tell a prompt stop from one that waited out its 2 s deadline (or the idle
  // connection's 5 s), with room for a loaded machine.
  while (RawConnection(port, "").connected()) {
    ASSERT_LT(std::chrono::steady_clock::now() - t0, 1900ms);
    std::this_thread::yield();
  }
  EXPECT_EQ(stopping.wait_for(0ms), std::future_status::timeout);
  std::thread([respond] { respond(HttpResponse{200, "text/plain", "late", {}}); }).join();

  auto answer = request.get();
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_EQ(answer->body, "late");
  EXPECT_EQ(answer->headers.get("connection").value_or(""), "close");
  stopping.get();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1900ms);
}

TEST_F(HttpServerTls, ReloadsRotatedCertificatesAndKeepsTheOldOnesOnError) {
  testing::TempDir secret;
  fs::path cert = secret.path() / "tls.crt", key = secret.path() / "tls.key";
  auto install = [&](const std::string& cert_name, const std::string& key_name) {
    auto c = read_file(file(cert_name)), k = read_file(file(key_name));
    ASSERT_TRUE(c.ok() && k.ok());
    ASSERT_TRUE(write_file_atomic(cert, *c).ok());
    ASSERT_TRUE(write_file_atomic(key, *k, 0600).ok());
  };
  install("one.crt", "one.key");
  HttpServerOptions options;
  options.listen = "127.0.0.1:0";
  options.tls_cert_file = cert.string();
  options.tls_key_file = key.string();
  auto server = start(options);
  ASSERT_TRUE(server.ok()) << server.error().message;
  std::string url = "https://" + (*server)->address() + "/";
  auto subject = [&] {
    auto c = curl("-v -o /dev/null " + url);
    EXPECT_EQ(c.status, 0) << c.output;
    for (const char* name : {"server-one", "server-two"})
      if (c.output.find(std::string("subject: CN=") + name) != std::string::npos) return std::string(name);
    return c.output;
  };
  EXPECT_EQ(subject(), "server-one");

  install("two.crt", "two.key");
  auto reloaded = (*server)->reload_tls();
  ASSERT_TRUE(reloaded.ok()) << reloaded.error().message;
  EXPECT_EQ(subject(), "server-two");

  install("two.crt", "one.key");  // a half-finished rotation
  auto mismatched = (*server)->reload_tls();
  ASSERT_FALSE(mismatched.ok());
  EXPECT_NE(mismatched.error().message.find(key.string()), std::string::npos) << mismatched.error().message;
  EXPECT_NE(mismatched.error().message.find("does not match"), std::string::npos) << mismatched.error().message;
  EXPECT_EQ(subject(), "server-two");

  ASSERT_TRUE(write_file_atomic(cert, "not a certificate\n").ok());
  auto garbage = (*server)->reload_tls();
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.error().message.find(cert.string()), std::string::npos) << garbage.error().message;
  EXPECT_EQ(subject(), "server-two");
  (*server)->stop(1s);

  HttpServerOptions plain_options;
  plain_options.listen = "127.0.0.1:0";
  auto plain = start(plain_options);
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_FALSE((*plain)->reload_tls().ok());
  (*plain)->stop(1s);
}

TEST_F(HttpServerTls, StartFailsOnIncompleteOrBadFiles) {
  auto error_of = [&](HttpServerOptions options) {
    auto server = start(std::move(options));
    EXPECT_FALSE(server.ok());
    return server.ok() ? std::string() : server.error().message;
  };
  auto only_cert = tls_options("one.crt", "one.key");
  only_cert.tls_key_file.clear();
  EXPECT_NE(error_of(only_cert).find("without its key file"), std::string::npos);
  auto only_key = tls_options("one.crt", "one.key");
  only_key.tls_cert_file.clear();
  EXPECT_NE(error_of(only_key).find("without its certificate file"), std::string::npos);

  std::string missing = error_of(tls_options("no-such.crt", "one.key"));
  EXPECT_NE(missing.find(file("no-such.crt").string()), std::string::npos) << missing;
  EXPECT_NE(missing.find("no such file"), std::string::npos) << missing;

  std::string not_pem = error_of(tls_options("ext.cnf", "one.key"));
  EXPECT_NE(not_pem.find("no PEM certificate"), std::string::npos) << not_pem;
  std::string cert_as_key = error_of(tls_options("one.crt", "one.crt"));
  EXPECT_NE(cert_as_key.find("no unencrypted PEM private key"), std::string::npos) << cert_as_key;

  std::string mismatched = error_of(tls_options("one.crt", "two.key"));
  EXPECT_NE(mismatched.find(file("two.key").string()), std::string::npos) << mismatched;
  EXPECT_NE(mismatched.find("does not match the certificate"), std::string::npos) << mismatched;

  std::string expired = error_of(tls_options("expired.crt", "one.key"));
  EXPECT_NE(expired.find(file("expired.crt").string()), std::string::npos) << expired;
  EXPECT_NE(expired.find("expired at"), std::string::npos) << expired;

  for (const std::string& message : {missing, not_pem, cert_as_key, mismatched, expired})
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

}  // namespace
}  // namespace vouch::net
