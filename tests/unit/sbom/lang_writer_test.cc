// How language packages come out of the writers: sourceInfo in syft's words, ownership as an
// SPDX OTHER relationship and CycloneDX nesting, licenses as SPDX ids, expressions or
// LicenseRefs (with their text in hasExtractedLicensingInfos).
#include <gtest/gtest.h>

#include "vouch/base/json.h"
#include "vouch/sbom/writer.h"

namespace vouch::sbom {
namespace {

namespace bj = boost::json;

Sbom sample() {
  Sbom s;
  s.name = "dir:/x";
  Package deb;
  deb.id = "deb-python3-yaml";
  deb.name = "python3-yaml";
  deb.version = "6.0-3+b2";
  deb.type = type::kDeb;
  deb.licenses = {"MIT"};
  Package py;
  py.id = "python-PyYAML";
  py.name = "PyYAML";
  py.version = "6.0";
  py.type = type::kPython;
  py.owner_id = deb.id;
  py.licenses = {"MIT OR Apache-2.0"};
  py.locations = {{"/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA", ""}};
  Package npm;
  npm.id = "npm-x";
  npm.name = "x";
  npm.version = "1";
  npm.type = type::kNpm;
  npm.licenses = {"MIT", "public domain"};
  npm.locations = {{"/app/package-lock.json", ""}};
  s.packages = {deb, py, npm};
  return s;
}

const bj::object* by_name(const bj::array& a, std::string_view name) {
  for (const auto& v : a)
    if (v.as_object().at("name").as_string() == name) return &v.as_object();
  return nullptr;
}

TEST(LanguageWriters, Spdx) {
  bj::value doc = write_spdx_json(sample(), WriteOptions{});
  const bj::array& pk = doc.at("packages").as_array();
  const bj::object* py = by_name(pk, "PyYAML");
  const bj::object* npm = by_name(pk, "x");
  ASSERT_TRUE(py && npm);
  EXPECT_EQ(py->at("sourceInfo").as_string(),
            "acquired package info from installed python package manifest file: "
            "/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA");
  EXPECT_EQ(npm->at("sourceInfo").as_string(),
            "acquired package info from installed node module manifest file: /app/package-lock.json");
  EXPECT_EQ(py->at("licenseDeclared").as_string(), "MIT OR Apache-2.0");
  EXPECT_EQ(npm->at("licenseDeclared").as_string(), "MIT AND LicenseRef-public-domain");
  const bj::array& infos = doc.at("hasExtractedLicensingInfos").as_array();
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0].at("licenseId").as_string(), "LicenseRef-public-domain");
  EXPECT_EQ(infos[0].at("extractedText").as_string(), "public domain");
  int owned = 0;
  for (const auto& r : doc.at("relationships").as_array()) {
    if (r.at("relationshipType").as_string() != "OTHER") continue;
    EXPECT_EQ(r.at("spdxElementId").as_string(), "SPDXRef-Package-deb-python3-yaml");
    EXPECT_EQ(r.at("relatedSpdxElement").as_string(), "SPDXRef-Package-python-PyYAML");
    ++owned;
  }
  EXPECT_EQ(owned, 1);
}

TEST(LanguageWriters, CycloneDx) {
  bj::value doc = write_cyclonedx_json(sample(), WriteOptions{});
  const bj::array& top = doc.at("components").as_array();
  EXPECT_EQ(by_name(top, "PyYAML"), nullptr);  // nested under its owner only
  const bj::object* deb = by_name(top, "python3-yaml");
  ASSERT_NE(deb, nullptr);
  const bj::object* py = by_name(deb->at("components").as_array(), "PyYAML");
  ASSERT_NE(py, nullptr);
  EXPECT_EQ(json::serialize(py->at("licenses")), R"([{"expression":"MIT OR Apache-2.0"}])");
  EXPECT_EQ(json::serialize(deb->at("licenses")), R"([{"license":{"id":"MIT"}}])");
  EXPECT_EQ(json::serialize(by_name(top, "x")->at("licenses")),
            R"([{"license":{"id":"MIT"}},{"license":{"name":"public domain"}}])");
}

}  // namespace
}  // namespace vouch::sbom
