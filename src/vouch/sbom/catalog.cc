#include "vouch/sbom/catalog.h"

#include <fnmatch.h>

#include <algorithm>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "catalog_walk.h"
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
  // Installed file -> owner id, for the paths that may be evidence of a language package. With
  // merged /usr (Debian 12, Fedora), a package that lists /bin/x or /lib/y installed /usr/bin/x
  // or /usr/lib/y, and the other way round: both count.
  std::unordered_set<std::string_view> evidence;
  for (const auto& p : packages) {
    if (is_os_package_type(p.type) || !p.owner_id.empty()) continue;
    for (const auto& l : p.locations) evidence.insert(l.path);
  }
  if (evidence.empty()) return;
  std::unordered_map<std::string_view, const std::string*> owner_of;
  static constexpr std::string_view kMerged[] = {"/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/", "/libx32/"};
  std::string merged;
  auto note = [&](std::string_view f, const std::string* id) {
    if (auto it = evidence.find(f); it != evidence.end()) owner_of.emplace(*it, id);
  };
  for (const auto& p : packages) {
    if (!is_os_package_type(p.type) || p.id.empty()) continue;
    for (const auto& f : p.files) {
      note(f, &p.id);
      for (std::string_view top : kMerged) {
        if (f.starts_with(top)) {
          merged.assign("/usr").append(f);
          note(merged, &p.id);
        } else if (f.size() > 4 && std::string_view(f).substr(4).starts_with(top) && f.starts_with("/usr/")) {
          note(std::string_view(f).substr(4), &p.id);
        }
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

namespace detail {

Router::Router(const std::vector<std::unique_ptr<Cataloger>>& catalogers) : catalogers_(catalogers) {
  for (const auto& c : catalogers) {
    globs_.push_back(c->globs());
    magics_.push_back(c->magics());
    for (const auto& m : magics_.back()) magic_bytes_ = std::max(magic_bytes_, m.size());
  }
  read_limit_.resize(catalogers.size());
  size_t limit = 0;
  for (size_t i = catalogers.size(); i-- > 0;) {
    limit = std::max(limit, catalogers[i]->max_file_bytes());
    read_limit_[i] = limit;
  }
}

bool Router::path_wanted(size_t i, const std::string& path) const {
  return std::any_of(globs_[i].begin(), globs_[i].end(), [&](const std::string& g) { return glob_match(g, path); });
}

bool Router::interested(const SourceFile& f) const {
  for (size_t i = 0; i < catalogers_.size(); ++i)
    if (path_wanted(i, f.path) || (!magics_[i].empty() && catalogers_[i]->wants_file(f))) return true;
  return false;
}

FileOutcome Router::offer(const SourceFile& f, OfferedContent& content) const {
  FileOutcome out;
  bool loaded = false;
  bool too_large = false;
  for (size_t i = 0; i < catalogers_.size(); ++i) {
    bool by_path = path_wanted(i, f.path);
    bool by_content = !by_path && !magics_[i].empty() && catalogers_[i]->wants_file(f);
    if (!by_path && !by_content) continue;
    if (by_content && static_cast<uint64_t>(f.size) > catalogers_[i]->max_file_bytes()) {
      too_large = true;
      continue;
    }
    if (!loaded) {
      // Read once for every cataloger; the largest limit among them bounds the read.
      Status r = content.load(std::max(read_limit_[i], size_t{1}));
      if (!r.ok()) {
        // A file wanted for its path must be read; an executable looked at for its content
        // that cannot be read (permissions) is reported and passed over.
        bool must_read = by_path;
        for (size_t j = i + 1; j < catalogers_.size() && !must_read; ++j) must_read = path_wanted(j, f.path);
        if (must_read) {
          out.error = std::move(r).error().context(f.path);
        } else {
          out.warnings.push_back(fmt::format("{}: not read for packages: {}", f.path, r.error().message));
        }
        return out;
      }
      loaded = true;
    }
    if (by_content && std::none_of(magics_[i].begin(), magics_[i].end(),
                                   [&](const std::string& m) { return content.starts_with(m); }))
      continue;
    if (content.size() > catalogers_[i]->max_file_bytes()) {
      out.error = invalid_input(fmt::format("{}: larger than {} bytes", f.path, catalogers_[i]->max_file_bytes()));
      return out;
    }
    auto kept = content.extract(*catalogers_[i], i, f);
    if (!kept.ok()) {
      // Malformed evidence in one file (a corrupt jar, a damaged Go binary) is reported and
      // passed over, as a malformed package.json is; anything else stops the catalog.
      if (kept.error().code != ErrorCode::kInvalidInput) {
        out.error = std::move(kept).error().context(catalogers_[i]->name() + " cataloger");
        return out;
      }
      const std::string& m = kept.error().message;
      out.warnings.push_back(m.starts_with(f.path) ? m : f.path + ": " + m);
      continue;
    }
    if (*kept) out.kept.emplace_back(i, std::move(**kept));
  }
  if (too_large) out.warnings.push_back(fmt::format("{}: not read for packages (larger than the limit)", f.path));
  return out;
}

Status run_parsers(std::vector<std::vector<FoundFile>> found, const std::vector<std::unique_ptr<Cataloger>>& catalogers,
                   CatalogContext& ctx, const std::optional<Distro>& fixed_distro) {
  for (size_t i = 0; i < catalogers.size(); ++i) {
    if (fixed_distro) ctx.distro = fixed_distro;
    std::sort(found[i].begin(), found[i].end(),
              [](const FoundFile& a, const FoundFile& b) { return a.file.path < b.file.path; });
    Status st = catalogers[i]->parse(found[i], ctx);
    if (!st.ok()) return std::move(st).error().context(catalogers[i]->name() + " cataloger");
    // What the parser read is no longer needed.
    std::vector<FoundFile>().swap(found[i]);
  }
  if (fixed_distro) ctx.distro = fixed_distro;
  return ok_status();
}

void assign_ids(std::vector<Package>& packages, bool layers_in_ids) {
  // Ids from content, so that the same input gives the same document.
  std::map<std::string, int> seen;
  std::map<std::string, std::string> renamed;  // provisional id -> final id
  for (auto& p : packages) {
    std::string key = p.purl + "\n" + p.name + "\n" + p.version + "\n" + p.architecture;
    for (const auto& l : p.locations) {
      key += "\n" + l.path;
      if (layers_in_ids) key += "@" + l.layer_digest;
    }
    std::string id = fmt::format("{}-{}-{:016x}", id_safe(p.type), id_safe(p.name), fnv1a(key));
    int n = seen[id]++;
    if (n > 0) id += fmt::format("-{}", n);
    if (!p.id.empty()) renamed[p.id] = id;
    p.id = id;
  }
  for (auto& p : packages) {
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
}

void finish_packages(Sbom& sbom) {
  assign_owners(sbom.packages);
  std::sort(sbom.packages.begin(), sbom.packages.end(), [](const Package& a, const Package& b) {
    return std::tie(a.type, a.name, a.version, a.id) < std::tie(b.type, b.name, b.version, b.id);
  });
  add_cpes(sbom);
}

Result<Sbom> finish_catalog(std::string name, std::vector<std::vector<FoundFile>> found, std::vector<std::string> warnings,
                            const std::vector<std::unique_ptr<Cataloger>>& catalogers) {
  CatalogContext ctx;
  ctx.warnings = std::move(warnings);
  VOUCH_RETURN_IF_ERROR(run_parsers(std::move(found), catalogers, ctx, std::nullopt));
  Sbom sbom;
  sbom.name = std::move(name);
  sbom.distro = ctx.distro;
  sbom.packages = std::move(ctx.packages);
  sbom.warnings = std::move(ctx.warnings);
  assign_ids(sbom.packages, false);
  finish_packages(sbom);
  return sbom;
}

}  // namespace detail


namespace {

// A file of a FileSource, read through the source's reader when a cataloger wants it.
class SourceContent final : public detail::LoadedContent {
 public:
  explicit SourceContent(const ContentReader& read) : read_(read) {}
  Status load(size_t max_bytes) override {
    VOUCH_ASSIGN_OR_RETURN(data_, read_(max_bytes));
    content_ = data_;
    return ok_status();
  }

 private:
  const ContentReader& read_;
  std::string data_;
};

}  // namespace

Result<Sbom> catalog(const FileSource& source, const std::vector<std::unique_ptr<Cataloger>>& catalogers) {
  detail::Router router(catalogers);
  std::vector<std::vector<FoundFile>> found(catalogers.size());
  std::vector<std::string> warnings;
  VOUCH_RETURN_IF_ERROR(source.walk([&](const SourceFile& f, const ContentReader& read) -> Status {
    SourceContent content(read);
    detail::FileOutcome o = router.offer(f, content);
    for (auto& w : o.warnings) warnings.push_back(std::move(w));
    if (o.error) return std::move(*o.error);
    for (auto& [i, kept] : o.kept) found[i].push_back(FoundFile{f, std::move(kept)});
    return ok_status();
  }));
  return detail::finish_catalog(source.describe(), std::move(found), std::move(warnings), catalogers);
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

}  // namespace vouch::sbom
