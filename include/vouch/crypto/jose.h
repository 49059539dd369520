// JOSE for OIDC identity tokens: JWKs (RFC 7517, 7518, 8037) as crypto::PublicKey, JWK Sets, and
// compact JWS (RFC 7515) parsing, verification and signing. Only asymmetric algorithms exist here:
// "none" and HS* are refused by name, and an algorithm that does not fit the key's type (HS256 with
// an RSA public key as the secret, ES256 with an RSA key, ...) is refused as algorithm confusion.
// Keys a token names or carries in its header (jwk, jku, x5c, x5u) are never used: the verifier
// chooses the key.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"
#include "vouch/crypto/keys.h"

namespace vouch::crypto {

// The JWS algorithms vouch verifies and signs with.
enum class JwsAlgorithm { kRs256, kRs384, kRs512, kPs256, kPs384, kPs512, kEs256, kEs384, kEs512, kEdDsa };

std::string_view jws_algorithm_name(JwsAlgorithm alg);  // "RS256", ..., "EdDSA"
// kVerification naming the algorithm for "none", "HS256"/"HS384"/"HS512" and anything unknown
// (names are case-sensitive: "rs256" is unknown).
Result<JwsAlgorithm> parse_jws_algorithm(std::string_view name);
// Whether `alg` can be used with a key of `type` (ES256 only with P-256, ES384 only with P-384,
// ES512 only with P-521, RS* and PS* only with RSA, EdDSA only with Ed25519).
bool jws_algorithm_fits(JwsAlgorithm alg, KeyType type);
// The algorithm a signer uses by default for `type` (P-256: ES256, P-384: ES384, P-521: ES512,
// RSA: RS256, Ed25519: EdDSA).
JwsAlgorithm default_jws_algorithm(KeyType type);

// One public key of a JWK Set, with the members that select and constrain it.
struct Jwk {
  PublicKey key;
  std::string kid;                 // empty when absent
  std::optional<std::string> alg;  // "alg" member, when present the only algorithm allowed
  std::optional<std::string> use;  // "use" member ("sig"; "enc" keys never verify signatures)
};

// A JWK object: kty RSA (n, e; a modulus of 2048 to 8192 bits), EC (crv P-256/P-384/P-521, x and y
// of exactly the curve's size; the point must be on the curve) or OKP (crv Ed25519, x of 32 bytes).
// Members are base64url without padding. Private members (d, p, q, dp, dq, qi, oth, k), kty "oct",
// and an "alg" of none, HS* or an accepted algorithm that does not fit the key are refused.
// An "alg" vouch does not know (RSA-OAEP on an encryption key, ...) is kept: such a key never
// verifies, because a token's alg must be accepted and equal it.
Result<Jwk> parse_jwk(const boost::json::value& jwk);
// The public JWK of `key` (kty and the members RFC 7518/8037 name, EC coordinates padded to the
// curve's size), then "kid" when not empty, "use": "sig", and "alg" when given.
boost::json::object jwk_from_public_key(const PublicKey& key, std::string_view kid = {},
                                        std::optional<JwsAlgorithm> alg = std::nullopt);
// RFC 7638 thumbprint (SHA-256 over the required members in lexicographic order), base64url.
std::string jwk_thumbprint(const PublicKey& key);

// Bounds for a JWK Set document (an issuer's jwks_uri answer).
struct JwkSetLimits {
  size_t max_bytes = 256 * 1024;
  size_t max_keys = 100;
};

// A JWK Set ({"keys": [...]}). Keys of a kty or curve vouch does not know are skipped, as RFC 7517
// §5 asks (one post-quantum or X25519 key must not hide the others); a malformed key of a known
// kty is an error naming its index ("keys[2]: ...").
struct JwkSet {
  std::vector<Jwk> keys;
  // The first key with that kid (duplicate kids are allowed); null when none has it.
  const Jwk* find(std::string_view kid) const;
};
Result<JwkSet> parse_jwk_set(std::string_view json, JwkSetLimits limits = {});

// A compact JWS as received: the bytes stay as they came (the signature covers them).
struct CompactJws {
  std::string signing_input;     // BASE64URL(header) "." BASE64URL(payload), exactly as received
  boost::json::object header;    // decoded protected header (a duplicated member: the last one)
  std::string payload;           // decoded payload bytes
  Bytes signature;               // decoded signature (raw r||s for ES*)
  std::string alg;               // header "alg", as written
  std::string kid;               // header "kid", empty when absent
};

struct JwsLimits {
  size_t max_token_bytes = 64 * 1024;
  size_t max_header_bytes = 8 * 1024;  // the encoded header part
};

// Exactly three base64url parts without padding (strict alphabet, canonical trailing bits), a
// JSON object header with a string "alg" (and a string "kid" if any); a "crit" header and
// "b64": false are refused (vouch understands no extension). Does not verify. kInvalidInput.
Result<CompactJws> parse_compact_jws(std::string_view token, JwsLimits limits = {});

// Verifies `jws` with `key`: the header's alg must be accepted (see parse_jws_algorithm), fit the
// key type and, when `jwk_alg` is given, equal it. ES* signatures must be exactly 2×(field size)
// bytes of r||s, RS*/PS* signatures exactly the modulus size (PS*: MGF1 with the same hash, any
// salt length on verification). kVerification naming the alg and `key_name` when anything fails.
Status verify_compact_jws(const CompactJws& jws, const PublicKey& key, std::string_view key_name = {},
                          std::optional<std::string_view> jwk_alg = std::nullopt);
// The same with a JWK: refused when the JWK does not allow the alg (an "enc" key, another "alg");
// errors name the key by its kid.
Status verify_compact_jws(const CompactJws& jws, const Jwk& jwk);

// Signs `payload` as a compact JWS with header {"alg", "kid" (if not empty), "typ" (if not empty)}.
// ES* signatures are written as r||s, PS* with a salt as long as the hash. kInvalidInput when
// `alg` does not fit the key.
Result<std::string> sign_compact_jws(const PrivateKey& key, JwsAlgorithm alg, std::string_view payload,
                                     std::string_view kid = {}, std::string_view typ = "JWT");

}  // namespace vouch::crypto
