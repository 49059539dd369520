// Package URLs (https://github.com/package-url/purl-spec):
// pkg:type/namespace/name@version?qualifiers#subpath, percent-encoded.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

// The purl of `base` (whose own qualifiers are ignored) with `qualifiers` in the given order,
// empty values left out: syft writes its qualifiers sorted by key, then `distro` last.
std::string format_purl(const Purl& base, const std::vector<std::pair<std::string, std::string>>& qualifiers);

}  // namespace vouch::sbom
