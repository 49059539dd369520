// SemVer 2.0 as npm, crates.io, Go and Hex use it. Go's leading 'v' is accepted (and so
// are pseudo-versions, which are ordinary prereleases: v0.0.0-20191109021931-daa7c04131f5);
// build metadata (+incompatible, +build) does not take part in the ordering.
#include <fmt/format.h>

#include "semver_common.h"

namespace vouch::vuln::detail {

Result<DottedVersion> parse_dotted(std::string_view scheme, std::string_view original, std::string_view v,
                                   size_t parts, bool extra_core_is_build, bool lowercase) {
  VOUCH_RETURN_IF_ERROR(check_length(scheme, original));
  if (size_t plus = v.find('+'); plus != std::string_view::npos) v = v.substr(0, plus);
  std::string_view pre;
  bool has_pre = false;
  if (size_t dash = v.find('-'); dash != std::string_view::npos) {
    pre = v.substr(dash + 1);
    v = v.substr(0, dash);
    has_pre = true;
  }
  DottedVersion out;
  size_t start = 0;
  while (true) {
    size_t dot = v.find('.', start);
    std::string_view part = v.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!all_digits(part))
      return invalid_input(fmt::format("{} version '{}': '{}' is not a number", scheme, original, part));
    if (out.core.size() < parts) {
      out.core.push_back(part);
    } else if (!extra_core_is_build) {
      return invalid_input(fmt::format("{} version '{}': more than {} numeric parts", scheme, original, parts));
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  while (out.core.size() < parts) out.core.push_back("0");
  if (has_pre) {
    size_t s = 0;
    while (true) {
      size_t dot = pre.find('.', s);
      std::string_view id = pre.substr(s, dot == std::string_view::npos ? std::string_view::npos : dot - s);
      if (id.empty())
        return invalid_input(fmt::format("{} version '{}': empty prerelease identifier", scheme, original));
      for (char c : id) {
        if (!is_digit(c) && !is_alpha(c) && c != '-')
          return invalid_input(
              fmt::format("{} version '{}': invalid character '{}' in prerelease", scheme, original, c));
      }
      std::string s_id(id);
      if (lowercase)
        for (char& c : s_id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.prerelease.push_back(std::move(s_id));
      if (dot == std::string_view::npos) break;
      s = dot + 1;
    }
  }
  return out;
}

int compare_dotted(const DottedVersion& a, const DottedVersion& b) {
  for (size_t i = 0; i < a.core.size() && i < b.core.size(); ++i) {
    if (int c = compare_digits(a.core[i], b.core[i])) return c;
  }
  if (a.prerelease.empty() || b.prerelease.empty()) {
    if (a.prerelease.empty() == b.prerelease.empty()) return 0;
    return a.prerelease.empty() ? 1 : -1;
  }
  for (size_t i = 0; i < a.prerelease.size() && i < b.prerelease.size(); ++i) {
    const std::string& x = a.prerelease[i];
    const std::string& y = b.prerelease[i];
    bool xn = all_digits(x), yn = all_digits(y);
    int c;
    if (xn && yn) c = compare_digits(x, y);
    else if (xn != yn) c = xn ? -1 : 1;
    else c = sign(x.compare(y));
    if (c != 0) return c;
  }
  if (a.prerelease.size() != b.prerelease.size()) return a.prerelease.size() < b.prerelease.size() ? -1 : 1;
  return 0;
}

namespace {
Result<DottedVersion> parse_semver(std::string_view v) {
  std::string_view s = v;
  if (!s.empty() && (s.front() == 'v' || s.front() == 'V')) s.remove_prefix(1);
  return parse_dotted("semver", v, s, 3, true, false);
}
}  // namespace

Result<int> compare_semver(std::string_view a, std::string_view b) {
  VOUCH_ASSIGN_OR_RETURN(DottedVersion va, parse_semver(a));
  VOUCH_ASSIGN_OR_RETURN(DottedVersion vb, parse_semver(b));
  return compare_dotted(va, vb);
}

}  // namespace vouch::vuln::detail
