// The strings extension (cel-go ext.Strings, as Kubernetes enables it): code-point indexing,
// case mapping, split/join/replace, trim, quote, reverse and format.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "format.h"
#include "internal.h"
#include "text.h"

namespace vouch::cel {
namespace {

using Args = std::span<const Value>;

bool is_space(uint32_t c) {
  return c == ' ' || (c >= '\t' && c <= '\r') || c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
         c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// Index (in code points) of `needle` in `hay` at or after `from`, or -1.
int64_t find_cp(const std::vector<uint32_t>& hay, const std::vector<uint32_t>& needle, size_t from) {
  if (needle.size() > hay.size()) return -1;
  for (size_t k = from; k + needle.size() <= hay.size(); ++k)
    if (std::equal(needle.begin(), needle.end(), hay.begin() + static_cast<std::ptrdiff_t>(k))) return static_cast<int64_t>(k);
  return -1;
}

Value char_at(Args a) {
  if (!a[0].is(Kind::kString) || !a[1].is(Kind::kInt)) return Value::no_overload("charAt");
  auto cps = to_code_points(a[0].as_string());
  int64_t i = a[1].as_int();
  if (i < 0 || static_cast<size_t>(i) > cps.size()) return Value::error(fmt::format("index out of range: {}", i));
  if (static_cast<size_t>(i) == cps.size()) return Value::string("");
  return Value::string(from_code_points(cps, static_cast<size_t>(i), static_cast<size_t>(i) + 1));
}

Value index_of(Args a, bool last) {
  const char* name = last ? "lastIndexOf" : "indexOf";
  if (!a[0].is(Kind::kString) || !a[1].is(Kind::kString) || (a.size() == 3 && !a[2].is(Kind::kInt)))
    return Value::no_overload(name);
  auto hay = to_code_points(a[0].as_string());
  auto needle = to_code_points(a[1].as_string());
  if (!last) {
    int64_t from = a.size() == 3 ? a[2].as_int() : 0;
    if (from < 0 || static_cast<size_t>(from) > hay.size()) return Value::error(fmt::format("index out of range: {}", from));
    return Value::integer(find_cp(hay, needle, static_cast<size_t>(from)));
  }
  int64_t from = a.size() == 3 ? a[2].as_int() : static_cast<int64_t>(hay.size());
  if (from < 0 || static_cast<size_t>(from) > hay.size()) return Value::error(fmt::format("index out of range: {}", from));
  if (needle.size() > hay.size()) return Value::integer(-1);
  int64_t start = std::min<int64_t>(from, static_cast<int64_t>(hay.size() - needle.size()));
  for (int64_t k = start; k >= 0; --k)
    if (std::equal(needle.begin(), needle.end(), hay.begin() + k)) return Value::integer(k);
  return Value::integer(-1);
}

Value replace(Args a) {
  if (!a[0].is(Kind::kString) || !a[1].is(Kind::kString) || !a[2].is(Kind::kString) ||
      (a.size() == 4 && !a[3].is(Kind::kInt)))
    return Value::no_overload("replace");
  const std::string& s = a[0].as_string();
  const std::string& from = a[1].as_string();
  const std::string& to = a[2].as_string();
  int64_t n = a.size() == 4 ? a[3].as_int() : -1;
  std::string out;
  size_t pos = 0;
  int64_t done = 0;
  if (from.empty()) {
    // As Go: the replacement goes before every code point and at the end.
    auto cps = to_code_points(s);
    for (size_t k = 0; k <= cps.size(); ++k) {
      if (n < 0 || done < n) {
        out += to;
        ++done;
      }
      if (k < cps.size()) append_utf8(out, cps[k]);
    }
    return Value::string(std::move(out));
  }
  while (n < 0 || done < n) {
    size_t at = s.find(from, pos);
    if (at == std::string::npos) break;
    out.append(s, pos, at - pos);
    out += to;
    pos = at + from.size();
    ++done;
  }
  out.append(s, pos, std::string::npos);
  return Value::string(std::move(out));
}

Value split(Args a) {
  if (!a[0].is(Kind::kString) || !a[1].is(Kind::kString) || (a.size() == 3 && !a[2].is(Kind::kInt)))
    return Value::no_overload("split");
  const std::string& s = a[0].as_string();
  const std::string& sep = a[1].as_string();
  int64_t n = a.size() == 3 ? a[2].as_int() : -1;
  List out;
  if (n == 0) return Value::list({});
  if (sep.empty()) {
    auto cps = to_code_points(s);
    for (size_t k = 0; k < cps.size(); ++k) {
      if (n > 0 && static_cast<int64_t>(out.size()) == n - 1) {
        out.push_back(Value::string(from_code_points(cps, k, cps.size())));
        return Value::list(std::move(out));
      }
      out.push_back(Value::string(from_code_points(cps, k, k + 1)));
    }
    return Value::list(std::move(out));
  }
  size_t pos = 0;
  for (;;) {
    if (n > 0 && static_cast<int64_t>(out.size()) == n - 1) break;
    size_t at = s.find(sep, pos);
    if (at == std::string::npos) break;
    out.push_back(Value::string(s.substr(pos, at - pos)));
    pos = at + sep.size();
  }
  out.push_back(Value::string(s.substr(pos)));
  return Value::list(std::move(out));
}

Value substring(Args a) {
  if (!a[0].is(Kind::kString) || !a[1].is(Kind::kInt) || (a.size() == 3 && !a[2].is(Kind::kInt)))
    return Value::no_overload("substring");
  auto cps = to_code_points(a[0].as_string());
  int64_t start = a[1].as_int();
  int64_t end = a.size() == 3 ? a[2].as_int() : static_cast<int64_t>(cps.size());
  int64_t size = static_cast<int64_t>(cps.size());
  if (start < 0 || start > size) return Value::error(fmt::format("index out of range: {}", start));
  if (end < 0 || end > size) return Value::error(fmt::format("index out of range: {}", end));
  if (start > end) return Value::error(fmt::format("invalid substring range. start: {}, end: {}", start, end));
  return Value::string(from_code_points(cps, static_cast<size_t>(start), static_cast<size_t>(end)));
}

Value trim(Args a) {
  if (!a[0].is(Kind::kString)) return Value::no_overload("trim");
  auto cps = to_code_points(a[0].as_string());
  size_t b = 0, e = cps.size();
  while (b < e && is_space(cps[b])) ++b;
  while (e > b && is_space(cps[e - 1])) --e;
  return Value::string(from_code_points(cps, b, e));
}

Value join(Args a) {
  if (!a[0].is(Kind::kList) || (a.size() == 2 && !a[1].is(Kind::kString))) return Value::no_overload("join");
  std::string sep = a.size() == 2 ? a[1].as_string() : "";
  std::string out;
  bool first = true;
  for (const auto& v : a[0].as_list()) {
    if (!v.is(Kind::kString)) return Value::no_overload("join");
    if (!first) out += sep;
    first = false;
    out += v.as_string();
  }
  return Value::string(std::move(out));
}

Value case_ascii(Args a, bool upper) {
  if (!a[0].is(Kind::kString)) return Value::no_overload(upper ? "upperAscii" : "lowerAscii");
  std::string s = a[0].as_string();
  for (char& c : s) {
    if (upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    if (!upper && c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return Value::string(std::move(s));
}

Value reverse(Args a) {
  if (!a[0].is(Kind::kString)) return Value::no_overload("reverse");
  auto cps = to_code_points(a[0].as_string());
  std::reverse(cps.begin(), cps.end());
  return Value::string(from_code_points(cps, 0, cps.size()));
}

// --- format ---------------------------------------------------------------------------------

std::string special_double(double d) {
  if (std::isnan(d)) return "NaN";
  return d > 0 ? "Infinity" : "-Infinity";
}

Result<std::string> format_s(const Value& v, int depth);

Result<std::string> format_s(const Value& v, int depth) {
  if (depth > 32) return invalid_input("value nested too deeply");
  switch (v.kind()) {
    case Kind::kString: return v.as_string();
    case Kind::kBytes: return v.as_bytes();
    case Kind::kNull: return std::string("null");
    case Kind::kBool: return std::string(v.as_bool() ? "true" : "false");
    case Kind::kInt: return std::to_string(v.as_int());
    case Kind::kUint: return std::to_string(v.as_uint());
    case Kind::kDouble: {
      double d = v.as_double();
      if (!std::isfinite(d)) return special_double(d);
      return format_double(d);
    }
    case Kind::kType: return v.as_type();
    case Kind::kTimestamp: return format_timestamp(v.as_timestamp());
    case Kind::kDuration: return format_duration(v.as_duration());
    case Kind::kList: {
      std::string out = "[";
      bool first = true;
      for (const auto& x : v.as_list()) {
        if (!first) out += ", ";
        first = false;
        VOUCH_ASSIGN_OR_RETURN(auto s, format_s(x, depth + 1));
        out += s;
      }
      return out + "]";
    }
    case Kind::kMap: {
      std::vector<std::pair<std::string, std::string>> entries;
      for (const auto& [k, x] : v.as_map().entries()) {
        VOUCH_ASSIGN_OR_RETURN(auto ks, format_s(k, depth + 1));
        VOUCH_ASSIGN_OR_RETURN(auto xs, format_s(x, depth + 1));
        entries.emplace_back(std::move(ks), std::move(xs));
      }
      std::sort(entries.begin(), entries.end());
      std::string out = "{";
      bool first = true;
      for (const auto& [k, x] : entries) {
        if (!first) out += ", ";
        first = false;
        out += k + ": " + x;
      }
      return out + "}";
    }
    default: return invalid_input(fmt::format("string clause can only be used on strings, bools, bytes, ints, doubles, maps, lists, types, durations, and timestamps, was given {}", v.type_name()));
  }
}

std::string to_base(uint64_t v, unsigned base, bool upper) {
  if (v == 0) return "0";
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  while (v) {
    out += digits[v % base];
    v /= base;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

Result<std::string> format_integer(const Value& v, unsigned base, bool upper, char verb) {
  switch (v.kind()) {
    case Kind::kInt: {
      int64_t i = v.as_int();
      uint64_t mag = i < 0 ? static_cast<uint64_t>(0) - static_cast<uint64_t>(i) : static_cast<uint64_t>(i);
      return (i < 0 ? "-" : "") + to_base(mag, base, upper);
    }
    case Kind::kUint: return to_base(v.as_uint(), base, upper);
    case Kind::kBool:
      if (base == 2) return std::string(v.as_bool() ? "1" : "0");
      break;
    case Kind::kDouble:
      if (base == 10 && !std::isfinite(v.as_double())) return special_double(v.as_double());
      break;
    case Kind::kString:
    case Kind::kBytes:
      if (base == 16) {
        const std::string& s = v.is(Kind::kString) ? v.as_string() : v.as_bytes();
        std::string out;
        for (unsigned char c : s) out += upper ? fmt::format("{:02X}", c) : fmt::format("{:02x}", c);
        return out;
      }
      break;
    default: break;
  }
  return invalid_input(fmt::format("error during formatting: %{} clause cannot be used on {}", verb, v.type_name()));
}

Result<std::string> format_float(const Value& v, int precision, char verb) {
  double d;
  if (v.is(Kind::kDouble)) d = v.as_double();
  else if (v.is(Kind::kInt)) d = static_cast<double>(v.as_int());
  else if (v.is(Kind::kUint)) d = static_cast<double>(v.as_uint());
  else return invalid_input(fmt::format("error during formatting: %{} clause cannot be used on {}", verb, v.type_name()));
  if (!std::isfinite(d)) return special_double(d);
  char buf[512];
  std::snprintf(buf, sizeof buf, verb == 'e' ? "%.*e" : "%.*f", precision, d);
  return std::string(buf);
}

Value format(Args a) {
  if (!a[0].is(Kind::kString) || !a[1].is(Kind::kList)) return Value::no_overload("format");
  const std::string& f = a[0].as_string();
  const List& args = a[1].as_list();
  std::string out;
  size_t next = 0;
  for (size_t k = 0; k < f.size(); ++k) {
    if (f[k] != '%') {
      out += f[k];
      continue;
    }
    if (++k >= f.size()) return Value::error("unexpected end of format string");
    if (f[k] == '%') {
      out += '%';
      continue;
    }
    int precision = -1;
    if (f[k] == '.') {
      precision = 0;
      ++k;
      while (k < f.size() && std::isdigit(static_cast<unsigned char>(f[k]))) {
        precision = precision * 10 + (f[k] - '0');
        if (precision > 100) return Value::error("format precision too large");
        ++k;
      }
      if (k >= f.size()) return Value::error("unexpected end of format string");
    }
    char verb = f[k];
    if (next >= args.size()) return Value::error(fmt::format("index {} out of range", next));
    const Value& v = args[next++];
    Result<std::string> piece = std::string();
    switch (verb) {
      case 's': piece = format_s(v, 0); break;
      case 'd': piece = format_integer(v, 10, false, 'd'); break;
      case 'b': piece = format_integer(v, 2, false, 'b'); break;
      case 'o': piece = format_integer(v, 8, false, 'o'); break;
      case 'x': piece = format_integer(v, 16, false, 'x'); break;
      case 'X': piece = format_integer(v, 16, true, 'X'); break;
      case 'f': piece = format_float(v, precision < 0 ? 6 : precision, 'f'); break;
      case 'e': piece = format_float(v, precision < 0 ? 6 : precision, 'e'); break;
      default: return Value::error(fmt::format("could not parse formatting clause: unrecognized formatting clause \"{}\"", verb));
    }
    if (!piece.ok()) return Value::error(piece.error().message);
    out += *piece;
  }
  return Value::string(std::move(out));
}

Value quote(Args a) {
  if (!a[0].is(Kind::kString)) return Value::no_overload("strings.quote");
  return Value::string(quote_string(a[0].as_string()));
}

// What replace() may build, charged before it runs so that an empty or short pattern with a
// long replacement cannot allocate without limit.
uint64_t replace_cost(Args a) {
  if (!a[0].is(Kind::kString) || !a[1].is(Kind::kString) || !a[2].is(Kind::kString)) return 1;
  uint64_t s = a[0].as_string().size(), from = a[1].as_string().size(), to = a[2].as_string().size();
  uint64_t matches = from == 0 ? s + 1 : s / from;
  return 1 + (s + matches * to) / 10;
}

}  // namespace

void register_strings_ext(Environment::State& env) {
  env.def("charAt", true, 2, char_at);
  const std::optional<Kind> str = Kind::kString;
  env.def_typed("indexOf", true, {str, std::nullopt}, [](Args a) { return index_of(a, false); });
  env.def_typed("indexOf", true, {str, std::nullopt, std::nullopt}, [](Args a) { return index_of(a, false); });
  env.def_typed("lastIndexOf", true, {str, std::nullopt}, [](Args a) { return index_of(a, true); });
  env.def_typed("lastIndexOf", true, {str, std::nullopt, std::nullopt}, [](Args a) { return index_of(a, true); });
  env.def("lowerAscii", true, 1, [](Args a) { return case_ascii(a, false); });
  env.def("upperAscii", true, 1, [](Args a) { return case_ascii(a, true); });
  env.def("replace", true, 3, replace, replace_cost);
  env.def("replace", true, 4, replace, replace_cost);
  env.def("split", true, 2, split);
  env.def("split", true, 3, split);
  env.def("substring", true, 2, substring);
  env.def("substring", true, 3, substring);
  env.def("trim", true, 1, trim);
  env.def("join", true, 1, join);
  env.def("join", true, 2, join);
  env.def_typed("reverse", true, {str}, reverse);
  env.def("format", true, 2, format);
  env.def("strings.quote", false, 1, quote);
}

}  // namespace vouch::cel
