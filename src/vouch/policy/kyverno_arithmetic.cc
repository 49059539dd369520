// Kyverno's arithmetic functions (pkg/engine/jmespath/arithmetic.go): add, sum, subtract,
// multiply, divide, modulo and round over plain numbers, Kubernetes quantities ("10Mi",
// "500m") and Go durations ("1h30m"), with Kubernetes' and Go's text formats.
#include <charconv>
#include <algorithm>
#include <cmath>
#include <optional>
#include <variant>

#include <fmt/format.h>

#include "kyverno_internal.h"

namespace vouch::policy::jmespath::kyverno {
namespace {

using Int = __int128;
using Args = std::span<const Argument>;

// ---------------------------------------------------------------- Kubernetes quantities

enum class Format { kDecimalSI, kBinarySI, kDecimalExponent };

// value = mantissa * 10^scale, with the format it was written in (resource.Quantity).
struct Quantity {
  Int mantissa = 0;
  int32_t scale = 0;
  Format format = Format::kDecimalSI;
};

constexpr Int kMaxMantissa = (static_cast<Int>(1) << 120);

bool mul_ok(Int a, Int b, Int* out) { return !__builtin_mul_overflow(a, b, out) && *out < kMaxMantissa && *out > -kMaxMantissa; }

std::optional<Int> pow10(int n) {
  if (n < 0 || n > 36) return std::nullopt;
  Int r = 1;
  for (int i = 0; i < n; ++i) r *= 10;
  return r;
}

std::string int_to_string(Int v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  unsigned __int128 u = neg ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
  std::string s;
  while (u > 0) {
    s.push_back(static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  }
  if (neg) s.push_back('-');
  return std::string(s.rbegin(), s.rend());
}

// resource.ParseQuantity.
std::optional<Quantity> parse_quantity(std::string_view str) {
  if (str.empty()) return std::nullopt;
  if (str == "0") return Quantity{};
  size_t pos = 0, end = str.size();
  bool positive = true;
  if (str[0] == '-' || str[0] == '+') {
    positive = str[0] == '+';
    ++pos;
  }
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  size_t num_start = pos;
  while (pos < end && digit(str[pos])) ++pos;
  std::string_view num = str.substr(num_start, pos - num_start);
  std::string_view denom;
  if (pos < end && str[pos] == '.') {
    ++pos;
    size_t d = pos;
    while (pos < end && digit(str[pos])) ++pos;
    denom = str.substr(d, pos - d);
  }
  std::string_view suffix = str.substr(pos);
  // The suffix: letters of "eEinumkKMGTP", then an optional sign and digits, then nothing.
  {
    size_t i = pos;
    while (i < end && std::string_view("eEinumkKMGTP").find(str[i]) != std::string_view::npos) ++i;
    if (i < end && (str[i] == '-' || str[i] == '+')) ++i;
    while (i < end && digit(str[i])) ++i;
    if (i != end) return std::nullopt;
  }
  int base = 10;
  int exponent = 0;
  Format format = Format::kDecimalSI;
  static const std::pair<std::string_view, int> kDecimal[] = {
      {"n", -9}, {"u", -6}, {"m", -3}, {"", 0}, {"k", 3}, {"M", 6}, {"G", 9}, {"T", 12}, {"P", 15}, {"E", 18}};
  static const std::pair<std::string_view, int> kBinary[] = {
      {"Ki", 10}, {"Mi", 20}, {"Gi", 30}, {"Ti", 40}, {"Pi", 50}, {"Ei", 60}};
  bool found = false;
  for (const auto& [s, e] : kDecimal) {
    if (suffix == s) {
      exponent = e;
      found = true;
    }
  }
  for (const auto& [s, e] : kBinary) {
    if (suffix == s) {
      exponent = e;
      base = 2;
      format = Format::kBinarySI;
      found = true;
    }
  }
  if (!found && suffix.size() >= 2 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    std::string_view e = suffix.substr(1);
    if (e[0] == '+') e.remove_prefix(1);
    auto [p, ec] = std::from_chars(e.data(), e.data() + e.size(), exponent);
    if (ec != std::errc() || p != e.data() + e.size() || exponent > 1000 || exponent < -1000) return std::nullopt;
    format = Format::kDecimalExponent;
    found = true;
  }
  if (!found) return std::nullopt;

  Int mantissa = 0;
  for (char c : std::string(num) + std::string(denom)) {
    if (!mul_ok(mantissa, 10, &mantissa)) return std::nullopt;
    mantissa += c - '0';
  }
  Quantity q;
  q.format = format;
  if (base == 10) {
    q.scale = exponent - static_cast<int32_t>(denom.size());
  } else {
    if (!mul_ok(mantissa, static_cast<Int>(1) << exponent, &mantissa)) return std::nullopt;
    q.scale = -static_cast<int32_t>(denom.size());
  }
  // Round up (away from zero) to nano precision.
  if (q.scale < -9 && mantissa != 0) {
    auto div = pow10(-9 - q.scale);
    if (!div) return std::nullopt;
    Int r = mantissa / *div;
    if (mantissa % *div != 0) ++r;
    mantissa = r;
    q.scale = -9;
  }
  // Normalize scales far above anything representable.
  if (q.scale > 36) return std::nullopt;
  q.mantissa = positive ? mantissa : -mantissa;
  if (q.format == Format::kBinarySI && mantissa != 0) {
    // |value| < 1: shown as DecimalSI.
    bool below_one = q.scale < 0 && (!pow10(-q.scale) || mantissa < *pow10(-q.scale));
    if (below_one) q.format = Format::kDecimalSI;
  }
  return q;
}

// The value as an integer, if it is one.
std::optional<Int> as_integer(const Quantity& q) {
  if (q.scale >= 0) {
    auto p = pow10(q.scale);
    Int r;
    if (!p || !mul_ok(q.mantissa, *p, &r)) return std::nullopt;
    return r;
  }
  auto p = pow10(-q.scale);
  if (!p) return q.mantissa == 0 ? std::optional<Int>(0) : std::nullopt;
  if (q.mantissa % *p != 0) return std::nullopt;
  return q.mantissa / *p;
}

double approximate(const Quantity& q) {
  return static_cast<double>(q.mantissa) * std::pow(10.0, q.scale);
}

// Quantity.String(): the canonical form.
std::string format_quantity(const Quantity& q) {
  if (q.mantissa == 0) return "0";
  Format format = q.format;
  std::optional<Int> integer;
  if (format == Format::kBinarySI) {
    integer = as_integer(q);
    if (!integer || (*integer > -1024 && *integer < 1024)) format = Format::kDecimalSI;
  }
  if (format == Format::kBinarySI) {
    Int v = *integer;
    int exp = 0;
    while (exp < 6 && v % 1024 == 0) {
      v /= 1024;
      ++exp;
    }
    static const char* kSuffix[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    return int_to_string(v) + kSuffix[exp];
  }
  Int m = q.mantissa;
  int32_t exp = q.scale;
  while (m % 10 == 0) {
    m /= 10;
    ++exp;
  }
  switch (exp % 3) {
    case 1:
    case -2:
      m *= 10;
      exp -= 1;
      break;
    case 2:
    case -1:
      m *= 100;
      exp -= 2;
      break;
    default: break;
  }
  std::string suffix;
  if (format == Format::kDecimalSI) {
    switch (exp) {
      case -9: suffix = "n"; break;
      case -6: suffix = "u"; break;
      case -3: suffix = "m"; break;
      case 0: break;
      case 3: suffix = "k"; break;
      case 6: suffix = "M"; break;
      case 9: suffix = "G"; break;
      case 12: suffix = "T"; break;
      case 15: suffix = "P"; break;
      case 18: suffix = "E"; break;
      default: suffix = fmt::format("e{}", exp);
    }
  } else if (exp != 0) {
    suffix = fmt::format("e{}", exp);
  }
  return int_to_string(m) + suffix;
}

// A float64 as the exact decimal of its shortest text (as fmt.Sprintf("%v") then ParseQuantity).
std::optional<Quantity> quantity_from_double(double d) {
  if (!std::isfinite(d)) return std::nullopt;
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string_view s(buf, res.ptr - buf);  // "-1.2345e+02"
  size_t e = s.find('e');
  std::string_view mant = s.substr(0, e);
  int exp = 0;
  std::string_view es = s.substr(e + 1);
  if (!es.empty() && es[0] == '+') es.remove_prefix(1);
  std::from_chars(es.data(), es.data() + es.size(), exp);
  bool neg = !mant.empty() && mant[0] == '-';
  if (neg) mant.remove_prefix(1);
  Int m = 0;
  int frac = 0;
  bool after_point = false;
  for (char c : mant) {
    if (c == '.') {
      after_point = true;
      continue;
    }
    m = m * 10 + (c - '0');
    if (after_point) ++frac;
  }
  Quantity q;
  q.mantissa = neg ? -m : m;
  q.scale = exp - frac;
  return q;
}

// ---------------------------------------------------------------- operands

struct Scalar {
  double v;
};
struct Duration {
  int64_t nanos;
};
using Operand = std::variant<Scalar, Quantity, Duration>;

Result<Operand> parse_operand(const bj::value& v, std::string_view fn) {
  if (is_number(v)) return Operand(Scalar{to_double(v)});
  if (v.is_string()) {
    if (auto q = parse_quantity(v.get_string())) return Operand(*q);
    if (auto d = parse_go_duration(v.get_string()); d.ok()) return Operand(Duration{*d});
  }
  return function_error(fn, "invalid operand");
}

Error mismatch(std::string_view fn) { return function_error(fn, "Types mismatch"); }
Error zero_division(std::string_view fn) { return function_error(fn, "Zero divisor passed"); }

Result<Quantity> add_quantities(Quantity a, Quantity b, bool subtract) {
  Format format = a.mantissa == 0 ? b.format : a.format;
  if (subtract) b.mantissa = -b.mantissa;
  int32_t scale = std::min(a.scale, b.scale);
  auto pa = pow10(a.scale - scale);
  auto pb = pow10(b.scale - scale);
  Int ma, mb;
  if (!pa || !pb || !mul_ok(a.mantissa, *pa, &ma) || !mul_ok(b.mantissa, *pb, &mb)) {
    return function_error("add", "quantity out of range");
  }
  return Quantity{ma + mb, scale, format};
}

int64_t duration_from_seconds(double seconds) {
  double ns = seconds * 1e9;
  if (!(ns > -9.2233720368547758e18)) return INT64_MIN;
  if (!(ns < 9.2233720368547758e18)) return INT64_MAX;
  return static_cast<int64_t>(ns);
}

int64_t wrap_add(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

Result<bj::value> add(const bj::value& x, const bj::value& y, std::string_view fn, bool subtract) {
  VOUCH_ASSIGN_OR_RETURN(Operand a, parse_operand(x, fn));
  VOUCH_ASSIGN_OR_RETURN(Operand b, parse_operand(y, fn));
  if (a.index() != b.index()) return mismatch(fn);
  if (auto* s = std::get_if<Scalar>(&a)) {
    double r = subtract ? s->v - std::get<Scalar>(b).v : s->v + std::get<Scalar>(b).v;
    return make_number(r);
  }
  if (auto* q = std::get_if<Quantity>(&a)) {
    VOUCH_ASSIGN_OR_RETURN(Quantity r, add_quantities(*q, std::get<Quantity>(b), subtract));
    return bj::value(bj::string(format_quantity(r)));
  }
  int64_t da = std::get<Duration>(a).nanos;
  int64_t db = std::get<Duration>(b).nanos;
  int64_t r = subtract ? static_cast<int64_t>(static_cast<uint64_t>(da) - static_cast<uint64_t>(db)) : wrap_add(da, db);
  return bj::value(bj::string(format_go_duration(r)));
}

Result<bj::value> multiply_quantity(const Quantity& q, double s) {
  auto f = quantity_from_double(s);
  Int m;
  if (!f || !mul_ok(q.mantissa, f->mantissa, &m)) return function_error("multiply", "quantity out of range");
  Quantity r{m, q.scale + f->scale, q.format};
  if (r.scale < -9 && r.mantissa != 0) {
    // Canonical text cannot show more than nano precision; round up as ParseQuantity does.
    auto div = pow10(-9 - r.scale);
    if (div) {
      Int t = r.mantissa / *div;
      if (r.mantissa % *div != 0) t += r.mantissa > 0 ? 1 : -1;
      r.mantissa = t;
      r.scale = -9;
    }
  }
  return bj::value(bj::string(format_quantity(r)));
}

Result<bj::value> multiply(Args args) {
  VOUCH_ASSIGN_OR_RETURN(Operand a, parse_operand(*args[0], "multiply"));
  VOUCH_ASSIGN_OR_RETURN(Operand b, parse_operand(*args[1], "multiply"));
  if (std::holds_alternative<Scalar>(a) && !std::holds_alternative<Scalar>(b)) std::swap(a, b);
  auto* s = std::get_if<Scalar>(&b);
  if (s == nullptr) return mismatch("multiply");
  if (auto* x = std::get_if<Scalar>(&a)) return make_number(x->v * s->v);
  if (auto* q = std::get_if<Quantity>(&a)) return multiply_quantity(*q, s->v);
  double seconds = static_cast<double>(std::get<Duration>(a).nanos) / 1e9 * s->v;
  return bj::value(bj::string(format_go_duration(duration_from_seconds(seconds))));
}

Result<bj::value> divide(Args args) {
  VOUCH_ASSIGN_OR_RETURN(Operand a, parse_operand(*args[0], "divide"));
  VOUCH_ASSIGN_OR_RETURN(Operand b, parse_operand(*args[1], "divide"));
  if (auto* x = std::get_if<Scalar>(&a)) {
    auto* y = std::get_if<Scalar>(&b);
    if (y == nullptr) return mismatch("divide");
    if (y->v == 0) return zero_division("divide");
    return make_number(x->v / y->v);
  }
  if (auto* q = std::get_if<Quantity>(&a)) {
    if (auto* r = std::get_if<Quantity>(&b)) {
      double divisor = approximate(*r);
      if (divisor == 0) return zero_division("divide");
      return make_number(approximate(*q) / divisor);
    }
    auto* y = std::get_if<Scalar>(&b);
    if (y == nullptr) return mismatch("divide");
    if (y->v == 0) return zero_division("divide");
    auto d = quantity_from_double(y->v);
    if (!d) return function_error("divide", "invalid divisor");
    // inf.Dec QuoRound(a, b, max(scale a, scale b), RoundDown); Dec scale = -our scale.
    int32_t sa = -q->scale, sb = -d->scale;
    int32_t s = std::max(sa, sb);
    Int num = q->mantissa, den = d->mantissa;
    int32_t e = s - sa + sb;
    auto p = pow10(e >= 0 ? e : -e);
    if (!p) return function_error("divide", "quantity out of range");
    if (e >= 0) {
      if (!mul_ok(num, *p, &num)) return function_error("divide", "quantity out of range");
    } else if (!mul_ok(den, *p, &den)) {
      return function_error("divide", "quantity out of range");
    }
    Quantity r{num / den, -s, q->format};
    return bj::value(bj::string(format_quantity(r)));
  }
  int64_t d = std::get<Duration>(a).nanos;
  if (auto* e = std::get_if<Duration>(&b)) {
    if (e->nanos == 0) return zero_division("divide");
    return make_number((static_cast<double>(d) / 1e9) / (static_cast<double>(e->nanos) / 1e9));
  }
  auto* y = std::get_if<Scalar>(&b);
  if (y == nullptr) return mismatch("divide");
  if (y->v == 0) return zero_division("divide");
  return bj::value(bj::string(format_go_duration(duration_from_seconds(static_cast<double>(d) / 1e9 / y->v))));
}

std::optional<int64_t> exact_int64(double f) {
  if (!(f >= -9.2233720368547758e18 && f < 9.2233720368547758e18)) return std::nullopt;
  auto i = static_cast<int64_t>(f);
  if (static_cast<double>(i) != f) return std::nullopt;
  return i;
}

Result<bj::value> modulo(Args args) {
  VOUCH_ASSIGN_OR_RETURN(Operand a, parse_operand(*args[0], "modulo"));
  VOUCH_ASSIGN_OR_RETURN(Operand b, parse_operand(*args[1], "modulo"));
  if (a.index() != b.index()) return mismatch("modulo");
  const Error non_int = function_error("modulo", "Non-integer argument(s) passed for modulo");
  if (auto* x = std::get_if<Scalar>(&a)) {
    auto i1 = exact_int64(x->v);
    auto i2 = exact_int64(std::get<Scalar>(b).v);
    if (!i1 || !i2) return non_int;
    if (*i2 == 0) return zero_division("modulo");
    if (*i2 == -1) return bj::value(0);
    return bj::value(*i1 % *i2);
  }
  if (auto* q = std::get_if<Quantity>(&a)) {
    auto i1 = exact_int64(approximate(*q));
    auto i2 = exact_int64(approximate(std::get<Quantity>(b)));
    if (!i1 || !i2) return non_int;
    if (*i2 == 0) return zero_division("modulo");
    int64_t r = *i2 == -1 ? 0 : *i1 % *i2;
    return bj::value(bj::string(format_quantity(Quantity{r, 0, q->format})));
  }
  int64_t d1 = std::get<Duration>(a).nanos;
  int64_t d2 = std::get<Duration>(b).nanos;
  if (d2 == 0) return zero_division("modulo");
  return bj::value(bj::string(format_go_duration(d2 == -1 ? 0 : d1 % d2)));
}

Result<bj::value> round(Args args) {
  double op = to_double(*args[0]);
  auto places = exact_int64(to_double(*args[1]));
  if (!places || *places > INT32_MAX) return function_error("round", "Non-integer argument(s) passed for round off");
  if (*places < 0) return function_error("round", "argument #2 is out of bounds (must not be negative)");
  double shift = std::pow(10.0, static_cast<double>(*places));
  return make_number(std::round(op * shift) / shift);
}

Function fn(std::string name, std::vector<Parameter> params, FunctionImpl impl) {
  return Function{std::move(name), std::move(params), std::move(impl)};
}

}  // namespace

void add_arithmetic_functions(FunctionRegistry& r) {
  const Parameter any{kAny};
  r.add(fn("add", {any, any}, [](Args a, const CallContext&) { return add(*a[0], *a[1], "add", false); }));
  r.add(fn("subtract", {any, any}, [](Args a, const CallContext&) { return add(*a[0], *a[1], "subtract", true); }));
  r.add(fn("sum", {{kArray}}, [](Args a, const CallContext&) -> Result<bj::value> {
    // Kyverno's sum (jpSum in pkg/engine/jmespath/functions.go) replaces the specification's:
    // an empty array is an error, a single element is returned as it is (whatever its type,
    // null included), and otherwise the elements are added left to right with add's rules.
    const auto& items = a[0]->get_array();
    if (items.empty()) return function_error("sum", "at least one element in the array is required");
    bj::value result = items[0];
    for (size_t i = 1; i < items.size(); ++i) {
      // An operand that is neither a number nor a quantity or duration string is a type error.
      if (!parse_operand(result, "sum").ok() || !parse_operand(items[i], "sum").ok())
        return make_error(ErrorKind::kInvalidType, "JMESPath function 'sum': invalid operand");
      VOUCH_ASSIGN_OR_RETURN(result, add(result, items[i], "sum", false));
    }
    return result;
  }));
  r.add(fn("multiply", {any, any}, [](Args a, const CallContext&) { return multiply(a); }));
  r.add(fn("divide", {any, any}, [](Args a, const CallContext&) { return divide(a); }));
  r.add(fn("modulo", {any, any}, [](Args a, const CallContext&) { return modulo(a); }));
  r.add(fn("round", {{kNumber}, {kNumber}}, [](Args a, const CallContext&) { return round(a); }));
}

// ---------------------------------------------------------------- Go durations

Result<int64_t> parse_go_duration(std::string_view s) {
  const std::string orig(s);
  auto bad = [&] { return invalid_input(fmt::format("time: invalid duration \"{}\"", orig)); };
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return int64_t{0};
  if (s.empty()) return bad();
  constexpr uint64_t kLimit = uint64_t{1} << 63;
  uint64_t d = 0;
  while (!s.empty()) {
    uint64_t v = 0, f = 0;
    double scale = 1;
    if (!(s[0] == '.' || (s[0] >= '0' && s[0] <= '9'))) return bad();
    size_t i = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      if (v > (kLimit - 1) / 10) return bad();
      v = v * 10 + static_cast<uint64_t>(s[i] - '0');
      if (v > kLimit) return bad();
    }
    bool pre = i > 0;
    s.remove_prefix(i);
    bool post = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      size_t j = 0;
      bool overflow = false;
      for (; j < s.size() && s[j] >= '0' && s[j] <= '9'; ++j) {
        if (overflow) continue;
        if (f > (kLimit - 1) / 10) {
          overflow = true;
          continue;
        }
        uint64_t y = f * 10 + static_cast<uint64_t>(s[j] - '0');
        if (y > kLimit) {
          overflow = true;
          continue;
        }
        f = y;
        scale *= 10;
      }
      post = j > 0;
      s.remove_prefix(j);
    }
    if (!pre && !post) return bad();
    size_t u = 0;
    while (u < s.size() && s[u] != '.' && !(s[u] >= '0' && s[u] <= '9')) ++u;
    if (u == 0) return invalid_input(fmt::format("time: missing unit in duration \"{}\"", orig));
    std::string_view unit_name = s.substr(0, u);
    s.remove_prefix(u);
    uint64_t unit = 0;
    if (unit_name == "ns") unit = 1;
    else if (unit_name == "us" || unit_name == "\xc2\xb5s" || unit_name == "\xce\xbcs") unit = 1000;
    else if (unit_name == "ms") unit = 1000000;
    else if (unit_name == "s") unit = 1000000000;
    else if (unit_name == "m") unit = 60000000000ULL;
    else if (unit_name == "h") unit = 3600000000000ULL;
    else return invalid_input(fmt::format("time: unknown unit \"{}\" in duration \"{}\"", unit_name, orig));
    if (v > kLimit / unit) return bad();
    v *= unit;
    if (f > 0) {
      v += static_cast<uint64_t>(static_cast<double>(f) * (static_cast<double>(unit) / scale));
      if (v > kLimit) return bad();
    }
    d += v;
    if (d > kLimit) return bad();
  }
  if (neg) return static_cast<int64_t>(0 - d);
  if (d > kLimit - 1) return bad();
  return static_cast<int64_t>(d);
}

std::string format_go_duration(int64_t d) {
  char buf[32];
  int w = sizeof buf;
  bool neg = d < 0;
  uint64_t u = neg ? 0 - static_cast<uint64_t>(d) : static_cast<uint64_t>(d);
  // fmt_frac writes v/10^prec's fraction (without trailing zeros) and returns v/10^prec.
  auto fmt_frac = [&](uint64_t v, int prec) {
    bool print = false;
    for (int i = 0; i < prec; ++i) {
      uint64_t digit = v % 10;
      print = print || digit != 0;
      if (print) buf[--w] = static_cast<char>('0' + digit);
      v /= 10;
    }
    if (print) buf[--w] = '.';
    return v;
  };
  auto fmt_int = [&](uint64_t v) {
    if (v == 0) {
      buf[--w] = '0';
    } else {
      while (v > 0) {
        buf[--w] = static_cast<char>('0' + v % 10);
        v /= 10;
      }
    }
  };
  if (u < 1000000000ULL) {
    int prec = 0;
    buf[--w] = 's';
    if (u == 0) return "0s";
    if (u < 1000) {
      buf[--w] = 'n';
    } else if (u < 1000000) {
      prec = 3;
      buf[--w] = '\xb5';  // "µ" in UTF-8 is c2 b5
      buf[--w] = '\xc2';
    } else {
      prec = 6;
      buf[--w] = 'm';
    }
    u = fmt_frac(u, prec);
    fmt_int(u);
  } else {
    buf[--w] = 's';
    u = fmt_frac(u, 9);
    fmt_int(u % 60);
    u /= 60;
    if (u > 0) {
      buf[--w] = 'm';
      fmt_int(u % 60);
      u /= 60;
      if (u > 0) {
        buf[--w] = 'h';
        fmt_int(u);
      }
    }
  }
  if (neg) buf[--w] = '-';
  return std::string(buf + w, buf + sizeof buf);
}

std::optional<int> compare_quantities(std::string_view a, std::string_view b) {
  auto qa = parse_quantity(a);
  auto qb = parse_quantity(b);
  if (!qa || !qb) return std::nullopt;
  int32_t scale = std::min(qa->scale, qb->scale);
  auto aligned = [&](const Quantity& q) -> std::optional<Int> {
    auto p = pow10(q.scale - scale);
    Int r;
    if (!p || !mul_ok(q.mantissa, *p, &r)) return std::nullopt;
    return r;
  };
  auto ma = aligned(*qa), mb = aligned(*qb);
  if (ma && mb) return *ma < *mb ? -1 : (*ma > *mb ? 1 : 0);
  double da = approximate(*qa), db = approximate(*qb);
  return da < db ? -1 : (da > db ? 1 : 0);
}

}  // namespace vouch::policy::jmespath::kyverno
