// A scan report as CycloneDX 1.6 JSON with vulnerabilities (as grype -o cyclonedx-json and
// trivy --format cyclonedx write it): the affected packages as components, each finding as a
// vulnerability with its ratings and affects, and VEX-suppressed findings with their analysis
// (not_affected with its justification, or resolved), so that the document is also a VEX.
#pragma once

#include <boost/json/value.hpp>

#include "vouch/vuln/matcher.h"
#include "vouch/vuln/report.h"

namespace vouch::vuln {

boost::json::value report_cyclonedx_vex(const MatchReport& report, const ScanContext& ctx);

}  // namespace vouch::vuln
