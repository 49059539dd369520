#include "vouch/policy/pattern.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <map>
#include <optional>

#include <fmt/format.h>
#include <re2/re2.h>

#include "kyverno_internal.h"
#include "vouch/policy/jmespath.h"

namespace vouch::policy {
namespace {

namespace kv = jmespath::kyverno;

constexpr unsigned kMaxDepth = 128;

enum class Op { kEqual, kMoreEqual, kLessEqual, kNotEqual, kMore, kLess, kInRange, kNotInRange };

const RE2& in_range_re() {
  static const RE2 re(R"(^([-|\+]?\d+(?:\.\d+)?[A-Za-z]*)-([-|\+]?\d+(?:\.\d+)?[A-Za-z]*)$)");
  return re;
}
const RE2& not_in_range_re() {
  static const RE2 re(R"(^([-|\+]?\d+(?:\.\d+)?[A-Za-z]*)!-([-|\+]?\d+(?:\.\d+)?[A-Za-z]*)$)");
  return re;
}

std::pair<Op, size_t> operator_of(std::string_view p) {
  if (p.size() < 2) return {Op::kEqual, 0};
  if (p.starts_with(">=")) return {Op::kMoreEqual, 2};
  if (p.starts_with("<=")) return {Op::kLessEqual, 2};
  if (p.starts_with(">")) return {Op::kMore, 1};
  if (p.starts_with("<")) return {Op::kLess, 1};
  if (p.starts_with("!")) return {Op::kNotEqual, 1};
  re2::StringPiece sp(p.data(), p.size());
  if (RE2::FullMatch(sp, not_in_range_re())) return {Op::kNotInRange, 0};
  if (RE2::FullMatch(sp, in_range_re())) return {Op::kInRange, 0};
  return {Op::kEqual, 0};
}

std::string trim(std::string_view s, std::string_view set = " ") {
  size_t b = s.find_first_not_of(set);
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(set);
  return std::string(s.substr(b, e - b + 1));
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.emplace_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

// convertNumberToString: nil is "0", floats as %f.
std::optional<std::string> number_text(const bj::value& v) {
  if (v.is_null()) return std::string("0");
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  if (v.is_double()) return fmt::format("{:f}", v.get_double());
  return std::nullopt;
}

template <typename T>
std::optional<bool> apply_op(Op op, T a, T b) {
  switch (op) {
    case Op::kEqual: return a == b;
    case Op::kNotEqual: return a != b;
    case Op::kMore: return a > b;
    case Op::kLess: return a < b;
    case Op::kMoreEqual: return a >= b;
    case Op::kLessEqual: return a <= b;
    default: return std::nullopt;
  }
}

std::optional<bool> compare_duration(const bj::value& value, const std::string& pattern, Op op) {
  auto p = kv::parse_go_duration(pattern);
  if (!p.ok()) return std::nullopt;
  auto text = number_text(value);
  if (!text) return std::nullopt;
  auto v = kv::parse_go_duration(*text);
  if (!v.ok()) return std::nullopt;
  return apply_op(op, *v, *p);
}

std::optional<bool> compare_quantity(const bj::value& value, const std::string& pattern, Op op) {
  auto text = number_text(value);
  if (!text) return std::nullopt;
  auto c = kv::compare_quantities(*text, pattern);
  if (!c) return std::nullopt;
  return apply_op(op, *c, 0);
}

// Go's strconv.FormatFloat(v, 'E', -1, 64).
std::string go_float_e(double d) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string s(buf, r.ptr);
  size_t e = s.find('e');
  if (e == std::string::npos) return s;
  std::string mant = s.substr(0, e);
  std::string exp = s.substr(e + 1);
  char sign = '+';
  if (!exp.empty() && (exp[0] == '-' || exp[0] == '+')) {
    sign = exp[0];
    exp.erase(0, 1);
  }
  while (exp.size() > 1 && exp[0] == '0') exp.erase(0, 1);
  if (exp.size() < 2) exp = "0" + exp;
  return mant + "E" + sign + exp;
}

bool compare_string(const bj::value& value, const std::string& pattern, Op op) {
  if (op != Op::kEqual && op != Op::kNotEqual) return false;
  std::string s;
  if (value.is_double()) s = go_float_e(value.get_double());
  else if (value.is_int64()) s = std::to_string(value.get_int64());
  else if (value.is_uint64()) s = std::to_string(value.get_uint64());
  else if (value.is_string()) s = std::string(value.get_string());
  else if (value.is_bool()) s = value.get_bool() ? "true" : "false";
  else return false;
  bool m = kv::wildcard(pattern, s);
  return op == Op::kNotEqual ? !m : m;
}

bool validate_string(const bj::value& value, const std::string& pattern, Op op) {
  if (auto r = compare_duration(value, pattern, op)) return *r;
  if (auto r = compare_quantity(value, pattern, op)) return *r;
  return compare_string(value, pattern, op);
}

bool validate_string_pattern(const bj::value& value, const std::string& pattern) {
  auto [op, len] = operator_of(pattern);
  std::string left, right;
  if (op == Op::kInRange) {
    if (!RE2::FullMatch(pattern, in_range_re(), &left, &right)) return false;
    return validate_string_pattern(value, ">= " + left) && validate_string_pattern(value, "<= " + right);
  }
  if (op == Op::kNotInRange) {
    if (!RE2::FullMatch(pattern, not_in_range_re(), &left, &right)) return false;
    return validate_string_pattern(value, "< " + left) || validate_string_pattern(value, "> " + right);
  }
  return validate_string(value, trim(std::string_view(pattern).substr(len), " \t\n\v\f\r"), op);
}

bool validate_string_patterns(const bj::value& value, const std::string& pattern) {
  if (value.is_string() && value.get_string() == pattern) return true;
  for (const auto& alt : split(pattern, '|')) {
    bool all = true;
    for (const auto& part : split(trim(alt), '&')) {
      if (!validate_string_pattern(value, trim(part))) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

bool is_integral_double(double d) { return std::isfinite(d) && d == std::trunc(d); }

}  // namespace

bool match_scalar(const bj::value& value, const bj::value& pattern) {
  if (pattern.is_bool()) return value.is_bool() && value.get_bool() == pattern.get_bool();
  if (pattern.is_int64() || pattern.is_uint64()) {
    int64_t p = pattern.is_int64() ? pattern.get_int64() : static_cast<int64_t>(pattern.get_uint64());
    if (value.is_int64()) return value.get_int64() == p;
    if (value.is_uint64()) return static_cast<int64_t>(value.get_uint64()) == p;
    if (value.is_double()) return is_integral_double(value.get_double()) && static_cast<int64_t>(value.get_double()) == p;
    if (value.is_string()) {
      std::string_view s = value.get_string();
      int64_t v = 0;
      auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      return ec == std::errc() && ptr == s.data() + s.size() && v == p;
    }
    return false;
  }
  if (pattern.is_double()) {
    double p = pattern.get_double();
    if (value.is_int64() || value.is_uint64()) return is_integral_double(p) && jmespath::to_double(value) == p;
    if (value.is_double()) return value.get_double() == p;
    if (value.is_string()) {
      std::string_view s = value.get_string();
      double v = 0;
      auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      return ec == std::errc() && ptr == s.data() + s.size() && v == p;
    }
    return false;
  }
  if (pattern.is_null()) {
    if (value.is_null()) return true;
    if (value.is_double()) return value.get_double() == 0.0;
    if (value.is_int64()) return value.get_int64() == 0;
    if (value.is_uint64()) return value.get_uint64() == 0;
    if (value.is_string()) return value.get_string().empty();
    if (value.is_bool()) return !value.get_bool();
    return false;
  }
  if (pattern.is_object()) return value.is_object();
  if (pattern.is_string()) return validate_string_patterns(value, std::string(pattern.get_string()));
  return false;  // arrays are not patterns
}

namespace {

enum class AnchorType { kNone, kCondition, kGlobal, kNegation, kAddIfNotPresent, kEquality, kExistence };

struct Anchor {
  AnchorType type = AnchorType::kNone;
  std::string key;
};

Anchor parse_anchor(std::string_view raw) {
  std::string s = trim(raw, " \t\n\v\f\r");
  if (s.size() < 3 || s.back() != ')') return {};
  AnchorType t = AnchorType::kCondition;
  size_t open = 0;
  switch (s[0]) {
    case '(': t = AnchorType::kCondition; open = 0; break;
    case '<': t = AnchorType::kGlobal; open = 1; break;
    case 'X': t = AnchorType::kNegation; open = 1; break;
    case '+': t = AnchorType::kAddIfNotPresent; open = 1; break;
    case '=': t = AnchorType::kEquality; open = 1; break;
    case '^': t = AnchorType::kExistence; open = 1; break;
    default: return {};
  }
  if (s[open] != '(') return {};
  std::string key = s.substr(open + 1, s.size() - open - 2);
  if (key.empty()) return {};
  return {t, key};
}

// Errors as Kyverno's: the anchor error kinds decide skip/fail.
struct Err {
  enum Kind { kPlain, kConditional, kGlobal, kNegation, kSkipPattern } kind = kPlain;
  std::string message;
  bool is_skip() const {
    if (kind == kConditional || kind == kGlobal) return true;
    if (kind == kSkipPattern || kind == kPlain)
      return message.find("conditional anchor mismatch") != std::string::npos ||
             message.find("global anchor mismatch") != std::string::npos;
    return false;
  }
  bool is_negation() const {
    return kind == kNegation || message.find("negation anchor matched in resource") != std::string::npos;
  }
};

struct Outcome {
  bool ok = true;
  std::string path;
  Err err;
};

Outcome good() { return {}; }
Outcome bad(std::string path, Err::Kind kind, std::string message) { return {false, std::move(path), {kind, std::move(message)}}; }

std::string value_text(const bj::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_null()) return "<nil>";
  auto t = jmespath::to_json_text(v);
  return t.ok() ? *t : "?";
}

std::string type_text(const bj::value& v) {
  if (v.is_object()) return "map[string]interface {}";
  if (v.is_array()) return "[]interface {}";
  if (v.is_string()) return "string";
  if (v.is_bool()) return "bool";
  if (v.is_int64() || v.is_uint64()) return "int64";
  if (v.is_double()) return "float64";
  return "<nil>";
}

struct Matcher {
  std::map<std::string, bool> anchor_map;
  unsigned depth = 0;

  static bool has_key(const bj::value& resource, const std::string& key) {
    if (resource.is_object()) return resource.get_object().contains(key);
    if (resource.is_array()) {
      for (const auto& e : resource.get_array())
        if (has_key(e, key)) return true;
    }
    return false;
  }

  void check_anchor_in_resource(const bj::object& pattern, const bj::value& resource) {
    for (const auto& kv : pattern) {
      Anchor a = parse_anchor(kv.key());
      if (a.type != AnchorType::kCondition && a.type != AnchorType::kExistence && a.type != AnchorType::kNegation) continue;
      std::string k(kv.key());
      auto it = anchor_map.find(k);
      if (it == anchor_map.end()) it = anchor_map.emplace(k, false).first;
      else if (it->second) continue;
      if (has_key(resource, a.key)) it->second = true;
    }
  }

  bool keys_are_missing() const {
    for (const auto& [k, v] : anchor_map) {
      if (!v && parse_anchor(k).type != AnchorType::kNegation) return true;
    }
    return false;
  }

  Outcome element(const bj::value* resource, const bj::value& pattern, const std::string& path) {
    static const bj::value kNull;
    if (!resource) resource = &kNull;
    if (++depth > kMaxDepth) {
      --depth;
      return bad(path, Err::kPlain, "pattern nested too deeply");
    }
    Outcome o = element_inner(*resource, pattern, path);
    --depth;
    return o;
  }

  Outcome element_inner(const bj::value& resource, const bj::value& pattern, const std::string& path) {
    if (pattern.is_object()) {
      if (!resource.is_object())
        return bad(path, Err::kPlain, fmt::format("pattern and resource have different structures. Path: {}. Expected "
                                                  "map[string]interface {{}}, found {}", path, type_text(resource)));
      check_anchor_in_resource(pattern.get_object(), resource);
      return map(resource.get_object(), pattern.get_object(), path);
    }
    if (pattern.is_array()) {
      if (!resource.is_array())
        return bad(path, Err::kPlain, fmt::format("validation rule failed at path {}, resource does not satisfy the "
                                                  "expected overlay pattern", path));
      return array(resource.get_array(), pattern.get_array(), path);
    }
    if (resource.is_array()) {
      for (const auto& r : resource.get_array()) {
        if (!match_scalar(r, pattern))
          return bad(path, Err::kPlain, fmt::format("resource value '{}' does not match '{}' at path {}",
                                                    value_text(resource), value_text(pattern), path));
      }
      return good();
    }
    if (!match_scalar(resource, pattern))
      return bad(path, Err::kPlain, fmt::format("resource value '{}' does not match '{}' at path {}",
                                                value_text(resource), value_text(pattern), path));
    return good();
  }

  Outcome handle(const std::string& key, const bj::value& pattern, const bj::object& resource, const std::string& path) {
    Anchor a = parse_anchor(key);
    const bj::value* value = a.type == AnchorType::kNone ? resource.if_contains(key) : resource.if_contains(a.key);
    std::string current = path + (a.type == AnchorType::kNone ? key : a.key) + "/";
    switch (a.type) {
      case AnchorType::kNegation:
        if (value) return bad(current, Err::kNegation, fmt::format("negation anchor matched in resource: {} is not allowed", current));
        return good();
      case AnchorType::kEquality:
        if (value) return element(value, pattern, current);
        return good();
      case AnchorType::kCondition: {
        if (!value) return bad(current, Err::kConditional, "conditional anchor mismatch: conditional anchor key doesn't exist in the resource");
        Outcome o = element(value, pattern, current);
        if (!o.ok) return bad(o.path, Err::kConditional, "conditional anchor mismatch: " + o.err.message);
        return good();
      }
      case AnchorType::kGlobal: {
        if (!value) return good();
        Outcome o = element(value, pattern, current);
        if (!o.ok) return bad(o.path, Err::kGlobal, "global anchor mismatch: " + o.err.message);
        return good();
      }
      case AnchorType::kExistence: {
        if (!value) return good();
        if (!value->is_array())
          return bad(current, Err::kPlain, fmt::format("invalid resource type {}: Existence ^ () anchor can be used only on list/array type resource", type_text(*value)));
        if (!pattern.is_array())
          return bad(current, Err::kPlain, fmt::format("invalid pattern type {}: Pattern has to be of list to compare against resource", type_text(pattern)));
        Outcome last = good();
        for (const auto& pm : pattern.get_array()) {
          if (!pm.is_object())
            return bad(current, Err::kPlain, "invalid pattern type: Pattern has to be of type map to compare against items in resource");
          bool found = false;
          size_t i = 0;
          for (const auto& r : value->get_array()) {
            Outcome o = element(&r, pm, current + std::to_string(i++) + "/");
            if (o.ok) {
              found = true;
              break;
            }
          }
          if (!found) return bad(current, Err::kPlain, fmt::format("existence anchor validation failed at path {}", current));
        }
        return last;
      }
      case AnchorType::kAddIfNotPresent:
      case AnchorType::kNone:
        break;
    }
    // The default handler.
    if (pattern.is_string() && pattern.get_string() == "*") {
      if (value && !value->is_null()) return good();
      return bad(path, Err::kPlain, fmt::format("{}/{} not found", path, key));
    }
    return element(value, pattern, current);
  }

  static bool has_nested_anchors(const bj::value& p) {
    if (p.is_object()) {
      for (const auto& kv : p.get_object()) {
        if (parse_anchor(kv.key()).type != AnchorType::kNone && parse_anchor(kv.key()).type != AnchorType::kAddIfNotPresent)
          return true;
      }
      for (const auto& kv : p.get_object())
        if (has_nested_anchors(kv.value())) return true;
      return false;
    }
    if (p.is_array()) {
      for (const auto& e : p.get_array())
        if (has_nested_anchors(e)) return true;
    }
    return false;
  }

  // Wildcard keys in metadata.labels/annotations patterns expand to the resource's keys.
  static bj::object expand_wildcards(const bj::object& pattern, const bj::object& resource) {
    bj::object out = pattern;
    for (const char* field : {"labels", "annotations"}) {
      auto* pm = pattern.if_contains(field);
      auto* rm = resource.if_contains(field);
      if (!pm || !pm->is_object()) continue;
      bj::object expanded;
      bool changed = false;
      for (const auto& kv : pm->get_object()) {
        Anchor a = parse_anchor(kv.key());
        std::string k = a.type == AnchorType::kNone ? std::string(kv.key()) : a.key;
        if (k.find_first_of("*?") == std::string::npos) {
          expanded[kv.key()] = kv.value();
          continue;
        }
        changed = true;
        bool matched = false;
        if (rm && rm->is_object()) {
          for (const auto& rkv : rm->get_object()) {
            if (!kv::wildcard(k, rkv.key())) continue;
            matched = true;
            std::string nk(rkv.key());
            if (a.type != AnchorType::kNone) {
              std::string prefix = kv.key().substr(0, kv.key().find('('));
              nk = prefix + "(" + nk + ")";
            }
            expanded[nk] = kv.value();
          }
        }
        // No key matches: the key stays as written (Kyverno's expandWildcards), so a plain
        // wildcard key is a required key that is missing, and an anchored one is judged by its
        // anchor (=() optional, X() absent).
        if (!matched) expanded[kv.key()] = kv.value();
      }
      if (changed) out[field] = std::move(expanded);
    }
    return out;
  }

  Outcome map(const bj::object& resource, const bj::object& pattern_in, const std::string& path) {
    std::optional<bj::object> expanded;
    if (path == "/metadata/" || path.ends_with("/metadata/")) expanded = expand_wildcards(pattern_in, resource);
    const bj::object& pattern = expanded ? *expanded : pattern_in;
    std::vector<std::string> anchors, others;
    for (const auto& kv : pattern) {
      AnchorType t = parse_anchor(kv.key()).type;
      if (t == AnchorType::kCondition || t == AnchorType::kExistence || t == AnchorType::kEquality || t == AnchorType::kNegation)
        anchors.emplace_back(kv.key());
      else
        others.emplace_back(kv.key());
    }
    std::sort(anchors.begin(), anchors.end());
    std::vector<Err> skips;
    bool skip_sibling = false;  // a skip that came straight from an anchor (not a nested pattern)
    int applied = 0;
    for (const auto& key : anchors) {
      Outcome o = handle(key, pattern.at(key), resource, path);
      if (!o.ok) {
        if (o.err.is_skip()) {
          if (o.err.kind != Err::kSkipPattern) skip_sibling = true;
          skips.push_back(o.err);
          continue;
        }
        if (!skip_sibling) return o;
        continue;
      }
      ++applied;
    }
    if (!skips.empty() && (applied == 0 || skip_sibling)) {
      std::string msg;
      for (const auto& e : skips) msg += (msg.empty() ? "" : "; ") + e.message;
      return bad(path, Err::kSkipPattern, msg);
    }
    std::sort(others.begin(), others.end());
    std::deque<std::string> order;
    for (const auto& k : others) {
      if (parse_anchor(k).type == AnchorType::kGlobal || has_nested_anchors(pattern.at(k))) order.push_front(k);
      else order.push_back(k);
    }
    for (const auto& k : order) {
      Outcome o = handle(k, pattern.at(k), resource, path);
      if (!o.ok) return o;
    }
    return good();
  }

  Outcome array(const bj::array& resource, const bj::array& pattern, const std::string& path) {
    if (pattern.empty()) return bad(path, Err::kPlain, "pattern Array empty");
    const bj::value& first = pattern[0];
    if (first.is_object()) {
      int applied = 0;
      std::vector<Err> skips;
      for (size_t i = 0; i < resource.size(); ++i) {
        Outcome o = element(&resource[i], first, path + std::to_string(i) + "/");
        if (!o.ok) {
          if (o.err.is_skip()) {
            skips.push_back(o.err);
            continue;
          }
          return o;
        }
        ++applied;
      }
      if (applied == 0 && !skips.empty()) {
        std::string msg;
        for (const auto& e : skips) msg += (msg.empty() ? "" : "; ") + e.message;
        return bad(path, Err::kSkipPattern, msg);
      }
      return good();
    }
    if (!first.is_array()) {
      bj::value r(resource);
      return element(&r, first, path);
    }
    if (resource.size() < pattern.size())
      return bad("", Err::kPlain, fmt::format("validate Array failed, array length mismatch, resource Array len is {} and "
                                              "pattern Array len is {}", resource.size(), pattern.size()));
    int applied = 0;
    std::vector<Err> skips;
    for (size_t i = 0; i < pattern.size(); ++i) {
      Outcome o = element(&resource[i], pattern[i], path + std::to_string(i) + "/");
      if (!o.ok) {
        if (o.err.is_skip()) {
          skips.push_back(o.err);
          continue;
        }
        return o;
      }
      ++applied;
    }
    if (applied == 0 && !skips.empty()) return bad(path, Err::kSkipPattern, skips.front().message);
    return good();
  }
};

}  // namespace

PatternResult match_pattern(const bj::value& resource, const bj::value& pattern) {
  Matcher m;
  Outcome o = m.element(&resource, pattern, "/");
  if (o.ok) return {};
  if (o.err.is_skip()) return {PatternResult::kSkip, "", o.err.message};
  if (o.err.is_negation()) return {PatternResult::kFail, o.path, o.err.message};
  if (m.keys_are_missing()) return {PatternResult::kError, "", o.err.message};
  if (o.path.empty()) return {PatternResult::kError, "", o.err.message};
  return {PatternResult::kFail, o.path, o.err.message};
}

}  // namespace vouch::policy
