// OSV records (https://ossf.github.io/osv-schema/): the parts vouch matches and reports on.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vouch/base/result.h"
#include "vouch/base/time.h"

namespace vouch::vuln {

enum class EventKind { kIntroduced, kFixed, kLastAffected, kLimit };

struct OsvEvent {
  EventKind kind;
  std::string value;
};

struct OsvRange {
  std::string type;  // ECOSYSTEM, SEMVER or GIT
  std::string repo;  // GIT only
  std::vector<OsvEvent> events;
};

struct OsvSeverity {
  std::string type;   // CVSS_V2, CVSS_V3, CVSS_V4, Ubuntu, …
  std::string score;  // a vector string, or a level for distro types
};

struct OsvAffected {
  std::string ecosystem;  // "PyPI", "Debian:12", …
  std::string name;
  std::string purl;
  std::vector<OsvRange> ranges;
  std::vector<std::string> versions;
  std::vector<OsvSeverity> severity;
  std::string informational;  // RustSec: unmaintained, unsound, notice (database_specific.informational)
};

struct OsvRecord {
  std::string id;
  std::string modified;  // as published (RFC 3339)
  UnixSeconds modified_unix = 0;
  std::string published;
  std::optional<std::string> withdrawn;
  std::vector<std::string> aliases;
  std::vector<std::string> related;
  // The upstream vulnerabilities a distro record is about (Ubuntu, Red Hat, SUSE records name
  // their CVEs here rather than in aliases).
  std::vector<std::string> upstream;
  std::string summary;
  std::string details;
  std::vector<OsvSeverity> severity;
  std::string database_severity;  // database_specific.severity ("HIGH", "moderate", …) when given
  std::vector<OsvAffected> affected;
  std::vector<std::string> references;  // URLs

  // What was irregular but not fatal ("affected[0].ranges[0].events[1].fixed: not a commit hash").
  std::vector<std::string> warnings;
};

constexpr size_t kMaxOsvRecordBytes = 8 * 1024 * 1024;

// Parses one OSV record. Structural errors (not JSON, no id or modified, wrong types) fail,
// naming the JSON path; irregular values that do not stop matching become warnings.
Result<OsvRecord> parse_osv(std::string_view json);

// The record without the parts matching never needs (details), as compact JSON in OSV shape.
std::string serialize_osv_compact(const OsvRecord& record);

// Package names as an ecosystem compares them: PyPI names are normalized (PEP 503), the
// rest are kept as written.
std::string normalize_package_name(std::string_view ecosystem, std::string_view name);

}  // namespace vouch::vuln
