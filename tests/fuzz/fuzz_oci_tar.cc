// libFuzzer target: the layer tar reader (squashed file view) on arbitrary bytes, as a
// one-layer image held in memory, plus symlink resolution and content reads on what parses.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "../lib/memory_registry.h"
#include "vouch/oci/squash.h"

using namespace vouch;
using namespace vouch::oci;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  testing::MemoryRegistry store;
  Descriptor d = store.add_blob(media_type::kOciLayer, std::string(reinterpret_cast<const char*>(data), size));
  Manifest m;
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
