// The squashed file view of an image: its layers applied in order with OCI whiteouts
// (".wh.<name>" and opaque ".wh..wh..opq" directories), hard links and symlinks, read
// straight from the (gzip, zstd or uncompressed) layer streams. Nothing is written to the
// host; symlinks resolve inside the image root only. Layers are read several at a time, each
// once, and what a reader wants of their files can be taken as they stream by.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "vouch/oci/manifest.h"
#include "vouch/oci/store.h"

namespace vouch::oci {

enum class FileType { kRegular, kDirectory, kSymlink, kHardlink, kCharDevice, kBlockDevice, kFifo, kSocket };

struct FileEntry {
  std::string path;         // clean, relative to the root, no leading "/" ("etc/os-release")
  FileType type = FileType::kRegular;
  uint32_t mode = 0;        // permission bits
  int64_t uid = 0, gid = 0;
  int64_t size = 0;
  int64_t mtime = 0;
  std::string link_target;  // symlink: as written; hard link: the clean path it links to
  size_t layer = 0;         // the layer that provides it
  std::string layer_path;   // its name in that layer's tar (differs when a parent was a symlink)
};

struct SquashLimits {
  int64_t max_layer_bytes = int64_t{16} << 30;  // uncompressed bytes per layer (decompression bombs)
  size_t max_entries = 2'000'000;              // entries over all layers
};

// An entry of a layer's tar as the layer streams by, before the layers above it are applied.
// Hard links and whiteouts are not handed out (they carry no content).
struct LayerEntry {
  size_t layer = 0;
  std::string path;  // clean, as in the tar: the FileEntry::layer_path of what it provides
  FileType type = FileType::kRegular;
  uint32_t mode = 0;
  int64_t size = 0;
};

// Called with such an entry and a reader of its content (nothing but for regular files).
using LayerVisitor = std::function<Status(const LayerEntry&, BlobReader& content)>;

class FileView;

// Called once each layer has been applied, in layer order, with the view as it stands then: the
// filesystem of layers 0..layer, as the image had it after that layer.
using LayerApplied = std::function<Status(size_t layer, const FileView& so_far)>;

struct SquashOptions {
  SquashLimits limits;
  unsigned threads = 0;  // layers read at once; 0: one per core
  // When given, called on the calling thread; by then every layer up to `layer` has been read
  // and handed to the visitor. Its error stops the squash.
  LayerApplied layer_applied;
};

class FileView {
 public:
  const std::map<std::string, FileEntry>& entries() const { return entries_; }
  size_t layer_count() const { return layers_.size(); }

  // Resolves a path inside the image: symlinks followed within the root ("/.." is "/"),
  // at most 40 of them; nullopt when the path does not exist.
  Result<std::optional<FileEntry>> lookup(std::string_view path, bool follow_final_symlink = true) const;

  // Reads one regular file's content (following hard links), bounded.
  Result<std::string> read_file(std::string_view path, size_t max_bytes) const;

  // Streams every regular file of the final view, in layer order, reading each layer once.
  // The callback's reader yields that file's content.
  using Visitor = std::function<Status(const FileEntry&, BlobReader& content)>;
  Status visit_files(const Visitor& visitor) const;

  // Reads layer `layer` again and hands its entries to `visitor` in tar order, as the
  // single-pass squash_image did.
  Status visit_layer(size_t layer, const LayerVisitor& visitor) const;

 private:
  friend Result<FileView> squash_image(Store&, const Manifest&, const LayerVisitor&, const SquashOptions&);
  Store* store_ = nullptr;
  std::vector<Descriptor> layers_;
  std::map<std::string, FileEntry> entries_;
  SquashLimits limits_;
};

// Builds the view of an image manifest's layers (streamed, digests checked).
Result<FileView> squash_image(Store& store, const Manifest& image, const SquashLimits& limits = {});

// The same view, reading every layer once and `options.threads` layers at a time (largest
// first), with every entry handed to `visitor` as its layer streams by: from the thread reading
// that layer, in tar order within a layer and concurrently across layers. An entry may be handed
// out although a layer above hides it; the view tells what remains. The store's open_blob is
// called by one thread at a time and each reader it returns is read by one thread. Errors are
// those the layers give in order (a layer's error is reported only once the layers below it
// applied cleanly); a visitor's error stops the squash.
Result<FileView> squash_image(Store& store, const Manifest& image, const LayerVisitor& visitor,
                              const SquashOptions& options = {});

}  // namespace vouch::oci
