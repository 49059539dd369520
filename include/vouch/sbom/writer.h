// SBOM writers: SPDX 2.3 JSON, CycloneDX 1.6 JSON (both following syft's conventions, so
// that sbom::reader and syft-compatible consumers read them back) and a table.
//
// Output is a function of the Sbom and the options only: ids come from the catalogers,
// SPDX documentNamespace and the CycloneDX serialNumber are derived from the content, and the
// creation time is options.created (SOURCE_DATE_EPOCH when set).
#pragma once

#include <string>

#include <boost/json/value.hpp>

#include "vouch/base/result.h"
#include "vouch/base/time.h"
#include "vouch/sbom/package.h"

namespace vouch::sbom {

struct WriteOptions {
  UnixSeconds created = 0;
  std::string tool_version = "0.1.0";
};

// SOURCE_DATE_EPOCH (decimal seconds) when set, else the current time; an error when the
// variable is set but not a non-negative integer.
Result<UnixSeconds> creation_time();

boost::json::value write_spdx_json(const Sbom& sbom, const WriteOptions& options);
boost::json::value write_cyclonedx_json(const Sbom& sbom, const WriteOptions& options);
// NAME VERSION TYPE columns, as syft's table.
std::string write_table(const Sbom& sbom);

}  // namespace vouch::sbom
