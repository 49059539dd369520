// CEL lexer and recursive-descent parser for the grammar of cel-spec's langdef.md, expanding
// the standard macros as it goes. Nesting is bounded twice: by parser recursion and by the
// depth of the tree built (a long `a + a + …` chain nests without recursing).
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

#include <fmt/format.h>

#include "ast.h"
#include "text.h"

namespace vouch::cel {
namespace {

enum class Tok {
  kEnd, kIdent, kQuotedIdent, kInt, kUint, kDouble, kString, kBytes,
  kTrue, kFalse, kNull, kIn,
  kLParen, kRParen, kLBracket, kRBracket, kLBrace, kRBrace, kDot, kComma, kColon, kQuestion,
  kPlus, kMinus, kStar, kSlash, kPercent, kNot, kAnd, kOr,
  kEq, kNe, kLt, kLe, kGt, kGe,
};

struct Token {
  Tok kind = Tok::kEnd;
  size_t pos = 0;
  size_t end = 0;
  std::string text;  // identifier, or decoded string / bytes
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  bool int_overflow = false;  // an int literal above INT64_MAX (valid only after unary minus)
};

bool is_reserved(std::string_view id) {
  static constexpr std::string_view kReserved[] = {"as", "break", "const", "continue", "else", "for",
                                                   "function", "if", "import", "let", "loop", "package",
                                                   "namespace", "return", "var", "void", "while"};
  for (auto r : kReserved)
    if (r == id) return true;
  return false;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  Result<Token> next() {
    skip_space();
    Token t;
    t.pos = pos_;
    if (pos_ >= src_.size()) {
      t.end = pos_;
      return t;
    }
    char c = src_[pos_];
    auto at = [&](size_t k) -> char { return pos_ + k < src_.size() ? src_[pos_ + k] : '\0'; };
    auto single = [&](Tok k, size_t n) {
      t.kind = k;
      pos_ += n;
      t.end = pos_;
      return t;
    };
    // String and bytes literals, with their r/b prefixes in either order.
    {
      size_t k = 0;
      bool raw = false, bytes = false;
      while (k < 2) {
        char p = at(k);
        if ((p == 'r' || p == 'R') && !raw) {
          raw = true;
          ++k;
        } else if ((p == 'b' || p == 'B') && !bytes) {
          bytes = true;
          ++k;
        } else {
          break;
        }
      }
      if (at(k) == '"' || at(k) == '\'') {
        pos_ += k;
        return string_literal(t, raw, bytes);
      }
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t start = pos_;
      while (pos_ < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '_')) ++pos_;
      t.text = std::string(src_.substr(start, pos_ - start));
      t.end = pos_;
      if (t.text == "true") t.kind = Tok::kTrue;
      else if (t.text == "false") t.kind = Tok::kFalse;
      else if (t.text == "null") t.kind = Tok::kNull;
      else if (t.text == "in") t.kind = Tok::kIn;
      else t.kind = Tok::kIdent;
      return t;
    }
    if (c == '`') {
      size_t start = ++pos_;
      while (pos_ < src_.size() && src_[pos_] != '`') {
        char q = src_[pos_];
        if (!(std::isalnum(static_cast<unsigned char>(q)) || q == '_' || q == '.' || q == '-' || q == '/' || q == ' '))
          return error(pos_, "invalid character in quoted identifier");
        ++pos_;
      }
      if (pos_ >= src_.size()) return error(t.pos, "unterminated quoted identifier");
      t.text = std::string(src_.substr(start, pos_ - start));
      ++pos_;
      t.kind = Tok::kQuotedIdent;
      t.end = pos_;
      if (t.text.empty()) return error(t.pos, "empty quoted identifier");
      return t;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || (c == '.' && std::isdigit(static_cast<unsigned char>(at(1)))))
      return number(t);
    switch (c) {
      case '(': return single(Tok::kLParen, 1);
      case ')': return single(Tok::kRParen, 1);
      case '[': return single(Tok::kLBracket, 1);
      case ']': return single(Tok::kRBracket, 1);
      case '{': return single(Tok::kLBrace, 1);
      case '}': return single(Tok::kRBrace, 1);
      case '.': return single(Tok::kDot, 1);
      case ',': return single(Tok::kComma, 1);
      case ':': return single(Tok::kColon, 1);
      case '?': return single(Tok::kQuestion, 1);
      case '+': return single(Tok::kPlus, 1);
      case '-': return single(Tok::kMinus, 1);
      case '*': return single(Tok::kStar, 1);
      case '/': return single(Tok::kSlash, 1);
      case '%': return single(Tok::kPercent, 1);
      case '!': return at(1) == '=' ? single(Tok::kNe, 2) : single(Tok::kNot, 1);
      case '=':
        if (at(1) == '=') return single(Tok::kEq, 2);
        break;
      case '<': return at(1) == '=' ? single(Tok::kLe, 2) : single(Tok::kLt, 1);
      case '>': return at(1) == '=' ? single(Tok::kGe, 2) : single(Tok::kGt, 1);
      case '&':
        if (at(1) == '&') return single(Tok::kAnd, 2);
        break;
      case '|':
        if (at(1) == '|') return single(Tok::kOr, 2);
        break;
      default: break;
    }
    return error(pos_, fmt::format("unexpected character '{}'", printable(c)));
  }

