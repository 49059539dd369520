// The environment, compilation (name resolution prepared once) and the tree-walking evaluator
// with CEL's error semantics and a cost counter.
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "ast.h"
#include "format.h"
#include "internal.h"
#include "wire.h"

namespace vouch::cel {

const FieldType* MessageType::field(std::string_view name) const {
  for (const auto& f : fields)
    if (f.name == name) return &f;
  return nullptr;
}

Libraries Libraries::kubernetes() {
  Libraries l;
  l.strings = l.lists = l.regex = l.url = l.quantity = l.ip = true;
  l.sets = true;
  return l;
}

Libraries Libraries::all() {
  Libraries l = kubernetes();
  l.math = l.encoders = true;
  return l;
}

Environment::Environment(EnvironmentOptions options) : state_(std::make_shared<State>()) {
  state_->options = std::move(options);
  register_standard(*state_);
  const Libraries& l = state_->options.libraries;
  if (l.strings) register_strings_ext(*state_);
  if (l.lists) register_lists_ext(*state_);
  if (l.regex) register_regex_ext(*state_);
  if (l.url) register_url_ext(*state_);
  if (l.quantity) register_quantity_ext(*state_);
  if (l.ip) register_ip_ext(*state_);
  if (l.math) register_math_ext(*state_);
  if (l.encoders) register_encoders_ext(*state_);
  if (l.sets) register_sets_ext(*state_);
}

namespace {
// Programs keep the state they were compiled with; an environment changed afterwards copies it.
void own(std::shared_ptr<Environment::State>& s) {
  if (s.use_count() > 1) s = std::make_shared<Environment::State>(*s);
}
}  // namespace

void Environment::add_overload(Overload overload) {
  own(state_);
  std::string name = overload.name;
  state_->functions[name].overloads.push_back(std::move(overload));
}

void Environment::add_message_type(MessageType type) {
  own(state_);
  std::string name = type.name;
  state_->messages[name] = std::move(type);
}

void Environment::add_enum_constant(std::string qualified_name, int64_t value) {
  own(state_);
  state_->enums[std::move(qualified_name)] = value;
}

const EnvironmentOptions& Environment::options() const { return state_->options; }

struct Program::Impl {
  std::string source;
  std::unique_ptr<Expr> root;
  std::shared_ptr<const Environment::State> env;
};

const std::string& Program::source() const { return impl_->source; }

namespace {

// The names `name` may stand for in `container`, most specific first: a.b container, x name →
// a.b.x, a.x, x. A leading dot names the root only.
std::vector<std::string> candidate_names(std::string_view container, std::string_view name) {
  std::vector<std::string> out;
  if (!name.empty() && name[0] == '.') {
    out.emplace_back(name.substr(1));
    return out;
  }
  std::string c(container);
  while (!c.empty()) {
    out.push_back(c + "." + std::string(name));
    size_t dot = c.rfind('.');
    c = dot == std::string::npos ? "" : c.substr(0, dot);
  }
  out.emplace_back(name);
  return out;
}

// The qualified name a select chain spells (`a.b.c`), or "" when it is not a plain chain.
std::string chain_name(const Expr& e, size_t& length) {
  if (e.kind == ExprKind::kIdent) {
    length = 0;
    return (e.leading_dot ? "." : "") + e.name;
  }
  if (e.kind == ExprKind::kSelect && !e.test_only && !e.optional && e.target) {
    std::string prefix = chain_name(*e.target, length);
    if (prefix.empty()) return "";
    ++length;
    return prefix + "." + e.name;
  }
  return "";
}

const Expr* chain_root(const Expr& e) {
  const Expr* p = &e;
  while (p->kind == ExprKind::kSelect) p = p->target.get();
  return p;
}

void prepare(Expr& e, const Environment::State& env) {
  // Children first; iterative depth is bounded by the parser's tree-depth limit.
  if (e.target) prepare(*e.target, env);
  for (auto& a : e.args) prepare(*a, env);
  const std::string& container = env.options.container;
  switch (e.kind) {
    case ExprKind::kIdent:
      e.candidates = candidate_names(container, (e.leading_dot ? "." : "") + e.name);
      break;
    case ExprKind::kSelect: {
      size_t length = 0;
      std::string name = chain_name(e, length);
      if (!name.empty()) {
        e.candidates = candidate_names(container, name);
        e.chain_length = length;
      }
      break;
    }
    case ExprKind::kStruct:
      e.candidates = candidate_names(container, e.name);
      break;
    case ExprKind::kCall: {
      // `ns.f(x)` is the global function "ns.f" when one is declared.
      if (e.target) {
        size_t length = 0;
        std::string prefix = chain_name(*e.target, length);
        if (!prefix.empty()) {
          for (const auto& candidate : candidate_names(container, prefix + "." + e.name)) {
            auto it = env.functions.find(candidate);
            if (it == env.functions.end()) continue;
            bool global = false;
            for (const auto& o : it->second.overloads) global = global || !o.receiver;
            if (!global) continue;
            e.name = candidate;
            e.target.reset();
            break;
          }
        }
      } else {
        std::string name = e.name;
        for (const auto& candidate : candidate_names(container, name)) {
          if (env.functions.count(candidate)) {
            e.name = candidate;
            break;
          }
        }
      }
      auto it = env.functions.find(e.name);
      if (it != env.functions.end()) e.overloads = &it->second;
      break;
    }
    default: break;
  }
}

const char* kBuiltinTypes[] = {"int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type",
                               "google.protobuf.Timestamp", "google.protobuf.Duration", "optional_type"};

class Evaluator {
 public:
  Evaluator(const Environment::State& env, const Activation& vars, uint64_t limit)
      : env_(env), vars_(vars), limit_(limit) {}

