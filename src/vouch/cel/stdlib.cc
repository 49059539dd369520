// CEL's standard definitions: operators, conversions, string and time functions, optionals.
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

#include <fmt/format.h>
#include <re2/re2.h>

#include "format.h"
#include "internal.h"
#include "text.h"

namespace vouch::cel {
namespace {

using Args = std::span<const Value>;

bool is_number(const Value& v) { return v.is(Kind::kInt) || v.is(Kind::kUint) || v.is(Kind::kDouble); }

Value overflow() { return Value::error("return error for overflow"); }

Duration normalize(__int128 nanos) {
  Duration d;
  d.seconds = static_cast<int64_t>(nanos / 1000000000);
  d.nanos = static_cast<int32_t>(nanos % 1000000000);
  return d;
}
__int128 nanos_of(int64_t s, int32_t n) { return static_cast<__int128>(s) * 1000000000 + n; }

Value make_timestamp(__int128 nanos) {
  __int128 s = nanos / 1000000000;
  __int128 n = nanos % 1000000000;
  if (n < 0) {
    n += 1000000000;
    s -= 1;
  }
  if (s < std::numeric_limits<int64_t>::min() || s > std::numeric_limits<int64_t>::max()) return range_error("timestamp");
  Timestamp t{static_cast<int64_t>(s), static_cast<int32_t>(n)};
  if (!timestamp_in_range(t)) return range_error("timestamp out of range");
  return Value::timestamp(t);
}

Value make_duration(__int128 nanos) {
  if (nanos > static_cast<__int128>(std::numeric_limits<int64_t>::max()) * 1000000000 ||
      nanos < static_cast<__int128>(std::numeric_limits<int64_t>::min()) * 1000000000)
    return range_error("duration");
  Duration d = normalize(nanos);
  if (!duration_in_range(d)) return range_error("duration out of range");
  return Value::duration(d);
}

Value add(Args a) {
  const Value& x = a[0];
  const Value& y = a[1];
  if (x.kind() == y.kind()) {
    switch (x.kind()) {
      case Kind::kInt: {
        int64_t r;
        if (__builtin_add_overflow(x.as_int(), y.as_int(), &r)) return overflow();
        return Value::integer(r);
      }
      case Kind::kUint: {
        uint64_t r;
        if (__builtin_add_overflow(x.as_uint(), y.as_uint(), &r)) return overflow();
        return Value::uint(r);
      }
      case Kind::kDouble: return Value::dbl(x.as_double() + y.as_double());
      case Kind::kString: return Value::string(x.as_string() + y.as_string());
      case Kind::kBytes: return Value::bytes(x.as_bytes() + y.as_bytes());
      case Kind::kList: {
        List out;
        out.reserve(x.as_list().size() + y.as_list().size());
        out.insert(out.end(), x.as_list().begin(), x.as_list().end());
        out.insert(out.end(), y.as_list().begin(), y.as_list().end());
        return Value::list(std::move(out));
      }
      case Kind::kDuration:
        return make_duration(nanos_of(x.as_duration().seconds, x.as_duration().nanos) +
                             nanos_of(y.as_duration().seconds, y.as_duration().nanos));
      default: break;
    }
  }
  if (x.is(Kind::kTimestamp) && y.is(Kind::kDuration))
    return make_timestamp(nanos_of(x.as_timestamp().seconds, x.as_timestamp().nanos) +
                          nanos_of(y.as_duration().seconds, y.as_duration().nanos));
  if (x.is(Kind::kDuration) && y.is(Kind::kTimestamp)) return add(std::array<Value, 2>{y, x});
  return Value::no_overload("_+_");
}

Value subtract(Args a) {
  const Value& x = a[0];
  const Value& y = a[1];
  if (x.kind() == y.kind()) {
    switch (x.kind()) {
      case Kind::kInt: {
        int64_t r;
        if (__builtin_sub_overflow(x.as_int(), y.as_int(), &r)) return overflow();
        return Value::integer(r);
      }
      case Kind::kUint: {
        uint64_t r;
        if (__builtin_sub_overflow(x.as_uint(), y.as_uint(), &r)) return overflow();
        return Value::uint(r);
      }
      case Kind::kDouble: return Value::dbl(x.as_double() - y.as_double());
      case Kind::kDuration:
        return make_duration(nanos_of(x.as_duration().seconds, x.as_duration().nanos) -
                             nanos_of(y.as_duration().seconds, y.as_duration().nanos));
      case Kind::kTimestamp:
        return make_duration(nanos_of(x.as_timestamp().seconds, x.as_timestamp().nanos) -
                             nanos_of(y.as_timestamp().seconds, y.as_timestamp().nanos));
      default: break;
    }
  }
  if (x.is(Kind::kTimestamp) && y.is(Kind::kDuration))
    return make_timestamp(nanos_of(x.as_timestamp().seconds, x.as_timestamp().nanos) -
                          nanos_of(y.as_duration().seconds, y.as_duration().nanos));
  return Value::no_overload("_-_");
}

Value multiply(Args a) {
  const Value& x = a[0];
  const Value& y = a[1];
  if (x.kind() != y.kind()) return Value::no_overload("_*_");
  switch (x.kind()) {
    case Kind::kInt: {
      int64_t r;
      if (__builtin_mul_overflow(x.as_int(), y.as_int(), &r)) return overflow();
      return Value::integer(r);
    }
    case Kind::kUint: {
      uint64_t r;
      if (__builtin_mul_overflow(x.as_uint(), y.as_uint(), &r)) return overflow();
      return Value::uint(r);
    }
    case Kind::kDouble: return Value::dbl(x.as_double() * y.as_double());
    default: return Value::no_overload("_*_");
  }
}

Value divide(Args a) {
  const Value& x = a[0];
  const Value& y = a[1];
  if (x.kind() != y.kind()) return Value::no_overload("_/_");
  switch (x.kind()) {
    case Kind::kInt:
      if (y.as_int() == 0) return Value::error("divide by zero");
      if (x.as_int() == std::numeric_limits<int64_t>::min() && y.as_int() == -1) return overflow();
      return Value::integer(x.as_int() / y.as_int());
    case Kind::kUint:
      if (y.as_uint() == 0) return Value::error("divide by zero");
      return Value::uint(x.as_uint() / y.as_uint());
    case Kind::kDouble: return Value::dbl(x.as_double() / y.as_double());
    default: return Value::no_overload("_/_");
  }
}

Value modulo(Args a) {
  const Value& x = a[0];
  const Value& y = a[1];
  if (x.kind() != y.kind()) return Value::no_overload("_%_");
  switch (x.kind()) {
    case Kind::kInt:
      if (y.as_int() == 0) return Value::error("modulus by zero");
      if (x.as_int() == std::numeric_limits<int64_t>::min() && y.as_int() == -1) return overflow();
      return Value::integer(x.as_int() % y.as_int());
    case Kind::kUint:
      if (y.as_uint() == 0) return Value::error("modulus by zero");
      return Value::uint(x.as_uint() % y.as_uint());
    default: return Value::no_overload("_%_");
  }
}

// -1, 0, 1; 2 unordered; 3 no overload.
int order(const Value& x, const Value& y) {
  if (is_number(x) && is_number(y)) return compare_numeric(x, y);
  if (x.kind() != y.kind()) return 3;
  auto cmp = [](auto p, auto q) { return p < q ? -1 : p > q ? 1 : 0; };
  switch (x.kind()) {
    case Kind::kBool: return cmp(x.as_bool(), y.as_bool());
    case Kind::kString: return cmp(x.as_string().compare(y.as_string()), 0);
    case Kind::kBytes: return cmp(x.as_bytes().compare(y.as_bytes()), 0);
    case Kind::kTimestamp:
      return cmp(nanos_of(x.as_timestamp().seconds, x.as_timestamp().nanos),
                 nanos_of(y.as_timestamp().seconds, y.as_timestamp().nanos));
    case Kind::kDuration:
      return cmp(nanos_of(x.as_duration().seconds, x.as_duration().nanos),
                 nanos_of(y.as_duration().seconds, y.as_duration().nanos));
    default: return 3;
  }
}

Function relation(const char* name, bool (*pred)(int)) {
  return [name, pred](Args a) {
    int o = order(a[0], a[1]);
    if (o == 3) return Value::no_overload(name);
    if (o == 2) return Value::boolean(false);
    return Value::boolean(pred(o));
  };
}

Value optional_index(Args a);

Value index(Args a) {
  const Value& c = a[0];
  const Value& i = a[1];
  // Indexing an optional chains: none stays none, a value is indexed optionally.
  if (c.is(Kind::kOptional)) return optional_index(a);
  if (c.is(Kind::kList)) {
    const auto& l = c.as_list();
    int64_t k;
    if (i.is(Kind::kInt)) {
      k = i.as_int();
    } else if (i.is(Kind::kUint)) {
      if (i.as_uint() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return Value::error("index out of range");
      k = static_cast<int64_t>(i.as_uint());
    } else if (i.is(Kind::kDouble)) {
      double d = i.as_double();
      if (d != std::trunc(d) || !std::isfinite(d)) return Value::error(fmt::format("invalid list index: {}", format_double(d)));
      if (d < -9.3e18 || d > 9.3e18) return Value::error("index out of range");
      k = static_cast<int64_t>(d);
    } else {
      return Value::no_overload("_[_]");
    }
    if (k < 0 || static_cast<uint64_t>(k) >= l.size())
      return Value::error(fmt::format("index out of range: index {}, size {}", k, l.size()));
    return l[static_cast<size_t>(k)];
  }
  if (c.is(Kind::kMap)) {
    if (!map_key(i) && !i.is(Kind::kDouble)) return Value::error(fmt::format("unsupported key type: {}", i.type_name()));
    const Value* v = c.as_map().find(i);
    if (!v) return Value::error(fmt::format("no such key: {}", i.debug_string()));
    return *v;
  }
  return Value::no_overload("_[_]");
}

Value optional_index(Args a) {
  const Value& c = a[0];
  if (c.is(Kind::kOptional)) {
    if (!c.optional_value()) return c;
    return optional_index(std::array<Value, 2>{*c.optional_value(), a[1]});
  }
  if (c.is(Kind::kMap)) {
    const Value* v = c.as_map().find(a[1]);
    return v ? Value::optional_of(*v) : Value::optional_none();
  }
  if (c.is(Kind::kList)) {
    Value r = index(a);
    if (r.is_error()) {
      if (!a[1].is(Kind::kInt) && !a[1].is(Kind::kUint) && !a[1].is(Kind::kDouble)) return r;
      return Value::optional_none();
    }
    return Value::optional_of(std::move(r));
  }
  return Value::no_overload("_[?_]");
}

Value contained(Args a) {
  const Value& x = a[0];
  const Value& c = a[1];
  if (c.is(Kind::kList)) {
    for (const auto& v : c.as_list())
      if (equals(x, v)) return Value::boolean(true);
    return Value::boolean(false);
  }
  if (c.is(Kind::kMap)) return Value::boolean(c.as_map().find(x) != nullptr);
  return Value::no_overload("@in");
}

Value size_of(Args a) {
  const Value& x = a[0];
  switch (x.kind()) {
    case Kind::kString: return Value::integer(static_cast<int64_t>(code_points(x.as_string())));
    case Kind::kBytes: return Value::integer(static_cast<int64_t>(x.as_bytes().size()));
    case Kind::kList: return Value::integer(static_cast<int64_t>(x.as_list().size()));
    case Kind::kMap: return Value::integer(static_cast<int64_t>(x.as_map().size()));
    default: return Value::no_overload("size");
  }
}

Value to_int(Args a) {
  const Value& x = a[0];
  switch (x.kind()) {
    case Kind::kInt: return x;
    case Kind::kUint:
      if (x.as_uint() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return range_error("int");
      return Value::integer(static_cast<int64_t>(x.as_uint()));
    case Kind::kDouble: {
      double d = x.as_double();
      if (!(d > -9223372036854775808.0 && d < 9223372036854775808.0)) return range_error("int");
      return Value::integer(static_cast<int64_t>(d));
    }
    case Kind::kString: {
      const std::string& s = x.as_string();
      errno = 0;
      char* end = nullptr;
      long long v = std::strtoll(s.c_str(), &end, 10);
      if (s.empty() || end != s.c_str() + s.size() || errno == ERANGE || std::isspace(static_cast<unsigned char>(s[0])))
        return Value::error(fmt::format("cannot convert '{}' to int", s));
      return Value::integer(v);
    }
    case Kind::kTimestamp: return Value::integer(x.as_timestamp().seconds);
    default: return Value::no_overload("int");
  }
}

Value to_uint(Args a) {
  const Value& x = a[0];
  switch (x.kind()) {
    case Kind::kUint: return x;
    case Kind::kInt:
      if (x.as_int() < 0) return range_error("uint");
      return Value::uint(static_cast<uint64_t>(x.as_int()));
    case Kind::kDouble: {
      double d = x.as_double();
      if (!(d > -1.0 && d < 18446744073709551616.0)) return range_error("uint");
      return Value::uint(static_cast<uint64_t>(d));
    }
    case Kind::kString: {
      const std::string& s = x.as_string();
      errno = 0;
      char* end = nullptr;
      if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0])))
        return Value::error(fmt::format("cannot convert '{}' to uint", s));
      unsigned long long v = std::strtoull(s.c_str(), &end, 10);
      if (end != s.c_str() + s.size() || errno == ERANGE) return Value::error(fmt::format("cannot convert '{}' to uint", s));
      return Value::uint(v);
    }
    default: return Value::no_overload("uint");
  }
}

