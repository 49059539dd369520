// File sources for the catalogers: a directory tree and the squashed view of an image.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "vouch/base/file.h"
#include "vouch/sbom/catalog.h"

namespace vouch::sbom {
namespace {

namespace fs = std::filesystem;

// Reads a regular file without following a final symbolic link, at most max_bytes.
class DirectorySource : public FileSource {
 public:
  explicit DirectorySource(std::string root) : root_(std::move(root)) {}
  std::string describe() const override { return root_; }

  Status walk(const std::function<Status(const SourceFile&, const ContentReader&)>& visit) const override {
    std::error_code ec;
    fs::path root(root_);
    auto st = fs::symlink_status(root, ec);
    if (ec || !fs::is_directory(st)) return invalid_input(fmt::format("dir:{}: not a directory", root_));
    // Directory symlinks are listed, not entered; unreadable directories are skipped.
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
    if (ec) return io_error(fmt::format("dir:{}: {}", root_, ec.message()));
    for (; it != end; it.increment(ec)) {
      if (ec) return io_error(fmt::format("dir:{}: {}", root_, ec.message()));
      const fs::directory_entry& e = *it;
      std::error_code tec;
      auto s = e.symlink_status(tec);
      if (tec || !fs::is_regular_file(s)) continue;
      SourceFile f;
      std::string rel = e.path().lexically_relative(root).generic_string();
      f.path = "/" + rel;
      f.size = static_cast<int64_t>(e.file_size(tec));
      f.mode = static_cast<uint32_t>(s.permissions()) & 07777;
      fs::path full = e.path();
      ContentReader reader = [full](size_t max) { return read_regular_file_no_follow(full, max); };
      VOUCH_RETURN_IF_ERROR(visit(f, reader));
    }
    return ok_status();
  }

 private:
  std::string root_;
};

class ImageSource : public FileSource {
 public:
  ImageSource(const oci::FileView& view, std::vector<std::string> layers, std::string name)
      : view_(view), layers_(std::move(layers)), name_(std::move(name)) {}
  std::string describe() const override { return name_; }

  Status walk(const std::function<Status(const SourceFile&, const ContentReader&)>& visit) const override {
    return view_.visit_files([&](const oci::FileEntry& e, oci::BlobReader& content) -> Status {
      SourceFile f;
      f.path = "/" + e.path;
      f.size = e.size;
      f.mode = e.mode;
      if (e.layer < layers_.size()) f.layer_digest = layers_[e.layer];
      ContentReader reader = [&content, &e](size_t max) { return oci::read_all(content, max, "/" + e.path); };
      return visit(f, reader);
    });
  }

 private:
  const oci::FileView& view_;
  std::vector<std::string> layers_;
  std::string name_;
};

}  // namespace

std::unique_ptr<FileSource> directory_source(std::string root) {
  return std::make_unique<DirectorySource>(std::move(root));
}

std::unique_ptr<FileSource> image_source(const oci::FileView& view, std::vector<std::string> layer_digests,
                                         std::string name) {
  return std::make_unique<ImageSource>(view, std::move(layer_digests), std::move(name));
}

}  // namespace vouch::sbom
