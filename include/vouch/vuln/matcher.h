// Matching SBOM packages against OSV records: which known vulnerabilities a set of
// packages carries, with the version each is fixed in.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vouch/base/result.h"
#include "vouch/sbom/package.h"
#include "vouch/vuln/cvss.h"
#include "vouch/vuln/database.h"
#include "vouch/vuln/osv.h"
#include "vouch/vuln/version.h"

namespace vouch::vuln {

// Where to look for a package's advisories: the OSV ecosystem and the name and version
// to compare there (for Debian, the source package's).
struct MatchKey {
  std::string ecosystem;  // "Debian:12", "PyPI", "Go", …
  std::string name;
  std::string version;
  std::string via;        // how the key was derived, for the report ("source package openssl")
};

// The key for a package; nullopt with a reason when the package cannot be matched
// (no PURL, an ecosystem OSV does not cover, no distro release for an OS package).
Result<MatchKey> match_key(const sbom::Package& package, const std::optional<sbom::Distro>& distro);

// Whether `version` lies in the affected ranges or versions of `affected`. Ranges of a
// type that cannot be evaluated (GIT) are skipped and noted.
struct AffectedCheck {
  bool affected = false;
  std::vector<std::string> fixed;  // fixed versions above `version` in the ranges that hit
  std::vector<std::string> notes;
};
Result<AffectedCheck> check_affected(const OsvAffected& affected, std::string_view version);

struct FindingPackage {
  std::string id, name, version, type, purl;
};

struct Finding {
  std::string id;                    // the preferred id: a CVE when one is known, else the record's
  std::vector<std::string> aliases;  // every other id of the same vulnerability, sorted
  std::vector<std::string> records;  // the OSV records that matched
  FindingPackage package;
  std::string ecosystem;
  std::string matched_by;  // "purl pkg:pypi/jinja2@2.10", "source package openssl 1.1.1n-0+deb11u3"
  std::vector<std::string> fixed_versions;
  std::string summary;
  Severity severity = Severity::kUnknown;
  std::optional<double> score;  // CVSS base score when a vector was given
  std::string score_vector;
  std::string severity_source;  // "CVSS_V3", "database_specific", …
  std::string informational;    // RustSec: unmaintained, unsound, notice
  std::vector<std::string> references;
  // Set when a VEX statement suppressed the finding.
  std::string vex_status;         // not_affected, fixed
  std::string vex_justification;  // e.g. vulnerable_code_not_in_execute_path
  std::string vex_statement;      // impact or action statement, document id
};

struct MatchReport {
  std::vector<Finding> vulnerabilities;
  std::vector<Finding> informational;  // RustSec unmaintained/unsound/notice advisories
  std::vector<Finding> suppressed;     // by VEX
  std::vector<std::string> notes;      // packages not matched and why, ranges skipped
  size_t packages = 0;
  size_t packages_matched = 0;        // packages with a match key
  size_t packages_owned = 0;          // language packages left to their owning OS package
  size_t withdrawn_ignored = 0;
};

Result<MatchReport> match_sbom(const sbom::Sbom& sbom, VulnerabilityStore& store);

// Severity of a record for a package: CVSS v3 vectors (base score computed) in the affected
// entry or the record, else database_specific severity.
void assign_severity(const OsvRecord& record, const OsvAffected* affected, Finding& finding);

}  // namespace vouch::vuln
