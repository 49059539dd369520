#include "vouch/sbom/reader.h"

#include <map>

#include <fmt/format.h>

#include "reader_common.h"
#include "vouch/base/json.h"

namespace vouch::sbom {
namespace detail {

namespace {
std::string type_for_purl(std::string_view purl_type) {
  if (purl_type == "deb") return type::kDeb;
  if (purl_type == "apk" || purl_type == "alpine") return type::kApk;
  if (purl_type == "rpm") return type::kRpm;
  if (purl_type == "npm") return type::kNpm;
  if (purl_type == "pypi") return type::kPython;
  if (purl_type == "golang") return type::kGoModule;
  if (purl_type == "maven") return type::kJavaArchive;
  if (purl_type == "cargo") return type::kRustCrate;
  if (purl_type == "gem") return type::kGem;
  if (purl_type == "composer") return type::kPhpComposer;
  if (purl_type == "nuget") return type::kDotnet;
  return type::kUnknown;
}
}  // namespace

void apply_purl(Package& p) {
  if (p.purl.empty()) return;
  auto purl = parse_purl(p.purl);
  if (!purl.ok()) return;
  if (p.type.empty()) p.type = type_for_purl(purl->type);
  if (p.architecture.empty()) p.architecture = purl->qualifier("arch");
  std::string upstream = purl->qualifier("upstream");
  if (!upstream.empty() && p.source_name.empty()) {
    size_t at = upstream.find('@');
    p.source_name = upstream.substr(0, at);
    if (at != std::string::npos) p.source_version = upstream.substr(at + 1);
  }
}

std::optional<Distro> distro_from_packages(const std::vector<Package>& packages) {
  for (const auto& p : packages) {
    if (!is_os_package_type(p.type) || p.purl.empty()) continue;
    auto purl = parse_purl(p.purl);
    if (!purl.ok()) continue;
    std::string d = purl->qualifier("distro");
    size_t dash = d.rfind('-');
    if (dash == std::string::npos || dash == 0 || dash + 1 == d.size()) continue;
    return Distro{d.substr(0, dash), d.substr(dash + 1), ""};
  }
  return std::nullopt;
}

}  // namespace detail

namespace {

constexpr json::ParseLimits kLimits{kMaxSbomBytes, 128};

bool usable_license(std::string_view l) { return !l.empty() && l != "NOASSERTION" && l != "NONE"; }

Result<std::string> optional_string(const json::Node& n, std::string_view key) {
  auto f = n.find(key);
  if (!f) return std::string();
  return f->string();
}

}  // namespace

Result<Sbom> read_spdx_json(std::string_view text) {
  VOUCH_ASSIGN_OR_RETURN(auto doc, json::parse(text, kLimits));
  json::Node root = json::Node::root(doc);
  if (!root.is_object()) return root.error("expected an object");
  VOUCH_ASSIGN_OR_RETURN(std::string version, root.get_string("spdxVersion"));
  if (!version.starts_with("SPDX-2."))
    return invalid_input(fmt::format("spdxVersion: '{}' is not SPDX 2.x", version));
  Sbom sbom;
  sbom.format = "spdx-" + version.substr(5);
  VOUCH_ASSIGN_OR_RETURN(sbom.name, optional_string(root, "name"));
  if (auto pkgs = root.find("packages")) {
    VOUCH_ASSIGN_OR_RETURN(auto items, pkgs->array());
    for (const auto& item : items) {
      Package p;
      VOUCH_ASSIGN_OR_RETURN(p.id, item.get_string("SPDXID"));
      VOUCH_ASSIGN_OR_RETURN(p.name, item.get_string("name"));
      VOUCH_ASSIGN_OR_RETURN(p.version, optional_string(item, "versionInfo"));
      VOUCH_ASSIGN_OR_RETURN(std::string declared, optional_string(item, "licenseDeclared"));
      VOUCH_ASSIGN_OR_RETURN(std::string concluded, optional_string(item, "licenseConcluded"));
      if (usable_license(declared)) p.licenses.push_back(declared);
      else if (usable_license(concluded)) p.licenses.push_back(concluded);
      if (auto refs = item.find("externalRefs")) {
        VOUCH_ASSIGN_OR_RETURN(auto ref_items, refs->array());
        for (const auto& ref : ref_items) {
          VOUCH_ASSIGN_OR_RETURN(std::string category, ref.get_string("referenceCategory"));
          VOUCH_ASSIGN_OR_RETURN(std::string rtype, ref.get_string("referenceType"));
          VOUCH_ASSIGN_OR_RETURN(std::string locator, ref.get_string("referenceLocator"));
          if ((category == "PACKAGE-MANAGER" || category == "PACKAGE_MANAGER") && rtype == "purl") {
            if (p.purl.empty()) {
              auto purl = parse_purl(locator);
              if (!purl.ok()) return std::move(purl).error().context(ref.path() + ".referenceLocator");
              p.purl = locator;
            }
          } else if (category == "SECURITY" && (rtype == "cpe23Type" || rtype == "cpe22Type")) {
            p.cpes.push_back(locator);
          }
        }
      }
      detail::apply_purl(p);
      sbom.packages.push_back(std::move(p));
    }
  }
  if (auto rels = root.find("relationships")) {
    VOUCH_ASSIGN_OR_RETURN(auto items, rels->array());
    for (const auto& rel : items) {
      VOUCH_ASSIGN_OR_RETURN(std::string kind, rel.get_string("relationshipType"));
      VOUCH_ASSIGN_OR_RETURN(std::string comment, optional_string(rel, "comment"));
      if (kind != "OTHER" || !comment.starts_with("ownership-by-file-overlap")) continue;
      VOUCH_ASSIGN_OR_RETURN(std::string owner, rel.get_string("spdxElementId"));
      VOUCH_ASSIGN_OR_RETURN(std::string owned, rel.get_string("relatedSpdxElement"));
      const Package* o = sbom.find(owner);
      if (!o) return rel.error(fmt::format("spdxElementId '{}' names no package", owner));
      bool found = false;
      for (auto& p : sbom.packages) {
        if (p.id == owned) {
          p.owner_id = owner;
          found = true;
        }
      }
      if (!found) return rel.error(fmt::format("relatedSpdxElement '{}' names no package", owned));
    }
  }
  sbom.distro = detail::distro_from_packages(sbom.packages);
  return sbom;
}

namespace {

struct CdxReader {
  Sbom& sbom;
  size_t generated = 0;

