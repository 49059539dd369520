// Kyverno's custom JMESPath functions (pkg/engine/jmespath/functions.go): strings, regular
// expressions (RE2, which is Go's regexp syntax), wildcards, semver ranges, JSON and YAML,
// collections, hashes, image references and URLs. Arithmetic and time live in
// kyverno_arithmetic.cc and kyverno_time.cc.
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <optional>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include "jmespath_ast.h"
#include "kyverno_internal.h"
#include "vouch/base/ascii.h"
#include "vouch/base/bytes.h"
#include "vouch/base/json.h"

namespace vouch::policy::jmespath {
namespace kyverno {

Error function_error(std::string_view function, std::string_view message) {
  return make_error(ErrorKind::kInvalidValue, fmt::format("JMESPath function '{}': {}", function, message));
}

namespace {

using Args = std::span<const Argument>;

bj::value str(std::string s) { return bj::value(bj::string(s)); }
std::string_view sv(const Argument& a) { return a->get_string(); }

Function fn(std::string name, std::vector<Parameter> params, FunctionImpl impl) {
  return Function{std::move(name), std::move(params), std::move(impl)};
}

// ---------------------------------------------------------------- UTF-8

// Decodes UTF-8; an invalid byte becomes U+FFFD and consumes one byte (as Go does).
std::vector<std::pair<char32_t, std::string_view>> runes(std::string_view s) {
  std::vector<std::pair<char32_t, std::string_view>> out;
  size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<unsigned char>(s[i]);
    size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xe ? 3 : (b >> 3) == 0x1e ? 4 : 0;
    char32_t cp = 0xfffd;
    bool ok = len > 0 && i + len <= s.size();
    if (ok) {
      cp = len == 1 ? b : len == 2 ? (b & 0x1f) : len == 3 ? (b & 0x0f) : (b & 0x07);
      for (size_t k = 1; k < len; ++k) {
        auto c = static_cast<unsigned char>(s[i + k]);
        if ((c & 0xc0) != 0x80) {
          ok = false;
          break;
        }
        cp = (cp << 6) | (c & 0x3f);
      }
    }
    if (!ok) {
      out.emplace_back(0xfffd, s.substr(i, 1));
      ++i;
    } else {
      out.emplace_back(cp, s.substr(i, len));
      i += len;
    }
  }
  return out;
}

char ascii_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

// Go's strconv.FormatFloat(f, 'f', -1, 32): Kyverno's text for a number argument.
std::string number_text(double d) {
  char buf[128];
  auto res = std::to_chars(buf, buf + sizeof buf, static_cast<float>(d), std::chars_format::fixed);
  if (res.ec != std::errc()) return fmt::format("{}", d);
  return std::string(buf, res.ptr);
}

// Kyverno's ifaceToString: strings, numbers and booleans as text.
std::optional<std::string> scalar_text(const bj::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (is_number(v)) return number_text(to_double(v));
  if (v.is_bool()) return std::string(v.get_bool() ? "true" : "false");
  return std::nullopt;
}

Error not_of_type(std::string_view fn, int index, std::string_view type) {
  return function_error(fn, fmt::format("argument #{} is not of type {}", index, type));
}

// ---------------------------------------------------------------- strings

// The size of go_replace's result, computed without building it.
uint64_t go_replace_size(std::string_view s, std::string_view old, std::string_view repl, int64_t n) {
  if (old == repl || n == 0) return s.size();
  uint64_t count = 0;
  if (old.empty()) {
    count = runes(s).size() + 1;
  } else {
    for (size_t pos = s.find(old); pos != std::string_view::npos; pos = s.find(old, pos + old.size())) ++count;
  }
  if (n > 0) count = std::min(count, static_cast<uint64_t>(n));
  return s.size() - count * old.size() + count * repl.size();
}

std::string go_replace(std::string_view s, std::string_view old, std::string_view repl, int64_t n) {
  if (old == repl || n == 0) return std::string(s);
  std::string out;
  if (old.empty()) {
    // Insert `repl` before each rune and at the end, up to n times.
    auto rs = runes(s);
    int64_t done = 0;
    for (const auto& r : rs) {
      if (n < 0 || done < n) {
        out += repl;
        ++done;
      }
      out += r.second;
    }
    if (n < 0 || done < n) out += repl;
    return out;
  }
  size_t pos = 0;
  int64_t done = 0;
  while (n < 0 || done < n) {
    size_t hit = s.find(old, pos);
    if (hit == std::string_view::npos) break;
    out += s.substr(pos, hit - pos);
    out += repl;
    pos = hit + old.size();
    ++done;
  }
  out += s.substr(pos);
  return out;
}

bj::value go_split(std::string_view s, std::string_view sep) {
  bj::array out;
  if (sep.empty()) {
    for (const auto& r : runes(s)) out.emplace_back(bj::string(r.second));
    return out;
  }
  size_t pos = 0;
  while (true) {
    size_t hit = s.find(sep, pos);
    if (hit == std::string_view::npos) break;
    out.emplace_back(bj::string(s.substr(pos, hit - pos)));
    pos = hit + sep.size();
  }
  out.emplace_back(bj::string(s.substr(pos)));
  return out;
}

std::string go_trim(std::string_view s, std::string_view cutset) {
  auto rs = runes(s);
  auto cut = runes(cutset);
  auto in_cut = [&](char32_t c) {
    for (const auto& r : cut) {
      if (r.first == c) return true;
    }
    return false;
  };
  size_t b = 0, e = rs.size();
  while (b < e && in_cut(rs[b].first)) ++b;
  while (e > b && in_cut(rs[e - 1].first)) --e;
  std::string out;
  for (size_t i = b; i < e; ++i) out += rs[i].second;
  return out;
}


// IGLOU-EU/go-wildcard v1: '*' matches any run of characters, '?' exactly one.
bool wildcard_match(std::string_view pattern, std::string_view text) {
  auto p = runes(pattern);
  auto t = runes(text);
  size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && (p[pi].first == '?' || (p[pi].first != '*' && p[pi].first == t[ti].first))) {
      ++pi;
      ++ti;
    } else if (pi < p.size() && p[pi].first == '*') {
      star = pi++;
      mark = ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi].first == '*') ++pi;
  return pi == p.size();
}

