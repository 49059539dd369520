// catalog_image with ImageScope::kAllLayers: every layer's view is searched, so packages whose
// files a later layer rewrote or deleted are reported, each once, with the layer that holds
// the file they were read from; the squashed scope is unchanged.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "../oci/layer_builder.h"
#include "vouch/base/json.h"
#include "vouch/sbom/catalog.h"
#include "vouch/sbom/syft_json.h"

namespace vouch::sbom {
namespace {

using oci::testing::Layout;
using oci::testing::make_tar;

constexpr const char* kMetadataPath = "usr/lib/python3/dist-packages/foo-1.0.dist-info/METADATA";

std::string status_with(const std::string& version) {
  return "Package: liba\nStatus: install ok installed\nArchitecture: amd64\nVersion: " + version + "\n";
}

// Layer 1 installs liba 1.0 and the Python package foo; layer 2 upgrades liba to 2.0 (the
// status rewritten); layer 3 deletes foo's METADATA.
struct ThreeLayers {
  Layout layout;
  std::unique_ptr<oci::Store> store;
  oci::Manifest manifest;
  ThreeLayers() {
    std::string l1 = make_tar({{"etc/os-release", 'f', "ID=debian\nVERSION_ID=\"12\"\n"},
                               {"var/lib/dpkg/status", 'f', status_with("1.0")},
                               {kMetadataPath, 'f', "Metadata-Version: 2.1\nName: foo\nVersion: 1.0\n"}},
                              "gzip");
    std::string l2 = make_tar({{"var/lib/dpkg/status", 'f', status_with("2.0")}, {"tmp/unrelated", 'f', "x"}}, "gzip");
    std::string l3 = make_tar({{"usr/lib/python3/dist-packages/foo-1.0.dist-info/.wh.METADATA", 'f', ""}}, "none");
    auto [s, m] = layout.image({{l1, std::string(oci::media_type::kOciLayerGzip)},
                                {l2, std::string(oci::media_type::kOciLayerGzip)},
                                {l3, std::string(oci::media_type::kOciLayer)}});
    store = std::move(s);
    manifest = m;
  }
  std::string digest(size_t i) const { return manifest.layers[i].digest.str(); }
};

// "type name version @layer-index" for every package and location.
std::vector<std::string> summary(const Sbom& s, const ThreeLayers& img) {
  std::vector<std::string> out;
  for (const auto& p : s.packages) {
    std::string line = p.type + " " + p.name + " " + p.version;
    for (const auto& l : p.locations) {
      std::string layer = "?";
      for (size_t i = 0; i < img.manifest.layers.size(); ++i)
        if (l.layer_digest == img.digest(i)) layer = std::to_string(i + 1);
      line += " " + l.path + "@" + layer;
    }
    out.push_back(line);
  }
  return out;
}

TEST(AllLayersCatalog, SquashedScopeSeesOnlyTheFinalFilesystem) {
  ThreeLayers img;
  auto s = catalog_image(*img.store, std::nullopt, "img", {}, default_catalogers(), 2, ImageScope::kSquashed);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(summary(*s, img), (std::vector<std::string>{"deb liba 2.0 /var/lib/dpkg/status@2"}));
  EXPECT_FALSE(s->packages.at(0).locations.at(0).visible.has_value());
}

TEST(AllLayersCatalog, EveryLayerViewIsSearched) {
  ThreeLayers img;
  for (unsigned threads : {1u, 2u, 3u}) {
    std::vector<std::string> observed;
    auto s = catalog_image(
        *img.store, std::nullopt, "img", [&](const SourceFile& f) { observed.push_back(f.path); }, default_catalogers(),
        threads, ImageScope::kAllLayers);
    ASSERT_TRUE(s.ok()) << s.error().message;
    // liba from each status it was read from; foo once although two views show its METADATA.
    EXPECT_EQ(summary(*s, img), (std::vector<std::string>{
                                    "deb liba 1.0 /var/lib/dpkg/status@1",
                                    "deb liba 2.0 /var/lib/dpkg/status@2",
                                    "python foo 1.0 /" + std::string(kMetadataPath) + "@1",
                                }))
        << threads << " threads";
    ASSERT_EQ(s->packages.size(), 3u);
    EXPECT_NE(s->packages[0].id, s->packages[1].id);
    // Only liba 2.0's status is still in the final filesystem.
    EXPECT_EQ(s->packages[0].locations.at(0).visible, std::optional<bool>(false));
    EXPECT_EQ(s->packages[1].locations.at(0).visible, std::optional<bool>(true));
    EXPECT_EQ(s->packages[2].locations.at(0).visible, std::optional<bool>(false));
    // Both debs name the distro of the lowest os-release.
    EXPECT_NE(s->packages[0].purl.find("distro=debian-12"), std::string::npos) << s->packages[0].purl;
    EXPECT_NE(s->packages[1].purl.find("distro=debian-12"), std::string::npos) << s->packages[1].purl;
    ASSERT_TRUE(s->distro.has_value());
    EXPECT_EQ(s->distro->id, "debian");
    // Each file of each layer is walked once: the two statuses, os-release, METADATA, the unrelated file.
    std::sort(observed.begin(), observed.end());
    EXPECT_EQ(observed, (std::vector<std::string>{"/etc/os-release", "/tmp/unrelated", "/" + std::string(kMetadataPath),
                                                  "/var/lib/dpkg/status", "/var/lib/dpkg/status"}))
        << threads << " threads";
  }
}

TEST(AllLayersCatalog, SyftJsonLocationsCarryTheLayer) {
  ThreeLayers img;
  auto s = catalog_image(*img.store, std::nullopt, "img", {}, default_catalogers(), 0, ImageScope::kAllLayers);
  ASSERT_TRUE(s.ok()) << s.error().message;
  WriteOptions o;
  o.created = 1700000000;
  auto doc = write_syft_json(*s, o);
  std::vector<std::string> seen;
  for (const auto& a : doc.as_object().at("artifacts").as_array()) {
    const auto& art = a.as_object();
    for (const auto& l : art.at("locations").as_array())
      seen.push_back(std::string(art.at("version").as_string()) + " " + std::string(l.as_object().at("layerID").as_string()) +
                     " visible=" + std::string(l.as_object().at("annotations").as_object().at("visible").as_string()));
  }
  std::sort(seen.begin(), seen.end());
  std::vector<std::string> want{"1.0 " + img.digest(0) + " visible=false", "1.0 " + img.digest(0) + " visible=false",
                                "2.0 " + img.digest(1) + " visible=true"};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(seen, want);
}

TEST(AllLayersCatalog, ALayerThatChangesNothingReadAddsNothing) {
  // The same status in two layers' views, the upper layer touching other files only: one package.
  Layout layout;
  std::string l1 = make_tar({{"var/lib/dpkg/status", 'f', status_with("1.0")}}, "gzip");
  std::string l2 = make_tar({{"etc/motd", 'f', "hello\n"}}, "gzip");
  auto [store, m] = layout.image({{l1, std::string(oci::media_type::kOciLayerGzip)},
                                  {l2, std::string(oci::media_type::kOciLayerGzip)}});
  auto all = catalog_image(*store, std::nullopt, "img", {}, ImageScope::kAllLayers);
  auto squashed = catalog_image(*store, std::nullopt, "img", {}, ImageScope::kSquashed);
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_TRUE(squashed.ok()) << squashed.error().message;
  ASSERT_EQ(all->packages.size(), 1u);
  ASSERT_EQ(squashed->packages.size(), 1u);
  EXPECT_EQ(all->packages[0].locations.at(0).layer_digest, m.layers[0].digest.str());
}

TEST(AllLayersCatalog, ErrorsOfAnyLayerStop) {
  // A malformed status a later layer replaced is still read in all-layers (and named).
  Layout layout;
  std::string l1 = make_tar({{"var/lib/dpkg/status", 'f', "no colon here\n"}}, "gzip");
  std::string l2 = make_tar({{"var/lib/dpkg/status", 'f', status_with("2.0")}}, "gzip");
  auto [store, m] = layout.image({{l1, std::string(oci::media_type::kOciLayerGzip)},
                                  {l2, std::string(oci::media_type::kOciLayerGzip)}});
  auto squashed = catalog_image(*store, std::nullopt, "img", {}, ImageScope::kSquashed);
  ASSERT_TRUE(squashed.ok()) << squashed.error().message;
  auto all = catalog_image(*store, std::nullopt, "img", {}, ImageScope::kAllLayers);
  ASSERT_FALSE(all.ok());
  EXPECT_NE(all.error().message.find("/var/lib/dpkg/status"), std::string::npos) << all.error().message;
}

}  // namespace
}  // namespace vouch::sbom
