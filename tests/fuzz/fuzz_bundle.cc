// libFuzzer target: the Sigstore bundle and trusted root parsers on arbitrary bytes.
// `make fuzz` runs it seeded with the conformance bundles.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "vouch/sigstore/bundle.h"
#include "vouch/sigstore/trusted_root.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto bundle = vouch::sigstore::parse_bundle(text);
  if (bundle.ok()) {
    auto again = vouch::sigstore::parse_bundle(vouch::sigstore::serialize_bundle(*bundle));
    if (!again.ok()) __builtin_trap();  // whatever we accept, we must be able to write and read back
  }
  auto root = vouch::sigstore::parse_trusted_root(text);
  (void)root;
  return 0;
}
