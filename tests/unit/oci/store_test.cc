// Stores without a network: docker-archive (docker save's layout, symlinked layers, several
// images), OCI layout and dir: round trips, referrers in a layout.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>

#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/oci/image.h"
#include "vouch/oci/store.h"

namespace vouch::oci {
namespace {

namespace fs = std::filesystem;
namespace bj = boost::json;

struct Item {
  std::string name;
  std::string data;
  std::string symlink;
};

void write_tar(const fs::path& path, const std::vector<Item>& items) {
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK);
  for (const auto& i : items) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, i.name.c_str());
    archive_entry_set_perm(e, 0644);
    if (!i.symlink.empty()) {
      archive_entry_set_filetype(e, AE_IFLNK);
      archive_entry_set_symlink(e, i.symlink.c_str());
    } else {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_size(e, static_cast<la_int64_t>(i.data.size()));
    }
    archive_write_header(a, e);
    if (i.symlink.empty()) archive_write_data(a, i.data.data(), i.data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

std::string tar_bytes(const std::vector<Item>& items) {
  auto p = fs::temp_directory_path() / ("vouch-tar-" + std::to_string(::getpid()));
  write_tar(p, items);
  std::string s = *read_file(p);
  fs::remove(p);
  return s;
}

class TempDir {
 public:
  TempDir() : path(fs::temp_directory_path() / ("vouch-store-" + std::to_string(::getpid()) + "-" + std::to_string(n++))) {
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path path;
  static inline int n = 0;
};

std::unique_ptr<Store> open(const std::string& ref, bool write = false) {
  auto r = parse_image_ref(ref);
  EXPECT_TRUE(r.ok()) << ref;
  auto s = open_store(*r, {}, write);
  EXPECT_TRUE(s.ok()) << ref << ": " << s.error().message;
  return s.ok() ? std::move(s).value() : nullptr;
}

// Compressed layers under docker-save names are named by the digest of their bytes; they are
// read in place in a plain archive, and through the archive when it is compressed itself.
TEST(DockerArchive, CompressedLayersInPlainAndCompressedArchives) {
  TempDir t;
  std::string layer = tar_bytes({{"etc/hello", std::string(300000, 'h'), ""}});
  fs::path gz_path = t.path / "layer.gz";
  gzFile g = gzopen(gz_path.c_str(), "wb");
  gzwrite(g, layer.data(), static_cast<unsigned>(layer.size()));
  gzclose(g);
  std::string gz = *read_file(gz_path);
  std::string diff_id = Digest::sha256_of(as_bytes(layer)).str();
  std::string config = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[")" + diff_id +
                       R"(",")" + diff_id + R"("]}})";
  Digest config_digest = Digest::sha256_of(as_bytes(config));
  std::string manifest = R"([{"Config":")" + config_digest.hex() + R"(.json","RepoTags":["demo/a:1"],"Layers":["first/layer.tar","l1/layer.tar"]}])";
  fs::path plain = t.path / "save.tar";
  write_tar(plain, {{"manifest.json", manifest, ""}, {config_digest.hex() + ".json", config, ""},
                    {"first/layer.tar", gz, ""}, {"l1/layer.tar", gz, ""}});
  fs::path compressed = t.path / "save.tar.gz";
  std::string whole = *read_file(plain);
  g = gzopen(compressed.c_str(), "wb");
  gzwrite(g, whole.data(), static_cast<unsigned>(whole.size()));
  gzclose(g);
  for (const fs::path& archive : {plain, compressed}) {
    auto store = open("docker-archive:" + archive.string());
    ASSERT_TRUE(store);
    auto root = store->get_root();
    ASSERT_TRUE(root.ok()) << root.error().message;
    ASSERT_EQ(root->layers.size(), 2u);
    for (const auto& l : root->layers) {
      EXPECT_EQ(l.digest, Digest::sha256_of(as_bytes(gz))) << archive;
      EXPECT_EQ(l.media_type, media_type::kDockerLayerGzip) << archive;
      auto reader = store->open_blob(l);
      ASSERT_TRUE(reader.ok()) << reader.error().message;
      auto content = read_all(**reader, 1 << 20, "layer");
      ASSERT_TRUE(content.ok()) << content.error().message;
      EXPECT_EQ(*content, gz) << archive;
    }
  }
}