  Value eval(const Expr& e) {
    if (!charge(1)) return exceeded();
    switch (e.kind) {
      case ExprKind::kConst: return e.constant;
      case ExprKind::kIdent: return ident(e);
      case ExprKind::kSelect: return select(e);
      case ExprKind::kCall: return call(e);
      case ExprKind::kList: return list(e);
      case ExprKind::kMap: return map(e);
      case ExprKind::kStruct: return structure(e);
      case ExprKind::kComprehension: return comprehension(e);
      case ExprKind::kAnd: return logic(e, false);
      case ExprKind::kOr: return logic(e, true);
      case ExprKind::kConditional: {
        Value c = eval(*e.args[0]);
        if (c.is_error()) return c;
        if (!c.is(Kind::kBool)) return Value::no_overload("_?_:_");
        return eval(*e.args[c.as_bool() ? 1 : 2]);
      }
    }
    return Value::error("unknown expression");
  }

  bool over_limit() const { return over_; }
  uint64_t cost() const { return cost_; }

 private:
  bool charge(uint64_t n) {
    cost_ += n;
    if (cost_ > limit_) over_ = true;
    return !over_;
  }
  Value exceeded() { return Value::error(fmt::format("operation cancelled: actual cost limit exceeded ({})", limit_)); }

  const Value* local(std::string_view name) const {
    for (auto it = locals_.rbegin(); it != locals_.rend(); ++it)
      if (it->first == name) return &it->second;
    return nullptr;
  }

  // A variable, enum constant or type named by `name`, or nullopt.
  std::optional<Value> named(const std::string& name) const {
    if (const Value* v = vars_.find(name)) return *v;
    if (auto it = env_.enums.find(name); it != env_.enums.end()) return Value::integer(it->second);
    for (const char* t : kBuiltinTypes)
      if (name == t) return Value::type(name);
    if (env_.messages.count(name) || env_.opaque_types.count(name)) return Value::type(name);
    static const char* kWellKnown[] = {"google.protobuf.Int32Value", "google.protobuf.Int64Value",
                                       "google.protobuf.UInt32Value", "google.protobuf.UInt64Value",
                                       "google.protobuf.FloatValue", "google.protobuf.DoubleValue",
                                       "google.protobuf.BoolValue", "google.protobuf.StringValue",
                                       "google.protobuf.BytesValue", "google.protobuf.Value",
                                       "google.protobuf.Struct", "google.protobuf.ListValue", "google.protobuf.Any"};
    for (const char* t : kWellKnown)
      if (name == t) return Value::type(name);
    return std::nullopt;
  }

  Value ident(const Expr& e) {
    if (!e.leading_dot)
      if (const Value* v = local(e.name)) return *v;
    for (const auto& c : e.candidates)
      if (auto v = named(c)) return *v;
    return Value::error(fmt::format("undeclared reference to '{}' (in container '{}')", e.name, env_.options.container));
  }

  Value select(const Expr& e) {
    if (!e.candidates.empty()) {
      const Expr* root = chain_root(e);
      if (root->leading_dot || !local(root->name)) {
        for (const auto& c : e.candidates)
          if (auto v = named(c)) return *v;
      }
    }
    Value operand = eval(*e.target);
    if (operand.is_error()) return operand;
    return select_field(operand, e.name, e.test_only, e.optional);
  }