  Error error(size_t pos, std::string_view what) const {
    return invalid_input(fmt::format("CEL syntax error at {}: {}", describe_position(src_, pos), what));
  }

 private:
  static std::string printable(char c) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)
      return fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    return std::string(1, c);
  }

  void skip_space() {
    while (pos_ < src_.size()) {
      char c = src_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
        ++pos_;
      } else if (c == '/' && pos_ + 1 < src_.size() && src_[pos_ + 1] == '/') {
        while (pos_ < src_.size() && src_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }

  Result<Token> number(Token& t) {
    size_t start = pos_;
    auto digit_at = [&](size_t p) { return p < src_.size() && std::isdigit(static_cast<unsigned char>(src_[p])); };
    if (src_[pos_] == '0' && pos_ + 1 < src_.size() && (src_[pos_ + 1] == 'x' || src_[pos_ + 1] == 'X')) {
      pos_ += 2;
      size_t digits = pos_;
      uint64_t v = 0;
      bool overflow = false;
      while (pos_ < src_.size() && hex_digit(src_[pos_]) >= 0) {
        if (v > (std::numeric_limits<uint64_t>::max() >> 4)) overflow = true;
        v = (v << 4) | static_cast<uint64_t>(hex_digit(src_[pos_]));
        ++pos_;
      }
      if (pos_ == digits) return error(start, "hexadecimal literal without digits");
      return finish_integer(t, start, v, overflow);
    }
    bool is_double = false;
    while (digit_at(pos_)) ++pos_;
    if (pos_ < src_.size() && src_[pos_] == '.' && digit_at(pos_ + 1)) {
      is_double = true;
      ++pos_;
      while (digit_at(pos_)) ++pos_;
    }
    if (pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
      size_t p = pos_ + 1;
      if (p < src_.size() && (src_[p] == '+' || src_[p] == '-')) ++p;
      if (digit_at(p)) {
        is_double = true;
        pos_ = p;
        while (digit_at(pos_)) ++pos_;
      }
    }
    std::string text(src_.substr(start, pos_ - start));
    if (is_double) {
      errno = 0;
      char* end = nullptr;
      t.d = std::strtod(text.c_str(), &end);
      if (end != text.c_str() + text.size()) return error(start, "invalid floating-point literal");
      t.kind = Tok::kDouble;
      t.end = pos_;
      return t;
    }
    uint64_t v = 0;
    bool overflow = false;
    for (char c : text) {
      uint64_t d = static_cast<uint64_t>(c - '0');
      if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) overflow = true;
      v = v * 10 + d;
    }
    return finish_integer(t, start, v, overflow);
  }

  Result<Token> finish_integer(Token& t, size_t start, uint64_t v, bool overflow) {
    if (pos_ < src_.size() && (src_[pos_] == 'u' || src_[pos_] == 'U')) {
      ++pos_;
      if (overflow) return error(start, "unsigned integer literal out of range");
      t.kind = Tok::kUint;
      t.u = v;
    } else {
      if (overflow || v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1)
        return error(start, "integer literal out of range");
      t.kind = Tok::kInt;
      if (v == static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1) {
        t.int_overflow = true;
        t.i = std::numeric_limits<int64_t>::min();
      } else {
        t.i = static_cast<int64_t>(v);
      }
    }
    t.end = pos_;
    if (pos_ < src_.size() && (std::isalpha(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '_'))
      return error(pos_, "invalid number literal");
    return t;
  }

  Result<Token> string_literal(Token& t, bool raw, bool bytes) {
    char quote = src_[pos_];
    bool triple = pos_ + 2 < src_.size() && src_[pos_ + 1] == quote && src_[pos_ + 2] == quote;
    pos_ += triple ? 3 : 1;
    std::string out;
    for (;;) {
      if (pos_ >= src_.size()) return error(t.pos, "unterminated string literal");
      char c = src_[pos_];
      if (triple) {
        if (c == quote && pos_ + 2 < src_.size() && src_[pos_ + 1] == quote && src_[pos_ + 2] == quote) {
          pos_ += 3;
          break;
        }
      } else {
        if (c == quote) {
          ++pos_;
          break;
        }
        if (c == '\n' || c == '\r') return error(pos_, "newline in string literal");
      }
      if (c == '\\' && !raw) {
        VOUCH_RETURN_IF_ERROR(escape(out, bytes));
        continue;
      }
      if (c == '\\' && raw) {
        // A raw string keeps the backslash, but an escaped quote does not end it.
        out += c;
        ++pos_;
        if (pos_ < src_.size() && (src_[pos_] == quote || src_[pos_] == '\\')) out += src_[pos_++];
        continue;
      }
      if (c == '\r' && triple) {
        // Line endings in multi-line strings read as \n.
        ++pos_;
        if (pos_ < src_.size() && src_[pos_] == '\n') ++pos_;
        out += '\n';
        continue;
      }
      out += c;
      ++pos_;
    }
    if (!bytes && !valid_utf8(out)) return error(t.pos, "string literal is not valid UTF-8");
    t.kind = bytes ? Tok::kBytes : Tok::kString;
    t.text = std::move(out);
    t.end = pos_;
    return t;
  }

  Status escape(std::string& out, bool bytes) {
    size_t start = pos_;
    ++pos_;
    if (pos_ >= src_.size()) return error(start, "unterminated escape sequence");
    char c = src_[pos_++];
    switch (c) {
      case 'a': out += '\a'; return ok_status();
      case 'b': out += '\b'; return ok_status();
      case 'f': out += '\f'; return ok_status();
      case 'n': out += '\n'; return ok_status();
      case 'r': out += '\r'; return ok_status();
      case 't': out += '\t'; return ok_status();
      case 'v': out += '\v'; return ok_status();
      case '\\': case '?': case '"': case '\'': case '`': out += c; return ok_status();
      case 'x': case 'X': case 'u': case 'U': {
        int n = (c == 'x' || c == 'X') ? 2 : c == 'u' ? 4 : 8;
        if ((c == 'u' || c == 'U') && bytes) return error(start, "unicode escape in bytes literal");
        uint32_t v = 0;
        for (int k = 0; k < n; ++k) {
          if (pos_ >= src_.size() || hex_digit(src_[pos_]) < 0) return error(start, "invalid escape sequence");
          v = (v << 4) | static_cast<uint32_t>(hex_digit(src_[pos_++]));
        }
        if (bytes) {
          out += static_cast<char>(v);
          return ok_status();
        }
        if ((v >= 0xD800 && v <= 0xDFFF) || v > 0x10FFFF) return error(start, "invalid code point in escape");
        append_utf8(out, v);
        return ok_status();
      }
      default: break;
    }
    if (c >= '0' && c <= '3') {
      uint32_t v = static_cast<uint32_t>(c - '0');
      for (int k = 0; k < 2; ++k) {
        if (pos_ >= src_.size() || src_[pos_] < '0' || src_[pos_] > '7') return error(start, "invalid octal escape");
        v = v * 8 + static_cast<uint32_t>(src_[pos_++] - '0');
      }
      if (bytes) out += static_cast<char>(v);
      else append_utf8(out, v);
      return ok_status();
    }
    return error(start, "invalid escape sequence");
  }

  std::string_view src_;
  size_t pos_ = 0;
};

std::unique_ptr<Expr> node(ExprKind kind, size_t pos) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->position = pos;
  return e;
}