TEST(DockerArchive, DockerSaveFormatWithSymlinkedLayersAndSeveralImages) {
  TempDir t;
  std::string layer = tar_bytes({{"etc/hello", "hi\n", ""}});
  Digest diff_id = Digest::sha256_of(as_bytes(layer));
  std::string config = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[")" + diff_id.str() + R"("]}})";
  Digest config_digest = Digest::sha256_of(as_bytes(config));
  std::string manifest = R"([{"Config":")" + config_digest.hex() + R"(.json","RepoTags":["demo/a:1"],"Layers":["l1/layer.tar"]},)"
                         R"({"Config":")" + config_digest.hex() + R"(.json","RepoTags":["docker.io/demo/b:2"],"Layers":["l2/layer.tar"]}])";
  fs::path tar = t.path / "save.tar";
  write_tar(tar, {{"manifest.json", manifest, ""},
                  {config_digest.hex() + ".json", config, ""},
                  {"l1/layer.tar", layer, ""},
                  {"l2/layer.tar", "", "../l1/layer.tar"}});
  auto b = open("docker-archive:" + tar.string() + ":demo/b:2");
  ASSERT_TRUE(b);
  auto img = resolve_image(*b, std::nullopt);
  ASSERT_TRUE(img.ok()) << img.error().message;
  EXPECT_EQ(img->image.config->digest, config_digest);
  ASSERT_EQ(img->image.layers.size(), 1u);
  EXPECT_EQ(img->image.layers[0].digest, diff_id);
  EXPECT_EQ(img->image.layers[0].media_type, media_type::kDockerLayer);
  auto reader = b->open_blob(img->image.layers[0]);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  auto content = read_all(**reader, 1 << 20, "layer");
  ASSERT_TRUE(content.ok()) << content.error().message;
  EXPECT_EQ(*content, layer);

  auto r = parse_image_ref("docker-archive:" + tar.string());
  auto ambiguous = open_store(*r, {}, false);
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_NE(ambiguous.error().message.find("holds 2 images"), std::string::npos);
  auto missing = open_store(*parse_image_ref("docker-archive:" + tar.string() + ":demo/c:3"), {}, false);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

  // A layer whose bytes are not what the config's diff_ids say is caught when read.
  fs::path bad = t.path / "bad.tar";
  write_tar(bad, {{"manifest.json", manifest, ""},
                  {config_digest.hex() + ".json", config, ""},
                  {"l1/layer.tar", tar_bytes({{"etc/hello", "changed\n", ""}}), ""},
                  {"l2/layer.tar", "", "../l1/layer.tar"}});
  auto tampered = open("docker-archive:" + bad.string() + ":demo/a:1");
  ASSERT_TRUE(tampered);
  auto root = tampered->get_root();
  ASSERT_TRUE(root.ok());
  auto blob = tampered->open_blob(root->layers[0]);
  ASSERT_TRUE(blob.ok());
  auto all = read_all(**blob, 1 << 20, "layer");
  ASSERT_FALSE(all.ok());
  EXPECT_EQ(all.error().code, ErrorCode::kVerification);

  // Copies into an OCI layout, a dir: and back into a docker-archive keep the image ID.
  auto layout = open("oci:" + (t.path / "layout").string() + ":v1", true);
  ASSERT_TRUE(copy_image(*b, *layout, {}).ok());
  auto dir = open("dir:" + (t.path / "dir").string(), true);
  auto from_layout = open("oci:" + (t.path / "layout").string() + ":v1");
  auto copied = copy_image(*from_layout, *dir, {});
  ASSERT_TRUE(copied.ok()) << copied.error().message;
  EXPECT_EQ(copied->root, img->root.digest);
  auto out = open("docker-archive:" + (t.path / "out.tar").string() + ":demo/out:9", true);
  auto from_dir = open("dir:" + (t.path / "dir").string());
  ASSERT_TRUE(copy_image(*from_dir, *out, {}).ok());
  out.reset();
  auto back = open("docker-archive:" + (t.path / "out.tar").string() + ":docker.io/demo/out:9");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->get_root()->config->digest, config_digest);
  EXPECT_EQ(back->get_root()->layers[0].digest, diff_id);
  EXPECT_EQ(back->get_root()->digest, img->root.digest);  // the same synthesized manifest
}

