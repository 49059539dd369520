// JMESPath evaluation: walks the syntax tree over borrowed or shared values, so that field
// access and projections do not copy the input document.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include <boost/container/small_vector.hpp>
#include <fmt/format.h>

#include "jmespath_ast.h"

namespace vouch::policy::jmespath {

// ---------------------------------------------------------------- value helpers

bool is_number(const bj::value& v) { return v.is_int64() || v.is_uint64() || v.is_double(); }

double to_double(const bj::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  if (v.is_double()) return v.get_double();
  return 0;
}

bj::value make_number(double d) {
  if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) <= 9007199254740992.0) {
    return bj::value(static_cast<int64_t>(d));
  }
  return bj::value(d);
}

std::string_view type_name(const bj::value& v) {
  switch (v.kind()) {
    case bj::kind::null: return "null";
    case bj::kind::bool_: return "boolean";
    case bj::kind::int64:
    case bj::kind::uint64:
    case bj::kind::double_: return "number";
    case bj::kind::string: return "string";
    case bj::kind::array: return "array";
    case bj::kind::object: return "object";
  }
  return "unknown";
}

bool is_truthy(const bj::value& v) {
  switch (v.kind()) {
    case bj::kind::null: return false;
    case bj::kind::bool_: return v.get_bool();
    case bj::kind::string: return !v.get_string().empty();
    case bj::kind::array: return !v.get_array().empty();
    case bj::kind::object: return !v.get_object().empty();
    default: return true;
  }
}

namespace {

bool numbers_equal(const bj::value& a, const bj::value& b) {
  if (a.is_double() || b.is_double()) return to_double(a) == to_double(b);
  if (a.is_int64() && b.is_int64()) return a.get_int64() == b.get_int64();
  if (a.is_uint64() && b.is_uint64()) return a.get_uint64() == b.get_uint64();
  const bj::value& s = a.is_int64() ? a : b;
  const bj::value& u = a.is_int64() ? b : a;
  return s.get_int64() >= 0 && static_cast<uint64_t>(s.get_int64()) == u.get_uint64();
}

// Orders two numbers: -1, 0, 1.
int numbers_compare(const bj::value& a, const bj::value& b) {
  if (numbers_equal(a, b)) return 0;
  if (a.is_int64() && b.is_int64()) return a.get_int64() < b.get_int64() ? -1 : 1;
  return to_double(a) < to_double(b) ? -1 : 1;
}

}  // namespace

bool values_equal(const bj::value& a, const bj::value& b) {
  std::vector<std::pair<const bj::value*, const bj::value*>> stack{{&a, &b}};
  while (!stack.empty()) {
    auto [x, y] = stack.back();
    stack.pop_back();
    if (is_number(*x) && is_number(*y)) {
      if (!numbers_equal(*x, *y)) return false;
      continue;
    }
    if (x->kind() != y->kind()) return false;
    switch (x->kind()) {
      case bj::kind::null: break;
      case bj::kind::bool_:
        if (x->get_bool() != y->get_bool()) return false;
        break;
      case bj::kind::string:
        if (x->get_string() != y->get_string()) return false;
        break;
      case bj::kind::array: {
        const auto& xa = x->get_array();
        const auto& ya = y->get_array();
        if (xa.size() != ya.size()) return false;
        for (size_t i = 0; i < xa.size(); ++i) stack.emplace_back(&xa[i], &ya[i]);
        break;
      }
      case bj::kind::object: {
        const auto& xo = x->get_object();
        const auto& yo = y->get_object();
        if (xo.size() != yo.size()) return false;
        for (const auto& kv : xo) {
          auto it = yo.find(kv.key());
          if (it == yo.end()) return false;
          stack.emplace_back(&kv.value(), &it->value());
        }
        break;
      }
      default: return false;
    }
  }
  return true;
}

