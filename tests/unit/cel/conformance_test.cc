// cel-spec's conformance suite (tests/simple/testdata/*.textproto in the shared test data): every
// case of every file is parsed and evaluated; the files the interpreter claims must pass whole,
// the others report their counts.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "../testdata.h"
#include "textproto.h"
#include "vouch/cel/cel.h"

namespace vouch::cel {
namespace {

using testing::TextField;
using testing::TextNode;
using testing::TextProtoReader;

// --- message schemas from the suite's .proto files --------------------------------------------

struct Schemas {
  std::vector<MessageType> messages;
  std::map<std::string, int64_t> enum_constants;
  std::set<std::string> enum_types;
};

struct ProtoParser {
  std::string_view s;
  size_t pos = 0;
  std::string package;
  bool proto2 = false;
  Schemas* out;
  // Declared field types, resolved after all names are known.
  struct Pending {
    size_t message;
    size_t field;
    std::string scope;
    std::string type, key_type;
    bool repeated = false, map = false;
    std::string default_text;
  };
  std::vector<Pending> pending;

  void skip() {
    for (;;) {
      while (pos < s.size() && std::isspace(static_cast<unsigned char>(s[pos]))) ++pos;
      if (s.substr(pos, 2) == "//") {
        while (pos < s.size() && s[pos] != '\n') ++pos;
      } else if (s.substr(pos, 2) == "/*") {
        size_t e = s.find("*/", pos);
        pos = e == std::string_view::npos ? s.size() : e + 2;
      } else {
        return;
      }
    }
  }
  std::string word() {
    skip();
    size_t start = pos;
    while (pos < s.size() && (std::isalnum(static_cast<unsigned char>(s[pos])) || s[pos] == '_' || s[pos] == '.')) ++pos;
    if (pos == start && pos < s.size()) ++pos;
    return std::string(s.substr(start, pos - start));
  }
  void skip_statement() {
    int depth = 0;
    while (pos < s.size()) {
      char c = s[pos++];
      if (c == '{') ++depth;
      if (c == '}' && --depth <= 0) return;
      if (c == ';' && depth == 0) return;
    }
  }

  void file() {
    while (true) {
      std::string w = word();
      if (w.empty()) return;
      if (w == "syntax") {
        size_t e = s.find(';', pos);
        proto2 = s.substr(pos, e - pos).find("proto2") != std::string_view::npos;
        pos = e + 1;
      } else if (w == "package") {
        package = word();
        word();  // ;
      } else if (w == "message") {
        message(package);
      } else if (w == "enum") {
        enumeration(package);
      } else {
        skip_statement();
      }
    }
  }

  void enumeration(const std::string& scope) {
    std::string name = word();
    std::string full = scope + "." + name;
    out->enum_types.insert(full);
    word();  // {
    for (;;) {
      std::string w = word();
      if (w == "}" || w.empty()) return;
      if (w == "option" || w == "reserved") {
        skip_statement();
        continue;
      }
      word();  // =
      std::string number = word();
      if (number == "-") number = "-" + word();
      skip_statement();
      int64_t v = std::stoll(number);
      out->enum_constants[full + "." + w] = v;
      out->enum_constants[scope + "." + w] = v;
    }
  }

  void message(const std::string& scope) {
    std::string name = word();
    std::string full = scope + "." + name;
    size_t index = out->messages.size();
    out->messages.push_back({});
    out->messages[index].name = full;
    out->messages[index].proto2 = proto2;
    word();  // {
    body(index, full, false);
  }

