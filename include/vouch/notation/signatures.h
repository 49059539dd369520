// Notary Project signatures stored in a registry or OCI layout: each is an OCI referrer of the
// image manifest (artifactType application/vnd.cncf.notary.signature, or that config media type
// in the OCI 1.0 form) with exactly one layer, the envelope, and the
// io.cncf.notary.x509chain.thumbprint#S256 annotation. Found through the referrers API or the
// sha256-<hex> tag schema the store falls back on.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "vouch/base/result.h"
#include "vouch/crypto/x509.h"
#include "vouch/notation/envelope.h"
#include "vouch/notation/verifier.h"
#include "vouch/oci/manifest.h"
#include "vouch/oci/store.h"

namespace vouch::notation {

struct StoredSignature {
  oci::Descriptor manifest;  // the signature manifest
  oci::Descriptor layer;     // its envelope blob
  EnvelopeFormat format = EnvelopeFormat::kJws;
  std::string envelope;
  std::map<std::string, std::string> annotations;  // the signature manifest's
};

struct SignatureLimits {
  size_t max_signatures = 100;                   // notation's --max-signatures default
  size_t max_envelope_bytes = 4 * 1024 * 1024;
};

// The descriptors of the Notary Project signature manifests that refer to `subject`.
Result<std::vector<oci::Descriptor>> list_signatures(oci::Store& store, const oci::Digest& subject);

// Reads one signature manifest and its envelope; the manifest's subject must be `subject`.
Result<StoredSignature> fetch_signature(oci::Store& store, const oci::Descriptor& manifest, const oci::Digest& subject,
                                        const SignatureLimits& limits = {});

// Pushes `envelope` as a signature of `subject` (OCI 1.1 form: empty config, artifactType,
// subject, thumbprint annotation of `chain`). Returns the signature manifest's descriptor.
Result<oci::Descriptor> push_signature(oci::Store& store, const oci::Descriptor& subject, const std::string& envelope,
                                       EnvelopeFormat format, const std::vector<crypto::Certificate>& chain);

struct ImageVerification {
  bool verified = false;
  std::string policy;  // the trust policy statement applied
  std::string level;
  std::vector<std::pair<oci::Descriptor, VerificationOutcome>> signatures;  // in the order tried
  std::string failure;  // when not verified: why, for every signature tried
};

// Verifies the signatures of `subject` (registry/repository `scope`) until one passes, as
// `notation verify` does; under level skip nothing is read. A signature manifest whose thumbprint
// annotation disagrees with its envelope's chain fails integrity. kVerification when no policy
// applies.
Result<ImageVerification> verify_image(oci::Store& store, const oci::Descriptor& subject, const std::string& scope,
                                       const VerifyContext& context,
                                       const std::map<std::string, std::string>& user_metadata = {},
                                       const SignatureLimits& limits = {});

}  // namespace vouch::notation
