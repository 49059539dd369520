#include "format.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "text.h"
#include "vouch/base/file.h"

namespace vouch::cel {

namespace {
constexpr int64_t kMinTimestampSeconds = -62135596800;  // 0001-01-01T00:00:00Z
constexpr int64_t kMaxTimestampSeconds = 253402300799;  // 9999-12-31T23:59:59Z
}  // namespace

std::string format_double(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  if (d == 0) return std::signbit(d) ? "-0" : "0";
  // Shortest precision that reads back exactly.
  char buf[64];
  int precision = 1;
  for (; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*e", precision - 1, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  // buf holds d.ddddde±XX; take its digits and exponent.
  std::string text(buf);
  bool negative = text[0] == '-';
  if (negative) text.erase(0, 1);
  size_t e = text.find('e');
  int exp = std::atoi(text.c_str() + e + 1);
  std::string digits;
  for (size_t k = 0; k < e; ++k)
    if (text[k] != '.') digits += text[k];
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  std::string out = negative ? "-" : "";
  if (exp < -4 || exp >= 6) {
    out += digits[0];
    if (digits.size() > 1) out += "." + digits.substr(1);
    out += fmt::format("e{}{:02d}", exp < 0 ? '-' : '+', std::abs(exp));
  } else if (exp < 0) {
    out += "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
  } else if (static_cast<size_t>(exp) + 1 >= digits.size()) {
    out += digits + std::string(static_cast<size_t>(exp) + 1 - digits.size(), '0');
  } else {
    out += digits.substr(0, static_cast<size_t>(exp) + 1) + "." + digits.substr(static_cast<size_t>(exp) + 1);
  }
  return out;
}

std::string quote_string(std::string_view s) {
  std::string out = "\"";
  size_t pos = 0;
  while (pos < s.size()) {
    size_t start = pos;
    uint32_t cp = 0;
    if (!next_code_point(s, pos, cp)) {
      out += "\\ufffd";
      pos = start + 1;
      continue;
    }
    switch (cp) {
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      default:
        if (cp < 0x20 || cp == 0x7f) out += fmt::format("\\u{:04x}", cp);
        else out.append(s.substr(start, pos - start));
    }
  }
  return out + "\"";
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

bool timestamp_in_range(const Timestamp& t) {
  return t.seconds >= kMinTimestampSeconds && t.seconds <= kMaxTimestampSeconds;
}

bool duration_in_range(const Duration& d) {
  // Durations are int64 nanoseconds, as in Go (and so in Kubernetes).
  __int128 n = static_cast<__int128>(d.seconds) * 1000000000 + d.nanos;
  return n >= std::numeric_limits<int64_t>::min() && n <= std::numeric_limits<int64_t>::max();
}

namespace {

bool read_digits(std::string_view s, size_t& pos, size_t n, int64_t& out) {
  out = 0;
  for (size_t k = 0; k < n; ++k) {
    if (pos >= s.size() || !std::isdigit(static_cast<unsigned char>(s[pos]))) return false;
    out = out * 10 + (s[pos++] - '0');
  }
  return true;
}

}  // namespace

Result<Timestamp> parse_timestamp(std::string_view s) {
  auto bad = [&] { return invalid_input(fmt::format("invalid timestamp '{}'", s)); };
  size_t pos = 0;
  int64_t y, mo, d, h, mi, sec;
  if (!read_digits(s, pos, 4, y) || pos >= s.size() || s[pos++] != '-' || !read_digits(s, pos, 2, mo) ||
      pos >= s.size() || s[pos++] != '-' || !read_digits(s, pos, 2, d) || pos >= s.size() ||
      (s[pos] != 'T' && s[pos] != 't') || !read_digits(s, ++pos, 2, h) || pos >= s.size() || s[pos++] != ':' ||
      !read_digits(s, pos, 2, mi) || pos >= s.size() || s[pos++] != ':' || !read_digits(s, pos, 2, sec))
    return bad();
  int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t scale = 100000000;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      nanos += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start || pos - start > 9) return bad();
  }
  int64_t offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int sign = s[pos++] == '-' ? -1 : 1;
    int64_t oh, om;
    if (!read_digits(s, pos, 2, oh) || pos >= s.size() || s[pos++] != ':' || !read_digits(s, pos, 2, om) || oh > 23 ||
        om > 59)
      return bad();
    offset = sign * (oh * 3600 + om * 60);
  } else {
    return bad();
  }
  if (pos != s.size()) return bad();
  static constexpr unsigned kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] || h > 23 || mi > 59 || sec > 59) return bad();
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo == 2 && d == 29 && !leap) return bad();
  Timestamp t;
  t.seconds = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 + h * 3600 + mi * 60 +
              sec - offset;
  t.nanos = static_cast<int32_t>(nanos);
  if (!timestamp_in_range(t)) return invalid_input(fmt::format("timestamp '{}' out of range", s));
  return t;
}

