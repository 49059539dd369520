// libFuzzer target: the layer tar reader (squashed file view) on arbitrary bytes, as a
// one-layer image held in memory, plus symlink resolution and content reads on what parses.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "vouch/oci/squash.h"
#include "vouch/oci/store.h"

namespace {

using namespace vouch;
using namespace vouch::oci;

class MemoryStore final : public Store {
 public:
  explicit MemoryStore(std::string layer) : layer_(std::move(layer)) {}
  std::string describe() const override { return "memory"; }
  Result<Manifest> get_root() override { return not_found("none"); }
  Result<std::optional<Manifest>> get_tagged(std::string_view) override { return std::optional<Manifest>(); }
  Result<Manifest> get_manifest(const Descriptor&) override { return not_found("none"); }
  Result<std::unique_ptr<BlobReader>> open_blob(const Descriptor& d) override {
    return verifying_reader(view_reader(layer_), d, "layer");
  }
  Result<bool> has_blob(const Descriptor&) override { return false; }
  Status put_blob(const Descriptor&, BlobReader&) override { return internal_error("read only"); }
  Status put_manifest(const Manifest&, const std::optional<std::string>&, bool) override { return internal_error("read only"); }

 private:
  std::string layer_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string layer(reinterpret_cast<const char*>(data), size);
  MemoryStore store(layer);
  Manifest m;
  Descriptor d;
  d.media_type = std::string(media_type::kOciLayer);
  d.digest = Digest::sha256_of(as_bytes(layer));
  d.size = static_cast<int64_t>(layer.size());
  m.layers = {d, d};  // the same layer twice: whiteouts and replacements over a lower layer
  SquashLimits limits;
  limits.max_layer_bytes = 64 << 20;
  limits.max_entries = 100000;
  auto view = squash_image(store, m, limits);
  if (!view.ok()) return 0;
  for (const auto& [path, e] : view->entries()) {
    auto found = view->lookup(path);
    (void)found;
    if (e.type == FileType::kRegular || e.type == FileType::kSymlink) {
      auto content = view->read_file(path, 1 << 20);
      (void)content;
    }
  }
  auto visited = view->visit_files([](const FileEntry&, BlobReader& r) -> Status {
    auto all = read_all(r, 1 << 20, "file");
    return all.ok() ? ok_status() : Status(std::move(all).error());
  });
  (void)visited;
  return 0;
}
