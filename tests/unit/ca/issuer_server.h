// An OIDC issuer served on a loopback port for tests of what verifies its tokens; the issuer
// behind the port can be replaced (a key rotation, another clock).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "vouch/ca/oidc_issuer.h"
#include "vouch/net/http_server.h"

namespace vouch::ca::testing {

// A request as the HTTP server hands it to a handler.
inline net::HttpRequest make_request(std::string method, std::string path, std::string content_type = {},
                                     std::string body = {}) {
  net::HttpRequest r;
  r.method = std::move(method);
  r.target = path;
  r.path = std::move(path);
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

class IssuerServer {
 public:
  IssuerServer() {
    net::HttpServerOptions o;
    o.listen = "127.0.0.1:0";
    o.io_threads = 1;
    o.worker_threads = 2;
    server_ = net::HttpServer::start(o, [this](net::HttpRequest r, net::Responder respond) {
                std::lock_guard lock(mu_);
                discovery_requests_ += r.path == "/.well-known/openid-configuration";
                key_requests_ += r.path == "/keys";
                respond(issuer_->handle_request(r));
              }).value();
    url_ = "http://127.0.0.1:" + std::to_string(server_->port());
    replace_key();
  }
  ~IssuerServer() { server_->stop(std::chrono::milliseconds(100)); }

  void replace_key(std::function<UnixSeconds()> now = now_unix, crypto::KeyType type = crypto::KeyType::kEcdsaP256) {
    OidcIssuerOptions options;
    options.issuer_url = url_;
    options.now = std::move(now);
    auto issuer = OidcIssuer::create(crypto::PrivateKey::generate(type).value(), options).value();
    std::lock_guard lock(mu_);
    issuer_ = std::move(issuer);
  }
  OidcIssuer& issuer() {
    std::lock_guard lock(mu_);
    return *issuer_;
  }
  const std::string& url() const { return url_; }
  int key_requests() {
    std::lock_guard lock(mu_);
    return key_requests_;
  }

 private:
  std::mutex mu_;
  std::unique_ptr<OidcIssuer> issuer_;
  std::unique_ptr<net::HttpServer> server_;
  std::string url_;
  int discovery_requests_ = 0;
  int key_requests_ = 0;
};

}  // namespace vouch::ca::testing
