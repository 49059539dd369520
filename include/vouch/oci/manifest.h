// Descriptors, platforms, and the manifests vouch reads: OCI image manifest and index,
// Docker schema 2 manifest and manifest list, artifact manifests (artifactType, subject).
// Docker schema 1 is refused. A parsed manifest keeps its exact bytes and their digest.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "vouch/base/result.h"
#include "vouch/oci/reference.h"

namespace vouch::oci {

namespace media_type {
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kOciLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kOciEmpty = "application/vnd.oci.empty.v1+json";
inline constexpr std::string_view kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kDockerLayer = "application/vnd.docker.image.rootfs.diff.tar";
inline constexpr std::string_view kDockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view kDockerSchema1 = "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr std::string_view kDockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws";
// What vouch asks registries for.
inline constexpr std::string_view kAcceptManifests =
    "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.docker.distribution.manifest.v2+json";
}  // namespace media_type

// Manifests above this size are refused (distribution's own limit is 4 MiB).
constexpr size_t kMaxManifestBytes = 4 << 20;

struct Platform {
  std::string os;
  std::string architecture;
  std::string variant;
  std::string os_version;
  std::vector<std::string> os_features;

  std::string str() const;  // "linux/arm64/v8"
  friend bool operator==(const Platform&, const Platform&) = default;
};

// "linux/arm64", "linux/arm/v7", "linux" (architecture from the host).
Result<Platform> parse_platform(std::string_view text);
// The platform vouch runs on, in Go's names (GOOS/GOARCH): linux/amd64, linux/arm64/v8, …
Platform host_platform();
// Whether an index entry's platform satisfies the wanted one (variant defaults as in containerd:
// arm64 means v8, arm means v7 when unspecified; an empty wanted variant matches any).
bool platform_matches(const Platform& wanted, const Platform& candidate);

struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;
  std::vector<std::string> urls;
  std::map<std::string, std::string> annotations;
  std::optional<Platform> platform;
  std::string artifact_type;
  std::optional<std::string> data;  // embedded content (decoded), checked against the digest

  boost::json::object to_json() const;
};

Result<Descriptor> parse_descriptor(const boost::json::value& value, std::string_view path);

enum class ManifestKind { kImage, kIndex };

struct Manifest {
  ManifestKind kind = ManifestKind::kImage;
  std::string media_type;     // from the document, else the Content-Type it came with
  int64_t schema_version = 2;
  std::string artifact_type;
  std::optional<Descriptor> config;   // kImage
  std::vector<Descriptor> layers;     // kImage
  std::vector<Descriptor> manifests;  // kIndex
  std::optional<Descriptor> subject;
  std::map<std::string, std::string> annotations;

  std::string bytes;  // exactly as received
  Digest digest;      // sha256 of bytes

  bool is_index() const { return kind == ManifestKind::kIndex; }
  bool is_docker() const { return media_type.starts_with("application/vnd.docker."); }
  // A descriptor of this manifest (media type, digest, size).
  Descriptor descriptor() const;
  // The artifact type as OCI 1.1 defines it: artifactType, else the config media type.
  std::string effective_artifact_type() const;
};

// Parses a manifest or index. `content_type` (from the registry or the referring descriptor)
// is used when the document has no mediaType; a mismatch between the two is an error.
Result<Manifest> parse_manifest(std::string bytes, std::string_view content_type = {});

// Picks the manifest for `wanted` from an index; the error lists the platforms available.
Result<Descriptor> select_platform(const Manifest& index, const Platform& wanted);

bool is_layer_media_type(std::string_view media_type);
enum class Compression { kNone, kGzip, kZstd };
// From the media type; "unknown" media types are sniffed by the caller.
std::optional<Compression> compression_of(std::string_view media_type);
Compression sniff_compression(ByteView head);

}  // namespace vouch::oci
