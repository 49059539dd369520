// How old the vulnerability data may be before `scan` warns about it.
#include <charconv>

#include <fmt/format.h>

#include "vouch/vuln/database.h"

namespace vouch::vuln {

Result<int64_t> parse_max_age(std::string_view text) {
  auto bad = [&] {
    return invalid_input(fmt::format("maximum database age '{}': expected a duration such as 120h, 5d, 90m, 3600s", text));
  };
  if (text.empty()) return bad();
  int64_t unit = 1;
  std::string_view digits = text;
  switch (text.back()) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    default: unit = 0;
  }
  if (unit) digits.remove_suffix(1);
  else unit = 1;
  int64_t n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || n < 0 ||
      n > int64_t{100} * 365 * 86400 / unit)
    return bad();
  return n * unit;
}

std::optional<std::string> staleness_warning(const DatabaseFreshness& f, UnixSeconds now, int64_t max_age) {
  if (!f.last_import)
    return fmt::format("the vulnerability database {} was never imported into; run `vouch db import`", f.path);
  int64_t age = now - *f.last_import;
  if (age <= max_age) return std::nullopt;
  auto human = [](int64_t s) {
    if (s < 120) return fmt::format("{} second{}", s, s == 1 ? "" : "s");
    if (s < 7200) return fmt::format("{} minutes", s / 60);
    if (s < 2 * 86400) return fmt::format("{} hours", s / 3600);
    return fmt::format("{} days", s / 86400);
  };
  return fmt::format(
      "the vulnerability database was last imported {} ago ({}), more than the {} allowed; import fresh OSV data "
      "(`vouch db import`) or raise --max-db-age",
      human(age), format_rfc3339(*f.last_import), human(max_age));
}

}  // namespace vouch::vuln
