// Artifacts attached to a manifest as OCI 1.1 referrers, as `oras attach` stores them: an image
// manifest with an artifactType, the empty config, one layer per file, and the manifest they
// describe as its subject (an SBOM, a vulnerability report, a signature of another format).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "vouch/base/result.h"
#include "vouch/oci/manifest.h"
#include "vouch/oci/store.h"

namespace vouch::oci {

struct ReferrerFile {
  std::string media_type;
  std::string content;
  std::string title;  // the layer's org.opencontainers.image.title (the file name), when not empty
};

struct ReferrerArtifact {
  std::string artifact_type;  // a media type, type/subtype
  std::vector<ReferrerFile> files;
  // The manifest's annotations; org.opencontainers.image.created is added (now) unless given.
  std::map<std::string, std::string> annotations;
};

// Pushes `artifact` as a referrer of `subject`: blobs first, then the manifest by digest (a store
// without the referrers API gets its sha256-<hex> index tag updated). Returns the manifest.
Result<Manifest> push_referrer(Store& store, const Descriptor& subject, const ReferrerArtifact& artifact);

}  // namespace vouch::oci
