// JMESPath lexer and top-down operator precedence (Pratt) parser.
#include <charconv>
#include <utility>

#include <fmt/format.h>

#include "jmespath_ast.h"

namespace vouch::policy::jmespath {

std::string_view error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kSyntax: return "syntax";
    case ErrorKind::kInvalidType: return "invalid-type";
    case ErrorKind::kInvalidValue: return "invalid-value";
    case ErrorKind::kInvalidArity: return "invalid-arity";
    case ErrorKind::kUnknownFunction: return "unknown-function";
    case ErrorKind::kLimit: return "limit-exceeded";
  }
  return "unknown";
}

Error make_error(ErrorKind kind, std::string_view message) {
  if (kind == ErrorKind::kSyntax) return invalid_input(fmt::format("syntax error {}", message));
  return invalid_input(fmt::format("{}: {}", error_kind_name(kind), message));
}

std::optional<ErrorKind> error_kind(const Error& error) {
  std::string_view m = error.message;
  if (m.starts_with("syntax error ")) return ErrorKind::kSyntax;
  for (ErrorKind k : {ErrorKind::kInvalidType, ErrorKind::kInvalidValue, ErrorKind::kInvalidArity,
                      ErrorKind::kUnknownFunction, ErrorKind::kLimit}) {
    std::string_view name = error_kind_name(k);
    if (m.size() > name.size() && m.starts_with(name) && m[name.size()] == ':') return k;
  }
  return std::nullopt;
}

namespace detail {
namespace {

enum class Tok {
  kEof, kUnquotedIdentifier, kQuotedIdentifier, kLiteral, kNumber, kDot, kStar, kFlatten, kFilter,
  kLbracket, kRbracket, kLbrace, kRbrace, kLparen, kRparen, kComma, kColon, kPipe, kOr, kAnd, kNot,
  kExpref, kCurrent, kEq, kNe, kLt, kLe, kGt, kGe,
};

std::string_view tok_name(Tok t) {
  switch (t) {
    case Tok::kEof: return "end of expression";
    case Tok::kUnquotedIdentifier: return "identifier";
    case Tok::kQuotedIdentifier: return "quoted identifier";
    case Tok::kLiteral: return "literal";
    case Tok::kNumber: return "number";
    case Tok::kDot: return "'.'";
    case Tok::kStar: return "'*'";
    case Tok::kFlatten: return "'[]'";
    case Tok::kFilter: return "'[?'";
    case Tok::kLbracket: return "'['";
    case Tok::kRbracket: return "']'";
    case Tok::kLbrace: return "'{'";
    case Tok::kRbrace: return "'}'";
    case Tok::kLparen: return "'('";
    case Tok::kRparen: return "')'";
    case Tok::kComma: return "','";
    case Tok::kColon: return "':'";
    case Tok::kPipe: return "'|'";
    case Tok::kOr: return "'||'";
    case Tok::kAnd: return "'&&'";
    case Tok::kNot: return "'!'";
    case Tok::kExpref: return "'&'";
    case Tok::kCurrent: return "'@'";
    case Tok::kEq: return "'=='";
    case Tok::kNe: return "'!='";
    case Tok::kLt: return "'<'";
    case Tok::kLe: return "'<='";
    case Tok::kGt: return "'>'";
    case Tok::kGe: return "'>='";
  }
  return "token";
}

int binding_power(Tok t) {
  switch (t) {
    case Tok::kPipe: return 1;
    case Tok::kOr: return 2;
    case Tok::kAnd: return 3;
    case Tok::kEq: case Tok::kNe: case Tok::kLt: case Tok::kLe: case Tok::kGt: case Tok::kGe: return 5;
    case Tok::kFlatten: return 9;
    case Tok::kStar: return 20;
    case Tok::kFilter: return 21;
    case Tok::kDot: return 40;
    case Tok::kNot: return 45;
    case Tok::kLbrace: return 50;
    case Tok::kLbracket: return 55;
    case Tok::kLparen: return 60;
    default: return 0;
  }
}

constexpr int kProjectionStop = 10;

struct Token {
  Tok type = Tok::kEof;
  size_t pos = 0;
  std::string text;  // identifier name
  int64_t number = 0;
  bj::value literal;
};

class Parser {
 public:
  Parser(std::string_view text, const FunctionRegistry& functions, const Limits& limits)
      : text_(text), functions_(functions), limits_(limits) {}

