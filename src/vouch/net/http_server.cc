#include "vouch/net/http_server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <ctime>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "vouch/base/ascii.h"
#include "vouch/base/file.h"
#include "vouch/base/time.h"

namespace vouch::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using TlsContext = std::shared_ptr<ssl::context>;

template <class Stream>
constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

// TLS 1.2 suites: forward secrecy (ECDHE) with authenticated encryption (AEAD) only, strongest
// first. TLS 1.3 keeps OpenSSL's defaults, which are all of that kind.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// A certificate chain or a key is a few kilobytes; anything this large is not one.
constexpr size_t kMaxTlsFileBytes = 1 << 20;

// close_notify at the end of a TLS connection is a courtesy: a peer that never answers ours does
// not keep the session (and its socket) longer than this.
constexpr std::chrono::milliseconds kTlsShutdownBound{1000};
// How long a closing plain connection keeps reading what its client still sends.
constexpr std::chrono::milliseconds kLingerBound{2000};

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

// OpenSSL's reason for its latest failure on this thread; the thread's error queue is empty after.
std::string openssl_reason() {
  unsigned long code = ERR_peek_last_error();
  const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
  ERR_clear_error();
  return reason != nullptr ? reason : "unknown OpenSSL error";
}

// A server reads its key unattended: an encrypted key fails instead of prompting on a terminal.
int refuse_passphrase(char*, int, int, void*) { return -1; }

BioPtr memory_bio(const std::string& data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

Result<std::vector<X509Ptr>> read_certificate_chain(const std::string& file) {
  auto pem = read_file(file, kMaxTlsFileBytes);
  if (!pem.ok()) return std::move(pem).error().context("TLS certificate file");
  BioPtr bio = memory_bio(*pem);
  if (!bio) return internal_error(fmt::format("TLS certificate file '{}': {}", file, openssl_reason()));
  ERR_clear_error();
  std::vector<X509Ptr> chain;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, refuse_passphrase, nullptr)) chain.emplace_back(cert);
  // Running out of PEM blocks ends the loop with "no start line"; anything else is a broken block.
  unsigned long last = ERR_peek_last_error();
  if (last != 0 && !(ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE)) {
    return invalid_input(fmt::format("TLS certificate file '{}': certificate {}: {}", file, chain.size() + 1,
                                     openssl_reason()));
  }
  ERR_clear_error();
  if (chain.empty()) return invalid_input(fmt::format("TLS certificate file '{}': no PEM certificate in it", file));
  return chain;
}

Result<PkeyPtr> read_private_key(const std::string& file) {
  auto pem = read_file(file, kMaxTlsFileBytes);
  if (!pem.ok()) return std::move(pem).error().context("TLS key file");
  BioPtr bio = memory_bio(*pem);
  if (!bio) return internal_error(fmt::format("TLS key file '{}': {}", file, openssl_reason()));
  ERR_clear_error();
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, refuse_passphrase, nullptr));
  if (!key) {
    return invalid_input(
        fmt::format("TLS key file '{}': no unencrypted PEM private key in it ({})", file, openssl_reason()));
  }
  return key;
}

std::string format_asn1_time(const ASN1_TIME* time) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(time, &tm) != 1) return "an unreadable time";
  return format_rfc3339(static_cast<UnixSeconds>(timegm(&tm)));
}

