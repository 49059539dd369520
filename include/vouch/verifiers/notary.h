// The Notary Project image verifier behind policy::ImageVerifier, for verifyImages entries of
// `type: Notary`: as Kyverno does, each attestor entry's certificates (cert and certChain, PEM)
// become the trust store "ca:kyverno" of a trust policy with scope "*", level strict and trusted
// identity "*", and the image verifies when one of its Notary signatures passes that policy.
// For an attestation, the image's OCI referrers whose artifactType is the attestation's type
// must each carry a signature that passes that policy (notation/attestations.h); their contents
// (JSON objects) are the predicates the attestation's conditions judge.
#pragma once

#include <memory>

#include "vouch/oci/store.h"
#include "vouch/policy/engine.h"

namespace vouch::verifiers {

struct NotaryOptions {
  oci::StoreOptions store;
};

std::shared_ptr<policy::ImageVerifier> notary_image_verifier(NotaryOptions options);

}  // namespace vouch::verifiers
