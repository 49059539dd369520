// Java archives (JAR, WAR, EAR, Jenkins plugins), read with libarchive from memory: every
// META-INF/maven/<group>/<artifact>/pom.properties is a Maven package; the archive itself is a
// package from its pom.properties when one names it, else from META-INF/MANIFEST.MF and its
// file name. Archives nested inside are read too, to a bounded depth and size.
#include <archive.h>
#include <archive_entry.h>

#include <cctype>
#include <map>
#include <utility>

#include <fmt/format.h>

#include "cataloger_common.h"
#include "vouch/sbom/catalog.h"
#include "vouch/sbom/parsers.h"
#include "vouch/sbom/purl.h"

namespace vouch::sbom {
namespace {

constexpr int kMaxDepth = 4;                         // archives inside archives
constexpr size_t kMaxEntries = 200000;               // entries per archive
constexpr int64_t kMaxSmallFile = 1 << 20;           // a manifest or pom.properties
constexpr int64_t kMaxNested = int64_t{256} << 20;   // one nested archive
constexpr int64_t kMaxTotal = int64_t{1} << 30;      // everything inflated from one outer archive

bool is_archive_name(std::string_view name) {
  for (std::string_view ext : {".jar", ".war", ".ear", ".jpi", ".hpi", ".lpkg", ".par", ".sar", ".nar", ".kar"})
    if (name.size() > ext.size() && name.ends_with(ext)) return true;
  return false;
}

std::string_view base_name(std::string_view p) {
  size_t slash = p.rfind('/');
  return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

// Whether a dash-separated group of a file name starts the version: a digit, "build" and a
// digit, or "r"/"rc" and digits not followed by a letter.
bool starts_version(std::string_view g) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (g.empty()) return false;
  if (digit(g[0])) return true;
  auto lower_starts = [&](std::string_view p) {
    if (g.size() < p.size()) return false;
    for (size_t i = 0; i < p.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(g[i])) != p[i]) return false;
    return true;
  };
  if (lower_starts("build")) return g.size() > 5 && digit(g[5]);
  size_t k = lower_starts("rc") ? 2 : lower_starts("r") ? 1 : 0;
  if (k == 0 || k >= g.size() || !digit(g[k])) return false;
  while (k < g.size() && digit(g[k])) ++k;
  return k == g.size() || !std::isalpha(static_cast<unsigned char>(g[k]));
}

// "commons-lang3-3.12.0.jar" -> {"commons-lang3", "3.12.0"}: the version starts at the first
// dash-separated group that starts_version(); without one, at a '.', '_' or '-' followed by one
// ("foo_1.2" -> {"foo", "1.2"}).
std::pair<std::string, std::string> name_from_file(std::string_view file) {
  std::string_view stem = base_name(file);
  if (size_t dot = stem.rfind('.'); dot != std::string_view::npos) stem = stem.substr(0, dot);
  auto alpha = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; };
  auto wordy = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'; };
  // Name groups start with a letter and hold word characters and dots; anything else: no name.
  for (size_t i = 0; i < stem.size(); ++i) {
    bool group_start = i == 0 || stem[i - 1] == '-';
    if (group_start && i > 0 && starts_version(stem.substr(i)))
      return {std::string(stem.substr(0, i - 1)), std::string(stem.substr(i))};
    if (group_start ? !alpha(stem[i]) : !(wordy(stem[i]) || stem[i] == '-')) return {"", ""};
  }
  for (size_t i = 1; i + 1 < stem.size(); ++i)
    if ((stem[i] == '.' || stem[i] == '_') && starts_version(stem.substr(i + 1)))
      return {std::string(stem.substr(0, i)), std::string(stem.substr(i + 1))};
  return {std::string(stem), std::string()};
}

// Java properties, the subset Maven writes: key=value or key: value lines, '#'/'!' comments.
std::map<std::string, std::string> parse_properties(std::string_view text) {
  std::map<std::string, std::string> out;
  for (std::string_view line : detail::split_lines(text)) {
    line = detail::trim(line);
    if (line.empty() || line.front() == '#' || line.front() == '!') continue;
    size_t sep = line.find_first_of("=:");
    if (sep == std::string_view::npos) continue;
    out[std::string(detail::trim(line.substr(0, sep)))] = std::string(detail::trim(line.substr(sep + 1)));
  }
  return out;
}

