// RubyGems: Gem::Version. Segments are runs of digits or letters; a letter segment marks a
// prerelease and sorts before any number; trailing zeros of the release and of the
// prerelease part do not count ("1.0.a2" == "1.0.a.2", "1.0" == "1").
#include <fmt/format.h>
#include <re2/re2.h>

#include "vouch/vuln/version.h"

namespace vouch::vuln::detail {
namespace {

struct Segment {
  bool number;
  std::string_view text;
};

Result<std::vector<Segment>> canonical(std::string_view original, std::string& storage) {
  VOUCH_RETURN_IF_ERROR(check_length("rubygems", original));
  std::string_view v = original;
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\n')) v.remove_suffix(1);
  static const RE2 pattern(R"([0-9]+[0-9a-zA-Z]*(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)");
  if (!RE2::FullMatch(v, pattern))
    return invalid_input(fmt::format("rubygems version '{}': malformed version number string", original));
  storage.clear();
  for (char c : v) {
    if (c == '-') storage += ".pre.";
    else storage += c;
  }
  std::vector<Segment> segs;
  std::string_view s = storage;
  for (size_t i = 0; i < s.size();) {
    size_t j = i;
    if (is_digit(s[i])) {
      while (j < s.size() && is_digit(s[j])) ++j;
      segs.push_back({true, s.substr(i, j - i)});
    } else if (is_alpha(s[i])) {
      while (j < s.size() && is_alpha(s[j])) ++j;
      segs.push_back({false, s.substr(i, j - i)});
    } else {
      j = i + 1;
    }
    i = j;
  }
  // Split into the numeric release part and the rest; drop trailing zeros of each.
  size_t first_string = segs.size();
  for (size_t i = 0; i < segs.size(); ++i)
    if (!segs[i].number) {
      first_string = i;
      break;
    }
  auto is_zero = [](const Segment& g) { return g.number && compare_digits(g.text, "0") == 0; };
  std::vector<Segment> release(segs.begin(), segs.begin() + static_cast<long>(first_string));
  std::vector<Segment> pre(segs.begin() + static_cast<long>(first_string), segs.end());
  while (!release.empty() && is_zero(release.back())) release.pop_back();
  while (!pre.empty() && is_zero(pre.back())) pre.pop_back();
  release.insert(release.end(), pre.begin(), pre.end());
  return release;
}

}  // namespace

Result<int> compare_rubygems(std::string_view a, std::string_view b) {
  std::string sa, sb;
  VOUCH_ASSIGN_OR_RETURN(std::vector<Segment> x, canonical(a, sa));
  VOUCH_ASSIGN_OR_RETURN(std::vector<Segment> y, canonical(b, sb));
  size_t n = std::max(x.size(), y.size());
  for (size_t i = 0; i < n; ++i) {
    Segment l = i < x.size() ? x[i] : Segment{true, "0"};
    Segment r = i < y.size() ? y[i] : Segment{true, "0"};
    if (l.number && r.number) {
      if (int c = compare_digits(l.text, r.text)) return c;
      continue;
    }
    if (l.number != r.number) return l.number ? 1 : -1;
    if (int c = sign(l.text.compare(r.text))) return c;
  }
  return 0;
}

}  // namespace vouch::vuln::detail