  void body(size_t index, const std::string& full, bool oneof) {
    for (;;) {
      std::string w = word();
      if (w == "}" || w.empty()) return;
      if (w == "message") {
        message(full);
      } else if (w == "enum") {
        enumeration(full);
      } else if (w == "oneof") {
        word();
        word();  // {
        body(index, full, true);
      } else if (w == "option" || w == "reserved" || w == "extensions" || w == "extend") {
        skip_statement();
      } else {
        Pending p;
        p.message = index;
        p.scope = full;
        bool presence = proto2;
        if (w == "optional" || w == "required") {
          presence = true;
          w = word();
        } else if (w == "repeated") {
          p.repeated = true;
          w = word();
        }
        if (w == "group") {
          // A proto2 group: a nested message and a field of that type in one.
          std::string group = word();
          size_t brace = s.find('{', pos);
          pos = brace + 1;
          size_t nested = out->messages.size();
          out->messages.push_back({});
          out->messages[nested].name = full + "." + group;
          out->messages[nested].proto2 = proto2;
          body(nested, full + "." + group, false);
          FieldType f;
          for (char& c : group) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          f.name = group;
          f.kind = FieldType::Kind::kMessage;
          f.message_type = out->messages[nested].name;
          f.has_presence = true;
          out->messages[index].fields.push_back(std::move(f));
          continue;
        }
        if (w == "map") {
          p.map = true;
          word();  // <
          p.key_type = word();
          word();  // ,
          p.type = word();
          word();  // >
        } else {
          p.type = w;
        }
        FieldType f;
        f.name = word();
        word();  // =
        f.number = std::stoi(word());
        f.in_oneof = oneof;
        f.has_presence = presence && !p.repeated && !p.map;
        size_t stmt_end = s.find(';', pos);
        std::string_view rest = s.substr(pos, stmt_end - pos);
        if (size_t d = rest.find("default = "); d != std::string_view::npos) {
          size_t e = rest.find(']', d);
          p.default_text = std::string(rest.substr(d + 10, e - d - 10));
        }
        pos = stmt_end + 1;
        p.field = out->messages[index].fields.size();
        out->messages[index].fields.push_back(std::move(f));
        pending.push_back(std::move(p));
      }
    }
  }

  // The fully qualified name `type` refers to from `scope`.
  std::string resolve(const std::string& scope, const std::string& type) {
    std::string c = scope;
    for (;;) {
      std::string candidate = c.empty() ? type : c + "." + type;
      for (const auto& m : out->messages)
        if (m.name == candidate) return candidate;
      if (out->enum_types.count(candidate)) return candidate;
      if (c.empty()) return type;
      size_t dot = c.rfind('.');
      c = dot == std::string::npos ? "" : c.substr(0, dot);
    }
  }

  FieldType scalar(const std::string& scope, const std::string& type) {
    FieldType f;
    using K = FieldType::Kind;
    static const std::map<std::string, K> kinds = {
        {"int32", K::kInt32},   {"sint32", K::kInt32},   {"sfixed32", K::kInt32}, {"int64", K::kInt64},
        {"sint64", K::kInt64},  {"sfixed64", K::kInt64}, {"uint32", K::kUint32},  {"fixed32", K::kUint32},
        {"uint64", K::kUint64}, {"fixed64", K::kUint64}, {"float", K::kFloat},    {"double", K::kDouble},
        {"bool", K::kBool},     {"string", K::kString},  {"bytes", K::kBytes}};
    if (auto it = kinds.find(type); it != kinds.end()) {
      f.kind = it->second;
      return f;
    }
    std::string full = resolve(scope, type);
    if (out->enum_types.count(full)) {
      f.kind = K::kEnum;
      return f;
    }
    f.kind = K::kMessage;
    f.message_type = full;
    return f;
  }

