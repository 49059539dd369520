// Package URLs (https://github.com/package-url/purl-spec):
// pkg:type/namespace/name@version?qualifiers#subpath, percent-encoded.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "vouch/base/result.h"

namespace vouch::sbom {

struct Purl {
  std::string type;       // lowercased
  std::string namespace_;  // decoded, segments joined with '/'
  std::string name;       // decoded
  std::string version;    // decoded
  std::map<std::string, std::string> qualifiers;  // keys lowercased, values decoded
  std::string subpath;

  std::string qualifier(std::string_view key) const;
  // Canonical form: qualifiers sorted by key, components percent-encoded as the spec says.
  std::string to_string() const;
};

Result<Purl> parse_purl(std::string_view text);

}  // namespace vouch::sbom
