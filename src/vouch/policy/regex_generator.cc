#include "regex_generator.h"

#include <cctype>
#include <optional>
#include <random>
#include <vector>

#include <fmt/format.h>

namespace vouch::policy {
namespace {

constexpr size_t kMaxPattern = 4096;
constexpr size_t kMaxOutput = 64 * 1024;
constexpr int kMaxUnboundedRepeat = 10;  // goregen's MaxUnboundedRepeatCount
constexpr int kMaxRepeat = 1000;         // Go's regexp/syntax limit on {n,m}
constexpr int kMaxDepth = 100;
constexpr uint64_t kMaxSteps = 1'000'000;  // nodes visited: repeats of empty groups write nothing

struct Node {
  enum class Type { kLiteral, kClass, kConcat, kAlternate, kRepeat } type = Type::kConcat;
  std::string literal{};     // kLiteral: the bytes to write
  std::vector<char> chars{}; // kClass: the characters to choose from
  std::vector<Node> kids{};  // kConcat, kAlternate; kRepeat has one
  int min = 0, max = 0;    // kRepeat
};

std::vector<char> printable_except(const std::vector<bool>& excluded) {
  std::vector<char> out;
  for (int c = 32; c < 127; ++c)
    if (!excluded[static_cast<size_t>(c)]) out.push_back(static_cast<char>(c));
  return out;
}

class Parser {
 public:
  explicit Parser(std::string_view p) : p_(p) {}

  Result<Node> parse() {
    VOUCH_ASSIGN_OR_RETURN(Node n, alternation(0));
    if (i_ < p_.size()) return error("unexpected )");
    return n;
  }

 private:
  Error error(std::string_view what) const {
    return invalid_input(fmt::format("random: pattern at offset {}: {}", i_, what));
  }
  bool more() const { return i_ < p_.size(); }
  char peek() const { return p_[i_]; }

  Result<Node> alternation(int depth) {
    if (depth > kMaxDepth) return error("nested too deeply");
    Node alt{.type = Node::Type::kAlternate};
    VOUCH_ASSIGN_OR_RETURN(Node first, concatenation(depth));
    alt.kids.push_back(std::move(first));
    while (more() && peek() == '|') {
      ++i_;
      VOUCH_ASSIGN_OR_RETURN(Node next, concatenation(depth));
      alt.kids.push_back(std::move(next));
    }
    if (alt.kids.size() == 1) return std::move(alt.kids.front());
    return alt;
  }

  Result<Node> concatenation(int depth) {
    Node cat{.type = Node::Type::kConcat};
    while (more() && peek() != '|' && peek() != ')') {
      VOUCH_ASSIGN_OR_RETURN(std::optional<Node> a, atom(depth));
      if (!a) continue;  // an anchor
      VOUCH_ASSIGN_OR_RETURN(Node q, quantified(std::move(*a)));
      cat.kids.push_back(std::move(q));
    }
    return cat;
  }

  Result<Node> quantified(Node a) {
    while (more()) {
      int min = 0, max = 0;
      char c = peek();
      if (c == '*') min = 0, max = -1;
      else if (c == '+') min = 1, max = -1;
      else if (c == '?') min = 0, max = 1;
      else if (c == '{') {
        size_t close = p_.find('}', i_);
        if (close == std::string_view::npos) return a;  // a literal '{', as Go reads it
        std::string_view body = p_.substr(i_ + 1, close - i_ - 1);
        auto number = [](std::string_view s, int& out) {
          if (s.empty() || s.size() > 4) return false;
          out = 0;
          for (char d : s) {
            if (d < '0' || d > '9') return false;
            out = out * 10 + (d - '0');
          }
          return true;
        };
        size_t comma = body.find(',');
        if (comma == std::string_view::npos) {
          if (!number(body, min)) return a;
          max = min;
        } else {
          if (!number(body.substr(0, comma), min)) return a;
          if (comma + 1 == body.size()) max = -1;
          else if (!number(body.substr(comma + 1), max)) return a;
        }
        if (min > kMaxRepeat || max > kMaxRepeat || (max >= 0 && max < min)) return error("invalid repeat count");
        i_ = close;
      } else {
        return a;
      }
      ++i_;
      if (more() && peek() == '?') ++i_;  // non-greedy: the same strings
      if (max < 0) max = min + kMaxUnboundedRepeat;
      Node r{.type = Node::Type::kRepeat, .min = min, .max = max};
      r.kids.push_back(std::move(a));
      a = std::move(r);
    }
    return a;
  }

