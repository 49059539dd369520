// Signing flows that produce Sigstore bundles.
#pragma once

#include "vouch/crypto/keys.h"
#include "vouch/sigstore/bundle.h"
#include "vouch/tlog/client.h"

namespace vouch::sigstore {

// The v0.3 bundle hint for a managed key: base64 of SHA-256 over its DER public key.
std::string public_key_hint(const crypto::PublicKey& key);

// Signs an artifact with a managed key: a message signature over SHA-256 (the key's default
// digest), with no log entry yet.
Result<Bundle> sign_blob_with_key(const crypto::PrivateKey& key, ByteView artifact);

// The proposed hashedrekord 0.0.1 entry (Rekor API JSON) for a message-signature bundle whose
// signature verifies with `key`.
Result<std::string> hashedrekord_proposal(const Bundle& bundle, const crypto::PublicKey& key);

// A bundle's transparency log entry from a Rekor API log entry (kind and version are read from
// the body; the inclusion proof and signed entry timestamp are carried over as they are).
Result<TlogEntry> tlog_entry_from_rekor(const tlog::RekorLogEntry& entry);

}  // namespace vouch::sigstore
