// License strings to SPDX expressions: identifiers, aliases (Debian short names, Python
// classifiers, npm's spellings), operators in any case, exceptions, and LicenseRef- for the rest.
#include <gtest/gtest.h>

#include "vouch/sbom/license.h"

namespace vouch::sbom {
namespace {

TEST(License, IdentifiersAndAliases) {
  EXPECT_EQ(spdx_license_id("MIT"), "MIT");
  EXPECT_EQ(spdx_license_id("mit"), "MIT");
  EXPECT_EQ(spdx_license_id("Expat"), "MIT");
  EXPECT_EQ(spdx_license_id("Apache License, Version 2.0"), "Apache-2.0");
  EXPECT_EQ(spdx_license_id("Apache 2.0"), "Apache-2.0");
  EXPECT_EQ(spdx_license_id("Apache-2"), "Apache-2.0");
  EXPECT_EQ(spdx_license_id("BSD-3-clause"), "BSD-3-Clause");
  EXPECT_EQ(spdx_license_id("GPL-2"), "GPL-2.0-only");
  EXPECT_EQ(spdx_license_id("GPL-2+"), "GPL-2.0-or-later");
  EXPECT_EQ(spdx_license_id("GPLv3+"), "GPL-3.0-or-later");
  EXPECT_EQ(spdx_license_id("LGPL-2.1+"), "LGPL-2.1-or-later");
  EXPECT_EQ(spdx_license_id("LGPL-2.1"), "LGPL-2.1-only");
  EXPECT_EQ(spdx_license_id("GPL-3.0-or-later"), "GPL-3.0-or-later");
  EXPECT_EQ(spdx_license_id("GFDL-1.3+"), "GFDL-1.3-or-later");
  EXPECT_EQ(spdx_license_id("MPL-2"), "MPL-2.0");
  EXPECT_EQ(spdx_license_id("public-domain"), "");
  EXPECT_EQ(spdx_license_id("GPL-7"), "");
  EXPECT_EQ(spdx_license_id(""), "");
  EXPECT_TRUE(is_spdx_license_id("Apache-2.0"));
  EXPECT_FALSE(is_spdx_license_id("apache-2.0"));
}

TEST(License, Expressions) {
  EXPECT_EQ(spdx_license_expression("MIT"), "MIT");
  EXPECT_EQ(spdx_license_expression("  Expat \n"), "MIT");
  EXPECT_EQ(spdx_license_expression("GPL-2+ or Artistic"), "GPL-2.0-or-later OR Artistic-1.0");
  EXPECT_EQ(spdx_license_expression("MIT OR Apache-2.0"), "MIT OR Apache-2.0");
  EXPECT_EQ(spdx_license_expression("(MIT or Apache-2.0) and BSD-3-clause"), "(MIT OR Apache-2.0) AND BSD-3-Clause");
  EXPECT_EQ(spdx_license_expression("BSD-3-clause, and GPL-2+"), "BSD-3-Clause AND GPL-2.0-or-later");
  EXPECT_EQ(spdx_license_expression("BSD-3-clause, GPL-2+"), "BSD-3-Clause AND GPL-2.0-or-later");
  // DEP-5: a comma before an operator groups what precedes it.
  EXPECT_EQ(spdx_license_expression("GPL-1+ or Artistic, and MIT"), "(GPL-1.0-or-later OR Artistic-1.0) AND MIT");
  EXPECT_EQ(spdx_license_expression("(GPL-1+ or Artistic, and MIT) or Zlib"),
            "((GPL-1.0-or-later OR Artistic-1.0) AND MIT) OR Zlib");
  EXPECT_EQ(spdx_license_expression("GPL-3+ with Bison exception"), "GPL-3.0-or-later WITH Bison-exception-2.2");
  EXPECT_EQ(spdx_license_expression("Apache License 2.0 or MIT License"), "Apache-2.0 OR MIT");
  EXPECT_EQ(spdx_license_expression("MIT/Apache-2.0"), "(MIT OR Apache-2.0)");
  EXPECT_EQ(spdx_license_expression("GPL-2.0-only WITH Classpath-exception-2.0"),
            "GPL-2.0-only WITH Classpath-exception-2.0");
  EXPECT_EQ(spdx_license_expression("GPL-2 with Classpath-exception-2.0"), "GPL-2.0-only WITH Classpath-exception-2.0");
  EXPECT_EQ(spdx_license_expression("GPL-2+ with OpenSSL exception"), "LicenseRef-GPL-2--with-OpenSSL-exception");
  EXPECT_EQ(spdx_license_expression("public-domain"), "LicenseRef-public-domain");
  // An exception is no license on its own.
  EXPECT_EQ(spdx_license_expression("MIT, Bison exception"), "MIT AND LicenseRef-Bison-exception");
  EXPECT_EQ(spdx_license_expression("GPL-2+ or public-domain"), "GPL-2.0-or-later OR LicenseRef-public-domain");
  EXPECT_EQ(spdx_license_expression("LicenseRef-Foo"), "LicenseRef-Foo");
  EXPECT_EQ(spdx_license_expression(""), "");
  // Not expressions: unbalanced, dangling operators, text in parentheses.
  EXPECT_EQ(spdx_license_expression("(MIT"), "LicenseRef--MIT");
  EXPECT_EQ(spdx_license_expression("MIT or"), "LicenseRef-MIT-or");
  EXPECT_EQ(spdx_license_expression("MIT (see LICENSE)"), "LicenseRef-MIT--see-LICENSE-");
  EXPECT_EQ(spdx_license_expression(") MIT ("), "LicenseRef---MIT--");
}

TEST(License, Classifiers) {
  EXPECT_EQ(licenses_from_classifiers({"Programming Language :: Python", "License :: OSI Approved :: MIT License",
                                       "License :: OSI Approved :: Apache Software License",
                                       "License :: OSI Approved :: MIT License"}),
            (std::vector<std::string>{"MIT", "Apache-2.0"}));
  EXPECT_EQ(licenses_from_classifiers({"License :: OSI Approved :: GNU General Public License v2 or later (GPLv2+)"}),
            (std::vector<std::string>{"GPL-2.0-or-later"}));
  EXPECT_TRUE(licenses_from_classifiers({"License :: Other/Proprietary License"}).empty());
}

TEST(License, LicenseRef) {
  EXPECT_EQ(license_ref("a b/c"), "LicenseRef-a-b-c");
  EXPECT_EQ(license_ref(""), "LicenseRef-unknown");
}

}  // namespace
}  // namespace vouch::sbom
