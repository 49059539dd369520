// sbom: the packages installed in an image or a directory tree, as SPDX 2.3 JSON, CycloneDX
// 1.6 JSON or a table.
#include <algorithm>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/sbom_target.h"
#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/oci/reference.h"
#include "vouch/sbom/catalog.h"
#include "vouch/sbom/syft_json.h"
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
                                   const std::optional<oci::Platform>& platform, Progress* progress,
                                   sbom::ImageScope scope) {
  if (target.starts_with("dir:")) {
    std::string path = target.substr(4);
    if (path.empty()) return invalid_input("dir: needs a path (dir:PATH)");
    // syft catalogs a directory whatever the scope; a flag that cannot apply is refused here.
    if (scope == sbom::ImageScope::kAllLayers)
      return invalid_input(fmt::format("--scope all-layers: {} is a directory, which has no layers (the scope applies to images)", target));
    auto source = sbom::observed_source(sbom::directory_source(path), file_counter(progress));
    return sbom::catalog(*source, sbom::default_catalogers());
  }
  VOUCH_ASSIGN_OR_RETURN(oci::ImageRef ref, oci::parse_image_ref(target));
  VOUCH_ASSIGN_OR_RETURN(auto store, oci::open_store(ref, options, false));
  if (progress) progress->phase("reading image layers");
  return sbom::catalog_image(*store, platform, target, file_counter(progress), scope);
}

void print_catalog_warnings(const sbom::Sbom& doc) {
  constexpr size_t kShown = 20;
  for (size_t i = 0; i < doc.warnings.size() && i < kShown; ++i) fmt::print(stderr, "warning: skipped {}\n", doc.warnings[i]);
  if (doc.warnings.size() > kShown) fmt::print(stderr, "warning: {} more files skipped\n", doc.warnings.size() - kShown);
}