class Parser {
 public:
  Parser(std::string_view src, const ParseLimits& limits, bool macros)
      : src_(src), lexer_(src), limits_(limits), macros_(macros) {}

  Result<std::unique_ptr<Expr>> run() {
    VOUCH_RETURN_IF_ERROR(advance());
    VOUCH_ASSIGN_OR_RETURN(auto e, expr());
    if (tok_.kind != Tok::kEnd) return lexer_.error(tok_.pos, "unexpected token after the expression");
    return e;
  }

 private:
  struct DepthGuard {
    explicit DepthGuard(int& d) : d_(d) { ++d_; }
    ~DepthGuard() { --d_; }
    int& d_;
  };

  Status advance() {
    VOUCH_ASSIGN_OR_RETURN(tok_, lexer_.next());
    return ok_status();
  }
  Status expect(Tok k, std::string_view what) {
    if (tok_.kind != k) return lexer_.error(tok_.pos, fmt::format("expected {}", what));
    return advance();
  }
  Status check_depth() {
    if (depth_ > limits_.max_nesting)
      return lexer_.error(tok_.pos, fmt::format("expression nested more than {} levels", limits_.max_nesting));
    return ok_status();
  }
  // Records how deep a built node sits; the evaluator recurses that deep.
  Result<std::unique_ptr<Expr>> built(std::unique_ptr<Expr> e) {
    int d = 0;
    if (e->target) d = std::max(d, depth_of(*e->target));
    for (auto& a : e->args) d = std::max(d, depth_of(*a));
    e->depth = d + 1;
    if (d + 1 > limits_.max_nesting)
      return lexer_.error(e->position, fmt::format("expression nested more than {} levels", limits_.max_nesting));
    return e;
  }
  static int depth_of(const Expr& e) { return e.depth; }

