// Shared by the SPDX and CycloneDX readers.
#pragma once

#include "vouch/sbom/package.h"
#include "vouch/sbom/purl.h"

namespace vouch::sbom::detail {

// Fills type, source, architecture from the package's PURL, as syft writes them.
void apply_purl(Package& p);
// The distro named by an OS package's purl `distro` qualifier ("debian-12").
std::optional<Distro> distro_from_packages(const std::vector<Package>& packages);

}  // namespace vouch::sbom::detail