namespace {

struct SbomOptions {
  std::vector<std::string> target;  // TARGET, or `scan TARGET` as syft's subcommand
  std::vector<std::string> outputs{"table"};
  std::string file;
  std::vector<std::string> exclude;
  std::string scope = "squashed";
  std::string platform;
  bool allow_insecure = false;
  std::string username, password;
  TimeoutFlag timeout;
};

// syft's -o FORMAT[=FILE]: where one output goes (an empty file: stdout, or --file).
struct OutputTarget {
  std::string format;
  std::string file;
};

const std::vector<std::string> kSbomFormats{"spdx-json", "cyclonedx-json", "syft-json", "table", "syft-table"};

Result<std::vector<OutputTarget>> output_targets(const SbomOptions& o) {
  std::vector<OutputTarget> out;
  size_t to_stdout = 0;
  for (const auto& item : o.outputs) {
    OutputTarget t;
    auto eq = item.find('=');
    t.format = item.substr(0, eq);
    if (eq != std::string::npos) {
      t.file = item.substr(eq + 1);
      if (t.file.empty()) return invalid_input(fmt::format("-o {}: the file after '=' is empty", item));
    }
    if (std::find(kSbomFormats.begin(), kSbomFormats.end(), t.format) == kSbomFormats.end())
      return invalid_input(fmt::format("-o {}: unknown format '{}' (want spdx-json, cyclonedx-json, syft-json or table)",
                                       item, t.format));
    if (t.file.empty()) {
      t.file = o.file;
      if (t.file.empty() && ++to_stdout > 1)
        return invalid_input("only one -o may go to stdout: give the others a file (-o FORMAT=FILE)");
    }
    out.push_back(std::move(t));
  }
  return out;
}

// A glob over the absolute paths of the source: '*' and '?' within one path segment, '**'
// across segments; syft's "./" prefix (relative to a directory source's root) is the root.
bool exclude_match(std::string_view glob, std::string_view path) {
  if (glob.empty()) return path.empty();
  if (glob.starts_with("**")) {
    std::string_view rest = glob.substr(2);
    if (rest.starts_with("/") && exclude_match(rest.substr(1), path)) return true;
    for (size_t i = 0; i <= path.size(); ++i)
      if (exclude_match(rest, path.substr(i))) return true;
    return false;
  }
  if (glob.front() == '*') {
    for (size_t i = 0; i <= path.size(); ++i) {
      if (exclude_match(glob.substr(1), path.substr(i))) return true;
      if (i < path.size() && path[i] == '/') break;
    }
    return false;
  }
  if (path.empty()) return false;
  if (glob.front() == '?' ? path.front() != '/' : glob.front() == path.front())
    return exclude_match(glob.substr(1), path.substr(1));
  return false;
}

// syft --exclude: packages whose every evidence file is excluded are not reported.
void apply_excludes(sbom::Sbom& doc, const std::vector<std::string>& globs) {
  if (globs.empty()) return;
  std::vector<std::string> absolute;
  for (const auto& g : globs) absolute.push_back(g.starts_with("./") ? g.substr(1) : g);
  auto excluded = [&](const std::string& path) {
    return std::any_of(absolute.begin(), absolute.end(), [&](const std::string& g) { return exclude_match(g, path); });
  };
  std::erase_if(doc.packages, [&](const sbom::Package& p) {
    return !p.locations.empty() &&
           std::all_of(p.locations.begin(), p.locations.end(), [&](const sbom::Location& l) { return excluded(l.path); });
  });
}

Status run_sbom(const SbomOptions& o) {
  if (o.target.size() == 2 && o.target.front() != "scan")
    return invalid_input(fmt::format("one TARGET, or `scan TARGET`; got '{}' and '{}'", o.target[0], o.target[1]));
  const std::string& target = o.target.back();
  const sbom::ImageScope scope = o.scope == "all-layers" ? sbom::ImageScope::kAllLayers : sbom::ImageScope::kSquashed;
  if (target.starts_with("dir:") && scope == sbom::ImageScope::kAllLayers)
    return invalid_input(fmt::format("--scope all-layers: {} is a directory, which has no layers (the scope applies to images)", target));
  VOUCH_ASSIGN_OR_RETURN(std::vector<OutputTarget> targets, output_targets(o));
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
  VOUCH_ASSIGN_OR_RETURN(sbom::Sbom doc, sbom_for_target(target, so, platform, &progress, scope));
  progress.finish();
  apply_excludes(doc, o.exclude);
  if (target.starts_with("dir:")) doc.format = "directory";  // syft-json's source.type
  for (const auto& t : targets) {
    std::string out;
    if (t.format == "spdx-json") out = json::pretty(sbom::write_spdx_json(doc, wo));
    else if (t.format == "cyclonedx-json") out = json::pretty(sbom::write_cyclonedx_json(doc, wo));
    else if (t.format == "syft-json") out = json::pretty(sbom::write_syft_json(doc, wo));
    else out = sbom::write_table(doc);
    if (!out.empty() && out.back() != '\n') out += '\n';
    if (t.file.empty()) fmt::print("{}", out);
    else VOUCH_RETURN_IF_ERROR(write_file_atomic(t.file, out));
  }
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
      "Takes syft's command line: `vouch sbom [scan] TARGET -o FORMAT[=FILE] ...`.\n"
      "Output is deterministic given SOURCE_DATE_EPOCH. Long work shows a progress line when stderr\n"
      "is a terminal.\n"
      "Exit 0 on success, 2 on bad input.");
  cmd->add_option("-o,--output", o->outputs,
                  "Output FORMAT[=FILE], repeatable as syft's (one may go to stdout): spdx-json, cyclonedx-json,\n"
                  "syft-json (syft's own schema 16), table (also syft-table)")
      ->allow_extra_args(false)
      ->capture_default_str();
  cmd->add_option("--file", o->file, "Write the SBOM to this file (atomically) instead of stdout");
  cmd->add_option("--exclude", o->exclude,
                  "Glob of paths to leave out, repeatable as syft's ('**/node_modules/**', './vendor/**' relative\n"
                  "to a directory): packages found only in excluded files are not reported")
      ->allow_extra_args(false);
  cmd->add_option("-s,--scope", o->scope,
                  "Which files of an image, as syft's: squashed (what the final filesystem holds) or all-layers\n"
                  "(the filesystem after each layer: packages whose files a later layer deleted or rewrote are\n"
                  "reported too, each location with its layer); images only, refused for dir:PATH")
      ->check(CLI::IsMember({"squashed", "all-layers"}))
      ->capture_default_str();
  cmd->add_option("--platform", o->platform, "os/arch[/variant] to pick from an index (default: this machine's)");
  cmd->add_flag("--allow-insecure-registry", o->allow_insecure,
                "Allow plain HTTP and unverified TLS for registries other than localhost");
  o->timeout.add(cmd);
  cmd->add_option("--username", o->username, "Registry user name (default: from ~/.docker/config.json)");
  cmd->add_option("--password", o->password, "Registry password (default: from ~/.docker/config.json)");
  cmd->add_option("TARGET", o->target, "IMAGE (registry, oci:PATH, docker-archive:FILE) or dir:PATH; `scan TARGET` as syft")
      ->required()
      ->expected(1, 2);
  cmd->callback([o, &exit_code] {
    Status st = run_sbom(*o);
    exit_code = st.ok() ? kExitOk : report(st.error());
  });
}

}  // namespace vouch::cli
