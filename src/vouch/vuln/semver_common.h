// Shared by the SemVer and NuGet schemes: a numeric core and dot-separated prerelease
// identifiers ordered as SemVer 2.0 §11 says.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vouch/vuln/version.h"

namespace vouch::vuln::detail {

struct DottedVersion {
  std::vector<std::string_view> core;        // digits only, exactly `parts` entries (missing = "0")
  std::vector<std::string> prerelease;        // empty: a release
};

// Parses CORE[-PRERELEASE][+BUILD]. At most `parts` numeric core components are kept;
// more are ignored when `extra_core_is_build` (as Go and npm tooling treat 1.2.3.4), and an
// error otherwise. `lowercase` folds prerelease identifiers (NuGet).
Result<DottedVersion> parse_dotted(std::string_view scheme, std::string_view original, std::string_view v,
                                   size_t parts, bool extra_core_is_build, bool lowercase);

int compare_dotted(const DottedVersion& a, const DottedVersion& b);

}  // namespace vouch::vuln::detail