  Status component(const json::Node& node, const std::string& parent_os_id) {
    if (!node.is_object()) return node.error("expected an object");
    VOUCH_ASSIGN_OR_RETURN(std::string ctype, node.get_string("type"));
    VOUCH_ASSIGN_OR_RETURN(std::string name, node.get_string("name"));
    VOUCH_ASSIGN_OR_RETURN(std::string version, optional_string(node, "version"));
    if (ctype == "operating-system") {
      VOUCH_ASSIGN_OR_RETURN(std::string desc, optional_string(node, "description"));
      if (!sbom.distro) sbom.distro = Distro{name, version, desc};
      return children(node, "");
    }
    if (ctype == "file") return children(node, parent_os_id);
    Package p;
    VOUCH_ASSIGN_OR_RETURN(p.id, optional_string(node, "bom-ref"));
    if (p.id.empty()) p.id = fmt::format("component-{}", ++generated);
    p.name = std::move(name);
    p.version = std::move(version);
    VOUCH_ASSIGN_OR_RETURN(p.purl, optional_string(node, "purl"));
    if (!p.purl.empty()) {
      auto purl = parse_purl(p.purl);
      if (!purl.ok()) return std::move(purl).error().context(node.path() + ".purl");
    }
    VOUCH_ASSIGN_OR_RETURN(std::string cpe, optional_string(node, "cpe"));
    if (!cpe.empty()) p.cpes.push_back(cpe);
    if (auto lic = node.find("licenses")) {
      VOUCH_ASSIGN_OR_RETURN(auto items, lic->array());
      for (const auto& l : items) {
        if (auto expr = l.find("expression")) {
          VOUCH_ASSIGN_OR_RETURN(std::string e, expr->string());
          p.licenses.push_back(e);
        } else if (auto license = l.find("license")) {
          VOUCH_ASSIGN_OR_RETURN(std::string id, optional_string(*license, "id"));
          VOUCH_ASSIGN_OR_RETURN(std::string lname, optional_string(*license, "name"));
          if (!id.empty()) p.licenses.push_back(id);
          else if (!lname.empty()) p.licenses.push_back(lname);
          else return license->error("a license has an id or a name");
        } else {
          return l.error("expected 'license' or 'expression'");
        }
      }
    }
    if (auto props = node.find("properties")) {
      std::map<std::string, size_t> location_slots;
      VOUCH_ASSIGN_OR_RETURN(auto items, props->array());
      for (const auto& prop : items) {
        VOUCH_ASSIGN_OR_RETURN(std::string key, prop.get_string("name"));
        VOUCH_ASSIGN_OR_RETURN(std::string value, optional_string(prop, "value"));
        if (key == "syft:package:type") p.type = value;
        else if (key.starts_with("syft:cpe23")) p.cpes.push_back(value);
        else if (key.starts_with("syft:location:") && (key.ends_with(":path") || key.ends_with(":layerID"))) {
          // "syft:location:N:layerID" and "…:N:path", in either order (syft writes layerID first).
          std::string_view index(key);
          index.remove_prefix(14);
          index = index.substr(0, index.find(':'));
          auto it = location_slots.find(std::string(index));
          if (it == location_slots.end()) {
            it = location_slots.emplace(std::string(index), p.locations.size()).first;
            p.locations.emplace_back();
          }
          if (key.ends_with(":path")) p.locations[it->second].path = value;
          else p.locations[it->second].layer_digest = value;
        }
      }
    }
    if (auto ev = node.find("evidence")) {
      if (auto occ = ev->find("occurrences")) {
        VOUCH_ASSIGN_OR_RETURN(auto items, occ->array());
        for (const auto& o : items) {
          VOUCH_ASSIGN_OR_RETURN(std::string loc, o.get_string("location"));
          bool seen = false;
          for (const auto& l : p.locations) seen = seen || l.path == loc;
          if (!seen) p.locations.push_back({loc, ""});
        }
      }
    }
    detail::apply_purl(p);
    if (!parent_os_id.empty()) p.owner_id = parent_os_id;
    std::string id = p.id;
    bool os = is_os_package_type(p.type);
    sbom.packages.push_back(std::move(p));
    return children(node, os ? id : parent_os_id);
  }

