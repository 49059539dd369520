// scan: known vulnerabilities of the packages in an SBOM, from the local OSV database.
#include <unistd.h>

#include <cstdlib>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/progress.h"
#include "cli/sbom_target.h"
#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/sbom/reader.h"
#include "vouch/vuln/report.h"
#include "vouch/vuln/vex.h"

namespace vouch::cli {
namespace {

struct ScanOptions {
  std::string target;
  std::string db;
  std::string fail_on;
  std::string output = "table";
  std::string file;
  std::vector<std::string> vex;
  std::string platform;
  std::string max_db_age;
  bool allow_insecure = false;
  TimeoutFlag timeout;
};

int scan(const ScanOptions& o) {
  vuln::ScanContext ctx;
  ctx.started = now_unix();
  Progress progress;
  auto run = [&]() -> Result<vuln::MatchReport> {
    // The age beyond which the data is stale: --max-db-age, else $VOUCH_DB_MAX_AGE, else 5 days.
    int64_t max_age = vuln::kStaleAfterSeconds;
    std::string age_text = o.max_db_age;
    if (age_text.empty())
      if (const char* env = std::getenv("VOUCH_DB_MAX_AGE"); env && *env) age_text = env;
    if (!age_text.empty()) {
      VOUCH_ASSIGN_OR_RETURN(max_age, vuln::parse_max_age(age_text));
    }
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
    if (o.target.starts_with("sbom:")) {
      std::string path = o.target.substr(5);
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
      VOUCH_ASSIGN_OR_RETURN(doc, sbom_for_target(o.target, so, platform, &progress));
      doc.format = o.target.starts_with("dir:") ? "directory" : "image";
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
    vuln::sort_findings(report.vulnerabilities);
    vuln::sort_findings(report.informational);
    vuln::sort_findings(report.suppressed);
    ctx.finished = now_unix();
    std::string out;
    if (o.output == "table") out = vuln::report_table(report);
    else if (o.output == "json") out = json::pretty(vuln::report_json(report, ctx));
    else if (o.output == "sarif") out = json::pretty(vuln::report_sarif(report, ctx));
    else out = json::pretty(vuln::report_cosign_vuln(report, ctx));
    if (!out.empty() && out.back() != '\n') out += '\n';
    if (o.file.empty()) fmt::print("{}", out);
    else VOUCH_RETURN_IF_ERROR(write_file_atomic(o.file, out));
    if (threshold && vuln::reaches(report, *threshold))
      return verification_failed(fmt::format("vulnerabilities of severity {} or higher found (--fail-on {})",
                                             vuln::severity_name(*threshold), o.fail_on));
    return report;
  };
  auto r = run();
  progress.finish();  // the error line, if any, starts on a clean line
  if (!r.ok()) return report(r.error());
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
      "when stderr is a terminal. Exit 0 clean, 1 when a finding reaches --fail-on, 2 bad input.");
  cmd->add_option("--db", o->db, "Database directory (default $XDG_CACHE_HOME/vouch/db)");
  cmd->add_option("-f,--fail-on", o->fail_on, "Exit 1 when a vulnerability reaches this severity")
      ->check(CLI::IsMember({"low", "medium", "high", "critical"}));
  add_output_flag(cmd, o->output, {"table", "json", "sarif", "cosign-vuln"});
  cmd->add_option("--file", o->file, "Write the report to this file instead of stdout");
  cmd->add_option("--vex", o->vex, "OpenVEX document; not_affected and fixed statements suppress findings");
  cmd->add_option("--platform", o->platform, "os/arch[/variant] to pick from an index (default: this machine's)");
  cmd->add_option("--max-db-age", o->max_db_age,
                  "Warn when the database was last imported longer ago than this (120h, 5d, 90m, 3600s;\n"
                  "default $VOUCH_DB_MAX_AGE, else 5d, as grype's db.max-allowed-built-age)");
  cmd->add_flag("--allow-insecure-registry", o->allow_insecure,
                "Allow plain HTTP and unverified TLS for registries other than localhost");
  o->timeout.add(cmd);
  cmd->add_option("TARGET", o->target, "IMAGE, dir:PATH or sbom:FILE")->required();
  cmd->callback([o, &exit_code] { exit_code = scan(*o); });
}

}  // namespace vouch::cli