// ---------------------------------------------------------------- regular expressions

Result<std::unique_ptr<RE2>> compile_regex(std::string_view fn, std::string_view pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_unique<RE2>(pattern, options);
  if (!re->ok()) return function_error(fn, fmt::format("error parsing regexp: {}", re->error()));
  return re;
}

// Go's Regexp.Expand template: $1, ${1}, $name, ${name}, $$.
void expand(std::string& out, std::string_view tmpl, const RE2& re, const std::vector<re2::StringPiece>& groups) {
  const auto& names = re.NamedCapturingGroups();
  auto word = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; };
  while (!tmpl.empty()) {
    size_t dollar = tmpl.find('$');
    if (dollar == std::string_view::npos) break;
    out += tmpl.substr(0, dollar);
    tmpl.remove_prefix(dollar + 1);
    if (!tmpl.empty() && tmpl[0] == '$') {
      out += '$';
      tmpl.remove_prefix(1);
      continue;
    }
    std::string_view name;
    std::string_view rest;
    bool ok = false;
    if (!tmpl.empty() && tmpl[0] == '{') {
      size_t close = tmpl.find('}');
      if (close != std::string_view::npos && close > 1) {
        name = tmpl.substr(1, close - 1);
        ok = std::all_of(name.begin(), name.end(), word);
        rest = tmpl.substr(close + 1);
      }
    } else {
      size_t n = 0;
      while (n < tmpl.size() && word(tmpl[n])) ++n;
      if (n > 0) {
        name = tmpl.substr(0, n);
        rest = tmpl.substr(n);
        ok = true;
      }
    }
    if (!ok) {
      out += '$';
      continue;
    }
    tmpl = rest;
    int num = -1;
    if (std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), num);
      if (ec != std::errc()) num = -1;
      if (num >= 0 && static_cast<size_t>(num) < groups.size() && groups[static_cast<size_t>(num)].data() != nullptr) {
        out += std::string_view(groups[static_cast<size_t>(num)].data(), groups[static_cast<size_t>(num)].size());
      }
      continue;
    }
    auto it = names.find(std::string(name));
    if (it != names.end() && static_cast<size_t>(it->second) < groups.size() &&
        groups[static_cast<size_t>(it->second)].data() != nullptr) {
      const auto& g = groups[static_cast<size_t>(it->second)];
      out += std::string_view(g.data(), g.size());
    }
  }
  out += tmpl;
}

// Go's Regexp.ReplaceAll / ReplaceAllLiteral into `out`; false (and `out` incomplete) as soon
// as `out` grows past `max_bytes`.
bool regex_replace_all(const RE2& re, std::string_view src, std::string_view repl, bool literal, uint64_t max_bytes,
                       std::string& out) {
  const int ngroups = re.NumberOfCapturingGroups() + 1;
  std::vector<re2::StringPiece> groups(static_cast<size_t>(ngroups));
  size_t last_end = 0, search = 0;
  re2::StringPiece text(src.data(), src.size());
  while (search <= src.size()) {
    if (!re.Match(text, search, src.size(), RE2::UNANCHORED, groups.data(), ngroups)) break;
    size_t a0 = static_cast<size_t>(groups[0].data() - src.data());
    size_t a1 = a0 + groups[0].size();
    out += src.substr(last_end, a0 - last_end);
    if (a1 > last_end || a0 == 0) {
      if (literal) {
        out += repl;
      } else {
        expand(out, repl, re, groups);
      }
    }
    last_end = a1;
    if (out.size() > max_bytes) return false;
    size_t width = 1;
    if (search < src.size()) {
      auto b = static_cast<unsigned char>(src[search]);
      width = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xe ? 3 : (b >> 3) == 0x1e ? 4 : 1;
      if (search + width > src.size()) width = 1;
    }
    if (search + width > a1) {
      search += width;
    } else if (search + 1 > a1) {
      ++search;
    } else {
      search = a1;
    }
  }
  out += src.substr(std::min(last_end, src.size()));
  return out.size() <= max_bytes;
}