// Reads and checks a certificate chain and its key as a server context: TLS 1.2 at least, no
// compression, no renegotiation, the server's cipher order. Fails, naming the file, on an
// unreadable file, an expired leaf or a key that is not the leaf's.
Result<TlsContext> load_tls_context(const std::string& cert_file, const std::string& key_file,
                                    const std::string& client_ca_file) {
  VOUCH_ASSIGN_OR_RETURN(std::vector<X509Ptr> chain, read_certificate_chain(cert_file));
  VOUCH_ASSIGN_OR_RETURN(PkeyPtr key, read_private_key(key_file));
  X509* leaf = chain.front().get();
  if (X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0) {
    return invalid_input(fmt::format("TLS certificate file '{}': the certificate expired at {}", cert_file,
                                     format_asn1_time(X509_get0_notAfter(leaf))));
  }
  if (X509_check_private_key(leaf, key.get()) != 1) {
    return invalid_input(fmt::format("TLS key file '{}': the key does not match the certificate in '{}' ({})",
                                     key_file, cert_file, openssl_reason()));
  }

  TlsContext context;
  try {
    context = std::make_shared<ssl::context>(ssl::context::tls_server);
  } catch (const std::exception& e) {
    return internal_error(fmt::format("TLS context: {}", e.what()));
  }
  SSL_CTX* ctx = context->native_handle();
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 || SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) {
    return internal_error(fmt::format("TLS context: {}", openssl_reason()));
  }
  if (SSL_CTX_use_certificate(ctx, leaf) != 1) {
    return invalid_input(fmt::format("TLS certificate file '{}': {}", cert_file, openssl_reason()));
  }
  for (size_t i = 1; i < chain.size(); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx, chain[i].get()) != 1) {
      return invalid_input(fmt::format("TLS certificate file '{}': certificate {}: {}", cert_file, i + 1,
                                       openssl_reason()));
    }
  }
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return invalid_input(fmt::format("TLS key file '{}': {}", key_file, openssl_reason()));
  }
  if (!client_ca_file.empty()) {
    // Mutual TLS: a client without a certificate that chains to these CAs never gets a session.
    VOUCH_ASSIGN_OR_RETURN(std::vector<X509Ptr> cas, read_certificate_chain(client_ca_file));
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
    for (const auto& ca : cas) {
      if (X509_STORE_add_cert(store, ca.get()) != 1) {
        sk_X509_NAME_pop_free(names, X509_NAME_free);
        return invalid_input(fmt::format("TLS client CA file '{}': {}", client_ca_file, openssl_reason()));
      }
      if (names) sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(ca.get())));
    }
    if (names) SSL_CTX_set_client_CA_list(ctx, names);  // takes ownership
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return context;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return invalid_input("truncated percent escape");
      int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) return invalid_input("malformed percent escape");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string json_error(int status, std::string_view message) {
  std::string escaped;
  for (char c : message) {
    if (c == '"' || c == '\\') {
      escaped.push_back('\\');
      escaped.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      escaped += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
    } else {
      escaped.push_back(c);
    }
  }
  return fmt::format("{{\"code\":{},\"message\":\"{}\"}}", status, escaped);
}

class Server;

// One connection, plain (PlainStream) or TLS (TlsStream); the two differ only in the handshake,
// in how the connection ends and in which errors are the peer's way of leaving.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(tcp::socket socket, Server* server)
    requires(!kIsTls<Stream>)
      : stream_(std::move(socket)), server_(server) {}
  Session(tcp::socket socket, TlsContext context, Server* server)
    requires kIsTls<Stream>
      : context_(std::move(context)), stream_(std::move(socket), *context_), server_(server) {}
  void start();

 private:
  void handshake();
  void read();
  void on_read(beast::error_code ec);
  void write(HttpResponse response, bool keep_alive);
  void close();
  void drain();
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  TlsContext context_;  // outlives stream_, which uses it; stays null on a plain connection
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Server* server_;
  std::optional<asio::steady_timer> deadline_;
};

class Server final : public HttpServer {
 public:
  Server(HttpServerOptions options, HttpHandler handler)
      : options_(std::move(options)),
        handler_(std::move(handler)),
        ioc_(static_cast<int>(options_.io_threads)),
        acceptor_(asio::make_strand(ioc_)),
        workers_(options_.worker_threads),
        signals_(ioc_, SIGINT, SIGTERM),
        work_guard_(asio::make_work_guard(ioc_)) {}

  ~Server() override { stop(std::chrono::seconds(10)); }

  Status enable_tls() {
    VOUCH_ASSIGN_OR_RETURN(TlsContext context, load_tls_context(options_.tls_cert_file, options_.tls_key_file,
                                                                options_.tls_client_ca_file));
    tls_context_.store(std::move(context));
    tls_ = true;
    return ok_status();
  }