  Result<std::optional<Node>> atom(int depth) {
    char c = peek();
    if (c == '^' || c == '$') {
      ++i_;
      return std::optional<Node>();
    }
    if (c == '(') {
      ++i_;
      if (more() && peek() == '?') {
        ++i_;
        if (more() && peek() == ':') {
          ++i_;
        } else if (more() && (peek() == 'P' || peek() == '<')) {
          size_t close = p_.find('>', i_);
          if (close == std::string_view::npos) return error("unterminated group name");
          i_ = close + 1;
        } else {
          return error("group flags are not supported");
        }
      }
      VOUCH_ASSIGN_OR_RETURN(Node inner, alternation(depth + 1));
      if (!more() || peek() != ')') return error("missing )");
      ++i_;
      return std::optional<Node>(std::move(inner));
    }
    if (c == '[') {
      VOUCH_ASSIGN_OR_RETURN(Node k, klass());
      return std::optional<Node>(std::move(k));
    }
    if (c == '.') {
      ++i_;
      std::vector<bool> excluded(128, false);
      return std::optional<Node>(Node{.type = Node::Type::kClass, .chars = printable_except(excluded)});
    }
    if (c == '\\') {
      ++i_;
      std::vector<char> set;
      VOUCH_ASSIGN_OR_RETURN(std::optional<char> literal, escape(set));
      if (literal) return std::optional<Node>(Node{.type = Node::Type::kLiteral, .literal = std::string(1, *literal)});
      return std::optional<Node>(Node{.type = Node::Type::kClass, .chars = std::move(set)});
    }
    if (c == '*' || c == '+' || c == '?') return error("missing argument to repetition operator");
    // A literal: one UTF-8 character (all its bytes).
    size_t len = 1;
    auto b = static_cast<unsigned char>(c);
    if (b >= 0xf0) len = 4;
    else if (b >= 0xe0) len = 3;
    else if (b >= 0xc0) len = 2;
    if (i_ + len > p_.size()) return error("invalid UTF-8");
    Node n{.type = Node::Type::kLiteral, .literal = std::string(p_.substr(i_, len))};
    i_ += len;
    return std::optional<Node>(std::move(n));
  }

  // After a backslash: a literal character, or (nullopt) a class written into `set`.
  Result<std::optional<char>> escape(std::vector<char>& set) {
    if (!more()) return error("trailing backslash");
    char c = p_[i_++];
    auto range = [&](char lo, char hi) {
      for (char x = lo; x <= hi; ++x) set.push_back(x);
    };
    auto negate = [&](std::vector<char> positive) {
      std::vector<bool> excluded(128, false);
      for (char x : positive) excluded[static_cast<size_t>(x)] = true;
      set = printable_except(excluded);
    };
    switch (c) {
      case 'd': range('0', '9'); return std::optional<char>();
      case 'w': range('0', '9'), range('A', 'Z'), range('a', 'z'), set.push_back('_'); return std::optional<char>();
      case 's': set = {'\t', '\n', '\f', '\r', ' '}; return std::optional<char>();
      case 'D': negate({'0', '1', '2', '3', '4', '5', '6', '7', '8', '9'}); return std::optional<char>();
      case 'W': {
        std::vector<char> w;
        for (char x = '0'; x <= '9'; ++x) w.push_back(x);
        for (char x = 'A'; x <= 'Z'; ++x) w.push_back(x);
        for (char x = 'a'; x <= 'z'; ++x) w.push_back(x);
        w.push_back('_');
        negate(std::move(w));
        return std::optional<char>();
      }
      case 'S': negate({' '}); return std::optional<char>();
      case 'n': return std::optional<char>('\n');
      case 't': return std::optional<char>('\t');
      case 'r': return std::optional<char>('\r');
      case 'f': return std::optional<char>('\f');
      case 'v': return std::optional<char>('\v');
      default: break;
    }
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || static_cast<unsigned char>(c) >= 0x80)
      return error(fmt::format("escape \\{} is not supported", c));
    return std::optional<char>(c);  // escaped punctuation
  }

