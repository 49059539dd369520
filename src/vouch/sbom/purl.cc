#include "vouch/sbom/purl.h"

#include <algorithm>

#include <fmt/format.h>

#include "vouch/base/ascii.h"

namespace vouch::sbom {
namespace {

constexpr size_t kMaxPurlLength = 4096;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> decode(std::string_view s, std::string_view what, std::string_view purl) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    int hi = i + 2 < s.size() ? hex_value(s[i + 1]) : -1;
    int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) return invalid_input(fmt::format("purl '{}': bad percent-encoding in {}", purl, what));
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string encode(std::string_view s, std::string_view keep) {
  std::string out;
  for (char c : s) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                 c == '-' || c == '_' || c == '~' || keep.find(c) != std::string_view::npos;
    if (plain) out += c;
    else out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
  }
  return out;
}

}  // namespace

std::string Purl::qualifier(std::string_view key) const {
  auto it = qualifiers.find(std::string(key));
  return it == qualifiers.end() ? std::string() : it->second;
}

std::string Purl::to_string() const {
  std::string out = "pkg:" + type + "/";
  if (!namespace_.empty()) {
    size_t start = 0;
    while (true) {
      size_t slash = namespace_.find('/', start);
      out += encode(namespace_.substr(start, slash == std::string::npos ? std::string::npos : slash - start), "");
      out += '/';
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
  }
  out += encode(name, "");
  if (!version.empty()) out += "@" + encode(version, "+:");
  if (!qualifiers.empty()) {
    char sep = '?';
    for (const auto& [k, v] : qualifiers) {
      out += sep;
      out += k + "=" + encode(v, "+:/");
      sep = '&';
    }
  }
  if (!subpath.empty()) out += "#" + encode(subpath, "/");
  return out;
}

std::string format_purl(const Purl& base, const std::vector<std::pair<std::string, std::string>>& qualifiers) {
  std::map<std::string, std::string> sorted;
  for (const auto& [k, v] : qualifiers)
    if (!v.empty()) sorted[lower(k)] = v;
  Purl bare = base;
  bare.qualifiers.clear();
  bare.version.clear();
  std::string subpath = std::move(bare.subpath);
  bare.subpath.clear();
  std::string out = bare.to_string();
  if (!base.version.empty()) out += "@" + encode(base.version, "");
  char sep = '?';
  for (const auto& [k, v] : sorted) {
    out += sep;
    out += k + "=" + encode(v, "");
    sep = '&';
  }
  if (!subpath.empty()) out += "#" + encode(subpath, "/");
  return out;
}

Result<Purl> parse_purl(std::string_view text) {
  if (text.size() > kMaxPurlLength) return invalid_input("purl: longer than 4096 characters");
  std::string_view s = text;
  if (s.size() < 4 || lower(std::string(s.substr(0, 4))) != "pkg:")
    return invalid_input(fmt::format("purl '{}': does not start with 'pkg:'", text));
  s.remove_prefix(4);
  while (!s.empty() && s.front() == '/') s.remove_prefix(1);
  Purl p;
  if (size_t hash = s.rfind('#'); hash != std::string_view::npos) {
    VOUCH_ASSIGN_OR_RETURN(p.subpath, decode(s.substr(hash + 1), "subpath", text));
    while (!p.subpath.empty() && p.subpath.front() == '/') p.subpath.erase(0, 1);
    while (!p.subpath.empty() && p.subpath.back() == '/') p.subpath.pop_back();
    s = s.substr(0, hash);
  }
  if (size_t q = s.rfind('?'); q != std::string_view::npos) {
    std::string_view qs = s.substr(q + 1);
    s = s.substr(0, q);
    size_t start = 0;
    while (start <= qs.size()) {
      size_t amp = qs.find('&', start);
      std::string_view pair = qs.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
      if (!pair.empty()) {
        size_t eq = pair.find('=');
        if (eq == std::string_view::npos || eq == 0)
          return invalid_input(fmt::format("purl '{}': qualifier '{}' is not key=value", text, pair));
        std::string key = lower(std::string(pair.substr(0, eq)));
        VOUCH_ASSIGN_OR_RETURN(std::string value, decode(pair.substr(eq + 1), "qualifiers", text));
        if (!value.empty()) p.qualifiers[key] = std::move(value);
      }
      if (amp == std::string_view::npos) break;
      start = amp + 1;
    }
  }
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  size_t slash = s.find('/');
  if (slash == std::string_view::npos || slash == 0)
    return invalid_input(fmt::format("purl '{}': missing type or name", text));
  p.type = lower(std::string(s.substr(0, slash)));
  s = s.substr(slash + 1);
  if (size_t at = s.rfind('@'); at != std::string_view::npos) {
    VOUCH_ASSIGN_OR_RETURN(p.version, decode(s.substr(at + 1), "version", text));
    s = s.substr(0, at);
  }
  size_t last = s.rfind('/');
  std::string_view name = last == std::string_view::npos ? s : s.substr(last + 1);
  if (name.empty()) return invalid_input(fmt::format("purl '{}': empty name", text));
  VOUCH_ASSIGN_OR_RETURN(p.name, decode(name, "name", text));
  if (last != std::string_view::npos) {
    std::string_view ns = s.substr(0, last);
    std::string out;
    size_t start = 0;
    while (start <= ns.size()) {
      size_t sl = ns.find('/', start);
      std::string_view seg = ns.substr(start, sl == std::string_view::npos ? std::string_view::npos : sl - start);
      if (!seg.empty()) {
        VOUCH_ASSIGN_OR_RETURN(std::string d, decode(seg, "namespace", text));
        if (!out.empty()) out += '/';
        out += d;
      }
      if (sl == std::string_view::npos) break;
      start = sl + 1;
    }
    p.namespace_ = std::move(out);
  }
  if (p.type == "pypi") {
    p.name = lower(p.name);
    std::replace(p.name.begin(), p.name.end(), '_', '-');
  }
  if (p.type == "github" || p.type == "bitbucket") {
    p.namespace_ = lower(p.namespace_);
    p.name = lower(p.name);
  }
  return p;
}

}  // namespace vouch::sbom