  Value select_field(const Value& operand, const std::string& field, bool test_only, bool optional) {
    if (operand.is(Kind::kOptional)) {
      const Value* inner = operand.optional_value();
      if (!inner) return test_only ? Value::boolean(false) : operand;
      return select_field(*inner, field, test_only, !test_only);
    }
    if (operand.is(Kind::kMap)) {
      const Value* v = operand.as_map().find(Value::string(field));
      if (test_only) return Value::boolean(v != nullptr);
      if (optional) return v ? Value::optional_of(*v) : Value::optional_none();
      if (!v) return Value::error(fmt::format("no such key: {}", field));
      return *v;
    }
    if (operand.is(Kind::kMessage)) {
      const Message& m = operand.as_message();
      const Value* v = m.find(field);
      auto type = env_.messages.find(m.type_name);
      const FieldType* ft = type == env_.messages.end() ? nullptr : type->second.field(field);
      if (!ft && !v) return Value::error(fmt::format("no such field: {}", field));
      if (test_only) {
        if (!v) return Value::boolean(false);
        if (v->is(Kind::kList)) return Value::boolean(!v->as_list().empty());
        if (v->is(Kind::kMap)) return Value::boolean(v->as_map().size() != 0);
        return Value::boolean(true);
      }
      if (optional) {
        if (!v) return Value::optional_none();
        return Value::optional_of(*v);
      }
      if (v) return *v;
      return default_value(*ft);
    }
    if (test_only) return Value::error(fmt::format("invalid type for field selection: {}", operand.type_name()));
    return Value::error(fmt::format("no such key or field '{}' on {}", field, operand.type_name()));
  }

  Value default_value(const FieldType& f) {
    if (f.explicit_default) return *f.explicit_default;
    switch (f.kind) {
      case FieldType::Kind::kBool: return Value::boolean(false);
      case FieldType::Kind::kInt32: case FieldType::Kind::kInt64: case FieldType::Kind::kEnum: return Value::integer(0);
      case FieldType::Kind::kUint32: case FieldType::Kind::kUint64: return Value::uint(0);
      case FieldType::Kind::kFloat: case FieldType::Kind::kDouble: return Value::dbl(0);
      case FieldType::Kind::kString: return Value::string("");
      case FieldType::Kind::kBytes: return Value::bytes("");
      case FieldType::Kind::kList: return Value::list({});
      case FieldType::Kind::kMap: return Value::map({});
      case FieldType::Kind::kMessage: {
        const std::string& t = f.message_type;
        if (t == "google.protobuf.Timestamp") return Value::timestamp({});
        if (t == "google.protobuf.Duration") return Value::duration({});
        if (t == "google.protobuf.Struct") return Value::map({});
        if (t == "google.protobuf.ListValue") return Value::list({});
        if (t.rfind("google.protobuf.", 0) == 0) return Value::null();
        Message m;
        m.type_name = t;
        return Value::message(std::move(m));
      }
    }
    return Value::null();
  }

  Value call(const Expr& e) {
    std::vector<Value> args;
    args.reserve(e.args.size() + (e.target ? 1 : 0));
    if (e.target) {
      Value t = eval(*e.target);
      if (t.is_error()) return t;
      args.push_back(std::move(t));
    }
    for (const auto& a : e.args) {
      Value v = eval(*a);
      if (v.is_error()) return v;
      args.push_back(std::move(v));
    }
    if (over_) return exceeded();
    if (!e.overloads) {
      if (e.target) return Value::no_overload(e.name);
      return Value::error(fmt::format("undeclared reference to '{}' (in container '{}')", e.name, env_.options.container));
    }
    bool receiver = e.target != nullptr;
    for (const auto& o : e.overloads->overloads) {
      if (o.receiver != receiver || o.args.size() != args.size()) continue;
      bool match = true;
      for (size_t k = 0; k < args.size() && match; ++k)
        match = !o.args[k] || *o.args[k] == args[k].kind();
      if (!match) continue;
      if (!charge(o.cost ? o.cost(args) : size_cost(args))) return exceeded();
      Value r = o.fn(args);
      // An overload that accepts any kinds declines with "no such overload"; a later, more
      // specific one (an extension's) may still apply.
      if (r.is_error() && r.error_message().rfind("no such overload", 0) == 0) continue;
      return r;
    }
    return Value::no_overload(e.name);
  }

