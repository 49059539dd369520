// Condition operators (Kyverno's pkg/engine/variables/operator): Equals, In and AnyIn
// families, numeric, quantity and duration comparisons.
#include "engine_internal.h"

#include <algorithm>
#include <charconv>

#include <re2/re2.h>

#include "kyverno_internal.h"
#include "vouch/base/json.h"
#include "vouch/policy/pattern.h"

namespace vouch::policy {
namespace kv = jmespath::kyverno;

namespace engine_internal {

// fmt.Sprint of a JSON value as Go prints interface{} values.
std::string go_sprint(const bj::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_bool()) return v.get_bool() ? "true" : "false";
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  if (v.is_double()) {
    auto t = jmespath::to_json_text(v);
    return t.ok() ? *t : "";
  }
  if (v.is_null()) return "<nil>";
  auto t = jmespath::to_json_text(v);
  return t.ok() ? *t : "";
}

// ---------------------------------------------------------------- operators

std::optional<double> as_number(const bj::value& v) {
  if (v.is_int64() || v.is_uint64() || v.is_double()) return jmespath::to_double(v);
  if (v.is_string()) {
    std::string_view s = v.get_string();
    double d = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec == std::errc() && p == s.data() + s.size()) return d;
  }
  return std::nullopt;
}

std::optional<int64_t> as_duration(const bj::value& v) {
  if (v.is_int64() || v.is_uint64() || v.is_double()) return static_cast<int64_t>(jmespath::to_double(v) * 1e9);
  if (v.is_string()) {
    auto d = kv::parse_go_duration(v.get_string());
    if (d.ok()) return *d;
  }
  return std::nullopt;
}

bool equals(const bj::value& key, const bj::value& value) {
  if (key.is_bool()) return value.is_bool() && value.get_bool() == key.get_bool();
  if (key.is_int64() || key.is_uint64() || key.is_double()) return match_scalar(value, key) ||
                                                                     (as_number(value) && *as_number(value) == jmespath::to_double(key));
  if (key.is_string()) {
    auto dk = kv::parse_go_duration(key.get_string());
    if (dk.ok()) {
      auto dv = as_duration(value);
      if (dv) return *dk == *dv;
    }
    if (value.is_string()) {
      if (auto c = kv::compare_quantities(key.get_string(), value.get_string())) {
        if (*c == 0) return true;
      }
      return kv::wildcard(value.get_string(), key.get_string());
    }
    return false;
  }
  if (key.is_object() || key.is_array()) return jmespath::values_equal(key, value);
  if (key.is_null()) return value.is_null();
  return false;
}

std::vector<std::string> value_list(const bj::value& value, bool& ok) {
  ok = true;
  std::vector<std::string> out;
  if (value.is_array()) {
    for (const auto& v : value.get_array()) out.push_back(go_sprint(v));
    return out;
  }
  if (value.is_string()) {
    auto parsed = json::parse(value.get_string());
    if (parsed.ok() && parsed->is_array()) {
      for (const auto& v : parsed->get_array()) {
        if (!v.is_string()) {
          ok = false;
          return {};
        }
        out.emplace_back(v.get_string());
      }
      return out;
    }
    out.emplace_back(value.get_string());
    return out;
  }
  if (value.is_number() || value.is_bool()) {
    out.push_back(go_sprint(value));
    return out;
  }
  ok = false;
  return out;
}

bool wild_either(const std::string& a, const std::string& b) { return kv::wildcard(a, b) || kv::wildcard(b, a); }

bool in_range(const std::string& key, const bj::value& value) {
  return value.is_string() && match_scalar(bj::value(key), value);
}

bool is_range(const bj::value& value) {
  if (!value.is_string()) return false;
  static const RE2 re(R"(^([-|\+]?\d+(?:\.\d+)?[A-Za-z]*)!?-([-|\+]?\d+(?:\.\d+)?[A-Za-z]*)$)");
  return RE2::FullMatch(std::string(value.get_string()), re);
}

