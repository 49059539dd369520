// A reader for protobuf text format, just as much of it as cel-spec's conformance files use:
// fields with scalar or message values (`name: v`, `name { … }`, `name: { … }`), `[a, b]`
// lists, adjacent string concatenation with C escapes, `#` comments and `[type.url/Name]`
// Any expansions (read as a field named by the bracketed text).
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vouch::cel::testing {

struct TextNode;

struct TextField {
  std::string name;
  bool is_message = false;
  bool is_string = false;  // a quoted scalar (as opposed to a number or identifier)
  std::string scalar;
  std::shared_ptr<TextNode> message;
};

struct TextNode {
  std::vector<TextField> fields;

  const TextField* find(std::string_view name) const {
    for (const auto& f : fields)
      if (f.name == name) return &f;
    return nullptr;
  }
  std::vector<const TextField*> all(std::string_view name) const {
    std::vector<const TextField*> out;
    for (const auto& f : fields)
      if (f.name == name) out.push_back(&f);
    return out;
  }
  std::string string_of(std::string_view name, std::string fallback = "") const {
    const TextField* f = find(name);
    return f && !f->is_message ? f->scalar : fallback;
  }
  bool flag(std::string_view name) const { return string_of(name) == "true"; }
};

class TextProtoReader {
 public:
  explicit TextProtoReader(std::string_view text) : s_(text) {}

  TextNode read() {
    TextNode root = message_body('\0');
    return root;
  }

 private:
  [[noreturn]] void fail(const std::string& what) {
    size_t line = 1;
    for (size_t k = 0; k < pos_ && k < s_.size(); ++k) line += s_[k] == '\n';
    throw std::runtime_error("textproto line " + std::to_string(line) + ": " + what);
  }

  void skip() {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == '#') {
        while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
      } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ';') {
        ++pos_;
      } else {
        break;
      }
    }
  }

  TextNode message_body(char close) {
    TextNode node;
    for (;;) {
      skip();
      if (pos_ >= s_.size()) {
        if (close) fail("unterminated message");
        return node;
      }
      if (s_[pos_] == close) {
        ++pos_;
        return node;
      }
      std::string name;
      if (s_[pos_] == '[') {
        size_t end = s_.find(']', pos_);
        if (end == std::string_view::npos) fail("unterminated [");
        name = std::string(s_.substr(pos_, end - pos_ + 1));
        pos_ = end + 1;
      } else {
        name = identifier();
      }
      skip_spaces_only();
      bool colon = false;
      if (pos_ < s_.size() && s_[pos_] == ':') {
        colon = true;
        ++pos_;
      }
      skip();
      if (pos_ < s_.size() && (s_[pos_] == '{' || s_[pos_] == '<')) {
        char c = s_[pos_++] == '{' ? '}' : '>';
        TextField f;
        f.name = name;
        f.is_message = true;
        f.message = std::make_shared<TextNode>(message_body(c));
        node.fields.push_back(std::move(f));
        continue;
      }
      if (!colon) fail("expected ':' after " + name);
      if (pos_ < s_.size() && s_[pos_] == '[') {
        ++pos_;
        for (;;) {
          skip();
          if (pos_ < s_.size() && s_[pos_] == ']') {
            ++pos_;
            break;
          }
          if (pos_ < s_.size() && (s_[pos_] == '{' || s_[pos_] == '<')) {
            char c = s_[pos_++] == '{' ? '}' : '>';
            TextField f;
            f.name = name;
            f.is_message = true;
            f.message = std::make_shared<TextNode>(message_body(c));
            node.fields.push_back(std::move(f));
          } else {
            node.fields.push_back(scalar(name));
          }
        }
        continue;
      }
      node.fields.push_back(scalar(name));
    }
  }

  void skip_spaces_only() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }

  std::string identifier() {
    size_t start = pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_' ||
                                s_[pos_] == '.' || s_[pos_] == '-' || s_[pos_] == '+'))
      ++pos_;
    if (pos_ == start) fail(std::string("unexpected character '") + s_[pos_] + "'");
    return std::string(s_.substr(start, pos_ - start));
  }

  TextField scalar(const std::string& name) {
    TextField f;
    f.name = name;
    skip();
    if (pos_ < s_.size() && (s_[pos_] == '"' || s_[pos_] == '\'')) {
      f.is_string = true;
      while (pos_ < s_.size() && (s_[pos_] == '"' || s_[pos_] == '\'')) {
        f.scalar += quoted();
        skip_spaces_and_newlines();
      }
      return f;
    }
    f.scalar = identifier();
    return f;
  }

  void skip_spaces_and_newlines() {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++pos_;
      } else if (c == '#') {
        while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }

  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  static void utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::string quoted() {
    char q = s_[pos_++];
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != q) {
      char c = s_[pos_++];
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) fail("bad escape");
      char e = s_[pos_++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'v': out += '\v'; break;
        case '\\': case '\'': case '"': case '?': out += e; break;
        case 'x': {
          int v = 0, n = 0;
          while (n < 2 && pos_ < s_.size() && hex(s_[pos_]) >= 0) v = v * 16 + hex(s_[pos_++]), ++n;
          out += static_cast<char>(v);
          break;
        }
        case 'u': case 'U': {
          int n = e == 'u' ? 4 : 8;
          uint32_t v = 0;
          for (int k = 0; k < n && pos_ < s_.size(); ++k) v = v * 16 + static_cast<uint32_t>(hex(s_[pos_++]));
          utf8(out, v);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            int v = e - '0', n = 1;
            while (n < 3 && pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '7') v = v * 8 + (s_[pos_++] - '0'), ++n;
            out += static_cast<char>(v);
          } else {
            fail(std::string("unknown escape \\") + e);
          }
      }
    }
    if (pos_ >= s_.size()) fail("unterminated string");
    ++pos_;
    return out;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace vouch::cel::testing
