// Notary Project attestations as Kyverno's verifyImages `type: Notary` reads them: OCI referrers
// of an image whose artifactType is the attestation's type (a CycloneDX SBOM, a vulnerability
// report, ...), each one signed in turn with Notary Project signatures. The referrer's single
// layer is the attestation's content, a JSON object, which policy conditions then judge.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "vouch/base/result.h"
#include "vouch/notation/signatures.h"
#include "vouch/notation/verifier.h"
#include "vouch/oci/manifest.h"
#include "vouch/oci/store.h"

namespace vouch::notation {

struct AttestationLimits {
  // Kyverno's maxReferrersCount: an image with more referrers than this is treated as
  // compromised rather than read.
  size_t max_referrers = 50;
  // Kyverno's maxPayloadSize (10 MB) for one attestation's content.
  size_t max_content_bytes = 10 * 1000 * 1000;
  SignatureLimits signatures;
};

// One referrer of the attestation's type and what became of it.
struct ReferrerAttestation {
  oci::Descriptor referrer;     // as the referrers list gives it
  bool verified = false;
  std::string failure;          // when not verified: why (its signatures' failures, its manifest)
  boost::json::value content;   // the layer's JSON object, when verified
};

struct AttestationVerification {
  // At least one referrer has the type, and every one of them verified.
  bool verified = false;
  std::vector<ReferrerAttestation> referrers;  // those of the type, in the order listed
  std::string failure;                         // when not verified: why, for each referrer
};

// Verifies the attestations of `artifact_type` attached to `subject` (registry/repository
// `scope`, to select the trust policy). Each referrer of the type must carry a signature that
// verifies under `context` (as verify_image does for an image), and its manifest, read by digest,
// must name `subject` as its subject, have that artifact type and exactly one layer; that layer
// must be uncompressed JSON, an object. A referrer list can be written by anyone who may push to
// the repository, so a signed attestation of another image listed here does not count.
// Errors: the registry could not be read, more referrers than the limit, or a signed referrer
// whose content is too large, compressed, or not a JSON object (kInvalidInput).
Result<AttestationVerification> verify_attestations(oci::Store& store, const oci::Digest& subject,
                                                    std::string_view artifact_type, const std::string& scope,
                                                    const VerifyContext& context, const AttestationLimits& limits = {});

}  // namespace vouch::notation
