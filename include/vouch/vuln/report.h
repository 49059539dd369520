// Scan reports: a table sorted by severity, JSON, SARIF 2.1.0, and the cosign vulnerability
// predicate (https://cosign.sigstore.dev/attestation/vuln/v1) shaped as trivy writes it.
#pragma once

#include <string>

#include <boost/json.hpp>

#include "vouch/base/time.h"
#include "vouch/vuln/matcher.h"

namespace vouch::vuln {

struct ScanContext {
  std::string subject;         // what was scanned (image reference, SBOM file)
  std::string sbom_format;     // spdx-2.3, cyclonedx-1.6
  std::optional<sbom::Distro> distro;
  std::string database_path;
  std::optional<UnixSeconds> database_last_import;
  std::string database_newest;  // newest `modified` in the database
  UnixSeconds started = 0;
  UnixSeconds finished = 0;
  std::string scanner_version = "0.1.0";
};

// Orders findings: severity (critical first), then CVSS score, id, package name and version.
void sort_findings(std::vector<Finding>& findings);

// True when a vulnerability (not informational, not suppressed) reaches `threshold`.
bool reaches(const MatchReport& report, Severity threshold);

std::string report_table(const MatchReport& report);
boost::json::value report_json(const MatchReport& report, const ScanContext& ctx);
boost::json::value report_sarif(const MatchReport& report, const ScanContext& ctx);
boost::json::value report_cosign_vuln(const MatchReport& report, const ScanContext& ctx);

}  // namespace vouch::vuln
