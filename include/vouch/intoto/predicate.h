// Predicate types by the names cosign's `--type` accepts.
#pragma once

#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "vouch/base/result.h"

namespace vouch::intoto {

inline constexpr std::string_view kCosignCustomPredicate = "https://cosign.sigstore.dev/attestation/v1";
inline constexpr std::string_view kCosignVulnPredicate = "https://cosign.sigstore.dev/attestation/vuln/v1";
inline constexpr std::string_view kSlsaProvenanceV02 = "https://slsa.dev/provenance/v0.2";
inline constexpr std::string_view kSlsaProvenanceV1 = "https://slsa.dev/provenance/v1";
inline constexpr std::string_view kSpdxPredicate = "https://spdx.dev/Document";
inline constexpr std::string_view kCycloneDxPredicate = "https://cyclonedx.org/bom";
inline constexpr std::string_view kLinkPredicate = "https://in-toto.io/Link/v1";
inline constexpr std::string_view kOpenVexPredicate = "https://openvex.dev/ns";
// What cosign 3 signs, in its bundle layout, for a plain image signature.
inline constexpr std::string_view kCosignSignPredicate = "https://sigstore.dev/cosign/sign/v1";

// "slsaprovenance" -> "https://slsa.dev/provenance/v0.2"; a URI is returned as given; anything
// else is an error listing the names.
Result<std::string> predicate_type_for(std::string_view cosign_type);

// cosign's `--type custom` predicate: {"Data": <file contents>, "Timestamp": <RFC 3339>}.
boost::json::value custom_predicate(std::string_view data, std::string_view timestamp);

}  // namespace vouch::intoto
