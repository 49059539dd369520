// Version orderings of the ecosystems OSV covers. Each scheme lives in its own file
// (src/vouch/vuln/version_<scheme>.cc) and orders versions exactly as the ecosystem's own
// tooling does: dpkg, apk, rpmvercmp, SemVer 2.0, PEP 440, Maven's ComparableVersion,
// RubyGems, PHP's version_compare as Composer uses it, and NuGet.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <algorithm>

#include "vouch/base/result.h"

namespace vouch::vuln {

enum class VersionScheme {
  kDebian,     // Debian, Ubuntu: dpkg ordering with epochs and revisions
  kAlpine,     // Alpine: apk
  kRpm,        // Red Hat, Rocky, AlmaLinux, SUSE, openSUSE, Mageia: rpmvercmp
  kSemver,     // npm, crates.io, Go (v prefix, pseudo-versions), Hex
  kPypi,       // PEP 440, with legacy versions ordered before every PEP 440 one
  kMaven,      // Maven ComparableVersion
  kRubyGems,   // Gem::Version
  kPackagist,  // PHP version_compare after Composer's normalization
  kNuget,      // NuGet SemVer 2.0 with four numeric parts, case-insensitive
};

std::string_view scheme_name(VersionScheme scheme);

// The scheme of an OSV ecosystem name ("Debian:12", "PyPI", "crates.io"); nullopt when
// vouch does not know how that ecosystem orders versions.
std::optional<VersionScheme> scheme_for_ecosystem(std::string_view ecosystem);

// Checks that `version` can be ordered under `scheme`; the error names the version and why.
Status validate_version(VersionScheme scheme, std::string_view version);

// -1, 0 or +1 as a orders before, equal to or after b. Fails when either is malformed.
Result<int> compare_versions(VersionScheme scheme, std::string_view a, std::string_view b);

namespace detail {
// Per-scheme comparators; each validates both sides.
Result<int> compare_debian(std::string_view a, std::string_view b);
Result<int> compare_alpine(std::string_view a, std::string_view b);
Result<int> compare_rpm(std::string_view a, std::string_view b);
Result<int> compare_semver(std::string_view a, std::string_view b);
Result<int> compare_pypi(std::string_view a, std::string_view b);
Result<int> compare_maven(std::string_view a, std::string_view b);
Result<int> compare_rubygems(std::string_view a, std::string_view b);
Result<int> compare_packagist(std::string_view a, std::string_view b);
Result<int> compare_nuget(std::string_view a, std::string_view b);

// Compares two strings of decimal digits of any length by value.
int compare_digits(std::string_view a, std::string_view b);
inline int sign(int v) { return (v > 0) - (v < 0); }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_digit(c)) return false;
  return true;
}
constexpr size_t kMaxVersionLength = 512;
Status check_length(std::string_view scheme, std::string_view v);
}  // namespace detail

}  // namespace vouch::vuln
