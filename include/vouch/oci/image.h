// Operations on whole images over any Store: resolving a platform from an index, copying an
// image with everything attached to it, and listing what is attached (as cosign tree).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vouch/oci/manifest.h"
#include "vouch/oci/store.h"

namespace vouch::oci {

struct ResolvedImage {
  Manifest root;             // what the reference names (an index or an image manifest)
  Manifest image;            // the image manifest for the platform
  std::optional<Descriptor> platform_descriptor;  // the index entry, when root is an index
  std::string config;        // the config blob (digest-checked)
};

// Resolves an index to the manifest for `platform` (default: the host's).
Result<ResolvedImage> resolve_image(Store& store, const std::optional<Platform>& platform);

struct CopyOptions {
  std::optional<Platform> platform;  // copy only this platform's image out of an index
  bool attachments = true;           // sha256-<hex>.sig/.att/.sbom tags and referrers
};

struct CopyReport {
  Digest root;
  size_t manifests = 0;
  size_t blobs_copied = 0;
  size_t blobs_present = 0;
  int64_t bytes_copied = 0;
  std::vector<std::string> attachments;  // tags and referrer digests carried along
};

Result<CopyReport> copy_image(Store& source, Store& destination, const CopyOptions& options);

struct Attachment {
  std::string kind;     // "signature", "attestation", "sbom", "referrer"
  std::string tag;      // for the tag scheme
  Descriptor manifest;
  std::vector<Descriptor> layers;
};

// What is attached to `subject` in `store`: cosign's tags and OCI referrers.
Result<std::vector<Attachment>> list_attachments(Store& store, const Digest& subject);

// BuildKit's attestations (`docker buildx build --provenance/--sbom`): in-toto statements kept
// unsigned in the image index itself, as extra manifests with platform unknown/unknown annotated
// `vnd.docker.reference.type: attestation-manifest` and `vnd.docker.reference.digest: <the
// platform manifest they describe>`. Each layer of such a manifest is one statement
// (`application/vnd.in-toto+json`, its predicate type in `in-toto.io/predicate-type`).
inline constexpr std::string_view kBuildKitReferenceType = "vnd.docker.reference.type";
inline constexpr std::string_view kBuildKitReferenceDigest = "vnd.docker.reference.digest";
inline constexpr std::string_view kBuildKitAttestationManifest = "attestation-manifest";
inline constexpr std::string_view kInTotoLayerMediaType = "application/vnd.in-toto+json";
inline constexpr std::string_view kInTotoPredicateTypeAnnotation = "in-toto.io/predicate-type";

struct BuildKitAttestation {
  Descriptor manifest;                 // the attestation manifest's entry in the index
  Digest subject;                      // the platform manifest it describes
  std::vector<Descriptor> statements;  // its in-toto layers; other media types are left out
};

// True for an index entry that is a BuildKit attestation manifest.
bool is_buildkit_attestation(const Descriptor& entry);
// The BuildKit attestation manifests of `index` (none when it is not an index). An entry whose
// subject annotation is missing or not a digest, or that names no manifest of the index, is an error.
Result<std::vector<BuildKitAttestation>> buildkit_attestations(Store& store, const Manifest& index);

}  // namespace vouch::oci
