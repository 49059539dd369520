// Verifying SLSA provenance made on GitHub Actions as slsa-verifier does, check by check in its
// order: the attestation verifies against the trusted root; the certificate's OIDC issuer; the
// builder workflow in the certificate is trusted (or the one asked for) at a vX.Y.Z release tag;
// the certificate's source repository; the DSSE payload type; the predicate type and build type;
// builder.id; the trigger and first material (resolved dependency) against the source; the subject
// digest; then branch, tag, versioned tag and workflow inputs. A failure is a kVerification error
// whose message starts with the check's name ("source: ...").
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "vouch/base/result.h"
#include "vouch/base/time.h"
#include "vouch/crypto/x509.h"
#include "vouch/intoto/dsse.h"
#include "vouch/oci/reference.h"
#include "vouch/oci/store.h"
#include "vouch/sigstore/trusted_material.h"
#include "vouch/slsa/provenance.h"

namespace vouch::slsa {

inline constexpr std::string_view kGithubActionsIssuer = "https://token.actions.githubusercontent.com";

// slsa-github-generator's reusable workflows (the certificate's SAN without "@ref").
inline constexpr std::string_view kGenericGeneratorBuilder =
    "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml";
inline constexpr std::string_view kContainerGeneratorBuilder =
    "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml";
inline constexpr std::string_view kGoBuilder =
    "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_go_slsa3.yml";
inline constexpr std::string_view kContainerBasedBuilder =
    "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_container-based_slsa3.yml";

// The builders trusted without --builder-id: for artifacts (generic generator, Go builder,
// container-based builder) and for images (container generator), as slsa-verifier.
const std::set<std::string>& artifact_builders();
const std::set<std::string>& image_builders();

// A builder ID "name[@version]".
struct BuilderId {
  std::string name, version;

  // Fails when there is more than one '@', an empty version, or (need_version) none.
  static Result<BuilderId> parse(std::string_view id, bool need_version);
  std::string str() const { return version.empty() ? name : name + "@" + version; }
  // `expected` names this builder; its version, when given, is ours (or "refs/tags/" + it is).
  Status matches_loose(std::string_view expected) const;
  // As matches_loose, but the versions must agree even when `expected` has none.
  Status matches_full(std::string_view expected) const;
};

// What a Fulcio certificate says about the GitHub Actions run that asked for it.
struct WorkflowIdentity {
  std::string issuer;
  std::string subject_workflow;   // the SAN URI: https://github.com/ORG/REPO/PATH@REF
  std::string source_repository;  // ORG/REPO
  std::string source_sha1;
  std::string build_trigger;
  std::string source_ref;

  std::string workflow_name() const;  // subject_workflow without "@REF"
  std::string workflow_ref() const;   // REF, or empty
};

// Reads and cross-checks the GitHub claims of a Fulcio certificate (deprecated and current
// extensions must agree), as slsa-verifier does. Fails with kVerification "certificate: ...".
Result<WorkflowIdentity> workflow_identity(const crypto::Certificate& cert);

struct ProvenanceOptions {
  std::string source_uri;  // github.com/ORG/REPO (required)
  std::optional<std::string> branch, tag, versioned_tag;
  std::optional<std::string> builder_id;  // --builder-id
  std::map<std::string, std::string> workflow_inputs;
  // The sha256 (lowercase hex) a subject must carry: the artifact's or the image's.
  std::string expected_digest;
  // The OIDC issuer the certificate must name: GitHub's, unless a private issuer that mints
  // GitHub-Actions-shaped tokens is trusted instead.
  std::string issuer = std::string(kGithubActionsIssuer);
  // Only for tests: the time used when the bundle has no signed time.
  std::optional<UnixSeconds> now;
};

struct VerifiedProvenance {
  std::string builder_id;  // "name@refs/tags/vX.Y.Z", as verified
  std::string commit;      // the source commit the certificate names
  std::string statement;   // the verified in-toto statement (the DSSE payload)
  Provenance provenance;
};

// The checks after the signature: the certificate's claims and what the envelope's provenance
// says, against `options`, with `trusted_builders` trusted when no builder ID is given.
Result<VerifiedProvenance> verify_envelope_and_certificate(const intoto::Envelope& envelope,
                                                           const crypto::Certificate& cert,
                                                           const ProvenanceOptions& options,
                                                           const std::set<std::string>& trusted_builders);

// slsa-verifier verify-artifact: `bundle_json` is a Sigstore bundle (v0.1-v0.3) holding a DSSE
// envelope, verified against `trusted` (Fulcio chain, SCT, log entry) and then checked.
Result<VerifiedProvenance> verify_artifact_provenance(std::string_view bundle_json, const ProvenanceOptions& options,
                                                      const sigstore::TrustedMaterial& trusted);

// slsa-verifier verify-image: the provenance attestations attached to the image `ref` names, which
// must carry a digest (a tag is refused with kInvalidInput), in cosign's bundle (referrer) and
// classic (.att) layouts; the first one that passes every check wins. When none does, the error is
// the first candidate's. options.expected_digest is set from the reference.
Result<VerifiedProvenance> verify_image_provenance(const oci::ImageRef& ref, ProvenanceOptions options,
                                                   const sigstore::TrustedMaterial& trusted,
                                                   const oci::StoreOptions& store_options);

// Go's semantic version rules as slsa-verifier applies them to tags ("v1", "v1.2", "v1.2.3-rc.1+b").
bool is_semver(std::string_view v);
// --source-versioned-tag: the provenance's tag matches `expected` in every component it gives.
Status verify_versioned_tag(std::string_view provenance_tag, std::string_view expected);

}  // namespace vouch::slsa
