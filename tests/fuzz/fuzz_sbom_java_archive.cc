// libFuzzer target: Java archives (zip, nested archives, pom.properties, MANIFEST.MF). Every
// package found must have a name, a version and a Maven package URL.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "vouch/sbom/parsers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto ps = vouch::sbom::parse_java_archive(std::string_view(reinterpret_cast<const char*>(data), size),
                                            vouch::sbom::Location{"/lib/app-1.0.jar", ""});
  if (ps.ok())
    for (const auto& p : *ps)
      if (p.name.empty() || p.version.empty() || !p.purl.starts_with("pkg:maven/")) __builtin_trap();
  return 0;
}
