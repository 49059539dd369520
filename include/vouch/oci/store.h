// Where images live: registries, OCI image layouts, docker-archive tarballs and dir:
// directories, behind one interface for reading and writing. Every manifest and blob read
// is checked against its digest (and size) before it is handed out.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "vouch/base/result.h"
#include "vouch/oci/blob.h"
#include "vouch/oci/manifest.h"
#include "vouch/oci/reference.h"
#include "vouch/oci/registry.h"

namespace vouch::oci {

// A registry store's options are its client's (registry.h); the other stores take none.
using StoreOptions = RegistryOptions;

class Store {
 public:
  virtual ~Store() = default;
  virtual std::string describe() const = 0;

  // The manifest the location names: its tag or digest, else the only (or "latest") image.
  virtual Result<Manifest> get_root() = 0;
  // A manifest by tag in the same repository or layout; nullopt when the tag does not exist.
  virtual Result<std::optional<Manifest>> get_tagged(std::string_view tag) = 0;
  // A manifest by descriptor (digest checked; size checked when known).
  virtual Result<Manifest> get_manifest(const Descriptor& d) = 0;
  virtual Result<std::unique_ptr<BlobReader>> open_blob(const Descriptor& d) = 0;
  // Manifests whose subject is `subject` (OCI 1.1 referrers; with the sha256-<hex> tag
  // scheme as a fallback where the API is missing).
  virtual Result<std::vector<Descriptor>> referrers(const Digest& subject) {
    (void)subject;
    return std::vector<Descriptor>{};
  }
  // Whether tags other than the named one can be read and written (registries, layouts).
  virtual bool supports_tags() const { return false; }

  // Whether the blob is there and can be reused: a layout or dir: checks that its file is a
  // regular file with the descriptor's size and digest (anything else is replaced by put_blob);
  // a registry, which checks digests itself, is asked.
  virtual Result<bool> has_blob(const Descriptor& d) = 0;
  virtual Status put_blob(const Descriptor& d, BlobReader& from) = 0;
  // `tag`: the tag to give it (nullopt: by digest only). `root`: the manifest the location
  // names (dir: manifest.json; docker-archive: the image).
  virtual Status put_manifest(const Manifest& m, const std::optional<std::string>& tag, bool root) = 0;
  // Makes writes visible (docker-archive writes its tarball here).
  virtual Status commit() { return ok_status(); }
  // Removes a manifest (and with it every tag naming it); false when it was not there.
  virtual Result<bool> delete_manifest(const Digest& d) {
    return invalid_input(fmt::format("{}: cannot delete manifest {} here", describe(), d.str()));
  }
};

Result<std::unique_ptr<Store>> open_store(const ImageRef& ref, const StoreOptions& options, bool for_writing);

// The tag cosign and the OCI referrers tag schema use for artifacts of `d`: "sha256-<hex>"
// with an optional suffix (".sig", ".att", ".sbom").
std::string digest_tag(const Digest& d, std::string_view suffix = {});

// `cosign save`'s OCI layout: index.json entries annotated kind=<one of these> instead of
// being tagged. LayoutStore reads such layouts (the image is the root; the sigs and atts
// entries are its .sig and .att tags).
inline constexpr std::string_view kCosignKind = "kind";
inline constexpr std::string_view kCosignImage = "dev.cosignproject.cosign/image";
inline constexpr std::string_view kCosignImageIndex = "dev.cosignproject.cosign/imageIndex";
inline constexpr std::string_view kCosignSigs = "dev.cosignproject.cosign/sigs";
inline constexpr std::string_view kCosignAtts = "dev.cosignproject.cosign/atts";

}  // namespace vouch::oci
