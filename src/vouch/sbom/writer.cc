#include "vouch/sbom/writer.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

#include <fmt/format.h>

#include "vouch/base/json.h"
#include "vouch/sbom/license.h"

namespace vouch::sbom {
namespace {

namespace bj = boost::json;

uint64_t fnv1a(std::string_view s, uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// A UUID (version 5 layout) derived from the content, for documentNamespace and serialNumber.
std::string content_uuid(std::string_view content) {
  uint64_t a = fnv1a(content), b = fnv1a(content, a ^ 0x9e3779b97f4a7c15ull);
  a = (a & ~uint64_t{0xf000}) | 0x5000;                                   // version 5
  b = (b & ~(uint64_t{0xc} << 60)) | (uint64_t{0x8} << 60);               // RFC 4122 variant
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xffff, b >> 48,
                     b & 0xffffffffffffull);
}

std::string spdx_id(std::string_view id) {
  std::string out = "SPDXRef-Package-";
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    out += ok ? c : '-';
  }
  return out;
}

// A license string as an SPDX expression (license.h): known names as identifiers, the rest as
// LicenseRef-… (listed in hasExtractedLicensingInfos with the original text).
std::string spdx_license(std::string_view l) { return spdx_license_expression(l); }

// The LicenseRef-… identifiers an expression uses.
void license_refs(std::string_view expr, std::set<std::string>& out) {
  size_t at = 0;
  while ((at = expr.find("LicenseRef-", at)) != std::string_view::npos) {
    size_t end = at;
    while (end < expr.size() && expr[end] != ' ' && expr[end] != ')') ++end;
    out.emplace(expr.substr(at, end - at));
    at = end;
  }
}

std::string source_info(const Package& p) {
  // Where the information came from, in syft's words for each package type.
  static const std::map<std::string, std::string, std::less<>> kFrom = {
      {type::kDeb, "DPKG DB"},
      {type::kApk, "APK DB"},
      {type::kRpm, "RPM DB"},
      {type::kNpm, "installed node module manifest file"},
      {type::kPython, "installed python package manifest file"},
      {type::kGem, "installed gem metadata file"},
      {type::kPhpComposer, "PHP composer manifest"},
      {type::kDotnet, "dotnet project assets file"},
      {type::kGoModule, "go module information"},
      {type::kJavaArchive, "installed java archive"},
      {type::kRustCrate, "rust cargo manifest"},
  };
  auto from = kFrom.find(p.type);
  std::string what = from == kFrom.end() ? "the following paths" : from->second;
  std::string paths;
  for (const auto& l : p.locations) paths += (paths.empty() ? "" : ", ") + l.path;
  return fmt::format("acquired package info from {}: {}", what, paths.empty() ? "(unknown)" : paths);
}

}  // namespace

