// The language catalogers and the license normaliser on many corrupted variants of real-shaped
// input (a fixed pseudo-random sequence, so failures repeat): cataloging never fails and never
// crashes, every warning is one line naming its file, and normalising an expression twice
// changes nothing. tests/fuzz/fuzz_sbom_lang.cc checks the same with coverage guidance.
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "../../lib/language_files.h"
#include "vouch/sbom/catalog.h"
#include "vouch/sbom/license.h"

namespace vouch::sbom {
namespace {

const char* const kSeeds[] = {
    (R"({"name":"p","version":"1","lockfileVersion":3,"packages":{"":{"name":"p","version":"1"},)"
     R"("node_modules/@s/a":{"version":"1.0.0","license":"MIT"},"node_modules/b":{"version":"2","license":{"type":"ISC"}}}})"),
    R"({"lockfileVersion":1,"dependencies":{"a":{"version":"1","dependencies":{"b":{"version":"2"}}}}})",
    "Metadata-Version: 2.1\nName: PyYAML\nVersion: 6.0\nLicense: MIT\nClassifier: License :: OSI Approved :: MIT License\n\nbody\n",
    "  s.name = \"rake\".freeze\n  s.version = \"13.0.6\"\n  s.licenses = [\"MIT\".freeze, 'Ruby']\n",
    R"({"packages":[{"name":"a/b","version":"1","license":["MIT"]}],"libraries":{"A/1":{"type":"package"}}})",
    "GPL-2+ or (Artistic, and BSD-3-clause) with Classpath-exception-2.0",
    "(MIT OR Apache-2.0) AND LicenseRef-x, GPL-3+ with Bison exception",
};

std::string mutate(std::string s, std::mt19937& rng) {
  const char specials[] = "{}[]\",:\n\r\t\\ ()/+ORANDWITH&;'";
  int edits = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < edits; ++i) {
    size_t at = s.empty() ? 0 : rng() % (s.size() + 1);
    switch (rng() % 5) {
      case 0: s = s.substr(0, at); break;                                                  // truncate
      case 1: if (at < s.size()) s.erase(at, 1 + rng() % 8); break;                        // delete
      case 2: s.insert(at, 1, specials[rng() % (sizeof(specials) - 1)]); break;             // insert
      case 3: if (at < s.size()) s[at] = static_cast<char>(rng() % 256); break;            // flip
      case 4: if (!s.empty()) s.insert(at, s.substr(rng() % s.size(), 1 + rng() % 16)); break;  // repeat
    }
  }
  return s;
}

TEST(LanguageCatalogRobustness, CorruptedInputIsSkippedNeverFatal) {
  std::mt19937 rng(20260101);
  int warned = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string text = mutate(kSeeds[rng() % std::size(kSeeds)], rng);
    auto source = testing::language_files(text);
    auto sbom = catalog(source, default_catalogers());
    ASSERT_TRUE(sbom.ok()) << sbom.error().message << "\ninput: " << text;
    for (const auto& w : sbom->warnings) {
      ASSERT_EQ(w.find('\n'), std::string::npos) << w;
      ASSERT_EQ(w.front(), '/') << w;
    }
    warned += !sbom->warnings.empty();
    std::string once = spdx_license_expression(text);
    ASSERT_EQ(spdx_license_expression(once), once) << "input: " << text;
  }
  EXPECT_GT(warned, 100);  // the corruption does reach the error paths
}

}  // namespace
}  // namespace vouch::sbom
