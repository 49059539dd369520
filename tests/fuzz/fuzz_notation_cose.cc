// libFuzzer target: a Notary Project COSE_Sign1 envelope (CBOR), through the bounded CBOR decoder
// and the envelope parser; when it parses, its signature is checked with its own leaf certificate
// and its payload is read. Also the TimeStampResp reader that signing uses on a TSA's answer.
#include <cstddef>
#include <cstdint>

#include "vouch/notation/cbor.h"
#include "vouch/notation/envelope.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vouch;
  ByteView input(data, size);
  (void)notation::cbor_decode(input);
  (void)notation::timestamp_token_from_response(input);
  auto env = notation::parse_envelope(input, notation::EnvelopeFormat::kCose);
  if (!env.ok()) return 0;
  (void)notation::verify_envelope_signature(*env);
  (void)notation::parse_payload(env->payload);
  (void)notation::chain_thumbprints(env->chain);
  return 0;
}
