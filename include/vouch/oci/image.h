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

}  // namespace vouch::oci
