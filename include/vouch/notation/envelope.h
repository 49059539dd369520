// Notary Project signature envelopes: JWS (flattened JSON serialization) and COSE_Sign1, as
// notation writes them into the single layer of a signature manifest. Parsing checks the
// envelope's shape, headers and critical headers; verify_envelope_signature then checks the
// signature with the leaf certificate's key under the algorithm that key dictates. Trust
// (certificate chains, trust stores, identities, time) is the verifier's business (verifier.h).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"
#include "vouch/base/time.h"
#include "vouch/crypto/keys.h"
#include "vouch/crypto/x509.h"

namespace vouch::notation {

inline constexpr std::string_view kJwsMediaType = "application/jose+json";
inline constexpr std::string_view kCoseMediaType = "application/cose";
inline constexpr std::string_view kPayloadMediaType = "application/vnd.cncf.notary.payload.v1+json";
inline constexpr std::string_view kSignatureArtifactType = "application/vnd.cncf.notary.signature";
inline constexpr std::string_view kThumbprintAnnotation = "io.cncf.notary.x509chain.thumbprint#S256";

enum class EnvelopeFormat { kJws, kCose };
std::string_view envelope_media_type(EnvelopeFormat format);
// kInvalidInput for any other media type.
Result<EnvelopeFormat> envelope_format_from_media_type(std::string_view media_type);
// A JSON object is taken for JWS, a CBOR tag 18 or array for COSE; anything else is refused.
Result<EnvelopeFormat> detect_envelope_format(ByteView data);

// The signature algorithms of the Notary Project; each key type allows exactly one.
enum class SignatureAlgorithm { kPs256, kPs384, kPs512, kEs256, kEs384, kEs512 };
std::string_view algorithm_name(SignatureAlgorithm alg);  // "PS256", ...
// RSA 2048 → PS256, 3072 → PS384, 4096 → PS512; P-256 → ES256, P-384 → ES384, P-521 → ES512.
// kInvalidInput for any other key.
Result<SignatureAlgorithm> algorithm_for_key(const crypto::PublicKey& key);

enum class SigningScheme { kX509, kX509SigningAuthority };
std::string_view signing_scheme_name(SigningScheme scheme);  // "notary.x509", ...

// The OCI descriptor a signature's payload names ({"targetArtifact": ...}).
struct TargetArtifact {
  std::string media_type;
  std::string digest;  // "sha256:…"
  int64_t size = 0;
  std::map<std::string, std::string> annotations;
  std::string artifact_type;  // empty when absent
};

// A parsed envelope. Nothing in it is verified yet.
struct Envelope {
  EnvelopeFormat format = EnvelopeFormat::kJws;
  SignatureAlgorithm algorithm = SignatureAlgorithm::kPs256;
  std::string content_type;
  SigningScheme scheme = SigningScheme::kX509;
  // io.cncf.notary.signingTime (notary.x509, untrusted) or io.cncf.notary.authenticSigningTime
  // (notary.x509.signingAuthority).
  UnixSeconds signing_time = 0;
  std::optional<UnixSeconds> expiry;
  // Critical headers other than the ones this implementation processes (signingScheme,
  // authenticSigningTime, expiry): any entry here makes verification fail.
  std::vector<std::string> unknown_critical;
  std::string verification_plugin;  // io.cncf.notary.verificationPlugin, empty when absent
  std::string payload;              // the signed payload bytes
  Bytes signing_input;              // the bytes the signature covers
  Bytes signature;                  // raw: RSASSA-PSS, or r||s for ECDSA
  std::vector<crypto::Certificate> chain;  // leaf first
  std::optional<Bytes> timestamp_token;    // RFC 3161 TimeStampToken over `signature`
  std::string signing_agent;
};

struct EnvelopeLimits {
  size_t max_bytes = 4 * 1024 * 1024;
  size_t max_certificates = 10;
};

// Parses an envelope of the given format. kInvalidInput naming what is wrong.
Result<Envelope> parse_envelope(ByteView data, EnvelopeFormat format, EnvelopeLimits limits = {});

// Checks that `alg` is the one the leaf certificate's key dictates and that the signature over
// the signing input verifies with that key (RSASSA-PSS with MGF1 and a salt as long as the hash).
// kVerification naming the algorithm and the key when anything fails.
Status verify_envelope_signature(const Envelope& envelope);

// Parses the payload ({"targetArtifact": descriptor}); requires mediaType, a digest of the form
// ALG:HEX and a non-negative size.
Result<TargetArtifact> parse_payload(std::string_view payload);
std::string payload_json(const TargetArtifact& target);

// Whether a signed descriptor is the artifact being verified: same media type, digest and size.
bool same_artifact(const TargetArtifact& signed_target, const TargetArtifact& artifact);

struct SignOptions {
  EnvelopeFormat format = EnvelopeFormat::kJws;
  // kX509SigningAuthority writes signing_time as io.cncf.notary.authenticSigningTime (critical),
  // as a signing authority that vouches for the time does.
  SigningScheme scheme = SigningScheme::kX509;
  UnixSeconds signing_time = 0;
  std::optional<UnixSeconds> expiry;
  std::string signing_agent = "vouch";
  // Given the signature value, returns an RFC 3161 TimeStampToken over it (a countersignature).
  std::function<Result<Bytes>(ByteView signature)> timestamper;
};

// Signs `target` with `key` under options.scheme; `chain` (leaf first) must start with the
// certificate of `key`. The algorithm follows the key (algorithm_for_key).
Result<Bytes> sign_envelope(const TargetArtifact& target, const crypto::PrivateKey& key,
                            const std::vector<crypto::Certificate>& chain, const SignOptions& options);

// The JSON array of the certificates' SHA-256 fingerprints (lowercase hex, leaf first), as the
// signature manifest's io.cncf.notary.x509chain.thumbprint#S256 annotation carries it.
std::string chain_thumbprints(const std::vector<crypto::Certificate>& chain);

// RFC 3161 TimeStampToken ⇄ TimeStampResp: the token a TSA's response carries (status must be
// granted), and a granted response around a token (as crypto::verify_timestamp reads one).
Result<Bytes> timestamp_token_from_response(ByteView response_der);
Bytes timestamp_response_from_token(ByteView token_der);

}  // namespace vouch::notation