std::string format_timestamp(const Timestamp& t) {
  int64_t days = t.seconds / 86400;
  int64_t rem = t.seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  std::string out = fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}", y, m, d, rem / 3600, rem / 60 % 60, rem % 60);
  if (t.nanos) {
    std::string frac = fmt::format("{:09d}", t.nanos);
    while (frac.back() == '0') frac.pop_back();
    out += "." + frac;
  }
  return out + "Z";
}

Result<Duration> parse_duration(std::string_view s) {
  auto bad = [&] { return invalid_input(fmt::format("invalid duration '{}'", s)); };
  size_t pos = 0;
  bool negative = false;
  if (pos < s.size() && (s[pos] == '-' || s[pos] == '+')) negative = s[pos++] == '-';
  if (pos >= s.size()) return bad();
  if (s.substr(pos) == "0") return Duration{};
  // Accumulate in nanoseconds as a long double-free pair: whole nanos in __int128.
  __int128 total = 0;
  while (pos < s.size()) {
    __int128 whole = 0;
    size_t start = pos;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      whole = whole * 10 + (s[pos++] - '0');
      if (whole > static_cast<__int128>(1) << 100) return bad();
    }
    __int128 frac = 0, frac_scale = 1;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
        if (frac_scale < static_cast<__int128>(1000000000000000000)) {
          frac = frac * 10 + (s[pos] - '0');
          frac_scale *= 10;
        }
        ++pos;
      }
    }
    if (pos == start || (pos == start + 1 && s[start] == '.')) return bad();
    size_t ustart = pos;
    while (pos < s.size() && !std::isdigit(static_cast<unsigned char>(s[pos])) && s[pos] != '.') ++pos;
    std::string_view unit = s.substr(ustart, pos - ustart);
    __int128 unit_ns;
    if (unit == "h") unit_ns = 3600000000000;
    else if (unit == "m") unit_ns = 60000000000;
    else if (unit == "s") unit_ns = 1000000000;
    else if (unit == "ms") unit_ns = 1000000;
    else if (unit == "us" || unit == "\xc2\xb5s" || unit == "\xce\xbcs") unit_ns = 1000;
    else if (unit == "ns") unit_ns = 1;
    else return bad();
    total += whole * unit_ns + frac * unit_ns / frac_scale;
    if (total > static_cast<__int128>(std::numeric_limits<int64_t>::max()) + 1) {
      return invalid_input(fmt::format("duration '{}' out of range", s));
    }
  }
  if (negative) total = -total;
  Duration d;
  d.seconds = static_cast<int64_t>(total / 1000000000);
  d.nanos = static_cast<int32_t>(total % 1000000000);
  if (!duration_in_range(d)) return invalid_input(fmt::format("duration '{}' out of range", s));
  return d;
}

std::string format_duration(const Duration& d) {
  std::string out;
  int64_t s = d.seconds;
  int32_t n = d.nanos;
  if (s < 0 || n < 0) {
    out = "-";
    s = -s;
    n = -n;
  }
  out += std::to_string(s);
  if (n) {
    std::string frac = fmt::format("{:09d}", n);
    while (frac.back() == '0') frac.pop_back();
    out += "." + frac;
  }
  return out + "s";
}

