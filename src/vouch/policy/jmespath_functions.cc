// The built-in functions of the JMESPath specification.
#include <algorithm>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "jmespath_ast.h"

namespace vouch::policy::jmespath {
namespace {

using Args = std::span<const Argument>;

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xc0) != 0x80) ++n;
  }
  return n;
}

std::string utf8_reverse(std::string_view s) {
  std::vector<std::string_view> points;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i + 1;
    while (j < s.size() && (static_cast<unsigned char>(s[j]) & 0xc0) == 0x80) ++j;
    points.push_back(s.substr(i, j - i));
    i = j;
  }
  std::string out;
  out.reserve(s.size());
  for (auto it = points.rbegin(); it != points.rend(); ++it) out += *it;
  return out;
}

// Orders two values that are both numbers or both strings.
bool less_than(const bj::value& a, const bj::value& b) {
  if (a.is_string()) return a.get_string() < b.get_string();
  if (a.is_int64() && b.is_int64()) return a.get_int64() < b.get_int64();
  return to_double(a) < to_double(b);
}

// Evaluates `expref` on each element; all results must be numbers, or all strings.
Result<std::vector<bj::value>> sort_keys(const bj::array& items, const Argument& expref, const CallContext& ctx) {
  std::vector<bj::value> keys;
  keys.reserve(items.size());
  for (const auto& item : items) {
    VOUCH_ASSIGN_OR_RETURN(bj::value k, ctx.apply(expref, item));
    if (!is_number(k) && !k.is_string()) {
      return make_error(ErrorKind::kInvalidType,
                        fmt::format("{}(): the expression must give a number or a string, got {}", ctx.function_name(),
                                    type_name(k)));
    }
    if (!keys.empty() && is_number(k) != is_number(keys.front())) {
      return make_error(ErrorKind::kInvalidType,
                        fmt::format("{}(): the expression gave both numbers and strings", ctx.function_name()));
    }
    keys.push_back(std::move(k));
  }
  return keys;
}

Result<bj::value> min_max_by(Args args, const CallContext& ctx, bool want_max) {
  const auto& items = args[0]->get_array();
  if (items.empty()) return bj::value();
  VOUCH_ASSIGN_OR_RETURN(auto keys, sort_keys(items, args[1], ctx));
  size_t best = 0;
  for (size_t i = 1; i < items.size(); ++i) {
    if (want_max ? less_than(keys[best], keys[i]) : less_than(keys[i], keys[best])) best = i;
  }
  return items[best];
}

Result<bj::value> min_max(Args args, bool want_max) {
  const auto& items = args[0]->get_array();
  if (items.empty()) return bj::value();
  size_t best = 0;
  for (size_t i = 1; i < items.size(); ++i) {
    if (want_max ? less_than(items[best], items[i]) : less_than(items[i], items[best])) best = i;
  }
  return items[best];
}

Result<bj::value> parse_number(std::string_view s) {
  if (s.empty()) return bj::value();
  // Only decimal notation: no "inf", "nan", hex or leading '+'.
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || c == '-' || c == '.' || c == 'e' || c == 'E' || c == '+')) return bj::value();
  }
  int64_t i = 0;
  auto [ip, iec] = std::from_chars(s.data(), s.data() + s.size(), i);
  if (iec == std::errc() && ip == s.data() + s.size()) return bj::value(i);
  double d = 0;
  auto [dp, dec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (dec != std::errc() || dp != s.data() + s.size() || !std::isfinite(d)) return bj::value();
  return bj::value(d);
}

Function fn(std::string name, std::vector<Parameter> params, FunctionImpl impl) {
  return Function{std::move(name), std::move(params), std::move(impl)};
}