// A manifest: "Key: value" lines in sections separated by blank lines; a line starting with a
// space continues the previous value. The main section first, then the named ones.
std::vector<std::map<std::string, std::string>> parse_manifest(std::string_view text) {
  std::vector<std::map<std::string, std::string>> sections(1);
  bool fresh = false;
  std::string key;
  for (std::string_view line : detail::split_lines(text)) {
    if (detail::trim(line).empty()) {
      fresh = true;
      key.clear();
      continue;
    }
    if (fresh) {
      sections.emplace_back();
      fresh = false;
    }
    if (line.front() == ' ') {
      if (!key.empty()) sections.back()[key] += std::string(detail::trim(line));
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      key.clear();
      continue;
    }
    key = std::string(detail::trim(line.substr(0, colon)));
    sections.back()[key] = std::string(detail::trim(line.substr(colon + 1)));
  }
  return sections;
}

std::string maven_purl(const std::string& group, const std::string& artifact, const std::string& version) {
  Purl p;
  p.type = "maven";
  p.namespace_ = group.empty() ? artifact : group;
  p.name = artifact;
  p.version = version;
  return format_purl(p, {});
}

Package maven_package(const std::string& group, const std::string& artifact, const std::string& version,
                      const Location& where) {
  Package p;
  p.type = type::kJavaArchive;
  p.name = artifact;
  p.version = version;
  p.purl = maven_purl(group, artifact, version);
  p.locations.push_back(where);
  return p;
}

// libarchive's message for the last error; it has none for some failures.
const char* archive_message(struct archive* a) {
  const char* m = archive_error_string(a);
  return m ? m : "malformed archive";
}

struct Budget {
  int64_t inflated = 0;
};

