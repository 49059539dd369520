// License strings as SPDX license expressions.
//
// Package metadata and Debian copyright files name licenses in many ways ("Expat", "GPL-2+",
// "Apache License 2.0", "MIT or Apache-2.0", Python trove classifiers). These functions turn
// them into SPDX expressions over identifiers of the SPDX license list; a license the table does
// not know becomes a LicenseRef-… of its text, so that the result is always a valid expression.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vouch::sbom {

// The SPDX identifier a license name stands for (case-insensitive, common aliases such as
// "Expat", "GPL-2+", "Apache License, Version 2.0", "BSD-3-clause"); empty when unknown.
std::string spdx_license_id(std::string_view name);

// True when `id` is an identifier of the SPDX license list this module knows, spelled as the
// list spells it ("MIT", "GPL-2.0-or-later").
bool is_spdx_license_id(std::string_view id);

// The SPDX expression for a license string: whole-string aliases first, else operands split at
// AND/OR/WITH (any case; "," and "/" between names count as AND / OR as Debian writes them) and
// parentheses, each operand mapped as spdx_license_id does or made a LicenseRef-. Empty input
// gives "". Valid expressions come back unchanged but for the spelling of their identifiers.
std::string spdx_license_expression(std::string_view text);

// "LicenseRef-" and `text` with every character outside [A-Za-z0-9.-] replaced by '-'.
std::string license_ref(std::string_view text);

// The licenses a Python trove classifier list names ("License :: OSI Approved :: MIT License"
// gives "MIT"); classifiers not naming a known license are left out.
std::vector<std::string> licenses_from_classifiers(const std::vector<std::string>& classifiers);

}  // namespace vouch::sbom
