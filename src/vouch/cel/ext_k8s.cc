// Kubernetes' CEL libraries for IP addresses and CIDRs, URLs and resource quantities
// (k8s.io/apiserver/pkg/cel/library). Their values are opaque messages (net.IP, net.CIDR,
// kubernetes.URL, kubernetes.Quantity) whose fields are kept normalized so that CEL equality
// means equal addresses, URLs and amounts.
#include <arpa/inet.h>

#include <cmath>
#include <algorithm>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "internal.h"

namespace vouch::cel {
namespace {

using Args = std::span<const Value>;

constexpr const char* kIpType = "net.IP";
constexpr const char* kCidrType = "net.CIDR";
constexpr const char* kUrlType = "kubernetes.URL";
constexpr const char* kQuantityType = "kubernetes.Quantity";

bool is_message(const Value& v, const char* type) { return v.is(Kind::kMessage) && v.as_message().type_name == type; }

const Value& field(const Value& v, const char* name) {
  static const Value kNull;
  const Value* f = v.as_message().find(name);
  return f ? *f : kNull;
}

// --- IP addresses ---------------------------------------------------------------------------

// 4 or 16 address bytes; IPv4-mapped IPv6 written in hexadecimal reads as IPv4, written with a
// dotted quad is refused, as Kubernetes does.
Result<std::string> parse_ip(const std::string& s) {
  if (s.find('%') != std::string::npos) return invalid_input(fmt::format("IP address with zone value is not allowed: {}", s));
  unsigned char buf[16];
  if (s.find(':') == std::string::npos) {
    // Dotted quad without leading zeros.
    size_t start = 0;
    for (int part = 0; part < 4; ++part) {
      size_t end = s.find('.', start);
      if ((part < 3) != (end != std::string::npos)) return invalid_input(fmt::format("IP Address \"{}\" parse error", s));
      std::string p = s.substr(start, end == std::string::npos ? std::string::npos : end - start);
      if (p.empty() || p.size() > 3 || (p.size() > 1 && p[0] == '0') ||
          p.find_first_not_of("0123456789") != std::string::npos || std::stoi(p) > 255)
        return invalid_input(fmt::format("IP Address \"{}\" parse error", s));
      buf[part] = static_cast<unsigned char>(std::stoi(p));
      start = end + 1;
    }
    return std::string(reinterpret_cast<char*>(buf), 4);
  }
  if (inet_pton(AF_INET6, s.c_str(), buf) != 1) return invalid_input(fmt::format("IP Address \"{}\" parse error", s));
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(buf, kMapped, 12) == 0) {
    if (s.find('.') != std::string::npos) return invalid_input("IPv4-mapped IPv6 address is not allowed");
    return std::string(reinterpret_cast<char*>(buf + 12), 4);
  }
  return std::string(reinterpret_cast<char*>(buf), 16);
}

std::string ip_text(const std::string& addr) {
  char out[INET6_ADDRSTRLEN];
  inet_ntop(addr.size() == 4 ? AF_INET : AF_INET6, addr.data(), out, sizeof out);
  return out;
}

Value ip_value(std::string addr) {
  Message m;
  m.type_name = kIpType;
  m.fields.emplace_back("addr", Value::bytes(std::move(addr)));
  return Value::message(std::move(m));
}

std::string masked(const std::string& addr, int64_t prefix) {
  std::string out = addr;
  for (size_t k = 0; k < out.size(); ++k) {
    int64_t bits = prefix - static_cast<int64_t>(k) * 8;
    if (bits >= 8) continue;
    out[k] = static_cast<char>(bits <= 0 ? 0 : (static_cast<unsigned char>(out[k]) & (0xFF << (8 - bits))));
  }
  return out;
}

Result<std::pair<std::string, int64_t>> parse_cidr(const std::string& s) {
  size_t slash = s.find('/');
  if (slash == std::string::npos) return invalid_input(fmt::format("network address parse error during conversion from string: {}", s));
  VOUCH_ASSIGN_OR_RETURN(auto addr, parse_ip(s.substr(0, slash)));
  std::string p = s.substr(slash + 1);
  if (p.empty() || p.size() > 3 || p.find_first_not_of("0123456789") != std::string::npos || (p.size() > 1 && p[0] == '0'))
    return invalid_input(fmt::format("network address parse error during conversion from string: {}", s));
  int64_t prefix = std::stoi(p);
  if (prefix > static_cast<int64_t>(addr.size()) * 8)
    return invalid_input(fmt::format("network address parse error during conversion from string: {}", s));
  return std::pair(addr, prefix);
}

Value cidr_value(std::string addr, int64_t prefix) {
  Message m;
  m.type_name = kCidrType;
  m.fields.emplace_back("addr", Value::bytes(std::move(addr)));
  m.fields.emplace_back("prefix", Value::integer(prefix));
  return Value::message(std::move(m));
}

bool cidr_contains(const std::string& net, int64_t prefix, const std::string& addr) {
  return net.size() == addr.size() && masked(net, prefix) == masked(addr, prefix);
}

Value ip_predicate(Args a, const char* name, bool (*pred)(const unsigned char*, size_t)) {
  if (!is_message(a[0], kIpType)) return Value::no_overload(name);
  const std::string& addr = field(a[0], "addr").as_bytes();
  return Value::boolean(pred(reinterpret_cast<const unsigned char*>(addr.data()), addr.size()));
}

bool is_unspecified(const unsigned char* p, size_t n) {
  for (size_t k = 0; k < n; ++k)
    if (p[k]) return false;
  return true;
}
bool is_loopback(const unsigned char* p, size_t n) {
  if (n == 4) return p[0] == 127;
  for (size_t k = 0; k < 15; ++k)
    if (p[k]) return false;
  return p[15] == 1;
}
bool is_multicast(const unsigned char* p, size_t n) { return n == 4 ? (p[0] & 0xF0) == 0xE0 : p[0] == 0xFF; }
bool is_link_local_multicast(const unsigned char* p, size_t n) {
  if (n == 4) return p[0] == 224 && p[1] == 0 && p[2] == 0;
  return p[0] == 0xFF && (p[1] & 0x0F) == 0x02;
}
bool is_link_local_unicast(const unsigned char* p, size_t n) {
  if (n == 4) return p[0] == 169 && p[1] == 254;
  return p[0] == 0xFE && (p[1] & 0xC0) == 0x80;
}
bool is_global_unicast(const unsigned char* p, size_t n) {
  if (n == 4 && p[0] == 255 && p[1] == 255 && p[2] == 255 && p[3] == 255) return false;
  return !is_unspecified(p, n) && !is_loopback(p, n) && !is_multicast(p, n) && !is_link_local_unicast(p, n);
}

// --- URLs -----------------------------------------------------------------------------------

struct Url {
  std::string scheme, host, port, path, query;
};

// A request URI as Go's url.ParseRequestURI accepts it: absolute (scheme:…) or an absolute path.
Result<Url> parse_url(const std::string& s) {
  auto bad = [&] { return invalid_input(fmt::format("URL parse error during conversion from string: {}", s)); };
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f || c == ' ') return bad();
  Url u;
  std::string rest = s;
  size_t colon = rest.find(':');
  size_t first_slash = rest.find('/');
  if (colon != std::string::npos && (first_slash == std::string::npos || colon < first_slash)) {
    u.scheme = rest.substr(0, colon);
    if (u.scheme.empty() || !std::isalpha(static_cast<unsigned char>(u.scheme[0]))) return bad();
    for (char c : u.scheme)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return bad();
    rest = rest.substr(colon + 1);
  } else if (rest.empty() || rest[0] != '/') {
    return bad();
  }
  size_t q = rest.find('?');
  if (q != std::string::npos) {
    u.query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  if (rest.rfind("//", 0) == 0) {
    rest = rest.substr(2);
    size_t slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    rest = slash == std::string::npos ? "" : rest.substr(slash);
    size_t at = authority.rfind('@');
    if (at != std::string::npos) authority = authority.substr(at + 1);
    if (!authority.empty() && authority[0] == '[') {
      size_t close = authority.find(']');
      if (close == std::string::npos) return bad();
      u.host = authority.substr(0, close + 1);
      std::string after = authority.substr(close + 1);
      if (!after.empty()) {
        if (after[0] != ':') return bad();
        u.port = after.substr(1);
      }
    } else {
      size_t pc = authority.rfind(':');
      u.host = authority.substr(0, pc);
      if (pc != std::string::npos) u.port = authority.substr(pc + 1);
    }
    if (u.port.find_first_not_of("0123456789") != std::string::npos) return bad();
  } else if (!u.scheme.empty() && (rest.empty() || rest[0] != '/')) {
    // An opaque URI (mailto:x) has no path.
    return u;
  }
  u.path = rest;
  return u;
}

Value url_value(const Url& u) {
  Message m;
  m.type_name = kUrlType;
  m.fields.emplace_back("scheme", Value::string(u.scheme));
  m.fields.emplace_back("host", Value::string(u.host));
  m.fields.emplace_back("port", Value::string(u.port));
  m.fields.emplace_back("path", Value::string(u.path));
  m.fields.emplace_back("query", Value::string(u.query));
  return Value::message(std::move(m));
}

std::string percent_decode(const std::string& s, bool plus_is_space) {
  std::string out;
  for (size_t k = 0; k < s.size(); ++k) {
    if (s[k] == '+' && plus_is_space) {
      out += ' ';
    } else if (s[k] == '%' && k + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[k + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[k + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(k + 1, 2), nullptr, 16));
      k += 2;
    } else {
      out += s[k];
    }
  }
  return out;
}

Value url_query(const std::string& q) {
  std::vector<std::pair<std::string, List>> params;
  size_t start = 0;
  while (start <= q.size() && !q.empty()) {
    size_t amp = q.find('&', start);
    std::string part = q.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
    if (!part.empty()) {
      size_t eq = part.find('=');
      std::string key = percent_decode(part.substr(0, eq), true);
      std::string value = eq == std::string::npos ? "" : percent_decode(part.substr(eq + 1), true);
      auto it = std::find_if(params.begin(), params.end(), [&](const auto& p) { return p.first == key; });
      if (it == params.end()) params.emplace_back(key, List{Value::string(value)});
      else it->second.push_back(Value::string(value));
    }
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
  Map m;
  for (auto& [k, v] : params) m.insert(Value::string(k), Value::list(std::move(v)));
  return Value::map(std::move(m));
}

// --- quantities -----------------------------------------------------------------------------

// value = mantissa × 10^exponent, mantissa without trailing zeros (0 has exponent 0).
struct Decimal {
  __int128 mantissa = 0;
  int exponent = 0;
};

void normalize(Decimal& d) {
  if (d.mantissa == 0) {
    d.exponent = 0;
    return;
  }
  while (d.mantissa % 10 == 0) {
    d.mantissa /= 10;
    ++d.exponent;
  }
}

constexpr __int128 kMantissaLimit = static_cast<__int128>(1) << 120;

Result<Decimal> parse_quantity(const std::string& s) {
  auto bad = [&] { return invalid_input(fmt::format("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': {}", s)); };
  size_t k = 0;
  bool negative = false;
  if (k < s.size() && (s[k] == '+' || s[k] == '-')) negative = s[k++] == '-';
  Decimal d;
  size_t digits = 0;
  bool dot = false;
  for (; k < s.size() && (std::isdigit(static_cast<unsigned char>(s[k])) || s[k] == '.'); ++k) {
    if (s[k] == '.') {
      if (dot) return bad();
      dot = true;
      continue;
    }
    if (++digits > 30) return bad();
    d.mantissa = d.mantissa * 10 + (s[k] - '0');
    if (dot) --d.exponent;
  }
  if (digits == 0) return bad();
  std::string suffix = s.substr(k);
  int binary = 0;
  if (suffix.empty()) {
  } else if (suffix == "Ki") binary = 10;
  else if (suffix == "Mi") binary = 20;
  else if (suffix == "Gi") binary = 30;
  else if (suffix == "Ti") binary = 40;
  else if (suffix == "Pi") binary = 50;
  else if (suffix == "Ei") binary = 60;
  else if (suffix == "n") d.exponent -= 9;
  else if (suffix == "u") d.exponent -= 6;
  else if (suffix == "m") d.exponent -= 3;
  else if (suffix == "k") d.exponent += 3;
  else if (suffix == "M") d.exponent += 6;
  else if (suffix == "G") d.exponent += 9;
  else if (suffix == "T") d.exponent += 12;
  else if (suffix == "P") d.exponent += 15;
  else if (suffix == "E") d.exponent += 18;
  else if (suffix[0] == 'e' || suffix[0] == 'E') {
    std::string e = suffix.substr(1);
    size_t p = (!e.empty() && (e[0] == '+' || e[0] == '-')) ? 1 : 0;
    if (e.size() == p || e.size() > p + 4 || e.find_first_not_of("0123456789", p) != std::string::npos) return bad();
    d.exponent += std::stoi(e);
  } else {
    return bad();
  }
  for (int b = 0; b < binary; ++b) {
    d.mantissa *= 2;
    if (d.mantissa > kMantissaLimit) return invalid_input(fmt::format("quantity {} is too large", s));
  }
  if (negative) d.mantissa = -d.mantissa;
  normalize(d);
  return d;
}

Value quantity_value(const Decimal& d) {
  Message m;
  m.type_name = kQuantityType;
  // The mantissa as text keeps all 128 bits; equality of normalized fields is equality of amounts.
  __int128 v = d.mantissa < 0 ? -d.mantissa : d.mantissa;
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  } while (v);
  if (d.mantissa < 0) digits.insert(digits.begin(), '-');
  m.fields.emplace_back("mantissa", Value::string(digits));
  m.fields.emplace_back("exponent", Value::integer(d.exponent));
  return Value::message(std::move(m));
}

Decimal decimal_of(const Value& q) {
  Decimal d;
  const std::string& s = field(q, "mantissa").as_string();
  bool negative = !s.empty() && s[0] == '-';
  for (size_t k = negative ? 1 : 0; k < s.size(); ++k) d.mantissa = d.mantissa * 10 + (s[k] - '0');
  if (negative) d.mantissa = -d.mantissa;
  d.exponent = static_cast<int>(field(q, "exponent").as_int());
  return d;
}

// Both values scaled to the smaller exponent; false when that does not fit.
bool align(Decimal& a, Decimal& b) {
  while (a.exponent > b.exponent) {
    if (a.mantissa > kMantissaLimit / 10 || a.mantissa < -kMantissaLimit / 10) return false;
    a.mantissa *= 10;
    --a.exponent;
  }
  while (b.exponent > a.exponent) {
    if (b.mantissa > kMantissaLimit / 10 || b.mantissa < -kMantissaLimit / 10) return false;
    b.mantissa *= 10;
    --b.exponent;
  }
  return true;
}

std::optional<int> compare_decimal(Decimal a, Decimal b) {
  if ((a.mantissa < 0) != (b.mantissa < 0) || a.mantissa == 0 || b.mantissa == 0) {
    auto sign = [](const Decimal& d) { return d.mantissa < 0 ? -1 : d.mantissa > 0 ? 1 : 0; };
    if (sign(a) != sign(b)) return sign(a) < sign(b) ? -1 : 1;
  }
  if (!align(a, b)) {
    // Magnitudes far apart: the one with the larger exponent dominates.
    bool a_bigger = a.exponent > b.exponent;
    bool negative = a.mantissa < 0;
    return (a_bigger != negative) ? 1 : -1;
  }
  return a.mantissa < b.mantissa ? -1 : a.mantissa > b.mantissa ? 1 : 0;
}

Value quantity_arg(const Value& v) {
  if (is_message(v, kQuantityType)) return v;
  if (v.is(Kind::kInt)) {
    Decimal d;
    d.mantissa = v.as_int();
    normalize(d);
    return quantity_value(d);
  }
  return Value::no_overload("quantity");
}

Value quantity_add(Args a, bool subtract) {
  if (!is_message(a[0], kQuantityType)) return Value::no_overload(subtract ? "sub" : "add");
  Value other = quantity_arg(a[1]);
  if (other.is_error()) return other;
  Decimal x = decimal_of(a[0]), y = decimal_of(other);
  if (!align(x, y)) return Value::error("quantity arithmetic out of range");
  Decimal r;
  r.exponent = x.exponent;
  r.mantissa = subtract ? x.mantissa - y.mantissa : x.mantissa + y.mantissa;
  if (r.mantissa > kMantissaLimit || r.mantissa < -kMantissaLimit) return Value::error("quantity arithmetic out of range");
  normalize(r);
  return quantity_value(r);
}

}  // namespace

