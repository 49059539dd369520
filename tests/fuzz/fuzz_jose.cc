// libFuzzer target: what an OIDC token verifier reads from outside: an identity token (compact JWS)
// and the issuer's JWK Set, split at the first newline. When both parse, the token is verified
// with every key, by the JWK and by its bare public key with its kid as the key name.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "vouch/crypto/jose.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vouch;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t newline = input.find('\n');
  std::string_view token = input.substr(0, newline);
  std::string_view jwks = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);

  auto jws = crypto::parse_compact_jws(token);
  auto set = crypto::parse_jwk_set(jwks);
  if (set.ok()) {
    for (const auto& jwk : set->keys) {
      (void)crypto::jwk_thumbprint(jwk.key);
      (void)crypto::parse_jwk(crypto::jwk_from_public_key(jwk.key, jwk.kid));
    }
    (void)set->find(jws.ok() ? std::string_view(jws->kid) : std::string_view());
  }
  if (!jws.ok() || !set.ok()) return 0;
  for (const auto& jwk : set->keys) {
    (void)crypto::verify_compact_jws(*jws, jwk);
    (void)crypto::verify_compact_jws(*jws, jwk.key, jwk.kid);
  }
  return 0;
}
