// Private to the sigstore module: one function per verification check, run in order by
// verify (verifier.cc). Each returns an error whose message starts with the check's name.
#pragma once

#include "vouch/sigstore/verifier.h"

namespace vouch::sigstore::checks {

// Transparency log: each entry's body matches the bundle, its inclusion proof and checkpoint
// or its signed entry timestamp verifies. Returns the verified integrated times (SET only).
struct TlogOutcome {
  std::vector<int64_t> log_indexes;
  std::vector<UnixSeconds> integrated_times;
};
Result<TlogOutcome> verify_tlog_entries(const SignedEntity& entity, const Artifact& artifact, const TrustedMaterial& trusted,
                                        const crypto::PublicKey& signer_key, const crypto::Certificate* leaf,
                                        size_t threshold);

// RFC 3161 timestamps over the signature, from trusted timestamp authorities.
Result<std::vector<UnixSeconds>> verify_signed_timestamps(const SignedEntity& entity, const TrustedMaterial& trusted);

// The leaf chains to a trusted Fulcio CA at time `at`; returns the verified chain.
Result<std::vector<crypto::Certificate>> verify_certificate_chain(const SignedEntity& entity, const TrustedMaterial& trusted,
                                                                  UnixSeconds at);

// At least one embedded SCT from a trusted CT log.
Status verify_sct(const crypto::Certificate& leaf, const crypto::Certificate& issuer, const TrustedMaterial& trusted);

// The signature over the artifact (message signature) or over the DSSE PAE, and for in-toto
// statements that the artifact is one of the subjects.
Status verify_signature(const SignedEntity& entity, const Artifact& artifact, const crypto::PublicKey& key);

}  // namespace vouch::sigstore::checks