  Status children(const json::Node& node, const std::string& parent_os_id) {
    auto comps = node.find("components");
    if (!comps) return ok_status();
    VOUCH_ASSIGN_OR_RETURN(auto items, comps->array());
    for (const auto& c : items) VOUCH_RETURN_IF_ERROR(component(c, parent_os_id));
    return ok_status();
  }
};

}  // namespace

Result<Sbom> read_cyclonedx_json(std::string_view text) {
  VOUCH_ASSIGN_OR_RETURN(auto doc, json::parse(text, kLimits));
  json::Node root = json::Node::root(doc);
  if (!root.is_object()) return root.error("expected an object");
  VOUCH_ASSIGN_OR_RETURN(std::string format, root.get_string("bomFormat"));
  if (format != "CycloneDX") return invalid_input(fmt::format("bomFormat: '{}' is not CycloneDX", format));
  VOUCH_ASSIGN_OR_RETURN(std::string spec, root.get_string("specVersion"));
  if (!spec.starts_with("1.")) return invalid_input(fmt::format("specVersion: '{}' is not 1.x", spec));
  Sbom sbom;
  sbom.format = "cyclonedx-" + spec;
  if (auto meta = root.find("metadata")) {
    if (auto subject = meta->find("component")) {
      VOUCH_ASSIGN_OR_RETURN(sbom.name, optional_string(*subject, "name"));
    }
  }
  CdxReader reader{sbom};
  VOUCH_RETURN_IF_ERROR(reader.children(root, ""));
  if (!sbom.distro) sbom.distro = detail::distro_from_packages(sbom.packages);
  return sbom;
}

Result<Sbom> read_sbom(std::string_view text) {
  // Look at the start of the document for the format's marker before a full parse.
  std::string_view head = text.substr(0, 4096);
  if (head.find("\"spdxVersion\"") != std::string_view::npos) return read_spdx_json(text);
  if (head.find("\"bomFormat\"") != std::string_view::npos) return read_cyclonedx_json(text);
  VOUCH_ASSIGN_OR_RETURN(auto doc, json::parse(text, kLimits));
  if (doc.is_object() && doc.get_object().contains("spdxVersion")) return read_spdx_json(text);
  if (doc.is_object() && doc.get_object().contains("bomFormat")) return read_cyclonedx_json(text);
  return invalid_input("not an SPDX JSON or CycloneDX JSON document (no spdxVersion or bomFormat)");
}

}  // namespace vouch::sbom
