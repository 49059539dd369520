// Kyverno's time functions (pkg/engine/jmespath/time.go), with Go's time.Parse layouts
// ("2006-01-02T15:04:05Z07:00", "Mon Jan _2 15:04:05 MST 2006", ...) and RFC 3339 output that
// keeps the input's UTC offset, as Go's time.Time does.
#include <charconv>
#include <chrono>
#include <ctime>

#include <fmt/format.h>

#include "kyverno_internal.h"

namespace vouch::policy::jmespath::kyverno {
namespace {

using Args = std::span<const Argument>;

constexpr std::string_view kRfc3339 = "2006-01-02T15:04:05Z07:00";

// An instant with the UTC offset it was written in.
struct Time {
  int64_t sec = 0;   // Unix seconds
  int32_t nsec = 0;  // 0..999999999
  int32_t offset = 0;  // seconds east of UTC
};

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Civil {
  int64_t year;
  unsigned month, day, hour, minute, second, weekday;
};

Civil civil_from(const Time& t) {
  int64_t local = t.sec + t.offset;
  int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
  int64_t secs = local - days * 86400;
  int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  Civil c;
  c.day = doy - (153 * mp + 2) / 5 + 1;
  c.month = mp < 10 ? mp + 3 : mp - 9;
  c.year = static_cast<int64_t>(yoe) + era * 400 + (c.month <= 2);
  c.hour = static_cast<unsigned>(secs / 3600);
  c.minute = static_cast<unsigned>(secs / 60 % 60);
  c.second = static_cast<unsigned>(secs % 60);
  int64_t wd = (days + 4) % 7;  // 1970-01-01 was a Thursday
  c.weekday = static_cast<unsigned>(wd < 0 ? wd + 7 : wd);
  return c;
}

std::string format_rfc3339(const Time& t) {
  Civil c = civil_from(t);
  std::string zone;
  if (t.offset == 0) {
    zone = "Z";
  } else {
    int off = t.offset < 0 ? -t.offset : t.offset;
    zone = fmt::format("{}{:02}:{:02}", t.offset < 0 ? '-' : '+', off / 3600, off / 60 % 60);
  }
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}", c.year, c.month, c.day, c.hour, c.minute, c.second, zone);
}

bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
unsigned days_in(int64_t y, unsigned m) {
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

constexpr std::string_view kLongMonths[] = {"January", "February", "March", "April", "May", "June", "July",
                                            "August", "September", "October", "November", "December"};
constexpr std::string_view kShortMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::string_view kLongDays[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
constexpr std::string_view kShortDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

enum class Std {
  kNone, kLongMonth, kMonth, kNumMonth, kZeroMonth, kLongWeekDay, kWeekDay, kDay, kUnderDay, kZeroDay,
  kHour, kHour12, kZeroHour12, kMinute, kZeroMinute, kSecond, kZeroSecond, kLongYear, kYear, kPM, kpm,
  kTZ, kISO8601TZ, kISO8601SecondsTZ, kISO8601ShortTZ, kISO8601ColonTZ, kISO8601ColonSecondsTZ,
  kNumTZ, kNumSecondsTz, kNumShortTZ, kNumColonTZ, kNumColonSecondsTZ, kFracSecond0, kFracSecond9,
  kYearDay, kZeroYearDay,
};

struct Chunk {
  std::string_view prefix;
  Std std = Std::kNone;
  size_t frac_digits = 0;
  std::string_view suffix;
};

bool starts(std::string_view s, size_t i, std::string_view p) { return s.substr(i, p.size()) == p; }

// Go's nextStdChunk: the literal text before the first layout element, the element, the rest.
Chunk next_chunk(std::string_view layout) {
  for (size_t i = 0; i < layout.size(); ++i) {
    auto found = [&](Std s, size_t len) { return Chunk{layout.substr(0, i), s, 0, layout.substr(i + len)}; };
    char c = layout[i];
    switch (c) {
      case 'J':
        if (starts(layout, i, "January")) return found(Std::kLongMonth, 7);
        if (starts(layout, i, "Jan")) return found(Std::kMonth, 3);
        break;
      case 'M':
        if (starts(layout, i, "Monday")) return found(Std::kLongWeekDay, 6);
        if (starts(layout, i, "Mon")) return found(Std::kWeekDay, 3);
        if (starts(layout, i, "MST")) return found(Std::kTZ, 3);
        break;
      case '0':
        if (i + 1 < layout.size() && layout[i + 1] >= '1' && layout[i + 1] <= '6') {
          static const Std k0x[] = {Std::kZeroMonth, Std::kZeroDay, Std::kZeroHour12,
                                    Std::kZeroMinute, Std::kZeroSecond, Std::kYear};
          return found(k0x[layout[i + 1] - '1'], 2);
        }
        if (starts(layout, i, "002")) return found(Std::kZeroYearDay, 3);
        break;
      case '1':
        if (starts(layout, i, "15")) return found(Std::kHour, 2);
        return found(Std::kNumMonth, 1);
      case '2':
        if (starts(layout, i, "2006")) return found(Std::kLongYear, 4);
        return found(Std::kDay, 1);
      case '_':
        if (starts(layout, i, "_2")) {
          if (starts(layout, i + 1, "2006")) return Chunk{layout.substr(0, i + 1), Std::kLongYear, 0, layout.substr(i + 5)};
          return found(Std::kUnderDay, 2);
        }
        if (starts(layout, i, "__2")) return found(Std::kYearDay, 3);
        break;
      case '3': return found(Std::kHour12, 1);
      case '4': return found(Std::kMinute, 1);
      case '5': return found(Std::kSecond, 1);
      case 'P':
        if (starts(layout, i, "PM")) return found(Std::kPM, 2);
        break;
      case 'p':
        if (starts(layout, i, "pm")) return found(Std::kpm, 2);
        break;
      case '-':
        if (starts(layout, i, "-070000")) return found(Std::kNumSecondsTz, 7);
        if (starts(layout, i, "-07:00:00")) return found(Std::kNumColonSecondsTZ, 9);
        if (starts(layout, i, "-0700")) return found(Std::kNumTZ, 5);
        if (starts(layout, i, "-07:00")) return found(Std::kNumColonTZ, 6);
        if (starts(layout, i, "-07")) return found(Std::kNumShortTZ, 3);
        break;
      case 'Z':
        if (starts(layout, i, "Z070000")) return found(Std::kISO8601SecondsTZ, 7);
        if (starts(layout, i, "Z07:00:00")) return found(Std::kISO8601ColonSecondsTZ, 9);
        if (starts(layout, i, "Z0700")) return found(Std::kISO8601TZ, 5);
        if (starts(layout, i, "Z07:00")) return found(Std::kISO8601ColonTZ, 6);
        if (starts(layout, i, "Z07")) return found(Std::kISO8601ShortTZ, 3);
        break;
      case '.':
      case ',':
        if (i + 1 < layout.size() && (layout[i + 1] == '0' || layout[i + 1] == '9')) {
          char ch = layout[i + 1];
          size_t j = i + 1;
          while (j < layout.size() && layout[j] == ch) ++j;
          if (!(j < layout.size() && layout[j] >= '0' && layout[j] <= '9')) {
            Chunk k{layout.substr(0, i), ch == '0' ? Std::kFracSecond0 : Std::kFracSecond9, j - (i + 1), layout.substr(j)};
            return k;
          }
        }
        break;
      default: break;
    }
  }
  return Chunk{layout, Std::kNone, 0, {}};
}

std::string_view cutspace(std::string_view s) {
  while (!s.empty() && s[0] == ' ') s.remove_prefix(1);
  return s;
}

// Go's skip: the layout's literal text; a space matches one or more spaces.
bool skip(std::string_view& value, std::string_view prefix) {
  while (!prefix.empty()) {
    if (prefix[0] == ' ') {
      if (!value.empty() && value[0] != ' ') return false;
      prefix = cutspace(prefix);
      value = cutspace(value);
      continue;
    }
    if (value.empty() || value[0] != prefix[0]) return false;
    prefix.remove_prefix(1);
    value.remove_prefix(1);
  }
  return true;
}

bool isdigit_at(std::string_view s, size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; }

// Go's getnum: one or two digits (exactly two if fixed).
bool getnum(std::string_view& s, bool fixed, int& out) {
  if (!isdigit_at(s, 0)) return false;
  if (!isdigit_at(s, 1)) {
    if (fixed) return false;
    out = s[0] - '0';
    s.remove_prefix(1);
    return true;
  }
  out = (s[0] - '0') * 10 + (s[1] - '0');
  s.remove_prefix(2);
  return true;
}

bool lookup_name(std::string_view& s, std::span<const std::string_view> names, int& index) {
  for (size_t i = 0; i < names.size(); ++i) {
    std::string_view n = names[i];
    if (s.size() >= n.size()) {
      bool eq = true;
      for (size_t k = 0; k < n.size(); ++k) {
        char a = s[k], b = n[k];
        if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
        if (a != b) {
          eq = false;
          break;
        }
      }
      if (eq) {
        index = static_cast<int>(i);
        s.remove_prefix(n.size());
        return true;
      }
    }
  }
  return false;
}

// The length of a time zone abbreviation at the start of s (Go's parseTimeZone), or 0.
size_t time_zone_length(std::string_view s) {
  if (s.size() < 3) return 0;
  if (s.size() >= 4 && (s.substr(0, 4) == "ChST" || s.substr(0, 4) == "MeST")) return 4;
  if (s.substr(0, 3) == "GMT") {
    size_t n = 3;
    if (s.size() > 3 && (s[3] == '+' || s[3] == '-')) {
      size_t k = 4;
      while (k < s.size() && isdigit_at(s, k)) ++k;
      if (k == 4) return 3;
      n = k;
    }
    return n;
  }
  size_t upper = 0;
  while (upper < s.size() && upper < 6 && s[upper] >= 'A' && s[upper] <= 'Z') ++upper;
  switch (upper) {
    case 3: return 3;
    case 4: return (s[3] == 'T' || s.substr(0, 4) == "WITA") ? 4 : 0;
    case 5: return s[4] == 'T' ? 5 : 0;
    default: return 0;
  }
}

Result<Time> go_parse(std::string_view layout, std::string_view value) {
  const std::string orig_layout(layout), orig_value(value);
  auto fail = [&](std::string_view why) {
    return invalid_input(fmt::format("parsing time \"{}\" as \"{}\": {}", orig_value, orig_layout, why));
  };
  int64_t year = 0;
  int month = -1, day = -1, yday = -1, hour = 0, minute = 0, sec = 0;
  int64_t nsec = 0;
  bool pm_set = false, am_set = false, have_zone = false;
  int zone_offset = 0;
  while (true) {
    Chunk ch = next_chunk(layout);
    if (!skip(value, ch.prefix)) return fail("literal text does not match");
    if (ch.std == Std::kNone) {
      if (!value.empty()) return fail(fmt::format("extra text: \"{}\"", value));
      break;
    }
    layout = ch.suffix;
    bool ok = true;
    switch (ch.std) {
      case Std::kYear: {
        if (value.size() < 2 || !isdigit_at(value, 0) || !isdigit_at(value, 1)) return fail("bad year");
        int v = (value[0] - '0') * 10 + (value[1] - '0');
        year = v >= 69 ? 1900 + v : 2000 + v;
        value.remove_prefix(2);
        break;
      }
      case Std::kLongYear: {
        if (value.size() < 4) return fail("bad year");
        for (int k = 0; k < 4; ++k) {
          if (!isdigit_at(value, static_cast<size_t>(k))) return fail("bad year");
        }
        year = (value[0] - '0') * 1000 + (value[1] - '0') * 100 + (value[2] - '0') * 10 + (value[3] - '0');
        value.remove_prefix(4);
        break;
      }
      case Std::kMonth: ok = lookup_name(value, kShortMonths, month), ++month; break;
      case Std::kLongMonth: ok = lookup_name(value, kLongMonths, month), ++month; break;
      case Std::kNumMonth:
      case Std::kZeroMonth:
        ok = getnum(value, ch.std == Std::kZeroMonth, month) && month >= 1 && month <= 12;
        break;
      case Std::kWeekDay: {
        int wd;
        ok = lookup_name(value, kShortDays, wd);
        break;
      }
      case Std::kLongWeekDay: {
        int wd;
        ok = lookup_name(value, kLongDays, wd);
        break;
      }
      case Std::kDay:
      case Std::kUnderDay:
      case Std::kZeroDay:
        if (ch.std == Std::kUnderDay && !value.empty() && value[0] == ' ') value.remove_prefix(1);
        ok = getnum(value, ch.std == Std::kZeroDay, day);
        break;
      case Std::kYearDay:
      case Std::kZeroYearDay: {
        size_t k = 0;
        while (k < 3 && value.size() > k && value[k] == ' ' && ch.std == Std::kYearDay) ++k;
        value.remove_prefix(k);
        int v = 0, n = 0;
        while (n < 3 && isdigit_at(value, 0)) {
          v = v * 10 + (value[0] - '0');
          value.remove_prefix(1);
          ++n;
        }
        ok = n > 0 && v >= 1 && v <= 366;
        yday = v;
        break;
      }
      case Std::kHour: ok = getnum(value, false, hour) && hour < 24; break;
      case Std::kHour12:
      case Std::kZeroHour12: ok = getnum(value, ch.std == Std::kZeroHour12, hour) && hour <= 12; break;
      case Std::kMinute:
      case Std::kZeroMinute: ok = getnum(value, ch.std == Std::kZeroMinute, minute) && minute < 60; break;
      case Std::kSecond:
      case Std::kZeroSecond: {
        ok = getnum(value, ch.std == Std::kZeroSecond, sec) && sec < 60;
        if (!ok) break;
        // A fractional second may follow even when the layout does not show one.
        if (value.size() >= 2 && (value[0] == '.' || value[0] == ',') && isdigit_at(value, 1)) {
          Chunk next = next_chunk(layout);
          if (next.prefix.empty() && (next.std == Std::kFracSecond0 || next.std == Std::kFracSecond9)) break;
          size_t n = 1;
          while (isdigit_at(value, n)) ++n;
          int64_t ns = 0;
          for (size_t k = 1; k < n && k <= 9; ++k) ns = ns * 10 + (value[k] - '0');
          for (size_t k = n - 1; k < 9; ++k) ns *= 10;
          nsec = ns;
          value.remove_prefix(n);
        }
        break;
      }
      case Std::kPM:
      case Std::kpm: {
        if (value.size() < 2) return fail("bad AM/PM");
        std::string p(value.substr(0, 2));
        if (ch.std == Std::kPM ? p == "PM" : p == "pm") pm_set = true;
        else if (ch.std == Std::kPM ? p == "AM" : p == "am") am_set = true;
        else ok = false;
        value.remove_prefix(2);
        break;
      }
      case Std::kISO8601TZ: case Std::kISO8601ColonTZ: case Std::kISO8601SecondsTZ:
      case Std::kISO8601ShortTZ: case Std::kISO8601ColonSecondsTZ:
      case Std::kNumTZ: case Std::kNumShortTZ: case Std::kNumColonTZ: case Std::kNumSecondsTz:
      case Std::kNumColonSecondsTZ: {
        bool iso = ch.std == Std::kISO8601TZ || ch.std == Std::kISO8601ColonTZ || ch.std == Std::kISO8601SecondsTZ ||
                   ch.std == Std::kISO8601ShortTZ || ch.std == Std::kISO8601ColonSecondsTZ;
        if (iso && !value.empty() && value[0] == 'Z') {
          value.remove_prefix(1);
          have_zone = true;
          zone_offset = 0;
          break;
        }
        bool colon = ch.std == Std::kISO8601ColonTZ || ch.std == Std::kNumColonTZ ||
                     ch.std == Std::kISO8601ColonSecondsTZ || ch.std == Std::kNumColonSecondsTZ;
        bool with_seconds = ch.std == Std::kISO8601SecondsTZ || ch.std == Std::kNumSecondsTz ||
                            ch.std == Std::kISO8601ColonSecondsTZ || ch.std == Std::kNumColonSecondsTZ;
        bool short_tz = ch.std == Std::kISO8601ShortTZ || ch.std == Std::kNumShortTZ;
        if (value.empty() || (value[0] != '+' && value[0] != '-')) return fail("bad time zone offset");
        int sign = value[0] == '-' ? -1 : 1;
        value.remove_prefix(1);
        int hh = 0, mm = 0, ss = 0;
        if (!getnum(value, true, hh)) return fail("bad time zone offset");
        if (!short_tz) {
          if (colon && !skip(value, ":")) return fail("bad time zone offset");
          if (!getnum(value, true, mm)) return fail("bad time zone offset");
          if (with_seconds) {
            if (colon && !skip(value, ":")) return fail("bad time zone offset");
            if (!getnum(value, true, ss)) return fail("bad time zone offset");
          }
        }
        if (hh > 24 || mm > 60 || ss > 60) return fail("time zone offset out of range");
        have_zone = true;
        zone_offset = sign * (hh * 3600 + mm * 60 + ss);
        break;
      }
      case Std::kTZ: {
        if (value.size() >= 3 && value.substr(0, 3) == "UTC") {
          value.remove_prefix(3);
          have_zone = true;
          zone_offset = 0;
          break;
        }
        size_t n = time_zone_length(value);
        if (n == 0) return fail("cannot parse time zone");
        std::string_view name = value.substr(0, n);
        value.remove_prefix(n);
        have_zone = true;
        zone_offset = 0;  // an abbreviation Go does not know stands for offset 0
        if (name.size() > 4 && name.substr(0, 3) == "GMT") {
          int h = 0;
          std::string_view digits = name.substr(4);
          auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), h);
          if (ec != std::errc() || h > 23) return fail("bad GMT offset");
          zone_offset = (name[3] == '-' ? -h : h) * 3600;
        }
        break;
      }
      case Std::kFracSecond0: {
        size_t n = 1 + ch.frac_digits;
        if (value.size() < n || (value[0] != '.' && value[0] != ',')) return fail("bad fractional second");
        int64_t ns = 0;
        for (size_t k = 1; k < n; ++k) {
          if (!isdigit_at(value, k)) return fail("bad fractional second");
          if (k <= 9) ns = ns * 10 + (value[k] - '0');
        }
        for (size_t k = n - 1; k < 9; ++k) ns *= 10;
        nsec = ns;
        value.remove_prefix(n);
        break;
      }
      case Std::kFracSecond9: {
        if (value.size() < 2 || (value[0] != '.' && value[0] != ',') || !isdigit_at(value, 1)) break;
        size_t n = 1;
        while (n < 10 && isdigit_at(value, n)) ++n;
        int64_t ns = 0;
        for (size_t k = 1; k < n; ++k) ns = ns * 10 + (value[k] - '0');
        for (size_t k = n - 1; k < 9; ++k) ns *= 10;
        nsec = ns;
        value.remove_prefix(n);
        break;
      }
      case Std::kNone: break;
    }
    if (!ok) return fail("value out of range or malformed");
  }
  if (pm_set && hour < 12) hour += 12;
  if (am_set && hour == 12) hour = 0;
  if (yday >= 0) {
    if (yday > (is_leap(year) ? 366 : 365)) return fail("day-of-year out of range");
    int m = 1, d = yday;
    while (d > static_cast<int>(days_in(year, static_cast<unsigned>(m)))) {
      d -= static_cast<int>(days_in(year, static_cast<unsigned>(m)));
      ++m;
    }
    if ((month >= 0 && month != m) || (day >= 0 && day != d)) return fail("day-of-year does not match month and day");
    month = m;
    day = d;
  }
  if (month < 0) month = 1;
  if (day < 0) day = 1;
  if (day < 1 || day > static_cast<int>(days_in(year, static_cast<unsigned>(month)))) return fail("day out of range");
  Time t;
  int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  t.sec = days * 86400 + hour * 3600 + minute * 60 + sec - (have_zone ? zone_offset : 0);
  t.nsec = static_cast<int32_t>(nsec);
  t.offset = have_zone ? zone_offset : 0;
  return t;
}

// Time.Sub: saturating at the limits of a Duration.
int64_t sub(const Time& a, const Time& b) {
  __int128 d = (static_cast<__int128>(a.sec) - b.sec) * 1000000000 + (a.nsec - b.nsec);
  if (d > INT64_MAX) return INT64_MAX;
  if (d < INT64_MIN) return INT64_MIN;
  return static_cast<int64_t>(d);
}

Time add(Time t, int64_t d) {
  int64_t s = d / 1000000000;
  int64_t ns = d % 1000000000;
  t.sec += s;
  int64_t n = t.nsec + ns;
  if (n >= 1000000000) {
    ++t.sec;
    n -= 1000000000;
  } else if (n < 0) {
    --t.sec;
    n += 1000000000;
  }
  t.nsec = static_cast<int32_t>(n);
  return t;
}

int compare(const Time& a, const Time& b) {
  if (a.sec != b.sec) return a.sec < b.sec ? -1 : 1;
  if (a.nsec != b.nsec) return a.nsec < b.nsec ? -1 : 1;
  return 0;
}

Result<Time> time_arg(std::string_view fn, const Argument& a) {
  auto t = go_parse(kRfc3339, a->get_string());
  if (!t.ok()) return function_error(fn, t.error().message);
  return t;
}

Result<int64_t> duration_arg(std::string_view fn, const Argument& a) {
  auto d = parse_go_duration(a->get_string());
  if (!d.ok()) return function_error(fn, d.error().message);
  return d;
}

Time now(bool utc) {
  auto n = std::chrono::system_clock::now().time_since_epoch();
  Time t;
  t.sec = std::chrono::duration_cast<std::chrono::seconds>(n).count();
  t.nsec = static_cast<int32_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(n).count() % 1000000000);
  if (!utc) {
    std::time_t tt = static_cast<std::time_t>(t.sec);
    std::tm tm{};
    if (localtime_r(&tt, &tm) != nullptr) t.offset = static_cast<int32_t>(tm.tm_gmtoff);
  }
  return t;
}