Result<bj::value> regex_replace(Args a, const CallContext& ctx, std::string_view fn, bool literal) {
  auto src = scalar_text(*a[1]);
  if (!src || a[1]->is_bool()) return not_of_type(fn, 2, "String or Real");
  auto repl = scalar_text(*a[2]);
  if (!repl || a[2]->is_bool()) return not_of_type(fn, 3, "String or Real");
  VOUCH_ASSIGN_OR_RETURN(auto re, compile_regex(fn, sv(a[0])));
  // The result's size is known only while it is built: stop as soon as it would not fit.
  std::string out;
  if (!regex_replace_all(*re, *src, *repl, literal, ctx.bytes_left(), out)) {
    VOUCH_RETURN_IF_ERROR(ctx.check_room(out.size()));
  }
  return str(std::move(out));
}

// ---------------------------------------------------------------- semver (blang/semver v4)

struct PreRelease {
  bool is_num = false;
  uint64_t num = 0;
  std::string text;
};
struct Version {
  uint64_t major = 0, minor = 0, patch = 0;
  std::vector<PreRelease> pre;
};

bool only(std::string_view s, std::string_view set) {
  return std::all_of(s.begin(), s.end(), [&](char c) { return set.find(c) != std::string_view::npos; });
}
constexpr std::string_view kDigits = "0123456789";
constexpr std::string_view kAlphaNum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789";

std::optional<uint64_t> parse_uint(std::string_view s) {
  if (s.empty() || !only(s, kDigits) || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::vector<std::string_view> split_sv(std::string_view s, char sep, size_t max_parts = SIZE_MAX) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < max_parts) {
    size_t p = s.find(sep);
    if (p == std::string_view::npos) break;
    out.push_back(s.substr(0, p));
    s.remove_prefix(p + 1);
  }
  out.push_back(s);
  return out;
}

std::optional<Version> parse_version(std::string_view s) {
  auto parts = split_sv(s, '.', 3);
  if (s.empty() || parts.size() != 3) return std::nullopt;
  Version v;
  auto major = parse_uint(parts[0]);
  auto minor = parse_uint(parts[1]);
  if (!major || !minor) return std::nullopt;
  v.major = *major;
  v.minor = *minor;
  std::string_view patch = parts[2];
  if (size_t b = patch.find('+'); b != std::string_view::npos) {
    for (auto build : split_sv(patch.substr(b + 1), '.')) {
      if (build.empty() || !only(build, kAlphaNum)) return std::nullopt;
    }
    patch = patch.substr(0, b);
  }
  if (size_t p = patch.find('-'); p != std::string_view::npos) {
    for (auto pr : split_sv(patch.substr(p + 1), '.')) {
      if (pr.empty()) return std::nullopt;
      PreRelease r;
      if (only(pr, kDigits)) {
        auto n = parse_uint(pr);
        if (!n) return std::nullopt;
        r.is_num = true;
        r.num = *n;
      } else if (only(pr, kAlphaNum)) {
        r.text = std::string(pr);
      } else {
        return std::nullopt;
      }
      v.pre.push_back(std::move(r));
    }
    patch = patch.substr(0, p);
  }
  auto pn = parse_uint(patch);
  if (!pn) return std::nullopt;
  v.patch = *pn;
  return v;
}

int compare_versions(const Version& a, const Version& b) {
  auto cmp = [](auto x, auto y) { return x == y ? 0 : (x > y ? 1 : -1); };
  if (int c = cmp(a.major, b.major)) return c;
  if (int c = cmp(a.minor, b.minor)) return c;
  if (int c = cmp(a.patch, b.patch)) return c;
  if (a.pre.empty() && b.pre.empty()) return 0;
  if (a.pre.empty()) return 1;
  if (b.pre.empty()) return -1;
  size_t i = 0;
  for (; i < a.pre.size() && i < b.pre.size(); ++i) {
    const auto& x = a.pre[i];
    const auto& y = b.pre[i];
    int c = 0;
    if (x.is_num && !y.is_num) c = -1;
    else if (!x.is_num && y.is_num) c = 1;
    else if (x.is_num) c = cmp(x.num, y.num);
    else c = cmp(x.text, y.text);
    if (c != 0) return c;
  }
  if (i == a.pre.size() && i == b.pre.size()) return 0;
  return i == a.pre.size() ? -1 : 1;
}

// blang/semver's splitAndTrim: splits on spaces except after an operator character.
std::vector<std::string> split_and_trim(std::string_view s) {
  std::vector<std::string> result;
  size_t last = 0;
  char last_char = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == ' ' && last_char != '>' && last_char != '<' && last_char != '=') {
      if (i >= 1 && last < i - 1) result.emplace_back(s.substr(last, i - last));
      last = i + 1;
    } else if (s[i] != ' ') {
      last_char = s[i];
    }
  }
  if (s.size() >= 1 && last < s.size() - 1) result.emplace_back(s.substr(last));
  for (auto& r : result) r.erase(std::remove(r.begin(), r.end(), ' '), r.end());
  return result;
}

Result<std::pair<std::string, std::string>> split_comparator(std::string_view s) {
  size_t i = s.find_first_of(kDigits);
  if (i == std::string_view::npos) return invalid_input(fmt::format("Could not get version from string: \"{}\"", s));
  std::string op(s.substr(0, i));
  while (!op.empty() && op.back() == ' ') op.pop_back();
  while (!op.empty() && op.front() == ' ') op.erase(op.begin());
  return std::pair{op, std::string(s.substr(i))};
}

