// SPDX 2.3 and CycloneDX 1.6 writers: read back by the readers, deterministic, licenses as
// SPDX expressions. (Schema validation with ajv: tests/integration/sbom.sh.)
#include <cstdlib>

#include <gtest/gtest.h>

#include "vouch/base/json.h"
#include "vouch/sbom/reader.h"
#include "vouch/sbom/writer.h"

namespace vouch::sbom {
namespace {

Sbom sample() {
  Sbom s;
  s.name = "dir:/tmp/root";
  s.distro = Distro{"debian", "12", "Debian GNU/Linux 12 (bookworm)"};
  Package ssl;
  ssl.id = "deb-libssl3-1";
  ssl.name = "libssl3";
  ssl.version = "3.0.15-1~deb12u1";
  ssl.type = type::kDeb;
  ssl.architecture = "amd64";
  ssl.source_name = "openssl";
  ssl.purl = "pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=amd64&upstream=openssl&distro=debian-12";
  ssl.licenses = {"Apache-2.0"};
  ssl.locations = {{"/var/lib/dpkg/status", "sha256:" + std::string(64, 'a')}};
  Package yaml;
  yaml.id = "deb-python3-yaml-2";
  yaml.name = "python3-yaml";
  yaml.version = "6.0-3+b2";
  yaml.type = type::kDeb;
  yaml.purl = "pkg:deb/debian/python3-yaml@6.0-3+b2?arch=amd64&upstream=pyyaml%406.0-3&distro=debian-12";
  yaml.licenses = {"MIT", "GPL-2+ with exception"};
  Package pyyaml;
  pyyaml.id = "python-PyYAML-3";
  pyyaml.name = "PyYAML";
  pyyaml.version = "6.0";
  pyyaml.type = type::kPython;
  pyyaml.purl = "pkg:pypi/pyyaml@6.0";
  pyyaml.owner_id = yaml.id;
  ssl.depends_on = {yaml.id, "no-such-package"};
  s.packages = {ssl, yaml, pyyaml};
  return s;
}

void expect_round_trip(const Sbom& back) {
  ASSERT_EQ(back.packages.size(), 3u);
  ASSERT_TRUE(back.distro.has_value());
  EXPECT_EQ(back.distro->id, "debian");
  EXPECT_EQ(back.distro->version_id, "12");
  const Package* ssl = nullptr;
  const Package* yaml = nullptr;
  const Package* py = nullptr;
  for (const auto& p : back.packages) {
    if (p.name == "libssl3") ssl = &p;
    if (p.name == "python3-yaml") yaml = &p;
    if (p.name == "PyYAML") py = &p;
  }
  ASSERT_TRUE(ssl && yaml && py);
  EXPECT_EQ(ssl->purl, sample().packages[0].purl);
  EXPECT_EQ(ssl->type, "deb");
  EXPECT_EQ(ssl->source_name, "openssl");
  EXPECT_EQ(ssl->architecture, "amd64");
  EXPECT_EQ(ssl->licenses, std::vector<std::string>{"Apache-2.0"});
  EXPECT_EQ(yaml->source_name, "pyyaml");
  EXPECT_EQ(yaml->source_version, "6.0-3");
  EXPECT_EQ(py->type, "python");
  EXPECT_EQ(py->owner_id, yaml->id);
}

TEST(SpdxWriter, RoundTrip) {
  WriteOptions o{1700000000, "0.1.0"};
  auto doc = write_spdx_json(sample(), o);
  std::string text = json::pretty(doc);
  auto back = read_sbom(text);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->format, "spdx-2.3");
  EXPECT_EQ(back->name, "dir:/tmp/root");
  expect_round_trip(*back);
  EXPECT_EQ(doc.at("creationInfo").at("created").as_string(), "2023-11-14T22:13:20Z");
  // Licenses: an identifier stays, words that are not an expression become a LicenseRef.
  EXPECT_EQ(doc.at("packages").at(1).at("licenseDeclared").as_string(), "MIT AND LicenseRef-GPL-2--with-exception");
  EXPECT_EQ(text, json::pretty(write_spdx_json(sample(), o)));
  size_t dependency_of = 0;
  for (const auto& r : doc.at("relationships").as_array())
    if (r.at("relationshipType") == "DEPENDENCY_OF") {
      ++dependency_of;
      EXPECT_EQ(r.at("spdxElementId").as_string(), "SPDXRef-Package-deb-python3-yaml-2");
      EXPECT_EQ(r.at("relatedSpdxElement").as_string(), "SPDXRef-Package-deb-libssl3-1");
    }
  EXPECT_EQ(dependency_of, 1u);
  Sbom changed = sample();
  changed.packages[0].version = "3.0.15-1~deb12u2";
  EXPECT_NE(doc.at("documentNamespace"), write_spdx_json(changed, o).at("documentNamespace"));
}

TEST(CycloneDxWriter, RoundTrip) {
  WriteOptions o{1700000000, "0.1.0"};
  auto doc = write_cyclonedx_json(sample(), o);
  std::string text = json::pretty(doc);
  auto back = read_sbom(text);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->format, "cyclonedx-1.6");
  EXPECT_EQ(back->name, "dir:/tmp/root");
  expect_round_trip(*back);
  for (const auto& p : back->packages)
    if (p.name == "libssl3") {
      ASSERT_EQ(p.locations.size(), 1u);
      EXPECT_EQ(p.locations[0].path, "/var/lib/dpkg/status");
      EXPECT_EQ(p.locations[0].layer_digest, "sha256:" + std::string(64, 'a'));
    }
  EXPECT_EQ(doc.at("metadata").at("timestamp").as_string(), "2023-11-14T22:13:20Z");
  EXPECT_EQ(text, json::pretty(write_cyclonedx_json(sample(), o)));
  const auto& deps = doc.at("dependencies").as_array();
  ASSERT_EQ(deps.size(), 2u);
  EXPECT_EQ(deps[1].at("ref").as_string(), "deb-libssl3-1");
  EXPECT_EQ(deps[1].at("dependsOn"), (boost::json::array{"deb-python3-yaml-2"}));
  std::string serial(doc.at("serialNumber").as_string());
  EXPECT_EQ(serial.size(), 45u);
  EXPECT_EQ(serial.substr(0, 9), "urn:uuid:");
}

TEST(Writer, CreationTime) {
  ::setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
  auto t = creation_time();
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, 1700000000);
  ::setenv("SOURCE_DATE_EPOCH", "yesterday", 1);
  EXPECT_FALSE(creation_time().ok());
  ::unsetenv("SOURCE_DATE_EPOCH");
  EXPECT_TRUE(creation_time().ok());
}

TEST(Writer, Table) {
  std::string t = write_table(sample());
  EXPECT_NE(t.find("NAME"), std::string::npos);
  EXPECT_NE(t.find("libssl3       3.0.15-1~deb12u1  deb"), std::string::npos) << t;
  EXPECT_EQ(write_table(Sbom{}), "No packages discovered\n");
  // The same package found in several places is one row, marked as syft marks it.
  Sbom dup;
  auto add = [&](std::string id, std::string name) {
    Package p;
    p.id = std::move(id);
    p.name = std::move(name);
    p.version = "1";
    p.type = "deb";
    dup.packages.push_back(std::move(p));
  };
  for (int i = 0; i < 3; ++i) add("p" + std::to_string(i), "a");
  add("q", "b");
  EXPECT_EQ(write_table(dup), "NAME  INSTALLED  TYPE\na     1          deb  (+2 duplicates)\nb     1          deb\n");
}

}  // namespace
}  // namespace vouch::sbom