Value to_double(Args a) {
  const Value& x = a[0];
  switch (x.kind()) {
    case Kind::kDouble: return x;
    case Kind::kInt: return Value::dbl(static_cast<double>(x.as_int()));
    case Kind::kUint: return Value::dbl(static_cast<double>(x.as_uint()));
    case Kind::kString: {
      const std::string& s = x.as_string();
      if (s == "NaN") return Value::dbl(std::nan(""));
      if (s == "Inf" || s == "+Inf" || s == "Infinity" || s == "inf" || s == "+inf")
        return Value::dbl(std::numeric_limits<double>::infinity());
      if (s == "-Inf" || s == "-Infinity" || s == "-inf") return Value::dbl(-std::numeric_limits<double>::infinity());
      char* end = nullptr;
      bool ok = !s.empty() && (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-' || s[0] == '+' || s[0] == '.');
      double d = ok ? std::strtod(s.c_str(), &end) : 0;
      if (!ok || end != s.c_str() + s.size() || s.find_first_of("xXnN") != std::string::npos)
        return Value::error(fmt::format("cannot convert '{}' to double", s));
      return Value::dbl(d);
    }
    default: return Value::no_overload("double");
  }
}

Value to_string(Args a) {
  const Value& x = a[0];
  switch (x.kind()) {
    case Kind::kString: return x;
    case Kind::kInt: return Value::string(std::to_string(x.as_int()));
    case Kind::kUint: return Value::string(std::to_string(x.as_uint()));
    case Kind::kDouble: return Value::string(format_double(x.as_double()));
    case Kind::kBool: return Value::string(x.as_bool() ? "true" : "false");
    case Kind::kBytes:
      if (!valid_utf8(x.as_bytes())) return Value::error("invalid UTF-8 in bytes, cannot convert to string");
      return Value::string(x.as_bytes());
    case Kind::kTimestamp: return Value::string(format_timestamp(x.as_timestamp()));
    case Kind::kDuration: return Value::string(format_duration(x.as_duration()));
    case Kind::kType: return Value::string(x.as_type());
    default: return Value::no_overload("string");
  }
}

Value to_bool(Args a) {
  const Value& x = a[0];
  if (x.is(Kind::kBool)) return x;
  if (x.is(Kind::kString)) {
    const std::string& s = x.as_string();
    if (s == "1" || s == "t" || s == "true" || s == "TRUE" || s == "True") return Value::boolean(true);
    if (s == "0" || s == "f" || s == "false" || s == "FALSE" || s == "False") return Value::boolean(false);
    return Value::error(fmt::format("Type conversion error: cannot convert '{}' to bool", s));
  }
  return Value::no_overload("bool");
}

Value to_timestamp(Args a) {
  const Value& x = a[0];
  if (x.is(Kind::kTimestamp)) return x;
  if (x.is(Kind::kString)) {
    auto t = parse_timestamp(x.as_string());
    if (!t.ok()) return Value::error(t.error().message);
    return Value::timestamp(*t);
  }
  if (x.is(Kind::kInt)) {
    Timestamp t{x.as_int(), 0};
    if (!timestamp_in_range(t)) return range_error("timestamp out of range");
    return Value::timestamp(t);
  }
  return Value::no_overload("timestamp");
}

Value to_duration(Args a) {
  const Value& x = a[0];
  if (x.is(Kind::kDuration)) return x;
  if (x.is(Kind::kString)) {
    auto d = parse_duration(x.as_string());
    if (!d.ok()) return Value::error(d.error().message);
    return Value::duration(*d);
  }
  if (x.is(Kind::kInt)) return make_duration(x.as_int());
  return Value::no_overload("duration");
}

// Civil fields of a timestamp in a zone.
struct Civil {
  int64_t year;
  unsigned month, day;
  int64_t day_of_year, day_of_week, hours, minutes, seconds;
};

std::optional<Civil> civil(const Timestamp& t, std::string_view zone) {
  auto offset = zone_offset(zone, t.seconds);
  if (!offset) return std::nullopt;
  int64_t local = t.seconds + *offset;
  int64_t days = local / 86400;
  int64_t rem = local % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  Civil c{};
  civil_from_days(days, c.year, c.month, c.day);
  c.day_of_year = days - days_from_civil(c.year, 1, 1);
  c.day_of_week = ((days % 7) + 11) % 7;  // 1970-01-01 was a Thursday (4)
  c.hours = rem / 3600;
  c.minutes = rem / 60 % 60;
  c.seconds = rem % 60;
  return c;
}

void def_time_accessor(Environment::State& env, const std::string& name, int64_t (*get)(const Civil&, const Timestamp&),
                       int64_t (*get_duration)(const Duration&)) {
  auto impl = [name, get, get_duration](Args a) -> Value {
    if (a[0].is(Kind::kDuration) && a.size() == 1 && get_duration) return Value::integer(get_duration(a[0].as_duration()));
    if (!a[0].is(Kind::kTimestamp) || (a.size() == 2 && !a[1].is(Kind::kString))) return Value::no_overload(name);
    auto c = civil(a[0].as_timestamp(), a.size() == 2 ? std::string_view(a[1].as_string()) : "UTC");
    if (!c) return Value::error(fmt::format("unknown time zone '{}'", a[1].as_string()));
    return Value::integer(get(*c, a[0].as_timestamp()));
  };
  env.def(name, true, 1, impl);
  env.def(name, true, 2, impl);
}

Value matches(Args a) {
  if (!a[0].is(Kind::kString) || !a[1].is(Kind::kString)) return Value::no_overload("matches");
  RE2::Options options;
  options.set_log_errors(false);
  RE2 re(a[1].as_string(), options);
  if (!re.ok()) return Value::error(fmt::format("invalid regular expression '{}': {}", a[1].as_string(), re.error()));
  return Value::boolean(RE2::PartialMatch(a[0].as_string(), re));
}

uint64_t regex_cost(Args a) {
  uint64_t s = a[0].is(Kind::kString) ? a[0].as_string().size() : 0;
  uint64_t p = a[1].is(Kind::kString) ? a[1].as_string().size() : 0;
  return 1 + (s / 10 + 1) * (p / 10 + 1);
}

Function string_pred(const char* name, bool (*pred)(const std::string&, const std::string&)) {
  return [name, pred](Args a) {
    if (!a[0].is(Kind::kString) || !a[1].is(Kind::kString)) return Value::no_overload(name);
    return Value::boolean(pred(a[0].as_string(), a[1].as_string()));
  };
}

}  // namespace

