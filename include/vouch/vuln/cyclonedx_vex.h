// A scan report as CycloneDX 1.6 JSON with vulnerabilities (as grype -o cyclonedx-json and
// trivy --format cyclonedx write it): the scanned packages as components (so the document is
// also the SBOM of what was scanned), each finding as a vulnerability with its ratings and
// affects, and VEX-suppressed findings with their analysis (not_affected with its justification,
// or resolved), so that the document is also a VEX.
#pragma once

#include <vector>

#include <boost/json/value.hpp>

#include "vouch/sbom/package.h"
#include "vouch/vuln/matcher.h"
#include "vouch/vuln/report.h"

namespace vouch::vuln {

// `packages`: every package scanned, each a component; a finding's package not among them is
// added as one too.
boost::json::value report_cyclonedx_vex(const MatchReport& report, const ScanContext& ctx,
                                        const std::vector<sbom::Package>& packages = {});

}  // namespace vouch::vuln
