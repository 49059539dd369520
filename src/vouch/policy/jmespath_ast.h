// Private to the JMESPath implementation: the syntax tree, the parser entry point, and the
// value handle the interpreter passes around.
#pragma once

#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vouch/policy/jmespath.h"

namespace vouch::policy::jmespath::detail {

enum class NodeType {
  kCurrent,           // @ (and the implicit left side of a projection)
  kField,             // name
  kIndex,             // [n]
  kSlice,             // [start:stop:step]
  kSubexpression,     // lhs . rhs
  kIndexExpression,   // lhs [index]
  kProjection,        // lhs [*] rhs, lhs [] rhs
  kValueProjection,   // lhs .* rhs
  kFilterProjection,  // lhs [? cond] rhs: children lhs, rhs, cond
  kFlatten,           // child []
  kPipe,              // lhs | rhs
  kOr,
  kAnd,
  kNot,
  kComparator,
  kMultiSelectList,   // [a, b]
  kMultiSelectHash,   // {k: a, l: b}
  kLiteral,           // `json` or 'raw string'
  kFunctionCall,
  kExpref,            // &expr
};

enum class Comparator { kEq, kNe, kLt, kLe, kGt, kGe };

struct Node {
  NodeType type = NodeType::kCurrent;
  size_t position = 0;  // offset in the expression text
  unsigned depth = 1;   // height of this subtree
  std::string name;     // field or function name
  int64_t index = 0;
  std::array<std::optional<int64_t>, 3> slice;
  Comparator comparator = Comparator::kEq;
  bj::value literal;
  std::vector<std::string> keys;  // multi-select hash keys, parallel to children
  std::vector<std::unique_ptr<Node>> children;
  const Function* function = nullptr;  // resolved when compiled
};

Result<std::unique_ptr<Node>> parse(std::string_view text, const FunctionRegistry& functions, const Limits& limits);

// A value during evaluation: a pointer into the input data, into a literal of the syntax
// tree, or into an intermediate result that the handle keeps alive.
class Val {
 public:
  Val();
  static Val borrow(const bj::value& v) {
    Val r;
    r.p_ = &v;
    return r;
  }
  static Val own(bj::value v) {
    auto held = std::make_shared<bj::value>(std::move(v));
    Val r;
    r.p_ = held.get();
    r.hold_ = std::move(held);
    return r;
  }
  // A value inside this one (an object member or array element).
  Val child(const bj::value& c) const {
    Val r;
    r.p_ = &c;
    r.hold_ = hold_;
    return r;
  }
  const bj::value& get() const { return *p_; }
  const bj::value& operator*() const { return *p_; }
  const bj::value* operator->() const { return p_; }

 private:
  const bj::value* p_;
  std::shared_ptr<const bj::value> hold_;
};

const bj::value& null_value();

// Evaluates a syntax tree once, counting the work and the bytes built against a Budget.
// One Interpreter per search(), so the counters need no locking.
class Interpreter {
 public:
  Interpreter(const FunctionRegistry* functions, const Budget& budget) : functions_(functions), budget_(budget) {}
  Result<Val> eval(const Node& node, const Val& current) const;

  Status charge_steps(uint64_t n) const;
  // Adds a value about to be built (or just built) to the bytes spent.
  Status charge_value(const bj::value& v) const;
  Status check_room(uint64_t bytes) const;
  uint64_t bytes_left() const { return budget_.max_bytes - std::min(bytes_, budget_.max_bytes); }
  // A copy of `v`, charged.
  Result<bj::value> copy(const bj::value& v) const;

 private:
  Result<Val> call(const Node& node, const Val& current) const;
  Result<Val> compare(const Node& node, const Val& current) const;
  Error over_bytes() const;
  const FunctionRegistry* functions_;
  Budget budget_;
  mutable uint64_t steps_ = 0;
  mutable uint64_t bytes_ = 0;
};

// Checks `args` against a function's parameters: invalid-arity or invalid-type errors.
Status check_arity(const Function& f, size_t count);
Status check_types(const Function& f, std::span<const Argument> args);

}  // namespace vouch::policy::jmespath::detail
