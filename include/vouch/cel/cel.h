// The CEL language (google/cel-spec): an Environment holds what expressions may use (libraries,
// functions, message types, a container for name resolution); it compiles source text once into
// a Program, which evaluates any number of times, from any number of threads, against an
// Activation of variables, each evaluation under a cost limit.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "vouch/base/result.h"
#include "vouch/cel/value.h"

namespace vouch::cel {

// What the parser accepts. The spec requires at least 32 levels of nesting and 24 repetitions;
// the defaults leave room above that and stay far below what the stack bears.
struct ParseLimits {
  size_t max_source_code_points = 100'000;
  int max_nesting = 250;
};

// How a field of a message type reads when unset and what it accepts when set.
struct FieldType {
  enum class Kind {
    kBool, kInt32, kInt64, kUint32, kUint64, kFloat, kDouble, kString, kBytes, kEnum,
    kMessage,    // message_type names it (including google.protobuf well-known types)
    kList,       // element describes the element
    kMap,        // key and element describe the entry
  };
  std::string name;
  int number = 0;  // the protobuf field number, for decoding google.protobuf.Any payloads
  Kind kind = Kind::kInt64;
  std::string message_type;
  std::shared_ptr<FieldType> element;
  std::shared_ptr<FieldType> key;
  bool in_oneof = false;
  bool has_presence = false;                  // proto2 or `optional`: set-to-default still counts as set
  std::optional<Value> explicit_default;      // proto2 `[default = …]`
};

// A message type CEL can construct (`T{f: v}`) and select fields from.
struct MessageType {
  std::string name;  // fully qualified, without a leading dot
  bool proto2 = false;
  std::vector<FieldType> fields;
  const FieldType* field(std::string_view name) const;
};

// A function overload: a global function `f(a, b)` or a receiver-style one `a.f(b)` (the
// receiver is args[0]). Each argument is matched by kind (std::nullopt: any kind). The
// implementation returns a Value, which may be an error; "no such overload" lets the next
// overload of the name try.
using Function = std::function<Value(std::span<const Value> args)>;
struct Overload {
  std::string name;
  bool receiver = false;
  std::vector<std::optional<Kind>> args;
  Function fn;
  // Evaluation cost charged per call beyond the node itself (an estimate of the work done).
  std::function<uint64_t(std::span<const Value> args)> cost{};  // none: the arguments' size
};

class Program;

// The Kubernetes CEL libraries (k8s.io/apiserver/pkg/cel/library and cel-go's ext), each
// enabled separately. The standard library, optionals and the cel.bind / cel.block macros are
// always available.
struct Libraries {
  bool strings = false;     // charAt, indexOf, lowerAscii, split, join, format, quote, ...
  bool lists = false;       // isSorted, sum, min, max, indexOf, lastIndexOf, slice, flatten, distinct, ...
  bool regex = false;       // find, findAll
  bool url = false;         // url(), isURL, getScheme, getHost, ...
  bool quantity = false;    // quantity(), isQuantity, compareTo, add, ...
  bool ip = false;          // ip(), cidr(), isIP, containsIP, ...
  bool math = false;        // math.greatest, math.least, math.ceil, ..., bit operations
  bool encoders = false;    // base64.encode / base64.decode
  bool sets = false;        // sets.contains, sets.intersects, sets.equivalent
  // Everything Kubernetes' admission CEL environment enables.
  static Libraries kubernetes();
  static Libraries all();
};

struct EnvironmentOptions {
  std::string container;  // namespace for name resolution, e.g. "cel.expr.conformance.proto3"
  Libraries libraries;
  ParseLimits parse_limits;
  bool enable_macros = true;
};

class Environment {
 public:
  explicit Environment(EnvironmentOptions options = {});

  void add_overload(Overload overload);
  void add_message_type(MessageType type);
  // Enumeration constants readable by qualified name (`TestAllTypes.NestedEnum.BAR`).
  void add_enum_constant(std::string qualified_name, int64_t value);

  // Parses and prepares `source`; errors name the position (line:column) of the problem.
  Result<Program> compile(std::string_view source) const;

  const EnvironmentOptions& options() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

// Variables bound for one evaluation, by (possibly qualified) name.
class Activation {
 public:
  void bind(std::string name, Value value) { vars_[std::move(name)] = std::move(value); }
  const Value* find(std::string_view name) const {
    auto it = vars_.find(name);
    return it == vars_.end() ? nullptr : &it->second;
  }
  bool empty() const { return vars_.empty(); }

 private:
  std::map<std::string, Value, std::less<>> vars_;
};

struct EvalOptions {
  // Kubernetes' per-expression runtime budget (apiserver's PerCallLimit).
  uint64_t cost_limit = 1'000'000;
};

struct EvalResult {
  Value value;        // an error value when the expression evaluated to an error
  uint64_t cost = 0;  // cost units spent
};

class Program {
 public:
  // Evaluates the expression. A cost-limit overrun is an Error (invalid input: a limit, not a
  // verdict); any other evaluation error comes back as an error Value so that callers can tell
  // "the expression failed" from "the expression is false".
  Result<EvalResult> evaluate(const Activation& vars, const EvalOptions& options = {}) const;
  // As evaluate, with an error Value also turned into an Error.
  Result<Value> evaluate_value(const Activation& vars, const EvalOptions& options = {}) const;

  const std::string& source() const;

  struct Impl;

 private:
  friend class Environment;
  std::shared_ptr<const Impl> impl_;
};

// Converts JSON (Kubernetes objects) to CEL values: integers stay int (or uint above int64),
// other numbers are double, objects become maps with string keys.
Value from_json(const boost::json::value& json);

// RFC 3339 text as CEL's timestamp() reads it: any number of fractional digits (nanoseconds
// kept), Z or a ±hh:mm offset, within CEL's range of years 1 to 9999.
Result<Timestamp> parse_timestamp(std::string_view text);

}  // namespace vouch::cel
