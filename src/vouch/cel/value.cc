#include "vouch/cel/value.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "format.h"

namespace vouch::cel {

Value Value::string(std::string s) { return Value(Data(StrBox{std::make_shared<const std::string>(std::move(s))})); }
Value Value::bytes(std::string b) { return Value(Data(BytesBox{std::make_shared<const std::string>(std::move(b))})); }
Value Value::list(List items) { return Value(Data(std::make_shared<const List>(std::move(items)))); }
Value Value::map(Map m) { return Value(Data(std::make_shared<const Map>(std::move(m)))); }
Value Value::type(std::string name) {
  return Value(Data(TypeBox{std::make_shared<const std::string>(std::move(name))}));
}
Value Value::optional_none() { return Value(Data(OptionalBox{nullptr})); }
Value Value::optional_of(Value v) { return Value(Data(OptionalBox{std::make_shared<const Value>(std::move(v))})); }
Value Value::message(Message m) { return Value(Data(std::make_shared<const Message>(std::move(m)))); }
Value Value::error(std::string message) {
  return Value(Data(ErrorBox{std::make_shared<const std::string>(std::move(message))}));
}
Value Value::no_overload(std::string_view function) {
  return error(fmt::format("no such overload: {}", function));
}

std::string Value::type_name() const {
  switch (kind()) {
    case Kind::kNull: return "null_type";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kUint: return "uint";
    case Kind::kDouble: return "double";
    case Kind::kString: return "string";
    case Kind::kBytes: return "bytes";
    case Kind::kList: return "list";
    case Kind::kMap: return "map";
    case Kind::kType: return "type";
    case Kind::kTimestamp: return "google.protobuf.Timestamp";
    case Kind::kDuration: return "google.protobuf.Duration";
    case Kind::kOptional: return "optional_type";
    case Kind::kMessage: return as_message().type_name;
    case Kind::kError: return "error";
  }
  return "unknown";
}

std::string Value::debug_string() const {
  switch (kind()) {
    case Kind::kNull: return "null";
    case Kind::kBool: return as_bool() ? "true" : "false";
    case Kind::kInt: return std::to_string(as_int());
    case Kind::kUint: return std::to_string(as_uint()) + "u";
    case Kind::kDouble: return format_double(as_double());
    case Kind::kString: return quote_string(as_string());
    case Kind::kBytes: return "b" + quote_string(as_bytes());
    case Kind::kList: {
      std::string out = "[";
      for (size_t k = 0; k < as_list().size(); ++k) {
        if (k) out += ", ";
        out += as_list()[k].debug_string();
      }
      return out + "]";
    }
    case Kind::kMap: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, v] : as_map().entries()) {
        if (!first) out += ", ";
        first = false;
        out += k.debug_string() + ": " + v.debug_string();
      }
      return out + "}";
    }
    case Kind::kType: return as_type();
    case Kind::kTimestamp: return "timestamp(" + quote_string(format_timestamp(as_timestamp())) + ")";
    case Kind::kDuration: return "duration(" + quote_string(format_duration(as_duration())) + ")";
    case Kind::kOptional: {
      const Value* v = optional_value();
      return v ? "optional.of(" + v->debug_string() + ")" : "optional.none()";
    }
    case Kind::kMessage: {
      std::string out = as_message().type_name + "{";
      bool first = true;
      for (const auto& [k, v] : as_message().fields) {
        if (!first) out += ", ";
        first = false;
        out += k + ": " + v.debug_string();
      }
      return out + "}";
    }
    case Kind::kError: return "error(" + error_message() + ")";
  }
  return "?";
}

bool MapKey::operator<(const MapKey& o) const {
  if (kind != o.kind) return kind < o.kind;
  switch (kind) {
    case 0: return i < o.i;
    case 1:
      if (negative_or_small != o.negative_or_small) return negative_or_small;
      return negative_or_small ? i < o.i : u < o.u;
    default: return s < o.s;
  }
}

std::optional<MapKey> map_key(const Value& v) {
  MapKey k;
  switch (v.kind()) {
    case Kind::kBool:
      k.kind = 0;
      k.i = v.as_bool();
      return k;
    case Kind::kInt:
      k.kind = 1;
      k.i = v.as_int();
      return k;
    case Kind::kUint:
      k.kind = 1;
      if (v.as_uint() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        k.i = static_cast<int64_t>(v.as_uint());
      } else {
        k.negative_or_small = false;
        k.u = v.as_uint();
      }
      return k;
    case Kind::kDouble: {
      double d = v.as_double();
      if (!std::isfinite(d) || d != std::trunc(d)) return std::nullopt;
      k.kind = 1;
      if (d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
        k.i = static_cast<int64_t>(d);
      } else if (d >= 0 && d < 18446744073709551616.0) {
        k.negative_or_small = false;
        k.u = static_cast<uint64_t>(d);
      } else {
        return std::nullopt;
      }
      return k;
    }
    case Kind::kString:
      k.kind = 2;
      k.s = v.as_string();
      return k;
    default: return std::nullopt;
  }
}

