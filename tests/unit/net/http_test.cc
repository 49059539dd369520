// The HTTP client against a small scripted server on 127.0.0.1: retries with backoff on
// 429/5xx, redirects, body limits, streaming, and credentials kept from other hosts.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "vouch/net/http.h"

namespace vouch::net {
namespace {

struct Seen {
  std::string method, path, authorization;
};

class TestServer {
 public:
  using Handler = std::function<std::string(const Seen&, int count)>;  // raw response

  explicit TestServer(Handler h) : handler_(std::move(h)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 16);
    thread_ = std::thread([this] { loop(); });
  }
  ~TestServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string url(std::string_view path) const { return "http://127.0.0.1:" + std::to_string(port_) + std::string(path); }
  int port() const { return port_; }
  std::vector<Seen> seen() {
    std::lock_guard<std::mutex> l(mu_);
    return seen_;
  }

 private:
  void loop() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string req;
      char buf[4096];
      while (req.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      Seen s;
      size_t sp1 = req.find(' '), sp2 = req.find(' ', sp1 + 1);
      if (sp1 != std::string::npos && sp2 != std::string::npos) {
        s.method = req.substr(0, sp1);
        s.path = req.substr(sp1 + 1, sp2 - sp1 - 1);
      }
      if (size_t a = req.find("\r\nAuthorization: "); a != std::string::npos)
        s.authorization = req.substr(a + 17, req.find("\r\n", a + 2) - a - 17);
      int count;
      {
        std::lock_guard<std::mutex> l(mu_);
        seen_.push_back(s);
        count = ++counts_[s.path];
      }
      std::string resp = handler_(s, count);
      ssize_t w = ::write(c, resp.data(), resp.size());
      (void)w;
      ::close(c);
    }
  }

  Handler handler_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<Seen> seen_;
  std::map<std::string, int> counts_;
};

std::string response(int status, std::string body, std::string extra = {}) {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n" + extra + "\r\n" + body;
}

ClientOptions fast() {
  ClientOptions o;
  o.initial_backoff = std::chrono::milliseconds(5);
  o.max_backoff = std::chrono::milliseconds(50);
  o.max_retries = 3;
  return o;
}

TEST(HttpClient, RetriesOn5xxAnd429ThenSucceeds) {
  TestServer server([](const Seen& s, int n) {
    if (s.path == "/flaky") return n < 3 ? response(503, "busy") : response(200, "ok");
    if (s.path == "/limited") return n < 2 ? response(429, "slow down", "Retry-After: 0\r\n") : response(200, "ok");
    if (s.path == "/down") return response(502, "down");
    return response(404, "no");
  });
  Client c(fast());
  auto r = c.send({"GET", server.url("/flaky"), {}, {}, true});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok");
  auto l = c.send({"GET", server.url("/limited"), {}, {}, true});
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->status, 200);
  auto d = c.send({"GET", server.url("/down"), {}, {}, true});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->status, 502);  // handed back after the last retry
  auto nf = c.send({"GET", server.url("/missing"), {}, {}, true});
  ASSERT_TRUE(nf.ok());
  EXPECT_EQ(nf->status, 404);
  int flaky = 0, down = 0, missing = 0;
  for (const auto& s : server.seen()) {
    flaky += s.path == "/flaky";
    down += s.path == "/down";
    missing += s.path == "/missing";
  }
  EXPECT_EQ(flaky, 3);
  EXPECT_EQ(down, 4);     // 1 + max_retries
  EXPECT_EQ(missing, 1);  // no retry on 404
}

TEST(HttpClient, RedirectsLimitsAndStreaming) {
  int port = 0;
  TestServer server([&port](const Seen& s, int) {
    if (s.path == "/a") return response(307, "", "Location: /b\r\n");
    if (s.path == "/b") return response(200, "B");
    if (s.path == "/loop") return response(302, "", "Location: /loop\r\n");
    if (s.path == "/cross") return response(307, "", "Location: http://localhost:" + std::to_string(port) + "/echo\r\n");
    if (s.path == "/echo") return response(200, s.authorization.empty() ? "none" : s.authorization);
    if (s.path == "/big") return response(200, std::string(5000, 'x'));
    return response(404, "");
  });
  port = server.port();
  Client c(fast());
  auto r = c.send({"GET", server.url("/a"), {}, {}, true});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->body, "B");
  EXPECT_TRUE(r->effective_url.ends_with("/b"));
  auto no_follow = c.send({"GET", server.url("/a"), {}, {}, false});
  ASSERT_TRUE(no_follow.ok());
  EXPECT_EQ(no_follow->status, 307);
  EXPECT_EQ(no_follow->headers.get("location").value_or(""), "/b");
  auto loop = c.send({"GET", server.url("/loop"), {}, {}, true});
  EXPECT_FALSE(loop.ok());
  // Credentials are not sent on to another host.
  Request with_auth{"GET", server.url("/cross"), {}, {}, true};
  with_auth.headers.add("Authorization", "Bearer secret");
  auto cross = c.send(with_auth);
  ASSERT_TRUE(cross.ok()) << cross.error().message;
  EXPECT_EQ(cross->body, "none");
  Request same{"GET", server.url("/echo"), {}, {}, true};
  same.headers.add("Authorization", "Bearer secret");
  EXPECT_EQ(c.send(same)->body, "Bearer secret");
  auto big = c.send({"GET", server.url("/big"), {}, {}, true}, 1000);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().message.find("exceeds the limit"), std::string::npos);
  auto stream = c.open({"GET", server.url("/big"), {}, {}, true});
  ASSERT_TRUE(stream.ok());
  size_t total = 0;
  std::vector<uint8_t> buf(7);
  for (;;) {
    auto n = (*stream)->read(buf);
    ASSERT_TRUE(n.ok());
    if (*n == 0) break;
    total += *n;
  }
  EXPECT_EQ(total, 5000u);
  EXPECT_FALSE(c.send({"GET", "ftp://127.0.0.1/x", {}, {}, true}).ok());
}

TEST(HttpClient, ConnectionRefusedIsAnIoError) {
  ClientOptions o = fast();
  o.max_retries = 1;
  Client c(o);
  auto r = c.send({"GET", "http://127.0.0.1:1/", {}, {}, true});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kIo);
}

}  // namespace
}  // namespace vouch::net