void register_standard(Environment::State& env) {
  env.def("_+_", false, 2, add);
  env.def("_-_", false, 2, subtract);
  env.def("_*_", false, 2, multiply);
  env.def("_/_", false, 2, divide);
  env.def("_%_", false, 2, modulo);
  env.def("-_", false, 1, [](Args a) {
    if (a[0].is(Kind::kInt)) {
      if (a[0].as_int() == std::numeric_limits<int64_t>::min()) return overflow();
      return Value::integer(-a[0].as_int());
    }
    if (a[0].is(Kind::kDouble)) return Value::dbl(-a[0].as_double());
    if (a[0].is(Kind::kDuration)) {
      Duration d = a[0].as_duration();
      return Value::duration({-d.seconds, -d.nanos});
    }
    return Value::no_overload("-_");
  });
  env.def("!_", false, 1, [](Args a) {
    if (!a[0].is(Kind::kBool)) return Value::no_overload("!_");
    return Value::boolean(!a[0].as_bool());
  });
  env.def("_==_", false, 2, [](Args a) { return Value::boolean(equals(a[0], a[1])); });
  env.def("_!=_", false, 2, [](Args a) { return Value::boolean(!equals(a[0], a[1])); });
  env.def("_<_", false, 2, relation("_<_", [](int o) { return o < 0; }));
  env.def("_<=_", false, 2, relation("_<=_", [](int o) { return o <= 0; }));
  env.def("_>_", false, 2, relation("_>_", [](int o) { return o > 0; }));
  env.def("_>=_", false, 2, relation("_>=_", [](int o) { return o >= 0; }));
  env.def("_[_]", false, 2, index, [](Args) -> uint64_t { return 1; });
  env.def("_[?_]", false, 2, optional_index, [](Args) -> uint64_t { return 1; });
  env.def("@in", false, 2, contained);
  env.def_both("size", 1, size_of, [](Args) -> uint64_t { return 1; });

  env.def("int", false, 1, to_int);
  env.def("uint", false, 1, to_uint);
  env.def("double", false, 1, to_double);
  env.def("string", false, 1, to_string);
  env.def("bytes", false, 1, [](Args a) {
    if (a[0].is(Kind::kBytes)) return a[0];
    if (a[0].is(Kind::kString)) return Value::bytes(a[0].as_string());
    return Value::no_overload("bytes");
  });
  env.def("bool", false, 1, to_bool);
  env.def("timestamp", false, 1, to_timestamp);
  env.def("duration", false, 1, to_duration);
  env.def("dyn", false, 1, [](Args a) { return a[0]; });
  env.def("type", false, 1, [](Args a) { return Value::type(a[0].type_name()); });

  env.def("contains", true, 1 + 1, string_pred("contains", [](const std::string& s, const std::string& t) {
            return s.find(t) != std::string::npos;
          }));
  env.def("startsWith", true, 2, string_pred("startsWith", [](const std::string& s, const std::string& t) {
            return s.compare(0, t.size(), t) == 0 && s.size() >= t.size();
          }));
  env.def("endsWith", true, 2, string_pred("endsWith", [](const std::string& s, const std::string& t) {
            return s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0;
          }));
  env.def_both("matches", 2, matches, regex_cost);

  def_time_accessor(env, "getFullYear", [](const Civil& c, const Timestamp&) { return c.year; }, nullptr);
  def_time_accessor(env, "getMonth", [](const Civil& c, const Timestamp&) { return static_cast<int64_t>(c.month) - 1; },
                    nullptr);
  def_time_accessor(env, "getDayOfYear", [](const Civil& c, const Timestamp&) { return c.day_of_year; }, nullptr);
  def_time_accessor(env, "getDayOfMonth", [](const Civil& c, const Timestamp&) { return static_cast<int64_t>(c.day) - 1; },
                    nullptr);
  def_time_accessor(env, "getDate", [](const Civil& c, const Timestamp&) { return static_cast<int64_t>(c.day); }, nullptr);
  def_time_accessor(env, "getDayOfWeek", [](const Civil& c, const Timestamp&) { return c.day_of_week; }, nullptr);
  def_time_accessor(
      env, "getHours", [](const Civil& c, const Timestamp&) { return c.hours; },
      [](const Duration& d) { return d.seconds / 3600; });
  def_time_accessor(
      env, "getMinutes", [](const Civil& c, const Timestamp&) { return c.minutes; },
      [](const Duration& d) { return d.seconds / 60; });
  def_time_accessor(
      env, "getSeconds", [](const Civil& c, const Timestamp&) { return c.seconds; },
      [](const Duration& d) { return d.seconds; });
  def_time_accessor(
      env, "getMilliseconds", [](const Civil&, const Timestamp& t) { return static_cast<int64_t>(t.nanos / 1000000); },
      [](const Duration& d) { return static_cast<int64_t>(d.nanos / 1000000); });

  // Optionals (cel-go's OptionalTypes library, which Kubernetes enables).
  env.def("optional.of", false, 1, [](Args a) { return Value::optional_of(a[0]); });
  env.def("optional.none", false, 0, [](Args) { return Value::optional_none(); });
  env.def("optional.ofNonZeroValue", false, 1, [](Args a) {
    const Value& v = a[0];
    bool zero = false;
    switch (v.kind()) {
      case Kind::kNull: zero = true; break;
      case Kind::kBool: zero = !v.as_bool(); break;
      case Kind::kInt: zero = v.as_int() == 0; break;
      case Kind::kUint: zero = v.as_uint() == 0; break;
      case Kind::kDouble: zero = v.as_double() == 0; break;
      case Kind::kString: zero = v.as_string().empty(); break;
      case Kind::kBytes: zero = v.as_bytes().empty(); break;
      case Kind::kList: zero = v.as_list().empty(); break;
      case Kind::kMap: zero = v.as_map().size() == 0; break;
      case Kind::kTimestamp: zero = v.as_timestamp().seconds == 0 && v.as_timestamp().nanos == 0; break;
      case Kind::kDuration: zero = v.as_duration().seconds == 0 && v.as_duration().nanos == 0; break;
      case Kind::kMessage: zero = v.as_message().fields.empty(); break;
      default: break;
    }
    return zero ? Value::optional_none() : Value::optional_of(v);
  });
  env.def("hasValue", true, 1, [](Args a) {
    if (!a[0].is(Kind::kOptional)) return Value::no_overload("hasValue");
    return Value::boolean(a[0].optional_value() != nullptr);
  });
  env.def("value", true, 1, [](Args a) {
    if (!a[0].is(Kind::kOptional)) return Value::no_overload("value");
    if (!a[0].optional_value()) return Value::error("optional.none() dereference");
    return *a[0].optional_value();
  });
  env.def("or", true, 2, [](Args a) {
    if (!a[0].is(Kind::kOptional) || !a[1].is(Kind::kOptional)) return Value::no_overload("or");
    return a[0].optional_value() ? a[0] : a[1];
  });
  env.def("orValue", true, 2, [](Args a) {
    if (!a[0].is(Kind::kOptional)) return Value::no_overload("orValue");
    return a[0].optional_value() ? *a[0].optional_value() : a[1];
  });
}

}  // namespace vouch::cel
