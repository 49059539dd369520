// PyPI: PEP 440 (epoch, release, pre, post, dev, local) as the `packaging` library orders
// it. Strings that are not PEP 440 are ordered as setuptools' legacy versions did, before
// every PEP 440 version.
#include <optional>

#include <fmt/format.h>
#include <re2/re2.h>

#include "vouch/base/ascii.h"
#include "vouch/vuln/version.h"

namespace vouch::vuln::detail {
namespace {

// PEP 440, Appendix B (canonical pattern), matched case-insensitively on a lowercased string.
const RE2& pep440() {
  static const RE2 re(
      R"(^\s*v?(?:([0-9]+)!)?([0-9]+(?:\.[0-9]+)*))"
      R"((?:[-_\.]?(alpha|a|beta|b|preview|pre|c|rc)[-_\.]?([0-9]+)?)?)"
      R"((?:-([0-9]+)|[-_\.]?(post|rev|r)[-_\.]?([0-9]+)?)?)"
      R"((?:[-_\.]?(dev)[-_\.]?([0-9]+)?)?)"
      R"((?:\+([a-z0-9]+(?:[-_\.][a-z0-9]+)*))?\s*$)");
  return re;
}

struct Tagged {
  bool present = false;
  char letter = 0;  // pre: 'a', 'b', 'r' (rc)
  std::string number = "0";
};

struct PypiVersion {
  bool legacy = false;
  std::vector<std::string> legacy_parts;
  std::string epoch = "0";
  std::vector<std::string> release;
  Tagged pre, post, dev;
  std::optional<std::vector<std::string>> local;
};

std::vector<std::string> legacy_parts(std::string_view s) {
  // setuptools' parse_version: runs of digits, runs of letters, '.', '-' and anything else.
  std::vector<std::string> pieces;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i + 1;
    if (is_digit(s[i])) {
      while (j < s.size() && is_digit(s[j])) ++j;
    } else if (s[i] >= 'a' && s[i] <= 'z') {
      while (j < s.size() && s[j] >= 'a' && s[j] <= 'z') ++j;
    } else if (s[i] != '.' && s[i] != '-') {
      while (j < s.size() && !is_digit(s[j]) && !(s[j] >= 'a' && s[j] <= 'z') && s[j] != '.' && s[j] != '-') ++j;
    }
    pieces.emplace_back(s.substr(i, j - i));
    i = j;
  }
  std::vector<std::string> parts;
  auto push = [&](std::string part) {
    if (part.front() == '*') {
      if (part < "*final")
        while (!parts.empty() && parts.back() == "*final-") parts.pop_back();
      while (!parts.empty() && parts.back() == "00000000") parts.pop_back();
    }
    parts.push_back(std::move(part));
  };
  for (std::string p : pieces) {
    if (p == "pre" || p == "preview" || p == "rc") p = "c";
    else if (p == "-") p = "final-";
    else if (p == "dev") p = "@";
    if (p.empty() || p == ".") continue;
    if (is_digit(p.front())) {
      if (p.size() < 8) p.insert(0, 8 - p.size(), '0');
      push(std::move(p));
    } else {
      push("*" + p);
    }
  }
  push("*final");
  return parts;
}

Result<PypiVersion> parse(std::string_view original) {
  VOUCH_RETURN_IF_ERROR(check_length("pep440", original));
  std::string v = lower(original);
  std::string epoch, release, pre_l, pre_n, post_n1, post_l, post_n2, dev_l, dev_n, local;
  PypiVersion out;
  if (!RE2::FullMatch(v, pep440(), &epoch, &release, &pre_l, &pre_n, &post_n1, &post_l, &post_n2, &dev_l, &dev_n,
                      &local)) {
    out.legacy = true;
    out.legacy_parts = legacy_parts(v);
    return out;
  }
  if (!epoch.empty()) out.epoch = epoch;
  size_t start = 0;
  while (true) {
    size_t dot = release.find('.', start);
    out.release.push_back(release.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  // Trailing zeros do not count: 1.0 == 1.
  while (out.release.size() > 1 && compare_digits(out.release.back(), "0") == 0) out.release.pop_back();
  if (!pre_l.empty()) {
    out.pre.present = true;
    out.pre.letter = (pre_l == "alpha" || pre_l == "a") ? 'a' : (pre_l == "beta" || pre_l == "b") ? 'b' : 'r';
    if (!pre_n.empty()) out.pre.number = pre_n;
  }
  if (!post_n1.empty() || !post_l.empty()) {
    out.post.present = true;
    if (!post_n1.empty()) out.post.number = post_n1;
    else if (!post_n2.empty()) out.post.number = post_n2;
  }
  if (!dev_l.empty()) {
    out.dev.present = true;
    if (!dev_n.empty()) out.dev.number = dev_n;
  }
  if (!local.empty()) {
    std::vector<std::string> parts;
    size_t s = 0;
    for (size_t k = 0; k <= local.size(); ++k) {
      if (k == local.size() || local[k] == '.' || local[k] == '-' || local[k] == '_') {
        parts.push_back(local.substr(s, k - s));
        s = k + 1;
      }
    }
    out.local = std::move(parts);
  }
  return out;
}

int compare_release(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  size_t n = std::max(a.size(), b.size());
  for (size_t k = 0; k < n; ++k) {
    std::string_view x = k < a.size() ? std::string_view(a[k]) : "0";
    std::string_view y = k < b.size() ? std::string_view(b[k]) : "0";
    if (int c = compare_digits(x, y)) return c;
  }
  return 0;
}

// packaging's ordering key for the pre-release slot: a dev release without pre or post
// sorts before every pre-release of the same release; a final release after them.
int pre_rank(const PypiVersion& v) {
  if (!v.pre.present && !v.post.present && v.dev.present) return -1;
  if (!v.pre.present) return 1;
  return 0;
}

int compare_local(const std::optional<std::vector<std::string>>& a, const std::optional<std::vector<std::string>>& b) {
  if (!a || !b) return a.has_value() == b.has_value() ? 0 : (a ? 1 : -1);
  for (size_t k = 0; k < a->size() && k < b->size(); ++k) {
    const std::string& x = (*a)[k];
    const std::string& y = (*b)[k];
    bool xn = all_digits(x), yn = all_digits(y);
    int c;
    if (xn && yn) c = compare_digits(x, y);
    else if (xn != yn) c = xn ? 1 : -1;
    else c = sign(x.compare(y));
    if (c != 0) return c;
  }
  if (a->size() != b->size()) return a->size() < b->size() ? -1 : 1;
  return 0;
}

}  // namespace

Result<int> compare_pypi(std::string_view a, std::string_view b) {
  VOUCH_ASSIGN_OR_RETURN(PypiVersion va, parse(a));
  VOUCH_ASSIGN_OR_RETURN(PypiVersion vb, parse(b));
  if (va.legacy || vb.legacy) {
    if (va.legacy != vb.legacy) return va.legacy ? -1 : 1;
    size_t n = std::min(va.legacy_parts.size(), vb.legacy_parts.size());
    for (size_t k = 0; k < n; ++k)
      if (int c = sign(va.legacy_parts[k].compare(vb.legacy_parts[k]))) return c;
    if (va.legacy_parts.size() != vb.legacy_parts.size())
      return va.legacy_parts.size() < vb.legacy_parts.size() ? -1 : 1;
    return 0;
  }
  if (int c = compare_digits(va.epoch, vb.epoch)) return c;
  if (int c = compare_release(va.release, vb.release)) return c;
  int ra = pre_rank(va), rb = pre_rank(vb);
  if (ra != rb) return ra < rb ? -1 : 1;
  if (ra == 0) {
    if (va.pre.letter != vb.pre.letter) return va.pre.letter < vb.pre.letter ? -1 : 1;
    if (int c = compare_digits(va.pre.number, vb.pre.number)) return c;
  }
  if (va.post.present != vb.post.present) return va.post.present ? 1 : -1;
  if (va.post.present)
    if (int c = compare_digits(va.post.number, vb.post.number)) return c;
  if (va.dev.present != vb.dev.present) return va.dev.present ? -1 : 1;
  if (va.dev.present)
    if (int c = compare_digits(va.dev.number, vb.dev.number)) return c;
  return compare_local(va.local, vb.local);
}

}  // namespace vouch::vuln::detail
