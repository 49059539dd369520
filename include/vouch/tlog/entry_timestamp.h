// The signed entry timestamp (SET, a Rekor v1 "inclusion promise"): the log's signature over
// RFC 8785 JSON of {"body": base64(body), "integratedTime": t, "logID": hex(log ID), "logIndex": i}.
// One builder for the payload, so the log that issues a SET and the verifiers that check one
// cannot disagree on its bytes.
#pragma once

#include <cstdint>
#include <string>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"
#include "vouch/crypto/keys.h"

namespace vouch::tlog {

// The bytes a signed entry timestamp covers.
Result<std::string> entry_timestamp_payload(ByteView body, int64_t integrated_time, ByteView log_id, int64_t log_index);

// Signs the payload with the log key (ECDSA: ASN.1 DER over SHA-256; Ed25519: the payload itself).
Result<Bytes> sign_entry_timestamp(const crypto::PrivateKey& key, ByteView body, int64_t integrated_time,
                                   ByteView log_id, int64_t log_index);

}  // namespace vouch::tlog
