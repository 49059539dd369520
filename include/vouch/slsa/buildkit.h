// BuildKit's provenance (`docker buildx build --provenance=mode=min|max`), read out of the image
// index and checked for what it claims. It is unsigned: whoever can push to the repository can
// write it, so a pass here says only that the claims match, never who made them. vouch reads it
// only when asked (`vouch verify-provenance --buildkit`) and says so in every result.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vouch/base/result.h"
#include "vouch/oci/manifest.h"
#include "vouch/oci/reference.h"
#include "vouch/oci/store.h"
#include "vouch/slsa/provenance.h"

namespace vouch::slsa {

// BuildKit's own metadata in the predicate: v0.2 metadata[kBuildKitMetadata], v1
// runDetails.metadata[kBuildKitMetadata]; `vcs.source` and `vcs.revision` name the repository and
// commit when the build context was a git checkout or URL.
inline constexpr std::string_view kBuildKitMetadata = "https://mobyproject.org/buildkit@v1#metadata";

struct BuildKitCheckOptions {
  std::string source_uri;                 // host/ORG/REPO (required)
  std::optional<std::string> builder_id;  // builder.id, compared exactly
  std::optional<oci::Platform> platform;  // only this platform's image; default: every image in the index
};

struct UnsignedProvenance {
  std::string platform;       // os/arch[/variant] of the image it describes
  oci::Digest image;          // the platform manifest
  std::string builder_id;     // as written (often empty outside CI)
  std::string source;         // the repository as recorded
  std::string commit;         // vcs.revision, or the config source's sha1
  std::string statement;      // the statement as stored
  Provenance provenance;
};

// The repository a BuildKit provenance names (vcs.source, else the config source's URI), as
// written; empty when it records none.
std::string buildkit_source(const Provenance& p);
// The commit it names (vcs.revision, else the config source's sha1 digest); empty when none.
std::string buildkit_commit(const Provenance& p);
// "https://github.com/org/repo.git#ref", "git@github.com:org/repo", "git+https://…@ref" and
// "github.com/org/repo" all become "github.com/org/repo" (lower-case host, no scheme, user, ".git",
// ref or trailing slash).
std::string normalize_repository(std::string_view uri);

// Checks one statement read from an attestation manifest about `image`: it is SLSA provenance, a
// subject carries the image's digest, builder.id is the expected one, the recorded repository is
// `source_uri`. A failure is a kVerification error starting with the check's name.
Result<UnsignedProvenance> check_buildkit_statement(std::string_view statement, const oci::Digest& image,
                                                    const BuildKitCheckOptions& options);

// Every image of the index `index_ref` names (or only options.platform's) must have BuildKit
// provenance that passes check_buildkit_statement. A reference to a single image manifest is refused:
// BuildKit keeps its attestations in the index.
Result<std::vector<UnsignedProvenance>> verify_buildkit_provenance(const oci::ImageRef& index_ref,
                                                                   const BuildKitCheckOptions& options,
                                                                   const oci::StoreOptions& store_options);

}  // namespace vouch::slsa
