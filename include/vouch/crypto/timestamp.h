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
};

// What a timestamp claims, read without verifying anything.
struct TimestampInfo {
  UnixSeconds time = 0;         // genTime
  HashAlgorithm hash = HashAlgorithm::kSha256;  // of the message imprint
  Bytes imprint;                // the hashed message
  std::string serial;           // serialNumber, hex
  std::string policy;           // TSA policy OID, dotted
  std::vector<Certificate> embedded_certificates;  // certificates carried in the token (untrusted)
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

}  // namespace vouch::crypto
