#include "vouch/sbom/syft_json.h"

#include <boost/json.hpp>

namespace vouch::sbom {

namespace bj = boost::json;

namespace {

// syft's `language` of a package type; empty for OS packages.
std::string_view language_of(std::string_view t) {
  if (t == type::kNpm) return "javascript";
  if (t == type::kPython) return "python";
  if (t == type::kGoModule) return "go";
  if (t == type::kJavaArchive) return "java";
  if (t == type::kRustCrate) return "rust";
  if (t == type::kGem) return "ruby";
  if (t == type::kPhpComposer) return "php";
  if (t == type::kDotnet) return "dotnet";
  return "";
}

bj::object artifact(const Package& p) {
  bj::array locations;
  for (const auto& l : p.locations) {
    bj::object annotations{{"evidence", "primary"}};
    if (l.visible) annotations["visible"] = *l.visible ? "true" : "false";
    bj::object loc{{"path", l.path}, {"accessPath", l.path}, {"annotations", std::move(annotations)}};
    if (!l.layer_digest.empty()) loc["layerID"] = l.layer_digest;
    locations.push_back(std::move(loc));
  }
  bj::array licenses;
  for (const auto& l : p.licenses)
    licenses.push_back(bj::object{{"value", l}, {"spdxExpression", l}, {"type", "declared"}, {"urls", bj::array{}},
                                  {"locations", bj::array{}}});
  bj::array cpes;
  for (const auto& c : p.cpes) cpes.push_back(bj::object{{"cpe", c}, {"source", "syft-generated"}});
  return bj::object{{"id", p.id},
                    {"name", p.name},
                    {"version", p.version},
                    {"type", p.type.empty() ? "UnknownPackage" : p.type},
                    {"foundBy", "vouch"},
                    {"locations", std::move(locations)},
                    {"licenses", std::move(licenses)},
                    {"language", language_of(p.type)},
                    {"cpes", std::move(cpes)},
                    {"purl", p.purl}};
}

}  // namespace

bj::value write_syft_json(const Sbom& sbom, const WriteOptions& options) {
  bj::array artifacts, relationships;
  for (const auto& p : sbom.packages) {
    artifacts.push_back(artifact(p));
    if (!p.owner_id.empty())
      relationships.push_back(bj::object{{"parent", p.owner_id}, {"child", p.id}, {"type", "ownership-by-file-overlap"}});
    for (const auto& dep : p.depends_on)
      relationships.push_back(bj::object{{"parent", dep}, {"child", p.id}, {"type", "dependency-of"}});
  }
  const bool directory = sbom.format == "directory";
  bj::object doc{{"artifacts", std::move(artifacts)},
                 {"artifactRelationships", std::move(relationships)},
                 {"source", bj::object{{"id", ""},
                                       {"name", sbom.name},
                                       {"version", ""},
                                       {"type", directory ? "directory" : "image"},
                                       {"metadata", bj::object{}}}},
                 {"descriptor", bj::object{{"name", "vouch"}, {"version", options.tool_version}}},
                 {"schema", bj::object{{"version", kSyftJsonSchemaVersion},
                                       {"url", std::string("https://raw.githubusercontent.com/anchore/syft/main/schema/json/schema-") +
                                                   kSyftJsonSchemaVersion + ".json"}}}};
  if (sbom.distro)
    doc["distro"] = bj::object{{"prettyName", sbom.distro->pretty_name},
                               {"name", sbom.distro->id},
                               {"id", sbom.distro->id},
                               {"versionID", sbom.distro->version_id}};
  else
    doc["distro"] = bj::object{};
  return doc;
}

}  // namespace vouch::sbom
