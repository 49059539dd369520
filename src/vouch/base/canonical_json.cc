#include "vouch/base/canonical_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

namespace vouch::json {
namespace {

// RFC 8785 sorts member names by their UTF-16 code units.
std::u16string utf16_key(std::string_view s) {
  std::u16string out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    uint32_t cp;
    size_t len;
    if (c < 0x80) { cp = c; len = 1; }
    else if ((c >> 5) == 6) { cp = c & 0x1f; len = 2; }
    else if ((c >> 4) == 14) { cp = c & 0x0f; len = 3; }
    else { cp = c & 0x07; len = 4; }
    for (size_t k = 1; k < len && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    i += len;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out += static_cast<char16_t>(0xd800 + (cp >> 10));
      out += static_cast<char16_t>(0xdc00 + (cp & 0x3ff));
    } else {
      out += static_cast<char16_t>(cp);
    }
  }
  return out;
}

void write_string(std::string& out, std::string_view s) {
  out += '"';
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) out += fmt::format("\\u{:04x}", c);
        else out += ch;
    }
  }
  out += '"';
}

// ECMAScript Number.prototype.toString for finite doubles.
Result<std::string> es6_number(double d) {
  if (!std::isfinite(d)) return invalid_input("canonical JSON: number is not finite");
  if (d == 0) return std::string("0");
  char buf[64];
  // Shortest round-trip digits in scientific form: d.ddddde[+-]x
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  bool negative = sci[0] == '-';
  if (negative) sci.erase(0, 1);
  size_t e = sci.find('e');
  std::string mant = sci.substr(0, e);
  int exp = std::stoi(sci.substr(e + 1));
  std::string digits;
  for (char c : mant) if (c != '.') digits += c;
  int k = static_cast<int>(digits.size());
  int n = exp + 1;  // position of the decimal point relative to digits
  std::string out;
  if (k <= n && n <= 21) {
    out = digits + std::string(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out = digits.substr(0, static_cast<size_t>(n)) + "." + digits.substr(static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out = "0." + std::string(static_cast<size_t>(-n), '0') + digits;
  } else {
    int e2 = n - 1;
    std::string es = (e2 >= 0 ? "+" : "-") + std::to_string(std::abs(e2));
    out = k == 1 ? digits + "e" + es : digits.substr(0, 1) + "." + digits.substr(1) + "e" + es;
  }
  return negative ? "-" + out : out;
}

Status write(std::string& out, const boost::json::value& v, int depth) {
  if (depth > 256) return invalid_input("canonical JSON: nesting too deep");
  switch (v.kind()) {
    case boost::json::kind::null: out += "null"; break;
    case boost::json::kind::bool_: out += v.get_bool() ? "true" : "false"; break;
    case boost::json::kind::int64: out += std::to_string(v.get_int64()); break;
    case boost::json::kind::uint64: out += std::to_string(v.get_uint64()); break;
    case boost::json::kind::double_: {
      VOUCH_ASSIGN_OR_RETURN(std::string s, es6_number(v.get_double()));
      out += s;
      break;
    }
    case boost::json::kind::string: write_string(out, v.get_string()); break;
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ',';
        first = false;
        VOUCH_RETURN_IF_ERROR(write(out, e, depth + 1));
      }
      out += ']';
      break;
    }
    case boost::json::kind::object: {
      const auto& obj = v.get_object();
      std::vector<std::pair<std::u16string, const boost::json::key_value_pair*>> members;
      members.reserve(obj.size());
      for (const auto& kv : obj) members.emplace_back(utf16_key(kv.key()), &kv);
      std::sort(members.begin(), members.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      out += '{';
      bool first = true;
      for (const auto& [key, kv] : members) {
        if (!first) out += ',';
        first = false;
        write_string(out, kv->key());
        out += ':';
        VOUCH_RETURN_IF_ERROR(write(out, kv->value(), depth + 1));
      }
      out += '}';
      break;
    }
  }
  return ok_status();
}

}  // namespace

Result<std::string> canonicalize(const boost::json::value& v) {
  std::string out;
  VOUCH_RETURN_IF_ERROR(write(out, v, 0));
  return out;
}

}  // namespace vouch::json