bool Map::insert(Value key, Value value) {
  if (key.is(Kind::kDouble)) return false;
  auto k = map_key(key);
  if (!k) return false;
  auto [it, inserted] = index_.emplace(std::move(*k), entries_.size());
  if (!inserted) return false;
  entries_.emplace_back(std::move(key), std::move(value));
  return true;
}

const Value* Map::find(const Value& key) const {
  auto k = map_key(key);
  if (!k) return nullptr;
  auto it = index_.find(*k);
  return it == index_.end() ? nullptr : &entries_[it->second].second;
}

const Value* Message::find(std::string_view field) const {
  for (const auto& [name, value] : fields)
    if (name == field) return &value;
  return nullptr;
}

namespace {

// Compares numbers of any of the three numeric kinds exactly: -1 less, 0 equal, 1 greater,
// 2 unordered (NaN).
int compare_numbers(const Value& a, const Value& b) {
  auto cmp = [](auto x, auto y) { return x < y ? -1 : x > y ? 1 : 0; };
  // As cel-go compares: outside the integer type's range the double decides; inside it, the
  // integer is compared as a double.
  auto int_double = [&](int64_t i, double d) -> int {
    if (std::isnan(d)) return 2;
    if (d < -9223372036854775808.0) return 1;
    if (d > 9223372036854775807.0) return -1;
    return cmp(static_cast<double>(i), d);
  };
  auto uint_double = [&](uint64_t u, double d) -> int {
    if (std::isnan(d)) return 2;
    if (d < 0) return 1;
    if (d > 18446744073709551615.0) return -1;
    return cmp(static_cast<double>(u), d);
  };
  auto int_uint = [&](int64_t i, uint64_t u) -> int {
    if (i < 0) return -1;
    return cmp(static_cast<uint64_t>(i), u);
  };
  switch (a.kind()) {
    case Kind::kInt:
      if (b.is(Kind::kInt)) return cmp(a.as_int(), b.as_int());
      if (b.is(Kind::kUint)) return int_uint(a.as_int(), b.as_uint());
      return int_double(a.as_int(), b.as_double());
    case Kind::kUint:
      if (b.is(Kind::kUint)) return cmp(a.as_uint(), b.as_uint());
      if (b.is(Kind::kInt)) return -int_uint(b.as_int(), a.as_uint());
      return uint_double(a.as_uint(), b.as_double());
    default: {
      double d = a.as_double();
      if (b.is(Kind::kDouble)) {
        if (std::isnan(d) || std::isnan(b.as_double())) return 2;
        return cmp(d, b.as_double());
      }
      int r = b.is(Kind::kInt) ? int_double(b.as_int(), d) : uint_double(b.as_uint(), d);
      return r == 2 ? 2 : -r;
    }
  }
}

bool is_number(const Value& v) { return v.is(Kind::kInt) || v.is(Kind::kUint) || v.is(Kind::kDouble); }

}  // namespace

int compare_numeric(const Value& a, const Value& b) { return compare_numbers(a, b); }

bool equals(const Value& a, const Value& b) {
  if (is_number(a) && is_number(b)) return compare_numbers(a, b) == 0;
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::kNull: return true;
    case Kind::kBool: return a.as_bool() == b.as_bool();
    case Kind::kString: return a.as_string() == b.as_string();
    case Kind::kBytes: return a.as_bytes() == b.as_bytes();
    case Kind::kType: return a.as_type() == b.as_type();
    case Kind::kTimestamp:
      return a.as_timestamp().seconds == b.as_timestamp().seconds && a.as_timestamp().nanos == b.as_timestamp().nanos;
    case Kind::kDuration:
      return a.as_duration().seconds == b.as_duration().seconds && a.as_duration().nanos == b.as_duration().nanos;
    case Kind::kList: {
      const auto& x = a.as_list();
      const auto& y = b.as_list();
      if (x.size() != y.size()) return false;
      for (size_t k = 0; k < x.size(); ++k)
        if (!equals(x[k], y[k])) return false;
      return true;
    }
    case Kind::kMap: {
      const auto& x = a.as_map();
      const auto& y = b.as_map();
      if (x.size() != y.size()) return false;
      for (const auto& [k, v] : x.entries()) {
        const Value* other = y.find(k);
        if (!other || !equals(v, *other)) return false;
      }
      return true;
    }
    case Kind::kOptional: {
      const Value* x = a.optional_value();
      const Value* y = b.optional_value();
      if (!x || !y) return !x && !y;
      return equals(*x, *y);
    }
    case Kind::kMessage: {
      const auto& x = a.as_message();
      const auto& y = b.as_message();
      if (x.type_name != y.type_name || x.fields.size() != y.fields.size()) return false;
      for (const auto& [name, v] : x.fields) {
        const Value* other = y.find(name);
        if (!other || !equals(v, *other)) return false;
      }
      return true;
    }
    default: return false;
  }
}

}  // namespace vouch::cel
