// Debian and Ubuntu: dpkg's ordering (deb-version(7)): epoch, upstream version, revision;
// '~' sorts before everything, even the end of the string; letters before other characters.
#include <fmt/format.h>

#include "vouch/vuln/version.h"

namespace vouch::vuln::detail {
namespace {

struct DebianVersion {
  std::string_view epoch;  // digits, may be empty (0)
  std::string_view upstream;
  std::string_view revision;
};

Result<DebianVersion> parse(std::string_view v) {
  VOUCH_RETURN_IF_ERROR(check_length("dpkg", v));
  DebianVersion out;
  std::string_view rest = v;
  if (size_t colon = rest.find(':'); colon != std::string_view::npos) {
    out.epoch = rest.substr(0, colon);
    if (!all_digits(out.epoch))
      return invalid_input(fmt::format("dpkg version '{}': epoch '{}' is not a number", v, out.epoch));
    rest = rest.substr(colon + 1);
  }
  if (size_t dash = rest.rfind('-'); dash != std::string_view::npos) {
    out.revision = rest.substr(dash + 1);
    rest = rest.substr(0, dash);
  }
  out.upstream = rest;
  if (out.upstream.empty()) return invalid_input(fmt::format("dpkg version '{}': empty upstream version", v));
  for (char c : out.upstream) {
    if (!is_digit(c) && !is_alpha(c) && c != '.' && c != '+' && c != '~' && c != '-' && c != ':')
      return invalid_input(fmt::format("dpkg version '{}': invalid character '{}' in upstream version", v, c));
  }
  for (char c : out.revision) {
    if (!is_digit(c) && !is_alpha(c) && c != '.' && c != '+' && c != '~')
      return invalid_input(fmt::format("dpkg version '{}': invalid character '{}' in revision", v, c));
  }
  return out;
}

int order(char c) {
  if (is_digit(c)) return 0;
  if (is_alpha(c)) return static_cast<unsigned char>(c);
  if (c == '~') return -1;
  if (c != 0) return static_cast<unsigned char>(c) + 256;
  return 0;
}

// dpkg's verrevcmp over one part.
int compare_part(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  auto at = [](std::string_view s, size_t k) { return k < s.size() ? s[k] : '\0'; };
  while (i < a.size() || j < b.size()) {
    while ((i < a.size() && !is_digit(a[i])) || (j < b.size() && !is_digit(b[j]))) {
      int ac = order(at(a, i));
      int bc = order(at(b, j));
      if (ac != bc) return ac < bc ? -1 : 1;
      ++i;
      ++j;
    }
    while (i < a.size() && a[i] == '0') ++i;
    while (j < b.size() && b[j] == '0') ++j;
    int first_diff = 0;
    while (i < a.size() && j < b.size() && is_digit(a[i]) && is_digit(b[j])) {
      if (first_diff == 0) first_diff = a[i] - b[j];
      ++i;
      ++j;
    }
    if (i < a.size() && is_digit(a[i])) return 1;
    if (j < b.size() && is_digit(b[j])) return -1;
    if (first_diff != 0) return first_diff < 0 ? -1 : 1;
  }
  return 0;
}

}  // namespace

Result<int> compare_debian(std::string_view a, std::string_view b) {
  VOUCH_ASSIGN_OR_RETURN(DebianVersion va, parse(a));
  VOUCH_ASSIGN_OR_RETURN(DebianVersion vb, parse(b));
  if (int c = compare_digits(va.epoch, vb.epoch)) return c;
  if (int c = compare_part(va.upstream, vb.upstream)) return c;
  return compare_part(va.revision, vb.revision);
}

}  // namespace vouch::vuln::detail