std::string increment_part(const std::string& v, size_t index) {
  auto parts = split_sv(v, '.');
  if (index >= parts.size()) return v;
  uint64_t n = 0;
  auto [p, ec] = std::from_chars(parts[index].data(), parts[index].data() + parts[index].size(), n);
  if (ec != std::errc()) return "";
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += '.';
    out += i == index ? std::to_string(n + 1) : std::string(parts[i]);
  }
  return out;
}

// blang/semver's expandWildcardVersion for one range part containing 'x'.
Result<std::vector<std::string>> expand_wildcard(const std::string& ap) {
  VOUCH_ASSIGN_OR_RETURN(auto opv, split_comparator(ap));
  auto [op, v] = opv;
  auto parts = split_sv(v, '.');
  int wildcard = parts.back() == "x" ? static_cast<int>(parts.size()) : 0;  // 2 minor, 3 patch
  std::string flat = v;
  if (auto p = flat.find(".x.x"); p != std::string::npos) flat.replace(p, 4, ".x");
  if (auto p = flat.find(".x"); p != std::string::npos) flat.replace(p, 2, ".0");
  if (split_sv(flat, '.').size() == 2) flat += ".0";
  std::vector<std::string> out;
  std::string result_op;
  bool increment = false;
  if (op == ">") {
    result_op = ">=";
    increment = true;
  } else if (op == ">=") {
    result_op = ">=";
  } else if (op == "<") {
    result_op = "<";
  } else if (op == "<=") {
    result_op = "<";
    increment = true;
  } else if (op.empty() || op == "=" || op == "==") {
    out.push_back(">=" + flat);
    result_op = "<";
    increment = true;
  } else if (op == "!=" || op == "!") {
    out.push_back("<" + flat);
    result_op = ">=";
    increment = true;
  }
  std::string result_version;
  if (increment) {
    if (wildcard == 3) result_version = increment_part(flat, 1);
    else if (wildcard == 2) result_version = increment_part(flat, 0);
  } else {
    result_version = flat;
  }
  out.push_back(result_op + result_version);
  return out;
}

Result<bool> semver_satisfies(const Version& version, std::string_view range) {
  auto parts = split_and_trim(range);
  std::vector<std::vector<std::string>> ors;
  size_t last = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i] == "||") {
      if (i == 0) return invalid_input("First element in range is '||'");
      ors.emplace_back(parts.begin() + static_cast<long>(last), parts.begin() + static_cast<long>(i));
      last = i + 1;
    }
  }
  if (last == parts.size()) return invalid_input("Last element in range is '||'");
  ors.emplace_back(parts.begin() + static_cast<long>(last), parts.end());
  bool any = false;
  for (const auto& and_parts : ors) {
    std::vector<std::string> expanded;
    for (const auto& ap : and_parts) {
      if (ap.find('x') != std::string::npos) {
        VOUCH_ASSIGN_OR_RETURN(auto e, expand_wildcard(ap));
        expanded.insert(expanded.end(), e.begin(), e.end());
      } else {
        expanded.push_back(ap);
      }
    }
    bool all = true;
    for (const auto& ap : expanded) {
      VOUCH_ASSIGN_OR_RETURN(auto opv, split_comparator(ap));
      const auto& [op, vs] = opv;
      auto v = parse_version(vs);
      if (!v) return invalid_input(fmt::format("Could not parse Range \"{}\": invalid version \"{}\"", ap, vs));
      int c = compare_versions(version, *v);
      bool ok;
      if (op.empty() || op == "=" || op == "==") ok = c == 0;
      else if (op == ">") ok = c == 1;
      else if (op == ">=") ok = c >= 0;
      else if (op == "<") ok = c == -1;
      else if (op == "<=") ok = c <= 0;
      else if (op == "!" || op == "!=") ok = c != 0;
      else return invalid_input(fmt::format("Could not parse comparator \"{}\" in \"{}\"", op, ap));
      all = all && ok;
    }
    any = any || all;
  }
  return any;
}

// ---------------------------------------------------------------- YAML

