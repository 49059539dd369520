// libFuzzer target: a Notary Project JWS envelope (flattened JSON) as a registry or a file hands
// it over. When it parses, its signature is checked with its own leaf certificate and its payload
// is read, as verification does before any trust decision.
#include <cstddef>
#include <cstdint>

#include "vouch/notation/envelope.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vouch;
  ByteView input(data, size);
  (void)notation::detect_envelope_format(input);
  auto env = notation::parse_envelope(input, notation::EnvelopeFormat::kJws);
  if (!env.ok()) return 0;
  (void)notation::verify_envelope_signature(*env);
  (void)notation::parse_payload(env->payload);
  (void)notation::chain_thumbprints(env->chain);
  if (env->timestamp_token) (void)notation::timestamp_response_from_token(*env->timestamp_token);
  return 0;
}