namespace {

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

void append_double(std::string& out, double f) {
  if (!std::isfinite(f)) {
    out += "null";
    return;
  }
  char buf[64];
  double abs = std::fabs(f);
  bool sci = abs != 0 && (abs < 1e-6 || abs >= 1e21);
  auto res = sci ? std::to_chars(buf, buf + sizeof buf, f, std::chars_format::scientific)
                 : std::to_chars(buf, buf + sizeof buf, f, std::chars_format::fixed);
  std::string s(buf, res.ptr);
  if (sci) {
    // "1e-07" -> "1e-7", as Go writes it.
    size_t n = s.size();
    if (n >= 4 && s[n - 4] == 'e' && s[n - 3] == '-' && s[n - 2] == '0') s.erase(n - 2, 1);
  }
  out += s;
}

Status append_json(std::string& out, const bj::value& v, unsigned depth) {
  if (depth > 512) return make_error(ErrorKind::kLimit, "value nested more than 512 levels deep");
  switch (v.kind()) {
    case bj::kind::null: out += "null"; break;
    case bj::kind::bool_: out += v.get_bool() ? "true" : "false"; break;
    case bj::kind::int64: out += std::to_string(v.get_int64()); break;
    case bj::kind::uint64: out += std::to_string(v.get_uint64()); break;
    case bj::kind::double_: append_double(out, v.get_double()); break;
    case bj::kind::string: append_json_string(out, v.get_string()); break;
    case bj::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        VOUCH_RETURN_IF_ERROR(append_json(out, e, depth + 1));
      }
      out.push_back(']');
      break;
    }
    case bj::kind::object: {
      // Keys sorted, as Go's encoding/json writes maps.
      std::vector<const bj::key_value_pair*> members;
      for (const auto& kv : v.get_object()) members.push_back(&kv);
      std::sort(members.begin(), members.end(),
                [](const auto* a, const auto* b) { return a->key() < b->key(); });
      out.push_back('{');
      bool first = true;
      for (const auto* kv : members) {
        if (!first) out.push_back(',');
        first = false;
        append_json_string(out, kv->key());
        out.push_back(':');
        VOUCH_RETURN_IF_ERROR(append_json(out, kv->value(), depth + 1));
      }
      out.push_back('}');
      break;
    }
  }
  return ok_status();
}

}  // namespace

Result<std::string> to_json_text(const bj::value& v) {
  std::string out;
  VOUCH_RETURN_IF_ERROR(append_json(out, v, 0));
  return out;
}

// ---------------------------------------------------------------- registry

void FunctionRegistry::add(Function function) {
  std::string name = function.name;
  functions_.insert_or_assign(std::move(name), std::move(function));
}

const Function* FunctionRegistry::find(std::string_view name) const {
  auto it = functions_.find(name);
  return it == functions_.end() ? nullptr : &it->second;
}

std::vector<std::string> FunctionRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, f] : functions_) out.push_back(name);
  return out;
}

