#include "vouch/vuln/report.h"

#include <algorithm>
#include <array>
#include <map>

#include <fmt/format.h>

namespace vouch::vuln {
namespace {

namespace bj = boost::json;

bj::array strings(const std::vector<std::string>& v) {
  bj::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string fixed_text(const Finding& f) {
  std::string out;
  for (const auto& v : f.fixed_versions) out += (out.empty() ? "" : ", ") + v;
  return out;
}

std::string advisory_url(const Finding& f) {
  for (const auto& r : f.references)
    if (r.find("/security/") != std::string::npos || r.find("advisor") != std::string::npos) return r;
  if (!f.references.empty()) return f.references.front();
  return "https://osv.dev/vulnerability/" + (f.records.empty() ? f.id : f.records.front());
}

bj::object finding_json(const Finding& f) {
  bj::object vuln{{"id", f.id},
                  {"aliases", strings(f.aliases)},
                  {"records", strings(f.records)},
                  {"severity", std::string(severity_name(f.severity))},
                  {"summary", f.summary},
                  {"fixedVersions", strings(f.fixed_versions)},
                  {"references", strings(f.references)}};
  if (f.score) vuln["cvss"] = bj::object{{"score", *f.score}, {"vector", f.score_vector}, {"source", f.severity_source}};
  else if (!f.severity_source.empty()) vuln["severitySource"] = f.severity_source;
  // Which record's severity this is: an alias record's when the matched records carry none.
  if (!f.scored_by.empty()) vuln["scoredBy"] = f.scored_by;
  bj::object o{{"vulnerability", std::move(vuln)},
               {"package", bj::object{{"id", f.package.id},
                                      {"name", f.package.name},
                                      {"version", f.package.version},
                                      {"type", f.package.type},
                                      {"purl", f.package.purl}}},
               {"ecosystem", f.ecosystem},
               {"matchedBy", f.matched_by}};
  if (!f.informational.empty()) o["informational"] = f.informational;
  if (!f.vex_status.empty())
    o["vex"] = bj::object{{"status", f.vex_status}, {"justification", f.vex_justification}, {"statement", f.vex_statement}};
  return o;
}

std::map<Severity, int64_t> counts(const std::vector<Finding>& findings) {
  std::map<Severity, int64_t> c;
  for (const auto& f : findings) ++c[f.severity];
  return c;
}

}  // namespace

void sort_findings(std::vector<Finding>& findings) {
  std::sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    if (a.severity != b.severity) return a.severity > b.severity;
    double sa = a.score.value_or(-1), sb = b.score.value_or(-1);
    if (sa != sb) return sa > sb;
    if (a.id != b.id) return a.id < b.id;
    if (a.package.name != b.package.name) return a.package.name < b.package.name;
    return a.package.version < b.package.version;
  });
}

bool reaches(const MatchReport& report, Severity threshold) {
  for (const auto& f : report.vulnerabilities)
    if (f.severity != Severity::kUnknown && f.severity >= threshold) return true;
  return false;
}

std::string report_table(const MatchReport& report) {
  std::vector<std::array<std::string, 6>> rows;
  rows.push_back({"NAME", "INSTALLED", "FIXED-IN", "TYPE", "VULNERABILITY", "SEVERITY"});
  for (const auto& f : report.vulnerabilities)
    rows.push_back({f.package.name, f.package.version, fixed_text(f), f.package.type, f.id,
                    std::string(severity_name(f.severity))});
  std::array<size_t, 6> width{};
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  std::string out;
  if (report.vulnerabilities.empty()) out += "No vulnerabilities found\n";
  else
    for (const auto& r : rows) {
      std::string line;
      for (size_t i = 0; i < r.size(); ++i)
        line += i + 1 < r.size() ? fmt::format("{:<{}}  ", r[i], width[i]) : r[i];
      out += line + "\n";
    }
  if (!report.informational.empty()) {
    out += fmt::format("\n{} informational advisories (not vulnerabilities):\n", report.informational.size());
    for (const auto& f : report.informational)
      out += fmt::format("  {} {} {}: {} ({})\n", f.package.name, f.package.version, f.records.front(), f.informational,
                         f.summary);
  }
  if (!report.suppressed.empty()) {
    out += fmt::format("\n{} suppressed by VEX:\n", report.suppressed.size());
    for (const auto& f : report.suppressed)
      out += fmt::format("  {} {} {}: {}{}{}\n", f.package.name, f.package.version, f.id, f.vex_status,
                         f.vex_justification.empty() ? "" : " (" + f.vex_justification + ")",
                         f.vex_statement.empty() ? "" : ": " + f.vex_statement);
  }
  return out;
}

