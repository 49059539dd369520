// List, regex, set, math and encoder extensions: Kubernetes' lists and regex libraries
// (k8s.io/apiserver/pkg/cel/library), cel-go's ext.Lists, ext.Sets, ext.Math and ext.Encoders.
#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <re2/re2.h>

#include "format.h"
#include "internal.h"

namespace vouch::cel {
namespace {

using Args = std::span<const Value>;

// Ordering for values of one comparable kind; nullopt when the kinds cannot be ordered.
std::optional<int> compare(const Value& a, const Value& b) {
  auto cmp = [](auto x, auto y) { return x < y ? -1 : x > y ? 1 : 0; };
  bool an = a.is(Kind::kInt) || a.is(Kind::kUint) || a.is(Kind::kDouble);
  bool bn = b.is(Kind::kInt) || b.is(Kind::kUint) || b.is(Kind::kDouble);
  if (an && bn) {
    int r = compare_numeric(a, b);
    return r == 2 ? std::optional<int>(0) : std::optional<int>(r);
  }
  if (a.kind() != b.kind()) return std::nullopt;
  switch (a.kind()) {
    case Kind::kBool: return cmp(a.as_bool(), b.as_bool());
    case Kind::kString: return cmp(a.as_string().compare(b.as_string()), 0);
    case Kind::kBytes: return cmp(a.as_bytes().compare(b.as_bytes()), 0);
    case Kind::kTimestamp:
      return cmp(std::pair(a.as_timestamp().seconds, a.as_timestamp().nanos),
                 std::pair(b.as_timestamp().seconds, b.as_timestamp().nanos));
    case Kind::kDuration:
      return cmp(std::pair(a.as_duration().seconds, a.as_duration().nanos),
                 std::pair(b.as_duration().seconds, b.as_duration().nanos));
    default: return std::nullopt;
  }
}

Value is_sorted(Args a) {
  if (!a[0].is(Kind::kList)) return Value::no_overload("isSorted");
  const List& l = a[0].as_list();
  for (size_t k = 1; k < l.size(); ++k) {
    auto c = compare(l[k - 1], l[k]);
    if (!c) return Value::no_overload("isSorted");
    if (*c > 0) return Value::boolean(false);
  }
  return Value::boolean(true);
}

Value sum(Args a) {
  if (!a[0].is(Kind::kList)) return Value::no_overload("sum");
  const List& l = a[0].as_list();
  if (l.empty()) return Value::integer(0);
  Value acc = l[0];
  for (size_t k = 1; k < l.size(); ++k) {
    const Value& x = l[k];
    if (acc.kind() != x.kind()) return Value::no_overload("sum");
    if (acc.is(Kind::kInt)) {
      int64_t r;
      if (__builtin_add_overflow(acc.as_int(), x.as_int(), &r)) return Value::error("integer overflow");
      acc = Value::integer(r);
    } else if (acc.is(Kind::kUint)) {
      uint64_t r;
      if (__builtin_add_overflow(acc.as_uint(), x.as_uint(), &r)) return Value::error("unsigned integer overflow");
      acc = Value::uint(r);
    } else if (acc.is(Kind::kDouble)) {
      acc = Value::dbl(acc.as_double() + x.as_double());
    } else if (acc.is(Kind::kDuration)) {
      __int128 n = static_cast<__int128>(acc.as_duration().seconds + x.as_duration().seconds) * 1000000000 +
                   acc.as_duration().nanos + x.as_duration().nanos;
      Duration d{static_cast<int64_t>(n / 1000000000), static_cast<int32_t>(n % 1000000000)};
      if (!duration_in_range(d)) return range_error("duration");
      acc = Value::duration(d);
    } else {
      return Value::no_overload("sum");
    }
  }
  return acc;
}

Value extreme(Args a, bool want_max) {
  const char* name = want_max ? "max" : "min";
  if (!a[0].is(Kind::kList)) return Value::no_overload(name);
  const List& l = a[0].as_list();
  if (l.empty()) return Value::error(fmt::format("{} called on an empty list", name));
  const Value* best = &l[0];
  for (size_t k = 1; k < l.size(); ++k) {
    auto c = compare(l[k], *best);
    if (!c) return Value::no_overload(name);
    if ((want_max && *c > 0) || (!want_max && *c < 0)) best = &l[k];
  }
  return *best;
}

Value list_index_of(Args a, bool last) {
  const List& l = a[0].as_list();
  if (last) {
    for (size_t k = l.size(); k-- > 0;)
      if (equals(l[k], a[1])) return Value::integer(static_cast<int64_t>(k));
  } else {
    for (size_t k = 0; k < l.size(); ++k)
      if (equals(l[k], a[1])) return Value::integer(static_cast<int64_t>(k));
  }
  return Value::integer(-1);
}

Value slice(Args a) {
  if (!a[1].is(Kind::kInt) || !a[2].is(Kind::kInt)) return Value::no_overload("slice");
  const List& l = a[0].as_list();
  int64_t s = a[1].as_int(), e = a[2].as_int();
  if (s < 0 || e < 0) return Value::error(fmt::format("cannot slice({}, {}), negative indexes not supported", s, e));
  if (s > e) return Value::error(fmt::format("cannot slice({}, {}), start index must be less than or equal to end index", s, e));
  if (static_cast<uint64_t>(e) > l.size())
    return Value::error(fmt::format("cannot slice({}, {}), list is length {}", s, e, l.size()));
  return Value::list(List(l.begin() + s, l.begin() + e));
}

void flatten_into(const List& l, int64_t depth, List& out) {
  for (const auto& x : l) {
    if (x.is(Kind::kList) && depth > 0) flatten_into(x.as_list(), depth - 1, out);
    else out.push_back(x);
  }
}

Value flatten(Args a) {
  int64_t depth = 1;
  if (a.size() == 2) {
    if (!a[1].is(Kind::kInt)) return Value::no_overload("flatten");
    depth = a[1].as_int();
    if (depth < 0) return Value::error("level must be non-negative");
  }
  List out;
  flatten_into(a[0].as_list(), std::min<int64_t>(depth, 64), out);
  return Value::list(std::move(out));
}

Value distinct(Args a) {
  List out;
  for (const auto& x : a[0].as_list()) {
    bool seen = false;
    for (const auto& y : out) seen = seen || equals(x, y);
    if (!seen) out.push_back(x);
  }
  return Value::list(std::move(out));
}

Value sort_list(Args a) {
  List out = a[0].as_list();
  for (size_t k = 1; k < out.size(); ++k)
    if (!compare(out[0], out[k])) return Value::no_overload("sort");
  std::stable_sort(out.begin(), out.end(), [](const Value& x, const Value& y) { return compare(x, y).value_or(0) < 0; });
  return Value::list(std::move(out));
}

// --- regex ----------------------------------------------------------------------------------

Value regex_find(Args a, bool all) {
  const char* name = all ? "findAll" : "find";
  if (!a[0].is(Kind::kString) || !a[1].is(Kind::kString) || (a.size() == 3 && !a[2].is(Kind::kInt)))
    return Value::no_overload(name);
  RE2::Options options;
  options.set_log_errors(false);
  RE2 re(a[1].as_string(), options);
  if (!re.ok()) return Value::error(fmt::format("invalid regular expression '{}': {}", a[1].as_string(), re.error()));
  re2::StringPiece input(a[0].as_string());
  if (!all) {
    re2::StringPiece match;
    if (!re.Match(input, 0, input.size(), RE2::UNANCHORED, &match, 1)) return Value::string("");
    return Value::string(std::string(match));
  }
  int64_t limit = a.size() == 3 ? a[2].as_int() : -1;
  List out;
  size_t pos = 0;
  while ((limit < 0 || static_cast<int64_t>(out.size()) < limit) && pos <= input.size()) {
    re2::StringPiece match;
    if (!re.Match(input, pos, input.size(), RE2::UNANCHORED, &match, 1)) break;
    out.push_back(Value::string(std::string(match)));
    size_t end = static_cast<size_t>(match.data() - input.data()) + match.size();
    pos = match.empty() ? end + 1 : end;
  }
  return Value::list(std::move(out));
}

uint64_t regex_cost(Args a) {
  uint64_t s = a[0].is(Kind::kString) ? a[0].as_string().size() : 0;
  uint64_t p = a[1].is(Kind::kString) ? a[1].as_string().size() : 0;
  return 1 + (s / 10 + 1) * (p / 10 + 1);
}

// --- sets -----------------------------------------------------------------------------------

bool list_contains(const List& l, const Value& v) {
  for (const auto& x : l)
    if (equals(x, v)) return true;
  return false;
}

Value sets_contains(Args a) {
  if (!a[0].is(Kind::kList) || !a[1].is(Kind::kList)) return Value::no_overload("sets.contains");
  for (const auto& x : a[1].as_list())
    if (!list_contains(a[0].as_list(), x)) return Value::boolean(false);
  return Value::boolean(true);
}

// --- math -----------------------------------------------------------------------------------

Value math_extreme(Args in, bool want_max) {
  const char* name = want_max ? "math.greatest" : "math.least";
  std::vector<Value> args(in.begin(), in.end());
  if (args.size() == 1 && args[0].is(Kind::kList)) args = args[0].as_list();
  if (args.empty()) return Value::error(fmt::format("{}(list) argument must not be empty", name));
  const Value* best = nullptr;
  for (const auto& x : args) {
    if (!x.is(Kind::kInt) && !x.is(Kind::kUint) && !x.is(Kind::kDouble)) return Value::no_overload(name);
    if (!best) {
      best = &x;
      continue;
    }
    int c = compare_numeric(x, *best);
    if ((want_max && c == 1) || (!want_max && c == -1)) best = &x;
  }
  return *best;
}

Value math_round(Args a, double (*fn)(double), const char* name) {
  if (!a[0].is(Kind::kDouble)) return Value::no_overload(name);
  return Value::dbl(fn(a[0].as_double()));
}

Value bit_op(Args a, char op) {
  if (a[0].kind() != a[1].kind()) return Value::no_overload("math.bit");
  if (a[0].is(Kind::kInt)) {
    int64_t x = a[0].as_int(), y = a[1].as_int();
    return Value::integer(op == '&' ? (x & y) : op == '|' ? (x | y) : (x ^ y));
  }
  if (a[0].is(Kind::kUint)) {
    uint64_t x = a[0].as_uint(), y = a[1].as_uint();
    return Value::uint(op == '&' ? (x & y) : op == '|' ? (x | y) : (x ^ y));
  }
  return Value::no_overload("math.bit");
}

Value shift(Args a, bool left) {
  if (!a[1].is(Kind::kInt)) return Value::no_overload("math.bitShift");
  int64_t n = a[1].as_int();
  if (n < 0) return Value::error(fmt::format("math.bitShift{}() negative offset: {}", left ? "Left" : "Right", n));
  if (a[0].is(Kind::kInt)) {
    if (n > 63) return Value::integer(0);
    uint64_t x = static_cast<uint64_t>(a[0].as_int());
    return Value::integer(static_cast<int64_t>(left ? x << n : x >> n));
  }
  if (a[0].is(Kind::kUint)) {
    if (n > 63) return Value::uint(0);
    return Value::uint(left ? a[0].as_uint() << n : a[0].as_uint() >> n);
  }
  return Value::no_overload("math.bitShift");
}

// --- base64 ---------------------------------------------------------------------------------

std::string base64_encode(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t k = 0;
  for (; k + 2 < in.size(); k += 3) {
    uint32_t v = (static_cast<uint8_t>(in[k]) << 16) | (static_cast<uint8_t>(in[k + 1]) << 8) | static_cast<uint8_t>(in[k + 2]);
    out += t[v >> 18];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
    out += t[v & 63];
  }
  if (k < in.size()) {
    uint32_t v = static_cast<uint8_t>(in[k]) << 16;
    if (k + 1 < in.size()) v |= static_cast<uint8_t>(in[k + 1]) << 8;
    out += t[v >> 18];
    out += t[(v >> 12) & 63];
    out += k + 1 < in.size() ? t[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(const std::string& in) {
  std::string s = in;
  while (!s.empty() && s.back() == '=') s.pop_back();
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    else return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  if (s.size() % 4 == 1) return std::nullopt;
  return out;
}

}  // namespace

void register_lists_ext(Environment::State& env) {
  const std::optional<Kind> list = Kind::kList;
  const std::optional<Kind> any = std::nullopt;
  env.def("isSorted", true, 1, is_sorted);
  env.def("sum", true, 1, sum);
  env.def("min", true, 1, [](Args a) { return extreme(a, false); });
  env.def("max", true, 1, [](Args a) { return extreme(a, true); });
  env.def_typed("indexOf", true, {list, any}, [](Args a) { return list_index_of(a, false); });
  env.def_typed("lastIndexOf", true, {list, any}, [](Args a) { return list_index_of(a, true); });
  env.def_typed("slice", true, {list, any, any}, slice);
  env.def_typed("flatten", true, {list}, flatten);
  env.def_typed("flatten", true, {list, any}, flatten);
  env.def_typed("distinct", true, {list}, distinct, [](Args a) -> uint64_t {
    uint64_t n = a[0].as_list().size();
    return n * n / 2;
  });
  env.def_typed("reverse", true, {list}, [](Args a) {
    List out(a[0].as_list().rbegin(), a[0].as_list().rend());
    return Value::list(std::move(out));
  });
  env.def_typed("sort", true, {list}, sort_list);
  env.def_typed("first", true, {list}, [](Args a) {
    return a[0].as_list().empty() ? Value::optional_none() : Value::optional_of(a[0].as_list().front());
  });
  env.def_typed("last", true, {list}, [](Args a) {
    return a[0].as_list().empty() ? Value::optional_none() : Value::optional_of(a[0].as_list().back());
  });
  env.def_typed("lists.range", false, {Kind::kInt}, [](Args a) {
    int64_t n = a[0].as_int();
    if (n < 0 || n > 1000000) return Value::error(fmt::format("lists.range({}) out of range", n));
    List out;
    for (int64_t k = 0; k < n; ++k) out.push_back(Value::integer(k));
    return Value::list(std::move(out));
  }, [](Args a) -> uint64_t { return a[0].as_int() > 0 ? static_cast<uint64_t>(a[0].as_int()) : 0; });
}

void register_regex_ext(Environment::State& env) {
  env.def("find", true, 2, [](Args a) { return regex_find(a, false); }, regex_cost);
  env.def("findAll", true, 2, [](Args a) { return regex_find(a, true); }, regex_cost);
  env.def("findAll", true, 3, [](Args a) { return regex_find(a, true); }, regex_cost);
}

void register_sets_ext(Environment::State& env) {
  auto cost = [](Args a) -> uint64_t {
    return 1 + (a[0].is(Kind::kList) ? a[0].as_list().size() : 0) * (a[1].is(Kind::kList) ? a[1].as_list().size() : 0);
  };
  env.def("sets.contains", false, 2, sets_contains, cost);
  env.def("sets.equivalent", false, 2, [](Args a) {
    Value x = sets_contains(a);
    if (x.is_error() || !x.as_bool()) return x;
    return sets_contains(std::array<Value, 2>{a[1], a[0]});
  }, cost);
  env.def("sets.intersects", false, 2, [](Args a) {
    if (!a[0].is(Kind::kList) || !a[1].is(Kind::kList)) return Value::no_overload("sets.intersects");
    for (const auto& x : a[1].as_list())
      if (list_contains(a[0].as_list(), x)) return Value::boolean(true);
    return Value::boolean(false);
  }, cost);
}

void register_math_ext(Environment::State& env) {
  for (size_t n = 1; n <= 16; ++n) {
    env.def("math.greatest", false, n, [](Args a) { return math_extreme(a, true); });
    env.def("math.least", false, n, [](Args a) { return math_extreme(a, false); });
  }
  env.def("math.ceil", false, 1, [](Args a) { return math_round(a, std::ceil, "math.ceil"); });
  env.def("math.floor", false, 1, [](Args a) { return math_round(a, std::floor, "math.floor"); });
  env.def("math.round", false, 1, [](Args a) { return math_round(a, std::round, "math.round"); });
  env.def("math.trunc", false, 1, [](Args a) { return math_round(a, std::trunc, "math.trunc"); });
  env.def("math.sqrt", false, 1, [](Args a) {
    if (a[0].is(Kind::kInt)) return Value::dbl(std::sqrt(static_cast<double>(a[0].as_int())));
    if (a[0].is(Kind::kUint)) return Value::dbl(std::sqrt(static_cast<double>(a[0].as_uint())));
    if (a[0].is(Kind::kDouble)) return Value::dbl(std::sqrt(a[0].as_double()));
    return Value::no_overload("math.sqrt");
  });
  env.def("math.abs", false, 1, [](Args a) {
    if (a[0].is(Kind::kInt)) {
      if (a[0].as_int() == std::numeric_limits<int64_t>::min()) return Value::error("integer overflow");
      return Value::integer(std::abs(a[0].as_int()));
    }
    if (a[0].is(Kind::kUint)) return a[0];
    if (a[0].is(Kind::kDouble)) return Value::dbl(std::fabs(a[0].as_double()));
    return Value::no_overload("math.abs");
  });
  env.def("math.sign", false, 1, [](Args a) {
    if (a[0].is(Kind::kInt)) return Value::integer(a[0].as_int() > 0 ? 1 : a[0].as_int() < 0 ? -1 : 0);
    if (a[0].is(Kind::kUint)) return Value::uint(a[0].as_uint() > 0 ? 1 : 0);
    if (a[0].is(Kind::kDouble)) {
      double d = a[0].as_double();
      if (std::isnan(d)) return a[0];
      return Value::dbl(d > 0 ? 1.0 : d < 0 ? -1.0 : 0.0);
    }
    return Value::no_overload("math.sign");
  });
  env.def_typed("math.isNaN", false, {Kind::kDouble}, [](Args a) { return Value::boolean(std::isnan(a[0].as_double())); });
  env.def_typed("math.isInf", false, {Kind::kDouble}, [](Args a) { return Value::boolean(std::isinf(a[0].as_double())); });
  env.def_typed("math.isFinite", false, {Kind::kDouble},
                [](Args a) { return Value::boolean(std::isfinite(a[0].as_double())); });
  env.def("math.bitAnd", false, 2, [](Args a) { return bit_op(a, '&'); });
  env.def("math.bitOr", false, 2, [](Args a) { return bit_op(a, '|'); });
  env.def("math.bitXor", false, 2, [](Args a) { return bit_op(a, '^'); });
  env.def("math.bitNot", false, 1, [](Args a) {
    if (a[0].is(Kind::kInt)) return Value::integer(~a[0].as_int());
    if (a[0].is(Kind::kUint)) return Value::uint(~a[0].as_uint());
    return Value::no_overload("math.bitNot");
  });
  env.def("math.bitShiftLeft", false, 2, [](Args a) { return shift(a, true); });
  env.def("math.bitShiftRight", false, 2, [](Args a) { return shift(a, false); });
}

void register_encoders_ext(Environment::State& env) {
  env.def_typed("base64.encode", false, {Kind::kBytes}, [](Args a) { return Value::string(base64_encode(a[0].as_bytes())); });
  env.def_typed("base64.decode", false, {Kind::kString}, [](Args a) {
    auto d = base64_decode(a[0].as_string());
    if (!d) return Value::error("base64.decode: invalid base64 input");
    return Value::bytes(std::move(*d));
  });
}

}  // namespace vouch::cel
