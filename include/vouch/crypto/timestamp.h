// RFC 3161 signed timestamps as Sigstore uses them: a timestamp authority (TSA) countersigns
// the artifact signature, and the timestamp's genTime then stands in for "when it was signed".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"
#include "vouch/base/time.h"
#include "vouch/crypto/digest.h"
#include "vouch/crypto/keys.h"
#include "vouch/crypto/x509.h"

namespace vouch::crypto {

// A timestamp authority as a trusted root lists it.
struct TimestampAuthority {
  // Leaf (the TSA's signing certificate) first, root last, as trusted_root.json's certChain.
  // The last certificate is the trust anchor. When the first certificate is not a CA it is
  // pinned: a timestamp verifies only if that very certificate signed it. When every
  // certificate is a CA, the signing certificate must come embedded in the timestamp and
  // chain to the anchor.
  std::vector<Certificate> chain;
  // The trusted root's validFor window (closed interval); genTime must lie inside it.
  UnixSeconds valid_start = 0;
  std::optional<UnixSeconds> valid_end;
};

struct VerifiedTimestamp {
  UnixSeconds time = 0;         // genTime, truncated to the second
  size_t authority_index = 0;   // which of the authorities signed it
  // genTime in microseconds since the epoch, with the fraction of a second GeneralizedTime may
  // carry (digits past the sixth are dropped).
  int64_t time_micros = 0;
  // The TSTInfo's accuracy (seconds, millis and micros together), in microseconds; 0 when the
  // token states none. The time of stamping lies within genTime ± accuracy (RFC 3161 §2.4.2).
  int64_t accuracy_micros = 0;
  std::string policy;           // TSA policy OID, dotted
};

// What a timestamp claims, read without verifying anything.
struct TimestampInfo {
  UnixSeconds time = 0;         // genTime
  HashAlgorithm hash = HashAlgorithm::kSha256;  // of the message imprint
  Bytes imprint;                // the hashed message
  std::string serial;           // serialNumber, hex
  std::string policy;           // TSA policy OID, dotted
  std::vector<Certificate> embedded_certificates;  // certificates carried in the token (untrusted)
  int64_t time_micros = 0;      // as VerifiedTimestamp's
  int64_t accuracy_micros = 0;  // as VerifiedTimestamp's
};

// Parses a DER TimeStampResp (RFC 3161 §2.4.2, as Sigstore bundles carry it in
// rfc3161Timestamps[].signedTimestamp) whose status is granted. Verifies nothing.
Result<TimestampInfo> parse_timestamp(ByteView der);

// Verifies a DER TimeStampResp over `signed_data` (Sigstore timestamps the signature bytes):
//   - the CMS signature, by a certificate that chains to one of `authorities` (a certificate
//     embedded in the token is never trusted by itself), with the timeStamping EKU and the
//     ESS signing-certificate(-v2) attribute binding it, as RFC 3161 requires;
//   - genTime within the validity of the TSA certificate chain and within the authority's
//     validFor window;
//   - the message imprint (SHA-256, SHA-384 or SHA-512) equals the hash of `signed_data`.
// Returns genTime and the index of the authority that signed it.
Result<VerifiedTimestamp> verify_timestamp(ByteView der, ByteView signed_data,
                                           const std::vector<TimestampAuthority>& authorities);

// Builds a DER TimeStampReq (RFC 3161 §2.4.1) asking for a timestamp over `data`: the message
// imprint is `hash` of `data`, certReq is `include_certificates`, and the nonce (big-endian
// unsigned integer bytes) is included when given. No policy is requested, so the TSA uses its
// default.
Result<Bytes> timestamp_request(ByteView data, HashAlgorithm hash, bool include_certificates = true,
                                std::optional<Bytes> nonce = std::nullopt);

// The same for an imprint computed elsewhere: `digest` is `hash` of the data (its length must
// fit the hash), as a timestamp authority's JSON request form carries it.
Result<Bytes> timestamp_request_for_digest(ByteView digest, HashAlgorithm hash, bool include_certificates = true,
                                           std::optional<Bytes> nonce = std::nullopt);

// Checks that a DER TimeStampResp answers the DER TimeStampReq `request`: status granted, same
// message imprint (algorithm and value), same nonce (or none in both), and the requested policy
// when the request named one. Verifies no signature; verify_timestamp does that.
Status check_timestamp_answers(ByteView response, ByteView request);

// How a timestamp authority answers requests (sigstore/timestamp-authority's choices).
struct TimestampSigningOptions {
  std::string policy_oid = "1.3.6.1.4.1.57264.2";  // default policy; also the only one accepted
  unsigned accuracy_seconds = 1;
  bool include_tsa_name = true;                    // tsa field: the signing certificate's subject
};

// Answers a DER TimeStampReq with a granted DER TimeStampResp signed by `key`, whose
// certificate is chain[0] (leaf first; the rest is embedded too when certReq is set): SHA-256,
// SHA-384 or SHA-512 imprints only, the nonce echoed, ESSCertIDv2, a random 128-bit serial,
// ordering false. A malformed request, another hash or another policy is refused with an
// invalid-input error naming what was wrong; nothing is signed then.
Result<Bytes> sign_timestamp(ByteView request_der, const PrivateKey& key, const std::vector<Certificate>& chain,
                             const TimestampSigningOptions& options);

}  // namespace vouch::crypto
