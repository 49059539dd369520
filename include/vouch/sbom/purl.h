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

// The purl of `base` (whose own qualifiers are ignored) with `qualifiers` (empty values left
// out) as syft writes it: qualifiers sorted by key; the version and qualifier values
// percent-encoded but for unreserved characters ("1:2.4-2+b1" is "1%3A2.4-2%2Bb1").
std::string format_purl(const Purl& base, const std::vector<std::pair<std::string, std::string>>& qualifiers);

}  // namespace vouch::sbom