  Result<Node> klass() {
    ++i_;  // '['
    bool negated = more() && peek() == '^';
    if (negated) ++i_;
    std::vector<bool> in(128, false);
    bool first = true;
    while (true) {
      if (!more()) return error("missing ]");
      char c = peek();
      if (c == ']' && !first) {
        ++i_;
        break;
      }
      first = false;
      if (c == '[' && p_.substr(i_, 2) == "[:") {
        size_t close = p_.find(":]", i_ + 2);
        if (close == std::string_view::npos) return error("unterminated POSIX class");
        std::string_view name = p_.substr(i_ + 2, close - i_ - 2);
        i_ = close + 2;
        for (int x = 0; x < 128; ++x) {
          bool member = false;
          if (name == "alnum") member = std::isalnum(x);
          else if (name == "alpha") member = std::isalpha(x);
          else if (name == "digit") member = std::isdigit(x);
          else if (name == "lower") member = std::islower(x);
          else if (name == "upper") member = std::isupper(x);
          else if (name == "space") member = std::isspace(x);
          else if (name == "xdigit") member = std::isxdigit(x);
          else if (name == "punct") member = std::ispunct(x);
          else return error(fmt::format("POSIX class {} is not supported", name));
          if (member) in[static_cast<size_t>(x)] = true;
        }
        continue;
      }
      char lo;
      if (c == '\\') {
        ++i_;
        std::vector<char> set;
        VOUCH_ASSIGN_OR_RETURN(std::optional<char> literal, escape(set));
        if (!literal) {
          for (char x : set) in[static_cast<size_t>(x)] = true;
          continue;
        }
        lo = *literal;
      } else {
        if (static_cast<unsigned char>(c) >= 0x80) return error("non-ASCII characters in a class are not supported");
        lo = c;
        ++i_;
      }
      char hi = lo;
      if (i_ + 1 < p_.size() && peek() == '-' && p_[i_ + 1] != ']') {
        ++i_;
        char h = p_[i_++];
        if (h == '\\') {
          std::vector<char> set;
          VOUCH_ASSIGN_OR_RETURN(std::optional<char> literal, escape(set));
          if (!literal) return error("invalid character class range");
          h = *literal;
        }
        if (static_cast<unsigned char>(h) >= 0x80) return error("non-ASCII characters in a class are not supported");
        hi = h;
        if (hi < lo) return error("invalid character class range");
      }
      for (int x = lo; x <= hi; ++x) in[static_cast<size_t>(x)] = true;
    }
    Node n{.type = Node::Type::kClass};
    if (negated) {
      n.chars = printable_except(in);
    } else {
      for (int x = 0; x < 128; ++x)
        if (in[static_cast<size_t>(x)]) n.chars.push_back(static_cast<char>(x));
    }
    if (n.chars.empty()) return error("empty character class");
    return n;
  }

  std::string_view p_;
  size_t i_ = 0;
};

class Generator {
 public:
  Generator() : rng_(std::random_device{}()) {}

  Status generate(const Node& root, std::string& out) {
    steps_ = 0;
    return write(root, out);
  }

 private:
  Status write(const Node& n, std::string& out) {
    if (out.size() > kMaxOutput) return invalid_input("random: the generated string would exceed 64 KiB");
    if (++steps_ > kMaxSteps) return invalid_input("random: the pattern takes too many steps to generate");
    switch (n.type) {
      case Node::Type::kLiteral: out += n.literal; return {};
      case Node::Type::kClass: out.push_back(n.chars[pick(n.chars.size())]); return {};
      case Node::Type::kConcat:
        for (const auto& k : n.kids) VOUCH_RETURN_IF_ERROR(write(k, out));
        return {};
      case Node::Type::kAlternate: return write(n.kids[pick(n.kids.size())], out);
      case Node::Type::kRepeat: {
        int count = n.min + static_cast<int>(pick(static_cast<size_t>(n.max - n.min + 1)));
        for (int i = 0; i < count; ++i) VOUCH_RETURN_IF_ERROR(write(n.kids.front(), out));
        return {};
      }
    }
    return {};
  }

  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  std::mt19937_64 rng_;
  uint64_t steps_ = 0;
};

}  // namespace

Result<std::string> generate_matching(std::string_view pattern) {
  if (pattern.size() > kMaxPattern) return invalid_input("random: pattern longer than 4096 bytes");
  VOUCH_ASSIGN_OR_RETURN(Node root, Parser(pattern).parse());
  std::string out;
  thread_local Generator generator;
  VOUCH_RETURN_IF_ERROR(generator.generate(root, out));
  return out;
}

}  // namespace vouch::policy
