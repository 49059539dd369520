// Verifying image signatures and attestations as cosign 3 does, in both of its storage layouts:
//  - classic: `sha256-<hex>.sig` / `.att` tags holding one layer per signature (simple-signing
//    payloads, or DSSE envelopes for attestations) with the signature, certificate, chain and
//    Rekor bundle in layer annotations;
//  - bundle: Sigstore bundles v0.3 attached as OCI 1.1 referrers (found through the referrers
//    API, or the `sha256-<hex>` referrers tag schema where a registry has none, including
//    cosign 3's fallback index whose descriptors carry the empty artifact type).
//
// Every candidate found is checked on its own; one that fails (a bad signature, a malformed
// or unreadable layer, a registry error while looking in one layout) never makes the call fail
// when another verifies (as cosign). When none verifies the call still succeeds, with
// `verified` empty and one reason per candidate in `rejected`. Errors are reserved for
// problems that stop the search before it starts (bad options, an image that cannot be
// resolved).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "vouch/base/result.h"
#include "vouch/base/time.h"
#include "vouch/crypto/keys.h"
#include "vouch/oci/reference.h"
#include "vouch/oci/store.h"
#include "vouch/sigstore/identity.h"
#include "vouch/sigstore/trusted_material.h"
#include "vouch/sigstore/verifier.h"

namespace vouch::cosign {

enum class Layout {
  kClassic,  // sha256-<hex>.sig / .att tags
  kBundle,   // Sigstore bundle v0.3 as an OCI 1.1 referrer
};
std::string_view layout_name(Layout layout);  // "classic", "bundle"

// cosign's GitHub workflow claims (--certificate-github-workflow-*), matched exactly against
// the certificate's deprecated Fulcio extensions 1.3.6.1.4.1.57264.1.2-1.6. Empty: not checked.
struct GithubWorkflowClaims {
  std::string trigger, sha, name, repository, ref;
  bool empty() const { return trigger.empty() && sha.empty() && name.empty() && repository.empty() && ref.empty(); }
};

struct VerifyOptions {
  // Managed keys: a signature verifies when any of them verifies it. PEM strings are parsed
  // by the call (a bad one is an input error).
  std::vector<crypto::PublicKey> keys;
  std::vector<std::string> key_pems;
  // Keyless: the certificate must match one of these identities and chain to a CA of
  // `trusted_material`.
  std::vector<sigstore::CertificateIdentity> identities;
  GithubWorkflowClaims github_claims;
  // Needed for keyless verification and for transparency log checks: one trusted root, or a
  // collection of several.
  std::shared_ptr<const sigstore::TrustedMaterial> trusted_material;
  // `trusted_material` prepared once (its CA stores, logs and chain cache): callers that verify
  // image after image against the same trust keep one. Made for the call when absent; one made
  // for other trusted material is an error.
  std::shared_ptr<const sigstore::Verifier> verifier;
  bool ignore_tlog = false;  // --insecure-ignore-tlog
  bool ignore_sct = false;   // --insecure-ignore-sct
  // cosign -a: each must be present with this value (simple-signing "optional" member, or the
  // statement subject's annotations in the bundle layout).
  std::map<std::string, std::string> annotations;
  // COSIGN_REPOSITORY / Kyverno's `repository`: look for signatures in this registry
  // repository instead of the image's (verify_image_*; the *_in functions are given the store).
  std::optional<oci::Reference> repository;
  oci::StoreOptions store;
  // Upper bound on candidates examined per layout (a registry cannot make us loop forever).
  size_t max_candidates = 256;
  // Tests only: the time used when no signed time is required.
  std::optional<UnixSeconds> now;
};

struct VerifiedSignature {
  Layout layout = Layout::kClassic;
  std::string source;         // where it was found: "<repo>:sha256-….sig layer 0", "referrer sha256:…"
  std::string payload;        // the signed bytes: simple-signing JSON, or the in-toto statement JSON
  // For signatures: the payload as cosign verify prints it (simple-signing JSON object; for the
  // bundle layout cosign's equivalent with critical.type = the predicate type), with what cosign
  // adds to "optional": Subject and Issuer (keyless), Bundle (the checked Rekor bundle).
  // For attestations: the in-toto statement.
  boost::json::value json;
  std::string envelope;        // DSSE-signed candidates: the envelope JSON (what cosign
                               // verify-attestation prints)
  std::string predicate_type;  // attestations and bundle-layout signatures
  std::map<std::string, std::string> annotations;  // the signed annotations (-a)
  // Managed keys: which one verified it, as an index into `keys` followed by `key_pems`.
  std::optional<size_t> key_index;
  std::optional<std::string> signer_identity;      // keyless: the certificate's first SAN
  std::optional<std::string> signer_issuer;
  std::vector<int64_t> log_indexes;                // verified transparency log entries
  // The latest verified signing time (log integration or RFC 3161 timestamp); none when the
  // signature carries no verified time (a key signature with the log skipped).
  std::optional<UnixSeconds> signed_at;
};

struct RejectedCandidate {
  std::string source;  // as VerifiedSignature::source
  std::string reason;  // one line
};

struct VerifyResult {
  oci::Reference image;  // repository and the resolved digest
  oci::Digest digest;    // the manifest (or index) digest that was verified
  std::vector<VerifiedSignature> verified;
  std::vector<RejectedCandidate> rejected;
  bool ok() const { return !verified.empty(); }
  // "no signatures found", or the candidates and why each was rejected, on one line.
  std::string failure_summary() const;
};

// Signatures on the image `ref` names (a tag is resolved to its digest first; an index is
// verified as the index, not its platforms).
Result<VerifyResult> verify_image_signatures(const oci::ImageRef& ref, const VerifyOptions& options);

// Attestations on the image whose statement has `predicate_type` (a cosign --type name such as
// "slsaprovenance", or a URI; empty: any type) and a subject with the image's digest.
Result<VerifyResult> verify_image_attestations(const oci::ImageRef& ref, const std::string& predicate_type,
                                               const VerifyOptions& options);

// The same over an already opened store, for a known manifest digest.
Result<VerifyResult> verify_signatures_in(oci::Store& store, const oci::Reference& image, const oci::Digest& digest,
                                          const VerifyOptions& options);
Result<VerifyResult> verify_attestations_in(oci::Store& store, const oci::Reference& image, const oci::Digest& digest,
                                            const std::string& predicate_type, const VerifyOptions& options);

}  // namespace vouch::cosign
