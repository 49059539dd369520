// .NET applications: *.deps.json, which the SDK writes beside every application and library.
// Its "libraries" object maps "Name/Version" to {"type": "package" | "project" | …}; NuGet
// packages and the projects themselves are reported.
#include <fmt/format.h>

#include "cataloger_lang.h"
#include "vouch/sbom/catalog.h"

namespace vouch::sbom {
namespace {

namespace bj = boost::json;

Result<std::vector<Package>> packages_of(const FoundFile& f) {
  VOUCH_ASSIGN_OR_RETURN(bj::value doc, detail::parse_json_file(f));
  const bj::value* libs = doc.is_object() ? doc.as_object().if_contains("libraries") : nullptr;
  if (!libs || !libs->is_object()) return invalid_input("libraries: missing or not an object");
  std::vector<Package> found;
  for (const auto& [key, meta] : libs->as_object()) {
    std::string_view k = key;
    size_t slash = k.rfind('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == k.size() || !meta.is_object())
      return invalid_input(fmt::format("libraries[\"{}\"]: expected \"Name/Version\" with an object", k));
    std::string kind = detail::json_string(meta, "type");
    if (kind != "package" && kind != "project") continue;  // "reference", "runtimepack": not packages
    Package p;
    p.type = type::kDotnet;
    p.name = std::string(k.substr(0, slash));
    p.version = std::string(k.substr(slash + 1));
    p.purl = detail::language_purl("nuget", "", p.name, p.version);
    p.locations.push_back(detail::location_of(f));
    found.push_back(std::move(p));
  }
  return found;
}

}  // namespace

std::unique_ptr<Cataloger> dotnet_cataloger() {
  return std::make_unique<detail::FileCataloger>("dotnet", std::vector<std::string>{"**/*.deps.json"},
                                                 detail::kMaxManifestBytes, packages_of);
}

}  // namespace vouch::sbom
