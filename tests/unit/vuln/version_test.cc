// Every published ordering vector in ../shared/testdata/version-compare (osv-scalibr's
// semantic/testdata), checked in both directions, with the counts per file.
#include <sstream>

#include <gtest/gtest.h>

#include "../testdata.h"
#include "vouch/vuln/version.h"

namespace vouch::vuln {
namespace {

struct VectorFile {
  VersionScheme scheme;
  const char* ecosystem;
  const char* file;
  size_t min_vectors;  // the files' sizes, so that a truncated or missing file fails
};

class VersionVectors : public ::testing::TestWithParam<VectorFile> {};

TEST_P(VersionVectors, AllPass) {
  const VectorFile& vf = GetParam();
  std::string text = testing::read_testdata(std::string("version-compare/") + vf.file);
  std::istringstream in(text);
  std::string line;
  size_t total = 0, failed = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line.starts_with("# ") || line.starts_with("// ")) continue;
    ++total;
    std::vector<std::string> pieces;
    std::istringstream ls(line);
    std::string p;
    while (std::getline(ls, p, ' ')) pieces.push_back(p);
    ASSERT_EQ(pieces.size(), 3u) << vf.file << ": " << line;
    int expected = pieces[1] == "<" ? -1 : pieces[1] == "=" ? 0 : pieces[1] == ">" ? 1 : 99;
    ASSERT_NE(expected, 99) << line;
    auto ab = compare_versions(vf.scheme, pieces[0], pieces[2]);
    auto ba = compare_versions(vf.scheme, pieces[2], pieces[0]);
    if (!ab.ok() || !ba.ok() || *ab != expected || *ba != -expected) {
      ++failed;
      if (failed <= 20)
        ADD_FAILURE() << vf.file << ": " << line << " -> "
                      << (ab.ok() ? std::to_string(*ab) : ab.error().message) << " / "
                      << (ba.ok() ? std::to_string(*ba) : ba.error().message);
    }
  }
  std::printf("[ vectors  ] %-8s %-34s %5zu passed, %zu failed\n", vf.ecosystem, vf.file, total - failed, failed);
  EXPECT_EQ(failed, 0u);
  EXPECT_GE(total, vf.min_vectors);
}

INSTANTIATE_TEST_SUITE_P(
    OsvScalibr, VersionVectors,
    ::testing::Values(VectorFile{VersionScheme::kSemver, "npm", "semver-versions.txt", 80},
                      VectorFile{VersionScheme::kDebian, "Debian", "debian-versions.txt", 30},
                      VectorFile{VersionScheme::kDebian, "Debian", "debian-versions-generated.txt", 14000},
                      VectorFile{VersionScheme::kAlpine, "Alpine", "alpine-versions.txt", 700},
                      VectorFile{VersionScheme::kAlpine, "Alpine", "alpine-versions-generated.txt", 13000},
                      VectorFile{VersionScheme::kRpm, "Red Hat", "redhat-versions.txt", 150},
                      VectorFile{VersionScheme::kPypi, "PyPI", "pypi-versions.txt", 35},
                      VectorFile{VersionScheme::kPypi, "PyPI", "pypi-versions-generated.txt", 12000},
                      VectorFile{VersionScheme::kMaven, "Maven", "maven-versions.txt", 100},
                      VectorFile{VersionScheme::kMaven, "Maven", "maven-versions-generated.txt", 14000},
                      VectorFile{VersionScheme::kRubyGems, "RubyGems", "rubygems-versions.txt", 25},
                      VectorFile{VersionScheme::kRubyGems, "RubyGems", "rubygems-versions-generated.txt", 4000},
                      VectorFile{VersionScheme::kPackagist, "Packagist", "packagist-versions.txt", 80},
                      VectorFile{VersionScheme::kPackagist, "Packagist", "packagist-versions-generated.txt", 10000},
                      VectorFile{VersionScheme::kNuget, "NuGet", "nuget-versions.txt", 30}),
    [](const ::testing::TestParamInfo<VectorFile>& info) {
      std::string name = info.param.file;
      for (char& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      return name;
    });

TEST(Version, EcosystemSchemes) {
  EXPECT_EQ(scheme_for_ecosystem("Debian:12"), VersionScheme::kDebian);
  EXPECT_EQ(scheme_for_ecosystem("Ubuntu:22.04:LTS"), VersionScheme::kDebian);
  EXPECT_EQ(scheme_for_ecosystem("Alpine:v3.19"), VersionScheme::kAlpine);
  EXPECT_EQ(scheme_for_ecosystem("Go"), VersionScheme::kSemver);
  EXPECT_EQ(scheme_for_ecosystem("crates.io"), VersionScheme::kSemver);
  EXPECT_EQ(scheme_for_ecosystem("PyPI"), VersionScheme::kPypi);
  EXPECT_EQ(scheme_for_ecosystem("Red Hat:enterprise_linux:9::appstream"), VersionScheme::kRpm);
  EXPECT_FALSE(scheme_for_ecosystem("Pub").has_value());
}

TEST(Version, GoPseudoVersionsAndIncompatible) {
  auto c = compare_versions(VersionScheme::kSemver, "v0.0.0-20191109021931-daa7c04131f5", "v0.1.0");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, -1);
  c = compare_versions(VersionScheme::kSemver, "v0.0.0-20200101000000-aaaaaaaaaaaa",
                       "v0.0.0-20191109021931-daa7c04131f5");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, 1);
  c = compare_versions(VersionScheme::kSemver, "v2.0.0+incompatible", "v2.0.0");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, 0);
}

TEST(Version, MalformedVersionsAreClearErrors) {
  struct Case {
    VersionScheme scheme;
    std::string version;
    std::string fragment;
  };
  std::vector<Case> cases = {
      {VersionScheme::kDebian, "1.2.3-not-a-debian:version!@#$", "is not a number"},
      {VersionScheme::kDebian, "1.0-1!", "invalid character '!' in revision"},
      {VersionScheme::kDebian, "x:1.0", "epoch 'x' is not a number"},
      {VersionScheme::kDebian, "", "empty"},
      {VersionScheme::kSemver, "1.x.3", "'x' is not a number"},
      {VersionScheme::kSemver, "1.2.3-alpha..1", "empty prerelease identifier"},
      {VersionScheme::kNuget, "1.2.3.4.5", "more than 4 numeric parts"},
      {VersionScheme::kRubyGems, "1.2.3 garbage", "malformed"},
      {VersionScheme::kMaven, std::string(1000, '1'), "longer than"},
  };
  for (const Case& c : cases) {
    Status s = validate_version(c.scheme, c.version);
    ASSERT_FALSE(s.ok()) << c.version;
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidInput);
    EXPECT_NE(s.error().message.find(c.fragment), std::string::npos) << s.error().message;
  }
  // Comparing against a malformed version fails rather than guessing.
  EXPECT_FALSE(compare_versions(VersionScheme::kDebian, "1.2.3", "1.2.3-not-a-debian:version!@#$").ok());
}

}  // namespace
}  // namespace vouch::vuln
