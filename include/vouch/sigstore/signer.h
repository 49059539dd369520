// Signing flows that produce Sigstore bundles.
#pragma once

#include "vouch/crypto/keys.h"
#include "vouch/sigstore/bundle.h"

namespace vouch::sigstore {

// The v0.3 bundle hint for a managed key: base64 of SHA-256 over its DER public key.
std::string public_key_hint(const crypto::PublicKey& key);

// Signs an artifact with a managed key: a message signature over SHA-256 (the key's default
// digest), with no log entry yet.
Result<Bundle> sign_blob_with_key(const crypto::PrivateKey& key, ByteView artifact);

}  // namespace vouch::sigstore
