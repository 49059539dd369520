// npm: package-lock.json (lockfileVersion 1: the nested "dependencies" tree; 2 and 3: the
// "packages" map keyed by install path) and the package.json of installed packages
// (node_modules/NAME/package.json, node_modules/@SCOPE/NAME/package.json, and Debian's
// /usr/share/nodejs/NAME/package.json). An installed package
// that a lock file of the same project lists is one package with both locations.
#include <map>

#include <fmt/format.h>

#include "cataloger_lang.h"
#include "vouch/sbom/catalog.h"

namespace vouch::sbom {
namespace {

namespace bj = boost::json;

constexpr int kMaxV1Depth = 64;

Package npm_package(std::string name, std::string version, const FoundFile& f) {
  Package p;
  p.type = type::kNpm;
  std::string ns, base = name;
  if (name.starts_with("@")) {
    size_t slash = name.find('/');
    if (slash != std::string::npos) {
      ns = name.substr(0, slash);
      base = name.substr(slash + 1);
    }
  }
  p.purl = detail::language_purl("npm", ns, base, version);
  p.name = std::move(name);
  p.version = std::move(version);
  p.locations.push_back(detail::location_of(f));
  return p;
}

// The package name of an install path: what follows the last "node_modules/".
std::string name_from_install_path(std::string_view key) {
  size_t at = key.rfind("node_modules/");
  return std::string(at == std::string_view::npos ? key : key.substr(at + 13));
}

class NpmCataloger : public Cataloger {
 public:
  std::string name() const override { return "npm"; }
  std::vector<std::string> globs() const override {
    // Debian installs node modules as /usr/share/nodejs/NAME (and /usr/lib/nodejs/NAME for
    // architecture-dependent ones), outside any node_modules directory.
    return {"**/package-lock.json",          "**/node_modules/*/package.json", "**/node_modules/@*/*/package.json",
            "/usr/share/nodejs/*/package.json", "/usr/share/nodejs/@*/*/package.json", "/usr/lib/nodejs/*/package.json",
            "/usr/lib/nodejs/@*/*/package.json"};
  }
  size_t max_file_bytes() const override { return detail::kMaxManifestBytes; }

  Status parse(const std::vector<FoundFile>& files, CatalogContext& ctx) const override {
    std::map<std::string, size_t> by_path;  // install directory -> index in ctx.packages
    for (const auto& f : files)
      if (detail::basename(f.file.path) == "package-lock.json") parse_lock(f, ctx, by_path);
    for (const auto& f : files)
      if (detail::basename(f.file.path) == "package.json") parse_installed(f, ctx, by_path);
    return ok_status();
  }