TEST(Layout, ReferrersAndTags) {
  TempDir t;
  auto layout = open("oci:" + (t.path / "l").string() + ":app", true);
  ASSERT_TRUE(layout);
  auto put = [&](const std::string& bytes, std::string mt) {
    Descriptor d;
    d.digest = Digest::sha256_of(as_bytes(bytes));
    d.size = static_cast<int64_t>(bytes.size());
    d.media_type = std::move(mt);
    EXPECT_TRUE(layout->put_blob(d, *bytes_reader(bytes)).ok());
    return d;
  };
  Descriptor cfg = put("{}", std::string(media_type::kOciEmpty));
  bj::object m{{"schemaVersion", 2}, {"mediaType", std::string(media_type::kOciManifest)}, {"config", cfg.to_json()},
               {"layers", bj::array{}}};
  auto image = parse_manifest(json::serialize(m));
  ASSERT_TRUE(image.ok());
  ASSERT_TRUE(layout->put_manifest(*image, std::nullopt, true).ok());
  bj::object ref = m;
  ref["artifactType"] = "application/example";
  ref["subject"] = image->descriptor().to_json();
  auto referrer = parse_manifest(json::serialize(ref));
  ASSERT_TRUE(referrer.ok());
  ASSERT_TRUE(layout->put_manifest(*referrer, std::nullopt, false).ok());
  auto reopened = open("oci:" + (t.path / "l").string() + ":app");
  ASSERT_TRUE(reopened);
  auto refs = reopened->referrers(image->digest);
  ASSERT_TRUE(refs.ok()) << refs.error().message;
  ASSERT_EQ(refs->size(), 1u);
  EXPECT_EQ((*refs)[0].digest, referrer->digest);
  EXPECT_EQ((*refs)[0].artifact_type, "application/example");
  auto attached = list_attachments(*reopened, image->digest);
  ASSERT_TRUE(attached.ok());
  ASSERT_EQ(attached->size(), 1u);
  EXPECT_EQ((*attached)[0].kind, "referrer");
  EXPECT_EQ(reopened->get_root()->digest, image->digest);
  EXPECT_FALSE(reopened->get_tagged("nope")->has_value());
  // A layout that is not one is named as such; nothing is created by reading.
  auto missing = open_store(*parse_image_ref("oci:" + (t.path / "none").string()), {}, false);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("not an OCI image layout"), std::string::npos);
  EXPECT_FALSE(fs::exists(t.path / "none"));
}

