#include "vouch/vuln/version.h"

#include <fmt/format.h>

namespace vouch::vuln {

namespace detail {

int compare_digits(std::string_view a, std::string_view b) {
  while (!a.empty() && a.front() == '0') a.remove_prefix(1);
  while (!b.empty() && b.front() == '0') b.remove_prefix(1);
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  return sign(a.compare(b));
}

Status check_length(std::string_view scheme, std::string_view v) {
  if (v.empty()) return invalid_input(fmt::format("{} version: empty", scheme));
  if (v.size() > kMaxVersionLength)
    return invalid_input(fmt::format("{} version: longer than {} characters", scheme, kMaxVersionLength));
  return ok_status();
}

}  // namespace detail

std::string_view scheme_name(VersionScheme scheme) {
  switch (scheme) {
    case VersionScheme::kDebian: return "dpkg";
    case VersionScheme::kAlpine: return "apk";
    case VersionScheme::kRpm: return "rpm";
    case VersionScheme::kSemver: return "semver";
    case VersionScheme::kPypi: return "pep440";
    case VersionScheme::kMaven: return "maven";
    case VersionScheme::kRubyGems: return "rubygems";
    case VersionScheme::kPackagist: return "packagist";
    case VersionScheme::kNuget: return "nuget";
  }
  return "unknown";
}

std::optional<VersionScheme> scheme_for_ecosystem(std::string_view ecosystem) {
  std::string_view base = ecosystem.substr(0, ecosystem.find(':'));
  if (base == "Debian" || base == "Ubuntu") return VersionScheme::kDebian;
  if (base == "Alpine" || base == "Wolfi" || base == "Chainguard") return VersionScheme::kAlpine;
  if (base == "Red Hat" || base == "Rocky Linux" || base == "AlmaLinux" || base == "SUSE" ||
      base == "openSUSE" || base == "Mageia" || base == "openEuler")
    return VersionScheme::kRpm;
  if (base == "npm" || base == "crates.io" || base == "Go" || base == "Hex") return VersionScheme::kSemver;
  if (base == "PyPI") return VersionScheme::kPypi;
  if (base == "Maven") return VersionScheme::kMaven;
  if (base == "RubyGems") return VersionScheme::kRubyGems;
  if (base == "Packagist") return VersionScheme::kPackagist;
  if (base == "NuGet") return VersionScheme::kNuget;
  return std::nullopt;
}

Result<int> compare_versions(VersionScheme scheme, std::string_view a, std::string_view b) {
  switch (scheme) {
    case VersionScheme::kDebian: return detail::compare_debian(a, b);
    case VersionScheme::kAlpine: return detail::compare_alpine(a, b);
    case VersionScheme::kRpm: return detail::compare_rpm(a, b);
    case VersionScheme::kSemver: return detail::compare_semver(a, b);
    case VersionScheme::kPypi: return detail::compare_pypi(a, b);
    case VersionScheme::kMaven: return detail::compare_maven(a, b);
    case VersionScheme::kRubyGems: return detail::compare_rubygems(a, b);
    case VersionScheme::kPackagist: return detail::compare_packagist(a, b);
    case VersionScheme::kNuget: return detail::compare_nuget(a, b);
  }
  return internal_error("unknown version scheme");
}

Status validate_version(VersionScheme scheme, std::string_view version) {
  auto r = compare_versions(scheme, version, version);
  if (!r.ok()) return std::move(r).error();
  return ok_status();
}

}  // namespace vouch::vuln
