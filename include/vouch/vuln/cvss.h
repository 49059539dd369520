// CVSS scores from vector strings: v3.0 and v3.1 base scores (FIRST specification, section 7)
// and v4.0 scores (FIRST CVSS v4.0 specification: MacroVectors).
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

// "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N" -> 9.3. The score of the
// metrics the vector gives (CVSS-B for base metrics only; threat and environmental metrics
// count when present), as FIRST's calculator computes it. Fails on a malformed vector:
// unknown or repeated metrics, metrics out of the specified order, invalid values, a
// missing base metric.
Result<double> cvss4_score(std::string_view vector);

}  // namespace vouch::vuln
