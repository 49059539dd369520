// Alpine: apk's version format, number{.number}...{letter}{_suffix{number}}...{~hash}{-r#}.
// Suffixes order alpha < beta < pre < rc < (none) < cvs < svn < git < hg < p; numeric parts
// after the first that begin with '0' compare as decimal fractions (as strings). Text that
// does not fit the format is kept as a remainder and orders before a clean version.
#include <array>

#include "vouch/vuln/version.h"

namespace vouch::vuln::detail {
namespace {

constexpr int kNoSuffix = 4;
constexpr std::array<std::string_view, 10> kSuffixes = {"alpha", "beta", "pre", "rc", "",
                                                        "cvs",   "svn",  "git", "hg", "p"};

struct Suffix {
  int weight = kNoSuffix;
  std::string_view number = "0";
};

struct AlpineVersion {
  std::string_view original;
  std::vector<std::string_view> numbers;
  char letter = 0;
  std::vector<Suffix> suffixes;
  std::string_view build = "0";
  std::string_view remainder;
  bool invalid = false;
};

AlpineVersion parse(std::string_view v) {
  AlpineVersion out;
  out.original = v;
  size_t i = 0;
  auto digits = [&](size_t from) {
    size_t k = from;
    while (k < v.size() && is_digit(v[k])) ++k;
    return k;
  };
  if (i < v.size() && is_digit(v[i])) {
    while (true) {
      size_t end = digits(i);
      out.numbers.push_back(v.substr(i, end - i));
      i = end;
      if (i + 1 < v.size() && v[i] == '.' && is_digit(v[i + 1])) {
        ++i;
        continue;
      }
      break;
    }
  }
  if (i < v.size() && v[i] >= 'a' && v[i] <= 'z') out.letter = v[i++];
  while (i < v.size() && v[i] == '_') {
    size_t name_end = i + 1;
    while (name_end < v.size() && v[name_end] >= 'a' && v[name_end] <= 'z') ++name_end;
    std::string_view name = v.substr(i + 1, name_end - i - 1);
    int weight = -1;
    for (size_t k = 0; k < kSuffixes.size(); ++k)
      if (!name.empty() && name == kSuffixes[k]) weight = static_cast<int>(k);
    if (weight < 0) break;
    size_t num_end = digits(name_end);
    Suffix s;
    s.weight = weight;
    if (num_end > name_end) s.number = v.substr(name_end, num_end - name_end);
    out.suffixes.push_back(s);
    i = num_end;
  }
  if (i < v.size() && v[i] == '~') {
    size_t k = i + 1;
    while (k < v.size() && (is_digit(v[k]) || (v[k] >= 'a' && v[k] <= 'f'))) ++k;
    if (k > i + 1) i = k;
  }
  if (i + 1 < v.size() && v[i] == '-' && v[i + 1] == 'r') {
    size_t end = digits(i + 2);
    if (end > i + 2) out.build = v.substr(i + 2, end - i - 2);
    i = end;
  } else if (i < v.size()) {
    out.invalid = true;
  }
  out.remainder = v.substr(i);
  return out;
}

int compare_numbers(const AlpineVersion& a, const AlpineVersion& b) {
  size_t n = std::max(a.numbers.size(), b.numbers.size());
  for (size_t k = 0; k < n; ++k) {
    bool ha = k < a.numbers.size(), hb = k < b.numbers.size();
    std::string_view x = ha ? a.numbers[k] : "0";
    std::string_view y = hb ? b.numbers[k] : "0";
    int c;
    if (k > 0 && ha && hb && (x.front() == '0' || y.front() == '0')) c = sign(x.compare(y));
    else c = compare_digits(x, y);
    if (c != 0) return c;
  }
  return 0;
}

}  // namespace

Result<int> compare_alpine(std::string_view a, std::string_view b) {
  VOUCH_RETURN_IF_ERROR(check_length("apk", a));
  VOUCH_RETURN_IF_ERROR(check_length("apk", b));
  AlpineVersion va = parse(a), vb = parse(b);
  if (va.invalid && vb.invalid) return sign(a.compare(b));
  if (int c = compare_numbers(va, vb)) return c;
  if (va.letter != vb.letter) return va.letter < vb.letter ? -1 : 1;
  size_t n = std::max(va.suffixes.size(), vb.suffixes.size());
  for (size_t k = 0; k < n; ++k) {
    Suffix x = k < va.suffixes.size() ? va.suffixes[k] : Suffix{};
    Suffix y = k < vb.suffixes.size() ? vb.suffixes[k] : Suffix{};
    if (x.weight != y.weight) return x.weight < y.weight ? -1 : 1;
    if (int c = compare_digits(x.number, y.number)) return c;
  }
  if (int c = compare_digits(va.build, vb.build)) return c;
  if (va.remainder.empty() != vb.remainder.empty()) return va.remainder.empty() ? 1 : -1;
  return 0;
}

}  // namespace vouch::vuln::detail