  Value list(const Expr& e) {
    List items;
    items.reserve(e.args.size());
    for (size_t k = 0; k < e.args.size(); ++k) {
      Value v = eval(*e.args[k]);
      if (v.is_error()) return v;
      if (e.optional_entries[k]) {
        if (!v.is(Kind::kOptional)) return Value::no_overload("optional list element");
        if (const Value* inner = v.optional_value()) items.push_back(*inner);
        continue;
      }
      items.push_back(std::move(v));
    }
    return Value::list(std::move(items));
  }

  Value map(const Expr& e) {
    Map m;
    for (size_t k = 0; k < e.optional_entries.size(); ++k) {
      Value key = eval(*e.args[2 * k]);
      if (key.is_error()) return key;
      Value value = eval(*e.args[2 * k + 1]);
      if (value.is_error()) return value;
      if (!map_key(key) || key.is(Kind::kDouble))
        return Value::error(fmt::format("unsupported key type: {}", key.type_name()));
      if (e.optional_entries[k]) {
        if (!value.is(Kind::kOptional)) return Value::no_overload("optional map entry");
        const Value* inner = value.optional_value();
        if (!inner) continue;
        value = Value(*inner);
      }
      if (!m.insert(key, std::move(value))) return Value::error(fmt::format("Failed with repeated key: {}", key.debug_string()));
    }
    return Value::map(std::move(m));
  }

  Value structure(const Expr& e);
  Value comprehension(const Expr& e);

  Value logic(const Expr& e, bool is_or) {
    // Either side decides when it has the absorbing value; errors count only otherwise.
    Value l = eval(*e.args[0]);
    if (over_) return exceeded();
    if (l.is(Kind::kBool) && l.as_bool() == is_or) return l;
    Value r = eval(*e.args[1]);
    if (over_) return exceeded();
    if (r.is(Kind::kBool) && r.as_bool() == is_or) return r;
    if (l.is_error()) return l;
    if (r.is_error()) return r;
    if (!l.is(Kind::kBool) || !r.is(Kind::kBool)) return Value::no_overload(is_or ? "_||_" : "_&&_");
    return Value::boolean(!is_or);
  }

  struct Scope {
    Scope(std::vector<std::pair<std::string_view, Value>>& locals, size_t n) : locals_(locals), size_(locals.size()) {
      locals_.resize(size_ + n);
    }
    ~Scope() { locals_.resize(size_); }
    std::vector<std::pair<std::string_view, Value>>& locals_;
    size_t size_;
  };

