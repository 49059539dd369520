// SBOM readers against the specifications' own documents in ../shared/testdata/schemas, and
// malformed documents that must fail with an error naming the field.
#include <filesystem>

#include <gtest/gtest.h>

#include "../testdata.h"
#include "vouch/base/json.h"
#include "vouch/sbom/purl.h"
#include "vouch/sbom/reader.h"

namespace vouch::sbom {
namespace {

namespace fs = std::filesystem;

TEST(SpdxReader, SpecificationExamples) {
  for (const char* name : {"SPDXJSONExample-v2.3.spdx.json", "SPDXJSONExample-v2.2.spdx.json"}) {
    std::string text = testing::read_testdata(fs::path("schemas/spdx-examples") / name);
    auto doc = read_sbom(text);
    ASSERT_TRUE(doc.ok()) << name << ": " << doc.error().message;
    ASSERT_EQ(doc->packages.size(), 4u) << name;
    const Package* glibc = doc->find("SPDXRef-Package");
    ASSERT_NE(glibc, nullptr);
    EXPECT_EQ(glibc->name, "glibc");
    EXPECT_EQ(glibc->version, "2.11.1");
    EXPECT_EQ(glibc->licenses, std::vector<std::string>{"(LGPL-2.0-only AND LicenseRef-3)"});
    EXPECT_EQ(glibc->cpes, std::vector<std::string>{"cpe:2.3:a:pivotal_software:spring_framework:4.1.0:*:*:*:*:*:*:*"});
    const Package* jena = nullptr;
    for (const auto& p : doc->packages)
      if (p.name == "Jena") jena = &p;
    ASSERT_NE(jena, nullptr);
    EXPECT_EQ(jena->purl, "pkg:maven/org.apache.jena/apache-jena@3.12.0");
    EXPECT_EQ(jena->type, "java-archive");
  }
}

size_t count_components(const boost::json::value& v) {
  size_t n = 0;
  if (!v.is_object()) return 0;
  if (auto* comps = v.as_object().if_contains("components"); comps && comps->is_array()) {
    for (const auto& c : comps->as_array()) {
      std::string_view type = c.as_object().at("type").as_string();
      if (type != "operating-system" && type != "file") ++n;
      n += count_components(c);
    }
  }
  return n;
}

TEST(CycloneDxReader, EveryValidSpecificationDocument) {
  size_t docs = 0;
  for (const char* version : {"1.5", "1.6"}) {
    for (const auto& e : fs::directory_iterator(testing::testdata_dir() / "schemas/cyclonedx-tests" / version)) {
      std::string name = e.path().filename().string();
      if (!name.starts_with("valid-")) continue;
      std::string text = *read_file(e.path());
      auto doc = read_sbom(text);
      ASSERT_TRUE(doc.ok()) << name << ": " << doc.error().message;
      auto parsed = json::parse(text);
      EXPECT_EQ(doc->packages.size(), count_components(*parsed)) << name;
      EXPECT_EQ(doc->format, std::string("cyclonedx-") + version) << name;
      ++docs;
    }
  }
  EXPECT_GE(docs, 80u);
}

TEST(CycloneDxReader, InvalidSpecificationDocumentsNeverCrash) {
  // Schema-level violations the package model does not depend on may read; the others must
  // fail with a one-line error.
  size_t failed = 0, total = 0;
  for (const char* version : {"1.5", "1.6"}) {
    for (const auto& e : fs::directory_iterator(testing::testdata_dir() / "schemas/cyclonedx-tests" / version)) {
      std::string name = e.path().filename().string();
      if (!name.starts_with("invalid-")) continue;
      ++total;
      auto doc = read_sbom(*read_file(e.path()));
      if (!doc.ok()) {
        ++failed;
        EXPECT_EQ(doc.error().message.find('\n'), std::string::npos);
      }
    }
  }
  EXPECT_GT(total, 40u);
  EXPECT_GT(failed, 0u);
}

TEST(Readers, MalformedDocumentsNameTheField) {
  struct Case {
    const char* doc;
    const char* fragment;
  };
  for (Case c : {
           Case{R"({"spdxVersion": "SPDX-2.3", "packages": [{"SPDXID": "SPDXRef-a"}]})", "packages[0].name: missing"},
           Case{R"({"spdxVersion": "SPDX-2.3", "packages": [{"SPDXID": "a", "name": "x", "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "npm/x"}]}]})",
                "packages[0].externalRefs[0].referenceLocator: purl 'npm/x'"},
           Case{R"({"spdxVersion": "SPDX-3.0"})", "spdxVersion: 'SPDX-3.0' is not SPDX 2.x"},
           Case{R"({"spdxVersion": "SPDX-2.3", "packages": [{"SPDXID": "a", "name": "x"}], "relationships": [{"spdxElementId": "b", "relatedSpdxElement": "a", "relationshipType": "OTHER", "comment": "ownership-by-file-overlap: x"}]})",
                "relationships[0]: spdxElementId 'b' names no package"},
           Case{R"({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"type": "library"}]})",
                "components[0].name: missing"},
           Case{R"({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"type": "library", "name": "a", "components": [{"type": "library", "name": "b", "purl": 5}]}]})",
                "components[0].components[0].purl: expected a string"},
           Case{R"({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"type": "library", "name": "a", "licenses": [{"license": {}}]}]})",
                "components[0].licenses[0].license: a license has an id or a name"},
           Case{R"({"bomFormat": "SWID"})", "bomFormat: 'SWID' is not CycloneDX"},
           Case{R"({"hello": 1})", "not an SPDX JSON or CycloneDX JSON document"},
           Case{R"({"spdxVersion": )", "malformed JSON"},
       }) {
    auto doc = read_sbom(c.doc);
    ASSERT_FALSE(doc.ok()) << c.doc;
    EXPECT_EQ(doc.error().code, ErrorCode::kInvalidInput);
    EXPECT_NE(doc.error().message.find(c.fragment), std::string::npos) << doc.error().message;
  }
}