std::shared_ptr<FunctionRegistry> build_standard() {
  auto r = std::make_shared<FunctionRegistry>();
  const Parameter number{kNumber};
  const Parameter string{kString};
  const Parameter any{kAny};
  const Parameter array{kArray};
  const Parameter object{kObject};
  const Parameter expref{kExpref};

  r->add(fn("abs", {number}, [](Args a, const CallContext&) -> Result<bj::value> {
    const bj::value& v = *a[0];
    if (v.is_int64() && v.get_int64() != INT64_MIN) return bj::value(v.get_int64() < 0 ? -v.get_int64() : v.get_int64());
    if (v.is_uint64()) return v;
    return bj::value(std::fabs(to_double(v)));
  }));
  r->add(fn("avg", {{kArrayNumber}}, [](Args a, const CallContext&) -> Result<bj::value> {
    const auto& items = a[0]->get_array();
    if (items.empty()) return bj::value();
    double sum = 0;
    for (const auto& e : items) sum += to_double(e);
    return bj::value(sum / static_cast<double>(items.size()));
  }));
  r->add(fn("ceil", {number}, [](Args a, const CallContext&) -> Result<bj::value> {
    if (!a[0]->is_double()) return *a[0];
    return make_number(std::ceil(a[0]->get_double()));
  }));
  r->add(fn("floor", {number}, [](Args a, const CallContext&) -> Result<bj::value> {
    if (!a[0]->is_double()) return *a[0];
    return make_number(std::floor(a[0]->get_double()));
  }));
  r->add(fn("contains", {{kArray | kString}, any}, [](Args a, const CallContext&) -> Result<bj::value> {
    if (a[0]->is_string()) {
      if (!a[1]->is_string()) return bj::value(false);
      return bj::value(std::string_view(a[0]->get_string()).find(std::string_view(a[1]->get_string())) !=
                       std::string_view::npos);
    }
    for (const auto& e : a[0]->get_array()) {
      if (values_equal(e, *a[1])) return bj::value(true);
    }
    return bj::value(false);
  }));
  r->add(fn("ends_with", {string, string}, [](Args a, const CallContext&) -> Result<bj::value> {
    return bj::value(std::string_view(a[0]->get_string()).ends_with(std::string_view(a[1]->get_string())));
  }));
  r->add(fn("starts_with", {string, string}, [](Args a, const CallContext&) -> Result<bj::value> {
    return bj::value(std::string_view(a[0]->get_string()).starts_with(std::string_view(a[1]->get_string())));
  }));
  r->add(fn("join", {string, {kArrayString}}, [](Args a, const CallContext& ctx) -> Result<bj::value> {
    const auto& parts = a[1]->get_array();
    uint64_t size = parts.empty() ? 0 : (parts.size() - 1) * a[0]->get_string().size();
    for (const auto& e : parts) size += e.get_string().size();
    VOUCH_RETURN_IF_ERROR(ctx.check_room(size));
    std::string out;
    bool first = true;
    for (const auto& e : a[1]->get_array()) {
      if (!first) out += a[0]->get_string();
      first = false;
      out += e.get_string();
    }
    return bj::value(bj::string(out));
  }));
  r->add(fn("keys", {object}, [](Args a, const CallContext&) -> Result<bj::value> {
    bj::array out;
    for (const auto& kv : a[0]->get_object()) out.emplace_back(kv.key());
    return bj::value(std::move(out));
  }));
  r->add(fn("values", {object}, [](Args a, const CallContext&) -> Result<bj::value> {
    bj::array out;
    for (const auto& kv : a[0]->get_object()) out.push_back(kv.value());
    return bj::value(std::move(out));
  }));
  r->add(fn("length", {{kString | kArray | kObject}}, [](Args a, const CallContext&) -> Result<bj::value> {
    const bj::value& v = *a[0];
    if (v.is_string()) return bj::value(static_cast<int64_t>(utf8_length(v.get_string())));
    if (v.is_array()) return bj::value(static_cast<int64_t>(v.get_array().size()));
    return bj::value(static_cast<int64_t>(v.get_object().size()));
  }));
  r->add(fn("map", {expref, array}, [](Args a, const CallContext& ctx) -> Result<bj::value> {
    bj::array out;
    for (const auto& e : a[1]->get_array()) {
      VOUCH_ASSIGN_OR_RETURN(bj::value v, ctx.apply(a[0], e));
      out.push_back(std::move(v));
    }
    return bj::value(std::move(out));
  }));
  r->add(fn("max", {{kArrayNumber | kArrayString}},
            [](Args a, const CallContext&) -> Result<bj::value> { return min_max(a, true); }));
  r->add(fn("min", {{kArrayNumber | kArrayString}},
            [](Args a, const CallContext&) -> Result<bj::value> { return min_max(a, false); }));
  r->add(fn("max_by", {array, expref},
            [](Args a, const CallContext& ctx) -> Result<bj::value> { return min_max_by(a, ctx, true); }));
  r->add(fn("min_by", {array, expref},
            [](Args a, const CallContext& ctx) -> Result<bj::value> { return min_max_by(a, ctx, false); }));
  r->add(fn("merge", {{kObject, false, true}}, [](Args a, const CallContext&) -> Result<bj::value> {
    bj::object out;
    for (const auto& arg : a) {
      for (const auto& kv : arg->get_object()) out[kv.key()] = kv.value();
    }
    return bj::value(std::move(out));
  }));
  r->add(fn("not_null", {{kAny, false, true}}, [](Args a, const CallContext&) -> Result<bj::value> {
    for (const auto& arg : a) {
      if (!arg->is_null()) return *arg;
    }
    return bj::value();
  }));
  r->add(fn("reverse", {{kString | kArray}}, [](Args a, const CallContext&) -> Result<bj::value> {
    if (a[0]->is_string()) return bj::value(bj::string(utf8_reverse(a[0]->get_string())));
    const auto& items = a[0]->get_array();
    bj::array out(items.rbegin(), items.rend());
    return bj::value(std::move(out));
  }));
  r->add(fn("sort", {{kArrayNumber | kArrayString}}, [](Args a, const CallContext&) -> Result<bj::value> {
    bj::array out = a[0]->get_array();
    std::stable_sort(out.begin(), out.end(), less_than);
    return bj::value(std::move(out));
  }));
  r->add(fn("sort_by", {array, expref}, [](Args a, const CallContext& ctx) -> Result<bj::value> {
    const auto& items = a[0]->get_array();
    VOUCH_ASSIGN_OR_RETURN(auto keys, sort_keys(items, a[1], ctx));
    std::vector<size_t> order(items.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return less_than(keys[x], keys[y]); });
    bj::array out;
    out.reserve(items.size());
    for (size_t i : order) out.push_back(items[i]);
    return bj::value(std::move(out));
  }));
  r->add(fn("sum", {{kArrayNumber}}, [](Args a, const CallContext&) -> Result<bj::value> {
    bool all_int = true;
    int64_t isum = 0;
    double dsum = 0;
    for (const auto& e : a[0]->get_array()) {
      dsum += to_double(e);
      if (all_int && e.is_int64() && !__builtin_add_overflow(isum, e.get_int64(), &isum)) continue;
      all_int = false;
    }
    if (all_int) return bj::value(isum);
    return bj::value(dsum);
  }));
  r->add(fn("to_array", {any}, [](Args a, const CallContext&) -> Result<bj::value> {
    if (a[0]->is_array()) return *a[0];
    bj::array out;
    out.push_back(*a[0]);
    return bj::value(std::move(out));
  }));
  r->add(fn("to_string", {any}, [](Args a, const CallContext&) -> Result<bj::value> {
    if (a[0]->is_string()) return *a[0];
    VOUCH_ASSIGN_OR_RETURN(std::string text, to_json_text(*a[0]));
    return bj::value(bj::string(text));
  }));
  r->add(fn("to_number", {any}, [](Args a, const CallContext&) -> Result<bj::value> {
    if (is_number(*a[0])) return *a[0];
    if (a[0]->is_string()) return parse_number(a[0]->get_string());
    return bj::value();
  }));
  r->add(fn("type", {any}, [](Args a, const CallContext&) -> Result<bj::value> {
    return bj::value(bj::string(type_name(*a[0])));
  }));
  return r;
}

}  // namespace

std::shared_ptr<const FunctionRegistry> FunctionRegistry::standard() {
  static const std::shared_ptr<const FunctionRegistry> registry = build_standard();
  return registry;
}

}  // namespace vouch::policy::jmespath
