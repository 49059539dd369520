#include "vouch/sbom/license.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <optional>
#include <unordered_map>

#include "vouch/base/ascii.h"

namespace vouch::sbom {
namespace {

// Identifiers of the SPDX license list (https://spdx.org/licenses/) that packages commonly
// declare. Matching is case-insensitive; the spelling here is the list's.
constexpr std::array kIds = {
    "0BSD", "AFL-2.1", "AFL-3.0", "AGPL-1.0-only", "AGPL-1.0-or-later", "AGPL-3.0-only", "AGPL-3.0-or-later",
    "Apache-1.0", "Apache-1.1", "Apache-2.0", "APSL-2.0", "Artistic-1.0", "Artistic-1.0-Perl", "Artistic-2.0",
    "Beerware", "BlueOak-1.0.0", "BSD-1-Clause", "BSD-2-Clause", "BSD-2-Clause-Patent", "BSD-3-Clause",
    "BSD-3-Clause-Clear", "BSD-4-Clause", "BSD-4-Clause-UC", "BSD-Source-Code", "BSL-1.0", "bzip2-1.0.6", "CC-BY-3.0", "CC-BY-4.0",
    "CC-BY-SA-3.0", "CC-BY-SA-4.0", "CC0-1.0", "CDDL-1.0", "CDDL-1.1", "CECILL-2.1", "CPL-1.0", "curl",
    "ECL-2.0", "EPL-1.0", "EPL-2.0", "EUPL-1.1", "EUPL-1.2", "FSFAP", "FSFUL", "FSFULLR", "FTL",
    "GFDL-1.1-only", "GFDL-1.1-or-later", "GFDL-1.2-only", "GFDL-1.2-or-later", "GFDL-1.3-only",
    "GFDL-1.3-or-later", "GPL-1.0-only", "GPL-1.0-or-later", "GPL-2.0-only", "GPL-2.0-or-later", "GPL-3.0-only",
    "GPL-3.0-or-later", "HPND", "ICU", "IJG", "Imlib2", "Info-ZIP", "IPA", "ISC", "JSON", "LGPL-2.0-only",
    "LGPL-2.0-or-later", "LGPL-2.1-only", "LGPL-2.1-or-later", "LGPL-3.0-only", "LGPL-3.0-or-later", "Libpng",
    "libpng-2.0", "libtiff", "LPPL-1.3c", "MirOS", "MIT", "MIT-0", "MIT-CMU", "MPL-1.0", "MPL-1.1", "MPL-2.0",
    "MPL-2.0-no-copyleft-exception", "MS-PL", "MS-RL", "NCSA", "Net-SNMP", "NTP", "OFL-1.1", "OLDAP-2.8",
    "OpenSSL", "PHP-3.0", "PHP-3.01", "PostgreSQL", "PSF-2.0", "Python-2.0", "Python-2.0.1", "Ruby", "SGI-B-2.0",
    "Sleepycat", "SMLNJ", "SSPL-1.0", "TCL", "Unicode-3.0", "Unicode-DFS-2015", "Unicode-DFS-2016", "Unlicense",
    "UPL-1.0", "Vim", "W3C", "WTFPL", "X11", "Xnet", "Zlib", "zlib-acknowledgement", "ZPL-2.0", "ZPL-2.1",
};

// License exceptions (the right-hand side of WITH).
constexpr std::array kExceptions = {
    "Autoconf-exception-2.0", "Autoconf-exception-3.0", "Bison-exception-2.2", "Classpath-exception-2.0",
    "Font-exception-2.0", "GCC-exception-2.0", "GCC-exception-3.1", "LLVM-exception", "OCaml-LGPL-linking-exception",
    "openvpn-openssl-exception", "Qt-GPL-exception-1.0", "Qt-LGPL-exception-1.1", "Swift-exception",
    "Universal-FOSS-exception-1.0", "WxWindows-exception-3.1",
};

// Other names for licenses, lowercased with single spaces.
const std::map<std::string, std::string>& aliases() {
  static const std::map<std::string, std::string> m = {
      {"expat", "MIT"}, {"mit license", "MIT"}, {"the mit license", "MIT"}, {"the mit license (mit)", "MIT"},
      {"mit/x11", "MIT"},
      {"apache 2.0", "Apache-2.0"}, {"apache-2", "Apache-2.0"}, {"apache 2", "Apache-2.0"},
      {"apache license 2.0", "Apache-2.0"}, {"apache license, version 2.0", "Apache-2.0"},
      {"apache license version 2.0", "Apache-2.0"}, {"apache software license", "Apache-2.0"},
      {"apache software license 2.0", "Apache-2.0"}, {"apache license (2.0)", "Apache-2.0"},
      {"apache-2.0 license", "Apache-2.0"}, {"asl 2.0", "Apache-2.0"}, {"apache2", "Apache-2.0"},
      {"the apache software license, version 2.0", "Apache-2.0"}, {"the apache license, version 2.0", "Apache-2.0"},
      {"new bsd license", "BSD-3-Clause"}, {"bsd 3-clause", "BSD-3-Clause"},
      {"3-clause bsd license", "BSD-3-Clause"}, {"modified bsd license", "BSD-3-Clause"},
      {"bsd-3", "BSD-3-Clause"}, {"bsd 2-clause", "BSD-2-Clause"}, {"simplified bsd license", "BSD-2-Clause"},
      {"bsd-2", "BSD-2-Clause"}, {"2-clause bsd license", "BSD-2-Clause"},
      {"isc license", "ISC"}, {"isc license (iscl)", "ISC"}, {"zlib license", "Zlib"}, {"zlib/libpng", "Zlib"},
      {"mozilla public license 2.0 (mpl 2.0)", "MPL-2.0"}, {"mozilla public license 2.0", "MPL-2.0"},
      {"mpl 2.0", "MPL-2.0"}, {"psf", "PSF-2.0"}, {"psf-2", "PSF-2.0"}, {"psf license", "PSF-2.0"},
      {"python software foundation license", "PSF-2.0"}, {"python", "Python-2.0"},
      {"artistic", "Artistic-1.0"}, {"artistic-1", "Artistic-1.0"}, {"artistic-2", "Artistic-2.0"},
      {"perl", "Artistic-1.0-Perl"}, {"the unlicense", "Unlicense"}, {"the unlicense (unlicense)", "Unlicense"},
      {"cc0", "CC0-1.0"}, {"cc0 1.0 universal", "CC0-1.0"}, {"public domain (cc0)", "CC0-1.0"},
      {"boost", "BSL-1.0"}, {"boost software license 1.0 (bsl-1.0)", "BSL-1.0"},
      {"boost software license 1.0", "BSL-1.0"}, {"eclipse public license 2.0", "EPL-2.0"},
      {"eclipse public license 1.0", "EPL-1.0"}, {"epl 2.0", "EPL-2.0"}, {"cddl", "CDDL-1.0"},
      {"unicode-dfs", "Unicode-DFS-2016"}, {"bison exception", "Bison-exception-2.2"},
      {"classpath exception", "Classpath-exception-2.0"}, {"blueoak-1.0", "BlueOak-1.0.0"}, {"ruby's", "Ruby"},
      {"gnu lesser general public license v2 or later (lgplv2+)", "LGPL-2.0-or-later"},
      {"gnu lesser general public license v3 (lgplv3)", "LGPL-3.0-only"},
      {"gnu lesser general public license v3 or later (lgplv3+)", "LGPL-3.0-or-later"},
      {"gnu library or lesser general public license (lgpl)", "LGPL-2.0-or-later"},
      {"gnu general public license v2 (gplv2)", "GPL-2.0-only"},
      {"gnu general public license v2 or later (gplv2+)", "GPL-2.0-or-later"},
      {"gnu general public license v3 (gplv3)", "GPL-3.0-only"},
      {"gnu general public license v3 or later (gplv3+)", "GPL-3.0-or-later"},
      {"gnu affero general public license v3", "AGPL-3.0-only"},
      {"gnu affero general public license v3 or later (agplv3+)", "AGPL-3.0-or-later"},
      {"gnu general public license (gpl)", "GPL-2.0-or-later"},
      {"gnu gpl v2", "GPL-2.0-only"}, {"gnu gpl v3", "GPL-3.0-only"},
      {"gnu general public license, version 2", "GPL-2.0-only"},
      {"gnu general public license, version 3", "GPL-3.0-only"},
      {"gnu lesser general public license, version 2.1", "LGPL-2.1-only"},
      {"gnu lesser general public license, version 3", "LGPL-3.0-only"},
  };
  return m;
}

// Lowercased, trimmed, inner runs of white space as one space.
std::string fold(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// A list's entries by their lower-case form (the first of equal ones), built once per list.
template <const auto& List>
const std::unordered_map<std::string, const char*>& lower_index() {
  static const std::unordered_map<std::string, const char*> index = [] {
    std::unordered_map<std::string, const char*> m;
    for (const char* id : List) m.emplace(lower(id), id);
    return m;
  }();
  return index;
}

template <const auto& List>
std::optional<std::string> find_in(std::string_view s) {
  const auto& index = lower_index<List>();
  if (auto it = index.find(lower(s)); it != index.end()) return std::string(it->second);
  return std::nullopt;
}

// The GNU licenses in their many spellings: GPL-2, GPL-2+, GPLv2, gpl2.0, LGPL-2.1+,
// AGPL-3.0-or-later, GFDL-1.3.
std::optional<std::string> gnu_license(std::string_view folded) {
  std::string s(folded);
  std::string family;
  for (const char* f : {"agpl", "lgpl", "gfdl", "gpl"}) {
    if (s.starts_with(f)) {
      family = f;
      break;
    }
  }
  if (family.empty()) return std::nullopt;
  size_t i = family.size();
  if (i < s.size() && (s[i] == '-' || s[i] == ' ' || s[i] == 'v')) ++i;
  if (i < s.size() && s[i] == 'v') ++i;
  size_t vstart = i;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  std::string version = s.substr(vstart, i - vstart);
  std::string rest = s.substr(i);
  if (version.empty()) return std::nullopt;
  if (version.find('.') == std::string::npos) version += ".0";
  if (version.ends_with(".0.0")) version.resize(version.size() - 2);
  bool later;
  if (rest == "+" || rest == "-or-later" || rest == " or later" || rest == "-later") later = true;
  else if (rest.empty() || rest == "-only" || rest == " only") later = false;
  else return std::nullopt;
  std::string id = lower(family) == "agpl" ? "AGPL" : lower(family) == "lgpl" ? "LGPL" : lower(family) == "gfdl" ? "GFDL" : "GPL";
  id += "-" + version + (later ? "-or-later" : "-only");
  if (is_spdx_license_id(id)) return find_in<kIds>(id);
  return std::nullopt;
}

// One operand (no operators inside): an identifier or name, else a LicenseRef.
std::string operand(std::string_view text) {
  std::string id = spdx_license_id(text);
  if (!id.empty()) return id;
  if (text.starts_with("LicenseRef-")) return license_ref(text.substr(11));
  // "MIT/Apache-2.0": alternatives when every part is a known license.
  if (text.find('/') != std::string_view::npos) {
    std::string out;
    size_t start = 0;
    while (true) {
      size_t slash = text.find('/', start);
      std::string part = spdx_license_id(text.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
      if (part.empty()) return license_ref(text);
      out += (out.empty() ? "" : " OR ") + part;
      if (slash == std::string_view::npos) break;
      start = slash + 1;
    }
    return "(" + out + ")";
  }
  return license_ref(text);
}

struct Token {
  enum Kind { kWord, kOpen, kClose, kComma } kind;
  std::string text;
};

std::vector<Token> tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '(' || c == ')' || c == ',' || c == ';') {
      out.push_back({c == '(' ? Token::kOpen : c == ')' ? Token::kClose : Token::kComma, std::string(1, c)});
      ++i;
    } else {
      size_t j = i;
      while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j])) && s[j] != '(' && s[j] != ')' &&
             s[j] != ',' && s[j] != ';')
        ++j;
      out.push_back({Token::kWord, std::string(s.substr(i, j - i))});
      i = j;
    }
  }
  return out;
}

}  // namespace

