// Signing and attesting images as cosign 3 does, in either storage layout (see verify.h).
// Classic signatures are appended to the ones already at `sha256-<hex>.sig` (one layer each;
// an identical layer is not added twice); bundle-layout signatures are new referrer manifests,
// and on registries without the referrers API the `sha256-<hex>` tag index is updated.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "vouch/base/result.h"
#include "vouch/base/time.h"
#include "vouch/cosign/verify.h"
#include "vouch/sigstore/signer.h"
#include "vouch/oci/reference.h"
#include "vouch/oci/store.h"

namespace vouch::cosign {

struct SignedManifest {
  oci::Digest subject;  // what was signed
  Layout layout = Layout::kBundle;
  std::string stored_at;  // "<repo>:sha256-….sig", or "<repo>@sha256:…" (the referrer)
  std::optional<int64_t> log_index;
};

struct SignOptions {
  Layout layout = Layout::kBundle;                // --new-bundle-format (default true)
  std::map<std::string, std::string> annotations;  // -a key=value
  bool recursive = false;                          // an index and every manifest in it
  std::string rekor_url;                           // non-empty: upload to this Rekor v1 log
  // Non-empty: an RFC 3161 timestamp over each signature from this timestamp authority, in the
  // bundle (timestampVerificationData) or the classic layer's rfc3161timestamp annotation.
  std::string timestamp_url;
  // -t/--timeout: every log upload ends by then (unset: each request's own 60 s bound).
  std::optional<std::chrono::steady_clock::time_point> log_deadline;
  // COSIGN_REPOSITORY: store signatures in this registry repository instead of the image's
  // (sign_manifest/attest_manifest: the store given must be that repository's).
  std::optional<oci::Reference> repository;
  oci::StoreOptions store;
  std::optional<UnixSeconds> now;                  // org.opencontainers.image.created; tests
  // Called after each manifest is signed (done of total), e.g. for progress on a terminal.
  std::function<void(const SignedManifest&, size_t done, size_t total)> on_signed;
};

// Signs the image `ref` names with `signer` (its certificate and chain, when it has one, go in
// the classic layer's annotations and in the bundle) (a tag is resolved; `warning` is set when only a tag was given).
Result<std::vector<SignedManifest>> sign_image(const oci::ImageRef& ref, const sigstore::Signer& signer,
                                               const SignOptions& options, std::string* warning = nullptr);

// Attests: an in-toto Statement v1 over the image digest with `predicate_type` (a URI) and
// `predicate`, in a DSSE envelope; `.att` in the classic layout, a bundle referrer otherwise.
Result<std::vector<SignedManifest>> attest_image(const oci::ImageRef& ref, const sigstore::Signer& signer,
                                                 const std::string& predicate_type,
                                                 const boost::json::value& predicate, const SignOptions& options,
                                                 std::string* warning = nullptr);

// The same on an open store, for one manifest (no recursion).
Result<SignedManifest> sign_manifest(oci::Store& store, const oci::Reference& image, const oci::Descriptor& manifest,
                                     const sigstore::Signer& signer, const SignOptions& options);
Result<SignedManifest> attest_manifest(oci::Store& store, const oci::Reference& image, const oci::Descriptor& manifest,
                                       const sigstore::Signer& signer, const std::string& predicate_type,
                                       const boost::json::value& predicate, const SignOptions& options);

// A signature made elsewhere (`cosign attach signature`): the simple-signing payload as signed,
// its base64 signature, and optionally the signer's certificate, chain (PEM), the classic
// layout's legacy Rekor bundle annotation and a TSA's RFC 3161 response over the signature.
struct DetachedSignature {
  std::string payload;
  std::string signature_base64;
  std::string certificate_pem;
  std::string chain_pem;
  std::string rekor_bundle_json;
  std::string rfc3161_timestamp_der;
};
// Appends it to `manifest`'s sha256-<hex>.sig, after checking that the payload names that
// manifest and that the pieces are well formed (nothing is verified: that is `verify`'s job).
Result<std::string> attach_signature(oci::Store& store, const oci::Reference& image, const oci::Descriptor& manifest,
                                     const DetachedSignature& signature);
// Appends a DSSE envelope made elsewhere (`cosign attach attestation`) to sha256-<hex>.att,
// after checking that it holds an in-toto statement about `manifest`.
Result<std::string> attach_attestation(oci::Store& store, const oci::Reference& image, const oci::Descriptor& manifest,
                                       std::string_view envelope_json);

}  // namespace vouch::cosign