TEST(Readers, SyftShapedOwnershipAndSources) {
  std::string spdx = R"({"spdxVersion": "SPDX-2.3", "name": "img", "packages": [
    {"SPDXID": "SPDXRef-deb", "name": "python3-yaml", "versionInfo": "6.0-3+b2",
     "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
       "referenceLocator": "pkg:deb/debian/python3-yaml@6.0-3%2Bb2?arch=amd64&upstream=pyyaml%406.0-3&distro=debian-12"}]},
    {"SPDXID": "SPDXRef-py", "name": "PyYAML", "versionInfo": "6.0",
     "externalRefs": [{"referenceCategory": "PACKAGE_MANAGER", "referenceType": "purl", "referenceLocator": "pkg:pypi/pyyaml@6.0"}]}],
    "relationships": [{"spdxElementId": "SPDXRef-deb", "relatedSpdxElement": "SPDXRef-py", "relationshipType": "OTHER",
      "comment": "ownership-by-file-overlap: indicates that the parent package claims ownership"}]})";
  auto doc = read_sbom(spdx);
  ASSERT_TRUE(doc.ok()) << doc.error().message;
  ASSERT_EQ(doc->packages.size(), 2u);
  EXPECT_EQ(doc->packages[0].type, "deb");
  EXPECT_EQ(doc->packages[0].source_name, "pyyaml");
  EXPECT_EQ(doc->packages[0].source_version, "6.0-3");
  EXPECT_EQ(doc->packages[0].architecture, "amd64");
  EXPECT_EQ(doc->packages[1].owner_id, "SPDXRef-deb");
  ASSERT_TRUE(doc->distro.has_value());
  EXPECT_EQ(doc->distro->id, "debian");
  EXPECT_EQ(doc->distro->version_id, "12");
}

TEST(Purl, ParseAndFormat) {
  auto p = parse_purl("pkg:deb/debian/libssl3@3.0.15-1~deb12u1?distro=debian-12&arch=amd64&upstream=openssl%403.0.15-1");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->type, "deb");
  EXPECT_EQ(p->namespace_, "debian");
  EXPECT_EQ(p->name, "libssl3");
  EXPECT_EQ(p->version, "3.0.15-1~deb12u1");
  EXPECT_EQ(p->qualifier("upstream"), "openssl@3.0.15-1");
  EXPECT_EQ(p->to_string(),
            "pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=amd64&distro=debian-12&upstream=openssl%403.0.15-1");
  auto npm = parse_purl("pkg:npm/%40angular/core@16.0.0#src/index");
  ASSERT_TRUE(npm.ok());
  EXPECT_EQ(npm->namespace_, "@angular");
  EXPECT_EQ(npm->subpath, "src/index");
  EXPECT_EQ(npm->to_string(), "pkg:npm/%40angular/core@16.0.0#src/index");
  EXPECT_EQ(parse_purl("pkg:PyPI/Django_Rest@1.0")->name, "django-rest");
  EXPECT_EQ(parse_purl("pkg:golang/github.com/gorilla/mux@v1.8.0")->namespace_, "github.com/gorilla");
  for (const char* bad : {"npm/foo@1", "pkg:npm", "pkg:npm/", "pkg:npm/foo%zz@1", "pkg:npm/foo?=x"})
    EXPECT_FALSE(parse_purl(bad).ok()) << bad;
}

}  // namespace
}  // namespace vouch::sbom
