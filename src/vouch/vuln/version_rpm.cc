// Red Hat family: epoch:version-release compared part by part with rpmvercmp, including
// '~' (sorts before anything) and '^' (sorts after the base version, before anything longer).
#include "vouch/vuln/version.h"

namespace vouch::vuln::detail {
namespace {

bool is_separator(char c) { return !is_digit(c) && !is_alpha(c) && c != '~' && c != '^'; }

int rpmvercmp(std::string_view a, std::string_view b) {
  if (a.empty() != b.empty()) return a.empty() ? -1 : 1;
  size_t i = 0, j = 0;
  while (true) {
    while (i < a.size() && is_separator(a[i])) ++i;
    while (j < b.size() && is_separator(b[j])) ++j;
    bool at = i < a.size() && a[i] == '~';
    bool bt = j < b.size() && b[j] == '~';
    if (at || bt) {
      if (at && bt) {
        ++i;
        ++j;
        continue;
      }
      return at ? -1 : 1;
    }
    bool ac = i < a.size() && a[i] == '^';
    bool bc = j < b.size() && b[j] == '^';
    if (ac || bc) {
      if (ac && bc) {
        ++i;
        ++j;
        continue;
      }
      if (ac) return j == b.size() ? 1 : -1;
      return i == a.size() ? -1 : 1;
    }
    if (i == a.size() || j == b.size()) break;
    bool numeric = is_digit(a[i]);
    auto same_kind = [numeric](char c) { return numeric ? is_digit(c) : is_alpha(c); };
    size_t i0 = i, j0 = j;
    while (i < a.size() && same_kind(a[i])) ++i;
    while (j < b.size() && same_kind(b[j])) ++j;
    std::string_view sa = a.substr(i0, i - i0), sb = b.substr(j0, j - j0);
    if (sb.empty()) return numeric ? 1 : -1;
    int c = numeric ? compare_digits(sa, sb) : sign(sa.compare(sb));
    if (c != 0) return c;
  }
  size_t ra = a.size() - i, rb = b.size() - j;
  if (ra != rb) return ra > rb ? 1 : -1;
  return 0;
}

struct RpmVersion {
  std::string epoch;
  std::string_view version;
  std::string release;  // with its leading '-', so that "1" < "1-"
};

Result<RpmVersion> parse(std::string_view v) {
  VOUCH_RETURN_IF_ERROR(check_length("rpm", v));
  RpmVersion out{"0", v, ""};
  if (size_t colon = v.find(':'); colon != std::string_view::npos && all_digits(v.substr(0, colon))) {
    out.epoch = std::string(v.substr(0, colon));
    out.version = v.substr(colon + 1);
  }
  if (size_t dash = out.version.find('-'); dash != std::string_view::npos) {
    out.release = std::string(out.version.substr(dash));
    out.version = out.version.substr(0, dash);
  }
  return out;
}

}  // namespace

Result<int> compare_rpm(std::string_view a, std::string_view b) {
  VOUCH_ASSIGN_OR_RETURN(RpmVersion va, parse(a));
  VOUCH_ASSIGN_OR_RETURN(RpmVersion vb, parse(b));
  if (int c = rpmvercmp(va.epoch, vb.epoch)) return c;
  if (int c = rpmvercmp(va.version, vb.version)) return c;
  return rpmvercmp(va.release, vb.release);
}

}  // namespace vouch::vuln::detail
