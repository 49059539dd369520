#include "vouch/sbom/catalog.h"

#include <fnmatch.h>

#include <algorithm>
#include <map>
#include <unordered_map>

#include <fmt/format.h>

#include "vouch/oci/image.h"
#include "vouch/sbom/cpe.h"

namespace vouch::sbom {

bool glob_match(std::string_view glob, std::string_view path) {
  std::string p(path);
  if (glob.starts_with("**/")) {
    std::string rest(glob.substr(2));  // "/…"
    for (size_t i = 0; i < p.size(); ++i) {
      if (p[i] != '/') continue;
      if (fnmatch(rest.c_str(), p.c_str() + i, FNM_PATHNAME) == 0) return true;
    }
    return false;
  }
  return fnmatch(std::string(glob).c_str(), p.c_str(), FNM_PATHNAME) == 0;
}

bool is_executable_candidate(const SourceFile& f) { return (f.mode & 0111) != 0 && f.size >= 52; }

namespace {

// FNV-1a: a stable, short fingerprint for ids (not a security property).
uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string id_safe(std::string_view s) {
  std::string out;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    out += ok ? c : '-';
  }
  return out;
}

}  // namespace

std::vector<std::unique_ptr<Cataloger>> default_catalogers() {
  std::vector<std::unique_ptr<Cataloger>> out;
  out.push_back(os_release_cataloger());
  out.push_back(dpkg_cataloger());
  out.push_back(apk_cataloger());
  out.push_back(npm_cataloger());
  out.push_back(python_cataloger());
  out.push_back(gem_cataloger());
  out.push_back(composer_cataloger());
  out.push_back(dotnet_cataloger());
  out.push_back(rpm_cataloger());
  out.push_back(go_binary_cataloger());
  out.push_back(cargo_lock_cataloger());
  out.push_back(cargo_auditable_cataloger());
  out.push_back(java_archive_cataloger());
  return out;
}

void assign_owners(std::vector<Package>& packages) {
  // Installed file -> owner id. With merged /usr (Debian 12, Fedora), a package that lists
  // /bin/x or /lib/y installed /usr/bin/x or /usr/lib/y, and the other way round: both count.
  std::unordered_map<std::string, const std::string*> owner_of;
  static constexpr std::string_view kMerged[] = {"/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/", "/libx32/"};
  for (const auto& p : packages) {
    if (!is_os_package_type(p.type) || p.id.empty()) continue;
    for (const auto& f : p.files) {
      owner_of.emplace(f, &p.id);
      for (std::string_view top : kMerged) {
        if (f.starts_with(top)) owner_of.emplace("/usr" + f, &p.id);
        else if (f.size() > 4 && std::string_view(f).substr(4).starts_with(top) && f.starts_with("/usr/"))
          owner_of.emplace(f.substr(4), &p.id);
      }
    }
  }
  if (owner_of.empty()) return;
  std::vector<std::string> owners(packages.size());
  for (size_t i = 0; i < packages.size(); ++i) {
    const Package& p = packages[i];
    if (is_os_package_type(p.type) || !p.owner_id.empty()) continue;
    for (const auto& l : p.locations) {
      if (auto it = owner_of.find(l.path); it != owner_of.end()) {
        owners[i] = *it->second;
        break;
      }
    }
  }
  for (size_t i = 0; i < packages.size(); ++i)
    if (!owners[i].empty()) packages[i].owner_id = std::move(owners[i]);
}

