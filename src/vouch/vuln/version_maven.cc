// Maven: the version order of the POM reference ("Version Order Specification"), which
// Maven's ComparableVersion implements: tokens split at '.', '-' and digit/letter
// transitions, trailing null values trimmed before each hyphen, qualifiers ordered
// alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release < sp < others.
#include <algorithm>
#include <array>

#include "vouch/vuln/version.h"

namespace vouch::vuln::detail {
namespace {

struct Token {
  char prefix = 0;  // 0 for the first token, '.' or '-'
  std::string value;
  bool padding = false;  // a null value standing in for a missing token
  bool operator==(const Token& o) const { return prefix == o.prefix && value == o.value; }
};

constexpr std::array<std::string_view, 7> kQualifiers = {"alpha", "beta", "milestone", "rc", "snapshot", "", "sp"};

int qualifier_rank(std::string_view q) {
  for (size_t i = 0; i < kQualifiers.size(); ++i)
    if (q == kQualifiers[i]) return static_cast<int>(i);
  return static_cast<int>(kQualifiers.size());
}

bool is_null(const Token& t) { return t.value == "0" || t.value.empty(); }

std::vector<Token> tokenize(std::string_view v) {
  std::vector<Token> tokens;
  size_t start = 0;
  char prefix = 0;
  while (true) {
    size_t sep = v.find_first_of(".-", start);
    std::string_view raw = v.substr(start, sep == std::string_view::npos ? std::string_view::npos : sep - start);
    // Split the raw token at every digit/non-digit transition; later pieces count as '-'.
    size_t piece_start = 0;
    for (size_t k = 0; k <= raw.size(); ++k) {
      bool boundary = k == raw.size() || (k > piece_start && is_digit(raw[k]) != is_digit(raw[k - 1]));
      if (!boundary) continue;
      std::string piece(raw.substr(piece_start, k - piece_start));
      for (char& c : piece) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      bool last = k == raw.size();
      if (piece.empty()) piece = "0";
      if (piece == "cr") piece = "rc";
      if (piece == "ga" || piece == "final" || piece == "release") piece.clear();
      if (!last) {
        if (piece == "a") piece = "alpha";
        else if (piece == "b") piece = "beta";
        else if (piece == "m") piece = "milestone";
      }
      if (all_digits(piece)) {
        size_t nz = piece.find_first_not_of('0');
        piece = nz == std::string::npos ? "0" : piece.substr(nz);
      }
      tokens.push_back(Token{piece_start == 0 ? prefix : '-', std::move(piece), false});
      piece_start = k;
      if (last) break;
    }
    if (sep == std::string_view::npos) break;
    prefix = v[sep];
    start = sep + 1;
  }
  // Trim trailing null values, then again before each remaining hyphen, from the end.
  long i = static_cast<long>(tokens.size()) - 1;
  while (i > 0) {
    if (is_null(tokens[static_cast<size_t>(i)])) {
      tokens.erase(tokens.begin() + i);
      --i;
      continue;
    }
    while (i >= 0 && tokens[static_cast<size_t>(i)].prefix != '-') --i;
    --i;
  }
  return tokens;
}

Token padding_for(const Token& other) {
  if (other.prefix == '-') return Token{'-', "", true};
  // A missing '.' token is 0, except that it sorts before "sp" like the empty qualifier.
  return Token{'.', other.value == "sp" ? "" : "0", true};
}

int kind_rank(const Token& t) {
  bool number = all_digits(t.value);
  if (t.prefix == '-') return number ? 2 : 1;
  return number ? 3 : 0;
}

bool less(const Token& a, const Token& b) {
  if (a.prefix == b.prefix) {
    bool an = all_digits(a.value), bn = all_digits(b.value);
    if (an && bn) return compare_digits(a.value, b.value) < 0;
    if (an && !a.padding) return false;
    if (bn && !b.padding) return true;
    int ra = qualifier_rank(a.value), rb = qualifier_rank(b.value);
    if (ra == static_cast<int>(kQualifiers.size()) && rb == ra) return a.value < b.value;
    return ra < rb;
  }
  return kind_rank(a) < kind_rank(b);
}

}  // namespace

Result<int> compare_maven(std::string_view a, std::string_view b) {
  VOUCH_RETURN_IF_ERROR(check_length("maven", a));
  VOUCH_RETURN_IF_ERROR(check_length("maven", b));
  std::vector<Token> ta = tokenize(a), tb = tokenize(b);
  if (ta == tb) return 0;
  size_t n = std::max(ta.size(), tb.size());
  for (size_t i = 0; i < n; ++i) {
    Token x = i < ta.size() ? ta[i] : padding_for(tb[i]);
    Token y = i < tb.size() ? tb[i] : padding_for(ta[i]);
    if (x == y) continue;
    return less(x, y) ? -1 : 1;
  }
  return 1;
}

}  // namespace vouch::vuln::detail