  Result<std::unique_ptr<Expr>> call(std::string op, size_t pos, std::vector<std::unique_ptr<Expr>> args) {
    auto e = node(ExprKind::kCall, pos);
    e->name = std::move(op);
    e->args = std::move(args);
    return built(std::move(e));
  }
  Result<std::unique_ptr<Expr>> binary(std::string op, size_t pos, std::unique_ptr<Expr> l, std::unique_ptr<Expr> r) {
    std::vector<std::unique_ptr<Expr>> args;
    args.push_back(std::move(l));
    args.push_back(std::move(r));
    return call(std::move(op), pos, std::move(args));
  }

  Result<std::unique_ptr<Expr>> expr() {
    DepthGuard g(depth_);
    VOUCH_RETURN_IF_ERROR(check_depth());
    VOUCH_ASSIGN_OR_RETURN(auto cond, conditional_or());
    if (tok_.kind != Tok::kQuestion) return cond;
    size_t pos = tok_.pos;
    VOUCH_RETURN_IF_ERROR(advance());
    VOUCH_ASSIGN_OR_RETURN(auto then_e, conditional_or());
    VOUCH_RETURN_IF_ERROR(expect(Tok::kColon, "':'"));
    VOUCH_ASSIGN_OR_RETURN(auto else_e, expr());
    auto e = node(ExprKind::kConditional, pos);
    e->args.push_back(std::move(cond));
    e->args.push_back(std::move(then_e));
    e->args.push_back(std::move(else_e));
    return built(std::move(e));
  }

  Result<std::unique_ptr<Expr>> conditional_or() {
    VOUCH_ASSIGN_OR_RETURN(auto l, conditional_and());
    while (tok_.kind == Tok::kOr) {
      size_t pos = tok_.pos;
      VOUCH_RETURN_IF_ERROR(advance());
      VOUCH_ASSIGN_OR_RETURN(auto r, conditional_and());
      auto e = node(ExprKind::kOr, pos);
      e->args.push_back(std::move(l));
      e->args.push_back(std::move(r));
      VOUCH_ASSIGN_OR_RETURN(l, built(std::move(e)));
    }
    return l;
  }

  Result<std::unique_ptr<Expr>> conditional_and() {
    VOUCH_ASSIGN_OR_RETURN(auto l, relation());
    while (tok_.kind == Tok::kAnd) {
      size_t pos = tok_.pos;
      VOUCH_RETURN_IF_ERROR(advance());
      VOUCH_ASSIGN_OR_RETURN(auto r, relation());
      auto e = node(ExprKind::kAnd, pos);
      e->args.push_back(std::move(l));
      e->args.push_back(std::move(r));
      VOUCH_ASSIGN_OR_RETURN(l, built(std::move(e)));
    }
    return l;
  }

  Result<std::unique_ptr<Expr>> relation() {
    VOUCH_ASSIGN_OR_RETURN(auto l, addition());
    for (;;) {
      const char* op = nullptr;
      switch (tok_.kind) {
        case Tok::kEq: op = "_==_"; break;
        case Tok::kNe: op = "_!=_"; break;
        case Tok::kLt: op = "_<_"; break;
        case Tok::kLe: op = "_<=_"; break;
        case Tok::kGt: op = "_>_"; break;
        case Tok::kGe: op = "_>=_"; break;
        case Tok::kIn: op = "@in"; break;
        default: break;
      }
      if (!op) return l;
      size_t pos = tok_.pos;
      VOUCH_RETURN_IF_ERROR(advance());
      VOUCH_ASSIGN_OR_RETURN(auto r, addition());
      VOUCH_ASSIGN_OR_RETURN(l, binary(op, pos, std::move(l), std::move(r)));
    }
  }

