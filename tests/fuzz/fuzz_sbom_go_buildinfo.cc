// libFuzzer target: Go build info. The input is read as a whole ELF file, as the content of a
// .go.buildinfo section of a well-formed ELF (both byte orders and widths), and as module info text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "../unit/sbom/elf_builder.h"
#include "vouch/sbom/parsers.h"

namespace {

void check(std::string_view elf) {
  auto r = vouch::sbom::read_go_buildinfo(elf);
  if (!r.ok() || !*r) return;
  auto info = vouch::sbom::parse_go_modinfo((*r)->first, (*r)->second);
  if (info.ok()) (void)vouch::sbom::go_packages(*info, vouch::sbom::Location{"/bin/x", ""});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  check(input);
  using vouch::sbom::testing::build_elf;
  check(build_elf(true, false, {{".go.buildinfo", input}}));
  check(build_elf(false, true, {{".go.buildinfo", input}}));
  check(build_elf(true, false, {{".data", input}}));
  auto info = vouch::sbom::parse_go_modinfo("go1.21.0", input);
  if (info.ok()) (void)vouch::sbom::go_packages(*info, vouch::sbom::Location{"/bin/x", ""});
  return 0;
}
