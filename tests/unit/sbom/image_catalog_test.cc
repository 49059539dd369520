// catalog_image's single pass over the layers against the walk over the squashed view that it
// replaces (catalog() over image_source()): the same document, warnings and walk, on images
// whose files reach the view under other names (hard links, parent symlinks, names repeated in
// a layer), with every layer read once unless a cataloger needs a file's content again.
#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "../oci/layer_builder.h"
#include "elf_builder.h"
#include "vouch/base/json.h"
#include "vouch/oci/squash.h"
#include "vouch/sbom/catalog.h"
#include "vouch/sbom/writer.h"

namespace vouch::sbom {
namespace {

using oci::testing::Layout;
using oci::testing::make_tar;
using oci::testing::TarEntry;
using testing::build_elf;
using testing::framed_modinfo;
using testing::go_inline_buildinfo;

// Counts the layer blobs each image read opens.
class CountingStore final : public oci::Store {
 public:
  explicit CountingStore(oci::Store& inner) : inner_(inner) {}
  std::string describe() const override { return inner_.describe(); }
  Result<oci::Manifest> get_root() override { return inner_.get_root(); }
  Result<std::optional<oci::Manifest>> get_tagged(std::string_view tag) override { return inner_.get_tagged(tag); }
  Result<oci::Manifest> get_manifest(const oci::Descriptor& d) override { return inner_.get_manifest(d); }
  Result<std::unique_ptr<oci::BlobReader>> open_blob(const oci::Descriptor& d) override {
    std::lock_guard<std::mutex> lock(mutex_);
    ++opened_[d.digest.str()];
    return inner_.open_blob(d);
  }
  Result<bool> has_blob(const oci::Descriptor& d) override { return inner_.has_blob(d); }
  Status put_blob(const oci::Descriptor& d, oci::BlobReader& from) override { return inner_.put_blob(d, from); }
  Status put_manifest(const oci::Manifest& m, const std::optional<std::string>& tag, bool root) override {
    return inner_.put_manifest(m, tag, root);
  }
  int opened(const oci::Descriptor& d) {
    std::lock_guard<std::mutex> lock(mutex_);
    return opened_[d.digest.str()];
  }
  void reset() {
    std::lock_guard<std::mutex> lock(mutex_);
    opened_.clear();
  }

