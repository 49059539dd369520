// Matching SBOM packages against OSV records: which known vulnerabilities a set of
// packages carries, with the version each is fixed in.
#pragma once

#include <functional>
#include <map>
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

// The OSV ecosystems that hold a distro release's advisories, from the os-release ID and
// VERSION_ID (or a purl's distro qualifier) and the package type:
//   deb  debian 12 -> Debian:12;  ubuntu 22.04 -> Ubuntu:22.04:LTS, Ubuntu:Pro:22.04:LTS
//        (ESM fixes) and Ubuntu:22.04; ubuntu 23.10 -> Ubuntu:23.10
//   apk  alpine 3.19.1 -> Alpine:v3.19;  wolfi -> Wolfi;  chainguard -> Chainguard
//   rpm  rhel 9.3 -> every "Red Hat:enterprise_linux:9::<stream>" (appstream, baseos, …);
//        rocky/almalinux 9.3 -> Rocky Linux:9 / AlmaLinux:9;
//        sles 15.5 -> every "SUSE:Linux Enterprise <product> 15 SP5[-LTSS…]" (SUSE files base
//        packages under the module that ships them); sle-micro 5.5 -> SUSE:Linux Enterprise
//        Micro 5.5; opensuse-leap 15.5 -> openSUSE:Leap 15.5; opensuse-tumbleweed ->
//        openSUSE:Tumbleweed
struct DistroEcosystems {
  std::string primary;              // shown in reports: "Debian:12", "Red Hat:enterprise_linux:9"
  std::vector<std::string> exact;   // names looked up as they are
  std::string family_prefix;        // stored names with this prefix are candidates …
  std::string family_release;       // … when they name this release ("15 SP5"); "" = any
};
Result<DistroEcosystems> distro_ecosystems(std::string_view package_type, std::string_view distro_id,
                                           std::string_view version_id);
// Whether a stored ecosystem name belongs to `e` (exact or family).
bool ecosystem_applies(const DistroEcosystems& e, std::string_view ecosystem);

// Where to look for a package's advisories: the OSV ecosystem and the name and version
// to compare there (for Debian, the source package's).
struct MatchKey {
  std::string ecosystem;  // "Debian:12", "PyPI", "Go", … (the primary one for OS packages)
  std::string name;
  std::string version;
  std::string via;        // how the key was derived, for the report ("source package openssl")
  DistroEcosystems os;    // OS packages: every ecosystem that applies
  // rpm: advisories may name the binary package as well as its source; its name and version.
  std::string binary_name, binary_version;
};

// The key for a package; fails with a reason when the package cannot be matched (no PURL,
// an ecosystem OSV does not cover, no distro release for an OS package).
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
  // The record whose severity is reported: one of `records`, or an alias record in the
  // database when none of them carries a severity (a PYSEC record scored by its GHSA twin).
  std::string scored_by;
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

// Called after each package with (packages done, packages in all).
using MatchProgress = std::function<void(size_t done, size_t total)>;
Result<MatchReport> match_sbom(const sbom::Sbom& sbom, VulnerabilityStore& store, const MatchProgress& progress = {});

// Severity of a record for a package: a CVSS v4.0 vector, else a v3 one (score computed), in
// the affected entry or else the record; else database_specific severity. Raises the
// finding's severity (and sets scored_by) only when this record scores it higher.
void assign_severity(const OsvRecord& record, const OsvAffected* affected, Finding& finding);

// For a finding none of whose records carries a severity: the highest severity among the
// records its aliases name in `store` (GHSA before CVE before others on a tie), using the
// alias record's entry for the same package when it has one. Looks up at most 32 aliases;
// `cache` keeps records already read across findings. Leaves the finding alone when no
// alias record scores it.
using AliasCache = std::map<std::string, std::optional<OsvRecord>>;
Status borrow_alias_severity(VulnerabilityStore& store, Finding& finding, AliasCache& cache);

}  // namespace vouch::vuln
