#include "vouch/net/http_client.h"

#include <curl/curl.h>

#include <cctype>
#include <memory>
#include <mutex>

#include <fmt/format.h>

namespace vouch::net {
namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Sink {
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  size_t limit = 0;
  bool overflow = false;
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t len = size * n;
  if (sink->body.size() + len > sink->limit) {
    sink->overflow = true;
    return 0;
  }
  sink->body.append(data, len);
  return len;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  std::string_view line(data, size * n);
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.remove_suffix(1);
    if (name.size() < 256 && sink->headers.size() < 256) sink->headers.emplace_back(std::move(name), std::string(value));
  }
  return size * n;
}

Result<ClientResponse> perform(const std::string& url, const std::string* body, std::string_view content_type,
                               const ClientOptions& options) {
  global_init();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) return internal_error("curl_easy_init failed");
  Sink sink;
  sink.limit = options.max_response_bytes;
  curl_slist* hdrs = nullptr;
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> hdrs_guard(nullptr, &curl_slist_free_all);
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(options.timeout.count()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &sink);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "vouch/0.1.0");
  std::string ct;
  if (body) {
    ct = fmt::format("Content-Type: {}", content_type);
    hdrs = curl_slist_append(hdrs, ct.c_str());
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    hdrs_guard.reset(hdrs);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  }
  CURLcode rc = curl_easy_perform(c);
  if (sink.overflow) return io_error(fmt::format("{}: response larger than {} bytes", url, options.max_response_bytes));
  if (rc != CURLE_OK) return io_error(fmt::format("{}: {}", url, curl_easy_strerror(rc)));
  ClientResponse out;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
  out.body = std::move(sink.body);
  out.headers = std::move(sink.headers);
  return out;
}

}  // namespace

std::string ClientResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return "";
}

Result<ClientResponse> http_get(const std::string& url, const ClientOptions& options) {
  return perform(url, nullptr, "", options);
}

Result<ClientResponse> http_post(const std::string& url, std::string_view body, std::string_view content_type,
                                 const ClientOptions& options) {
  std::string b(body);
  return perform(url, &b, content_type, options);
}

}  // namespace vouch::net
