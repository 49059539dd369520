// syft-json: the artifacts, relationships, distro and schema grype reads.
#include <gtest/gtest.h>

#include "vouch/sbom/syft_json.h"

namespace vouch::sbom {
namespace {

namespace bj = boost::json;

TEST(SyftJson, ArtifactsRelationshipsAndDistro) {
  Sbom doc;
  doc.name = "registry.example.com/app:1";
  doc.distro = Distro{"debian", "12", "Debian GNU/Linux 12 (bookworm)"};
  auto package = [](std::string id, std::string name, std::string version, std::string type, std::string purl) {
    Package p;
    p.id = std::move(id);
    p.name = std::move(name);
    p.version = std::move(version);
    p.type = std::move(type);
    p.purl = std::move(purl);
    return p;
  };
  Package yaml = package("deb-python3-yaml", "python3-yaml", "6.0-3", type::kDeb,
                         "pkg:deb/debian/python3-yaml@6.0-3?distro=debian-12");
  yaml.depends_on = {"deb-libyaml"};
  Package libyaml = package("deb-libyaml", "libyaml-0-2", "0.2.5-1", type::kDeb, "");
  Package pyyaml = package("python-pyyaml", "PyYAML", "6.0", type::kPython, "pkg:pypi/pyyaml@6.0");
  pyyaml.cpes = {"cpe:2.3:a:pyyaml:pyyaml:6.0:*:*:*:*:*:*:*"};
  pyyaml.licenses = {"MIT"};
  pyyaml.locations = {{"/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA", "sha256:abc"}};
  pyyaml.owner_id = "deb-python3-yaml";
  doc.packages = {yaml, libyaml, pyyaml};

  bj::object out = write_syft_json(doc, WriteOptions{}).as_object();
  const bj::array& artifacts = out.at("artifacts").as_array();
  ASSERT_EQ(artifacts.size(), 3u);
  const bj::object& py = artifacts[2].as_object();
  EXPECT_EQ(py.at("language"), "python");
  EXPECT_EQ(py.at("purl"), "pkg:pypi/pyyaml@6.0");
  EXPECT_EQ(py.at("cpes").as_array()[0].at("cpe"), "cpe:2.3:a:pyyaml:pyyaml:6.0:*:*:*:*:*:*:*");
  EXPECT_EQ(py.at("licenses").as_array()[0].at("value"), "MIT");
  EXPECT_EQ(py.at("locations").as_array()[0].at("layerID"), "sha256:abc");
  EXPECT_EQ(artifacts[0].at("language"), "");

  const bj::array& rel = out.at("artifactRelationships").as_array();
  ASSERT_EQ(rel.size(), 2u);
  EXPECT_EQ(rel[0], (bj::object{{"parent", "deb-libyaml"}, {"child", "deb-python3-yaml"}, {"type", "dependency-of"}}));
  EXPECT_EQ(rel[1], (bj::object{{"parent", "deb-python3-yaml"}, {"child", "python-pyyaml"},
                                {"type", "ownership-by-file-overlap"}}));
  EXPECT_EQ(out.at("distro").at("id"), "debian");
  EXPECT_EQ(out.at("distro").at("versionID"), "12");
  EXPECT_EQ(out.at("source").at("type"), "image");
  EXPECT_EQ(out.at("schema").at("version"), kSyftJsonSchemaVersion);
}

}  // namespace
}  // namespace vouch::sbom
