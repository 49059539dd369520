// libFuzzer target: cosign's simple-signing payload and legacy Rekor bundle annotation parsers
// on arbitrary bytes. Whatever simple-signing payload is accepted must survive being written
// out again by vouch and read back with the same reference and digest.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string_view>

#include "vouch/cosign/payload.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto payload = vouch::cosign::parse_simple_signing(vouch::as_bytes(text));
  if (payload.ok()) {
    std::map<std::string, std::string> annotations;
    for (const auto& [k, v] : payload->optional)
      if (v.is_string()) annotations[std::string(k)] = std::string(v.get_string());
    auto again = vouch::cosign::parse_simple_signing(vouch::as_bytes(
        vouch::cosign::simple_signing_payload(payload->docker_reference, payload->manifest_digest, annotations)));
    if (!again.ok() || again->docker_reference != payload->docker_reference ||
        again->manifest_digest != payload->manifest_digest)
      __builtin_trap();
  }
  auto rekor = vouch::cosign::parse_legacy_rekor_bundle(text);
  (void)rekor;
  return 0;
}
