// libFuzzer target: what a keyless signer reads from outside (the first byte picks which): a
// signing config, with its services selected as a signing run would; an identity token; a
// timestamp authority's reply, checked against a request.
#include <cstddef>
#include <cstdint>
#include <string>

#include "vouch/crypto/timestamp.h"
#include "vouch/sigstore/keyless.h"
#include "vouch/sigstore/signing_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vouch;
  if (size == 0) return 0;
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      auto config = sigstore::parse_signing_config(bytes);
      if (!config.ok()) return 0;
      (void)sigstore::select_service(config->ca_urls, {1}, 1767225600, "certificate authority");
      (void)sigstore::select_services(config->rekor_tlog_urls, config->rekor_tlog_config, {1, 2}, 1767225600, "log");
      (void)sigstore::select_services(config->tsa_urls, config->tsa_config, {1}, 1767225600, "timestamp authority");
      (void)sigstore::parse_signing_config(boost::json::serialize(sigstore::signing_config_json(*config)));
      break;
    }
    case 1: (void)sigstore::parse_identity_token(bytes); break;
    default: {
      static const Bytes request = *crypto::timestamp_request(as_bytes("signature"), crypto::HashAlgorithm::kSha256,
                                                              true, Bytes{0x01, 0x02});
      (void)crypto::check_timestamp_answers(as_bytes(bytes), request);
      break;
    }
  }
  return 0;
}