  Status reload_tls() override {
    if (!tls_) return invalid_input("reload_tls: this server speaks plain HTTP (no TLS certificate and key files)");
    std::lock_guard lock(reload_mu_);
    VOUCH_ASSIGN_OR_RETURN(TlsContext context, load_tls_context(options_.tls_cert_file, options_.tls_key_file,
                                                                options_.tls_client_ca_file));
    tls_context_.store(std::move(context));
    return ok_status();
  }

  Status listen() {
    std::string_view l = options_.listen;
    size_t colon = l.rfind(':');
    if (colon == std::string_view::npos) return invalid_input(fmt::format("listen address '{}': want HOST:PORT", l));
    std::string host(l.substr(0, colon));
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty() || host == "localhost") host = "127.0.0.1";
    unsigned port = 0;
    try {
      size_t used = 0;
      port = static_cast<unsigned>(std::stoul(std::string(l.substr(colon + 1)), &used));
      if (used != l.size() - colon - 1 || port > 65535) throw std::invalid_argument("port");
    } catch (const std::exception&) {
      return invalid_input(fmt::format("listen address '{}': bad port", l));
    }
    beast::error_code ec;
    auto addr = asio::ip::make_address(host, ec);
    if (ec) return invalid_input(fmt::format("listen address '{}': {}", l, ec.message()));
    tcp::endpoint ep(addr, static_cast<uint16_t>(port));
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return io_error(fmt::format("listen on {}: {}", l, ec.message()));
    bound_ = acceptor_.local_endpoint();
    return ok_status();
  }

  void run() {
    accept();
    signals_.async_wait([this](beast::error_code ec, int) {
      if (ec) return;
      std::lock_guard lock(mu_);
      signalled_ = true;
      cv_.notify_all();
    });
    for (unsigned i = 0; i < std::max(1u, options_.io_threads); ++i) threads_.emplace_back([this] { ioc_.run(); });
  }

  uint16_t port() const override { return bound_.port(); }
  std::string address() const override {
    return fmt::format("{}:{}", bound_.address().to_string(), bound_.port());
  }

  void stop(std::chrono::milliseconds grace) override {
    {
      std::lock_guard lock(mu_);
      if (stopped_) return;
      stopped_ = true;
      signalled_ = true;
      cv_.notify_all();
    }
    stopping_ = true;
    asio::post(acceptor_.get_executor(), [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    auto until = std::chrono::steady_clock::now() + grace;
    while (in_flight_ > 0 && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    workers_.join();
    beast::error_code ec;
    signals_.cancel(ec);
    work_guard_.reset();
    ioc_.stop();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

  void run_until_signal() override {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return signalled_; });
    }
    stop(std::chrono::seconds(10));
  }

  const HttpServerOptions& options() const { return options_; }
  bool stopping() const { return stopping_; }
  std::atomic<int64_t>& in_flight() { return in_flight_; }

  void dispatch(HttpRequest request, Responder respond) {
    asio::post(workers_, [this, request = std::move(request), respond = std::move(respond)]() mutable {
      try {
        handler_(std::move(request), respond);
      } catch (const std::exception& e) {
        respond(HttpResponse{500, "application/json", json_error(500, fmt::format("internal error: {}", e.what())), {}});
      }
    });
  }

 private:
  void accept() {
    acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      } else if (tls_) {
        start_tls_session(std::move(socket));
      } else {
        std::make_shared<Session<PlainStream>>(std::move(socket), this)->start();
      }
      if (!stopping_) accept();
    });
  }

  void start_tls_session(tcp::socket socket) {
    try {
      std::make_shared<Session<TlsStream>>(std::move(socket), tls_context_.load(), this)->start();
    } catch (const std::exception&) {
      // No memory for the connection's TLS state: the connection is dropped, the server goes on.
    }
  }

  HttpServerOptions options_;
  HttpHandler handler_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  asio::thread_pool workers_;
  asio::signal_set signals_;
  asio::executor_work_guard<asio::io_context::executor_type> work_guard_;
  std::vector<std::thread> threads_;
  tcp::endpoint bound_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> in_flight_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool signalled_ = false;
  bool stopped_ = false;
  bool tls_ = false;  // set before the first accept and never after
  // New connections take the current context; a reload swaps it without touching open ones.
  std::atomic<TlsContext> tls_context_;
  std::mutex reload_mu_;
};