 private:
  static void parse_lock(const FoundFile& f, CatalogContext& ctx, std::map<std::string, size_t>& by_path) {
    // Lock files that packages ship inside node_modules describe their own development.
    if (f.file.path.find("/node_modules/") != std::string::npos) return;
    auto doc = detail::parse_json_file(f);
    if (!doc.ok()) return detail::skip_file(ctx, f, doc.error().message);
    if (!doc->is_object()) return detail::skip_file(ctx, f, "not a JSON object");
    const bj::object& o = doc->as_object();
    const bj::value* version = o.if_contains("lockfileVersion");
    if (!version || !version->is_int64()) return detail::skip_file(ctx, f, "lockfileVersion: missing or not a number");
    std::string dir = detail::dirname(f.file.path);
    int64_t v = version->as_int64();
    std::vector<Package> found;
    std::vector<std::string> paths;
    if (v == 2 || v == 3) {
      const bj::value* packages = o.if_contains("packages");
      if (!packages || !packages->is_object()) return detail::skip_file(ctx, f, "packages: missing or not an object");
      for (const auto& [key, meta] : packages->as_object()) {
        if (!meta.is_object()) return detail::skip_file(ctx, f, fmt::format("packages[\"{}\"]: not an object", std::string_view(key)));
        const bj::value* link = meta.as_object().if_contains("link");
        if (link && link->is_bool() && link->as_bool()) continue;  // a symlink to a workspace entry listed itself
        std::string name = detail::json_string(meta, "name");
        if (key.empty() && name.empty()) continue;
        if (name.empty()) name = name_from_install_path(key);
        std::string ver = detail::json_string(meta, "version");
        if (name.empty()) continue;
        Package p = npm_package(std::move(name), std::move(ver), f);
        p.licenses = detail::manifest_licenses(meta.as_object().if_contains("license"));
        found.push_back(std::move(p));
        paths.push_back(key.empty() ? dir : dir + "/" + std::string(key));
      }
    } else if (v == 1) {
      const bj::value* deps = o.if_contains("dependencies");
      if (deps && !deps->is_object()) return detail::skip_file(ctx, f, "dependencies: not an object");
      std::string error;
      if (deps) walk_v1(deps->as_object(), dir, f, 0, found, paths, error);
      if (!error.empty()) return detail::skip_file(ctx, f, error);
      std::string root = detail::json_string(*doc, "name");
      if (!root.empty()) {
        found.push_back(npm_package(root, detail::json_string(*doc, "version"), f));
        paths.push_back(dir);
      }
    } else {
      return detail::skip_file(ctx, f, fmt::format("lockfileVersion {} is not 1, 2 or 3", v));
    }
    for (size_t i = 0; i < found.size(); ++i) {
      by_path.emplace(paths[i], ctx.packages.size());
      ctx.packages.push_back(std::move(found[i]));
    }
  }

  static void walk_v1(const bj::object& deps, const std::string& parent, const FoundFile& f, int depth,
                      std::vector<Package>& found, std::vector<std::string>& paths, std::string& error) {
    if (depth > kMaxV1Depth) {
      error = "dependencies nested too deeply";
      return;
    }
    for (const auto& [name, meta] : deps) {
      if (!meta.is_object()) {
        error = fmt::format("dependencies[\"{}\"]: not an object", std::string_view(name));
        return;
      }
      std::string path = parent + "/node_modules/" + std::string(name);
      found.push_back(npm_package(std::string(name), detail::json_string(meta, "version"), f));
      paths.push_back(path);
      const bj::value* nested = meta.as_object().if_contains("dependencies");
      if (nested && nested->is_object()) walk_v1(nested->as_object(), path, f, depth + 1, found, paths, error);
      if (!error.empty()) return;
    }
  }

  static void parse_installed(const FoundFile& f, CatalogContext& ctx, std::map<std::string, size_t>& by_path) {
    auto doc = detail::parse_json_file(f);
    if (!doc.ok()) return detail::skip_file(ctx, f, doc.error().message);
    if (!doc->is_object()) return detail::skip_file(ctx, f, "not a JSON object");
    std::string name = detail::json_string(*doc, "name"), version = detail::json_string(*doc, "version");
    // package.json files without both are fixtures or templates, not installed packages.
    if (name.empty() || version.empty()) return;
    std::vector<std::string> licenses = detail::manifest_licenses(doc->as_object().if_contains("license"));
    if (licenses.empty()) licenses = detail::manifest_licenses(doc->as_object().if_contains("licenses"));
    std::string dir = detail::dirname(f.file.path);
    if (auto it = by_path.find(dir); it != by_path.end()) {
      Package& p = ctx.packages[it->second];
      if (p.name == name && p.version == version) {
        p.locations.push_back(detail::location_of(f));
        if (p.licenses.empty()) p.licenses = std::move(licenses);
        return;
      }
    }
    Package p = npm_package(std::move(name), std::move(version), f);
    p.licenses = std::move(licenses);
    by_path.emplace(dir, ctx.packages.size());
    ctx.packages.push_back(std::move(p));
  }
};

}  // namespace

std::unique_ptr<Cataloger> npm_cataloger() { return std::make_unique<NpmCataloger>(); }

}  // namespace vouch::sbom
