// Packagist: PHP's version_compare() on versions as Composer writes them (a leading 'v'
// dropped). The version is canonicalized ('-', '_' and '+' become '.',
// and a '.' goes between digits and letters), then compared part by part: numbers by value,
// special forms dev < alpha = a < beta = b < RC = rc < (number) < pl = p, anything else
// before dev.
#include <array>

#include "vouch/vuln/version.h"

namespace vouch::vuln::detail {
namespace {

std::vector<std::string> canonical(std::string_view v) {
  if (!v.empty() && (v.front() == 'v' || v.front() == 'V')) v.remove_prefix(1);
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (i == 0) {
      out += c;
      continue;
    }
    char prev = v[i - 1];
    if (c == '-' || c == '_' || c == '+') {
      if (out.back() != '.') out += '.';
    } else if (prev != '.' && c != '.' && is_digit(prev) != is_digit(c)) {
      if (out.back() != '.') out += '.';
      out += c;
    } else {
      out += c;
    }
  }
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = out.find('.', start);
    parts.push_back(out.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

int special_rank(std::string_view form) {
  struct Form {
    std::string_view name;
    int order;
  };
  static constexpr std::array<Form, 10> kForms = {{{"dev", 0}, {"alpha", 1}, {"a", 1}, {"beta", 2}, {"b", 2},
                                                   {"RC", 3}, {"rc", 3}, {"#", 4}, {"pl", 5}, {"p", 5}}};
  for (const Form& f : kForms)
    if (form.starts_with(f.name)) return f.order;
  return -1;
}

int compare_parts(const std::vector<std::string>& a, size_t i, const std::vector<std::string>& b, size_t j) {
  for (; i < a.size() && j < b.size(); ++i, ++j) {
    bool an = all_digits(a[i]), bn = all_digits(b[j]);
    int c;
    if (an && bn) c = compare_digits(a[i], b[j]);
    else if (!an && !bn) c = sign(special_rank(a[i]) - special_rank(b[j]));
    else if (an) c = sign(special_rank("#") - special_rank(b[j]));
    else c = sign(special_rank(a[i]) - special_rank("#"));
    if (c != 0) return c;
  }
  static const std::vector<std::string> kNumber = {"#"};
  if (i < a.size()) return all_digits(a[i]) ? 1 : compare_parts(a, i, kNumber, 0);
  if (j < b.size()) return all_digits(b[j]) ? -1 : compare_parts(kNumber, 0, b, j);
  return 0;
}

}  // namespace

Result<int> compare_packagist(std::string_view a, std::string_view b) {
  VOUCH_RETURN_IF_ERROR(check_length("packagist", a));
  VOUCH_RETURN_IF_ERROR(check_length("packagist", b));
  return compare_parts(canonical(a), 0, canonical(b), 0);
}

}  // namespace vouch::vuln::detail