  Result<std::unique_ptr<Node>> run() {
    VOUCH_RETURN_IF_ERROR(lex());
    VOUCH_ASSIGN_OR_RETURN(auto root, expression(0));
    if (cur().type != Tok::kEof) return unexpected();
    return root;
  }

 private:
  using NodeP = std::unique_ptr<Node>;

  // ---- errors

  Error syntax(size_t pos, std::string_view message) const {
    if (text_.size() <= 120) {
      return make_error(ErrorKind::kSyntax, fmt::format("at position {} in '{}': {}", pos, text_, message));
    }
    return make_error(ErrorKind::kSyntax, fmt::format("at position {}: {}", pos, message));
  }
  Error unexpected() const {
    return syntax(cur().pos, fmt::format("unexpected {}", describe(cur())));
  }
  std::string describe(const Token& t) const {
    if (t.type == Tok::kUnquotedIdentifier) return fmt::format("identifier '{}'", t.text);
    return std::string(tok_name(t.type));
  }

  // ---- lexer

  Status lex() {
    size_t i = 0;
    const size_t n = text_.size();
    auto is_id_start = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
    auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
    auto add = [&](Tok t, size_t pos, size_t len) {
      Token tok;
      tok.type = t;
      tok.pos = pos;
      tokens_.push_back(std::move(tok));
      i = pos + len;
    };
    while (i < n) {
      char c = text_[i];
      size_t start = i;
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++i;
      } else if (is_id_start(c)) {
        while (i < n && (is_id_start(text_[i]) || is_digit(text_[i]))) ++i;
        Token tok;
        tok.type = Tok::kUnquotedIdentifier;
        tok.pos = start;
        tok.text = std::string(text_.substr(start, i - start));
        tokens_.push_back(std::move(tok));
      } else if (is_digit(c) || c == '-') {
        ++i;
        while (i < n && is_digit(text_[i])) ++i;
        std::string_view digits = text_.substr(start, i - start);
        if (digits == "-") return syntax(start, "'-' must be followed by digits");
        Token tok;
        tok.type = Tok::kNumber;
        tok.pos = start;
        auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), tok.number);
        if (ec != std::errc() || ptr != digits.data() + digits.size()) {
          return syntax(start, fmt::format("number '{}' out of range", digits));
        }
        tokens_.push_back(std::move(tok));
      } else if (c == '"' || c == '\'' || c == '`') {
        ++i;
        bool closed = false;
        while (i < n) {
          if (text_[i] == '\\' && i + 1 < n) {
            i += 2;
          } else if (text_[i] == c) {
            closed = true;
            break;
          } else {
            ++i;
          }
        }
        if (!closed) return syntax(start, fmt::format("unterminated {}", c == '"' ? "quoted identifier" : c == '\'' ? "raw string literal" : "JSON literal"));
        std::string_view body = text_.substr(start + 1, i - start - 1);
        ++i;  // closing quote
        Token tok;
        tok.pos = start;
        if (c == '"') {
          tok.type = Tok::kQuotedIdentifier;
          boost::system::error_code ec;
          bj::value v = bj::parse(text_.substr(start, i - start), ec);
          if (ec || !v.is_string()) return syntax(start, "invalid quoted identifier");
          tok.text = std::string(v.get_string());
        } else if (c == '\'') {
          tok.type = Tok::kLiteral;
          std::string s;
          s.reserve(body.size());
          for (size_t k = 0; k < body.size(); ++k) {
            if (body[k] == '\\' && k + 1 < body.size() && body[k + 1] == '\'') {
              s.push_back('\'');
              ++k;
            } else {
              s.push_back(body[k]);
            }
          }
          tok.literal = bj::string(s);
        } else {
          tok.type = Tok::kLiteral;
          std::string s;
          s.reserve(body.size());
          for (size_t k = 0; k < body.size(); ++k) {
            if (body[k] == '\\' && k + 1 < body.size() && body[k + 1] == '`') {
              s.push_back('`');
              ++k;
            } else {
              s.push_back(body[k]);
            }
          }
          boost::system::error_code ec;
          bj::parse_options opts;
          opts.max_depth = limits_.max_depth;
          tok.literal = bj::parse(s, ec, {}, opts);
          if (ec) return syntax(start, fmt::format("invalid JSON literal: {}", ec.message()));
        }
        tokens_.push_back(std::move(tok));
      } else {
        char d = i + 1 < n ? text_[i + 1] : '\0';
        switch (c) {
          case '.': add(Tok::kDot, i, 1); break;
          case '*': add(Tok::kStar, i, 1); break;
          case ']': add(Tok::kRbracket, i, 1); break;
          case '{': add(Tok::kLbrace, i, 1); break;
          case '}': add(Tok::kRbrace, i, 1); break;
          case '(': add(Tok::kLparen, i, 1); break;
          case ')': add(Tok::kRparen, i, 1); break;
          case ',': add(Tok::kComma, i, 1); break;
          case ':': add(Tok::kColon, i, 1); break;
          case '@': add(Tok::kCurrent, i, 1); break;
          case '[':
            if (d == '?') add(Tok::kFilter, i, 2);
            else if (d == ']') add(Tok::kFlatten, i, 2);
            else add(Tok::kLbracket, i, 1);
            break;
          case '|':
            if (d == '|') add(Tok::kOr, i, 2);
            else add(Tok::kPipe, i, 1);
            break;
          case '&':
            if (d == '&') add(Tok::kAnd, i, 2);
            else add(Tok::kExpref, i, 1);
            break;
          case '!':
            if (d == '=') add(Tok::kNe, i, 2);
            else add(Tok::kNot, i, 1);
            break;
          case '<':
            if (d == '=') add(Tok::kLe, i, 2);
            else add(Tok::kLt, i, 1);
            break;
          case '>':
            if (d == '=') add(Tok::kGe, i, 2);
            else add(Tok::kGt, i, 1);
            break;
          case '=':
            if (d == '=') {
              add(Tok::kEq, i, 2);
              break;
            }
            return syntax(i, "unexpected '=' (comparison is '==')");
          default:
            if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
              return syntax(i, fmt::format("unexpected character 0x{:02x}", static_cast<unsigned char>(c)));
            }
            return syntax(i, fmt::format("unexpected character '{}'", c));
        }
      }
    }
    Token eof;
    eof.type = Tok::kEof;
    eof.pos = n;
    tokens_.push_back(std::move(eof));
    return ok_status();
  }

  // ---- tokens

  const Token& cur() const { return tokens_[pos_]; }
  const Token& peek(size_t k) const {
    size_t p = pos_ + k;
    return p < tokens_.size() ? tokens_[p] : tokens_.back();
  }
  void advance() {
    if (pos_ + 1 < tokens_.size()) ++pos_;
  }
  Status match(Tok t) {
    if (cur().type != t) {
      return syntax(cur().pos, fmt::format("expected {}, got {}", tok_name(t), describe(cur())));
    }
    advance();
    return ok_status();
  }

  // ---- nodes

  NodeP make(NodeType type, size_t pos) {
    auto n = std::make_unique<Node>();
    n->type = type;
    n->position = pos;
    return n;
  }
  Result<NodeP> finish(NodeP n) {
    unsigned d = 0;
    for (const auto& c : n->children) d = std::max(d, c->depth);
    n->depth = d + 1;
    if (n->depth > limits_.max_depth) {
      return make_error(ErrorKind::kLimit, fmt::format("expression nested more than {} levels deep", limits_.max_depth));
    }
    return n;
  }
  Result<NodeP> make2(NodeType type, size_t pos, NodeP a, NodeP b) {
    auto n = make(type, pos);
    n->children.push_back(std::move(a));
    n->children.push_back(std::move(b));
    return finish(std::move(n));
  }
  NodeP current_node(size_t pos) { return make(NodeType::kCurrent, pos); }

  // ---- grammar

  Result<NodeP> expression(int rbp) {
    if (++depth_ > limits_.max_depth) {
      return make_error(ErrorKind::kLimit, fmt::format("expression nested more than {} levels deep", limits_.max_depth));
    }
    Token token = std::move(tokens_[pos_]);
    tokens_[pos_].type = token.type;  // keep the type and position for error messages
    tokens_[pos_].pos = token.pos;
    advance();
    VOUCH_ASSIGN_OR_RETURN(NodeP left, nud(token));
    while (rbp < binding_power(cur().type)) {
      Token t = cur();
      advance();
      VOUCH_ASSIGN_OR_RETURN(left, led(t, std::move(left)));
    }
    --depth_;
    return left;
  }

  Result<NodeP> nud(Token& token) {
    switch (token.type) {
      case Tok::kLiteral: {
        auto n = make(NodeType::kLiteral, token.pos);
        n->literal = std::move(token.literal);
        return finish(std::move(n));
      }
      case Tok::kUnquotedIdentifier: {
        auto n = make(NodeType::kField, token.pos);
        n->name = std::move(token.text);
        return finish(std::move(n));
      }
      case Tok::kQuotedIdentifier: {
        if (cur().type == Tok::kLparen) return syntax(token.pos, "a quoted identifier cannot name a function");
        auto n = make(NodeType::kField, token.pos);
        n->name = std::move(token.text);
        return finish(std::move(n));
      }
      case Tok::kStar: {
        NodeP rhs;
        if (cur().type == Tok::kRbracket) {
          rhs = current_node(cur().pos);
        } else {
          VOUCH_ASSIGN_OR_RETURN(rhs, projection_rhs(binding_power(Tok::kStar)));
        }
        return make2(NodeType::kValueProjection, token.pos, current_node(token.pos), std::move(rhs));
      }
      case Tok::kFilter: return led_filter(token.pos, current_node(token.pos));
      case Tok::kLbrace: return multi_select_hash(token.pos);
      case Tok::kLparen: {
        VOUCH_ASSIGN_OR_RETURN(NodeP inner, expression(0));
        VOUCH_RETURN_IF_ERROR(match(Tok::kRparen));
        return inner;
      }
      case Tok::kFlatten: {
        auto flat = make(NodeType::kFlatten, token.pos);
        flat->children.push_back(current_node(token.pos));
        VOUCH_ASSIGN_OR_RETURN(flat, finish(std::move(flat)));
        VOUCH_ASSIGN_OR_RETURN(NodeP rhs, projection_rhs(binding_power(Tok::kFlatten)));
        return make2(NodeType::kProjection, token.pos, std::move(flat), std::move(rhs));
      }
      case Tok::kNot: {
        VOUCH_ASSIGN_OR_RETURN(NodeP operand, expression(binding_power(Tok::kNot)));
        auto n = make(NodeType::kNot, token.pos);
        n->children.push_back(std::move(operand));
        return finish(std::move(n));
      }
      case Tok::kLbracket: {
        if (cur().type == Tok::kNumber || cur().type == Tok::kColon) {
          VOUCH_ASSIGN_OR_RETURN(NodeP index, index_expression());
          return project_if_slice(token.pos, current_node(token.pos), std::move(index));
        }
        if (cur().type == Tok::kStar && peek(1).type == Tok::kRbracket) {
          advance();
          advance();
          VOUCH_ASSIGN_OR_RETURN(NodeP rhs, projection_rhs(binding_power(Tok::kStar)));
          return make2(NodeType::kProjection, token.pos, current_node(token.pos), std::move(rhs));
        }
        return multi_select_list(token.pos);
      }
      case Tok::kCurrent: return finish(current_node(token.pos));
      case Tok::kExpref: {
        VOUCH_ASSIGN_OR_RETURN(NodeP inner, expression(0));
        auto n = make(NodeType::kExpref, token.pos);
        n->children.push_back(std::move(inner));
        return finish(std::move(n));
      }
      case Tok::kEof: return syntax(token.pos, "unexpected end of expression");
      default:
        return syntax(token.pos, fmt::format("unexpected {}", describe(token)));
    }
  }

  Result<NodeP> led(const Token& token, NodeP left) {
    switch (token.type) {
      case Tok::kDot: {
        if (cur().type == Tok::kStar) {
          advance();
          VOUCH_ASSIGN_OR_RETURN(NodeP rhs, projection_rhs(binding_power(Tok::kDot)));
          return make2(NodeType::kValueProjection, token.pos, std::move(left), std::move(rhs));
        }
        VOUCH_ASSIGN_OR_RETURN(NodeP rhs, dot_rhs(binding_power(Tok::kDot)));
        if (left->type == NodeType::kSubexpression) {
          left->children.push_back(std::move(rhs));
          return finish(std::move(left));
        }
        return make2(NodeType::kSubexpression, token.pos, std::move(left), std::move(rhs));
      }
      case Tok::kPipe: {
        VOUCH_ASSIGN_OR_RETURN(NodeP rhs, expression(binding_power(Tok::kPipe)));
        if (left->type == NodeType::kPipe) {
          left->children.push_back(std::move(rhs));
          return finish(std::move(left));
        }
        return make2(NodeType::kPipe, token.pos, std::move(left), std::move(rhs));
      }
      case Tok::kOr:
      case Tok::kAnd: {
        NodeType type = token.type == Tok::kOr ? NodeType::kOr : NodeType::kAnd;
        VOUCH_ASSIGN_OR_RETURN(NodeP rhs, expression(binding_power(token.type)));
        if (left->type == type) {
          left->children.push_back(std::move(rhs));
          return finish(std::move(left));
        }
        return make2(type, token.pos, std::move(left), std::move(rhs));
      }
      case Tok::kLparen: return function_call(token.pos, std::move(left));
      case Tok::kFilter: return led_filter(token.pos, std::move(left));
      case Tok::kFlatten: {
        auto flat = make(NodeType::kFlatten, token.pos);
        flat->children.push_back(std::move(left));
        VOUCH_ASSIGN_OR_RETURN(flat, finish(std::move(flat)));
        VOUCH_ASSIGN_OR_RETURN(NodeP rhs, projection_rhs(binding_power(Tok::kFlatten)));
        return make2(NodeType::kProjection, token.pos, std::move(flat), std::move(rhs));
      }
      case Tok::kEq: case Tok::kNe: case Tok::kLt: case Tok::kLe: case Tok::kGt: case Tok::kGe: {
        VOUCH_ASSIGN_OR_RETURN(NodeP rhs, expression(binding_power(token.type)));
        VOUCH_ASSIGN_OR_RETURN(NodeP n, make2(NodeType::kComparator, token.pos, std::move(left), std::move(rhs)));
        switch (token.type) {
          case Tok::kEq: n->comparator = Comparator::kEq; break;
          case Tok::kNe: n->comparator = Comparator::kNe; break;
          case Tok::kLt: n->comparator = Comparator::kLt; break;
          case Tok::kLe: n->comparator = Comparator::kLe; break;
          case Tok::kGt: n->comparator = Comparator::kGt; break;
          default: n->comparator = Comparator::kGe; break;
        }
        return n;
      }
      case Tok::kLbracket: {
        if (cur().type == Tok::kNumber || cur().type == Tok::kColon) {
          VOUCH_ASSIGN_OR_RETURN(NodeP index, index_expression());
          if (left->type == NodeType::kIndexExpression && index->type == NodeType::kIndex) {
            left->children.push_back(std::move(index));
            return finish(std::move(left));
          }
          return project_if_slice(token.pos, std::move(left), std::move(index));
        }
        VOUCH_RETURN_IF_ERROR(match(Tok::kStar));
        VOUCH_RETURN_IF_ERROR(match(Tok::kRbracket));
        VOUCH_ASSIGN_OR_RETURN(NodeP rhs, projection_rhs(binding_power(Tok::kStar)));
        return make2(NodeType::kProjection, token.pos, std::move(left), std::move(rhs));
      }
      default:
        return syntax(token.pos, fmt::format("unexpected {}", describe(token)));
    }
  }

  Result<NodeP> led_filter(size_t pos, NodeP left) {
    VOUCH_ASSIGN_OR_RETURN(NodeP condition, expression(0));
    VOUCH_RETURN_IF_ERROR(match(Tok::kRbracket));
    NodeP rhs;
    if (cur().type == Tok::kFlatten) {
      rhs = current_node(cur().pos);
    } else {
      VOUCH_ASSIGN_OR_RETURN(rhs, projection_rhs(binding_power(Tok::kFilter)));
    }
    auto n = make(NodeType::kFilterProjection, pos);
    n->children.push_back(std::move(left));
    n->children.push_back(std::move(rhs));
    n->children.push_back(std::move(condition));
    return finish(std::move(n));
  }

  Result<NodeP> project_if_slice(size_t pos, NodeP left, NodeP index) {
    bool is_slice = index->type == NodeType::kSlice;
    VOUCH_ASSIGN_OR_RETURN(NodeP ie, make2(NodeType::kIndexExpression, pos, std::move(left), std::move(index)));
    if (!is_slice) return ie;
    VOUCH_ASSIGN_OR_RETURN(NodeP rhs, projection_rhs(binding_power(Tok::kStar)));
    return make2(NodeType::kProjection, pos, std::move(ie), std::move(rhs));
  }

  // After '[': "n]" or a slice "start:stop:step]".
  Result<NodeP> index_expression() {
    if (cur().type == Tok::kColon || peek(1).type == Tok::kColon) return slice_expression();
    auto n = make(NodeType::kIndex, cur().pos);
    n->index = cur().number;
    VOUCH_RETURN_IF_ERROR(match(Tok::kNumber));
    VOUCH_RETURN_IF_ERROR(match(Tok::kRbracket));
    return finish(std::move(n));
  }

  Result<NodeP> slice_expression() {
    auto n = make(NodeType::kSlice, cur().pos);
    size_t part = 0;
    while (cur().type != Tok::kRbracket && part < 3) {
      if (cur().type == Tok::kColon) {
        ++part;
        if (part == 3) return syntax(cur().pos, "too many ':' in slice");
        advance();
      } else if (cur().type == Tok::kNumber) {
        n->slice[part] = cur().number;
        advance();
      } else {
        return syntax(cur().pos, fmt::format("expected a number or ':' in slice, got {}", describe(cur())));
      }
    }
    VOUCH_RETURN_IF_ERROR(match(Tok::kRbracket));
    return finish(std::move(n));
  }

  Result<NodeP> projection_rhs(int rbp) {
    Tok t = cur().type;
    if (binding_power(t) < kProjectionStop) return finish(current_node(cur().pos));
    if (t == Tok::kLbracket || t == Tok::kFilter) return expression(rbp);
    if (t == Tok::kDot) {
      advance();
      return dot_rhs(rbp);
    }
    return unexpected();
  }

  Result<NodeP> dot_rhs(int rbp) {
    Tok t = cur().type;
    if (t == Tok::kUnquotedIdentifier || t == Tok::kQuotedIdentifier || t == Tok::kStar) return expression(rbp);
    size_t pos = cur().pos;
    if (t == Tok::kLbracket) {
      advance();
      return multi_select_list(pos);
    }
    if (t == Tok::kLbrace) {
      advance();
      return multi_select_hash(pos);
    }
    return syntax(pos, fmt::format("expected an identifier, '*', '[' or '{{' after '.', got {}", describe(cur())));
  }

  Result<NodeP> multi_select_list(size_t pos) {
    auto n = make(NodeType::kMultiSelectList, pos);
    while (true) {
      VOUCH_ASSIGN_OR_RETURN(NodeP e, expression(0));
      n->children.push_back(std::move(e));
      if (cur().type == Tok::kRbracket) break;
      VOUCH_RETURN_IF_ERROR(match(Tok::kComma));
    }
    VOUCH_RETURN_IF_ERROR(match(Tok::kRbracket));
    return finish(std::move(n));
  }

  Result<NodeP> multi_select_hash(size_t pos) {
    auto n = make(NodeType::kMultiSelectHash, pos);
    while (true) {
      if (cur().type != Tok::kUnquotedIdentifier && cur().type != Tok::kQuotedIdentifier) {
        return syntax(cur().pos, fmt::format("expected a key name, got {}", describe(cur())));
      }
      n->keys.push_back(cur().text);
      advance();
      VOUCH_RETURN_IF_ERROR(match(Tok::kColon));
      VOUCH_ASSIGN_OR_RETURN(NodeP value, expression(0));
      n->children.push_back(std::move(value));
      if (cur().type == Tok::kComma) {
        advance();
      } else if (cur().type == Tok::kRbrace) {
        advance();
        break;
      } else if (cur().type != Tok::kUnquotedIdentifier && cur().type != Tok::kQuotedIdentifier) {
        return syntax(cur().pos, fmt::format("expected ',' or '}}', got {}", describe(cur())));
      }
      // go-jmespath, which Kyverno uses, reads the next key when the comma is missing.
    }
    return finish(std::move(n));
  }

  Result<NodeP> function_call(size_t pos, NodeP left) {
    if (left->type != NodeType::kField) return syntax(pos, "only a plain identifier can be called as a function");
    auto n = make(NodeType::kFunctionCall, left->position);
    n->name = std::move(left->name);
    if (cur().type != Tok::kRparen) {
      while (true) {
        VOUCH_ASSIGN_OR_RETURN(NodeP arg, expression(0));
        n->children.push_back(std::move(arg));
        if (cur().type == Tok::kComma) {
          advance();
          continue;
        }
        break;
      }
    }
    VOUCH_RETURN_IF_ERROR(match(Tok::kRparen));
    n->function = functions_.find(n->name);
    if (n->function == nullptr) {
      return make_error(ErrorKind::kUnknownFunction, fmt::format("unknown function {}() at position {}", n->name, n->position));
    }
    VOUCH_RETURN_IF_ERROR(check_arity(*n->function, n->children.size()));
    return finish(std::move(n));
  }

  std::string_view text_;
  const FunctionRegistry& functions_;
  const Limits& limits_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  unsigned depth_ = 0;
};

}  // namespace

Result<std::unique_ptr<Node>> parse(std::string_view text, const FunctionRegistry& functions, const Limits& limits) {
  if (text.size() > limits.max_expression_bytes) {
    return make_error(ErrorKind::kLimit, fmt::format("expression of {} bytes exceeds the limit of {} bytes",
                                                     text.size(), limits.max_expression_bytes));
  }
  return Parser(text, functions, limits).run();
}

}  // namespace detail
}  // namespace vouch::policy::jmespath