bool is_spdx_license_id(std::string_view id) {
  return std::find_if(kIds.begin(), kIds.end(), [&](const char* k) { return id == k; }) != kIds.end();
}

std::string license_ref(std::string_view text) {
  std::string out = "LicenseRef-";
  bool any = false;
  for (char c : text) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
    out += ok ? c : '-';
    any = true;
  }
  if (!any) out += "unknown";
  return out;
}

std::string spdx_license_id(std::string_view name) {
  std::string f = fold(name);
  if (f.empty()) return {};
  if (auto id = find_in<kIds>(f)) return *id;
  // Aliases of exceptions ("Bison exception") name no license on their own.
  if (auto it = aliases().find(f); it != aliases().end()) return find_in<kExceptions>(it->second) ? std::string() : it->second;
  if (auto g = gnu_license(f)) return *g;
  // Deprecated plain forms of the list: "GPL-2.0" is GPL-2.0-only, "LGPL-2.1+" or-later.
  std::string base = f;
  if (base.ends_with(" license")) base.resize(base.size() - 8);
  if (base != f) return spdx_license_id(base);
  // Debian's short names: "BSD-3-clause", "Apache-2", "MPL-2", "CC-BY-SA-4".
  if (auto id = find_in<kIds>(f + ".0")) return *id;
  return {};
}

