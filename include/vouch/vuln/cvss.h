// CVSS base scores from vector strings: v3.0 and v3.1 (FIRST specification, section 7).
#pragma once

#include <string>
#include <string_view>

#include "vouch/base/result.h"

namespace vouch::vuln {

enum class Severity { kUnknown = 0, kNegligible, kLow, kMedium, kHigh, kCritical };

std::string_view severity_name(Severity s);  // "Unknown", "Negligible", "Low", …
Result<Severity> parse_severity(std::string_view text);  // low|medium|moderate|high|critical (any case)
// The qualitative rating of a CVSS score (v3 and v4 use the same bands).
Severity severity_for_score(double score);

// "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" -> 9.8. Fails on a malformed vector.
Result<double> cvss3_base_score(std::string_view vector);

}  // namespace vouch::vuln