template <class Stream>
void Session<Stream>::start() {
  asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
    if constexpr (kIsTls<Stream>) {
      self->handshake();
    } else {
      self->read();
    }
  });
}

template <class Stream>
void Session<Stream>::handshake() {
  // A client that connects and never finishes its handshake is dropped at the read deadline.
  lowest().expires_after(server_->options().read_timeout);
  stream_.async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
    if (ec) return;  // not TLS, no common version or suite, timed out: the connection just ends
    self->read();
  });
}

template <class Stream>
void Session<Stream>::read() {
  parser_.emplace();
  parser_->body_limit(server_->options().max_body_bytes);
  parser_->header_limit(64 * 1024);
  lowest().expires_after(server_->options().read_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   [self = this->shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
}

template <class Stream>
void Session<Stream>::on_read(beast::error_code ec) {
  if (ec == http::error::end_of_stream) {
    close();
    return;
  }
  if (ec == http::error::body_limit) {
    server_->in_flight()++;
    write(HttpResponse{413, "application/json",
                       json_error(413, fmt::format("request body is larger than the limit of {} bytes",
                                                   server_->options().max_body_bytes)),
                       {}},
          false);
    return;
  }
  if (ec) {
    if constexpr (kIsTls<Stream>) {
      // The TLS layer failed or the peer left without close_notify: there is no one to answer.
      if (ec.category() == asio::error::get_ssl_category() || ec == ssl::error::stream_truncated) return;
    }
    if (ec != beast::error::timeout && ec != asio::error::operation_aborted && ec != asio::error::eof &&
        ec != asio::error::connection_reset) {
      server_->in_flight()++;
      write(HttpResponse{400, "application/json", json_error(400, fmt::format("bad request: {}", ec.message())), {}},
            false);
    }
    return;
  }
  auto req = parser_->release();
  bool keep_alive = req.keep_alive() && !server_->stopping();
  HttpRequest request;
  request.method = std::string(req.method_string());
  request.target = std::string(req.target());
  request.content_type = std::string(req[http::field::content_type]);
  request.body = std::move(req.body());
  for (const auto& field : req) {
    request.headers.emplace_back(vouch::lower(std::string_view(field.name_string().data(), field.name_string().size())),
                                 std::string(field.value()));
  }
  beast::error_code peer_ec;
  auto peer = lowest().socket().remote_endpoint(peer_ec);
  if (!peer_ec) {
    request.peer_address = fmt::format("{}:{}", peer.address().to_string(), peer.port());
    request.peer_is_loopback = peer.address().is_loopback() ||
                               (peer.address().is_v6() && peer.address().to_v6().is_v4_mapped() &&
                                asio::ip::make_address_v4(asio::ip::v4_mapped, peer.address().to_v6()).is_loopback());
  }
  if constexpr (kIsTls<Stream>) {
    if (X509* client = SSL_get0_peer_certificate(stream_.native_handle())) {
      if (SSL_get_verify_result(stream_.native_handle()) == X509_V_OK) {
        char subject[512] = {};
        X509_NAME_oneline(X509_get_subject_name(client), subject, sizeof subject - 1);
        request.client_subject = subject;
      }
    }
  }
  auto target = parse_target(request.target);
  server_->in_flight()++;
  if (!target.ok()) {
    write(HttpResponse{400, "application/json", json_error(400, target.error().message), {}}, false);
    return;
  }
  request.path = std::move(target->first);
  request.query = std::move(target->second);

  auto done = std::make_shared<std::atomic<bool>>(false);
  auto self = this->shared_from_this();
  auto respond = [self, done, keep_alive](HttpResponse response) {
    if (done->exchange(true)) return;
    asio::post(self->stream_.get_executor(),
               [self, response = std::move(response), keep_alive]() mutable { self->write(std::move(response), keep_alive); });
  };
  deadline_.emplace(stream_.get_executor());
  deadline_->expires_after(server_->options().request_deadline);
  deadline_->async_wait([respond](beast::error_code timer_ec) {
    if (timer_ec) return;
    respond(HttpResponse{503, "application/json", json_error(503, "request deadline exceeded"), {}});
  });
  server_->dispatch(std::move(request), respond);
}

template <class Stream>
void Session<Stream>::write(HttpResponse response, bool keep_alive) {
  if (deadline_) deadline_->cancel();
  keep_alive = keep_alive && !server_->stopping();
  auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(response.status), 11);
  res->set(http::field::server, server_->options().server_name);
  res->set(http::field::content_type, response.content_type);
  for (const auto& [k, v] : response.headers) res->set(k, v);
  res->body() = std::move(response.body);
  res->keep_alive(keep_alive);
  res->prepare_payload();
  lowest().expires_after(server_->options().read_timeout);
  http::async_write(stream_, *res, [self = this->shared_from_this(), res, keep_alive](beast::error_code ec, size_t) {
    self->server_->in_flight()--;
    if (ec) return;
    if (keep_alive) {
      self->read();
    } else {
      self->close();
    }
  });
}

template <class Stream>
void Session<Stream>::close() {
  if constexpr (kIsTls<Stream>) {
    lowest().expires_after(std::min(server_->options().read_timeout, kTlsShutdownBound));
    stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
      beast::error_code ec;
      self->lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    });
  } else {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    // A lingering close: what the client still sends (the rest of a body answered early with
    // 413) is read and dropped for a moment, because closing a socket with unread data makes
    // the kernel answer with a reset that can reach the client before the response does.
    lowest().expires_after(std::min(server_->options().read_timeout, kLingerBound));
    drain();
  }
}

