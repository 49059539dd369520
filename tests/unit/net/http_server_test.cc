#include "vouch/net/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "vouch/net/http.h"

namespace vouch::net {
namespace {

// No retries: the test asserts on the first answer.
Result<Response> send(std::string method, const std::string& url, std::string body = {},
                      std::chrono::milliseconds timeout = {}) {
  ClientOptions options;
  options.max_retries = 0;
  options.timeout = timeout;
  Request request;
  request.method = std::move(method);
  request.url = url;
  request.body = std::move(body);
  return Client(options).send(request);
}
Result<Response> http_get(const std::string& url, std::chrono::milliseconds timeout = {}) {
  return send("GET", url, {}, timeout);
}
Result<Response> http_post(const std::string& url, std::string body) { return send("POST", url, std::move(body)); }

TEST(HttpServer, ParsesTargets) {
  auto t = parse_target("/api/v1/log/entries%2Fx?logIndex=5&a=b+c&flag&e=%41");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->first, "/api/v1/log/entries/x");
  EXPECT_EQ(t->second.find("logIndex")->second, "5");
  EXPECT_EQ(t->second.find("a")->second, "b c");
  EXPECT_EQ(t->second.find("flag")->second, "");
  EXPECT_EQ(t->second.find("e")->second, "A");
  EXPECT_FALSE(parse_target("/x%4").ok());
  EXPECT_FALSE(parse_target("/x%zz").ok());
  EXPECT_FALSE(parse_target("/x?a=%").ok());
}

TEST(HttpServer, ServesLimitsBodiesAndEnforcesDeadlines) {
  HttpServerOptions opts;
  opts.listen = "127.0.0.1:0";
  opts.max_body_bytes = 1000;
  opts.request_deadline = std::chrono::seconds(1);
  std::atomic<int> handled{0};
  auto server = HttpServer::start(opts, [&](HttpRequest req, Responder respond) {
    handled++;
    if (req.path == "/never") return;  // never answers: the deadline must
    respond(HttpResponse{200, "text/plain", req.method + " " + req.path + " " + std::to_string(req.body.size()), {}});
  });
  ASSERT_TRUE(server.ok()) << server.error().message;
  std::string base = "http://" + (*server)->address();

  auto get = http_get(base + "/hello?x=1");
  ASSERT_TRUE(get.ok()) << get.error().message;
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, "GET /hello 0");

  auto post = http_post(base + "/p", std::string(1000, 'x'));
  ASSERT_TRUE(post.ok());
  EXPECT_EQ(post->body, "POST /p 1000");

  int before = handled;
  auto big = http_post(base + "/p", std::string(5000, 'x'));
  ASSERT_TRUE(big.ok()) << big.error().message;
  EXPECT_EQ(big->status, 413);
  EXPECT_NE(big->body.find("\"code\":413"), std::string::npos);
  EXPECT_EQ(handled, before);  // the handler never saw it

  auto t0 = std::chrono::steady_clock::now();
  auto late = http_get(base + "/never");
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->status, 503);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));

  (*server)->stop(std::chrono::seconds(1));
  EXPECT_FALSE(http_get(base + "/hello", std::chrono::seconds(2)).ok());
}

TEST(HttpServer, RejectsBadListenAddresses) {
  for (const char* addr : {"nonsense", "127.0.0.1:notaport", "127.0.0.1:70000", "300.1.1.1:80"}) {
    HttpServerOptions opts;
    opts.listen = addr;
    EXPECT_FALSE(HttpServer::start(opts, [](HttpRequest, Responder) {}).ok()) << addr;
  }
}

}  // namespace
}  // namespace vouch::net