namespace detail {

namespace {

std::string describe_types(TypeSet types) {
  std::vector<std::string_view> names;
  if ((types & kAny) == kAny) {
    names.push_back("any value");
  } else {
    if (types & kNumber) names.push_back("a number");
    if (types & kString) names.push_back("a string");
    if (types & kBoolean) names.push_back("a boolean");
    if (types & kArray) names.push_back("an array");
    if (types & kObject) names.push_back("an object");
    if (types & kNull) names.push_back("null");
  }
  if ((types & kArrayNumber) && !(types & kArray)) names.push_back("an array of numbers");
  if ((types & kArrayString) && !(types & kArray)) names.push_back("an array of strings");
  if (types & kExpref) names.push_back("an expression reference (&expr)");
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

bool matches(const bj::value& v, TypeSet types) {
  switch (v.kind()) {
    case bj::kind::null: return types & kNull;
    case bj::kind::bool_: return types & kBoolean;
    case bj::kind::int64:
    case bj::kind::uint64:
    case bj::kind::double_: return types & kNumber;
    case bj::kind::string: return types & kString;
    case bj::kind::object: return types & kObject;
    case bj::kind::array: {
      if (types & kArray) return true;
      const auto& a = v.get_array();
      if ((types & kArrayNumber) && std::all_of(a.begin(), a.end(), [](const auto& e) { return is_number(e); })) {
        return true;
      }
      if ((types & kArrayString) && std::all_of(a.begin(), a.end(), [](const auto& e) { return e.is_string(); })) {
        return true;
      }
      return false;
    }
  }
  return false;
}

}  // namespace

Status check_arity(const Function& f, size_t count) {
  size_t min = 0;
  bool variadic = false;
  for (const auto& p : f.params) {
    if (p.variadic) {
      variadic = true;
      if (!p.optional) ++min;
    } else if (!p.optional) {
      ++min;
    }
  }
  size_t max = variadic ? std::numeric_limits<size_t>::max() : f.params.size();
  if (count >= min && count <= max) return ok_status();
  std::string expected;
  if (variadic) {
    expected = fmt::format("at least {}", min);
  } else if (min == max) {
    expected = fmt::format("{}", min);
  } else {
    expected = fmt::format("{} to {}", min, max);
  }
  return make_error(ErrorKind::kInvalidArity, fmt::format("{}() takes {} argument{} but {} {} given", f.name, expected,
                                                          (min == 1 && max == 1) ? "" : "s", count,
                                                          count == 1 ? "was" : "were"));
}

Status check_types(const Function& f, std::span<const Argument> args) {
  VOUCH_RETURN_IF_ERROR(check_arity(f, args.size()));
  for (size_t i = 0; i < args.size(); ++i) {
    const Parameter& p = i < f.params.size() ? f.params[i] : f.params.back();
    bool ok = args[i].is_expref() ? (p.types & kExpref) != 0 : matches(args[i].value(), p.types);
    if (!ok) {
      return make_error(ErrorKind::kInvalidType,
                        fmt::format("{}(): argument {} must be {}, got {}", f.name, i + 1, describe_types(p.types),
                                    args[i].is_expref() ? std::string_view("an expression reference")
                                                        : type_name(args[i].value())));
    }
  }
  return ok_status();
}

const bj::value& null_value() {
  static const bj::value null;
  return null;
}

Val::Val() : p_(&null_value()) {}

namespace {

// The bytes a value takes, roughly as boost::json holds it (a 16-byte value per node, plus the
// characters of strings and keys), counting no further than `limit` so that measuring a huge
// value costs no more than the budget it is measured against.
uint64_t value_bytes(const bj::value& root, uint64_t limit) {
  if (root.is_string()) return sizeof(bj::value) + root.get_string().size();
  if (!root.is_array() && !root.is_object()) return sizeof(bj::value);
  uint64_t total = 0;
  boost::container::small_vector<const bj::value*, 32> stack{&root};  // no allocation for small values
  while (!stack.empty() && total <= limit) {
    const bj::value* v = stack.back();
    stack.pop_back();
    total += sizeof(bj::value);
    switch (v->kind()) {
      case bj::kind::string: total += v->get_string().size(); break;
      case bj::kind::array:
        for (const auto& e : v->get_array()) stack.push_back(&e);
        break;
      case bj::kind::object:
        for (const auto& kv : v->get_object()) {
          total += kv.key().size() + sizeof(bj::value);
          stack.push_back(&kv.value());
        }
        break;
      default: break;
    }
  }
  return total;
}

// The work a function's argument stands for: its elements, or its characters in blocks.
uint64_t argument_steps(const bj::value& v) {
  if (v.is_array()) return v.get_array().size();
  if (v.is_object()) return v.get_object().size();
  if (v.is_string()) return v.get_string().size() / 64;
  return 0;
}

}  // namespace

Status Interpreter::charge_steps(uint64_t n) const {
  steps_ += n;
  if (steps_ > budget_.max_steps) {
    return make_error(ErrorKind::kLimit, fmt::format("expression exceeded its budget of {} steps", budget_.max_steps));
  }
  return ok_status();
}

Error Interpreter::over_bytes() const {
  return make_error(ErrorKind::kLimit, fmt::format("expression exceeded its budget of {} bytes", budget_.max_bytes));
}

Status Interpreter::check_room(uint64_t bytes) const {
  if (bytes > bytes_left()) return over_bytes();
  return ok_status();
}

Status Interpreter::charge_value(const bj::value& v) const {
  uint64_t left = bytes_left();
  uint64_t n = value_bytes(v, left);
  if (n > left) return over_bytes();
  bytes_ += n;
  return ok_status();
}

Result<bj::value> Interpreter::copy(const bj::value& v) const {
  VOUCH_RETURN_IF_ERROR(charge_value(v));
  return v;
}

Result<Val> Interpreter::eval(const Node& node, const Val& current) const {
  VOUCH_RETURN_IF_ERROR(charge_steps(1));
  const bj::value& cur = current.get();
  switch (node.type) {
    case NodeType::kCurrent: return current;
    case NodeType::kLiteral: return Val::borrow(node.literal);
    case NodeType::kField: {
      if (!cur.is_object()) return Val();
      const auto& obj = cur.get_object();
      auto it = obj.find(node.name);
      if (it == obj.end()) return Val();
      return current.child(it->value());
    }
    case NodeType::kIndex: {
      if (!cur.is_array()) return Val();
      const auto& arr = cur.get_array();
      int64_t i = node.index;
      int64_t n = static_cast<int64_t>(arr.size());
      if (i < 0) i += n;
      if (i < 0 || i >= n) return Val();
      return current.child(arr[static_cast<size_t>(i)]);
    }
    case NodeType::kSlice: {
      if (!cur.is_array()) return Val();
      const auto& arr = cur.get_array();
      int64_t step = node.slice[2].value_or(1);
      if (step == 0) return make_error(ErrorKind::kInvalidValue, "slice step cannot be 0");
      const int64_t len = static_cast<int64_t>(arr.size());
      auto cap = [&](std::optional<int64_t> v, bool is_start) -> int64_t {
        if (!v) {
          if (is_start) return step < 0 ? len - 1 : 0;
          return step < 0 ? -1 : len;
        }
        int64_t x = *v;
        if (x < 0) {
          x = x < -len ? -1 - len : x;  // avoid overflow below
          x += len;
          if (x < 0) x = step < 0 ? -1 : 0;
        } else if (x >= len) {
          x = step < 0 ? len - 1 : len;
        }
        return x;
      };
      int64_t start = cap(node.slice[0], true);
      int64_t stop = cap(node.slice[1], false);
      bj::array out;
      if (step > 0) {
        for (__int128 i = start; i < stop; i += step) {
          VOUCH_ASSIGN_OR_RETURN(bj::value e, copy(arr[static_cast<size_t>(i)]));
          out.push_back(std::move(e));
        }
      } else {
        for (__int128 i = start; i > stop; i += step) {
          VOUCH_ASSIGN_OR_RETURN(bj::value e, copy(arr[static_cast<size_t>(i)]));
          out.push_back(std::move(e));
        }
      }
      return Val::own(std::move(out));
    }
    case NodeType::kSubexpression:
    case NodeType::kIndexExpression:
    case NodeType::kPipe: {
      Val v = current;
      for (const auto& child : node.children) {
        VOUCH_ASSIGN_OR_RETURN(v, eval(*child, v));
      }
      return v;
    }
    case NodeType::kProjection: {
      VOUCH_ASSIGN_OR_RETURN(Val base, eval(*node.children[0], current));
      if (!base->is_array()) return Val();
      bj::array out;
      for (const auto& e : base->get_array()) {
        VOUCH_ASSIGN_OR_RETURN(Val r, eval(*node.children[1], base.child(e)));
        if (r->is_null()) continue;
        VOUCH_ASSIGN_OR_RETURN(bj::value copied, copy(*r));
        out.push_back(std::move(copied));
      }
      return Val::own(std::move(out));
    }
    case NodeType::kValueProjection: {
      VOUCH_ASSIGN_OR_RETURN(Val base, eval(*node.children[0], current));
      if (!base->is_object()) return Val();
      bj::array out;
      for (const auto& kv : base->get_object()) {
        VOUCH_ASSIGN_OR_RETURN(Val r, eval(*node.children[1], base.child(kv.value())));
        if (r->is_null()) continue;
        VOUCH_ASSIGN_OR_RETURN(bj::value copied, copy(*r));
        out.push_back(std::move(copied));
      }
      return Val::own(std::move(out));
    }
    case NodeType::kFilterProjection: {
      VOUCH_ASSIGN_OR_RETURN(Val base, eval(*node.children[0], current));
      if (!base->is_array()) return Val();
      bj::array out;
      for (const auto& e : base->get_array()) {
        Val element = base.child(e);
        VOUCH_ASSIGN_OR_RETURN(Val keep, eval(*node.children[2], element));
        if (!is_truthy(*keep)) continue;
        VOUCH_ASSIGN_OR_RETURN(Val r, eval(*node.children[1], element));
        if (r->is_null()) continue;
        VOUCH_ASSIGN_OR_RETURN(bj::value copied, copy(*r));
        out.push_back(std::move(copied));
      }
      return Val::own(std::move(out));
    }
    case NodeType::kFlatten: {
      VOUCH_ASSIGN_OR_RETURN(Val base, eval(*node.children[0], current));
      if (!base->is_array()) return Val();
      bj::array out;
      for (const auto& e : base->get_array()) {
        if (e.is_array()) {
          for (const auto& inner : e.get_array()) {
            VOUCH_ASSIGN_OR_RETURN(bj::value copied, copy(inner));
            out.push_back(std::move(copied));
          }
        } else {
          VOUCH_ASSIGN_OR_RETURN(bj::value copied, copy(e));
          out.push_back(std::move(copied));
        }
      }
      return Val::own(std::move(out));
    }
    case NodeType::kOr: {
      Val v;
      for (const auto& child : node.children) {
        VOUCH_ASSIGN_OR_RETURN(v, eval(*child, current));
        if (is_truthy(*v)) return v;
      }
      return v;
    }
    case NodeType::kAnd: {
      Val v;
      for (const auto& child : node.children) {
        VOUCH_ASSIGN_OR_RETURN(v, eval(*child, current));
        if (!is_truthy(*v)) return v;
      }
      return v;
    }
    case NodeType::kNot: {
      VOUCH_ASSIGN_OR_RETURN(Val v, eval(*node.children[0], current));
      return Val::own(bj::value(!is_truthy(*v)));
    }
    case NodeType::kComparator: return compare(node, current);
    case NodeType::kMultiSelectList: {
      if (cur.is_null()) return Val();
      bj::array out;
      out.reserve(node.children.size());
      for (const auto& child : node.children) {
        VOUCH_ASSIGN_OR_RETURN(Val r, eval(*child, current));
        VOUCH_ASSIGN_OR_RETURN(bj::value copied, copy(*r));
        out.push_back(std::move(copied));
      }
      return Val::own(std::move(out));
    }
    case NodeType::kMultiSelectHash: {
      if (cur.is_null()) return Val();
      bj::object out;
      for (size_t i = 0; i < node.children.size(); ++i) {
        VOUCH_ASSIGN_OR_RETURN(Val r, eval(*node.children[i], current));
        VOUCH_ASSIGN_OR_RETURN(bj::value copied, copy(*r));
        VOUCH_RETURN_IF_ERROR(charge_steps(1));
        out[node.keys[i]] = std::move(copied);
      }
      return Val::own(std::move(out));
    }
    case NodeType::kFunctionCall: return call(node, current);
    case NodeType::kExpref:
      return make_error(ErrorKind::kInvalidType,
                        fmt::format("expression reference at position {} used outside a function argument", node.position));
  }
  return internal_error("jmespath: unknown syntax tree node");
}

Result<Val> Interpreter::compare(const Node& node, const Val& current) const {
  VOUCH_ASSIGN_OR_RETURN(Val lhs, eval(*node.children[0], current));
  VOUCH_ASSIGN_OR_RETURN(Val rhs, eval(*node.children[1], current));
  switch (node.comparator) {
    case Comparator::kEq: return Val::own(bj::value(values_equal(*lhs, *rhs)));
    case Comparator::kNe: return Val::own(bj::value(!values_equal(*lhs, *rhs)));
    default: break;
  }
  if (!is_number(*lhs) || !is_number(*rhs)) return Val();
  int c = numbers_compare(*lhs, *rhs);
  bool r = false;
  switch (node.comparator) {
    case Comparator::kLt: r = c < 0; break;
    case Comparator::kLe: r = c <= 0; break;
    case Comparator::kGt: r = c > 0; break;
    default: r = c >= 0; break;
  }
  return Val::own(bj::value(r));
}

Result<Val> Interpreter::call(const Node& node, const Val& current) const {
  const Function* f = node.function;
  if (f == nullptr) f = functions_->find(node.name);
  if (f == nullptr) return make_error(ErrorKind::kUnknownFunction, fmt::format("unknown function {}()", node.name));
  std::vector<Val> held;
  held.reserve(node.children.size());
  std::vector<Argument> args;
  args.reserve(node.children.size());
  for (const auto& child : node.children) {
    if (child->type == NodeType::kExpref) {
      held.emplace_back();
      args.emplace_back(&null_value(), child->children[0].get());
    } else {
      VOUCH_ASSIGN_OR_RETURN(Val v, eval(*child, current));
      VOUCH_RETURN_IF_ERROR(charge_steps(argument_steps(*v)));
      held.push_back(std::move(v));
      args.emplace_back(&held.back().get(), nullptr);
    }
  }
  VOUCH_RETURN_IF_ERROR(check_types(*f, args));
  CallContext ctx(this, f->name);
  VOUCH_ASSIGN_OR_RETURN(bj::value result, f->impl(args, ctx));
  VOUCH_RETURN_IF_ERROR(charge_value(result));
  return Val::own(std::move(result));
}

}  // namespace detail

Result<bj::value> CallContext::apply(const Argument& expref, const bj::value& current) const {
  if (expref.expref_ == nullptr) {
    return make_error(ErrorKind::kInvalidType, fmt::format("{}(): expected an expression reference", name_));
  }
  VOUCH_ASSIGN_OR_RETURN(detail::Val v, interp_->eval(*expref.expref_, detail::Val::borrow(current)));
  return interp_->copy(v.get());
}

Status CallContext::check_room(uint64_t bytes) const { return interp_->check_room(bytes); }

uint64_t CallContext::bytes_left() const { return interp_->bytes_left(); }

Status CallContext::charge_steps(uint64_t steps) const { return interp_->charge_steps(steps); }

// ---------------------------------------------------------------- Expression

Result<Expression> Expression::compile(std::string_view text, std::shared_ptr<const FunctionRegistry> functions,
                                       const Limits& limits) {
  if (!functions) functions = FunctionRegistry::standard();
  VOUCH_ASSIGN_OR_RETURN(auto root, detail::parse(text, *functions, limits));
  Expression e;
  e.text_ = std::string(text);
  e.root_ = std::shared_ptr<const detail::Node>(std::move(root));
  e.functions_ = std::move(functions);
  e.budget_ = limits.budget;
  return e;
}

Result<bj::value> Expression::search(const bj::value& data) const {
  detail::Interpreter interp(functions_.get(), budget_);
  VOUCH_ASSIGN_OR_RETURN(detail::Val v, interp.eval(*root_, detail::Val::borrow(data)));
  return v.get();
}

Result<bj::value> search(std::string_view expression, const bj::value& data,
                         std::shared_ptr<const FunctionRegistry> functions) {
  VOUCH_ASSIGN_OR_RETURN(Expression e, Expression::compile(expression, std::move(functions)));
  return e.search(data);
}

}  // namespace vouch::policy::jmespath