Result<UnixSeconds> creation_time() {
  const char* env = std::getenv("SOURCE_DATE_EPOCH");
  if (!env) return now_unix();
  std::string_view s(env);
  if (s.empty() || s.size() > 18 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return invalid_input(fmt::format("SOURCE_DATE_EPOCH: '{}' is not a number of seconds", s));
  return static_cast<UnixSeconds>(std::stoll(std::string(s)));
}

bj::value write_spdx_json(const Sbom& sbom, const WriteOptions& o) {
  bj::array packages, relationships;
  std::map<std::string, std::string> extracted;  // LicenseRef-… -> the text it stands for
  for (const auto& p : sbom.packages) {
    bj::object pkg;
    pkg["name"] = p.name;
    pkg["SPDXID"] = spdx_id(p.id);
    if (!p.version.empty()) pkg["versionInfo"] = p.version;
    pkg["supplier"] = "NOASSERTION";
    pkg["downloadLocation"] = "NOASSERTION";
    pkg["filesAnalyzed"] = false;
    pkg["sourceInfo"] = source_info(p);
    pkg["licenseConcluded"] = "NOASSERTION";
    std::string declared;
    for (const auto& l : p.licenses) {
      std::string e = spdx_license(l);
      if (e.empty()) continue;
      std::set<std::string> refs;
      license_refs(e, refs);
      for (const auto& r : refs) extracted.emplace(r, e == r ? l : r.substr(11));
      if (p.licenses.size() > 1 && e.find(' ') != std::string::npos) e = "(" + e + ")";
      declared += (declared.empty() ? "" : " AND ") + e;
    }
    pkg["licenseDeclared"] = declared.empty() ? "NOASSERTION" : declared;
    pkg["copyrightText"] = "NOASSERTION";
    bj::array refs;
    for (const auto& c : p.cpes)
      refs.push_back(bj::object{{"referenceCategory", "SECURITY"}, {"referenceType", "cpe23Type"}, {"referenceLocator", c}});
    if (!p.purl.empty())
      refs.push_back(bj::object{{"referenceCategory", "PACKAGE-MANAGER"}, {"referenceType", "purl"}, {"referenceLocator", p.purl}});
    if (!refs.empty()) pkg["externalRefs"] = std::move(refs);
    packages.push_back(std::move(pkg));
    relationships.push_back(bj::object{
        {"spdxElementId", "SPDXRef-DOCUMENT"}, {"relatedSpdxElement", spdx_id(p.id)}, {"relationshipType", "DESCRIBES"}});
  }
  for (const auto& p : sbom.packages)
    if (!p.owner_id.empty() && sbom.find(p.owner_id))
      relationships.push_back(bj::object{{"spdxElementId", spdx_id(p.owner_id)},
                                         {"relatedSpdxElement", spdx_id(p.id)},
                                         {"relationshipType", "OTHER"},
                                         {"comment", "ownership-by-file-overlap: evidence-by-file-overlap"}});
  // As syft: the dependency is DEPENDENCY_OF the package that needs it.
  for (const auto& p : sbom.packages)
    for (const auto& d : p.depends_on)
      if (sbom.find(d))
        relationships.push_back(bj::object{
            {"spdxElementId", spdx_id(d)}, {"relatedSpdxElement", spdx_id(p.id)}, {"relationshipType", "DEPENDENCY_OF"}});
  bj::object doc;
  doc["spdxVersion"] = "SPDX-2.3";
  doc["dataLicense"] = "CC0-1.0";
  doc["SPDXID"] = "SPDXRef-DOCUMENT";
  doc["name"] = sbom.name.empty() ? std::string("unnamed") : sbom.name;
  bj::object creation;
  creation["licenseListVersion"] = "3.25";
  creation["creators"] = bj::array{"Organization: vouch", bj::string("Tool: vouch-" + o.tool_version)};
  creation["created"] = format_rfc3339(o.created);
  doc["creationInfo"] = std::move(creation);
  if (!extracted.empty()) {
    bj::array infos;
    for (const auto& [id, text] : extracted)
      infos.push_back(bj::object{{"licenseId", id}, {"extractedText", text}});
    doc["hasExtractedLicensingInfos"] = std::move(infos);
  }
  doc["packages"] = std::move(packages);
  doc["relationships"] = std::move(relationships);
  std::string digest_input = json::serialize(doc);
  std::string safe_name;
  for (char c : doc["name"].as_string()) safe_name += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-') ? c : '-';
  doc["documentNamespace"] = fmt::format("https://vouch.dev/spdx/{}-{}", safe_name, content_uuid(digest_input));
  return doc;
}

namespace {

bj::object cdx_component(const Sbom& sbom, const Package& p, const std::multimap<std::string, const Package*>& owned) {
  bj::object c;
  c["bom-ref"] = p.id;
  c["type"] = "library";
  c["name"] = p.name;
  if (!p.version.empty()) c["version"] = p.version;
  if (!p.licenses.empty()) {
    // As syft: SPDX identifiers as ids, one compound expression as an expression, else names.
    bj::array lic;
    std::string only = p.licenses.size() == 1 ? spdx_license_expression(p.licenses.front()) : std::string();
    if (!only.empty() && only.find(' ') != std::string::npos && only.find("LicenseRef-") == std::string::npos) {
      lic.push_back(bj::object{{"expression", only}});
    } else {
      for (const auto& l : p.licenses) {
        if (is_spdx_license_id(l)) lic.push_back(bj::object{{"license", bj::object{{"id", l}}}});
        else lic.push_back(bj::object{{"license", bj::object{{"name", l}}}});
      }
    }
    c["licenses"] = std::move(lic);
  }
  if (!p.cpes.empty()) c["cpe"] = p.cpes.front();
  if (!p.purl.empty()) c["purl"] = p.purl;
  bj::array props;
  auto prop = [&](std::string name, std::string value) {
    if (!value.empty()) props.push_back(bj::object{{"name", std::move(name)}, {"value", std::move(value)}});
  };
  for (size_t i = 1; i < p.cpes.size(); ++i) prop("syft:cpe23", p.cpes[i]);
  prop("syft:package:type", p.type);
  for (size_t i = 0; i < p.locations.size(); ++i) {
    prop(fmt::format("syft:location:{}:layerID", i), p.locations[i].layer_digest);
    prop(fmt::format("syft:location:{}:path", i), p.locations[i].path);
  }
  prop("syft:metadata:architecture", p.architecture);
  prop("syft:metadata:source", p.source_name);
  prop("syft:metadata:sourceVersion", p.source_version);
  if (!props.empty()) c["properties"] = std::move(props);
  auto range = owned.equal_range(p.id);
  if (range.first != range.second) {
    bj::array children;
    for (auto it = range.first; it != range.second; ++it) children.push_back(cdx_component(sbom, *it->second, owned));
    c["components"] = std::move(children);
  }
  return c;
}

}  // namespace

bj::value write_cyclonedx_json(const Sbom& sbom, const WriteOptions& o) {
  std::multimap<std::string, const Package*> owned;
  for (const auto& p : sbom.packages)
    if (!p.owner_id.empty() && sbom.find(p.owner_id)) owned.emplace(p.owner_id, &p);
  bj::array components;
  bj::array depends;
  for (const auto& p : sbom.packages) {
    if (!p.owner_id.empty() && sbom.find(p.owner_id)) continue;
    components.push_back(cdx_component(sbom, p, owned));
  }
  if (sbom.distro) {
    bj::object os;
    os["bom-ref"] = sbom.distro->version_id.empty() ? "os-" + sbom.distro->id
                                                  : fmt::format("os-{}-{}", sbom.distro->id, sbom.distro->version_id);
    os["type"] = "operating-system";
    os["name"] = sbom.distro->id;
    if (!sbom.distro->version_id.empty()) os["version"] = sbom.distro->version_id;
    if (!sbom.distro->pretty_name.empty()) os["description"] = sbom.distro->pretty_name;
    components.push_back(std::move(os));
  }
  // The subject contains every top-level component.
  std::string root_ref = "subject";
  bj::array all;
  for (const auto& c : components) all.push_back(c.as_object().at("bom-ref"));
  depends.push_back(bj::object{{"ref", root_ref}, {"dependsOn", std::move(all)}});
  for (const auto& p : sbom.packages) {
    bj::array on;
    std::set<std::string> seen;
    for (const auto& d : p.depends_on)
      if (sbom.find(d) && seen.insert(d).second) on.push_back(bj::string(d));
    if (!on.empty()) depends.push_back(bj::object{{"ref", p.id}, {"dependsOn", std::move(on)}});
  }

  bj::object doc;
  doc["$schema"] = "http://cyclonedx.org/schema/bom-1.6.schema.json";
  doc["bomFormat"] = "CycloneDX";
  doc["specVersion"] = "1.6";
  doc["version"] = 1;
  bj::object meta;
  meta["timestamp"] = format_rfc3339(o.created);
  meta["tools"] = bj::object{
      {"components", bj::array{bj::object{{"type", "application"}, {"name", "vouch"}, {"version", o.tool_version}}}}};
  meta["component"] = bj::object{{"bom-ref", root_ref}, {"type", "file"}, {"name", sbom.name.empty() ? std::string("unnamed") : sbom.name}};
  doc["metadata"] = std::move(meta);
  doc["components"] = std::move(components);
  doc["dependencies"] = std::move(depends);
  doc["serialNumber"] = "urn:uuid:" + content_uuid(json::serialize(doc));
  return doc;
}

std::string write_table(const Sbom& sbom) {
  size_t wn = 4, wv = 9;
  for (const auto& p : sbom.packages) {
    wn = std::max(wn, p.name.size());
    wv = std::max(wv, p.version.size());
  }
  std::string out = fmt::format("{:<{}}  {:<{}}  {}\n", "NAME", wn, "INSTALLED", wv, "TYPE");
  // Packages that differ only in where they were found (two binaries, two layers' copies of a
  // database) are one row, marked as syft marks them.
  const auto& ps = sbom.packages;
  for (size_t i = 0; i < ps.size();) {
    size_t n = 1;
    while (i + n < ps.size() && ps[i + n].name == ps[i].name && ps[i + n].version == ps[i].version &&
           ps[i + n].type == ps[i].type)
      ++n;
    std::string row = fmt::format("{:<{}}  {:<{}}  {}", ps[i].name, wn, ps[i].version, wv, ps[i].type);
    if (n == 2) row += "  (+1 duplicate)";
    else if (n > 2) row += fmt::format("  (+{} duplicates)", n - 1);
    out += row + "\n";
    i += n;
  }
  if (sbom.packages.empty()) out = "No packages discovered\n";
  return out;
}

}  // namespace vouch::sbom