Result<Sbom> catalog(const FileSource& source, const std::vector<std::unique_ptr<Cataloger>>& catalogers) {
  std::vector<std::vector<std::string>> globs;
  std::vector<std::vector<std::string>> magics;
  for (const auto& c : catalogers) {
    globs.push_back(c->globs());
    magics.push_back(c->magics());
  }
  std::vector<std::vector<FoundFile>> found(catalogers.size());
  std::vector<std::string> skipped;
  VOUCH_RETURN_IF_ERROR(source.walk([&](const SourceFile& f, const ContentReader& read) -> Status {
    std::optional<std::string> content;
    bool too_large = false;
    for (size_t i = 0; i < catalogers.size(); ++i) {
      bool by_path = std::any_of(globs[i].begin(), globs[i].end(), [&](const std::string& g) { return glob_match(g, f.path); });
      bool by_content = !by_path && !magics[i].empty() && catalogers[i]->wants_file(f);
      if (!by_path && !by_content) continue;
      if (by_content && static_cast<uint64_t>(f.size) > catalogers[i]->max_file_bytes()) {
        too_large = true;
        continue;
      }
      if (!content) {
        // Read once for every cataloger; the largest limit among them bounds the read.
        size_t limit = catalogers[i]->max_file_bytes();
        for (size_t j = i + 1; j < catalogers.size(); ++j) limit = std::max(limit, catalogers[j]->max_file_bytes());
        auto r = read(std::max(limit, size_t{1}));
        if (!r.ok()) {
          // A file wanted for its path must be read; an executable looked at for its content
          // that cannot be read (permissions) is reported and passed over.
          bool path_wanted = by_path;
          for (size_t j = i + 1; j < catalogers.size() && !path_wanted; ++j)
            path_wanted = std::any_of(globs[j].begin(), globs[j].end(), [&](const std::string& g) { return glob_match(g, f.path); });
          if (path_wanted) return std::move(r).error().context(f.path);
          skipped.push_back(fmt::format("{}: not read for packages: {}", f.path, r.error().message));
          return ok_status();
        }
        content = std::move(r).value();
      }
      if (by_content && std::none_of(magics[i].begin(), magics[i].end(),
                                     [&](const std::string& m) { return content->starts_with(m); }))
        continue;
      if (content->size() > catalogers[i]->max_file_bytes())
        return invalid_input(fmt::format("{}: larger than {} bytes", f.path, catalogers[i]->max_file_bytes()));
      auto kept = catalogers[i]->extract(f, std::string_view(*content));
      if (!kept.ok()) {
        // Malformed evidence in one file (a corrupt jar, a damaged Go binary) is reported and
        // passed over, as a malformed package.json is; anything else stops the catalog.
        if (kept.error().code != ErrorCode::kInvalidInput)
          return std::move(kept).error().context(catalogers[i]->name() + " cataloger");
        const std::string& m = kept.error().message;
        skipped.push_back(m.starts_with(f.path) ? m : f.path + ": " + m);
        continue;
      }
      if (*kept) found[i].push_back(FoundFile{f, std::move(**kept)});
    }
    if (too_large) skipped.push_back(fmt::format("{}: not read for packages (larger than the limit)", f.path));
    return ok_status();
  }));
  CatalogContext ctx;
  ctx.warnings = std::move(skipped);
  for (size_t i = 0; i < catalogers.size(); ++i) {
    std::sort(found[i].begin(), found[i].end(),
              [](const FoundFile& a, const FoundFile& b) { return a.file.path < b.file.path; });
    Status st = catalogers[i]->parse(found[i], ctx);
    if (!st.ok()) return std::move(st).error().context(catalogers[i]->name() + " cataloger");
  }
  Sbom sbom;
  sbom.name = source.describe();
  sbom.distro = ctx.distro;
  sbom.packages = std::move(ctx.packages);
  sbom.warnings = std::move(ctx.warnings);
  // Ids from content, so that the same input gives the same document.
  std::map<std::string, int> seen;
  std::map<std::string, std::string> renamed;  // provisional id -> final id
  for (auto& p : sbom.packages) {
    std::string key = p.purl + "\n" + p.name + "\n" + p.version + "\n" + p.architecture;
    for (const auto& l : p.locations) key += "\n" + l.path;
    std::string id = fmt::format("{}-{}-{:016x}", id_safe(p.type), id_safe(p.name), fnv1a(key));
    int n = seen[id]++;
    if (n > 0) id += fmt::format("-{}", n);
    if (!p.id.empty()) renamed[p.id] = id;
    p.id = id;
  }
  for (auto& p : sbom.packages) {
    if (!p.owner_id.empty()) {
      auto it = renamed.find(p.owner_id);
      p.owner_id = it == renamed.end() ? std::string() : it->second;
    }
    std::vector<std::string> deps;
    for (const auto& d : p.depends_on)
      if (auto it = renamed.find(d); it != renamed.end() && it->second != p.id) deps.push_back(it->second);
    std::sort(deps.begin(), deps.end());
    deps.erase(std::unique(deps.begin(), deps.end()), deps.end());
    p.depends_on = std::move(deps);
  }
  assign_owners(sbom.packages);
  std::sort(sbom.packages.begin(), sbom.packages.end(), [](const Package& a, const Package& b) {
    return std::tie(a.type, a.name, a.version, a.id) < std::tie(b.type, b.name, b.version, b.id);
  });
  add_cpes(sbom);
  return sbom;
}

namespace {

class ObservedSource final : public FileSource {
 public:
  ObservedSource(std::unique_ptr<FileSource> inner, FileObserver observer)
      : inner_(std::move(inner)), observer_(std::move(observer)) {}
  std::string describe() const override { return inner_->describe(); }
  Status walk(const std::function<Status(const SourceFile&, const ContentReader&)>& visit) const override {
    return inner_->walk([&](const SourceFile& f, const ContentReader& read) {
      observer_(f);
      return visit(f, read);
    });
  }

 private:
  std::unique_ptr<FileSource> inner_;
  FileObserver observer_;
};

}  // namespace

std::unique_ptr<FileSource> observed_source(std::unique_ptr<FileSource> inner, FileObserver observer) {
  if (!observer) return inner;
  return std::make_unique<ObservedSource>(std::move(inner), std::move(observer));
}

Result<Sbom> catalog_image(oci::Store& store, const std::optional<oci::Platform>& platform, std::string name,
                           const FileObserver& observer) {
  VOUCH_ASSIGN_OR_RETURN(oci::ResolvedImage image, oci::resolve_image(store, platform));
  VOUCH_ASSIGN_OR_RETURN(oci::FileView view, oci::squash_image(store, image.image));
  std::vector<std::string> layers;
  for (const auto& l : image.image.layers) layers.push_back(l.digest.str());
  auto source = observed_source(image_source(view, std::move(layers), std::move(name)), observer);
  return catalog(*source, default_catalogers());
}

}  // namespace vouch::sbom
