// PHP packages that Composer installed: vendor/composer/installed.json, a JSON array of
// packages (Composer 1) or {"packages": [...]} (Composer 2); each has "name" (vendor/project),
// "version" and "license".
#include <fmt/format.h>

#include "cataloger_lang.h"
#include "vouch/sbom/catalog.h"

namespace vouch::sbom {
namespace {

namespace bj = boost::json;

Result<std::vector<Package>> packages_of(const FoundFile& f) {
  VOUCH_ASSIGN_OR_RETURN(bj::value doc, detail::parse_json_file(f));
  const bj::array* packages = nullptr;
  if (doc.is_array()) {
    packages = &doc.as_array();
  } else if (doc.is_object()) {
    const bj::value* v = doc.as_object().if_contains("packages");
    if (v && v->is_array()) packages = &v->as_array();
  }
  if (!packages) return invalid_input("neither an array of packages nor an object with a \"packages\" array");
  std::vector<Package> found;
  for (size_t i = 0; i < packages->size(); ++i) {
    const bj::value& e = (*packages)[i];
    std::string name = detail::json_string(e, "name"), version = detail::json_string(e, "version");
    if (name.empty() || version.empty())
      return invalid_input(fmt::format("packages[{}]: no \"name\" or no \"version\" string", i));
    Package p;
    p.type = type::kPhpComposer;
    size_t slash = name.find('/');
    std::string ns = slash == std::string::npos ? std::string() : name.substr(0, slash);
    std::string base = slash == std::string::npos ? name : name.substr(slash + 1);
    p.purl = detail::language_purl("composer", ns, base, version);
    p.name = std::move(name);
    p.version = std::move(version);
    p.licenses = detail::manifest_licenses(e.as_object().if_contains("license"));
    p.locations.push_back(detail::location_of(f));
    found.push_back(std::move(p));
  }
  return found;
}

}  // namespace

std::unique_ptr<Cataloger> composer_cataloger() {
  return std::make_unique<detail::FileCataloger>("php-composer", std::vector<std::string>{"**/vendor/composer/installed.json"},
                                                 detail::kMaxManifestBytes, packages_of);
}

}  // namespace vouch::sbom
