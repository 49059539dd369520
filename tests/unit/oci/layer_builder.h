// Layers and OCI image layouts built in tests: tars written with libarchive (gzip, zstd or
// plain) and a layout on disk holding an image of them.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/oci/image.h"
#include "vouch/oci/store.h"

namespace vouch::oci::testing {

namespace fs = std::filesystem;

struct TarEntry {
  std::string name;
  char type = 'f';  // f file, d dir, l symlink, h hard link
  std::string data;  // content, or link target
  unsigned mode = 0644;
};

inline std::string make_tar(const std::vector<TarEntry>& entries, const char* filter) {
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (std::string(filter) == "gzip") archive_write_add_filter_gzip(a);
  if (std::string(filter) == "zstd") archive_write_add_filter_zstd(a);
  std::vector<char> buf(8 << 20);
  size_t used = 0;
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open_memory(a, buf.data(), buf.size(), &used);
  for (const auto& e : entries) {
    archive_entry* en = archive_entry_new();
    archive_entry_set_pathname(en, e.name.c_str());
    archive_entry_set_perm(en, e.mode);
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

}  // namespace vouch::oci::testing
