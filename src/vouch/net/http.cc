#include "vouch/net/http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>

#include "vouch/base/ascii.h"

namespace vouch::net {
namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return std::string(s);
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool retryable_status(long status) { return status == 429 || status == 500 || status == 502 || status == 503 || status == 504; }

// One transfer driven by the multi interface so that the body can be pulled.
class CurlStream final : public ResponseStream {
 public:
  CurlStream(const ClientOptions& options, const Request& request, std::chrono::milliseconds timeout)
      : request_(request) {
    global_init();
    easy_ = curl_easy_init();
    multi_ = curl_multi_init();
    if (!easy_ || !multi_) return;
    curl_easy_setopt(easy_, CURLOPT_URL, request_.url.c_str());
    curl_easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "http,https");
    // Never follow a redirect from https down to http.
    bool https = request_.url.starts_with("https://");
    curl_easy_setopt(easy_, CURLOPT_REDIR_PROTOCOLS_STR, https ? "https" : "http,https");
    curl_easy_setopt(easy_, CURLOPT_FOLLOWLOCATION, request_.follow_redirects ? 1L : 0L);
    curl_easy_setopt(easy_, CURLOPT_MAXREDIRS, options.max_redirects);
    curl_easy_setopt(easy_, CURLOPT_SSL_VERIFYPEER, options.verify_tls ? 1L : 0L);
    curl_easy_setopt(easy_, CURLOPT_SSL_VERIFYHOST, options.verify_tls ? 2L : 0L);
    if (!options.ca_file.empty()) curl_easy_setopt(easy_, CURLOPT_CAINFO, options.ca_file.c_str());
    curl_easy_setopt(easy_, CURLOPT_CONNECTTIMEOUT, options.connect_timeout_seconds);
    if (timeout.count() > 0) curl_easy_setopt(easy_, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_easy_setopt(easy_, CURLOPT_LOW_SPEED_LIMIT, options.low_speed_bytes_per_second);
    curl_easy_setopt(easy_, CURLOPT_LOW_SPEED_TIME, options.low_speed_seconds);
    curl_easy_setopt(easy_, CURLOPT_USERAGENT, options.user_agent.c_str());
    curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &CurlStream::on_write);
    curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, &CurlStream::on_header);
    curl_easy_setopt(easy_, CURLOPT_HEADERDATA, this);
    for (const auto& [name, value] : request_.headers.items())
      header_list_ = curl_slist_append(header_list_, (name + ": " + value).c_str());
    // No "Expect: 100-continue" round trip for uploads.
    header_list_ = curl_slist_append(header_list_, "Expect:");
    curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, header_list_);
    const std::string& m = request_.method;
    if (m == "HEAD") {
      curl_easy_setopt(easy_, CURLOPT_NOBODY, 1L);
    } else if (m == "GET") {
      curl_easy_setopt(easy_, CURLOPT_HTTPGET, 1L);
    } else {
      curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request_.body.size()));
      curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, request_.body.data());
      if (m != "POST") curl_easy_setopt(easy_, CURLOPT_CUSTOMREQUEST, m.c_str());
      // A POST redirected keeps its method (registries redirect uploads rarely, but do it right).
      curl_easy_setopt(easy_, CURLOPT_POSTREDIR, static_cast<long>(CURL_REDIR_POST_ALL));
    }
    curl_multi_add_handle(multi_, easy_);
  }

  ~CurlStream() override {
    if (multi_ && easy_) curl_multi_remove_handle(multi_, easy_);
    if (easy_) curl_easy_cleanup(easy_);
    if (multi_) curl_multi_cleanup(multi_);
    if (header_list_) curl_slist_free_all(header_list_);
  }

  // Drives the transfer until the first body bytes arrive or it ends.
  Status start() {
    if (!easy_ || !multi_) return internal_error("libcurl: cannot create a transfer");
    while (buffer_.size() == pos_ && !done_) VOUCH_RETURN_IF_ERROR(pump());
    return ok_status();
  }

  long status() const override { return status_; }
  const Headers& headers() const override { return headers_; }
  const std::string& effective_url() const override { return effective_url_; }

  Result<size_t> read(std::span<uint8_t> out) override {
    while (buffer_.size() == pos_ && !done_) VOUCH_RETURN_IF_ERROR(pump());
    size_t n = std::min(out.size(), buffer_.size() - pos_);
    if (n > 0) std::memcpy(out.data(), buffer_.data() + pos_, n);
    pos_ += n;
    if (pos_ == buffer_.size()) {
      buffer_.clear();
      pos_ = 0;
    }
    return n;
  }

  bool transport_failed() const { return transport_failed_; }

 private:
  Status pump() {
    int running = 0;
    CURLMcode mc = curl_multi_perform(multi_, &running);
    if (mc != CURLM_OK) return io_error(fmt::format("{}: {}", request_.url, curl_multi_strerror(mc)));
    int msgs = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &msgs)) {
      if (msg->msg == CURLMSG_DONE) {
        done_ = true;
        if (msg->data.result != CURLE_OK) {
          // Worth another try: the network, not the peer's identity or our request.
          switch (msg->data.result) {
            case CURLE_COULDNT_RESOLVE_HOST:
            case CURLE_COULDNT_CONNECT:
            case CURLE_OPERATION_TIMEDOUT:
            case CURLE_SEND_ERROR:
            case CURLE_RECV_ERROR:
            case CURLE_GOT_NOTHING:
            case CURLE_PARTIAL_FILE:
              transport_failed_ = true;
              break;
            default:
              break;
          }
          return io_error(fmt::format("{} {}: {}", request_.method, request_.url, curl_easy_strerror(msg->data.result)));
        }
      }
    }
    update_info();
    if (!done_ && buffer_.size() == pos_) {
      mc = curl_multi_poll(multi_, nullptr, 0, 1000, nullptr);
      if (mc != CURLM_OK) return io_error(fmt::format("{}: {}", request_.url, curl_multi_strerror(mc)));
    }
    return ok_status();
  }

  void update_info() {
    long code = 0;
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &code);
    status_ = code;
    char* url = nullptr;
    if (curl_easy_getinfo(easy_, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url) effective_url_ = url;
  }

  static size_t on_write(char* data, size_t size, size_t n, void* self_ptr) {
    auto* self = static_cast<CurlStream*>(self_ptr);
    self->buffer_.insert(self->buffer_.end(), data, data + size * n);
    return size * n;
  }

  static size_t on_header(char* data, size_t size, size_t n, void* self_ptr) {
    auto* self = static_cast<CurlStream*>(self_ptr);
    std::string_view line(data, size * n);
    if (line.starts_with("HTTP/")) {
      self->headers_.clear();  // a new response (after a redirect or 100 Continue)
    } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
      self->headers_.add(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
    }
    return size * n;
  }

  Request request_;
  CURL* easy_ = nullptr;
  CURLM* multi_ = nullptr;
  curl_slist* header_list_ = nullptr;
  std::vector<char> buffer_;
  size_t pos_ = 0;
  bool done_ = false;
  bool transport_failed_ = false;
  long status_ = 0;
  Headers headers_;
  std::string effective_url_;
};

}  // namespace

