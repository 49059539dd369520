// The registry behind ImageValidatingPolicy's image functions (policy::ImagePolicyVerifier):
// image data read from the registry, cosign signatures and in-toto attestations checked with the
// cosign verifier (key, keyless identities, certificate; both storage layouts), Notary
// signatures of the image and of its OCI 1.1 referrers checked as Kyverno's Notary verifier does
// (a trust policy with scope "*", level strict, trust store "ca:kyverno" and, with tsaCerts,
// "tsa:kyverno").
#pragma once

#include <functional>
#include <memory>

#include "vouch/policy/image_policy.h"
#include "vouch/verifiers/cosign.h"

namespace vouch::verifiers {

// The same options as the verifyImages verifier: the registry client's, and where trust for
// keyless attestors and transparency-log checks comes from.
std::shared_ptr<policy::ImagePolicyVerifier> image_policy_verifier(CosignOptions options);

}  // namespace vouch::verifiers