  Result<std::unique_ptr<Expr>> addition() {
    VOUCH_ASSIGN_OR_RETURN(auto l, multiplication());
    while (tok_.kind == Tok::kPlus || tok_.kind == Tok::kMinus) {
      const char* op = tok_.kind == Tok::kPlus ? "_+_" : "_-_";
      size_t pos = tok_.pos;
      VOUCH_RETURN_IF_ERROR(advance());
      VOUCH_ASSIGN_OR_RETURN(auto r, multiplication());
      VOUCH_ASSIGN_OR_RETURN(l, binary(op, pos, std::move(l), std::move(r)));
    }
    return l;
  }

  Result<std::unique_ptr<Expr>> multiplication() {
    VOUCH_ASSIGN_OR_RETURN(auto l, unary());
    while (tok_.kind == Tok::kStar || tok_.kind == Tok::kSlash || tok_.kind == Tok::kPercent) {
      const char* op = tok_.kind == Tok::kStar ? "_*_" : tok_.kind == Tok::kSlash ? "_/_" : "_%_";
      size_t pos = tok_.pos;
      VOUCH_RETURN_IF_ERROR(advance());
      VOUCH_ASSIGN_OR_RETURN(auto r, unary());
      VOUCH_ASSIGN_OR_RETURN(l, binary(op, pos, std::move(l), std::move(r)));
    }
    return l;
  }

  Result<std::unique_ptr<Expr>> unary() {
    DepthGuard g(depth_);
    VOUCH_RETURN_IF_ERROR(check_depth());
    if (tok_.kind == Tok::kNot) {
      size_t pos = tok_.pos;
      VOUCH_RETURN_IF_ERROR(advance());
      VOUCH_ASSIGN_OR_RETURN(auto operand, unary());
      std::vector<std::unique_ptr<Expr>> args;
      args.push_back(std::move(operand));
      return call("!_", pos, std::move(args));
    }
    if (tok_.kind == Tok::kMinus) {
      size_t pos = tok_.pos;
      VOUCH_RETURN_IF_ERROR(advance());
      // A negative numeric literal is one constant, so that -9223372036854775808 is valid.
      if ((tok_.kind == Tok::kInt || tok_.kind == Tok::kDouble) && !followed_by_member()) {
        auto e = node(ExprKind::kConst, pos);
        e->constant = tok_.kind == Tok::kInt ? Value::integer(tok_.int_overflow ? tok_.i : -tok_.i) : Value::dbl(-tok_.d);
        VOUCH_RETURN_IF_ERROR(advance());
        return built(std::move(e));
      }
      VOUCH_ASSIGN_OR_RETURN(auto operand, unary());
      std::vector<std::unique_ptr<Expr>> args;
      args.push_back(std::move(operand));
      return call("-_", pos, std::move(args));
    }
    return member();
  }

  // Whether the literal just read is followed by a member access (`-1.foo()` negates the call).
  bool followed_by_member() {
    size_t p = tok_.end;
    while (p < src_.size() && (src_[p] == ' ' || src_[p] == '\t' || src_[p] == '\n' || src_[p] == '\r')) ++p;
    return p < src_.size() && (src_[p] == '.' || src_[p] == '[');
  }

  Result<std::string> field_name() {
    if (tok_.kind == Tok::kIdent || tok_.kind == Tok::kQuotedIdent || tok_.kind == Tok::kTrue ||
        tok_.kind == Tok::kFalse || tok_.kind == Tok::kNull || tok_.kind == Tok::kIn) {
      std::string name = tok_.text;
      VOUCH_RETURN_IF_ERROR(advance());
      return name;
    }
    return lexer_.error(tok_.pos, "expected a field name");
  }

