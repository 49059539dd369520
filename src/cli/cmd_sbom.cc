// sbom: the packages installed in an image or a directory tree, as SPDX 2.3 JSON, CycloneDX
// 1.6 JSON or a table.
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/sbom_target.h"
#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/oci/reference.h"
#include "vouch/sbom/catalog.h"
#include "vouch/sbom/writer.h"

namespace vouch::cli {

namespace {

// Counts the files walked on the progress line; the first file starts the phase (for
// images, once their layers have been read).
sbom::FileObserver file_counter(Progress* progress) {
  if (!progress) return {};
  return [progress, started = false](const sbom::SourceFile&) mutable {
    if (!started) {
      progress->phase("cataloging: files");
      started = true;
    }
    progress->advance();
  };
}

}  // namespace

Result<sbom::Sbom> sbom_for_target(const std::string& target, const oci::StoreOptions& options,
                                   const std::optional<oci::Platform>& platform, Progress* progress) {
  if (target.starts_with("dir:")) {
    std::string path = target.substr(4);
    if (path.empty()) return invalid_input("dir: needs a path (dir:PATH)");
    auto source = sbom::observed_source(sbom::directory_source(path), file_counter(progress));
    return sbom::catalog(*source, sbom::default_catalogers());
  }
  VOUCH_ASSIGN_OR_RETURN(oci::ImageRef ref, oci::parse_image_ref(target));
  VOUCH_ASSIGN_OR_RETURN(auto store, oci::open_store(ref, options, false));
  if (progress) progress->phase("reading image layers");
  return sbom::catalog_image(*store, platform, target, file_counter(progress));
}

void print_catalog_warnings(const sbom::Sbom& doc) {
  constexpr size_t kShown = 20;
  for (size_t i = 0; i < doc.warnings.size() && i < kShown; ++i) fmt::print(stderr, "warning: skipped {}\n", doc.warnings[i]);
  if (doc.warnings.size() > kShown) fmt::print(stderr, "warning: {} more files skipped\n", doc.warnings.size() - kShown);
}

namespace {

struct SbomOptions {
  std::string target;
  std::string output = "table";
  std::string file;
  std::string platform;
  bool allow_insecure = false;
  std::string username, password;
  TimeoutFlag timeout;
};

Status run_sbom(const SbomOptions& o) {
  oci::StoreOptions so;
  so.allow_insecure = o.allow_insecure;
  so.username = o.username;
  so.password = o.password;
  so.timeout = o.timeout.duration();
  std::optional<oci::Platform> platform;
  if (!o.platform.empty()) {
    VOUCH_ASSIGN_OR_RETURN(oci::Platform p, oci::parse_platform(o.platform));
    platform = p;
  }
  // Checked before the work: a bad SOURCE_DATE_EPOCH is an input error either way.
  sbom::WriteOptions wo;
  VOUCH_ASSIGN_OR_RETURN(wo.created, sbom::creation_time());
  Progress progress;
  VOUCH_ASSIGN_OR_RETURN(sbom::Sbom doc, sbom_for_target(o.target, so, platform, &progress));
  progress.finish();
  std::string out;
  if (o.output == "spdx-json") out = json::pretty(sbom::write_spdx_json(doc, wo));
  else if (o.output == "cyclonedx-json") out = json::pretty(sbom::write_cyclonedx_json(doc, wo));
  else out = sbom::write_table(doc);
  if (!out.empty() && out.back() != '\n') out += '\n';
  if (o.file.empty()) fmt::print("{}", out);
  else VOUCH_RETURN_IF_ERROR(write_file_atomic(o.file, out));
  print_catalog_warnings(doc);
  return ok_status();
}

}  // namespace

void register_sbom_commands(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<SbomOptions>();
  auto* cmd = app.add_subcommand(
      "sbom",
      "List the packages installed in an image or a directory tree (dir:PATH; symbolic links are\n"
      "not followed out of it): the distro (os-release), Debian (dpkg), Alpine (apk) and RPM\n"
      "(rpmdb.sqlite) packages with the files they own; npm, Python, Ruby gem, PHP Composer and .NET\n"
      "packages, Go modules in Go executables, Rust crates (Cargo.lock, cargo-auditable executables)\n"
      "and Maven packages in Java archives, each related to the OS package that installed it; CPE\n"
      "candidates as syft generates them. Malformed language package files are skipped with a\n"
      "warning; a malformed OS package database (dpkg, apk, rpm) fails the command.\n"
      "Output is deterministic given SOURCE_DATE_EPOCH. Long work shows a progress line when stderr\n"
      "is a terminal.\n"
      "Exit 0 on success, 2 on bad input.");
  add_output_flag(cmd, o->output, {"spdx-json", "cyclonedx-json", "table"});
  cmd->add_option("--file", o->file, "Write the SBOM to this file (atomically) instead of stdout");
  cmd->add_option("--platform", o->platform, "os/arch[/variant] to pick from an index (default: this machine's)");
  cmd->add_flag("--allow-insecure-registry", o->allow_insecure,
                "Allow plain HTTP and unverified TLS for registries other than localhost");
  o->timeout.add(cmd);
  cmd->add_option("--username", o->username, "Registry user name (default: from ~/.docker/config.json)");
  cmd->add_option("--password", o->password, "Registry password (default: from ~/.docker/config.json)");
  cmd->add_option("TARGET", o->target, "IMAGE (registry, oci:PATH, docker-archive:FILE) or dir:PATH")->required();
  cmd->callback([o, &exit_code] {
    Status st = run_sbom(*o);
    exit_code = st.ok() ? kExitOk : report(st.error());
  });
}

}  // namespace vouch::cli
