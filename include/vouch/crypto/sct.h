// Signed Certificate Timestamps (RFC 6962) embedded in Fulcio certificates: proof that the
// certificate was submitted to a Certificate Transparency log before it was issued.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"
#include "vouch/base/time.h"
#include "vouch/crypto/keys.h"
#include "vouch/crypto/x509.h"

namespace vouch::crypto {

// The OID of the X.509 extension that carries the SCT list.
inline constexpr std::string_view kEmbeddedSctOid = "1.3.6.1.4.1.11129.2.4.2";

// A CT log as a trusted root lists it (trusted_root.json ctlogs[]).
struct CtLog {
  Bytes log_id;  // 32 bytes: SHA-256 of the log's DER public key (logId.keyId)
  PublicKey key;
  UnixSeconds valid_start = 0;             // publicKey.validFor, closed interval
  std::optional<UnixSeconds> valid_end;
};

// One embedded SCT as the certificate carries it, unverified.
struct EmbeddedSct {
  Bytes log_id;
  int64_t timestamp_ms = 0;  // milliseconds since the Unix epoch
};

// The SCTs embedded in `cert`, unverified. Fails when the extension is absent or malformed.
Result<std::vector<EmbeddedSct>> embedded_scts(const Certificate& cert);

// Verifies that SCTs from at least `threshold` distinct trusted CT logs are embedded in `leaf`
// (extension 1.3.6.1.4.1.11129.2.4.2): each is signed by a log in `logs` over the
// precertificate (the leaf without the SCT extension, bound to `issuer`'s key by the
// issuer_key_hash), and its timestamp lies within that log's validity window and not in the
// future. `issuer` is the certificate that issued `leaf`.
Status verify_embedded_scts(const Certificate& leaf, const Certificate& issuer, const std::vector<CtLog>& logs,
                            size_t threshold = 1);

}  // namespace vouch::crypto