void register_ip_ext(Environment::State& env) {
  env.opaque_types.insert(kIpType);
  env.opaque_types.insert(kCidrType);
  env.def_typed("ip", false, {Kind::kString}, [](Args a) {
    auto addr = parse_ip(a[0].as_string());
    if (!addr.ok()) return Value::error(addr.error().message);
    return ip_value(std::move(*addr));
  });
  env.def_typed("isIP", false, {Kind::kString}, [](Args a) { return Value::boolean(parse_ip(a[0].as_string()).ok()); });
  env.def_typed("ip.isCanonical", false, {Kind::kString}, [](Args a) {
    auto addr = parse_ip(a[0].as_string());
    if (!addr.ok()) return Value::error(addr.error().message);
    return Value::boolean(ip_text(*addr) == a[0].as_string());
  });
  env.def_typed("family", true, {Kind::kMessage}, [](Args a) {
    if (!is_message(a[0], kIpType)) return Value::no_overload("family");
    return Value::integer(field(a[0], "addr").as_bytes().size() == 4 ? 4 : 6);
  });
  env.def_typed("isUnspecified", true, {Kind::kMessage}, [](Args a) { return ip_predicate(a, "isUnspecified", is_unspecified); });
  env.def_typed("isLoopback", true, {Kind::kMessage}, [](Args a) { return ip_predicate(a, "isLoopback", is_loopback); });
  env.def_typed("isLinkLocalMulticast", true, {Kind::kMessage},
                [](Args a) { return ip_predicate(a, "isLinkLocalMulticast", is_link_local_multicast); });
  env.def_typed("isLinkLocalUnicast", true, {Kind::kMessage},
                [](Args a) { return ip_predicate(a, "isLinkLocalUnicast", is_link_local_unicast); });
  env.def_typed("isGlobalUnicast", true, {Kind::kMessage},
                [](Args a) { return ip_predicate(a, "isGlobalUnicast", is_global_unicast); });
  env.def_typed("string", false, {Kind::kMessage}, [](Args a) {
    if (is_message(a[0], kIpType)) return Value::string(ip_text(field(a[0], "addr").as_bytes()));
    if (is_message(a[0], kCidrType))
      return Value::string(fmt::format("{}/{}", ip_text(field(a[0], "addr").as_bytes()), field(a[0], "prefix").as_int()));
    if (is_message(a[0], kUrlType)) {
      const auto& m = a[0];
      std::string out = field(m, "scheme").as_string();
      if (!out.empty()) out += ":";
      if (!field(m, "host").as_string().empty()) out += "//" + field(m, "host").as_string();
      if (!field(m, "port").as_string().empty()) out += ":" + field(m, "port").as_string();
      out += field(m, "path").as_string();
      if (!field(m, "query").as_string().empty()) out += "?" + field(m, "query").as_string();
      return Value::string(out);
    }
    return Value::no_overload("string");
  });

  env.def_typed("cidr", false, {Kind::kString}, [](Args a) {
    auto c = parse_cidr(a[0].as_string());
    if (!c.ok()) return Value::error(c.error().message);
    return cidr_value(c->first, c->second);
  });
  env.def_typed("isCIDR", false, {Kind::kString}, [](Args a) { return Value::boolean(parse_cidr(a[0].as_string()).ok()); });
  env.def_typed("containsIP", true, {Kind::kMessage, std::nullopt}, [](Args a) {
    if (!is_message(a[0], kCidrType)) return Value::no_overload("containsIP");
    std::string addr;
    if (a[1].is(Kind::kString)) {
      auto p = parse_ip(a[1].as_string());
      if (!p.ok()) return Value::error(p.error().message);
      addr = *p;
    } else if (is_message(a[1], kIpType)) {
      addr = field(a[1], "addr").as_bytes();
    } else {
      return Value::no_overload("containsIP");
    }
    return Value::boolean(cidr_contains(field(a[0], "addr").as_bytes(), field(a[0], "prefix").as_int(), addr));
  });
  env.def_typed("containsCIDR", true, {Kind::kMessage, std::nullopt}, [](Args a) {
    if (!is_message(a[0], kCidrType)) return Value::no_overload("containsCIDR");
    std::string addr;
    int64_t prefix;
    if (a[1].is(Kind::kString)) {
      auto p = parse_cidr(a[1].as_string());
      if (!p.ok()) return Value::error(p.error().message);
      addr = p->first;
      prefix = p->second;
    } else if (is_message(a[1], kCidrType)) {
      addr = field(a[1], "addr").as_bytes();
      prefix = field(a[1], "prefix").as_int();
    } else {
      return Value::no_overload("containsCIDR");
    }
    int64_t own = field(a[0], "prefix").as_int();
    return Value::boolean(prefix >= own && cidr_contains(field(a[0], "addr").as_bytes(), own, addr));
  });
  env.def_typed("ip", true, {Kind::kMessage}, [](Args a) {
    if (!is_message(a[0], kCidrType)) return Value::no_overload("ip");
    return ip_value(field(a[0], "addr").as_bytes());
  });
  env.def_typed("masked", true, {Kind::kMessage}, [](Args a) {
    if (!is_message(a[0], kCidrType)) return Value::no_overload("masked");
    int64_t prefix = field(a[0], "prefix").as_int();
    return cidr_value(masked(field(a[0], "addr").as_bytes(), prefix), prefix);
  });
  env.def_typed("prefixLength", true, {Kind::kMessage}, [](Args a) {
    if (!is_message(a[0], kCidrType)) return Value::no_overload("prefixLength");
    return field(a[0], "prefix");
  });
}

