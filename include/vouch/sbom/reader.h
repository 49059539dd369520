// SBOM readers: SPDX 2.3 JSON and CycloneDX 1.4–1.6 JSON into the package model.
//
// Conventions read (as syft writes them):
// - PURLs: SPDX externalRefs (PACKAGE-MANAGER or PACKAGE_MANAGER, type purl), CycloneDX purl.
// - CPEs: SPDX externalRefs (SECURITY, cpe23Type or cpe22Type); CycloneDX cpe and the
//   syft:cpe23 properties.
// - Source packages: the purl `upstream` qualifier ("openssl" or "openssl@3.0.15-1").
// - Ownership: SPDX relationship OTHER whose comment begins "ownership-by-file-overlap"
//   (spdxElementId owns relatedSpdxElement); CycloneDX components nested in the
//   `components` of an OS package component.
// - Distro: CycloneDX component of type operating-system; else the purl `distro` qualifier
//   ("debian-12") of OS packages.
#pragma once

#include <string_view>

#include "vouch/base/result.h"
#include "vouch/sbom/package.h"

namespace vouch::sbom {

constexpr size_t kMaxSbomBytes = 512 * 1024 * 1024;

Result<Sbom> read_spdx_json(std::string_view text);
Result<Sbom> read_cyclonedx_json(std::string_view text);
// Detects the format (spdxVersion or bomFormat) and reads it.
Result<Sbom> read_sbom(std::string_view text);

}  // namespace vouch::sbom
