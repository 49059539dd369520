// A scripted HTTP/1.1 server on a loopback address for registry client tests. It records
// every request with its headers and answers as the test says, including what no real
// registry does on demand: trickling a body, or declaring a Content-Length it does not keep.
// One request per connection (Connection: close); a TLS hello is answered by closing, so a
// client's TLS probe fails at once.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace vouch::testing {

struct ScriptedRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  bool has(const std::string& name) const { return headers.count(name) > 0; }
};

struct ScriptedReply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::optional<size_t> content_length;  // declared length; default: the body's
  int trickle_bytes_per_second = 0;      // 0: all at once
};

class ScriptedServer {
 public:
  using Handler = std::function<ScriptedReply(const ScriptedRequest&)>;

  explicit ScriptedServer(Handler handler, const std::string& address = "127.0.0.1")
      : handler_(std::move(handler)),
        acceptor_(io_, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address(address), 0)) {
    accept_thread_ = std::thread([this] { accept_loop(); });
  }

  ~ScriptedServer() {
    stopping_ = true;
    boost::system::error_code ec;
    {  // wake the blocking accept
      boost::asio::ip::tcp::socket poke(io_);
      poke.connect(acceptor_.local_endpoint(), ec);
    }
    accept_thread_.join();
    std::vector<std::thread> workers;
    {
      std::lock_guard lock(mu_);
      workers.swap(workers_);
    }
    for (auto& t : workers) t.join();
  }

  // "ADDRESS:PORT", as a registry name.
  std::string host_port() const {
    auto ep = acceptor_.local_endpoint();
    return ep.address().to_string() + ":" + std::to_string(ep.port());
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }

  std::vector<ScriptedRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void accept_loop() {
    for (;;) {
      boost::asio::ip::tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (stopping_) return;
      if (ec) continue;
      std::lock_guard lock(mu_);
      workers_.emplace_back([this, s = std::move(socket)]() mutable { serve(std::move(s)); });
    }
  }

  void serve(boost::asio::ip::tcp::socket socket) {
    boost::system::error_code ec;
    std::string data;
    char buf[4096];
    size_t header_end = std::string::npos;
    while (header_end == std::string::npos) {
      size_t n = socket.read_some(boost::asio::buffer(buf), ec);
      if (ec || n == 0) return;
      data.append(buf, n);
      if (static_cast<unsigned char>(data[0]) == 0x16) return;  // a TLS hello: not spoken here
      header_end = data.find("\r\n\r\n");
      if (data.size() > (1 << 20)) return;
    }
    ScriptedRequest req;
    std::string head = data.substr(0, header_end);
    size_t line_end = head.find("\r\n");
    std::string request_line = head.substr(0, line_end);
    size_t sp1 = request_line.find(' '), sp2 = request_line.rfind(' ');
    req.method = request_line.substr(0, sp1);
    req.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    for (size_t pos = line_end; pos != std::string::npos && pos < head.size();) {
      size_t next = head.find("\r\n", pos + 2);
      std::string line = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
      pos = next;
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      size_t v = line.find_first_not_of(' ', colon + 1);
      req.headers[name] = v == std::string::npos ? "" : line.substr(v);
    }
    req.body = data.substr(header_end + 4);
    if (auto it = req.headers.find("content-length"); it != req.headers.end()) {
      size_t want = std::stoul(it->second);
      while (req.body.size() < want) {
        size_t n = socket.read_some(boost::asio::buffer(buf), ec);
        if (ec || n == 0) break;
        req.body.append(buf, n);
      }
    }
    {
      std::lock_guard lock(mu_);
      requests_.push_back(req);
    }
    ScriptedReply reply = handler_(req);
    std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " Scripted\r\n";
    for (const auto& [k, v] : reply.headers) out += k + ": " + v + "\r\n";
    out += "Content-Length: " + std::to_string(reply.content_length.value_or(reply.body.size())) + "\r\n";
    out += "Connection: close\r\n\r\n";
    if (req.method != "HEAD" && reply.trickle_bytes_per_second == 0) out += reply.body;
    boost::asio::write(socket, boost::asio::buffer(out), ec);
    if (req.method != "HEAD" && reply.trickle_bytes_per_second > 0) {
      auto gap = std::chrono::microseconds(1000000 / reply.trickle_bytes_per_second);
      for (size_t i = 0; i < reply.body.size() && !ec && !stopping_; ++i) {
        for (auto slept = std::chrono::microseconds(0); slept < gap && !stopping_; slept += std::chrono::milliseconds(10))
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        boost::asio::write(socket, boost::asio::buffer(&reply.body[i], 1), ec);
      }
    }
    socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  }

  Handler handler_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread accept_thread_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::vector<std::thread> workers_;
  std::vector<ScriptedRequest> requests_;
};

}  // namespace vouch::testing