Status read_archive(std::string_view content, std::string_view name, const Location& where, int depth,
                    Budget& budget, std::vector<Package>& out) {
  struct archive* a = archive_read_new();
  if (!a) return internal_error("libarchive: out of memory");
  std::unique_ptr<struct archive, int (*)(struct archive*)> guard(a, archive_read_free);
  archive_read_support_format_zip(a);
  if (archive_read_open_memory(a, content.data(), content.size()) != ARCHIVE_OK)
    return invalid_input(fmt::format("{}: not a zip archive: {}", name, archive_message(a)));
  std::string manifest;
  bool has_manifest = false;
  std::vector<std::map<std::string, std::string>> poms;
  std::vector<std::pair<std::string, std::string>> nested;
  struct archive_entry* e = nullptr;
  size_t entries = 0;
  while (true) {
    int rc = archive_read_next_header(a, &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
      return invalid_input(fmt::format("{}: {}", name, archive_message(a)));
    if (++entries > kMaxEntries) return invalid_input(fmt::format("{}: more than {} entries", name, kMaxEntries));
    if (archive_entry_filetype(e) != AE_IFREG) continue;
    const char* pn = archive_entry_pathname(e);
    std::string path = pn ? pn : "";
    bool is_manifest = path == "META-INF/MANIFEST.MF";
    bool is_pom = path.starts_with("META-INF/maven/") && path.ends_with("/pom.properties");
    bool is_nested = depth < kMaxDepth && is_archive_name(path);
    if (!is_manifest && !is_pom && !is_nested) continue;
    int64_t limit = is_nested ? kMaxNested : kMaxSmallFile;
    int64_t declared = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
    if (declared > limit || (declared > 0 && budget.inflated + declared > kMaxTotal)) {
      if (is_nested) continue;  // a nested archive too large to read: its packages are not listed
      return invalid_input(fmt::format("{}: {}: larger than {} bytes", name, path, limit));
    }
    std::string data;
    char buf[65536];
    while (true) {
      la_ssize_t n = archive_read_data(a, buf, sizeof buf);
      if (n < 0) return invalid_input(fmt::format("{}: {}: {}", name, path, archive_message(a)));
      if (n == 0) break;
      budget.inflated += n;
      if (static_cast<int64_t>(data.size()) + n > limit || budget.inflated > kMaxTotal)
        return invalid_input(fmt::format("{}: {}: inflates beyond the limit", name, path));
      data.append(buf, static_cast<size_t>(n));
    }
    if (is_manifest) {
      manifest = std::move(data);
      has_manifest = true;
    }
    else if (is_pom) poms.push_back(parse_properties(data));
    else nested.emplace_back(std::move(path), std::move(data));
  }

  auto [file_name, file_version] = name_from_file(name);
  // The pom.properties that describes this archive: the one named like the file, or the only one.
  const std::map<std::string, std::string>* own = nullptr;
  for (const auto& pom : poms) {
    auto it = pom.find("artifactId");
    if (it != pom.end() && it->second == file_name) own = &pom;
  }
  if (!own && poms.size() == 1) own = &poms[0];
  auto get = [](const std::map<std::string, std::string>& m, const char* k) {
    auto it = m.find(k);
    return it == m.end() ? std::string() : it->second;
  };
  for (const auto& pom : poms) {
    std::string artifact = get(pom, "artifactId"), version = get(pom, "version");
    if (artifact.empty() || version.empty()) continue;
    // As syft: OSGi directives cut off ("org.bar;uses:=..."), and an artifact id that looks like
    // a group id (it has a dot) stands in for a missing group id.
    std::string group = get(pom, "groupId");
    if (group.empty() && artifact.find('.') != std::string::npos) group = artifact;
    group = std::string(detail::trim(std::string_view(group).substr(0, group.find(';'))));
    out.push_back(maven_package(group, artifact, version, where));
  }
  // Without a pom.properties of its own, the archive is a package named by its file name or
  // manifest, as syft names it (an archive without a manifest is none).
  if (!own && has_manifest) {
    auto sections = parse_manifest(manifest);
    const auto& m = sections.front();
    std::string pkg_name = file_name;
    for (const char* k : {"Name", "Bundle-Name", "Short-Name", "Extension-Name", "Implementation-Title"})
      if (pkg_name.empty()) pkg_name = get(m, k);
    std::string version = file_version;
    for (const char* k : {"Implementation-Version", "Specification-Version", "Plugin-Version"})
      for (const auto& section : sections)
        if (version.empty()) version = get(section, k);
    std::string group = get(m, "Implementation-Vendor-Id");
    if (!pkg_name.empty() && !version.empty()) out.push_back(maven_package(group, pkg_name, version, where));
  }
  for (const auto& [path, data] : nested) {
    Status st = read_archive(data, fmt::format("{}:{}", name, path), where, depth + 1, budget, out);
    if (!st.ok()) return st;
  }
  return ok_status();
}

class JavaArchiveCataloger : public Cataloger {
 public:
  std::string name() const override { return "java-archive"; }
  std::vector<std::string> globs() const override {
    return {"**/*.jar", "**/*.war", "**/*.ear", "**/*.jpi", "**/*.hpi", "**/*.lpkg",
            "**/*.par", "**/*.sar", "**/*.nar", "**/*.kar"};
  }
  size_t max_file_bytes() const override { return size_t{512} << 20; }
  // The packages, one per line (group, artifact, version, tab-separated): the walk keeps only these.
  Result<std::optional<std::string>> extract(const SourceFile& f, std::string_view content) const override {
    auto pkgs = parse_java_archive(content, Location{f.path, f.layer_digest});
    if (!pkgs.ok()) return std::move(pkgs).error();
    std::string kept;
    for (const auto& p : *pkgs) {
      auto purl = parse_purl(p.purl);
      if (!purl.ok()) return std::move(purl).error();
      for (const std::string* field : {&std::as_const(purl->namespace_), &p.name, &p.version})
        if (field->find_first_of("\t\r\n") != std::string::npos)
          return invalid_input(fmt::format("{}: control character in the Maven coordinates of {}", f.path, p.name));
      kept += fmt::format("{}\t{}\t{}\n", purl->namespace_, p.name, p.version);
    }
    return std::optional<std::string>(std::move(kept));
  }
  Status parse(const std::vector<FoundFile>& files, CatalogContext& ctx) const override {
    for (const auto& f : files) {
      for (std::string_view line : detail::split_lines(f.content)) {
        if (line.empty()) continue;
        size_t t1 = line.find('\t'), t2 = line.find('\t', t1 + 1);
        if (t1 == std::string_view::npos || t2 == std::string_view::npos)
          return internal_error(fmt::format("{}: malformed package line", f.file.path));
        ctx.packages.push_back(maven_package(std::string(line.substr(0, t1)), std::string(line.substr(t1 + 1, t2 - t1 - 1)),
                                             std::string(line.substr(t2 + 1)),
                                             Location{f.file.path, f.file.layer_digest}));
      }
    }
    return ok_status();
  }
};

}  // namespace

Result<std::vector<Package>> parse_java_archive(std::string_view content, const Location& where) {
  std::vector<Package> out;
  Budget budget;
  VOUCH_RETURN_IF_ERROR(read_archive(content, where.path, where, 0, budget, out));
  return out;
}

std::unique_ptr<Cataloger> java_archive_cataloger() { return std::make_unique<JavaArchiveCataloger>(); }

}  // namespace vouch::sbom
