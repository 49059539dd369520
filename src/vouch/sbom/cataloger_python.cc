// Python distributions as installed: *.dist-info/METADATA (wheels, pip) and *.egg-info/PKG-INFO
// or a lone *.egg-info file (setuptools, Debian's python3-* packages), with the RECORD,
// installed-files.txt and top_level.txt beside them. The metadata is the core metadata format
// (https://packaging.python.org/en/latest/specifications/core-metadata/): RFC 822 headers up to
// the first blank line, then the description.
#include <algorithm>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "cataloger_common.h"
#include "cataloger_lang.h"
#include "vouch/sbom/catalog.h"
#include "vouch/sbom/license.h"

namespace vouch::sbom {
namespace {

// The headers of a core metadata file; a field given more than once (Classifier) keeps all.
Result<std::multimap<std::string, std::string>> parse_headers(std::string_view text) {
  std::multimap<std::string, std::string> out;
  std::string key;
  std::multimap<std::string, std::string>::iterator last = out.end();
  size_t lineno = 0;
  for (std::string_view line : detail::split_lines(text)) {
    ++lineno;
    if (detail::trim(line).empty()) break;  // the description follows
    if (line.front() == ' ' || line.front() == '\t') {
      if (last == out.end()) return invalid_input(fmt::format("line {}: continuation line before any field", lineno));
      last->second += "\n" + std::string(detail::trim(line));
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return invalid_input(fmt::format("line {}: expected 'Field: value'", lineno));
    std::string k(line.substr(0, colon));
    std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return std::tolower(c); });
    last = out.emplace(std::move(k), std::string(detail::trim(line.substr(colon + 1))));
  }
  return out;
}

std::string header(const std::multimap<std::string, std::string>& h, const std::string& key) {
  auto it = h.find(key);
  return it == h.end() ? std::string() : it->second;
}

// The package URL name: lowercased, '_' as '-' (purl specification, type pypi).
std::string purl_name(std::string_view name) {
  std::string out(name);
  for (char& c : out) c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A RECORD line: a CSV row whose first column is the path (quoted when it holds a comma).
std::optional<std::string> record_path(std::string_view line) {
  if (line.empty()) return std::nullopt;
  if (line.front() != '"') return std::string(line.substr(0, line.find(',')));
  std::string out;
  for (size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '"') {
      if (i + 1 < line.size() && line[i + 1] == '"') {
        out += '"';
        ++i;
        continue;
      }
      return out;
    }
    out += line[i];
  }
  return std::nullopt;  // unterminated quote
}

std::vector<std::string> licenses_of(const std::multimap<std::string, std::string>& h) {
  std::string expr = header(h, "license-expression");
  if (!expr.empty()) return {spdx_license_expression(expr)};
  // License: a short name; some projects paste the whole license text, which names nothing.
  std::string l = header(h, "license");
  if (!l.empty() && l != "UNKNOWN" && l.find('\n') == std::string::npos && l.size() <= 100)
    return {spdx_license_expression(l)};
  std::vector<std::string> classifiers;
  for (auto [it, end] = h.equal_range("classifier"); it != end; ++it) classifiers.push_back(it->second);
  return licenses_from_classifiers(classifiers);
}

class PythonCataloger : public Cataloger {
 public:
  std::string name() const override { return "python"; }
  std::vector<std::string> globs() const override {
    return {"**/*.dist-info/METADATA", "**/*.dist-info/RECORD", "**/*.dist-info/top_level.txt",
            "**/*.egg-info/PKG-INFO", "**/*.egg-info/installed-files.txt", "**/*.egg-info/top_level.txt",
            "**/*.egg-info"};
  }
  size_t max_file_bytes() const override { return detail::kMaxManifestBytes; }

  Status parse(const std::vector<FoundFile>& files, CatalogContext& ctx) const override {
    std::map<std::string, std::vector<const FoundFile*>> beside;  // metadata directory -> its other files
    std::vector<const FoundFile*> metadata;
    for (const auto& f : files) {
      std::string base = detail::basename(f.file.path);
      if (base == "METADATA" || base == "PKG-INFO" || base.ends_with(".egg-info")) metadata.push_back(&f);
      else beside[detail::dirname(f.file.path)].push_back(&f);
    }
    for (const FoundFile* f : metadata) {
      auto headers = parse_headers(f->content);
      if (!headers.ok()) {
        detail::skip_file(ctx, *f, headers.error().message);
        continue;
      }
      Package p;
      p.name = header(*headers, "name");
      p.version = header(*headers, "version");
      if (p.name.empty() || p.version.empty()) {
        detail::skip_file(ctx, *f, "no Name or no Version field");
        continue;
      }
      // The interpreter's own egg-info (Python 2.7) is not a distribution.
      if (p.name == "Python") continue;
      p.type = type::kPython;
      p.purl = detail::language_purl("pypi", "", purl_name(p.name), p.version);
      p.licenses = licenses_of(*headers);
      p.locations.push_back(detail::location_of(*f));
      bool lone_egg_info = f->file.path.ends_with(".egg-info");
      std::string dir = detail::dirname(f->file.path);
      if (!lone_egg_info) {
        // Paths in RECORD and installed-files.txt are relative to site-packages and to the
        // egg-info directory respectively.
        for (const FoundFile* s : beside[dir]) {
          p.locations.push_back(detail::location_of(*s));
          std::string base = detail::basename(s->file.path);
          if (base != "RECORD" && base != "installed-files.txt") continue;
          std::filesystem::path relative_to(base == "RECORD" ? detail::dirname(dir) : dir);
          size_t lineno = 0;
          for (std::string_view line : detail::split_lines(s->content)) {
            ++lineno;
            if (detail::trim(line).empty()) continue;
            auto path = base == "RECORD" ? record_path(line) : std::optional<std::string>(detail::trim(line));
            if (!path || path->empty()) {
              detail::skip_file(ctx, *s, fmt::format("line {}: unterminated quoted path", lineno));
              break;
            }
            std::filesystem::path full = (*path)[0] == '/' ? std::filesystem::path(*path) : relative_to / *path;
            p.files.push_back(full.lexically_normal().generic_string());
          }
        }
      }
      ctx.packages.push_back(std::move(p));
    }
    return ok_status();
  }
};

}  // namespace

std::unique_ptr<Cataloger> python_cataloger() { return std::make_unique<PythonCataloger>(); }

}  // namespace vouch::sbom