template <class Stream>
void Session<Stream>::drain() {
  auto discard = std::make_shared<std::array<char, 16384>>();
  lowest().async_read_some(asio::buffer(*discard), [self = this->shared_from_this(), discard](beast::error_code ec, size_t) {
    if (!ec) self->drain();  // until end of stream, an error or the linger bound
  });
}

}  // namespace

std::string_view HttpRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return {};
}

Result<std::multimap<std::string, std::string>> parse_form(std::string_view query) {
  std::multimap<std::string, std::string> params;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
    if (!key.ok() || !value.ok()) return invalid_input("malformed percent escape");
    params.emplace(std::move(*key), std::move(*value));
  }
  return params;
}

Result<std::pair<std::string, std::multimap<std::string, std::string>>> parse_target(std::string_view target) {
  std::string_view path = target, query;
  if (size_t q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
  auto decoded = percent_decode(path, false);
  if (!decoded.ok()) return invalid_input(fmt::format("request path: {}", decoded.error().message));
  auto params = parse_form(query);
  if (!params.ok()) return invalid_input(fmt::format("request query: {}", params.error().message));
  return std::make_pair(std::move(*decoded), std::move(*params));
}

Result<std::unique_ptr<HttpServer>> HttpServer::start(HttpServerOptions options, HttpHandler handler) {
  bool has_cert = !options.tls_cert_file.empty(), has_key = !options.tls_key_file.empty();
  if (has_cert != has_key) {
    return invalid_input(has_cert ? "TLS: a certificate file is given without its key file (give both or neither)"
                                  : "TLS: a key file is given without its certificate file (give both or neither)");
  }
  if (!options.tls_client_ca_file.empty() && !has_cert)
    return invalid_input("TLS: a client CA file needs a serving certificate and key (mutual TLS is TLS)");
  auto server = std::make_unique<Server>(std::move(options), std::move(handler));
  if (has_cert) VOUCH_RETURN_IF_ERROR(server->enable_tls());
  VOUCH_RETURN_IF_ERROR(server->listen());
  server->run();
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace vouch::net
