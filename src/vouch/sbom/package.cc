#include "vouch/sbom/package.h"

namespace vouch::sbom {

bool is_os_package_type(std::string_view t) { return t == type::kDeb || t == type::kApk || t == type::kRpm; }

const Package* Sbom::find(std::string_view id) const {
  for (const auto& p : packages)
    if (p.id == id) return &p;
  return nullptr;
}

}  // namespace vouch::sbom
