#include "vouch/net/url_policy.h"

#include <boost/url.hpp>

#include <algorithm>
#include <cctype>

namespace vouch::net {
namespace {

namespace bu = boost::urls;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// A URL's text for an error line: bounded, so a hostile header cannot flood it.
std::string shown(std::string_view url) {
  return std::string(url.substr(0, 200)) + (url.size() > 200 ? "..." : "");
}

// The host as compared: a name in lower case exactly as written (a percent-encoded name is
// never taken for another, since that is not the name a connection would use), an address
// in its canonical form.
template <typename View>
std::string host_of(const View& v) {
  switch (v.host_type()) {
    case bu::host_type::ipv4: return v.host_ipv4_address().to_string();
    case bu::host_type::ipv6: return v.host_ipv6_address().to_string();
    default: return lower(std::string_view(v.encoded_host().data(), v.encoded_host().size()));
  }
}

template <typename View>
bool loopback(const View& v) {
  switch (v.host_type()) {
    case bu::host_type::ipv4: return v.host_ipv4_address() == bu::ipv4_address::loopback();
    case bu::host_type::ipv6: return v.host_ipv6_address() == bu::ipv6_address::loopback();
    case bu::host_type::name: return is_loopback_host(std::string_view(v.encoded_host().data(), v.encoded_host().size()));
    default: return false;
  }
}

Result<bu::url_view> parse_http_url(std::string_view url) {
  auto parsed = bu::parse_uri(bu::string_view(url.data(), url.size()));
  if (!parsed) return invalid_input(fmt::format("'{}' is not a URL", shown(url)));
  bu::url_view u = *parsed;
  if (u.scheme_id() != bu::scheme::http && u.scheme_id() != bu::scheme::https)
    return invalid_input(fmt::format("'{}': only http and https URLs are followed", shown(url)));
  if (!u.has_authority() || u.host_type() == bu::host_type::none || u.encoded_host().empty())
    return invalid_input(fmt::format("'{}' names no host", shown(url)));
  // Boost.URL 1.81 ends a host at a prefix that reads as IPv4 ("127.0.0.1.evil.example" parses
  // as host 127.0.0.1 and path ".evil.example"), where RFC 3986 wants the path after an
  // authority empty or starting with '/': such a URL is refused rather than misread.
  if (!u.encoded_path().empty() && u.encoded_path().front() != '/')
    return invalid_input(fmt::format("'{}' is not a URL (host followed by '{}')", shown(url), shown(u.encoded_path())));
  if (u.has_userinfo())
    return invalid_input(fmt::format("'{}' carries user information; it is refused so that credentials and "
                                     "requests go only to the host they are meant for", shown(url)));
  return u;
}

}  // namespace

bool is_loopback_host(std::string_view host) {
  std::string h = lower(host);
  return h == "localhost" || h == "127.0.0.1" || h == "::1" || h == "[::1]";
}

bool is_localhost_registry(std::string_view registry) {
  auto parsed = bu::parse_authority(bu::string_view(registry.data(), registry.size()));
  if (!parsed || parsed->has_userinfo()) return false;
  return loopback(*parsed);
}

Result<Origin> url_origin(std::string_view url) {
  VOUCH_ASSIGN_OR_RETURN(bu::url_view u, parse_http_url(url));
  Origin o;
  o.scheme = u.scheme_id() == bu::scheme::https ? "https" : "http";
  o.host = host_of(u);
  if (u.has_port()) {
    if (u.port().empty() || u.port_number() == 0) return invalid_input(fmt::format("'{}': bad port", shown(url)));
    o.port = u.port_number();
  } else {
    o.port = o.scheme == "https" ? 443 : 80;
  }
  return o;
}

Result<std::string> resolve_url(std::string_view base, std::string_view location) {
  auto b = bu::parse_uri(bu::string_view(base.data(), base.size()));
  if (!b) return invalid_input(fmt::format("'{}' is not a URL", shown(base)));
  auto ref = bu::parse_uri_reference(bu::string_view(location.data(), location.size()));
  if (!ref || (ref->has_authority() && !ref->encoded_path().empty() && ref->encoded_path().front() != '/'))
    return invalid_input(fmt::format("Location '{}' is not a URL reference", shown(location)));
  bu::url out;
  if (auto r = bu::resolve(*b, *ref, out); !r)
    return invalid_input(fmt::format("Location '{}' cannot be resolved against {}", shown(location), shown(base)));
  return std::string(out.buffer());
}

Status check_url_allowed(std::string_view url, bool allow_insecure, std::string_view what) {
  auto u = parse_http_url(url);
  if (!u.ok()) return std::move(u).error().context(what);
  if (u->scheme_id() == bu::scheme::http && !allow_insecure && !loopback(*u))
    return verification_failed(fmt::format("{} '{}' is plain HTTP to a host other than 127.0.0.1, ::1 or localhost "
                                           "(use https, or --allow-insecure-registry)", what, shown(url)));
  return ok_status();
}

Status check_redirect(std::string_view from, std::string_view to, bool allow_insecure) {
  VOUCH_RETURN_IF_ERROR(check_url_allowed(to, allow_insecure, "redirect"));
  auto source = url_origin(from);
  auto target = url_origin(to);
  if (!allow_insecure && source.ok() && target.ok() && source->scheme == "https" && target->scheme == "http")
    return verification_failed(fmt::format("redirect from {} down to plain HTTP '{}' refused", shown(from), shown(to)));
  return ok_status();
}

}  // namespace vouch::net
