// libFuzzer target: image references and transports. Whatever parses must print back to
// something that parses to the same reference.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "vouch/oci/reference.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto ref = vouch::oci::parse_reference(text);
  if (ref.ok()) {
    auto again = vouch::oci::parse_reference(ref->str());
    if (!again.ok() || !(*again == *ref)) __builtin_trap();
  }
  auto image = vouch::oci::parse_image_ref(text);
  (void)image;
  auto digest = vouch::oci::Digest::parse(text);
  if (digest.ok() && digest->str() != text) __builtin_trap();
  return 0;
}