Result<bj::value> yaml_scalar(const YAML::Node& n, bool key) {
  const std::string& s = n.Scalar();
  if (n.Tag() == "!" ) return str(s);  // quoted: always a string
  if (!n.Tag().empty() && n.Tag() != "?" ) {
    if (n.Tag() == "tag:yaml.org,2002:str" || n.Tag() == "!!str") return str(s);
  }
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return key ? str("null") : bj::value();
  static const char* kTrue[] = {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE"};
  static const char* kFalse[] = {"n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE"};
  for (const char* t : kTrue) {
    if (s == t) return key ? str("true") : bj::value(true);
  }
  for (const char* f : kFalse) {
    if (s == f) return key ? str("false") : bj::value(false);
  }
  std::string plain;
  for (char c : s) {
    if (c != '_') plain.push_back(c);
  }
  // Integers as Go's strconv.ParseInt(s, 0, 64): decimal, 0x, 0o, 0b and leading-0 octal.
  {
    std::string_view d = plain;
    bool neg = false;
    if (!d.empty() && (d[0] == '+' || d[0] == '-')) {
      neg = d[0] == '-';
      d.remove_prefix(1);
    }
    int base = 10;
    if (d.size() > 2 && d[0] == '0' && (d[1] == 'x' || d[1] == 'X')) base = 16, d.remove_prefix(2);
    else if (d.size() > 2 && d[0] == '0' && (d[1] == 'o' || d[1] == 'O')) base = 8, d.remove_prefix(2);
    else if (d.size() > 2 && d[0] == '0' && (d[1] == 'b' || d[1] == 'B')) base = 2, d.remove_prefix(2);
    else if (d.size() > 1 && d[0] == '0') base = 8, d.remove_prefix(1);
    uint64_t u = 0;
    auto [p, ec] = std::from_chars(d.data(), d.data() + d.size(), u, base);
    if (!d.empty() && ec == std::errc() && p == d.data() + d.size() && u <= (neg ? (uint64_t{1} << 63) : INT64_MAX)) {
      int64_t i = neg ? static_cast<int64_t>(0 - u) : static_cast<int64_t>(u);
      if (key) return str(std::to_string(i));
      return make_number(static_cast<double>(i));
    }
  }
  {
    static const RE2 kFloat(R"(^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$)");
    if (RE2::FullMatch(plain, kFloat)) {
      std::string_view d = plain;
      if (!d.empty() && d[0] == '+') d.remove_prefix(1);
      double f = 0;
      auto [p, ec] = std::from_chars(d.data(), d.data() + d.size(), f);
      if (ec == std::errc() && std::isfinite(f)) {
        if (key) {
          char buf[64];
          auto r = std::to_chars(buf, buf + sizeof buf, f);
          return str(std::string(buf, r.ptr));
        }
        return make_number(f);
      }
    }
    static const char* kSpecial[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
                                     ".nan", ".NaN", ".NAN"};
    for (const char* x : kSpecial) {
      if (s == x) return function_error("parse_yaml", fmt::format("{} cannot be represented in JSON", s));
    }
  }
  return str(s);
}

Result<bj::value> yaml_to_json(const YAML::Node& n, unsigned depth, size_t& budget) {
  if (depth > 64) return function_error("parse_yaml", "document nested more than 64 levels deep");
  if (budget == 0) return function_error("parse_yaml", "document too large (aliases expand to too many nodes)");
  --budget;
  switch (n.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null: return bj::value();
    case YAML::NodeType::Scalar: return yaml_scalar(n, false);
    case YAML::NodeType::Sequence: {
      bj::array out;
      for (const auto& e : n) {
        VOUCH_ASSIGN_OR_RETURN(bj::value v, yaml_to_json(e, depth + 1, budget));
        out.push_back(std::move(v));
      }
      return bj::value(std::move(out));
    }
    case YAML::NodeType::Map: {
      bj::object out;
      for (const auto& kv : n) {
        if (!kv.first.IsScalar() && !kv.first.IsNull()) {
          return function_error("parse_yaml", "a mapping key is not a scalar");
        }
        bj::value key = kv.first.IsNull() ? str("null") : bj::value();
        if (kv.first.IsScalar()) {
          VOUCH_ASSIGN_OR_RETURN(key, yaml_scalar(kv.first, true));
        }
        VOUCH_ASSIGN_OR_RETURN(bj::value v, yaml_to_json(kv.second, depth + 1, budget));
        out[key.get_string()] = std::move(v);
      }
      return bj::value(std::move(out));
    }
  }
  return bj::value();
}

Result<bj::value> parse_yaml(std::string_view text) {
  if (text.size() > 8 * 1024 * 1024) return function_error("parse_yaml", "document larger than 8 MiB");
  // yaml-cpp parses recursively; keep flow nesting shallow before handing it the text.
  int flow = 0;
  for (char c : text) {
    if (c == '[' || c == '{') {
      if (++flow > 64) return function_error("parse_yaml", "document nested more than 64 levels deep");
    } else if ((c == ']' || c == '}') && flow > 0) {
      --flow;
    }
  }
  try {
    YAML::Node doc = YAML::Load(std::string(text));
    size_t budget = 1000000;
    return yaml_to_json(doc, 0, budget);
  } catch (const std::exception& e) {
    return function_error("parse_yaml", e.what());
  }
}

// ---------------------------------------------------------------- image references

Result<std::string> image_normalize(std::string_view image) {
  std::string name(image);
  size_t slash = name.find('/');
  if (slash == std::string::npos) {
    name = "docker.io/" + name;
  } else {
    std::string first = name.substr(0, slash);
    std::string lower = vouch::lower(first);
    if (first.find_first_of(".:") == std::string::npos && first != "localhost" && lower == first) {
      name = "docker.io/" + name;
    }
  }
  auto fail = [&](std::string_view why) {
    return function_error("image_normalize", fmt::format("bad image: {}, defaultRegistry: docker.io, "
                                                         "enableDefaultRegistryMutation: true: {}", name, why));
  };
  // github.com/distribution/reference's grammar.
  static const std::string kAlnum = "[a-z0-9]+";
  static const std::string kSeparator = "(?:[._]|__|[-]+)";
  static const std::string kPathComponent = kAlnum + "(?:" + kSeparator + kAlnum + ")*";
  static const std::string kDomainComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
  static const std::string kHost = "(?:" + kDomainComponent + "(?:\\." + kDomainComponent + ")*|\\[(?:[a-fA-F0-9:]+)\\])";
  static const std::string kDomain = kHost + "(?::[0-9]+)?";
  static const std::string kPath = kPathComponent + "(?:/" + kPathComponent + ")*";
  static const RE2 kReference("^(?:(" + kDomain + ")/)?(" + kPath + ")(?::([\\w][\\w.-]{0,127}))?" +
                              "(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}))?$");
  std::string domain, path, tag, digest;
  if (name.empty() || !RE2::FullMatch(name, kReference, &domain, &path, &tag, &digest)) {
    return fail("invalid reference format");
  }
  if (domain.size() + (domain.empty() ? 0 : 1) + path.size() > 255) {
    return fail("repository name must not be more than 255 characters");
  }
  if (!digest.empty()) {
    size_t colon = digest.find(':');
    std::string algorithm = digest.substr(0, colon);
    size_t hex = digest.size() - colon - 1;
    size_t want = algorithm == "sha256" ? 64 : algorithm == "sha384" ? 96 : algorithm == "sha512" ? 128 : 0;
    if (want == 0) return fail("unsupported digest algorithm");
    if (hex != want) return fail("invalid checksum digest length");
    for (size_t i = colon + 1; i < digest.size(); ++i) {
      if (digest[i] >= 'A' && digest[i] <= 'F') return fail("invalid checksum digest format");
    }
  }
  std::string base = domain.empty() ? path : domain + "/" + path;
  if (!digest.empty()) return base + "@" + digest;
  return base + ":" + (tag.empty() ? "latest" : tag);
}

// ---------------------------------------------------------------- URLs

bool ip_is_internal(const in6_addr& a6, bool v4, const in_addr& a4) {
  if (v4) {
    uint32_t ip = ntohl(a4.s_addr);
    return (ip >> 24) == 127 || (ip >> 24) == 10 || (ip >> 20) == (172u << 4 | 1) || (ip >> 16) == (192u << 8 | 168);
  }
  const uint8_t* b = a6.s6_addr;
  bool mapped = std::all_of(b, b + 10, [](uint8_t x) { return x == 0; }) && b[10] == 0xff && b[11] == 0xff;
  if (mapped) {
    in_addr x;
    std::memcpy(&x.s_addr, b + 12, 4);
    return ip_is_internal(a6, true, x);
  }
  bool loopback = std::all_of(b, b + 15, [](uint8_t x) { return x == 0; }) && b[15] == 1;
  return loopback || (b[0] & 0xfe) == 0xfc;
}

// The host of a URL, as Go's url.Parse(s).Hostname().
std::string url_hostname(std::string_view s) {
  size_t colon = s.find(':');
  if (colon != std::string_view::npos && colon > 0) {
    bool scheme = true;
    for (size_t i = 0; i < colon; ++i) {
      char c = s[i];
      bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      if (!(letter || (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.')))) scheme = false;
    }
    if (scheme) s.remove_prefix(colon + 1);
  }
  if (!s.starts_with("//")) return "";
  s.remove_prefix(2);
  size_t end = s.find_first_of("/?#");
  std::string_view authority = s.substr(0, end);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return "";
    std::string_view host = authority.substr(1, close - 1);
    if (size_t zone = host.find('%'); zone != std::string_view::npos) host = host.substr(0, zone);
    return std::string(host);
  }
  if (size_t c = authority.rfind(':'); c != std::string_view::npos) authority = authority.substr(0, c);
  return std::string(authority);
}

Result<bj::value> is_external_url(std::string_view url) {
  std::string host = url_hostname(url);
  in_addr a4{};
  in6_addr a6{};
  if (inet_pton(AF_INET, host.c_str(), &a4) == 1) return bj::value(!ip_is_internal(a6, true, a4));
  if (inet_pton(AF_INET6, host.c_str(), &a6) == 1) return bj::value(!ip_is_internal(a6, false, a4));
  if (host.empty()) return function_error("is_external_url", fmt::format("no host in URL \"{}\"", url));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) return function_error("is_external_url", fmt::format("lookup {}: {}", host, gai_strerror(rc)));
  bool external = true;
  for (addrinfo* p = res; p != nullptr; p = p->ai_next) {
    if (p->ai_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(p->ai_addr);
      if (ip_is_internal(a6, true, sin->sin_addr)) external = false;
    } else if (p->ai_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(p->ai_addr);
      if (ip_is_internal(sin6->sin6_addr, false, a4)) external = false;
    }
  }
  freeaddrinfo(res);
  return bj::value(external);
}

// ---------------------------------------------------------------- hashes

Result<bj::value> digest_hex(const EVP_MD* md, std::string_view data, std::string_view fn) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) != 1) return function_error(fn, "hashing failed");
  return str(hex_encode(ByteView(out, len)));
}

