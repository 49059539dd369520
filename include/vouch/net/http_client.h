// HTTP client on libcurl: one request at a time, bounded response size, timeouts.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "vouch/base/result.h"

namespace vouch::net {

struct ClientResponse {
  long status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string header(std::string_view name) const;           // "" when absent
};

struct ClientOptions {
  std::chrono::seconds timeout{30};
  size_t max_response_bytes = 64 << 20;
};

// Any HTTP status is a successful result; transport failures are kIo errors naming the URL.
Result<ClientResponse> http_get(const std::string& url, const ClientOptions& options = {});
Result<ClientResponse> http_post(const std::string& url, std::string_view body,
                                 std::string_view content_type = "application/json",
                                 const ClientOptions& options = {});

}  // namespace vouch::net
