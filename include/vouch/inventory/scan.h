// What the inventory does with the vulnerability database: scans an image when it is added,
// rescans after a database update only the images holding a package a changed record names
// (opening new findings and closing those that no longer match), applies retention, and answers
// "which images hold this package in this version range".
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "vouch/inventory/store.h"
#include "vouch/sbom/package.h"
#include "vouch/vuln/database.h"
#include "vouch/vuln/matcher.h"

namespace vouch::inventory {

// A matcher finding as an inventory row of `digest` (suppressed by VEX -> SUPPRESSED).
FindingRow row_from_finding(const vuln::Finding& finding, FindingStatus status = FindingStatus::kActive);

// Adds (or refreshes) an image with its SBOM and scans it at once against `vulns` (the
// database at `vuln_db_file`).
Result<Reconciled> add_and_scan(InventoryStore& store, vuln::VulnerabilityStore& vulns,
                                const std::filesystem::path& vuln_db_file, const Image& image, const sbom::Sbom& sbom);

struct RescanResult {
  int64_t from_seq = 0, to_seq = 0;  // database updates covered: (from, to]
  size_t changed_records = 0;
  size_t images = 0;                 // images matched again
  size_t packages = 0;               // packages matched again
  std::vector<std::string> expired;  // images retention made inactive
  size_t opened = 0, reopened = 0, closed = 0;
  size_t purged = 0;                 // closed findings deleted
  double seconds = 0;
};

struct RescanOptions {
  // Retention: images neither pushed nor seen for this many days go inactive; 0 keeps all.
  int retention_days = 0;
  // Matches every active image again, not only those a change names (after a first import).
  bool full = false;
  // A closed finding that matches again within this many days reopens; later, a new one opens.
  int reopen_days = static_cast<int>(kReopenWithinSeconds / 86400);
  // Closed findings are deleted this many days after closing; 0 keeps them.
  int delete_closed_days = kDeleteClosedAfterDays;
  // The time of the rescan (tests); now when absent.
  std::optional<UnixSeconds> now;
};

// Rescans after the database updates the inventory has not seen yet (`vuln_db_file` is the
// database `vulns` reads).
Result<RescanResult> rescan(InventoryStore& store, vuln::VulnerabilityStore& vulns,
                            const std::filesystem::path& vuln_db_file, const RescanOptions& options);

// A version constraint: comparisons joined by ',' (all must hold): "<2.17.0", ">=2.0,<2.17.0",
// "=1.2.3"; a bare version means "=".
struct VersionConstraint {
  struct Term {
    std::string op;  // <, <=, >, >=, =, !=
    std::string version;
  };
  std::vector<Term> terms;
};
Result<VersionConstraint> parse_constraint(std::string_view text);

// The version ordering of a purl type (maven, pypi, npm, golang, cargo, gem, composer, nuget,
// deb, apk, rpm); fails for types without one.
Result<vuln::VersionScheme> scheme_for_purl_type(std::string_view type);

// Whether `version` satisfies `constraint` in `scheme`'s ordering; a version that cannot be
// ordered fails.
Result<bool> satisfies(vuln::VersionScheme scheme, std::string_view version, const VersionConstraint& constraint);

struct QueryResult {
  std::vector<PackageHit> hits;
  std::vector<std::string> notes;  // versions that could not be ordered
};
// The packages `purl` names (its version ignored) whose version satisfies `constraint` (all
// when empty).
Result<QueryResult> query_packages(InventoryStore& store, std::string_view purl, std::string_view constraint,
                                   bool include_inactive);

}  // namespace vouch::inventory
