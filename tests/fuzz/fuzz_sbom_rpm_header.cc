// libFuzzer target: rpm header blobs as the rpm databases store them. Whatever parses must
// have a name and a version, and one path per file.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "vouch/sbom/parsers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto h = vouch::sbom::parse_rpm_header(std::string_view(reinterpret_cast<const char*>(data), size));
  if (h.ok() && (h->name.empty() || h->version.empty())) __builtin_trap();
  return 0;
}