  Result<std::unique_ptr<Expr>> member() {
    VOUCH_ASSIGN_OR_RETURN(auto e, primary());
    for (;;) {
      if (tok_.kind == Tok::kDot) {
        size_t pos = tok_.pos;
        VOUCH_RETURN_IF_ERROR(advance());
        bool optional = false;
        if (tok_.kind == Tok::kQuestion) {
          optional = true;
          VOUCH_RETURN_IF_ERROR(advance());
        }
        bool quoted = tok_.kind == Tok::kQuotedIdent;
        VOUCH_ASSIGN_OR_RETURN(auto name, field_name());
        if (tok_.kind == Tok::kLParen && !optional && !quoted) {
          VOUCH_RETURN_IF_ERROR(advance());
          VOUCH_ASSIGN_OR_RETURN(auto args, expr_list(Tok::kRParen));
          VOUCH_ASSIGN_OR_RETURN(e, receiver_call(std::move(e), std::move(name), pos, std::move(args)));
          continue;
        }
        auto s = node(ExprKind::kSelect, pos);
        s->name = std::move(name);
        s->optional = optional;
        s->target = std::move(e);
        VOUCH_ASSIGN_OR_RETURN(e, built(std::move(s)));
      } else if (tok_.kind == Tok::kLBracket) {
        size_t pos = tok_.pos;
        VOUCH_RETURN_IF_ERROR(advance());
        bool optional = false;
        if (tok_.kind == Tok::kQuestion) {
          optional = true;
          VOUCH_RETURN_IF_ERROR(advance());
        }
        VOUCH_ASSIGN_OR_RETURN(auto index, expr());
        VOUCH_RETURN_IF_ERROR(expect(Tok::kRBracket, "']'"));
        VOUCH_ASSIGN_OR_RETURN(e, binary(optional ? "_[?_]" : "_[_]", pos, std::move(e), std::move(index)));
      } else if (tok_.kind == Tok::kLBrace && is_type_name(*e)) {
        size_t pos = tok_.pos;
        VOUCH_ASSIGN_OR_RETURN(auto name, qualified_name(*e));
        VOUCH_ASSIGN_OR_RETURN(e, struct_literal(std::move(name), pos));
      } else {
        return e;
      }
    }
  }

  static bool is_type_name(const Expr& e) {
    if (e.kind == ExprKind::kIdent) return true;
    return e.kind == ExprKind::kSelect && !e.optional && e.target && is_type_name(*e.target);
  }
  static Result<std::string> qualified_name(const Expr& e) {
    if (e.kind == ExprKind::kIdent) return (e.leading_dot ? "." : "") + e.name;
    VOUCH_ASSIGN_OR_RETURN(auto prefix, qualified_name(*e.target));
    return prefix + "." + e.name;
  }

  Result<std::vector<std::unique_ptr<Expr>>> expr_list(Tok close) {
    std::vector<std::unique_ptr<Expr>> args;
    if (tok_.kind == close) {
      VOUCH_RETURN_IF_ERROR(advance());
      return args;
    }
    for (;;) {
      VOUCH_ASSIGN_OR_RETURN(auto a, expr());
      args.push_back(std::move(a));
      if (tok_.kind == Tok::kComma) {
        VOUCH_RETURN_IF_ERROR(advance());
        continue;
      }
      VOUCH_RETURN_IF_ERROR(expect(close, close == Tok::kRParen ? "')'" : "']'"));
      return args;
    }
  }

  Result<std::unique_ptr<Expr>> primary() {
    DepthGuard g(depth_);
    VOUCH_RETURN_IF_ERROR(check_depth());
    size_t pos = tok_.pos;
    switch (tok_.kind) {
      case Tok::kInt: case Tok::kUint: case Tok::kDouble: case Tok::kString: case Tok::kBytes:
      case Tok::kTrue: case Tok::kFalse: case Tok::kNull: {
        if (tok_.kind == Tok::kInt && tok_.int_overflow) return lexer_.error(pos, "integer literal out of range");
        auto e = node(ExprKind::kConst, pos);
        switch (tok_.kind) {
          case Tok::kInt: e->constant = Value::integer(tok_.i); break;
          case Tok::kUint: e->constant = Value::uint(tok_.u); break;
          case Tok::kDouble: e->constant = Value::dbl(tok_.d); break;
          case Tok::kString: e->constant = Value::string(tok_.text); break;
          case Tok::kBytes: e->constant = Value::bytes(tok_.text); break;
          case Tok::kTrue: e->constant = Value::boolean(true); break;
          case Tok::kFalse: e->constant = Value::boolean(false); break;
          default: break;
        }
        VOUCH_RETURN_IF_ERROR(advance());
        return built(std::move(e));
      }
      case Tok::kLParen: {
        VOUCH_RETURN_IF_ERROR(advance());
        VOUCH_ASSIGN_OR_RETURN(auto e, expr());
        VOUCH_RETURN_IF_ERROR(expect(Tok::kRParen, "')'"));
        return e;
      }
      case Tok::kLBracket: {
        VOUCH_RETURN_IF_ERROR(advance());
        auto e = node(ExprKind::kList, pos);
        while (tok_.kind != Tok::kRBracket) {
          bool optional = false;
          if (tok_.kind == Tok::kQuestion) {
            optional = true;
            VOUCH_RETURN_IF_ERROR(advance());
          }
          VOUCH_ASSIGN_OR_RETURN(auto item, expr());
          e->args.push_back(std::move(item));
          e->optional_entries.push_back(optional);
          if (tok_.kind != Tok::kComma) break;
          VOUCH_RETURN_IF_ERROR(advance());
        }
        VOUCH_RETURN_IF_ERROR(expect(Tok::kRBracket, "']'"));
        return built(std::move(e));
      }
      case Tok::kLBrace: {
        VOUCH_RETURN_IF_ERROR(advance());
        auto e = node(ExprKind::kMap, pos);
        while (tok_.kind != Tok::kRBrace) {
          bool optional = false;
          if (tok_.kind == Tok::kQuestion) {
            optional = true;
            VOUCH_RETURN_IF_ERROR(advance());
          }
          VOUCH_ASSIGN_OR_RETURN(auto key, expr());
          VOUCH_RETURN_IF_ERROR(expect(Tok::kColon, "':'"));
          VOUCH_ASSIGN_OR_RETURN(auto value, expr());
          e->args.push_back(std::move(key));
          e->args.push_back(std::move(value));
          e->optional_entries.push_back(optional);
          if (tok_.kind != Tok::kComma) break;
          VOUCH_RETURN_IF_ERROR(advance());
        }
        VOUCH_RETURN_IF_ERROR(expect(Tok::kRBrace, "'}'"));
        return built(std::move(e));
      }
      case Tok::kDot:
      case Tok::kIdent: {
        bool leading_dot = false;
        if (tok_.kind == Tok::kDot) {
          leading_dot = true;
          VOUCH_RETURN_IF_ERROR(advance());
          if (tok_.kind != Tok::kIdent) return lexer_.error(tok_.pos, "expected an identifier after '.'");
        }
        std::string name = tok_.text;
        if (is_reserved(name)) return lexer_.error(pos, fmt::format("reserved identifier '{}'", name));
        VOUCH_RETURN_IF_ERROR(advance());
        if (tok_.kind == Tok::kLParen) {
          VOUCH_RETURN_IF_ERROR(advance());
          VOUCH_ASSIGN_OR_RETURN(auto args, expr_list(Tok::kRParen));
          return global_call((leading_dot ? "." : "") + name, pos, std::move(args));
        }
        auto e = node(ExprKind::kIdent, pos);
        e->name = std::move(name);
        e->leading_dot = leading_dot;
        return built(std::move(e));
      }
      case Tok::kEnd: return lexer_.error(pos, "unexpected end of expression");
      default: return lexer_.error(pos, "unexpected token");
    }
  }

