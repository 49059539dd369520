// scan: known vulnerabilities of the packages in an SBOM, from the local OSV database.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/progress.h"
#include "cli/sbom_target.h"
#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/sbom/reader.h"
#include "vouch/vuln/cyclonedx_vex.h"
#include "vouch/vuln/report.h"
#include "vouch/vuln/vex.h"

namespace vouch::cli {
namespace {

struct ScanOptions {
  std::vector<std::string> target;  // TARGET, or trivy's KIND TARGET (image, fs, rootfs, sbom)
  std::string db;
  std::string fail_on;
  std::string output = "table";  // -o/--output: the format, or with --format the file (trivy)
  std::string format;            // --format (trivy)
  std::string file;
  bool only_fixed = false;       // --only-fixed (grype), --ignore-unfixed (trivy)
  std::string severities;        // --severity LIST (trivy)
  int exit_code = -1;            // --exit-code N (trivy); -1: not given
  std::vector<std::string> vex;
  std::string platform;
  std::string max_db_age;
  bool allow_insecure = false;
  TimeoutFlag timeout;
};

const std::vector<std::string> kScanFormats{"table", "json", "sarif", "cosign-vuln", "cyclonedx", "cyclonedx-json"};

// The format and the file: grype's -o FORMAT and --file, or trivy's --format FORMAT with
// -o/--output FILE.
Result<std::pair<std::string, std::string>> format_and_file(const ScanOptions& o) {
  std::string format = o.format.empty() ? o.output : o.format;
  std::string file = o.file;
  if (!o.format.empty() && o.output != "table") {
    if (!file.empty() && file != o.output)
      return invalid_input(fmt::format("--format {} with -o {} and --file {}: give the file once", o.format, o.output, o.file));
    file = o.output;
  }
  if (std::find(kScanFormats.begin(), kScanFormats.end(), format) == kScanFormats.end())
    return invalid_input(fmt::format("unknown format '{}' (want table, json, sarif, cosign-vuln or cyclonedx){}", format,
                                     o.format.empty() ? "; with --format, -o names the output file" : ""));
  return std::make_pair(format, file);
}

// trivy's --severity: the comma-separated severities to report (UNKNOWN, LOW, MEDIUM, HIGH,
// CRITICAL, any case); empty: all.
Result<std::vector<vuln::Severity>> severity_list(const std::string& text) {
  std::vector<vuln::Severity> out;
  if (text.empty()) return out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    std::string lower;
    for (char c : item) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "unknown") out.push_back(vuln::Severity::kUnknown);
    else if (lower == "negligible") out.push_back(vuln::Severity::kNegligible);
    else {
      auto s = vuln::parse_severity(lower);
      if (!s.ok()) return invalid_input(fmt::format("--severity {}: '{}' is not UNKNOWN, LOW, MEDIUM, HIGH or CRITICAL", text, item));
      out.push_back(*s);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// --only-fixed and --severity: findings outside them are not reported (and fail nothing).
void filter_findings(vuln::MatchReport& report, bool only_fixed, const std::vector<vuln::Severity>& severities) {
  auto dropped = [&](const vuln::Finding& f) {
    if (only_fixed && f.fixed_versions.empty()) return true;
    return !severities.empty() && std::find(severities.begin(), severities.end(), f.severity) == severities.end();
  };
  std::erase_if(report.vulnerabilities, dropped);
  std::erase_if(report.informational, dropped);
}

// trivy names what it scans with a subcommand (`trivy image IMAGE`, `trivy fs DIR`, `trivy sbom
// FILE`); vouch with the target's prefix. Both are taken.
Result<std::string> scan_target(const std::vector<std::string>& args) {
  if (args.size() == 1) return args.front();
  const std::string& kind = args[0];
  const std::string& what = args[1];
  if (args.size() == 2) {
    if (kind == "image") return what;
    if (kind == "fs" || kind == "rootfs") return what.starts_with("dir:") ? what : "dir:" + what;
    if (kind == "sbom") return what.starts_with("sbom:") ? what : "sbom:" + what;
  }
  return invalid_input(fmt::format("one TARGET, or trivy's `image IMAGE`, `fs DIR`, `rootfs DIR` or `sbom FILE`; got '{}'",
                                   fmt::join(args, " ")));
}

int scan(const ScanOptions& o) {
  vuln::ScanContext ctx;
  ctx.started = now_unix();
  Progress progress;
  auto run = [&]() -> Result<vuln::MatchReport> {
    VOUCH_ASSIGN_OR_RETURN(const std::string target, scan_target(o.target));
    // The age beyond which the data is stale: --max-db-age, else $VOUCH_DB_MAX_AGE, else 5 days.
    int64_t max_age = vuln::kStaleAfterSeconds;
    std::string age_text = o.max_db_age;
    if (age_text.empty())
      if (const char* env = std::getenv("VOUCH_DB_MAX_AGE"); env && *env) age_text = env;
    if (!age_text.empty()) {
      VOUCH_ASSIGN_OR_RETURN(max_age, vuln::parse_max_age(age_text));
    }
    VOUCH_ASSIGN_OR_RETURN(auto where, format_and_file(o));
    const auto& [format, file] = where;
    VOUCH_ASSIGN_OR_RETURN(std::vector<vuln::Severity> severities, severity_list(o.severities));
    std::optional<vuln::Severity> threshold;
    if (!o.fail_on.empty()) {
      VOUCH_ASSIGN_OR_RETURN(vuln::Severity s, vuln::parse_severity(o.fail_on));
      threshold = s;
    }
    // The database first: no cataloging when there is nothing to match against.
    std::filesystem::path dir = o.db.empty() ? vuln::default_database_dir() : std::filesystem::path(o.db);
    VOUCH_ASSIGN_OR_RETURN(auto store, vuln::open_sqlite_store(vuln::database_file(dir), false));
    VOUCH_ASSIGN_OR_RETURN(vuln::DatabaseFreshness status, store->freshness());
    ctx.database_path = status.path;
    ctx.database_last_import = status.last_import;
    ctx.database_newest = status.newest_modified;
    if (auto warning = vuln::staleness_warning(status, now_unix(), max_age))
      fmt::print(stderr, "warning: {}\n", *warning);
    sbom::Sbom doc;
    if (target.starts_with("sbom:")) {
      std::string path = target.substr(5);
      VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(path, sbom::kMaxSbomBytes));
      auto parsed = sbom::read_sbom(text);
      if (!parsed.ok()) return std::move(parsed).error().context(path);
      doc = std::move(parsed).value();
      if (doc.name.empty()) doc.name = path;
    } else {
      // An image or dir:PATH: catalogued on the way, as `vouch sbom` does.
      oci::StoreOptions so;
      so.allow_insecure = o.allow_insecure;
      so.timeout = o.timeout.duration();
      std::optional<oci::Platform> platform;
      if (!o.platform.empty()) {
        VOUCH_ASSIGN_OR_RETURN(oci::Platform p, oci::parse_platform(o.platform));
        platform = p;
      }
      VOUCH_ASSIGN_OR_RETURN(doc, sbom_for_target(target, so, platform, &progress));
      doc.format = target.starts_with("dir:") ? "directory" : "image";
    }
    ctx.subject = doc.name;
    ctx.sbom_format = doc.format;
    ctx.distro = doc.distro;
    std::vector<vuln::VexStatement> statements;
    for (const auto& v : o.vex) {
      VOUCH_ASSIGN_OR_RETURN(std::string vtext, read_file(v, 64 << 20));
      VOUCH_ASSIGN_OR_RETURN(auto st, vuln::parse_openvex(vtext, v));
      statements.insert(statements.end(), st.begin(), st.end());
    }
    progress.phase("matching packages", doc.packages.size());
    VOUCH_ASSIGN_OR_RETURN(vuln::MatchReport report,
                           vuln::match_sbom(doc, *store, [&](size_t done, size_t) { progress.set(done); }));
    progress.finish();
    print_catalog_warnings(doc);
    vuln::apply_vex(statements, ctx.subject, report);
    filter_findings(report, o.only_fixed, severities);
    vuln::sort_findings(report.vulnerabilities);
    vuln::sort_findings(report.informational);
    vuln::sort_findings(report.suppressed);
    ctx.finished = now_unix();
    std::string out;
    if (format == "table") out = vuln::report_table(report);
    else if (format == "json") out = json::pretty(vuln::report_json(report, ctx));
    else if (format == "sarif") out = json::pretty(vuln::report_sarif(report, ctx));
    else if (format == "cyclonedx" || format == "cyclonedx-json")
      out = json::pretty(vuln::report_cyclonedx_vex(report, ctx, doc.packages));
    else out = json::pretty(vuln::report_cosign_vuln(report, ctx));
    if (!out.empty() && out.back() != '\n') out += '\n';
    if (file.empty()) fmt::print("{}", out);
    else VOUCH_RETURN_IF_ERROR(write_file_atomic(file, out));
    if (threshold && vuln::reaches(report, *threshold))
      return verification_failed(fmt::format("vulnerabilities of severity {} or higher found (--fail-on {})",
                                             vuln::severity_name(*threshold), o.fail_on));
    // trivy --exit-code without --fail-on: any finding reported fails.
    if (!threshold && o.exit_code > 0 && !report.vulnerabilities.empty())
      return verification_failed(fmt::format("{} vulnerabilities found (--exit-code {})", report.vulnerabilities.size(),
                                             o.exit_code));
    return report;
  };
  auto r = run();
  progress.finish();  // the error line, if any, starts on a clean line
  if (!r.ok()) {
    int code = report(r.error());
    return code == kExitFailed && o.exit_code >= 0 ? o.exit_code : code;
  }
  return kExitOk;
}

}  // namespace

void register_scan_commands(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ScanOptions>();
  auto* cmd = app.add_subcommand(
      "scan",
      "Find known vulnerabilities in the packages of an image, a directory tree (dir:PATH) or an\n"
      "SBOM (sbom:FILE, SPDX 2.3 or CycloneDX JSON); images and directories are catalogued first\n"
      "as `vouch sbom` does. Uses the local OSV database (`vouch db import`). OS packages match\n"
      "their distribution's advisories through their source package; language packages that an\n"
      "OS package owns are left to the distribution. Severity from CVSS v4.0 vectors, else v3, else the\n"
      "record's own. Warns when the data is older than --max-db-age. Long work shows a progress line\n"
      "when stderr is a terminal. Takes grype's flags (-o FORMAT, --file, --fail-on, --only-fixed) and\n"
      "trivy's (--format FORMAT with -o FILE, --severity, --ignore-unfixed, --exit-code).\n"
      "Exit 0 clean, 1 when a finding reaches --fail-on (or --exit-code N), 2 bad input.");
  cmd->add_option("--db", o->db, "Database directory (default $XDG_CACHE_HOME/vouch/db)");
  cmd->add_option("-f,--fail-on", o->fail_on, "Exit 1 when a vulnerability reaches this severity")
      ->check(CLI::IsMember({"low", "medium", "high", "critical"}));
  cmd->add_option("-o,--output", o->output,
                  "Output format: table, json, sarif, cosign-vuln or cyclonedx (CycloneDX 1.6 with vulnerabilities\n"
                  "and VEX analysis; also cyclonedx-json); when --format is given, the file to write (as trivy)")
      ->capture_default_str();
  cmd->add_option("--format", o->format, "Output format, as trivy's --format (then -o/--output names the file)");
  cmd->add_option("--file", o->file, "Write the report to this file instead of stdout");
  cmd->add_flag("--only-fixed,--ignore-unfixed", o->only_fixed,
                "Report only vulnerabilities that have a fixed version (grype --only-fixed, trivy --ignore-unfixed)");
  cmd->add_option("--severity", o->severities,
                  "Report only these severities: a comma-separated list of UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL\n"
                  "(trivy; default: all)");
  cmd->add_option("--exit-code", o->exit_code,
                  "Exit with this code instead of 1 when a reported vulnerability reaches --fail-on, or, without\n"
                  "--fail-on, when any vulnerability is reported (trivy)")
      ->check(CLI::Range(0, 255));
  cmd->add_option("--vex", o->vex, "OpenVEX document; not_affected and fixed statements suppress findings");
  cmd->add_option("--platform", o->platform, "os/arch[/variant] to pick from an index (default: this machine's)");
  cmd->add_option("--max-db-age", o->max_db_age,
                  "Warn when the database was last imported longer ago than this (120h, 5d, 90m, 3600s;\n"
                  "default $VOUCH_DB_MAX_AGE, else 5d, as grype's db.max-allowed-built-age)");
  cmd->add_flag("--allow-insecure-registry", o->allow_insecure,
                "Allow plain HTTP and unverified TLS for registries other than localhost");
  o->timeout.add(cmd);
  cmd->add_option("TARGET", o->target,
                  "IMAGE, dir:PATH or sbom:FILE; also trivy's `image IMAGE`, `fs DIR`, `rootfs DIR`, `sbom FILE`")
      ->required()
      ->expected(1, 2);
  cmd->callback([o, &exit_code] { exit_code = scan(*o); });
}

}  // namespace vouch::cli
