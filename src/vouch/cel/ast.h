// The parsed form of a CEL expression, with macros already expanded into comprehension nodes,
// and the parser that builds it.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vouch/base/result.h"
#include "vouch/cel/cel.h"
#include "vouch/cel/value.h"

namespace vouch::cel {

struct OverloadSet;

enum class ExprKind {
  kConst,
  kIdent,          // name (possibly qualified after resolution candidates are computed)
  kSelect,         // target.name; test_only for has(); optional for target.?name
  kCall,           // name(args) or target.name(args)
  kList,           // args, optional_entries
  kMap,            // args = key, value, key, value…; optional_entries per entry
  kStruct,         // name{field_names[i]: args[i]}
  kComprehension,  // macro, see MacroKind
  kAnd,            // args[0] && args[1]
  kOr,             // args[0] || args[1]
  kConditional,    // args[0] ? args[1] : args[2]
};

enum class MacroKind {
  kAll,
  kExists,
  kExistsOne,
  kMap,            // args: range, transform
  kMapFilter,      // args: range, filter, transform
  kFilter,         // args: range, predicate
  kTransformList,  // two variables; args: range, [filter,] transform
  kTransformMap,
  kTransformMapEntry,
  kBind,           // cel.bind(var, init, body): args: init, body
  kOptMap,         // opt.optMap(var, body): args: target, body
  kOptFlatMap,
  kBlock,          // cel.block([e0, e1, …], body): args: e0, e1, …, body; ei and body see
                   // cel.index(j) (j < i) as the identifier @index<j>
};

struct Expr {
  ExprKind kind = ExprKind::kConst;
  size_t position = 0;  // byte offset in the source
  int depth = 1;        // height of the tree below and including this node
  Value constant;
  std::string name;
  std::unique_ptr<Expr> target;
  std::vector<std::unique_ptr<Expr>> args;
  std::vector<std::string> field_names;
  std::vector<bool> optional_entries;
  bool test_only = false;
  bool optional = false;
  bool leading_dot = false;
  // Comprehensions.
  MacroKind macro = MacroKind::kAll;
  std::string var1, var2;
  bool has_filter = false;
  // Filled by the compiler: for an identifier or a chain of selects on one, the qualified names
  // it may stand for, longest and most specific first; the function overloads of a call.
  std::vector<std::string> candidates;
  size_t chain_length = 0;  // number of selects in the chain the candidates cover
  const OverloadSet* overloads = nullptr;
};

Result<std::unique_ptr<Expr>> parse(std::string_view source, const ParseLimits& limits, bool enable_macros);

// "line L, column C" for a byte offset (columns count code points).
std::string describe_position(std::string_view source, size_t offset);

}  // namespace vouch::cel
