// JMESPath (https://jmespath.org/specification.html): the whole specification, with a
// function registry so that Kyverno's functions (and the policy engine's own) can be added.
//
//   auto expr = Expression::compile("spec.containers[?name=='app'].image | [0]");
//   Result<boost::json::value> image = expr->search(resource);
//
// Expressions are compiled once and evaluated many times; evaluation is const and safe to run
// from several threads at once. Expressions and data are untrusted: the expression's size and
// nesting depth are bounded when it is compiled, so evaluation never recurses without bound,
// and each evaluation runs on a Budget of work and memory (below), so that an expression such
// as `[@,@] | [@,@] | ...` or nested replace_all() ends with a limit-exceeded error instead of
// exhausting memory or time.
//
// Errors carry ErrorCode::kInvalidInput and a message that starts with the JMESPath error kind:
//   "syntax error at position 4 in 'foo[': expected a number, ':' or '*', got end of expression"
//   "invalid-type: abs(): argument 1 must be a number, got string"
// error_kind() reads the kind back.
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

#include <boost/json.hpp>

#include "vouch/base/result.h"

namespace vouch::policy::jmespath {

namespace bj = boost::json;

enum class ErrorKind {
  kSyntax,           // the expression does not parse
  kInvalidType,      // a function argument (or an expression's result) has the wrong type
  kInvalidValue,     // a value of the right type is not acceptable (slice step 0, divide by 0)
  kInvalidArity,     // wrong number of function arguments
  kUnknownFunction,  // no such function in the registry
  kLimit,            // a size or depth limit was exceeded
};

std::string_view error_kind_name(ErrorKind kind);  // "syntax", "invalid-type", ...
// Builds an error of the given kind: "<kind>: <message>" (syntax errors read "syntax error ...").
Error make_error(ErrorKind kind, std::string_view message);
// The kind of an error returned by this module, or nullopt for any other error.
std::optional<ErrorKind> error_kind(const Error& error);

namespace detail {
struct Node;
class Interpreter;
}  // namespace detail

// Argument types of a function signature. A parameter accepts a set of them (a bit mask).
enum Type : uint32_t {
  kNumber = 1 << 0,
  kString = 1 << 1,
  kBoolean = 1 << 2,
  kArray = 1 << 3,
  kObject = 1 << 4,
  kNull = 1 << 5,
  kExpref = 1 << 6,          // &expression; never part of kAny
  kArrayNumber = 1 << 7,     // an array whose elements are all numbers
  kArrayString = 1 << 8,     // an array whose elements are all strings
  kAny = kNumber | kString | kBoolean | kArray | kObject | kNull,
};
using TypeSet = uint32_t;

// Human-readable type of a value: "number", "string", "boolean", "array", "object", "null".
std::string_view type_name(const bj::value& v);

struct Parameter {
  TypeSet types = kAny;
  bool optional = false;  // may be omitted (only trailing parameters)
  bool variadic = false;  // the last parameter: one or more further arguments of these types
};

// One argument of a function call: a value, or an expression reference (&expr).
class Argument {
 public:
  Argument(const bj::value* value, const detail::Node* expref) : value_(value), expref_(expref) {}
  bool is_expref() const { return expref_ != nullptr; }
  // For an expref, a null value.
  const bj::value& value() const { return *value_; }
  const bj::value& operator*() const { return *value_; }
  const bj::value* operator->() const { return value_; }

 private:
  friend class CallContext;
  const bj::value* value_;
  const detail::Node* expref_;
};

// What a function can do besides looking at its arguments: apply an expression reference.
class CallContext {
 public:
  // Evaluates the expref argument against `current`. Fails if `expref` is not an expref.
  Result<bj::value> apply(const Argument& expref, const bj::value& current) const;
  // Fails with a limit-exceeded error when a result of `bytes` more bytes would not fit in the
  // evaluation's budget. Functions whose result can grow faster than their arguments (replace,
  // join, ...) call it before building the result; the result is charged when it returns.
  Status check_room(uint64_t bytes) const;
  // The bytes the evaluation may still build (for results whose size shows only as they grow).
  uint64_t bytes_left() const;
  // Counts `steps` units of work (for functions that loop over their arguments).
  Status charge_steps(uint64_t steps) const;
  // The name the function was called by, for error messages.
  std::string_view function_name() const { return name_; }

 private:
  friend class detail::Interpreter;
  CallContext(const detail::Interpreter* interp, std::string_view name) : interp_(interp), name_(name) {}
  const detail::Interpreter* interp_;
  std::string_view name_;
};

// Arguments arrive already checked against the signature (count and types).
using FunctionImpl = std::function<Result<bj::value>(std::span<const Argument> args, const CallContext& ctx)>;

struct Function {
  std::string name;
  std::vector<Parameter> params;
  FunctionImpl impl;
};

class FunctionRegistry {
 public:
  // The 26 functions of the JMESPath specification.
  static std::shared_ptr<const FunctionRegistry> standard();

  // Adds a function, replacing any function of the same name.
  void add(Function function);
  const Function* find(std::string_view name) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, Function, std::less<>> functions_;
};

// The standard functions plus Kyverno's (pkg/engine/jmespath): compare, equal_fold, ...,
// time_truncate. Kyverno's add/sum/subtract/... replace the standard `sum` as in Kyverno.
std::shared_ptr<const FunctionRegistry> kyverno_functions();
// Adds Kyverno's functions to a registry (for registries that add more of their own).
void add_kyverno_functions(FunctionRegistry& registry);

// What one evaluation (one search()) may cost. A step is one syntax-tree node evaluated or one
// element a function looks at; bytes are those of the values the evaluation builds (copies into
// projections and multi-selects, function results), counted as they are built. The defaults are
// far above what any policy of Kyverno's policy library needs and far below what hurts a server.
struct Budget {
  uint64_t max_steps = 20'000'000;
  uint64_t max_bytes = uint64_t{64} << 20;
};

struct Limits {
  size_t max_expression_bytes = 64 * 1024;
  unsigned max_depth = 200;  // nesting of the expression's syntax tree
  Budget budget;             // for each search() of the compiled expression
};

class Expression {
 public:
  static Result<Expression> compile(std::string_view text,
                                    std::shared_ptr<const FunctionRegistry> functions = FunctionRegistry::standard(),
                                    const Limits& limits = {});

  Result<bj::value> search(const bj::value& data) const;
  const std::string& text() const { return text_; }

 private:
  Expression() = default;
  std::string text_;
  std::shared_ptr<const detail::Node> root_;
  std::shared_ptr<const FunctionRegistry> functions_;
  Budget budget_;
};

// compile + search.
Result<bj::value> search(std::string_view expression, const bj::value& data,
                         std::shared_ptr<const FunctionRegistry> functions = FunctionRegistry::standard());

// Helpers shared by function implementations.
// JMESPath truthiness: false, null, "", [] and {} are false; everything else is true.
bool is_truthy(const bj::value& v);
// Deep equality with numbers compared by value (1 == 1.0).
bool values_equal(const bj::value& a, const bj::value& b);
bool is_number(const bj::value& v);
double to_double(const bj::value& v);  // for a number
// A number as JSON: an integer when `d` is integral and exactly representable, else a double.
bj::value make_number(double d);
// Compact JSON text with numbers written as Go's encoding/json writes float64 (1 -> "1",
// 1.5 -> "1.5", 1e21 -> "1e+21"), as to_string() and Kyverno expect. Fails on data nested
// deeper than 512 levels.
Result<std::string> to_json_text(const bj::value& v);

}  // namespace vouch::policy::jmespath
