// libFuzzer target: cargo-auditable data. The input is read as a whole ELF file, as the zlib
// stream of a .dep-v0 section, and as the JSON it inflates to.
#include <cstddef>
#include <cstdint>
#include <string>

#include "../unit/sbom/elf_builder.h"
#include "vouch/sbom/parsers.h"

namespace {

void check(std::string_view elf) {
  auto r = vouch::sbom::read_cargo_auditable(elf);
  if (r.ok() && *r) (void)vouch::sbom::parse_cargo_auditable(**r, vouch::sbom::Location{"/bin/x", ""});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  check(input);
  check(vouch::sbom::testing::build_elf(true, false, {{".dep-v0", input}}));
  (void)vouch::sbom::parse_cargo_auditable(input, vouch::sbom::Location{"/bin/x", ""});
  (void)vouch::sbom::parse_cargo_lock(input, vouch::sbom::Location{"/Cargo.lock", ""});
  return 0;
}