void register_url_ext(Environment::State& env) {
  env.opaque_types.insert(kUrlType);
  env.def_typed("url", false, {Kind::kString}, [](Args a) {
    auto u = parse_url(a[0].as_string());
    if (!u.ok()) return Value::error(u.error().message);
    return url_value(*u);
  });
  env.def_typed("isURL", false, {Kind::kString}, [](Args a) { return Value::boolean(parse_url(a[0].as_string()).ok()); });
  auto getter = [&env](const char* name, Value (*get)(const Value&)) {
    std::string n = name;
    env.def_typed(name, true, {Kind::kMessage}, [n, get](Args a) {
      if (!is_message(a[0], kUrlType)) return Value::no_overload(n);
      return get(a[0]);
    });
  };
  getter("getScheme", [](const Value& u) { return field(u, "scheme"); });
  getter("getHost", [](const Value& u) {
    std::string host = field(u, "host").as_string();
    if (!field(u, "port").as_string().empty()) host += ":" + field(u, "port").as_string();
    return Value::string(host);
  });
  getter("getHostname", [](const Value& u) {
    std::string host = field(u, "host").as_string();
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    return Value::string(host);
  });
  getter("getPort", [](const Value& u) { return field(u, "port"); });
  getter("getEscapedPath", [](const Value& u) { return field(u, "path"); });
  getter("getQuery", [](const Value& u) { return url_query(field(u, "query").as_string()); });
}

