// syft's own JSON format (`syft -o syft-json`, schema 16): the document grype reads with the
// most detail. Written from the same package model as the SPDX and CycloneDX writers.
#pragma once

#include <boost/json/value.hpp>

#include "vouch/sbom/package.h"
#include "vouch/sbom/writer.h"

namespace vouch::sbom {

// The schema version written (schema.version).
inline constexpr const char* kSyftJsonSchemaVersion = "16.0.0";

// artifacts (each with its locations, CPEs, purl and licenses), artifactRelationships
// (ownership-by-file-overlap for owned language packages, dependency-of for OS package
// dependencies), source (a "directory" when sbom.format says so, else an "image"), distro,
// descriptor and schema.
boost::json::value write_syft_json(const Sbom& sbom, const WriteOptions& options);

}  // namespace vouch::sbom