  Result<std::unique_ptr<Expr>> struct_literal(std::string name, size_t pos) {
    VOUCH_RETURN_IF_ERROR(advance());  // '{'
    auto e = node(ExprKind::kStruct, pos);
    e->name = std::move(name);
    while (tok_.kind != Tok::kRBrace) {
      bool optional = false;
      if (tok_.kind == Tok::kQuestion) {
        optional = true;
        VOUCH_RETURN_IF_ERROR(advance());
      }
      VOUCH_ASSIGN_OR_RETURN(auto field, field_name());
      VOUCH_RETURN_IF_ERROR(expect(Tok::kColon, "':'"));
      VOUCH_ASSIGN_OR_RETURN(auto value, expr());
      e->field_names.push_back(std::move(field));
      e->args.push_back(std::move(value));
      e->optional_entries.push_back(optional);
      if (tok_.kind != Tok::kComma) break;
      VOUCH_RETURN_IF_ERROR(advance());
    }
    VOUCH_RETURN_IF_ERROR(expect(Tok::kRBrace, "'}'"));
    return built(std::move(e));
  }

  Result<std::unique_ptr<Expr>> global_call(std::string name, size_t pos, std::vector<std::unique_ptr<Expr>> args) {
    if (macros_ && name == "has") {
      if (args.size() != 1 || args[0]->kind != ExprKind::kSelect || args[0]->optional)
        return lexer_.error(pos, "has() requires a field selection, as in has(a.b)");
      args[0]->test_only = true;
      return std::move(args[0]);
    }
    return call(std::move(name), pos, std::move(args));
  }

  Result<std::string> simple_name(const Expr& e, size_t pos, std::string_view macro) {
    if (e.kind != ExprKind::kIdent || e.leading_dot)
      return lexer_.error(pos, fmt::format("{}() variable must be a simple name", macro));
    return e.name;
  }

  Result<std::unique_ptr<Expr>> comprehension(MacroKind kind, size_t pos, std::unique_ptr<Expr> range,
                                              std::vector<std::unique_ptr<Expr>>& args, size_t vars,
                                              std::string_view macro) {
    auto e = node(ExprKind::kComprehension, pos);
    e->macro = kind;
    VOUCH_ASSIGN_OR_RETURN(e->var1, simple_name(*args[0], pos, macro));
    if (vars == 2) {
      VOUCH_ASSIGN_OR_RETURN(e->var2, simple_name(*args[1], pos, macro));
      if (e->var1 == e->var2) return lexer_.error(pos, fmt::format("{}() variables must differ", macro));
    }
    if (e->var1 == "__result__" || e->var2 == "__result__")
      return lexer_.error(pos, fmt::format("{}() variable may not be named __result__", macro));
    e->args.push_back(std::move(range));
    for (size_t k = vars; k < args.size(); ++k) e->args.push_back(std::move(args[k]));
    return built(std::move(e));
  }

