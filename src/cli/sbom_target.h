// The SBOM of a target named on the command line: dir:PATH (a directory tree) or an image
// reference (registry, oci:, docker-archive:). Shared by `sbom` and `scan`.
#pragma once

#include <optional>
#include <string>

#include "vouch/oci/manifest.h"
#include "vouch/oci/store.h"
#include "cli/progress.h"
#include "vouch/sbom/catalog.h"
#include "vouch/sbom/package.h"

namespace vouch::cli {

// `progress`, when given, shows the work: reading an image's layers, then the files walked.
// `scope` applies to images; all-layers is refused for dir:PATH, which has no layers.
Result<sbom::Sbom> sbom_for_target(const std::string& target, const oci::StoreOptions& options,
                                   const std::optional<oci::Platform>& platform, Progress* progress = nullptr,
                                   sbom::ImageScope scope = sbom::ImageScope::kSquashed);

// What cataloging passed over (malformed package files, database formats not read), on
// stderr: a few lines, then the count of the rest.
void print_catalog_warnings(const sbom::Sbom& doc);

}  // namespace vouch::cli