void register_quantity_ext(Environment::State& env) {
  env.opaque_types.insert(kQuantityType);
  env.def_typed("quantity", false, {Kind::kString}, [](Args a) {
    auto q = parse_quantity(a[0].as_string());
    if (!q.ok()) return Value::error(q.error().message);
    return quantity_value(*q);
  });
  env.def_typed("isQuantity", false, {Kind::kString},
                [](Args a) { return Value::boolean(parse_quantity(a[0].as_string()).ok()); });
  auto q1 = [&env](const char* name, Value (*fn)(const Decimal&)) {
    std::string n = name;
    env.def_typed(name, true, {Kind::kMessage}, [n, fn](Args a) {
      if (!is_message(a[0], kQuantityType)) return Value::no_overload(n);
      return fn(decimal_of(a[0]));
    });
  };
  q1("sign", [](const Decimal& d) { return Value::integer(d.mantissa < 0 ? -1 : d.mantissa > 0 ? 1 : 0); });
  q1("isInteger", [](const Decimal& d) {
    if (d.exponent >= 0) {
      Decimal x = d;
      for (int k = 0; k < x.exponent; ++k) {
        x.mantissa *= 10;
        if (x.mantissa > std::numeric_limits<int64_t>::max() || x.mantissa < std::numeric_limits<int64_t>::min())
          return Value::boolean(false);
      }
      return Value::boolean(x.mantissa <= std::numeric_limits<int64_t>::max() &&
                            x.mantissa >= std::numeric_limits<int64_t>::min());
    }
    return Value::boolean(false);
  });
  q1("asInteger", [](const Decimal& d) {
    if (d.exponent < 0) return Value::error("cannot convert value to integer");
    __int128 m = d.mantissa;
    for (int k = 0; k < d.exponent; ++k) {
      m *= 10;
      if (m > std::numeric_limits<int64_t>::max() || m < std::numeric_limits<int64_t>::min())
        return Value::error("cannot convert value to integer");
    }
    if (m > std::numeric_limits<int64_t>::max() || m < std::numeric_limits<int64_t>::min())
      return Value::error("cannot convert value to integer");
    return Value::integer(static_cast<int64_t>(m));
  });
  q1("asApproximateFloat", [](const Decimal& d) {
    return Value::dbl(static_cast<double>(d.mantissa) * std::pow(10.0, d.exponent));
  });
  env.def_typed("add", true, {Kind::kMessage, std::nullopt}, [](Args a) { return quantity_add(a, false); });
  env.def_typed("sub", true, {Kind::kMessage, std::nullopt}, [](Args a) { return quantity_add(a, true); });
  auto cmp = [&env](const char* name, Value (*fn)(int)) {
    std::string n = name;
    env.def_typed(name, true, {Kind::kMessage, Kind::kMessage}, [n, fn](Args a) {
      if (!is_message(a[0], kQuantityType) || !is_message(a[1], kQuantityType)) return Value::no_overload(n);
      auto c = compare_decimal(decimal_of(a[0]), decimal_of(a[1]));
      return fn(*c);
    });
  };
  cmp("compareTo", [](int c) { return Value::integer(c); });
  cmp("isGreaterThan", [](int c) { return Value::boolean(c > 0); });
  cmp("isLessThan", [](int c) { return Value::boolean(c < 0); });
}

}  // namespace vouch::cel