// AnyIn/AllIn/AnyNotIn/AllNotIn.
bool set_operator(const std::string& op, const bj::value& key, const bj::value& value) {
  std::vector<std::string> keys;
  if (key.is_array()) {
    for (const auto& k : key.get_array()) keys.push_back(go_sprint(k));
  } else if (key.is_string() || key.is_number() || key.is_bool()) {
    keys.push_back(go_sprint(key));
  } else {
    return false;
  }
  bool negate = op == "AnyNotIn" || op == "AllNotIn";
  bool any_mode = op == "AnyIn" || op == "AnyNotIn";
  auto contained = [&](const std::string& k, const std::vector<std::string>& values) {
    if (is_range(value)) {
      std::string r(value.get_string());
      return in_range(k, bj::value(r));
    }
    return std::any_of(values.begin(), values.end(), [&](const std::string& v) { return wild_either(k, v); });
  };
  bool ok = true;
  std::vector<std::string> values = value_list(value, ok);
  if (!ok) return false;
  if (value.is_string() && !is_range(value) && kv::wildcard(std::string(value.get_string()), keys.size() == 1 ? keys[0] : "\x01")) {
    values = {std::string(value.get_string())};
  }
  size_t in = 0;
  for (const auto& k : keys) in += contained(k, values) ? 1 : 0;
  if (any_mode) return negate ? in < keys.size() : in > 0;
  return negate ? in == 0 : in == keys.size();
}

// The deprecated In/NotIn: a key (or every key of a list) among the values.
bool in_operator(const bj::value& key, const bj::value& value) {
  bool ok = true;
  std::vector<std::string> values = value_list(value, ok);
  if (!ok) return false;
  auto has = [&](const std::string& k) {
    return std::any_of(values.begin(), values.end(), [&](const std::string& v) { return kv::wildcard(v, k); });
  };
  if (key.is_array()) {
    for (const auto& k : key.get_array())
      if (!has(go_sprint(k))) return false;
    return true;
  }
  if (key.is_string() || key.is_number() || key.is_bool()) return has(go_sprint(key));
  return false;
}

std::optional<int> compare_numeric(const bj::value& key, const bj::value& value, bool durations_only) {
  if (!durations_only) {
    if ((key.is_number() || key.is_string()) && (value.is_number() || value.is_string())) {
      auto a = as_number(key), b = as_number(value);
      if (a && b) return *a < *b ? -1 : (*a > *b ? 1 : 0);
    }
  }
  // Durations (numbers count as seconds).
  auto da = as_duration(key), db = as_duration(value);
  if (da && db && (key.is_string() || value.is_string())) {
    bool key_dur = key.is_string() ? kv::parse_go_duration(key.get_string()).ok() : true;
    bool val_dur = value.is_string() ? kv::parse_go_duration(value.get_string()).ok() : true;
    if (key_dur && val_dur) return *da < *db ? -1 : (*da > *db ? 1 : 0);
  }
  if (durations_only) return std::nullopt;
  if (key.is_string() && value.is_string()) {
    if (auto c = kv::compare_quantities(key.get_string(), value.get_string())) return c;
  }
  if (key.is_string() && value.is_number()) {
    if (auto c = kv::compare_quantities(key.get_string(), go_sprint(value))) return c;
  }
  if (key.is_number() && value.is_string()) {
    if (auto c = kv::compare_quantities(go_sprint(key), value.get_string())) return c;
  }
  return std::nullopt;
}

bool evaluate_operator(const std::string& op, const bj::value& key, const bj::value& value) {
  if (op == "Equals" || op == "Equal") return equals(key, value);
  if (op == "NotEquals" || op == "NotEqual") return !equals(key, value);
  if (op == "In") return in_operator(key, value);
  if (op == "NotIn") return !in_operator(key, value);
  if (op == "AnyIn" || op == "AllIn" || op == "AnyNotIn" || op == "AllNotIn") return set_operator(op, key, value);
  bool dur = op.starts_with("Duration");
  std::string cmp = dur ? op.substr(8) : op;
  auto c = compare_numeric(key, value, dur);
  if (!c) return false;
  if (cmp == "GreaterThan") return *c > 0;
  if (cmp == "GreaterThanOrEquals") return *c >= 0;
  if (cmp == "LessThan") return *c < 0;
  if (cmp == "LessThanOrEquals") return *c <= 0;
  return false;
}

}  // namespace engine_internal

}  // namespace vouch::policy