TEST(Layout, CopyReplacesCorruptAndPlantedBlobs) {
  TempDir t;
  auto src = open("oci:" + (t.path / "src").string() + ":app", true);
  ASSERT_TRUE(src);
  auto put = [&](const std::string& bytes, std::string mt) {
    Descriptor d;
    d.digest = Digest::sha256_of(as_bytes(bytes));
    d.size = static_cast<int64_t>(bytes.size());
    d.media_type = std::move(mt);
    EXPECT_TRUE(src->put_blob(d, *bytes_reader(bytes)).ok());
    return d;
  };
  Descriptor cfg = put(R"({"architecture":"amd64","os":"linux"})", std::string(media_type::kOciConfig));
  Descriptor layer = put(tar_bytes({{"etc/hello", "hi\n", ""}}), std::string(media_type::kOciLayer));
  Descriptor kept = put(tar_bytes({{"etc/other", "other\n", ""}}), std::string(media_type::kOciLayer));
  bj::object m{{"schemaVersion", 2}, {"mediaType", std::string(media_type::kOciManifest)}, {"config", cfg.to_json()},
               {"layers", bj::array{layer.to_json(), kept.to_json()}}};
  auto image = parse_manifest(json::serialize(m));
  ASSERT_TRUE(image.ok());
  ASSERT_TRUE(src->put_manifest(*image, std::nullopt, true).ok());

  // The destination already holds: a corrupt layer of the right size, the config as a
  // symlink to a file outside the layout (right bytes, but not the layout's own), and one
  // intact layer.
  fs::path blobs = t.path / "dst" / "blobs" / "sha256";
  fs::create_directories(blobs);
  ASSERT_TRUE(write_file_atomic(t.path / "dst" / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})").ok());
  ASSERT_TRUE(write_file_atomic(t.path / "dst" / "index.json", R"({"schemaVersion":2,"manifests":[]})").ok());
  std::string corrupt(static_cast<size_t>(layer.size), 'X');
  ASSERT_TRUE(write_file_atomic(blobs / layer.digest.hex(), corrupt).ok());
  fs::path outside = t.path / "outside-config";
  ASSERT_TRUE(write_file_atomic(outside, R"({"architecture":"amd64","os":"linux"})").ok());
  fs::create_symlink(outside, blobs / cfg.digest.hex());
  fs::copy_file(t.path / "src" / "blobs" / "sha256" / kept.digest.hex(), blobs / kept.digest.hex());

  auto from = open("oci:" + (t.path / "src").string() + ":app");
  auto dst = open("oci:" + (t.path / "dst").string() + ":app", true);
  ASSERT_TRUE(from && dst);
  auto report = copy_image(*from, *dst, {});
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->blobs_present, 1);  // only the intact layer was reused
  EXPECT_EQ(report->blobs_copied, 2);
  EXPECT_FALSE(fs::is_symlink(blobs / cfg.digest.hex()));
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(blobs / cfg.digest.hex())));
  EXPECT_EQ(*read_file(outside), R"({"architecture":"amd64","os":"linux"})");  // the target was not written through

  // The copy verifies: every blob reads back with its digest.
  auto check = open("oci:" + (t.path / "dst").string() + ":app");
  ASSERT_TRUE(check);
  auto root = check->get_root();
  ASSERT_TRUE(root.ok()) << root.error().message;
  for (const auto& d : {*root->config, root->layers[0], root->layers[1]}) {
    auto blob = check->open_blob(d);
    ASSERT_TRUE(blob.ok());
    auto bytes = read_all(**blob, 1 << 20, "blob");
    EXPECT_TRUE(bytes.ok()) << d.digest.str() << ": " << bytes.error().message;
  }
  // A second copy reuses everything.
  auto again = copy_image(*from, *dst, {});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->blobs_present, 3);
}

}  // namespace
}  // namespace vouch::oci

namespace vouch::oci {
namespace {

class Chunks final : public BlobReader {
 public:
  explicit Chunks(std::string s) : s_(std::move(s)) {}
  Result<size_t> read(std::span<uint8_t> out) override {
    size_t n = std::min({out.size(), s_.size() - pos_, size_t{3}});
    std::copy_n(s_.data() + pos_, n, out.data());
    pos_ += n;
    return n;
  }

 private:
  std::string s_;
  size_t pos_ = 0;
};

Result<std::string> read_verified(const std::string& served, const std::string& expected, int64_t size) {
  Descriptor d;
  d.digest = Digest::sha256_of(as_bytes(expected));
  d.size = size;
  auto r = verifying_reader(std::make_unique<Chunks>(served), d, "blob x");
  return read_all(*r, 1 << 20, "blob x");
}

TEST(VerifyingReader, DigestAndSizeChecked) {
  EXPECT_EQ(*read_verified("hello world", "hello world", 11), "hello world");
  auto wrong = read_verified("hello wOrld", "hello world", 11);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, ErrorCode::kVerification);
  EXPECT_NE(wrong.error().message.find("blob x: content does not match its digest"), std::string::npos);
  auto longer = read_verified("hello world!!", "hello world", 11);
  ASSERT_FALSE(longer.ok());
  EXPECT_NE(longer.error().message.find("more than the 11 bytes"), std::string::npos);
  auto shorter = read_verified("hello", "hello world", 11);
  ASSERT_FALSE(shorter.ok());
  EXPECT_NE(shorter.error().message.find("5 bytes received, the descriptor says 11"), std::string::npos);
  auto bounded = read_verified(std::string(100, 'a'), std::string(100, 'a'), 100);
  EXPECT_TRUE(bounded.ok());
}

}  // namespace
}  // namespace vouch::oci
