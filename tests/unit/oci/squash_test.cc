// The squashed file view over layers built here (libarchive, gzip / zstd / plain) in an OCI layout.
#include <gtest/gtest.h>
#include <unistd.h>

#include <zlib.h>

#include <filesystem>
#include <mutex>

#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "layer_builder.h"
#include "vouch/oci/image.h"
#include "vouch/oci/squash.h"

namespace vouch::oci {
namespace {

namespace fs = std::filesystem;
using testing::Layout;
using testing::make_tar;
using testing::TarEntry;

TEST(Squash, WhiteoutsOpaqueLinksAndCompression) {
  Layout l;
  std::string base = make_tar({{"etc/", 'd', ""},
                               {"etc/os-release", 'f', "ID=test\n"},
                               {"etc/gone", 'f', "x"},
                               {"etc/gonedir/a", 'f', "a"},
                               {"opq/old", 'f', "old"},
                               {"bin/tool", 'f', "TOOL"},
                               {"bin/hard", 'h', "bin/tool"},
                               {"lib", 'l', "usr/lib"},
                               {"usr/lib/libx.so", 'f', "ELF"},
                               {"escape", 'l', "../../../../etc/os-release"},
                               {"abs", 'l', "/etc/os-release"},
                               {"loop", 'l', "loop"}},
                              "gzip");
  std::string upper = make_tar({{"etc/.wh.gone", 'f', ""},
                                {"etc/.wh.gonedir", 'f', ""},
                                {"opq/.wh..wh..opq", 'f', ""},
                                {"opq/new", 'f', "new"},
                                {"etc/os-release", 'f', "ID=upper\n"}},
                               "zstd");
  std::string plain = make_tar({{"./extra", 'f', "plain"}}, "none");
  auto [store, m] = l.image({{base, std::string(media_type::kOciLayerGzip)},
                             {upper, std::string(media_type::kOciLayerZstd)},
                             {plain, std::string(media_type::kOciLayer)}});
  auto view = squash_image(*store, m);
  ASSERT_TRUE(view.ok()) << view.error().message;
  const auto& e = view->entries();
  EXPECT_FALSE(e.count("etc/gone"));
  EXPECT_FALSE(e.count("etc/gonedir/a"));
  EXPECT_FALSE(e.count("opq/old"));
  EXPECT_TRUE(e.count("opq/new"));
  EXPECT_TRUE(e.count("extra"));
  EXPECT_EQ(e.at("bin/hard").type, FileType::kHardlink);
  EXPECT_EQ(*view->read_file("etc/os-release", 100), "ID=upper\n");
  EXPECT_EQ(*view->read_file("bin/hard", 100), "TOOL");
  EXPECT_EQ(*view->read_file("lib/libx.so", 100), "ELF");
  // Symlinks stay inside the root: "../../.." stops at "/", absolute targets start at the image root.
  EXPECT_EQ(*view->read_file("escape", 100), "ID=upper\n");
  EXPECT_EQ(*view->read_file("abs", 100), "ID=upper\n");
  EXPECT_FALSE(view->read_file("loop", 100).ok());
  EXPECT_FALSE(view->lookup("nothing/here")->has_value());
  auto dir = view->lookup("usr");
  ASSERT_TRUE(dir.ok() && dir->has_value());
  EXPECT_EQ((*dir)->type, FileType::kDirectory);
  // One pass over every file in the final view.
  std::map<std::string, std::string> seen;
  ASSERT_TRUE(view->visit_files([&](const FileEntry& f, BlobReader& r) -> Status {
                    VOUCH_ASSIGN_OR_RETURN(seen[f.path], read_all(r, 1000, f.path));
                    return ok_status();
                  }).ok());
  EXPECT_EQ(seen["etc/os-release"], "ID=upper\n");
  EXPECT_EQ(seen["bin/hard"], "TOOL");
  EXPECT_EQ(seen["bin/tool"], "TOOL");
  EXPECT_EQ(seen["opq/new"], "new");
  EXPECT_FALSE(seen.count("opq/old"));
}

TEST(Squash, EachLayersViewHandedOutInOrder) {
  Layout l;
  auto [store, m] = l.image({{make_tar({{"a", 'f', "1"}, {"b", 'f', "1"}}, "gzip"), std::string(media_type::kOciLayerGzip)},
                             {make_tar({{"a", 'f', "22"}, {".wh.b", 'f', ""}}, "gzip"), std::string(media_type::kOciLayerGzip)},
                             {make_tar({{"c", 'f', "3"}}, "none"), std::string(media_type::kOciLayer)}});
  for (unsigned threads : {1u, 3u}) {
    std::vector<std::string> seen;
    SquashOptions options;
    options.threads = threads;
    options.layer_applied = [&](size_t layer, const FileView& view) -> Status {
      std::string line = std::to_string(layer) + ":";
      for (const auto& [path, e] : view.entries()) line += " " + path + "@" + std::to_string(e.layer);
      seen.push_back(line);
      return ok_status();
    };
    auto view = squash_image(*store, m, LayerVisitor(), options);
    ASSERT_TRUE(view.ok()) << view.error().message;
    EXPECT_EQ(seen, (std::vector<std::string>{"0: a@0 b@0", "1: a@1", "2: a@1 c@2"})) << threads << " threads";
    // Its error stops the squash.
    options.layer_applied = [](size_t layer, const FileView&) -> Status {
      return layer == 1 ? invalid_input("stop here") : ok_status();
    };
    auto stopped = squash_image(*store, m, LayerVisitor(), options);
    ASSERT_FALSE(stopped.ok());
    EXPECT_EQ(stopped.error().message, "stop here");
  }
}

TEST(Squash, ParentSymlinksFollowedInsideTheRoot) {
  Layout l;
  std::string base = make_tar({{"usr/bin/ls", 'f', "LS"}, {"bin", 'l', "usr/bin"}, {"up", 'l', "../../.."}}, "gzip");
  std::string upper = make_tar({{"bin/cat", 'f', "CAT"}, {"bin/.wh.ls", 'f', ""}, {"up/etc/x", 'f', "X"}, {"bin/h", 'h', "bin/cat"}},
                               "gzip");
  auto [store, m] = l.image({{base, std::string(media_type::kOciLayerGzip)}, {upper, std::string(media_type::kOciLayerGzip)}});
  auto view = squash_image(*store, m);
  ASSERT_TRUE(view.ok()) << view.error().message;
  const auto& e = view->entries();
  EXPECT_TRUE(e.count("usr/bin/cat"));   // written through the bin -> usr/bin link
  EXPECT_FALSE(e.count("usr/bin/ls"));   // the whiteout through the link applies too
  EXPECT_TRUE(e.count("etc/x"));         // a link that climbs out stops at the root
  auto cat = view->read_file("/bin/cat", 10);
  ASSERT_TRUE(cat.ok()) << cat.error().message;
  EXPECT_EQ(*cat, "CAT");
  auto hard = view->read_file("usr/bin/h", 10);
  ASSERT_TRUE(hard.ok()) << hard.error().message;
  EXPECT_EQ(*hard, "CAT");
  std::map<std::string, std::string> seen;
  ASSERT_TRUE(view->visit_files([&](const FileEntry& f, BlobReader& r) -> Status {
                    VOUCH_ASSIGN_OR_RETURN(seen[f.path], read_all(r, 100, f.path));
                    return ok_status();
                  }).ok());
  EXPECT_EQ(seen["usr/bin/cat"], "CAT");
  EXPECT_EQ(seen["usr/bin/h"], "CAT");
  EXPECT_EQ(seen["etc/x"], "X");
}

TEST(Squash, HostileLayersRefused) {
  const std::pair<std::vector<TarEntry>, std::string> cases[] = {
      {{{"../evil", 'f', "x"}}, "'..' in path refused"},
      {{{"/etc/evil", 'f', "x"}}, "absolute path refused"},
      {{{"a/../../evil", 'f', "x"}}, "'..' in path refused"},
      {{{"h", 'h', "../../etc/passwd"}}, "'..' in path refused"},
      {{{"h", 'h', "etc/shadow"}}, "not a file in the image"},
  };
  for (const auto& [entries, message] : cases) {
    Layout l;
    auto [store, m] = l.image({{make_tar(entries, "gzip"), std::string(media_type::kOciLayerGzip)}});
    auto view = squash_image(*store, m);
    ASSERT_FALSE(view.ok()) << message;
    EXPECT_NE(view.error().message.find(message), std::string::npos) << view.error().message;
  }
}

TEST(Squash, DecompressionBombBounded) {
  Layout l;
  std::string zeros(900 * 1024, '\0');
  auto [store, m] = l.image({{make_tar({{"zeros", 'f', zeros}}, "gzip"), std::string(media_type::kOciLayerGzip)}});
  SquashLimits limits;
  limits.max_layer_bytes = 256 * 1024;
  auto view = squash_image(*store, m, limits);
  ASSERT_FALSE(view.ok());
  EXPECT_NE(view.error().message.find("expands past the limit"), std::string::npos) << view.error().message;
  EXPECT_TRUE(squash_image(*store, m).ok());
}

TEST(Squash, TamperedLayerRefused) {
  Layout l;
  std::string layer = make_tar({{"f", 'f', std::string(5000, 'a')}}, "none");
  auto [store, m] = l.image({{layer, std::string(media_type::kOciLayer)}});
  std::string tampered = layer;
  tampered[600] = 'b';
  ASSERT_TRUE(write_file_atomic(l.dir_ / "blobs" / "sha256" / m.layers[0].digest.hex(), tampered).ok());
  auto view = squash_image(*store, m);
  ASSERT_FALSE(view.ok());
  EXPECT_NE(view.error().message.find("does not match its digest"), std::string::npos) << view.error().message;
}

// What a single pass hands out: per layer, in tar order, every entry but hard links and
// whiteouts, with its content.
struct Seen {
  std::mutex mutex;
  std::vector<std::vector<std::string>> layers;
  explicit Seen(size_t n) : layers(n) {}
  LayerVisitor visitor() {
    return [this](const LayerEntry& e, BlobReader& r) -> Status {
      VOUCH_ASSIGN_OR_RETURN(std::string content, read_all(r, 1000, e.path));
      std::lock_guard<std::mutex> lock(mutex);
      layers.at(e.layer).push_back(fmt::format("{} {} {:o} {}", e.path, static_cast<int>(e.type), e.mode, content));
      return ok_status();
    };
  }
};

std::string describe(const FileView& v) {
  std::string out;
  for (const auto& [path, f] : v.entries())
    out += fmt::format("{} t{} l{} {} {} {}\n", path, static_cast<int>(f.type), f.layer, f.layer_path, f.link_target, f.size);
  return out;
}

TEST(Squash, SinglePassHandsOutEveryEntryOnceAndGivesTheSameView) {
  Layout l;
  std::string base = make_tar({{"etc/", 'd', ""},
                               {"etc/os-release", 'f', "ID=test\n"},
                               {"etc/gone", 'f', "x"},
                               {"bin/tool", 'f', "TOOL", 0755},
                               {"bin/hard", 'h', "bin/tool"},
                               {"lib", 'l', "usr/lib"},
                               {"usr/lib/libx.so", 'f', "ELF"}},
                              "gzip");
  std::string upper = make_tar({{"etc/.wh.gone", 'f', ""}, {"lib/liby.so", 'f', "Y"}, {"etc/os-release", 'f', "ID=upper\n"}},
                               "zstd");
  std::string plain = make_tar({{"./extra", 'f', "plain"}, {"extra", 'f', "again"}}, "none");
  auto [store, m] = l.image({{base, std::string(media_type::kOciLayerGzip)},
                             {upper, std::string(media_type::kOciLayerZstd)},
                             {plain, std::string(media_type::kOciLayer)}});
  auto reference = squash_image(*store, m);
  ASSERT_TRUE(reference.ok()) << reference.error().message;
  const std::vector<std::vector<std::string>> expected = {
      {"etc 1 644 ", "etc/os-release 0 644 ID=test\n", "etc/gone 0 644 x", "bin/tool 0 755 TOOL", "lib 2 644 ",
       "usr/lib/libx.so 0 644 ELF"},
      {"lib/liby.so 0 644 Y", "etc/os-release 0 644 ID=upper\n"},
      {"extra 0 644 plain", "extra 0 644 again"}};
  for (unsigned threads : {1u, 2u, 3u}) {
    Seen seen(3);
    SquashOptions options;
    options.threads = threads;
    auto view = squash_image(*store, m, seen.visitor(), options);
    ASSERT_TRUE(view.ok()) << view.error().message;
    EXPECT_EQ(describe(*view), describe(*reference)) << threads << " threads";
    EXPECT_EQ(seen.layers, expected) << threads << " threads";
    EXPECT_EQ(view->entries().at("usr/lib/liby.so").layer_path, "lib/liby.so");  // through the link
    EXPECT_EQ(view->entries().at("extra").size, 5);
    // A layer read again is handed out as the pass handed it out.
    for (size_t li = 0; li < 3; ++li) {
      Seen again(3);
      ASSERT_TRUE(view->visit_layer(li, again.visitor()).ok());
      EXPECT_EQ(again.layers[li], expected[li]);
    }
  }
}

TEST(Squash, TheLowestFailingLayerIsReported) {
  Layout l;
  std::string bad_name = make_tar({{"a", 'f', "1"}, {"../evil", 'f', "x"}}, "gzip");
  std::string bad_link = make_tar({{"h", 'h', "nowhere"}}, "gzip");
  std::string fine = make_tar({{"fine", 'f', "f"}}, "gzip");
  for (unsigned threads : {1u, 2u}) {
    // Layer 2 fails once applied, layer 1 already when read: whichever a thread reads first,
    // the lowest failing layer is reported.
    auto [store, m] = l.image({{fine, std::string(media_type::kOciLayerGzip)},
                               {bad_name, std::string(media_type::kOciLayerGzip)},
                               {bad_link, std::string(media_type::kOciLayerGzip)}});
    SquashOptions options;
    options.threads = threads;
    auto view = squash_image(*store, m, LayerVisitor(), options);
    ASSERT_FALSE(view.ok());
    EXPECT_NE(view.error().message.find("layer 1 ("), std::string::npos) << view.error().message;
    EXPECT_NE(view.error().message.find("'..' in path refused"), std::string::npos) << view.error().message;
  }
  auto [store, m] = l.image({{bad_link, std::string(media_type::kOciLayerGzip)}, {bad_name, std::string(media_type::kOciLayerGzip)}});
  SquashOptions options;
  options.threads = 2;
  auto view = squash_image(*store, m, LayerVisitor(), options);
  ASSERT_FALSE(view.ok());
  EXPECT_NE(view.error().message.find("layer 0 ("), std::string::npos) << view.error().message;
  EXPECT_NE(view.error().message.find("not a file in the image"), std::string::npos) << view.error().message;
}

TEST(Squash, VisitorErrorStopsTheSquash) {
  Layout l;
  auto [store, m] = l.image({{make_tar({{"a", 'f', "1"}, {"b", 'f', "2"}}, "gzip"), std::string(media_type::kOciLayerGzip)}});
  auto view = squash_image(*store, m, [](const LayerEntry& e, BlobReader&) -> Status {
    if (e.path == "b") return invalid_input("b: refused by the reader");
    return ok_status();
  });
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.error().message, "b: refused by the reader");
}

std::string gzip_member(const std::string& data) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// gzip layers are inflated by isa-l: several members in a row, as gzip(1) reads them, and a
// damaged member refused (its CRC, or its end missing) although the blob's digest matches.
TEST(Squash, GzipMembersAndDamagedStreams) {
  Layout l;
  std::string tar = make_tar({{"a", 'f', std::string(70000, 'a')}, {"b", 'f', "bee"}}, "none");
  std::string two = gzip_member(tar.substr(0, 1000)) + gzip_member(tar.substr(1000));
  auto [store, m] = l.image({{two, std::string(media_type::kOciLayerGzip)}});
  auto view = squash_image(*store, m);
  ASSERT_TRUE(view.ok()) << view.error().message;
  EXPECT_EQ(*view->read_file("b", 10), "bee");

  std::string crc = gzip_member(tar);
  crc[crc.size() - 6] ^= 0x55;  // in the trailer's CRC-32
  auto [store2, m2] = l.image({{crc, std::string(media_type::kOciLayerGzip)}});
  auto bad = squash_image(*store2, m2);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("CRC"), std::string::npos) << bad.error().message;

  std::string cut = gzip_member(tar);
  cut.resize(cut.size() / 2);
  auto [store3, m3] = l.image({{cut, std::string(media_type::kOciLayerGzip)}});
  auto truncated = squash_image(*store3, m3);
  ASSERT_FALSE(truncated.ok());
  EXPECT_NE(truncated.error().message.find("layer 0"), std::string::npos) << truncated.error().message;
}

}  // namespace
}  // namespace vouch::oci
