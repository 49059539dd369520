// libFuzzer target: the language catalogers (the input as a package-lock.json, an installed
// package.json, Python METADATA and a lone egg-info, a gemspec, a Composer installed.json and a
// .deps.json) and the license expression normaliser. Cataloging never fails on such input (a
// malformed file is a one-line warning), and normalising an expression twice changes nothing.
#include <cstddef>
#include <cstdint>
#include <string>

#include "../lib/language_files.h"
#include "vouch/sbom/license.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto source = vouch::testing::language_files(text);
  auto sbom = vouch::sbom::catalog(source, vouch::sbom::default_catalogers());
  if (!sbom.ok()) __builtin_trap();
  for (const auto& w : sbom->warnings)
    if (w.find('\n') != std::string::npos) __builtin_trap();
  std::string once = vouch::sbom::spdx_license_expression(text);
  if (vouch::sbom::spdx_license_expression(once) != once) __builtin_trap();
  return 0;
}
