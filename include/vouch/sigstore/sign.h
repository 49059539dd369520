// Signing flows that produce Sigstore bundles and log entries, for any Signer.
#pragma once

#include "vouch/crypto/keys.h"
#include "vouch/sigstore/bundle.h"
#include "vouch/sigstore/signer.h"
#include "vouch/tlog/client.h"

namespace vouch::sigstore {

// The v0.3 bundle hint for a managed key: base64 of SHA-256 over its DER public key.
std::string public_key_hint(const crypto::PublicKey& key);

// A v0.3 bundle's verification material for what the signer gives: its leaf certificate, or
// the public key hint.
VerificationMaterial bundle_material(const SignerMaterial& signer);

// Signs an artifact: a v0.3 bundle with a message signature over the signer's digest of it,
// with no log entry yet.
Result<Bundle> sign_blob(const Signer& signer, ByteView artifact);

// Signs `payload` into a DSSE envelope (one signature over the pre-authentication encoding).
Result<DsseEnvelope> sign_dsse(const Signer& signer, std::string_view payload_type, ByteView payload);

// The proposed hashedrekord 0.0.1 entry (Rekor API JSON) for a message-signature bundle signed
// by `signer` (the entry records its certificate, or its public key).
Result<std::string> hashedrekord_proposal(const Bundle& bundle, const SignerMaterial& signer);

// The proposed dsse 0.0.1 entry (Rekor API JSON) for a DSSE bundle: the envelope and the
// signer's certificate or public key as its verifier.
Result<std::string> dsse_proposal(const Bundle& bundle, const SignerMaterial& signer);
std::string dsse_proposal(const DsseEnvelope& envelope, const SignerMaterial& signer);

// A bundle's transparency log entry from a Rekor API log entry (kind and version are read from
// the body; the inclusion proof and signed entry timestamp are carried over as they are).
Result<TlogEntry> tlog_entry_from_rekor(const tlog::RekorLogEntry& entry);

}  // namespace vouch::sigstore