  Result<std::unique_ptr<Expr>> receiver_call(std::unique_ptr<Expr> target, std::string name, size_t pos,
                                              std::vector<std::unique_ptr<Expr>> args) {
    if (macros_) {
      size_t n = args.size();
      if ((name == "all" || name == "exists" || name == "exists_one" || name == "existsOne") && (n == 2 || n == 3)) {
        MacroKind k = name == "all" ? MacroKind::kAll : name == "exists" ? MacroKind::kExists : MacroKind::kExistsOne;
        return comprehension(k, pos, std::move(target), args, n - 1, name);
      }
      if (name == "map" && (n == 2 || n == 3))
        return comprehension(n == 2 ? MacroKind::kMap : MacroKind::kMapFilter, pos, std::move(target), args, 1, name);
      if (name == "filter" && n == 2) return comprehension(MacroKind::kFilter, pos, std::move(target), args, 1, name);
      if ((name == "transformList" || name == "transformMap" || name == "transformMapEntry") && (n == 3 || n == 4)) {
        MacroKind k = name == "transformList" ? MacroKind::kTransformList
                      : name == "transformMap" ? MacroKind::kTransformMap
                                               : MacroKind::kTransformMapEntry;
        VOUCH_ASSIGN_OR_RETURN(auto e, comprehension(k, pos, std::move(target), args, 2, name));
        e->has_filter = n == 4;
        return e;
      }
      if ((name == "optMap" || name == "optFlatMap") && n == 2)
        return comprehension(name == "optMap" ? MacroKind::kOptMap : MacroKind::kOptFlatMap, pos, std::move(target),
                             args, 1, name);
      bool cel_namespace = target->kind == ExprKind::kIdent && target->name == "cel" && !target->leading_dot;
      if (cel_namespace && name == "index" && n == 1 && args[0]->kind == ExprKind::kConst &&
          args[0]->constant.is(Kind::kInt) && args[0]->constant.as_int() >= 0) {
        auto e = node(ExprKind::kIdent, pos);
        e->name = fmt::format("@index{}", args[0]->constant.as_int());
        return built(std::move(e));
      }
      if (cel_namespace && name == "block" && n == 2 && args[0]->kind == ExprKind::kList) {
        auto e = node(ExprKind::kComprehension, pos);
        e->macro = MacroKind::kBlock;
        for (auto& item : args[0]->args) e->args.push_back(std::move(item));
        e->args.push_back(std::move(args[1]));
        return built(std::move(e));
      }
      if (name == "bind" && n == 3 && cel_namespace) {
        std::vector<std::unique_ptr<Expr>> rest;
        auto init = std::move(args[1]);
        rest.push_back(std::move(args[0]));
        rest.push_back(std::move(args[2]));
        return comprehension(MacroKind::kBind, pos, std::move(init), rest, 1, "cel.bind");
      }
    }
    auto e = node(ExprKind::kCall, pos);
    e->name = std::move(name);
    e->target = std::move(target);
    e->args = std::move(args);
    return built(std::move(e));
  }

  std::string_view src_;
  Lexer lexer_;
  ParseLimits limits_;
  bool macros_;
  Token tok_;
  int depth_ = 0;
};

}  // namespace

std::string describe_position(std::string_view source, size_t offset) {
  size_t line = 1, column = 1;
  for (size_t k = 0; k < offset && k < source.size(); ++k) {
    unsigned char c = static_cast<unsigned char>(source[k]);
    if (c == '\n') {
      ++line;
      column = 1;
    } else if ((c & 0xC0) != 0x80) {
      ++column;
    }
  }
  return fmt::format("line {}, column {}", line, column);
}

Result<std::unique_ptr<Expr>> parse(std::string_view source, const ParseLimits& limits, bool enable_macros) {
  if (code_points(source) > limits.max_source_code_points)
    return invalid_input(fmt::format("CEL expression is longer than {} code points", limits.max_source_code_points));
  if (!valid_utf8(source)) return invalid_input("CEL expression is not valid UTF-8");
  Parser p(source, limits, enable_macros);
  return p.run();
}

}  // namespace vouch::cel