std::string spdx_license_expression(std::string_view text) {
  std::string whole(text);
  while (!whole.empty() && std::isspace(static_cast<unsigned char>(whole.back()))) whole.pop_back();
  size_t lead = 0;
  while (lead < whole.size() && std::isspace(static_cast<unsigned char>(whole[lead]))) ++lead;
  whole.erase(0, lead);
  if (whole.empty()) return {};
  if (std::string id = spdx_license_id(whole); !id.empty()) return id;

  // Operands are runs of words between operators and parentheses; a run of several words is
  // one name ("Apache License 2.0"). "X with Y exception" becomes X WITH the exception when the
  // exception is known, else one LicenseRef of the whole operand.
  std::vector<Token> tokens = tokenize(whole);
  std::string out;
  std::vector<std::string> words;
  int depth = 0;
  bool expect_operand = true, broken = false, after_comma = false;
  // Where the text of each open parenthesis level starts in `out`: DEP-5 reads "A or B, and C"
  // as (A or B) and C, so an operator after a comma groups what precedes it on its level.
  std::vector<size_t> level_start{0};
  auto flush = [&]() {
    if (words.empty()) return;
    if (!expect_operand) {
      broken = true;
      return;
    }
    std::string name;
    for (const auto& w : words) name += (name.empty() ? "" : " ") + w;
    // An exception ("GPL-2+ with OpenSSL exception").
    size_t p = lower(" " + name + " ").find(" with ");
    if (p != std::string::npos && p > 0 && p + 5 < name.size()) {
      std::string left = name.substr(0, p - 1), right = name.substr(p + 5);
      std::string l = operand(left);
      auto e = find_in<kExceptions>(right);
      if (!e) {
        auto a = aliases().find(fold(right));
        if (a != aliases().end()) e = a->second;
      }
      if (!l.starts_with("LicenseRef-") && l.find(' ') == std::string::npos && e) out += l + " WITH " + *e;
      else out += license_ref(name);
    } else {
      out += operand(name);
    }
    words.clear();
    expect_operand = false;
  };
  for (const auto& t : tokens) {
    if (t.kind == Token::kWord) {
      std::string l = lower(t.text);
      if (l == "or" || l == "and" || l == "&") {
        flush();
        if (expect_operand) broken = true;
        if (after_comma && !broken) {
          std::string inner = out.substr(level_start.back());
          if (inner.find(' ') != std::string::npos) out.replace(level_start.back(), std::string::npos, "(" + inner + ")");
        }
        out += l == "or" ? " OR " : " AND ";
        expect_operand = true;
      } else {
        if (after_comma && words.empty() && !expect_operand) {
          out += " AND ";
          expect_operand = true;
        }
        words.push_back(t.text);
      }
      after_comma = false;
    } else if (t.kind == Token::kComma) {
      // "A, and B" or "A, B": the comma adds nothing, or stands for AND.
      flush();
      after_comma = true;
      continue;
    } else if (t.kind == Token::kOpen) {
      after_comma = false;
      flush();
      if (!expect_operand) {
        // "MIT (see LICENSE)" and the like: not an expression.
        broken = true;
      }
      out += "(";
      ++depth;
      level_start.push_back(out.size());
    } else {
      flush();
      if (expect_operand || depth == 0) broken = true;
      out += ")";
      --depth;
      if (level_start.size() > 1) level_start.pop_back();
    }
    if (broken) break;
  }
  if (!broken) flush();
  if (broken || depth != 0 || expect_operand) return license_ref(whole);
  return out;
}

std::vector<std::string> licenses_from_classifiers(const std::vector<std::string>& classifiers) {
  std::vector<std::string> out;
  for (const auto& c : classifiers) {
    std::string_view s = c;
    if (!s.starts_with("License ::")) continue;
    size_t last = s.rfind("::");
    std::string_view name = s.substr(last + 2);
    std::string id = spdx_license_id(name);
    if (!id.empty() && std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  }
  return out;
}

}  // namespace vouch::sbom
