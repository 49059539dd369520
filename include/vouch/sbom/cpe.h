// CPE 2.3 candidates for catalogued packages, generated as syft generates them when no
// dictionary entry is known: every combination of candidate vendors and products for the
// package type, with the package version, as formatted strings
// ("cpe:2.3:a:VENDOR:PRODUCT:VERSION:*:*:*:*:*:*:*"). Scanners match them against NVD.
//
// Candidates by package type (name = the package name; "-" and "_" variants of each are
// added):
//   deb, apk, rpm, rust-crate, dotnet, gem, npm   vendor {name}, product {name}
//   python        vendor {name, python-name, python}, product {name, python-name}
//   go-module     module path host/owner/repo: vendor {owner}, product {repo}; golang.org/x/…
//                 vendor {golang}; the toolchain (stdlib) is golang:go with update "-"
//   java-archive  vendor {the groupId's organisation, artifactId}, product {artifactId}
//   php-composer  "vendor/product": vendor {vendor}, product {product}
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vouch/sbom/package.h"

namespace vouch::sbom {

// A CPE 2.3 formatted-string component: characters other than letters, digits, '_', '-'
// and '.' escaped with a backslash ("@babel/core" -> "\@babel\/core"); empty -> "*".
std::string cpe_escape(std::string_view value);

// The candidate CPEs of a package, vendors then products in the order above (the package's
// own name first); empty when it has no name or
// version or its type is not one of those above.
std::vector<std::string> generate_cpes(const Package& package);

// Fills in the CPEs of every package that has none (the catalog's post-pass).
void add_cpes(Sbom& sbom);

}  // namespace vouch::sbom