// lookup's integer index (Kyverno's intNumber).
Result<std::optional<size_t>> index_arg(double key, size_t size) {
  if (!std::isfinite(key) || std::trunc(key) != key) {
    return function_error("lookup", fmt::format("argument #2: expected an integer number but got: {}", key));
  }
  if (key < 0 || key >= static_cast<double>(size)) return std::optional<size_t>();
  return std::optional<size_t>(static_cast<size_t>(key));
}

}  // namespace

// Go's path.Clean (filepath.Clean on Linux).
std::string go_clean(std::string_view path) {
  if (path.empty()) return ".";
  bool rooted = path[0] == '/';
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    i = j + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!rooted) {
        parts.push_back(part);
      }
      continue;
    }
    parts.push_back(part);
  }
  std::string out = rooted ? "/" : "";
  for (size_t k = 0; k < parts.size(); ++k) {
    if (k > 0) out += '/';
    out += parts[k];
  }
  if (out.empty()) return ".";
  return out;
}

bool wildcard(std::string_view pattern, std::string_view text) { return wildcard_match(pattern, text); }
Result<bj::value> yaml_scalar_to_json(const YAML::Node& node, bool key) { return yaml_scalar(node, key); }

}  // namespace kyverno

void add_kyverno_functions(FunctionRegistry& r) {
  using namespace kyverno;
  const Parameter s{kString};
  const Parameter o{kObject};

  r.add(fn("compare", {s, s}, [](Args a, const CallContext&) -> Result<bj::value> {
    int c = sv(a[0]).compare(sv(a[1]));
    return bj::value(c < 0 ? -1 : c > 0 ? 1 : 0);
  }));
  r.add(fn("equal_fold", {s, s}, [](Args a, const CallContext&) -> Result<bj::value> {
    return bj::value(iequals(sv(a[0]), sv(a[1])));
  }));
  r.add(fn("replace", {s, s, s, {kNumber}}, [](Args a, const CallContext& ctx) -> Result<bj::value> {
    double n = to_double(*a[3]);
    int64_t count = std::isfinite(n) ? (n < -9e18 ? -1 : n > 9e18 ? INT64_MAX : static_cast<int64_t>(n)) : -1;
    VOUCH_RETURN_IF_ERROR(ctx.check_room(go_replace_size(sv(a[0]), sv(a[1]), sv(a[2]), count)));
    return str(go_replace(sv(a[0]), sv(a[1]), sv(a[2]), count));
  }));
  r.add(fn("replace_all", {s, s, s}, [](Args a, const CallContext& ctx) -> Result<bj::value> {
    VOUCH_RETURN_IF_ERROR(ctx.check_room(go_replace_size(sv(a[0]), sv(a[1]), sv(a[2]), -1)));
    return str(go_replace(sv(a[0]), sv(a[1]), sv(a[2]), -1));
  }));
  r.add(fn("to_upper", {s}, [](Args a, const CallContext&) -> Result<bj::value> {
    std::string out(sv(a[0]));
    for (char& c : out) c = ascii_upper(c);
    return str(out);
  }));
  r.add(fn("to_lower", {s}, [](Args a, const CallContext&) -> Result<bj::value> {
    return str(vouch::lower(sv(a[0])));
  }));
  r.add(fn("trim", {s, s}, [](Args a, const CallContext&) -> Result<bj::value> { return str(go_trim(sv(a[0]), sv(a[1]))); }));
  r.add(fn("trim_prefix", {s, s}, [](Args a, const CallContext&) -> Result<bj::value> {
    std::string_view x = sv(a[0]);
    if (x.starts_with(sv(a[1]))) x.remove_prefix(sv(a[1]).size());
    return str(std::string(x));
  }));
  r.add(fn("split", {s, s}, [](Args a, const CallContext&) -> Result<bj::value> { return go_split(sv(a[0]), sv(a[1])); }));
  r.add(fn("regex_replace_all", {s, {kString | kNumber}, {kString | kNumber}},
           [](Args a, const CallContext& ctx) { return regex_replace(a, ctx, "regex_replace_all", false); }));
  r.add(fn("regex_replace_all_literal", {s, {kString | kNumber}, {kString | kNumber}},
           [](Args a, const CallContext& ctx) { return regex_replace(a, ctx, "regex_replace_all_literal", true); }));
  r.add(fn("regex_match", {s, {kString | kNumber}}, [](Args a, const CallContext&) -> Result<bj::value> {
    auto src = scalar_text(*a[1]);
    if (!src) return not_of_type("regex_match", 2, "String or Real");
    VOUCH_ASSIGN_OR_RETURN(auto re, compile_regex("regex_match", sv(a[0])));
    return bj::value(RE2::PartialMatch(*src, *re));
  }));
  r.add(fn("pattern_match", {s, {kString | kNumber}}, [](Args a, const CallContext&) -> Result<bj::value> {
    auto src = scalar_text(*a[1]);
    if (!src) return not_of_type("pattern_match", 2, "String or Real");
    return bj::value(wildcard_match(sv(a[0]), *src));
  }));
  r.add(fn("label_match", {o, o}, [](Args a, const CallContext&) -> Result<bj::value> {
    const auto& want = a[0]->get_object();
    const auto& have = a[1]->get_object();
    for (const auto& kv : want) {
      auto it = have.find(kv.key());
      if (it == have.end() || !values_equal(it->value(), kv.value())) return bj::value(false);
    }
    return bj::value(true);
  }));
  r.add(fn("to_boolean", {s}, [](Args a, const CallContext&) -> Result<bj::value> {
    std::string lower = vouch::lower(sv(a[0]));
    if (lower == "true") return bj::value(true);
    if (lower == "false") return bj::value(false);
    return function_error("to_boolean",
                          fmt::format("lowercase argument must be 'true' or 'false' (provided: '{}')", sv(a[0])));
  }));
  add_arithmetic_functions(r);
  r.add(fn("base64_decode", {s}, [](Args a, const CallContext&) -> Result<bj::value> {
    std::string text;
    for (char c : sv(a[0])) {
      if (c != '\r' && c != '\n') text.push_back(c);  // Go's decoder skips line breaks
    }
    auto bytes = base64_decode(text);
    if (!bytes.ok()) return function_error("base64_decode", "illegal base64 data");
    return str(to_string(*bytes));
  }));
  r.add(fn("base64_encode", {s}, [](Args a, const CallContext&) -> Result<bj::value> {
    return str(base64_encode(as_bytes(sv(a[0]))));
  }));
  r.add(fn("path_canonicalize", {s}, [](Args a, const CallContext&) -> Result<bj::value> {
    if (sv(a[0]).empty()) return str("");
    return str(go_clean(sv(a[0])));
  }));
  r.add(fn("truncate", {s, {kNumber}}, [](Args a, const CallContext&) -> Result<bj::value> {
    double n = to_double(*a[1]);
    size_t length = !(n > 0) ? 0 : n >= 1e18 ? SIZE_MAX : static_cast<size_t>(n);
    auto rs = runes(sv(a[0]));
    if (rs.size() <= length) return *a[0];
    std::string out;
    for (size_t i = 0; i < length; ++i) out += rs[i].second;
    return str(out);
  }));
  r.add(fn("semver_compare", {s, s}, [](Args a, const CallContext&) -> Result<bj::value> {
    Version v = parse_version(sv(a[0])).value_or(Version{});  // as Kyverno: an invalid version is 0.0.0
    auto ok = semver_satisfies(v, sv(a[1]));
    if (!ok.ok()) return function_error("semver_compare", ok.error().message);
    return bj::value(*ok);
  }));
  r.add(fn("parse_json", {s}, [](Args a, const CallContext&) -> Result<bj::value> {
    auto v = json::parse(sv(a[0]));
    if (!v.ok()) return function_error("parse_json", v.error().message);
    return std::move(v).value();
  }));
  r.add(fn("parse_yaml", {s}, [](Args a, const CallContext&) { return parse_yaml(sv(a[0])); }));
  r.add(fn("lookup", {{kObject | kArray}, {kString | kNumber}}, [](Args a, const CallContext&) -> Result<bj::value> {
    if (a[0]->is_object()) {
      if (!a[1]->is_string()) return not_of_type("lookup", 2, "String");
      const auto& obj = a[0]->get_object();
      auto it = obj.find(a[1]->get_string());
      return it == obj.end() ? bj::value() : it->value();
    }
    if (!is_number(*a[1])) return not_of_type("lookup", 2, "Number");
    const auto& arr = a[0]->get_array();
    VOUCH_ASSIGN_OR_RETURN(auto index, index_arg(to_double(*a[1]), arr.size()));
    return index ? arr[*index] : bj::value();
  }));
  r.add(fn("items", {{kObject | kArray}, s, s}, [](Args a, const CallContext&) -> Result<bj::value> {
    std::string_view key_name = sv(a[1]), value_name = sv(a[2]);
    bj::array out;
    if (a[0]->is_object()) {
      std::vector<const bj::key_value_pair*> members;
      for (const auto& kv : a[0]->get_object()) members.push_back(&kv);
      std::sort(members.begin(), members.end(), [](const auto* x, const auto* y) { return x->key() < y->key(); });
      for (const auto* kv : members) {
        bj::object item;
        item[key_name] = kv->key();
        item[value_name] = kv->value();
        out.push_back(std::move(item));
      }
    } else {
      const auto& arr = a[0]->get_array();
      for (size_t i = 0; i < arr.size(); ++i) {
        bj::object item;
        item[key_name] = static_cast<int64_t>(i);
        item[value_name] = arr[i];
        out.push_back(std::move(item));
      }
    }
    return bj::value(std::move(out));
  }));
  r.add(fn("object_from_lists", {{kArray}, {kArray}}, [](Args a, const CallContext&) -> Result<bj::value> {
    const auto& keys = a[0]->get_array();
    const auto& values = a[1]->get_array();
    bj::object out;
    for (size_t i = 0; i < keys.size(); ++i) {
      auto key = scalar_text(keys[i]);
      if (!key) return not_of_type("object_from_lists", 1, "StringArray");
      out[*key] = i < values.size() ? values[i] : bj::value();
    }
    return bj::value(std::move(out));
  }));
  r.add(fn("x509_decode", {s}, [](Args a, const CallContext&) { return x509_decode(sv(a[0])); }));
  r.add(fn("image_normalize", {s}, [](Args a, const CallContext&) -> Result<bj::value> {
    VOUCH_ASSIGN_OR_RETURN(std::string image, image_normalize(sv(a[0])));
    return str(image);
  }));
  r.add(fn("is_external_url", {s}, [](Args a, const CallContext&) { return is_external_url(sv(a[0])); }));
  r.add(fn("sha256", {s}, [](Args a, const CallContext&) { return digest_hex(EVP_sha256(), sv(a[0]), "sha256"); }));
  r.add(fn("sha1", {s}, [](Args a, const CallContext&) { return digest_hex(EVP_sha1(), sv(a[0]), "sha1"); }));
  r.add(fn("md5", {s}, [](Args a, const CallContext&) { return digest_hex(EVP_md5(), sv(a[0]), "md5"); }));
  add_time_functions(r);
}

std::shared_ptr<const FunctionRegistry> kyverno_functions() {
  static const std::shared_ptr<const FunctionRegistry> registry = [] {
    auto r = std::make_shared<FunctionRegistry>(*FunctionRegistry::standard());
    add_kyverno_functions(*r);
    return r;
  }();
  return registry;
}

}  // namespace vouch::policy::jmespath
