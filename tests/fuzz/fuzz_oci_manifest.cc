// libFuzzer target: manifests and indexes (and platform selection on what parses).
#include <cstddef>
#include <cstdint>
#include <string>

#include "vouch/oci/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  for (std::string_view ct : {std::string_view(), vouch::oci::media_type::kDockerManifest, vouch::oci::media_type::kOciIndex}) {
    auto m = vouch::oci::parse_manifest(text, ct);
    if (!m.ok()) continue;
    if (m->bytes != text) __builtin_trap();  // bytes are kept exactly
    if (m->is_index()) {
      auto d = vouch::oci::select_platform(*m, vouch::oci::host_platform());
      (void)d;
    }
    for (const auto& l : m->layers) (void)l.to_json();
  }
  return 0;
}