 private:
  oci::Store& inner_;
  std::mutex mutex_;
  std::map<std::string, int> opened_;
};

std::string document(const Sbom& s) {
  WriteOptions o;
  o.created = 1700000000;
  std::string out = json::serialize(write_cyclonedx_json(s, o)) + "\n" + json::serialize(write_spdx_json(s, o));
  for (const auto& w : s.warnings) out += "\nwarning: " + w;
  return out;
}

struct Walked {
  Sbom sbom;
  std::vector<std::string> files;  // as the observer saw them
};

// The walk catalog_image replaces: the view first, then one read of its files in layer order.
Walked by_walk(oci::Store& store, const oci::Manifest& m) {
  auto view = oci::squash_image(store, m);
  EXPECT_TRUE(view.ok()) << view.error().message;
  std::vector<std::string> layers;
  for (const auto& l : m.layers) layers.push_back(l.digest.str());
  Walked w;
  auto source = observed_source(image_source(*view, layers, "img"),
                                [&](const SourceFile& f) { w.files.push_back(fmt::format("{} {} {:o}", f.path, f.size, f.mode)); });
  auto s = catalog(*source, default_catalogers());
  EXPECT_TRUE(s.ok()) << s.error().message;
  if (s.ok()) w.sbom = std::move(s).value();
  return w;
}

Walked by_pass(oci::Store& store, unsigned threads) {
  Walked w;
  auto s = catalog_image(
      store, std::nullopt, "img",
      [&](const SourceFile& f) { w.files.push_back(fmt::format("{} {} {:o}", f.path, f.size, f.mode)); },
      default_catalogers(), threads);
  EXPECT_TRUE(s.ok()) << s.error().message;
  if (s.ok()) w.sbom = std::move(s).value();
  return w;
}

const std::string kModinfo =
    "path\texample.com/tool/cmd/tool\n"
    "mod\texample.com/tool\tv1.4.0\th1:abc=\n"
    "dep\tgithub.com/pkg/errors\tv0.9.1\th1:def=\n";

constexpr const char* kStatus =
    "Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b7\n\n"
    "Package: python3-yaml\nStatus: install ok installed\nArchitecture: amd64\nVersion: 6.0-3\n\n"
    "Package: gone\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n";
constexpr const char* kCopyright =
    "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: GPL-3+\n";

std::string package_json(const std::string& name, const std::string& version) {
  return fmt::format(R"({{"name":"{}","version":"{}","license":"MIT"}})", name, version);
}

std::string go_binary(const std::string& version) {
  return build_elf(true, false, {{".go.buildinfo", go_inline_buildinfo(version, framed_modinfo(kModinfo))}});
}

TEST(ImageCatalog, SameDocumentAsTheWalkOverTheView) {
  Layout l;
  std::string damaged = "\x7f" "ELF" + std::string(60, '\x01');
  std::string base = make_tar(
      {{"etc/os-release", 'f', "ID=debian\nVERSION_ID=\"12\"\n"},
       {"var/lib/dpkg/status", 'f', kStatus},
       {"var/lib/dpkg/info/bash.list", 'f', "/.\n/bin\n/bin/bash\n"},
       {"var/lib/dpkg/info/python3-yaml.list", 'f', "/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA\n"},
       {"var/lib/dpkg/info/gone.list", 'f', "/usr/share/gone\n"},
       {"usr/share/doc/bash/copyright", 'f', kCopyright},
       {"usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA", 'f', "Metadata-Version: 2.1\nName: PyYAML\nVersion: 6.0\n"},
       {"usr/bin/tool", 'f', go_binary("go1.21.5"), 0755},
       {"usr/bin/tool-link", 'h', "usr/bin/tool", 0755},      // the same Go binary under another name
       {"usr/bin/damaged", 'f', damaged, 0755},                 // a malformed ELF: a warning
       {"usr/bin/damaged-link", 'h', "usr/bin/damaged", 0755},
       {"usr/bin/script", 'f', "#!/bin/sh\necho this is a shell script and not an ELF file\n", 0755},
       {"bin", 'l', "usr/bin"},
       {"app/node_modules/a/package.json", 'f', package_json("a", "1.0.0")},
       {"app/node_modules/b/package.json", 'h', "app/node_modules/a/package.json"},  // wanted by its own name
       {"app/node_modules/c/package.json", 'l', "../a/package.json"},
       {"app/node_modules/c/package.json", 'f', package_json("c", "3.0.0")},       // a name given twice
       {"app/node_modules/d/package.json", 'f', package_json("d", "1.0.0")},
       {"app/node_modules/d/package.json", 'f', package_json("d", "2.0.0-longer")}},
      "gzip");
  std::string upper = make_tar(
      {{"bin/tool2", 'f', go_binary("go1.22.1"), 0755},  // lands in usr/bin through the link
       {"usr/bin/tool-link2", 'h', "usr/bin/tool", 0755},
       {"var/lib/dpkg/info/.wh.gone.list", 'f', ""},
       {"etc/os-release", 'f', "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"upper\"\n"}},
      "zstd");
  std::string top = make_tar({{"usr/bin/.wh.damaged", 'f', ""}, {"app/node_modules/e/package.json", 'f', "{not json"}}, "none");
  auto [inner, m] = l.image({{base, std::string(oci::media_type::kOciLayerGzip)},
                             {upper, std::string(oci::media_type::kOciLayerZstd)},
                             {top, std::string(oci::media_type::kOciLayer)}});
  CountingStore store(*inner);
  Walked walk = by_walk(store, m);
  ASSERT_FALSE(walk.sbom.packages.empty());
  ASSERT_FALSE(walk.sbom.warnings.empty());
  for (unsigned threads : {1u, 2u, 3u}) {
    store.reset();
    Walked pass = by_pass(store, threads);
    EXPECT_EQ(document(pass.sbom), document(walk.sbom)) << threads << " threads";
    EXPECT_EQ(pass.files, walk.files) << threads << " threads";
    // Only the layer whose package.json is wanted under a second name (a hard link, for a
    // cataloger that keeps the whole file) is read again.
    EXPECT_EQ(store.opened(m.layers[0]), 2) << threads << " threads";
    EXPECT_EQ(store.opened(m.layers[1]), 1) << threads << " threads";
    EXPECT_EQ(store.opened(m.layers[2]), 1) << threads << " threads";
  }
  // The Go binary is reported under each of its names.
  size_t tools = 0;
  for (const auto& p : walk.sbom.packages)
    if (p.name == "example.com/tool") ++tools;
  EXPECT_EQ(tools, 4u);  // tool, tool-link, tool-link2 and usr/bin/tool2
}

TEST(ImageCatalog, EveryLayerReadOnceWhenNamesAgree) {
  Layout l;
  std::string base = make_tar({{"etc/os-release", 'f', "ID=debian\n"},
                               {"var/lib/dpkg/status", 'f', kStatus},
                               {"usr/share/doc/bash/copyright", 'f', kCopyright},
                               {"usr/bin/tool", 'f', go_binary("go1.21.5"), 0755},
                               {"usr/bin/perl", 'f', build_elf(true, false, {{".text", std::string(300, '\x90')}}), 0755},
                               {"usr/bin/perl5.36.0", 'h', "usr/bin/perl", 0755},
                               {"bin", 'l', "usr/bin"}},
                              "gzip");
  std::string upper = make_tar({{"bin/tool", 'f', go_binary("go1.22.1"), 0755}, {"usr/share/doc/.wh.bash", 'f', ""}}, "gzip");
  auto [inner, m] = l.image({{base, std::string(oci::media_type::kOciLayerGzip)}, {upper, std::string(oci::media_type::kOciLayerGzip)}});
  CountingStore store(*inner);
  Walked walk = by_walk(store, m);
  store.reset();
  Walked pass = by_pass(store, 2);
  EXPECT_EQ(document(pass.sbom), document(walk.sbom));
  EXPECT_EQ(pass.files, walk.files);
  EXPECT_EQ(store.opened(m.layers[0]), 1);
  EXPECT_EQ(store.opened(m.layers[1]), 1);
  const Package* stdlib = nullptr;
  for (const auto& p : pass.sbom.packages)
    if (p.name == "stdlib") stdlib = &p;
  ASSERT_NE(stdlib, nullptr);
  EXPECT_EQ(stdlib->version, "go1.22.1");  // the upper layer's binary replaced the lower one
}

TEST(ImageCatalog, ErrorsOfTheWalkStayErrors) {
  Layout l;
  // A dpkg status that cannot be parsed names its file, as the walk does.
  auto [inner, m] = l.image({{make_tar({{"var/lib/dpkg/status", 'f', "no colon here\n"}}, "gzip"),
                              std::string(oci::media_type::kOciLayerGzip)}});
  auto view = oci::squash_image(*inner, m);
  ASSERT_TRUE(view.ok());
  auto walked = catalog(*image_source(*view, {m.layers[0].digest.str()}, "img"), default_catalogers());
  auto passed = catalog_image(*inner, std::nullopt, "img");
  ASSERT_FALSE(walked.ok());
  ASSERT_FALSE(passed.ok());
  EXPECT_EQ(passed.error().message, walked.error().message);
  EXPECT_NE(passed.error().message.find("/var/lib/dpkg/status"), std::string::npos) << passed.error().message;
}

}  // namespace
}  // namespace vouch::sbom