std::optional<std::string> Headers::get(std::string_view name) const {
  for (auto it = items_.rbegin(); it != items_.rend(); ++it)
    if (iequals(it->first, name)) return it->second;
  return std::nullopt;
}

std::vector<std::string> Headers::get_all(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : items_)
    if (iequals(k, name)) out.push_back(v);
  return out;
}

Client::Client(ClientOptions options) : options_(std::move(options)) { global_init(); }
Client::~Client() = default;

std::chrono::milliseconds backoff_delay(const ClientOptions& options, int attempt,
                                        std::optional<std::string_view> retry_after) {
  using std::chrono::milliseconds;
  int64_t base = options.initial_backoff.count();
  for (int i = 0; i < attempt && base < options.max_backoff.count(); ++i) base *= 2;
  base = std::min<int64_t>(base, options.max_backoff.count());
  if (retry_after) {
    int64_t seconds = 0;
    bool digits = !retry_after->empty() && retry_after->size() < 8;
    for (char c : *retry_after) {
      if (c < '0' || c > '9') digits = false;
      else seconds = seconds * 10 + (c - '0');
    }
    if (digits) base = std::min<int64_t>(std::max<int64_t>(base, seconds * 1000), options.max_backoff.count());
  }
  static thread_local std::mt19937 rng{std::random_device{}()};
  int64_t jitter = base / 4 > 0 ? std::uniform_int_distribution<int64_t>(0, base / 4)(rng) : 0;
  return milliseconds(base - base / 8 + jitter);
}

