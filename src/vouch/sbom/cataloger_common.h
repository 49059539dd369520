// Shared by the OS package catalogers.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vouch/sbom/package.h"

namespace vouch::sbom::detail {

// The purl of an OS package as syft writes it: pkg:TYPE/DISTRO-ID/NAME@VERSION with the
// qualifiers arch, distro=ID-VERSION_ID and upstream=SOURCE[@SOURCE-VERSION]. Without a distro the namespace is
// `fallback_namespace` and there is no distro qualifier.
std::string os_package_purl(std::string_view purl_type, std::string_view fallback_namespace, const Package& p,
                            const std::optional<Distro>& distro);

// Splits text into lines (without "\n" or "\r\n").
std::vector<std::string_view> split_lines(std::string_view text);

std::string_view trim(std::string_view s);

}  // namespace vouch::sbom::detail
