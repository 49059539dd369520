// UTF-8 helpers: CEL strings are sequences of code points, stored as UTF-8.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vouch::cel {

inline void append_utf8(std::string& out, uint32_t cp) {
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

// Decodes one code point at `pos`, advancing it; returns false on malformed input.
inline bool next_code_point(std::string_view s, size_t& pos, uint32_t& cp) {
  unsigned char c = static_cast<unsigned char>(s[pos]);
  int n = 0;
  if (c < 0x80) {
    cp = c;
    n = 0;
  } else if ((c & 0xE0) == 0xC0) {
    cp = c & 0x1F;
    n = 1;
  } else if ((c & 0xF0) == 0xE0) {
    cp = c & 0x0F;
    n = 2;
  } else if ((c & 0xF8) == 0xF0) {
    cp = c & 0x07;
    n = 3;
  } else {
    return false;
  }
  if (pos + 1 + static_cast<size_t>(n) > s.size()) return false;
  for (int k = 1; k <= n; ++k) {
    unsigned char d = static_cast<unsigned char>(s[pos + static_cast<size_t>(k)]);
    if ((d & 0xC0) != 0x80) return false;
    cp = (cp << 6) | (d & 0x3F);
  }
  static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
  pos += 1 + static_cast<size_t>(n);
  return true;
}

inline bool valid_utf8(std::string_view s) {
  size_t pos = 0;
  uint32_t cp = 0;
  while (pos < s.size())
    if (!next_code_point(s, pos, cp)) return false;
  return true;
}

// Number of code points (of valid UTF-8; stray bytes count one each).
inline size_t code_points(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

inline std::vector<uint32_t> to_code_points(std::string_view s) {
  std::vector<uint32_t> out;
  size_t pos = 0;
  uint32_t cp = 0;
  while (pos < s.size()) {
    if (!next_code_point(s, pos, cp)) {
      cp = 0xFFFD;
      ++pos;
    }
    out.push_back(cp);
  }
  return out;
}

inline std::string from_code_points(const std::vector<uint32_t>& cps, size_t begin, size_t end) {
  std::string out;
  for (size_t k = begin; k < end; ++k) append_utf8(out, cps[k]);
  return out;
}

}  // namespace vouch::cel