bj::value report_json(const MatchReport& report, const ScanContext& ctx) {
  bj::array matches, informational, suppressed;
  for (const auto& f : report.vulnerabilities) matches.push_back(finding_json(f));
  for (const auto& f : report.informational) informational.push_back(finding_json(f));
  for (const auto& f : report.suppressed) suppressed.push_back(finding_json(f));
  auto c = counts(report.vulnerabilities);
  bj::object summary{{"packages", report.packages},
                     {"packagesMatched", report.packages_matched},
                     {"packagesOwnedByOsPackages", report.packages_owned},
                     {"withdrawnIgnored", report.withdrawn_ignored},
                     {"critical", c[Severity::kCritical]},
                     {"high", c[Severity::kHigh]},
                     {"medium", c[Severity::kMedium]},
                     {"low", c[Severity::kLow]},
                     {"negligible", c[Severity::kNegligible]},
                     {"unknown", c[Severity::kUnknown]},
                     {"informational", report.informational.size()},
                     {"suppressed", report.suppressed.size()}};
  bj::object source{{"name", ctx.subject}, {"format", ctx.sbom_format}};
  if (ctx.distro) source["distro"] = bj::object{{"id", ctx.distro->id}, {"versionId", ctx.distro->version_id}};
  bj::object db{{"path", ctx.database_path}, {"newestModified", ctx.database_newest}};
  if (ctx.database_last_import) db["lastImport"] = format_rfc3339(*ctx.database_last_import);
  return bj::object{{"source", std::move(source)},
                    {"database", std::move(db)},
                    {"matches", std::move(matches)},
                    {"informational", std::move(informational)},
                    {"suppressed", std::move(suppressed)},
                    {"notes", strings(report.notes)},
                    {"summary", std::move(summary)}};
}