namespace {

struct Zone {
  std::vector<int64_t> transitions;
  std::vector<uint8_t> type_of;
  std::vector<int64_t> offsets;
  int64_t initial_offset = 0;
};

int64_t be(const unsigned char* p, int n) {
  uint64_t v = 0;
  for (int k = 0; k < n; ++k) v = (v << 8) | p[k];
  if (n == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
  return static_cast<int64_t>(v);
}

// Reads the 64-bit (version 2+) body of a TZif file.
std::optional<Zone> read_tzif(const std::string& data) {
  auto u = reinterpret_cast<const unsigned char*>(data.data());
  auto counts = [&](size_t at, int64_t c[6]) {
    for (int k = 0; k < 6; ++k) c[k] = be(u + at + 20 + 4 * k, 4);
  };
  if (data.size() < 44 || data.compare(0, 4, "TZif") != 0 || data[4] < '2') return std::nullopt;
  int64_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  counts(0, c);
  size_t v1 = static_cast<size_t>(c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0]);
  size_t h2 = 44 + v1;
  if (data.size() < h2 + 44) return std::nullopt;
  counts(h2, c);
  size_t p = h2 + 44;
  size_t need = static_cast<size_t>(c[3] * 9 + c[4] * 6);
  if (c[3] < 0 || c[4] <= 0 || data.size() < p + need) return std::nullopt;
  Zone z;
  for (int64_t k = 0; k < c[3]; ++k) z.transitions.push_back(be(u + p + 8 * k, 8));
  p += static_cast<size_t>(8 * c[3]);
  for (int64_t k = 0; k < c[3]; ++k) {
    if (u[p + k] >= c[4]) return std::nullopt;
    z.type_of.push_back(u[p + k]);
  }
  p += static_cast<size_t>(c[3]);
  bool initial_set = false;
  for (int64_t k = 0; k < c[4]; ++k) {
    z.offsets.push_back(be(u + p + 6 * k, 4));
    if (!initial_set && u[p + 6 * k + 4] == 0) {
      z.initial_offset = z.offsets.back();
      initial_set = true;
    }
  }
  if (!initial_set) z.initial_offset = z.offsets[0];
  return z;
}

}  // namespace

std::optional<int64_t> zone_offset(std::string_view zone, int64_t t) {
  if (zone == "UTC" || zone == "Z" || zone == "utc") return 0;
  if (!zone.empty() && (zone[0] == '+' || zone[0] == '-' || std::isdigit(static_cast<unsigned char>(zone[0])))) {
    size_t pos = std::isdigit(static_cast<unsigned char>(zone[0])) ? 0 : 1;
    int64_t h, m;
    if (!read_digits(zone, pos, 2, h) || pos >= zone.size() || zone[pos++] != ':' || !read_digits(zone, pos, 2, m) ||
        pos != zone.size() || h > 23 || m > 59)
      return std::nullopt;
    return (zone[0] == '-' ? -1 : 1) * (h * 3600 + m * 60);
  }
  if (zone.empty() || zone.size() > 64 || zone.find("..") != std::string_view::npos || zone[0] == '/') return std::nullopt;
  for (char c : zone)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' || c == '+')) return std::nullopt;
  static std::mutex mu;
  static std::map<std::string, std::optional<Zone>, std::less<>> cache;
  std::lock_guard lock(mu);
  auto it = cache.find(zone);
  if (it == cache.end()) {
    std::optional<Zone> z;
    // read_file refuses what is not a regular file: "Asia/" names a directory, not a zone.
    if (auto data = read_file("/usr/share/zoneinfo/" + std::string(zone), 1 << 20)) z = read_tzif(*data);
    if (cache.size() > 512) cache.clear();
    it = cache.emplace(std::string(zone), std::move(z)).first;
  }
  if (!it->second) return std::nullopt;
  const Zone& z = *it->second;
  if (z.transitions.empty() || t < z.transitions[0]) return z.initial_offset;
  size_t lo = 0, hi = z.transitions.size();
  while (hi - lo > 1) {
    size_t mid = (lo + hi) / 2;
    if (z.transitions[mid] <= t) lo = mid;
    else hi = mid;
  }
  return z.offsets[z.type_of[lo]];
}

}  // namespace vouch::cel