bj::value str(const std::string& s) { return bj::value(bj::string(s)); }

Function fn(std::string name, std::vector<Parameter> params, FunctionImpl impl) {
  return Function{std::move(name), std::move(params), std::move(impl)};
}

}  // namespace

void add_time_functions(FunctionRegistry& r) {
  const Parameter s{kString};
  r.add(fn("time_since", {s, s, s}, [](Args a, const CallContext&) -> Result<bj::value> {
    std::string_view layout = a[0]->get_string();
    if (layout.empty()) layout = kRfc3339;
    auto t1 = go_parse(layout, a[1]->get_string());
    if (!t1.ok()) return function_error("time_since", t1.error().message);
    Time t2 = now(false);
    if (!a[2]->get_string().empty()) {
      auto p = go_parse(layout, a[2]->get_string());
      if (!p.ok()) return function_error("time_since", p.error().message);
      t2 = *p;
    }
    return str(format_go_duration(sub(t2, *t1)));
  }));
  r.add(fn("time_now", {}, [](Args, const CallContext&) -> Result<bj::value> { return str(format_rfc3339(now(false))); }));
  r.add(fn("time_now_utc", {}, [](Args, const CallContext&) -> Result<bj::value> { return str(format_rfc3339(now(true))); }));
  r.add(fn("time_to_cron", {s}, [](Args a, const CallContext&) -> Result<bj::value> {
    VOUCH_ASSIGN_OR_RETURN(Time t, time_arg("time_to_cron", a[0]));
    Civil c = civil_from(t);
    return str(fmt::format("{} {} {} {} {}", c.minute, c.hour, c.day, c.month, c.weekday));
  }));
  r.add(fn("time_add", {s, s}, [](Args a, const CallContext&) -> Result<bj::value> {
    VOUCH_ASSIGN_OR_RETURN(Time t, time_arg("time_add", a[0]));
    VOUCH_ASSIGN_OR_RETURN(int64_t d, duration_arg("time_add", a[1]));
    return str(format_rfc3339(add(t, d)));
  }));
  r.add(fn("time_parse", {s, s}, [](Args a, const CallContext&) -> Result<bj::value> {
    std::string_view layout = a[0]->get_string();
    std::string_view value = a[1]->get_string();
    auto is_int = [](std::string_view x, int64_t& out) {
      std::string_view d = x;
      if (!d.empty() && (d[0] == '+' || d[0] == '-')) d.remove_prefix(1);
      if (d.empty()) return false;
      for (char c : d) {
        if (c < '0' || c > '9') return false;
      }
      auto [p, ec] = std::from_chars(x.data() + (x[0] == '+' ? 1 : 0), x.data() + x.size(), out);
      return ec == std::errc() && p == x.data() + x.size();
    };
    int64_t epoch = 0;
    if (is_int(layout, epoch)) {  // a number as the layout: the value is Unix seconds
      if (!is_int(value, epoch)) return function_error("time_parse", fmt::format("invalid epoch time \"{}\"", value));
      Time t;
      t.sec = epoch;
      return str(format_rfc3339(t));
    }
    auto t = go_parse(layout, value);
    if (!t.ok()) return function_error("time_parse", t.error().message);
    return str(format_rfc3339(*t));
  }));
  r.add(fn("time_utc", {s}, [](Args a, const CallContext&) -> Result<bj::value> {
    VOUCH_ASSIGN_OR_RETURN(Time t, time_arg("time_utc", a[0]));
    t.offset = 0;
    return str(format_rfc3339(t));
  }));
  r.add(fn("time_diff", {s, s}, [](Args a, const CallContext&) -> Result<bj::value> {
    VOUCH_ASSIGN_OR_RETURN(Time t1, time_arg("time_diff", a[0]));
    VOUCH_ASSIGN_OR_RETURN(Time t2, time_arg("time_diff", a[1]));
    return str(format_go_duration(sub(t2, t1)));
  }));
  r.add(fn("time_before", {s, s}, [](Args a, const CallContext&) -> Result<bj::value> {
    VOUCH_ASSIGN_OR_RETURN(Time t1, time_arg("time_before", a[0]));
    VOUCH_ASSIGN_OR_RETURN(Time t2, time_arg("time_before", a[1]));
    return bj::value(compare(t1, t2) < 0);
  }));
  r.add(fn("time_after", {s, s}, [](Args a, const CallContext&) -> Result<bj::value> {
    VOUCH_ASSIGN_OR_RETURN(Time t1, time_arg("time_after", a[0]));
    VOUCH_ASSIGN_OR_RETURN(Time t2, time_arg("time_after", a[1]));
    return bj::value(compare(t1, t2) > 0);
  }));
  r.add(fn("time_between", {s, s, s}, [](Args a, const CallContext&) -> Result<bj::value> {
    VOUCH_ASSIGN_OR_RETURN(Time t, time_arg("time_between", a[0]));
    VOUCH_ASSIGN_OR_RETURN(Time start, time_arg("time_between", a[1]));
    VOUCH_ASSIGN_OR_RETURN(Time end, time_arg("time_between", a[2]));
    return bj::value(compare(t, start) > 0 && compare(t, end) < 0);
  }));
  r.add(fn("time_truncate", {s, s}, [](Args a, const CallContext&) -> Result<bj::value> {
    VOUCH_ASSIGN_OR_RETURN(Time t, time_arg("time_truncate", a[0]));
    VOUCH_ASSIGN_OR_RETURN(int64_t d, duration_arg("time_truncate", a[1]));
    if (d <= 0) return str(format_rfc3339(t));
    // Go truncates the time since its zero time, 0001-01-01T00:00:00Z.
    constexpr int64_t kZeroToUnix = 62135596800;
    __int128 since_zero = (static_cast<__int128>(t.sec) + kZeroToUnix) * 1000000000 + t.nsec;
    __int128 rem = since_zero % d;
    if (rem < 0) rem += d;
    since_zero -= rem;
    __int128 ns = since_zero - static_cast<__int128>(kZeroToUnix) * 1000000000;
    __int128 secs = ns >= 0 ? ns / 1000000000 : -((-ns + 999999999) / 1000000000);
    t.sec = static_cast<int64_t>(secs);
    t.nsec = static_cast<int32_t>(ns - secs * 1000000000);
    return str(format_rfc3339(t));
  }));
}

}  // namespace vouch::policy::jmespath::kyverno
