// libFuzzer target: the SLSA provenance parser on arbitrary bytes (an in-toto statement).
// `make fuzz` runs it seeded with the published slsa-github-generator statements.
#include <cstddef>
#include <cstdint>

#include "vouch/base/bytes.h"
#include "vouch/slsa/provenance.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto provenance = vouch::slsa::parse_provenance(vouch::ByteView(data, size));
  if (provenance.ok() && provenance->subjects.empty()) __builtin_trap();  // a subject is required
  return 0;
}