  void finish() {
    for (auto& p : pending) {
      FieldType& f = out->messages[p.message].fields[p.field];
      FieldType t = scalar(p.scope, p.type);
      if (p.map) {
        f.kind = FieldType::Kind::kMap;
        f.key = std::make_shared<FieldType>(scalar(p.scope, p.key_type));
        f.element = std::make_shared<FieldType>(t);
      } else if (p.repeated) {
        f.kind = FieldType::Kind::kList;
        f.element = std::make_shared<FieldType>(t);
      } else {
        f.kind = t.kind;
        f.message_type = t.message_type;
        if (!p.default_text.empty()) {
          const std::string& d = p.default_text;
          using K = FieldType::Kind;
          switch (f.kind) {
            case K::kInt32: case K::kInt64: f.explicit_default = Value::integer(std::stoll(d)); break;
            case K::kUint32: case K::kUint64: f.explicit_default = Value::uint(std::stoull(d)); break;
            case K::kFloat: case K::kDouble: f.explicit_default = Value::dbl(std::stod(d)); break;
            case K::kBool: f.explicit_default = Value::boolean(d == "true"); break;
            case K::kString: f.explicit_default = Value::string(d.substr(1, d.size() - 2)); break;
            case K::kBytes: f.explicit_default = Value::bytes(d.substr(1, d.size() - 2)); break;
            case K::kEnum: {
              std::string full = resolve(p.scope, p.type);
              f.explicit_default = Value::integer(out->enum_constants[full + "." + d]);
              break;
            }
            default: break;
          }
        }
      }
    }
  }
};

const Schemas& schemas() {
  static const Schemas s = [] {
    Schemas out;
    for (const char* path : {"cel/proto/cel/expr/conformance/proto2/test_all_types.proto",
                             "cel/proto/cel/expr/conformance/proto3/test_all_types.proto"}) {
      std::string text = vouch::testing::read_testdata(path);
      ProtoParser p{text, 0, "", false, &out, {}};
      p.file();
      p.finish();
    }
    return out;
  }();
  return s;
}

const Environment& environment(const std::string& container) {
  static std::map<std::string, Environment> cache;
  auto it = cache.find(container);
  if (it != cache.end()) return it->second;
  EnvironmentOptions options;
  options.container = container;
  options.libraries = Libraries::all();
  Environment env(options);
  for (const auto& m : schemas().messages) env.add_message_type(m);
  for (const auto& [name, value] : schemas().enum_constants) env.add_enum_constant(name, value);
  return cache.emplace(container, std::move(env)).first->second;
}

// --- expected values --------------------------------------------------------------------------

Value value_of(const TextNode& v);

const MessageType* message_type(const std::string& name) {
  for (const auto& m : schemas().messages)
    if (m.name == name) return &m;
  return nullptr;
}

Value json_value(const TextNode& v) {
  if (v.find("null_value")) return Value::null();
  if (auto* f = v.find("number_value")) return Value::dbl(std::strtod(f->scalar.c_str(), nullptr));
  if (auto* f = v.find("string_value")) return Value::string(f->scalar);
  if (auto* f = v.find("bool_value")) return Value::boolean(f->scalar == "true");
  if (auto* f = v.find("struct_value")) {
    Map m;
    for (auto* e : f->message->all("fields"))
      m.insert(Value::string(e->message->string_of("key")), json_value(*e->message->find("value")->message));
    return Value::map(std::move(m));
  }
  if (auto* f = v.find("list_value")) {
    List l;
    for (auto* e : f->message->all("values")) l.push_back(json_value(*e->message));
    return Value::list(std::move(l));
  }
  return Value::null();
}

Value object_field(const FieldType& f, const TextField& t);

Value object(const std::string& type, const TextNode& body) {
  auto wrapper_value = [&](FieldType::Kind kind) {
    FieldType f;
    f.kind = kind;
    const TextField* v = body.find("value");
    if (!v) {
      switch (kind) {
        case FieldType::Kind::kBool: return Value::boolean(false);
        case FieldType::Kind::kInt32: case FieldType::Kind::kInt64: return Value::integer(0);
        case FieldType::Kind::kUint32: case FieldType::Kind::kUint64: return Value::uint(0);
        case FieldType::Kind::kFloat: case FieldType::Kind::kDouble: return Value::dbl(0);
        case FieldType::Kind::kString: return Value::string("");
        default: return Value::bytes("");
      }
    }
    return object_field(f, *v);
  };
  using K = FieldType::Kind;
  if (type == "google.protobuf.Duration" || type == "google.protobuf.Timestamp") {
    int64_t seconds = std::stoll(body.string_of("seconds", "0"));
    int32_t nanos = std::stoi(body.string_of("nanos", "0"));
    if (type == "google.protobuf.Duration") return Value::duration({seconds, nanos});
    return Value::timestamp({seconds, nanos});
  }
  static const std::map<std::string, K> wrappers = {
      {"google.protobuf.BoolValue", K::kBool},     {"google.protobuf.Int32Value", K::kInt32},
      {"google.protobuf.Int64Value", K::kInt64},   {"google.protobuf.UInt32Value", K::kUint32},
      {"google.protobuf.UInt64Value", K::kUint64}, {"google.protobuf.FloatValue", K::kFloat},
      {"google.protobuf.DoubleValue", K::kDouble}, {"google.protobuf.StringValue", K::kString},
      {"google.protobuf.BytesValue", K::kBytes}};
  if (auto it = wrappers.find(type); it != wrappers.end()) return wrapper_value(it->second);
  if (type == "google.protobuf.Value") return json_value(body);
  if (type == "google.protobuf.Struct") {
    TextNode wrapped;
    TextField f;
    f.name = "struct_value";
    f.is_message = true;
    f.message = std::make_shared<TextNode>(body);
    wrapped.fields.push_back(f);
    return json_value(wrapped);
  }
  if (type == "google.protobuf.ListValue") {
    TextNode wrapped;
    TextField f;
    f.name = "list_value";
    f.is_message = true;
    f.message = std::make_shared<TextNode>(body);
    wrapped.fields.push_back(f);
    return json_value(wrapped);
  }
  if (type == "google.protobuf.Any") {
    for (const auto& f : body.fields)
      if (f.is_message && f.name.size() > 2 && f.name[0] == '[') {
        std::string url = f.name.substr(1, f.name.size() - 2);
        return object(url.substr(url.rfind('/') + 1), *f.message);
      }
    return Value::error("unsupported Any");
  }
  const MessageType* mt = message_type(type);
  if (!mt) return Value::error("unknown message type " + type);
  Message m;
  m.type_name = type;
  for (const auto& field : mt->fields) {
    auto all = body.all(field.name);
    if (all.empty()) continue;
    Value v;
    if (field.kind == K::kList) {
      List l;
      for (auto* t : all) l.push_back(object_field(*field.element, *t));
      v = Value::list(std::move(l));
    } else if (field.kind == K::kMap) {
      Map mp;
      for (auto* t : all)
        mp.insert(object_field(*field.key, *t->message->find("key")), object_field(*field.element, *t->message->find("value")));
      v = Value::map(std::move(mp));
    } else {
      v = object_field(field, *all.back());
      if (field.kind == K::kMessage && field.message_type.rfind("google.protobuf.", 0) == 0 && v.is(Kind::kNull) &&
          field.message_type != "google.protobuf.Value")
        continue;
    }
    m.fields.emplace_back(field.name, std::move(v));
  }
  return Value::message(std::move(m));
}

Value object_field(const FieldType& f, const TextField& t) {
  using K = FieldType::Kind;
  const std::string& s = t.scalar;
  switch (f.kind) {
    case K::kBool: return Value::boolean(s == "true");
    case K::kInt32: case K::kInt64: return Value::integer(std::stoll(s));
    case K::kEnum: {
      if (!s.empty() && (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-')) return Value::integer(std::stoll(s));
      for (const auto& [name, value] : schemas().enum_constants)
        if (name.size() > s.size() && name.compare(name.size() - s.size() - 1, s.size() + 1, "." + s) == 0)
          return Value::integer(value);
      return Value::error("unknown enum constant " + s);
    }
    case K::kUint32: case K::kUint64: return Value::uint(std::stoull(s));
    case K::kFloat: return Value::dbl(static_cast<double>(std::strtof(s.c_str(), nullptr)));
    case K::kDouble: return Value::dbl(std::strtod(s.c_str(), nullptr));
    case K::kString: return Value::string(s);
    case K::kBytes: return Value::bytes(s);
    case K::kMessage:
      if (f.message_type == "google.protobuf.NullValue") return Value::null();
      return object(f.message_type, t.is_message ? *t.message : TextNode{});
    default: return Value::error("unsupported field");
  }
}

Value value_of(const TextNode& v) {
  if (v.find("null_value")) return Value::null();
  if (auto* f = v.find("bool_value")) return Value::boolean(f->scalar == "true");
  if (auto* f = v.find("int64_value")) return Value::integer(std::stoll(f->scalar));
  if (auto* f = v.find("uint64_value")) return Value::uint(std::stoull(f->scalar));
  if (auto* f = v.find("double_value")) {
    const std::string& s = f->scalar;
    if (s == "nan" || s == "NaN") return Value::dbl(std::nan(""));
    if (s == "inf" || s == "infinity" || s == "Infinity") return Value::dbl(INFINITY);
    if (s == "-inf" || s == "-infinity" || s == "-Infinity") return Value::dbl(-INFINITY);
    return Value::dbl(std::strtod(s.c_str(), nullptr));
  }
  if (auto* f = v.find("string_value")) return Value::string(f->scalar);
  if (auto* f = v.find("bytes_value")) return Value::bytes(f->scalar);
  if (auto* f = v.find("type_value")) return Value::type(f->scalar);
  if (auto* f = v.find("enum_value")) return Value::integer(std::stoll(f->message->string_of("value", "0")));
  if (auto* f = v.find("list_value")) {
    List l;
    for (auto* e : f->message->all("values")) l.push_back(value_of(*e->message));
    return Value::list(std::move(l));
  }
  if (auto* f = v.find("map_value")) {
    Map m;
    for (auto* e : f->message->all("entries"))
      m.insert(value_of(*e->message->find("key")->message), value_of(*e->message->find("value")->message));
    return Value::map(std::move(m));
  }
  if (auto* f = v.find("object_value")) return object("google.protobuf.Any", *f->message);
  return Value::error("unsupported expected value");
}

// Equality for checking results: kinds must match exactly, and NaN matches NaN.
bool same(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::kDouble:
      if (std::isnan(a.as_double())) return std::isnan(b.as_double());
      return a.as_double() == b.as_double();
    case Kind::kList:
      if (a.as_list().size() != b.as_list().size()) return false;
      for (size_t k = 0; k < a.as_list().size(); ++k)
        if (!same(a.as_list()[k], b.as_list()[k])) return false;
      return true;
    case Kind::kMap:
      if (a.as_map().size() != b.as_map().size()) return false;
      for (const auto& [k, v] : a.as_map().entries()) {
        const Value* o = b.as_map().find(k);
        if (!o || !same(v, *o)) return false;
        // Keys of different numeric kinds are one key to CEL, but a result must keep its kind.
        for (const auto& [k2, v2] : b.as_map().entries())
          if (equals(k, k2) && k.kind() != k2.kind()) return false;
      }
      return true;
    case Kind::kMessage: {
      const auto& x = a.as_message();
      const auto& y = b.as_message();
      if (x.type_name != y.type_name || x.fields.size() != y.fields.size()) return false;
      for (const auto& [name, v] : x.fields) {
        const Value* o = y.find(name);
        if (!o || !same(v, *o)) return false;
      }
      return true;
    }
    case Kind::kOptional: {
      const Value* x = a.optional_value();
      const Value* y = b.optional_value();
      if (!x || !y) return !x && !y;
      return same(*x, *y);
    }
    default: return equals(a, b);
  }
}

struct FileResult {
  int passed = 0;
  int failed = 0;
  int skipped = 0;  // check-only cases (there is no type checker)
  std::vector<std::string> failures;
};

FileResult run_file(const std::string& name) {
  FileResult r;
  std::string text = vouch::testing::read_testdata("cel/tests/simple/testdata/" + name + ".textproto");
  TextNode file = TextProtoReader(text).read();
  for (const auto* section : file.all("section")) {
    for (const auto* test_field : section->message->all("test")) {
      const TextNode& t = *test_field->message;
      std::string id = section->message->string_of("name") + "/" + t.string_of("name");
      if (t.flag("check_only")) {
        ++r.skipped;
        continue;
      }
      auto fail = [&](const std::string& why) {
        ++r.failed;
        r.failures.push_back(id + ": " + why);
      };
      const Environment& env = environment(t.string_of("container"));
      Activation vars;
      bool bad_binding = false;
      for (const auto* b : t.all("bindings")) {
        const TextNode& entry = *b->message;
        const TextField* value = entry.find("value");
        const TextField* inner = value && value->is_message ? value->message->find("value") : nullptr;
        if (!inner) {
          bad_binding = true;
          break;
        }
        Value v = value_of(*inner->message);
        if (v.is_error()) bad_binding = true;
        vars.bind(entry.string_of("key"), std::move(v));
      }
      if (bad_binding) {
        fail("binding the harness cannot build");
        continue;
      }
      std::optional<Value> expected;
      bool expect_error = false;
      if (auto* v = t.find("value")) {
        expected = value_of(*v->message);
      } else if (auto* tr = t.find("typed_result")) {
        if (auto* v2 = tr->message->find("result")) expected = value_of(*v2->message);
        else expected = Value::boolean(true);
      } else if (t.find("eval_error") || t.find("any_eval_errors")) {
        expect_error = true;
      } else if (t.find("unknown") || t.find("any_unknowns")) {
        fail("unknowns are not supported");
        continue;
      } else {
        expected = Value::boolean(true);
      }
      if (expected && expected->is_error()) {
        fail("expected value the harness cannot build: " + expected->error_message());
        continue;
      }
      auto program = env.compile(t.string_of("expr"));
      Value got;
      if (!program.ok()) {
        got = Value::error(program.error().message);
      } else {
        auto result = program->evaluate(vars);
        got = result.ok() ? result->value : Value::error(result.error().message);
      }
      if (expect_error) {
        if (got.is_error()) ++r.passed;
        else fail("expected an error, got " + got.debug_string());
        continue;
      }
      if (same(got, *expected)) ++r.passed;
      else fail("expected " + expected->debug_string() + ", got " + got.debug_string());
    }
  }
  return r;
}

class CelConformance : public ::testing::TestWithParam<std::string> {};

// The files the interpreter supports in full.
const std::set<std::string> kMustPass = {"parse", "basic", "comparisons", "conversions", "fields", "integer_math",
                                         "lists", "logic", "macros", "string", "timestamps"};

// For the other files, how many cases pass today: fewer is a regression.
const std::map<std::string, int> kAtLeast = {
    {"bindings_ext", 8}, {"block_ext", 29},    {"dynamic", 221},    {"encoders_ext", 4}, {"enums", 67},
    {"fp_math", 30},     {"macros2", 46},     {"math_ext", 199},   {"namespace", 14},   {"network_ext", 69},
    {"optionals", 70},   {"plumbing", 5},     {"proto2", 92},      {"proto2_ext", 0},   {"proto3", 77},
    {"string_ext", 216}, {"type_deduction", 22}, {"unknowns", 0}, {"wrappers", 31}};

TEST_P(CelConformance, File) {
  const std::string& name = GetParam();
  FileResult r = run_file(name);
  std::printf("[cel conformance] %-16s passed %4d failed %4d skipped(check-only) %3d\n", name.c_str(), r.passed,
              r.failed, r.skipped);
  bool verbose = std::getenv("VOUCH_CEL_VERBOSE") != nullptr;
  for (const auto& f : r.failures) {
    if (kMustPass.count(name)) {
      ADD_FAILURE() << name << ": " << f;
    } else if (verbose) {
      std::printf("  %s: %s\n", name.c_str(), f.c_str());
    }
  }
  if (kMustPass.count(name)) {
    EXPECT_GT(r.passed, 0);
  } else {
    auto it = kAtLeast.find(name);
    ASSERT_NE(it, kAtLeast.end()) << name;
    EXPECT_GE(r.passed, it->second) << name << ": fewer cases pass than before";
  }
}

INSTANTIATE_TEST_SUITE_P(CelSpec, CelConformance,
                         ::testing::Values("parse", "basic", "comparisons", "conversions", "fields", "integer_math",
                                           "lists", "logic", "macros", "string", "timestamps", "bindings_ext",
                                           "block_ext", "dynamic", "encoders_ext", "enums", "fp_math", "macros2",
                                           "math_ext", "namespace", "network_ext", "optionals", "plumbing", "proto2",
                                           "proto2_ext", "proto3", "string_ext", "type_deduction", "unknowns",
                                           "wrappers"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace vouch::cel