  const Environment::State& env_;
  const Activation& vars_;
  uint64_t limit_;
  uint64_t cost_ = 0;
  bool over_ = false;
  std::vector<std::pair<std::string_view, Value>> locals_;
};

Value convert_field(const FieldType& f, const Value& v, const Environment::State& env);

Value convert_scalar(FieldType::Kind kind, const Value& v) {
  using K = FieldType::Kind;
  switch (kind) {
    case K::kBool: return v.is(Kind::kBool) ? v : Value::error("unsupported field type");
    case K::kInt32: case K::kEnum:
      if (!v.is(Kind::kInt)) return Value::error("unsupported field type");
      if (v.as_int() < std::numeric_limits<int32_t>::min() || v.as_int() > std::numeric_limits<int32_t>::max())
        return range_error("int32 field");
      return v;
    case K::kInt64: return v.is(Kind::kInt) ? v : Value::error("unsupported field type");
    case K::kUint32:
      if (!v.is(Kind::kUint)) return Value::error("unsupported field type");
      if (v.as_uint() > std::numeric_limits<uint32_t>::max()) return range_error("uint32 field");
      return v;
    case K::kUint64: return v.is(Kind::kUint) ? v : Value::error("unsupported field type");
    case K::kFloat:
      if (!v.is(Kind::kDouble)) return Value::error("unsupported field type");
      return Value::dbl(static_cast<double>(static_cast<float>(v.as_double())));
    case K::kDouble: return v.is(Kind::kDouble) ? v : Value::error("unsupported field type");
    case K::kString: return v.is(Kind::kString) ? v : Value::error("unsupported field type");
    case K::kBytes: return v.is(Kind::kBytes) ? v : Value::error("unsupported field type");
    default: return Value::error("unsupported field type");
  }
}

// JSON-shaped value for google.protobuf.Value fields: numbers become doubles.
Value to_json_value(const Value& v) {
  switch (v.kind()) {
    case Kind::kNull: case Kind::kBool: case Kind::kString: case Kind::kDouble: return v;
    case Kind::kInt: return Value::dbl(static_cast<double>(v.as_int()));
    case Kind::kUint: return Value::dbl(static_cast<double>(v.as_uint()));
    case Kind::kList: {
      List out;
      for (const auto& x : v.as_list()) {
        Value j = to_json_value(x);
        if (j.is_error()) return j;
        out.push_back(std::move(j));
      }
      return Value::list(std::move(out));
    }
    case Kind::kMap: {
      Map out;
      for (const auto& [k, x] : v.as_map().entries()) {
        if (!k.is(Kind::kString)) return Value::error("bad key type");
        Value j = to_json_value(x);
        if (j.is_error()) return j;
        out.insert(k, std::move(j));
      }
      return Value::map(std::move(out));
    }
    case Kind::kBytes: return Value::error("unsupported field type");
    case Kind::kDuration: return Value::string(format_duration(v.as_duration()));
    case Kind::kTimestamp: return Value::string(format_timestamp(v.as_timestamp()));
    default: return Value::error("unsupported field type");
  }
}

Value convert_message_field(const std::string& type, const Value& v) {
  static const std::map<std::string, FieldType::Kind, std::less<>> kWrappers = {
      {"google.protobuf.BoolValue", FieldType::Kind::kBool},     {"google.protobuf.Int32Value", FieldType::Kind::kInt32},
      {"google.protobuf.Int64Value", FieldType::Kind::kInt64},   {"google.protobuf.UInt32Value", FieldType::Kind::kUint32},
      {"google.protobuf.UInt64Value", FieldType::Kind::kUint64}, {"google.protobuf.FloatValue", FieldType::Kind::kFloat},
      {"google.protobuf.DoubleValue", FieldType::Kind::kDouble}, {"google.protobuf.StringValue", FieldType::Kind::kString},
      {"google.protobuf.BytesValue", FieldType::Kind::kBytes}};
  if (auto it = kWrappers.find(type); it != kWrappers.end()) return convert_scalar(it->second, v);
  if (type == "google.protobuf.Timestamp")
    return v.is(Kind::kTimestamp) ? v : Value::error("unsupported field type");
  if (type == "google.protobuf.Duration") return v.is(Kind::kDuration) ? v : Value::error("unsupported field type");
  if (type == "google.protobuf.Value") return to_json_value(v);
  if (type == "google.protobuf.Struct") {
    if (!v.is(Kind::kMap)) return Value::error("unsupported field type");
    return to_json_value(v);
  }
  if (type == "google.protobuf.ListValue") {
    if (!v.is(Kind::kList)) return Value::error("unsupported field type");
    return to_json_value(v);
  }
  if (type == "google.protobuf.Any") return v;
  if (v.is(Kind::kMessage) && v.as_message().type_name == type) return v;
  return Value::error("unsupported field type");
}

Value convert_field(const FieldType& f, const Value& v, const Environment::State& env) {
  using K = FieldType::Kind;
  if (f.kind == K::kList) {
    if (!v.is(Kind::kList)) return Value::error("unsupported field type");
    List out;
    for (const auto& x : v.as_list()) {
      Value c = convert_field(*f.element, x, env);
      if (c.is_error()) return c;
      out.push_back(std::move(c));
    }
    return Value::list(std::move(out));
  }
  if (f.kind == K::kMap) {
    if (!v.is(Kind::kMap)) return Value::error("unsupported field type");
    Map out;
    for (const auto& [k, x] : v.as_map().entries()) {
      Value ck = convert_field(*f.key, k, env);
      if (ck.is_error()) return ck;
      Value c = convert_field(*f.element, x, env);
      if (c.is_error()) return c;
      out.insert(std::move(ck), std::move(c));
    }
    return Value::map(std::move(out));
  }
  if (f.kind == K::kMessage) return convert_message_field(f.message_type, v);
  return convert_scalar(f.kind, v);
}

bool is_default(const Value& v) {
  switch (v.kind()) {
    case Kind::kBool: return !v.as_bool();
    case Kind::kInt: return v.as_int() == 0;
    case Kind::kUint: return v.as_uint() == 0;
    case Kind::kDouble: return v.as_double() == 0 && !std::signbit(v.as_double());
    case Kind::kString: return v.as_string().empty();
    case Kind::kBytes: return v.as_bytes().empty();
    case Kind::kList: return v.as_list().empty();
    case Kind::kMap: return v.as_map().size() == 0;
    default: return false;
  }
}

Value Evaluator::structure(const Expr& e) {
  std::vector<Value> values;
  for (const auto& a : e.args) {
    Value v = eval(*a);
    if (v.is_error()) return v;
    values.push_back(std::move(v));
  }
  std::string type;
  for (const auto& c : e.candidates) {
    if (env_.messages.count(c) || c.rfind("google.protobuf.", 0) == 0) {
      type = c;
      break;
    }
  }
  if (type.empty()) return Value::error(fmt::format("unknown type: {}", e.name));
  auto field_value = [&](std::string_view name) -> const Value* {
    for (size_t k = 0; k < e.field_names.size(); ++k)
      if (e.field_names[k] == name) return &values[k];
    return nullptr;
  };
  // Well-known types construct the CEL values they stand for.
  if (type.rfind("google.protobuf.", 0) == 0 && !env_.messages.count(type)) {
    if (type == "google.protobuf.Timestamp" || type == "google.protobuf.Duration") {
      int64_t seconds = 0;
      int32_t nanos = 0;
      for (size_t k = 0; k < e.field_names.size(); ++k) {
        if (e.field_names[k] == "seconds" && values[k].is(Kind::kInt)) seconds = values[k].as_int();
        else if (e.field_names[k] == "nanos" && values[k].is(Kind::kInt)) nanos = static_cast<int32_t>(values[k].as_int());
        else return Value::error(fmt::format("no such field: {}", e.field_names[k]));
      }
      if (type == "google.protobuf.Timestamp") {
        Timestamp t{seconds, nanos};
        if (!timestamp_in_range(t)) return range_error("timestamp");
        return Value::timestamp(t);
      }
      Duration d{seconds, nanos};
      if (!duration_in_range(d)) return range_error("duration");
      return Value::duration(d);
    }
    if (type == "google.protobuf.Value") {
      if (values.empty()) return Value::null();
      return to_json_value(values[0]);
    }
    if (type == "google.protobuf.Struct") {
      const Value* f = field_value("fields");
      return f ? to_json_value(*f) : Value::map({});
    }
    if (type == "google.protobuf.ListValue") {
      const Value* f = field_value("values");
      return f ? to_json_value(*f) : Value::list({});
    }
    if (type == "google.protobuf.Any") {
      const Value* url = field_value("type_url");
      const Value* payload = field_value("value");
      if ((url && !url->is(Kind::kString)) || (payload && !payload->is(Kind::kBytes)))
        return Value::error("unsupported field type");
      return unpack_any(url ? url->as_string() : "", payload ? payload->as_bytes() : "", env_);
    }
    for (size_t k = 0; k < e.field_names.size(); ++k)
      if (e.field_names[k] != "value") return Value::error(fmt::format("no such field: {}", e.field_names[k]));
    FieldType wrapper;
    wrapper.kind = FieldType::Kind::kMessage;
    wrapper.message_type = type;
    const Value* v = field_value("value");
    if (!v) {
      FieldType inner;
      static const std::map<std::string, FieldType::Kind, std::less<>> kinds = {
          {"google.protobuf.BoolValue", FieldType::Kind::kBool},     {"google.protobuf.Int32Value", FieldType::Kind::kInt32},
          {"google.protobuf.Int64Value", FieldType::Kind::kInt64},   {"google.protobuf.UInt32Value", FieldType::Kind::kUint32},
          {"google.protobuf.UInt64Value", FieldType::Kind::kUint64}, {"google.protobuf.FloatValue", FieldType::Kind::kFloat},
          {"google.protobuf.DoubleValue", FieldType::Kind::kDouble}, {"google.protobuf.StringValue", FieldType::Kind::kString},
          {"google.protobuf.BytesValue", FieldType::Kind::kBytes}};
      auto it = kinds.find(type);
      if (it == kinds.end()) return Value::error(fmt::format("unknown type: {}", type));
      inner.kind = it->second;
      return default_value(inner);
    }
    return convert_message_field(type, *v);
  }
  const MessageType& mt = env_.messages.find(type)->second;
  Message m;
  m.type_name = type;
  for (size_t k = 0; k < e.field_names.size(); ++k) {
    const FieldType* f = mt.field(e.field_names[k]);
    if (!f) return Value::error(fmt::format("no such field: {}", e.field_names[k]));
    Value v = values[k];
    if (e.optional_entries[k]) {
      if (!v.is(Kind::kOptional)) return Value::no_overload("optional field");
      if (!v.optional_value()) continue;
      v = Value(*v.optional_value());
    }
    if (v.is(Kind::kNull) && (f->kind == FieldType::Kind::kMessage)) {
      if (f->message_type == "google.protobuf.Value") {
        m.fields.emplace_back(f->name, Value::null());
      }
      continue;
    }
    Value c = convert_field(*f, v, env_);
    if (c.is_error()) return c;
    if (!mt.proto2 && !f->in_oneof && !f->has_presence && f->kind != FieldType::Kind::kMessage && is_default(c)) continue;
    if (f->kind == FieldType::Kind::kList || f->kind == FieldType::Kind::kMap) {
      if (is_default(c)) continue;
    }
    m.fields.emplace_back(f->name, std::move(c));
  }
  return Value::message(std::move(m));
}

Value Evaluator::comprehension(const Expr& e) {
  if (e.macro == MacroKind::kBlock) {
    // Each slot is bound before the next is evaluated; an error stays in its slot and
    // matters only where the slot is read.
    size_t slots = e.args.size() - 1;
    Scope scope(locals_, 0);
    std::vector<std::string> names;
    names.reserve(slots);
    for (size_t k = 0; k < slots; ++k) names.push_back(fmt::format("@index{}", k));
    for (size_t k = 0; k < slots; ++k) {
      Value v = eval(*e.args[k]);
      if (over_) return exceeded();
      locals_.emplace_back(names[k], std::move(v));
    }
    return eval(*e.args[slots]);
  }
  Value range = eval(*e.args[0]);
  if (range.is_error()) return range;
  switch (e.macro) {
    case MacroKind::kBind: {
      Scope scope(locals_, 1);
      locals_.back() = {e.var1, range};
      return eval(*e.args[1]);
    }
    case MacroKind::kOptMap:
    case MacroKind::kOptFlatMap: {
      if (!range.is(Kind::kOptional)) return Value::no_overload(e.macro == MacroKind::kOptMap ? "optMap" : "optFlatMap");
      const Value* inner = range.optional_value();
      if (!inner) return range;
      Scope scope(locals_, 1);
      locals_.back() = {e.var1, *inner};
      Value r = eval(*e.args[1]);
      if (r.is_error() || e.macro == MacroKind::kOptFlatMap) {
        if (!r.is_error() && !r.is(Kind::kOptional)) return Value::no_overload("optFlatMap");
        return r;
      }
      return Value::optional_of(std::move(r));
    }
    default: break;
  }
  bool two = !e.var2.empty();
  size_t n;
  if (range.is(Kind::kList)) n = range.as_list().size();
  else if (range.is(Kind::kMap)) n = range.as_map().size();
  else return Value::no_overload("comprehension over " + range.type_name());
  Scope scope(locals_, two ? 2 : 1);
  size_t slot = locals_.size() - (two ? 2 : 1);
  locals_[slot].first = e.var1;
  if (two) locals_[slot + 1].first = e.var2;
  auto bind = [&](size_t k) {
    if (range.is(Kind::kList)) {
      if (two) {
        locals_[slot].second = Value::integer(static_cast<int64_t>(k));
        locals_[slot + 1].second = range.as_list()[k];
      } else {
        locals_[slot].second = range.as_list()[k];
      }
    } else {
      const auto& entry = range.as_map().entries()[k];
      locals_[slot].second = entry.first;
      if (two) locals_[slot + 1].second = entry.second;
    }
  };
  const Expr* predicate = e.args.size() > 1 ? e.args[1].get() : nullptr;
  switch (e.macro) {
    case MacroKind::kAll:
    case MacroKind::kExists: {
      bool absorbing = e.macro == MacroKind::kExists;  // exists stops at true, all at false
      std::optional<Value> error;
      for (size_t k = 0; k < n; ++k) {
        if (!charge(1)) return exceeded();
        bind(k);
        Value p = eval(*predicate);
        if (over_) return exceeded();
        if (p.is(Kind::kBool)) {
          if (p.as_bool() == absorbing) return p;
        } else if (!error) {
          error = p.is_error() ? p : Value::no_overload(absorbing ? "exists" : "all");
        }
      }
      if (error) return *error;
      return Value::boolean(!absorbing);
    }
    case MacroKind::kExistsOne: {
      int64_t count = 0;
      for (size_t k = 0; k < n; ++k) {
        if (!charge(1)) return exceeded();
        bind(k);
        Value p = eval(*predicate);
        if (p.is_error()) return p;
        if (!p.is(Kind::kBool)) return Value::no_overload("exists_one");
        if (p.as_bool()) ++count;
      }
      return Value::boolean(count == 1);
    }
    case MacroKind::kMap:
    case MacroKind::kMapFilter:
    case MacroKind::kFilter:
    case MacroKind::kTransformList: {
      List out;
      const Expr* filter = nullptr;
      const Expr* transform = nullptr;
      if (e.macro == MacroKind::kMap) transform = e.args[1].get();
      else if (e.macro == MacroKind::kFilter) filter = e.args[1].get();
      else if (e.macro == MacroKind::kMapFilter || e.has_filter) filter = e.args[1].get(), transform = e.args[2].get();
      else transform = e.args[1].get();
      for (size_t k = 0; k < n; ++k) {
        if (!charge(1)) return exceeded();
        bind(k);
        if (filter) {
          Value p = eval(*filter);
          if (p.is_error()) return p;
          if (!p.is(Kind::kBool)) return Value::no_overload("filter");
          if (!p.as_bool()) continue;
        }
        if (transform) {
          Value t = eval(*transform);
          if (t.is_error()) return t;
          out.push_back(std::move(t));
        } else {
          out.push_back(locals_[slot].second);
        }
      }
      return Value::list(std::move(out));
    }
    case MacroKind::kTransformMap:
    case MacroKind::kTransformMapEntry: {
      Map out;
      const Expr* filter = e.has_filter ? e.args[1].get() : nullptr;
      const Expr* transform = e.args[e.has_filter ? 2 : 1].get();
      for (size_t k = 0; k < n; ++k) {
        if (!charge(1)) return exceeded();
        bind(k);
        if (filter) {
          Value p = eval(*filter);
          if (p.is_error()) return p;
          if (!p.is(Kind::kBool)) return Value::no_overload("transformMap");
          if (!p.as_bool()) continue;
        }
        Value t = eval(*transform);
        if (t.is_error()) return t;
        if (e.macro == MacroKind::kTransformMap) {
          if (!out.insert(locals_[slot].second, std::move(t)))
            return Value::error("transformMap: repeated key");
        } else {
          if (!t.is(Kind::kMap)) return Value::no_overload("transformMapEntry");
          for (const auto& [mk, mv] : t.as_map().entries())
            if (!out.insert(mk, mv)) return Value::error(fmt::format("insert failed: key {} already exists", mk.debug_string()));
        }
      }
      return Value::map(std::move(out));
    }
    default: break;
  }
  return Value::error("unsupported comprehension");
}

}  // namespace

Result<Program> Environment::compile(std::string_view source) const {
  VOUCH_ASSIGN_OR_RETURN(auto root, parse(source, state_->options.parse_limits, state_->options.enable_macros));
  prepare(*root, *state_);
  auto impl = std::make_shared<Program::Impl>();
  impl->source = std::string(source);
  impl->root = std::move(root);
  impl->env = state_;
  Program p;
  p.impl_ = std::move(impl);
  return p;
}

Result<EvalResult> Program::evaluate(const Activation& vars, const EvalOptions& options) const {
  Evaluator ev(*impl_->env, vars, options.cost_limit);
  Value v = ev.eval(*impl_->root);
  if (ev.over_limit())
    return invalid_input(fmt::format("CEL expression exceeded its cost limit of {}", options.cost_limit));
  return EvalResult{std::move(v), ev.cost()};
}

Result<Value> Program::evaluate_value(const Activation& vars, const EvalOptions& options) const {
  VOUCH_ASSIGN_OR_RETURN(auto r, evaluate(vars, options));
  if (r.value.is_error()) return invalid_input(fmt::format("CEL evaluation error: {}", r.value.error_message()));
  return std::move(r.value);
}

Value from_json(const boost::json::value& json) {
  switch (json.kind()) {
    case boost::json::kind::null: return Value::null();
    case boost::json::kind::bool_: return Value::boolean(json.get_bool());
    case boost::json::kind::int64: return Value::integer(json.get_int64());
    case boost::json::kind::uint64: {
      uint64_t u = json.get_uint64();
      if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return Value::integer(static_cast<int64_t>(u));
      return Value::uint(u);
    }
    case boost::json::kind::double_: return Value::dbl(json.get_double());
    case boost::json::kind::string: return Value::string(std::string(json.get_string()));
    case boost::json::kind::array: {
      List items;
      items.reserve(json.get_array().size());
      for (const auto& x : json.get_array()) items.push_back(from_json(x));
      return Value::list(std::move(items));
    }
    case boost::json::kind::object: {
      Map m;
      for (const auto& [k, x] : json.get_object()) m.insert(Value::string(std::string(k)), from_json(x));
      return Value::map(std::move(m));
    }
  }
  return Value::null();
}

}  // namespace vouch::cel
