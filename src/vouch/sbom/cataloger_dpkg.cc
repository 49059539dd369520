// Debian packages: /var/lib/dpkg/status and the per-package files of distroless images
// (/var/lib/dpkg/status.d/*), with the files each package installed (/var/lib/dpkg/info/*.list)
// and licenses from machine-readable copyright files (/usr/share/doc/NAME/copyright, DEP-5).
#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "cataloger_common.h"
#include "vouch/sbom/catalog.h"

namespace vouch::sbom {
namespace {

using Paragraph = std::vector<std::pair<std::string, std::string>>;

// RFC 822-style paragraphs as deb822(5): "Field: value", continuation lines start with a space
// or tab, paragraphs separated by blank lines. Only the first line of each value is kept
// (the fields read here are single-line; Description and Conffiles are not needed).
Result<std::vector<Paragraph>> parse_deb822(std::string_view text, std::string_view what) {
  std::vector<Paragraph> out;
  Paragraph cur;
  size_t lineno = 0;
  for (std::string_view line : detail::split_lines(text)) {
    ++lineno;
    if (detail::trim(line).empty()) {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
      continue;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      if (cur.empty()) return invalid_input(fmt::format("{}:{}: continuation line outside a field", what, lineno));
      continue;
    }
    if (line.front() == '#') continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return invalid_input(fmt::format("{}:{}: expected 'Field: value'", what, lineno));
    cur.emplace_back(std::string(line.substr(0, colon)), std::string(detail::trim(line.substr(colon + 1))));
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

std::string field(const Paragraph& p, std::string_view name) {
  for (const auto& [k, v] : p)
    if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        }))
      return v;
  return {};
}

std::string basename(std::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// The License: values of a DEP-5 copyright file; empty when it is not machine-readable.
std::vector<std::string> dep5_licenses(std::string_view text) {
  std::vector<std::string> out;
  auto paragraphs = parse_deb822(text, "copyright");
  if (!paragraphs.ok() || paragraphs->empty()) return out;
  if (field(paragraphs->front(), "Format").find("copyright-format") == std::string::npos) return out;
  std::set<std::string> seen;
  for (const auto& p : *paragraphs) {
    std::string l = field(p, "License");
    if (!l.empty() && seen.insert(l).second) out.push_back(l);
  }
  std::sort(out.begin(), out.end());
  return out;
}

class DpkgCataloger : public Cataloger {
 public:
  std::string name() const override { return "dpkg"; }
  std::vector<std::string> globs() const override {
    return {"/var/lib/dpkg/status", "/var/lib/dpkg/status.d/*", "/var/lib/dpkg/info/*.list",
            "/usr/share/doc/*/copyright"};
  }
  size_t max_file_bytes() const override { return size_t{128} << 20; }

  Status parse(const std::vector<FoundFile>& files, CatalogContext& ctx) const override {
    std::map<std::string, std::vector<std::string>> owned;  // "name" or "name:arch" -> files
    std::map<std::string, std::vector<std::string>> licenses;
    std::vector<const FoundFile*> status;
    for (const auto& f : files) {
      const std::string& path = f.file.path;
      if (path.starts_with("/var/lib/dpkg/info/")) {
        std::string key = basename(path);
        key.resize(key.size() - 5);  // ".list"
        auto& list = owned[key];
        for (std::string_view line : detail::split_lines(f.content)) {
          line = detail::trim(line);
          if (line.empty() || line == "/." || line == "/") continue;
          list.emplace_back(line);
        }
      } else if (path.starts_with("/usr/share/doc/")) {
        std::string dir = path.substr(15, path.size() - 15 - 10);  // "/copyright"
        auto l = dep5_licenses(f.content);
        if (!l.empty()) licenses[dir] = std::move(l);
      } else if (!path.ends_with(".md5sums")) {
        status.push_back(&f);
      }
    }
    for (const FoundFile* f : status) {
      VOUCH_ASSIGN_OR_RETURN(auto paragraphs, parse_deb822(f->content, f->file.path));
      for (const auto& para : paragraphs) {
        Package p;
        p.name = field(para, "Package");
        if (p.name.empty()) continue;
        std::string st = field(para, "Status");
        // "want flag status": packages removed but for their configuration are not installed.
        if (st.ends_with(" not-installed") || st.ends_with(" config-files")) continue;
        p.version = field(para, "Version");
        p.architecture = field(para, "Architecture");
        p.type = type::kDeb;
        std::string source = field(para, "Source");
        if (!source.empty()) {
          size_t paren = source.find('(');
          if (paren != std::string::npos) {
            size_t close = source.find(')', paren);
            p.source_version = std::string(detail::trim(source.substr(paren + 1, close == std::string::npos ? std::string::npos : close - paren - 1)));
            source = std::string(detail::trim(source.substr(0, paren)));
          }
          p.source_name = source;
          if (p.source_version == p.version) p.source_version.clear();
        }
        p.locations.push_back(Location{f->file.path, f->file.layer_digest});
        auto it = owned.find(p.name + ":" + p.architecture);
        if (it == owned.end()) it = owned.find(p.name);
        if (it != owned.end()) p.files = it->second;
        if (auto l = licenses.find(p.name); l != licenses.end()) p.licenses = l->second;
        p.purl = detail::os_package_purl("deb", "debian", p, ctx.distro);
        ctx.packages.push_back(std::move(p));
      }
    }
    return ok_status();
  }
};

}  // namespace

std::unique_ptr<Cataloger> dpkg_cataloger() { return std::make_unique<DpkgCataloger>(); }

}  // namespace vouch::sbom
