// HTTP/1.1 server core on Boost.Beast/Asio: a small pool of I/O threads accepts and reads
// requests (bounded body size, read deadline); handlers run on a separate worker pool so that
// CPU work never blocks I/O; every request has a deadline; stop() is graceful (no new
// connections, in-flight requests finish, then the threads end). Given a certificate and a key
// file, the same server speaks only HTTPS (TLS 1.2 or 1.3) and can reload them while it runs.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vouch/base/result.h"

namespace vouch::net {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path and query
  std::string path;    // percent-decoded path
  std::multimap<std::string, std::string> query;  // percent-decoded parameters
  std::string content_type;
  std::string body;
  // Every request header, names in lower case, in the order received.
  std::vector<std::pair<std::string, std::string>> headers;
  // The connection's peer ("203.0.113.5:40112"); empty when the request did not come over a socket.
  std::string peer_address;
  bool peer_is_loopback = false;
  // The subject of the client certificate the TLS handshake verified (tls_client_ca_file); empty
  // without one.
  std::string client_subject;

  // The first header of that name (case-insensitive), or empty.
  std::string_view header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// A handler answers by calling `respond` exactly once, from any thread, now or later.
using Responder = std::function<void(HttpResponse)>;
using HttpHandler = std::function<void(HttpRequest, Responder)>;

struct HttpServerOptions {
  std::string listen = "127.0.0.1:3000";  // HOST:PORT; port 0 picks a free port
  unsigned io_threads = 2;
  unsigned worker_threads = 4;
  size_t max_body_bytes = 8 << 20;       // larger bodies get 413
  // Bounds the TLS handshake, reading one request and writing one response.
  std::chrono::milliseconds read_timeout{30000};
  std::chrono::seconds request_deadline{30};  // a handler slower than this gets 503
  std::string server_name = "vouch";
  // Both set: HTTPS only. PEM files: the certificate file holds the leaf first, then any
  // intermediates; the key file holds its unencrypted private key. Both empty: plain HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
  // With TLS: a PEM file of CA certificates; a client must then present a certificate that
  // chains to one of them, or the handshake fails (mutual TLS). Reloaded with the pair.
  std::string tls_client_ca_file;
};

class HttpServer {
 public:
  static Result<std::unique_ptr<HttpServer>> start(HttpServerOptions options, HttpHandler handler);
  virtual ~HttpServer() = default;
  virtual uint16_t port() const = 0;
  virtual std::string address() const = 0;  // "HOST:PORT" actually bound
  // Graceful stop: stops accepting, lets in-flight requests finish (up to `grace`), ends threads.
  virtual void stop(std::chrono::milliseconds grace = std::chrono::seconds(10)) = 0;
  // Blocks until SIGINT or SIGTERM arrives (or stop() is called), then stops gracefully.
  virtual void run_until_signal() = 0;
  // Re-reads the certificate and key files (as a Kubernetes Secret is rotated in place), checks
  // them as start() does and uses them for new connections; connections already open keep
  // theirs. On an error the previous certificate keeps serving. A plain-HTTP server fails.
  virtual Status reload_tls() = 0;
};

// application/x-www-form-urlencoded (a query string or a form body): '+' is a space, then
// percent-decoding; fails on malformed escapes.
Result<std::multimap<std::string, std::string>> parse_form(std::string_view text);

// Splits and percent-decodes a request target; fails on malformed escapes.
Result<std::pair<std::string, std::multimap<std::string, std::string>>> parse_target(std::string_view target);

}  // namespace vouch::net
