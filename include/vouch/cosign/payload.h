// cosign's storage formats: media types, annotation keys, tag suffixes, the simple-signing
// payload (byte for byte as cosign's Go encoder writes it) and the legacy Rekor bundle
// annotation of the classic layout.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"
#include "vouch/oci/reference.h"
#include "vouch/tlog/client.h"

namespace vouch::cosign {

namespace media_type {
inline constexpr std::string_view kSimpleSigning = "application/vnd.dev.cosign.simplesigning.v1+json";
inline constexpr std::string_view kDsseEnvelope = "application/vnd.dsse.envelope.v1+json";
inline constexpr std::string_view kBundleV03 = "application/vnd.dev.sigstore.bundle.v0.3+json";
// cosign's intermediate "OCI 1.1 with the old format" referrer artifact types (read only).
inline constexpr std::string_view kArtifactSig = "application/vnd.dev.cosign.artifact.sig.v1+json";
}  // namespace media_type

namespace annotation {
inline constexpr std::string_view kSignature = "dev.cosignproject.cosign/signature";
inline constexpr std::string_view kCertificate = "dev.sigstore.cosign/certificate";
inline constexpr std::string_view kChain = "dev.sigstore.cosign/chain";
inline constexpr std::string_view kBundle = "dev.sigstore.cosign/bundle";
inline constexpr std::string_view kRfc3161Timestamp = "dev.sigstore.cosign/rfc3161timestamp";
inline constexpr std::string_view kPredicateType = "predicateType";  // .att layers
inline constexpr std::string_view kBundleContent = "dev.sigstore.bundle.content";
inline constexpr std::string_view kBundlePredicateType = "dev.sigstore.bundle.predicateType";
inline constexpr std::string_view kCreated = "org.opencontainers.image.created";
}  // namespace annotation

inline constexpr std::string_view kSignatureTagSuffix = ".sig";
inline constexpr std::string_view kAttestationTagSuffix = ".att";
inline constexpr std::string_view kSimpleSigningType = "cosign container image signature";

// The docker-reference cosign writes: the repository as go-containerregistry names it
// ("index.docker.io/library/alpine" for Docker Hub, else "registry/repository"; an OCI
// layout's path when the registry is empty).
std::string cosign_repository_name(const oci::Reference& ref);

// Where signatures of `ref` live, for messages: "registry/repository", or "oci:PATH" for a
// layout (a Reference with an empty registry and the layout path as repository).
std::string location_name(const oci::Reference& ref);

// A JSON string as Go's encoding/json writes it (<, >, & and U+2028/9 escaped as \u00XX).
std::string go_json_string(std::string_view s);

// {"critical":{"identity":{"docker-reference":R},"image":{"docker-manifest-digest":D},
//  "type":"cosign container image signature"},"optional":null|{sorted annotations}}
std::string simple_signing_payload(std::string_view docker_reference, const oci::Digest& digest,
                                   const std::map<std::string, std::string>& annotations);

struct SimpleSigning {
  std::string docker_reference;
  oci::Digest manifest_digest;
  std::string type;
  boost::json::object optional;  // empty when null or absent
  boost::json::value json;       // the whole document
};
// Bounded parse; fails naming the member that is missing or of the wrong type.
Result<SimpleSigning> parse_simple_signing(ByteView payload);

// The statement cosign 3 signs in the bundle layout for `sign`:
// {"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":HEX},
//  "annotations":{…}}],"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}}
std::string sign_statement(const oci::Digest& digest, const std::map<std::string, std::string>& annotations);

// The classic layout's `dev.sigstore.cosign/bundle` annotation:
// {"SignedEntryTimestamp":B64,"Payload":{"body":B64,"integratedTime":N,"logIndex":N,"logID":HEX}}
std::string legacy_rekor_bundle(const tlog::RekorLogEntry& entry);
Result<tlog::RekorLogEntry> parse_legacy_rekor_bundle(std::string_view json);

}  // namespace vouch::cosign