bj::value report_sarif(const MatchReport& report, const ScanContext& ctx) {
  bj::array rules, results;
  std::map<std::string, size_t> rule_index;
  for (const auto& f : report.vulnerabilities) {
    if (!rule_index.count(f.id)) {
      rule_index[f.id] = rules.size();
      std::string level = f.severity >= Severity::kHigh ? "error" : f.severity >= Severity::kMedium ? "warning" : "note";
      bj::object props{{"tags", bj::array{"vulnerability", "security", upper(severity_name(f.severity))}}};
      // GitHub code scanning reads the CVSS base score from security-severity.
      if (f.score) props["security-severity"] = fmt::format("{:.1f}", *f.score);
      rules.push_back(bj::object{
          {"id", f.id},
          {"name", "KnownVulnerability"},
          {"shortDescription", bj::object{{"text", f.summary.empty() ? f.id : f.summary}}},
          {"fullDescription", bj::object{{"text", f.summary.empty() ? f.id : f.summary}}},
          {"helpUri", advisory_url(f)},
          {"help", bj::object{{"text", fmt::format("Vulnerability {}\nSeverity: {}{}\nFixed in: {}\nLink: {}", f.id,
                                                   severity_name(f.severity),
                                                   f.scored_by.empty() ? "" : " (scored by " + f.scored_by + ")",
                                                   f.fixed_versions.empty() ? "not fixed" : fixed_text(f),
                                                   advisory_url(f))}}},
          {"defaultConfiguration", bj::object{{"level", level}}},
          {"properties", std::move(props)}});
    }
    std::string level = f.severity >= Severity::kHigh ? "error" : f.severity >= Severity::kMedium ? "warning" : "note";
    std::string message = fmt::format("{} {} is affected by {} ({}){}", f.package.name, f.package.version, f.id,
                                      severity_name(f.severity),
                                      f.fixed_versions.empty() ? "; no fix is known" : "; fixed in " + fixed_text(f));
    std::string uri = ctx.subject.empty() ? "sbom" : ctx.subject;
    results.push_back(bj::object{
        {"ruleId", f.id},
        {"ruleIndex", rule_index[f.id]},
        {"level", level},
        {"message", bj::object{{"text", message}}},
        {"locations",
         bj::array{bj::object{
             {"physicalLocation",
              bj::object{{"artifactLocation", bj::object{{"uri", uri}}},
                         {"region", bj::object{{"startLine", 1}, {"startColumn", 1}, {"endLine", 1}, {"endColumn", 1}}}}},
             {"message", bj::object{{"text", f.package.purl.empty() ? f.package.name : f.package.purl}}}}}},
        {"partialFingerprints", bj::object{{"vulnerability/package", f.id + "/" + f.package.purl}}}});
  }
  bj::object driver{{"name", "vouch"},
                    {"version", ctx.scanner_version},
                    {"rules", std::move(rules)}};
  return bj::object{{"version", "2.1.0"},
                    {"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
                    {"runs", bj::array{bj::object{{"tool", bj::object{{"driver", std::move(driver)}}},
                                                  {"results", std::move(results)}}}}};
}

bj::value report_cosign_vuln(const MatchReport& report, const ScanContext& ctx) {
  // Results grouped as trivy groups them: OS packages in one result, each language in its own.
  std::map<std::string, bj::array> by_target;
  std::map<std::string, std::pair<std::string, std::string>> target_kind;  // class, type
  for (const auto& f : report.vulnerabilities) {
    bool os = sbom::is_os_package_type(f.package.type);
    std::string target = os ? fmt::format("{} ({} {})", ctx.subject, ctx.distro ? ctx.distro->id : f.package.type,
                                          ctx.distro ? ctx.distro->version_id : "")
                            : f.package.type;
    target_kind[target] = {os ? "os-pkgs" : "lang-pkgs", os && ctx.distro ? ctx.distro->id : f.package.type};
    bj::object v{{"VulnerabilityID", f.id},
                 {"PkgID", f.package.name + "@" + f.package.version},
                 {"PkgName", f.package.name},
                 {"PkgIdentifier", bj::object{{"PURL", f.package.purl}}},
                 {"InstalledVersion", f.package.version},
                 {"FixedVersion", fixed_text(f)},
                 {"Status", f.fixed_versions.empty() ? "affected" : "fixed"},
                 {"SeveritySource", f.severity_source.empty() ? "osv" : f.severity_source},
                 {"PrimaryURL", advisory_url(f)},
                 {"Title", f.summary},
                 {"Severity", upper(severity_name(f.severity))},
                 {"VendorIDs", strings(f.records)}};
    if (f.score) {
      bool v4 = f.severity_source == "CVSS_V4";
      v["CVSS"] = bj::object{{"osv", bj::object{{v4 ? "V40Vector" : "V3Vector", f.score_vector},
                                                {v4 ? "V40Score" : "V3Score", *f.score}}}};
    }
    by_target[target].push_back(std::move(v));
  }
  bj::array results;
  for (auto& [target, vulns] : by_target)
    results.push_back(bj::object{{"Target", target},
                                 {"Class", target_kind[target].first},
                                 {"Type", target_kind[target].second},
                                 {"Vulnerabilities", std::move(vulns)}});
  auto c = counts(report.vulnerabilities);
  bj::object result{{"SchemaVersion", 2},
                    {"CreatedAt", format_rfc3339(ctx.finished)},
                    {"ArtifactName", ctx.subject},
                    {"ArtifactType", "cyclonedx"},
                    {"Results", std::move(results)},
                    {"summary", bj::object{{"criticalCount", c[Severity::kCritical]},
                                           {"highCount", c[Severity::kHigh]},
                                           {"mediumCount", c[Severity::kMedium]},
                                           {"lowCount", c[Severity::kLow]},
                                           {"unknownCount", c[Severity::kUnknown] + c[Severity::kNegligible]}}}};
  if (ctx.sbom_format.starts_with("spdx")) result["ArtifactType"] = "spdx";
  if (ctx.distro)
    result["Metadata"] = bj::object{{"OS", bj::object{{"Family", ctx.distro->id}, {"Name", ctx.distro->version_id}}}};
  return bj::object{
      {"invocation", bj::object{{"parameters", nullptr}, {"uri", ""}, {"event_id", ""}, {"builder.id", ""}}},
      {"scanner", bj::object{{"uri", "pkg:generic/vouch@" + ctx.scanner_version},
                             {"version", ctx.scanner_version},
                             {"db", bj::object{{"uri", ctx.database_path}, {"version", ctx.database_newest}}},
                             {"result", std::move(result)}}},
      {"metadata", bj::object{{"scanStartedOn", format_rfc3339(ctx.started)},
                              {"scanFinishedOn", format_rfc3339(ctx.finished)}}}};
}

}  // namespace vouch::vuln
