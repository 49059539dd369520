// NuGet: up to four numeric parts (missing ones are 0, leading zeros ignored), SemVer 2.0
// prerelease ordering without regard to case; build metadata ignored.
#include "semver_common.h"

namespace vouch::vuln::detail {

Result<int> compare_nuget(std::string_view a, std::string_view b) {
  VOUCH_ASSIGN_OR_RETURN(DottedVersion va, parse_dotted("nuget", a, a, 4, false, true));
  VOUCH_ASSIGN_OR_RETURN(DottedVersion vb, parse_dotted("nuget", b, b, 4, false, true));
  return compare_dotted(va, vb);
}

}  // namespace vouch::vuln::detail
