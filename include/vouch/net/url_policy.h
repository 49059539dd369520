// Where an HTTP client may send requests and credentials (registries, OIDC issuers). URLs are
// parsed (RFC 3986, by Boost.URL) and compared by origin (scheme, host, port), never by string
// prefix: "http://localhost.evil.example/" and "http://localhost@evil.example/" name other hosts
// than localhost. Plain HTTP goes only to a loopback host named exactly (127.0.0.1, ::1,
// localhost), unless the user allowed insecure registries.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "vouch/base/result.h"

namespace vouch::net {

struct Origin {
  std::string scheme;  // "http" or "https"
  std::string host;    // lower case; an IPv6 address without brackets
  uint16_t port = 0;   // the scheme's default when the URL names none
  bool operator==(const Origin&) const = default;
};

// The origin of an absolute http or https URL. Other schemes, a missing host and user
// information in the URL ("user@host") are invalid input.
Result<Origin> url_origin(std::string_view url);

// 127.0.0.1, ::1 or localhost (any case), and nothing else: not 127.1, not localhost.example.
bool is_loopback_host(std::string_view host);

// Whether plain HTTP is allowed for this registry ("host[:port]") without --allow-insecure-registry.
bool is_localhost_registry(std::string_view registry);

// `location` (absolute or relative, as a Location or Link header gives it) resolved against
// the URL of the request that returned it.
Result<std::string> resolve_url(std::string_view base, std::string_view location);

// Whether a request may go to `url` (`what` names it in the error: "token realm", "redirect"):
// http or https only, without user information; plain HTTP only to a loopback host unless
// `allow_insecure`.
Status check_url_allowed(std::string_view url, bool allow_insecure, std::string_view what);

// A redirect from `from` to `to`: as check_url_allowed, and never from https down to plain
// HTTP unless `allow_insecure`.
Status check_redirect(std::string_view from, std::string_view to, bool allow_insecure);

}  // namespace vouch::net
