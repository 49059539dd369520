// The HTTP client of every module (registries, the transparency log, certificate authorities),
// on libcurl: TLS verified by default (extra trust anchors from a CA file), bounded redirects
// (never from https to http), retries with backoff on 429/5xx and transport failures within an
// optional deadline, streamed response bodies, and parsing of WWW-Authenticate challenges.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"

namespace vouch::net {

// Header lines in the order received; lookups ignore case.
class Headers {
 public:
  void add(std::string name, std::string value) { items_.emplace_back(std::move(name), std::move(value)); }
  std::optional<std::string> get(std::string_view name) const;  // the last one of that name
  std::vector<std::string> get_all(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }
  void clear() { items_.clear(); }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

struct Request {
  std::string method = "GET";
  std::string url;
  Headers headers;
  std::string body;           // sent for POST, PUT, PATCH
  bool follow_redirects = true;
};

struct Response {
  long status = 0;
  Headers headers;
  std::string body;
  std::string effective_url;  // after redirects
};

struct ClientOptions {
  bool verify_tls = true;
  std::string ca_file;                              // extra trust anchors (PEM); empty: the system's
  int max_retries = 4;                              // retries after the first attempt
  std::chrono::milliseconds initial_backoff{250};
  std::chrono::milliseconds max_backoff{8000};
  long connect_timeout_seconds = 30;
  long low_speed_seconds = 120;                     // abort when under low_speed_bytes_per_second this long
  long low_speed_bytes_per_second = 1;
  // Every transfer, retry and backoff ends by then (a command's --timeout).
  std::optional<std::chrono::steady_clock::time_point> deadline;
  long max_redirects = 10;
  std::string user_agent = "vouch/0.1.0";
  std::chrono::milliseconds timeout{0};             // one attempt, body included; 0: no limit
  std::chrono::milliseconds request_deadline{0};    // one request: all attempts and the waits between; 0: none
};

// A response whose body is read piece by piece (for blobs of any size).
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  virtual long status() const = 0;
  virtual const Headers& headers() const = 0;
  virtual const std::string& effective_url() const = 0;
  // Reads up to out.size() bytes; 0 at the end of the body.
  virtual Result<size_t> read(std::span<uint8_t> out) = 0;
};

class Client {
 public:
  explicit Client(ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const ClientOptions& options() const { return options_; }

  // The whole response, its body bounded by max_body_bytes (larger is an error naming the URL).
  Result<Response> send(const Request& request, size_t max_body_bytes = 16 << 20);
  // Opens a streamed response once its status and headers have arrived. Retries (429, 5xx,
  // connection failures) happen before the body is handed out.
  Result<std::unique_ptr<ResponseStream>> open(const Request& request);

 private:
  ClientOptions options_;
};

// "Bearer realm=\"https://auth\",service=\"registry\",scope=\"repository:a:pull\"" -> challenges.
struct Challenge {
  std::string scheme;                          // lower case: "bearer", "basic"
  std::map<std::string, std::string> params;   // keys lower case
};
std::vector<Challenge> parse_www_authenticate(std::string_view header);

std::string url_escape(std::string_view text);  // percent-encodes all but unreserved characters

// Backoff before retry `attempt` (0-based): initial * 2^attempt, capped, with jitter; a
// Retry-After header (seconds) raises it up to the cap.
std::chrono::milliseconds backoff_delay(const ClientOptions& options, int attempt,
                                        std::optional<std::string_view> retry_after);

}  // namespace vouch::net
