// The squashed file view over layers built here (libarchive, gzip / zstd / plain) in an OCI layout.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/oci/image.h"
#include "vouch/oci/squash.h"

namespace vouch::oci {
namespace {

namespace fs = std::filesystem;

struct TarEntry {
  std::string name;
  char type = 'f';  // f file, d dir, l symlink, h hard link
  std::string data;  // content, or link target
};

std::string make_tar(const std::vector<TarEntry>& entries, const char* filter) {
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (std::string(filter) == "gzip") archive_write_add_filter_gzip(a);
  if (std::string(filter) == "zstd") archive_write_add_filter_zstd(a);
  std::vector<char> buf(1 << 20);
  size_t used = 0;
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open_memory(a, buf.data(), buf.size(), &used);
  for (const auto& e : entries) {
    archive_entry* en = archive_entry_new();
    archive_entry_set_pathname(en, e.name.c_str());
    archive_entry_set_perm(en, 0644);
    if (e.type == 'f') {
      archive_entry_set_filetype(en, AE_IFREG);
      archive_entry_set_size(en, static_cast<la_int64_t>(e.data.size()));
    } else if (e.type == 'd') {
      archive_entry_set_filetype(en, AE_IFDIR);
    } else if (e.type == 'l') {
      archive_entry_set_filetype(en, AE_IFLNK);
      archive_entry_set_symlink(en, e.data.c_str());
    } else {
      archive_entry_set_filetype(en, AE_IFREG);
      archive_entry_set_hardlink(en, e.data.c_str());
    }
    archive_write_header(a, en);
    if (e.type == 'f') archive_write_data(a, e.data.data(), e.data.size());
    archive_entry_free(en);
  }
  archive_write_close(a);
  archive_write_free(a);
  return std::string(buf.data(), used);
}

class Layout {
 public:
  Layout() : dir_(fs::temp_directory_path() / ("vouch-squash-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++))) {
    fs::create_directories(dir_ / "blobs" / "sha256");
  }
  ~Layout() { fs::remove_all(dir_); }

  Descriptor put(const std::string& bytes, std::string media_type) {
    Descriptor d;
    d.digest = Digest::sha256_of(as_bytes(bytes));
    d.size = static_cast<int64_t>(bytes.size());
    d.media_type = std::move(media_type);
    EXPECT_TRUE(write_file_atomic(dir_ / "blobs" / "sha256" / d.digest.hex(), bytes).ok());
    return d;
  }

  // Writes the image and returns the opened store with its manifest.
  std::pair<std::unique_ptr<Store>, Manifest> image(const std::vector<std::pair<std::string, std::string>>& layers) {
    Descriptor cfg = put(R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})",
                         std::string(media_type::kOciConfig));
    boost::json::array ls;
    for (const auto& [bytes, mt] : layers) ls.push_back(put(bytes, mt).to_json());
    boost::json::object m{{"schemaVersion", 2}, {"mediaType", std::string(media_type::kOciManifest)},
                          {"config", cfg.to_json()}, {"layers", ls}};
    Descriptor md = put(json::serialize(m), std::string(media_type::kOciManifest));
    boost::json::object idx{{"schemaVersion", 2}, {"manifests", boost::json::array{md.to_json()}}};
    EXPECT_TRUE(write_file_atomic(dir_ / "index.json", json::serialize(idx)).ok());
    EXPECT_TRUE(write_file_atomic(dir_ / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})").ok());
    auto ref = parse_image_ref("oci:" + dir_.string());
    auto store = open_store(*ref, {}, false);
    EXPECT_TRUE(store.ok()) << store.error().message;
    auto root = (*store)->get_root();
    EXPECT_TRUE(root.ok()) << root.error().message;
    return {std::move(store).value(), *root};
  }

  fs::path dir_;
  static inline int counter_ = 0;
};

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

}  // namespace
}  // namespace vouch::oci
