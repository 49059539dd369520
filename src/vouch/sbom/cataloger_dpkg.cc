// Debian packages: /var/lib/dpkg/status and the per-package files of distroless images
// (/var/lib/dpkg/status.d/*), with the files each package installed (/var/lib/dpkg/info/*.list)
// and licenses from machine-readable copyright files (/usr/share/doc/NAME/copyright, DEP-5).
#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "cataloger_common.h"
#include "vouch/base/ascii.h"
#include "vouch/sbom/catalog.h"
#include "vouch/sbom/license.h"

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
    if (iequals(k, name)) return v;
  return {};
}

// Package names of a Depends-style field: "a (>= 1), b:any | c, d [amd64] <!nocheck>". Of
// alternatives only those present count; every listed alternative is kept here and the
// missing ones drop out when resolved.
std::vector<std::string> relation_names(std::string_view field_value) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < field_value.size()) {
    size_t end = field_value.find_first_of(",|", i);
    std::string_view item = detail::trim(field_value.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i));
    size_t stop = item.find_first_of(" ([<:");
    std::string_view name = item.substr(0, stop);
    if (!name.empty()) out.emplace_back(name);
    if (end == std::string_view::npos) break;
    i = end + 1;
  }
  return out;
}

std::string basename(std::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// The License: values of a DEP-5 copyright file as SPDX expressions ("GPL-2+" is
// GPL-2.0-or-later); empty when the file is not machine-readable.
std::vector<std::string> dep5_licenses(std::string_view text) {
  std::vector<std::string> out;
  auto paragraphs = parse_deb822(text, "copyright");
  if (!paragraphs.ok() || paragraphs->empty()) return out;
  if (field(paragraphs->front(), "Format").find("copyright-format") == std::string::npos) return out;
  std::set<std::string> seen;
  for (const auto& p : *paragraphs) {
    std::string l = spdx_license_expression(field(p, "License"));
    if (!l.empty() && seen.insert(l).second) out.push_back(l);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// /usr/share/doc/NAME/copyright, the only files under /usr/share/doc the globs ask for.
bool is_copyright(std::string_view path) { return path.starts_with("/usr/share/doc/"); }

class DpkgCataloger : public Cataloger {
 public:
  std::string name() const override { return "dpkg"; }
  std::vector<std::string> globs() const override {
    return {"/var/lib/dpkg/status", "/var/lib/dpkg/status.d/*", "/var/lib/dpkg/info/*.list",
            "/usr/share/doc/*/copyright"};
  }
  size_t max_file_bytes() const override { return size_t{128} << 20; }
  // Of a copyright file only its licenses are kept (one a line): the walk need not hold every
  // copyright text of the image until the parsers run.
  Result<std::optional<std::string>> extract(const SourceFile& f, std::string_view content) const override {
    if (!is_copyright(f.path)) return std::optional<std::string>(content);
    std::string kept;
    for (const auto& l : dep5_licenses(content)) kept += l + "\n";
    return std::optional<std::string>(std::move(kept));
  }

  Status parse(const std::vector<FoundFile>& files, CatalogContext& ctx) const override {
    // "name" or "name:arch" -> the .list files naming what it installed, read when a package
    // takes them (its files are then held once, in the package).
    std::map<std::string, std::vector<const FoundFile*>> owned;
    std::map<std::string, std::vector<std::string>> licenses;
    std::vector<const FoundFile*> status;
    for (const auto& f : files) {
      const std::string& path = f.file.path;
      if (path.starts_with("/var/lib/dpkg/info/")) {
        std::string key = basename(path);
        key.resize(key.size() - 5);  // ".list"
        owned[key].push_back(&f);
      } else if (is_copyright(path)) {
        std::string dir = path.substr(15, path.size() - 15 - 10);  // "/copyright"
        std::vector<std::string> l;
        for (std::string_view line : detail::split_lines(f.content))
          if (!line.empty()) l.emplace_back(line);
        if (!l.empty()) licenses[dir] = std::move(l);
      } else if (!path.ends_with(".md5sums")) {
        status.push_back(&f);
      }
    }
    std::multimap<std::string, std::string> provides;  // name or virtual name -> provisional id
    size_t first = ctx.packages.size(), index = 0;
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
        if (it != owned.end()) {
          size_t lines = 0;
          for (const FoundFile* list : it->second) lines += std::count(list->content.begin(), list->content.end(), '\n') + 1;
          p.files.reserve(lines);
          for (const FoundFile* list : it->second) {
            for (std::string_view line : detail::split_lines(list->content)) {
              line = detail::trim(line);
              if (line.empty() || line == "/." || line == "/") continue;
              p.files.emplace_back(line);
            }
          }
        }
        if (auto l = licenses.find(p.name); l != licenses.end()) p.licenses = l->second;
        p.purl = detail::os_package_purl("deb", "debian", p, ctx.distro);
        // Provisional ids (catalog() assigns the final ones) and dependencies by name for now.
        p.id = fmt::format("dpkg-{}", index++);
        provides.emplace(p.name, p.id);
        for (const auto& v : relation_names(field(para, "Provides"))) provides.emplace(v, p.id);
        std::vector<std::string> wanted = relation_names(field(para, "Depends"));
        for (auto& n : relation_names(field(para, "Pre-Depends"))) wanted.push_back(std::move(n));
        p.depends_on = std::move(wanted);
        ctx.packages.push_back(std::move(p));
      }
    }
    // Names to the ids of the packages that are or provide them.
    for (size_t k = first; k < ctx.packages.size(); ++k) {
      std::vector<std::string> ids;
      for (const auto& name : ctx.packages[k].depends_on) {
        auto range = provides.equal_range(name);
        for (auto it = range.first; it != range.second; ++it) ids.push_back(it->second);
      }
      ctx.packages[k].depends_on = std::move(ids);
    }
    return ok_status();
  }
};

}  // namespace

std::unique_ptr<Cataloger> dpkg_cataloger() { return std::make_unique<DpkgCataloger>(); }

}  // namespace vouch::sbom