Result<std::unique_ptr<ResponseStream>> Client::open(const Request& request) {
  using std::chrono::milliseconds;
  using Clock = std::chrono::steady_clock;
  if (!request.url.starts_with("https://") && !request.url.starts_with("http://"))
    return invalid_input(fmt::format("URL '{}': only http and https are supported", request.url.substr(0, 200)));
  // The earlier of this request's own deadline and the command's.
  std::optional<Clock::time_point> end = options_.deadline;
  if (options_.request_deadline.count() > 0) {
    auto own = Clock::now() + options_.request_deadline;
    if (!end || own < *end) end = own;
  }
  auto left = [&] { return std::chrono::duration_cast<milliseconds>(*end - Clock::now()); };
  // Whether another attempt after `wait` still starts (with time to run) before the deadline.
  auto time_left_after = [&](milliseconds wait) { return !end || wait < left(); };
  for (int attempt = 0;; ++attempt) {
    milliseconds timeout = options_.timeout;
    if (end) {
      milliseconds remaining = std::max(left(), milliseconds(1));
      if (timeout.count() <= 0 || remaining < timeout) timeout = remaining;
    }
    auto stream = std::make_unique<CurlStream>(options_, request, timeout);
    Status st = stream->start();
    bool last = attempt >= options_.max_retries;
    if (!st.ok()) {
      if (stream->transport_failed() && !last) {
        milliseconds wait = backoff_delay(options_, attempt, std::nullopt);
        if (time_left_after(wait)) {
          std::this_thread::sleep_for(wait);
          continue;
        }
      }
      return std::move(st).error();
    }
    if (retryable_status(stream->status()) && !last) {
      milliseconds wait = backoff_delay(options_, attempt, stream->headers().get("Retry-After"));
      if (time_left_after(wait)) {
        std::this_thread::sleep_for(wait);
        continue;
      }
    }
    return std::unique_ptr<ResponseStream>(std::move(stream));
  }
}

Result<Response> Client::send(const Request& request, size_t max_body_bytes) {
  VOUCH_ASSIGN_OR_RETURN(auto stream, open(request));
  Response r;
  r.status = stream->status();
  r.headers = stream->headers();
  r.effective_url = stream->effective_url();
  std::vector<uint8_t> buf(64 * 1024);
  for (;;) {
    VOUCH_ASSIGN_OR_RETURN(size_t n, stream->read(buf));
    if (n == 0) break;
    if (r.body.size() + n > max_body_bytes)
      return invalid_input(fmt::format("{} {}: response body exceeds the limit of {} bytes", request.method,
                                       request.url, max_body_bytes));
    r.body.append(reinterpret_cast<const char*>(buf.data()), n);
  }
  r.status = stream->status();
  r.headers = stream->headers();
  r.effective_url = stream->effective_url();
  return r;
}

std::vector<Challenge> parse_www_authenticate(std::string_view h) {
  std::vector<Challenge> out;
  size_t i = 0;
  auto skip_ws = [&] {
    while (i < h.size() && (h[i] == ' ' || h[i] == '\t' || h[i] == ',')) ++i;
  };
  auto token = [&] {
    size_t start = i;
    while (i < h.size() && h[i] != ' ' && h[i] != '\t' && h[i] != '=' && h[i] != ',') ++i;
    return std::string(h.substr(start, i - start));
  };
  skip_ws();
  while (i < h.size()) {
    Challenge c;
    c.scheme = lower(token());
    if (c.scheme.empty()) break;
    // auth-params: key=value or key="quoted", separated by commas, until the next scheme.
    for (;;) {
      skip_ws();
      size_t save = i;
      std::string key = token();
      size_t after_key = i;
      while (i < h.size() && (h[i] == ' ' || h[i] == '\t')) ++i;
      if (key.empty() || i >= h.size() || h[i] != '=') {
        i = key.empty() ? after_key : save;  // a new scheme starts here
        break;
      }
      ++i;  // '='
      while (i < h.size() && (h[i] == ' ' || h[i] == '\t')) ++i;
      std::string value;
      if (i < h.size() && h[i] == '"') {
        ++i;
        while (i < h.size() && h[i] != '"') {
          if (h[i] == '\\' && i + 1 < h.size()) ++i;
          value.push_back(h[i++]);
        }
        if (i < h.size()) ++i;
      } else {
        size_t start = i;
        while (i < h.size() && h[i] != ',' && h[i] != ' ') ++i;
        value = std::string(h.substr(start, i - start));
      }
      c.params[lower(key)] = value;
      if (i >= h.size()) break;
    }
    out.push_back(std::move(c));
    skip_ws();
    if (out.size() > 16) break;
  }
  return out;
}

std::string url_escape(std::string_view text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

}  // namespace vouch::net
