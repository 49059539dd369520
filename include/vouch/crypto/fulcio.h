// Fulcio's certificate extensions (OIDs under 1.3.6.1.4.1.57264.1), as fulcio's
// docs/oid-info.md and pkg/certificate/extensions.go define them:
//   .1.1 - .1.6   the extension value is the raw string bytes, no DER (deprecated);
//   .1.7          the username otherName SAN (see SubjectAltNames::other_names, not here);
//   .1.8 - .1.24  the extension value is a DER UTF8String.
// An absent extension leaves its field empty.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "vouch/base/result.h"
#include "vouch/crypto/x509.h"

namespace vouch::crypto {

namespace fulcio_oid {
inline constexpr std::string_view kIssuerV1 = "1.3.6.1.4.1.57264.1.1";
inline constexpr std::string_view kGithubWorkflowTrigger = "1.3.6.1.4.1.57264.1.2";
inline constexpr std::string_view kGithubWorkflowSha = "1.3.6.1.4.1.57264.1.3";
inline constexpr std::string_view kGithubWorkflowName = "1.3.6.1.4.1.57264.1.4";
inline constexpr std::string_view kGithubWorkflowRepository = "1.3.6.1.4.1.57264.1.5";
inline constexpr std::string_view kGithubWorkflowRef = "1.3.6.1.4.1.57264.1.6";
inline constexpr std::string_view kOtherNameSan = "1.3.6.1.4.1.57264.1.7";
inline constexpr std::string_view kIssuerV2 = "1.3.6.1.4.1.57264.1.8";
inline constexpr std::string_view kBuildSignerUri = "1.3.6.1.4.1.57264.1.9";
inline constexpr std::string_view kBuildSignerDigest = "1.3.6.1.4.1.57264.1.10";
inline constexpr std::string_view kRunnerEnvironment = "1.3.6.1.4.1.57264.1.11";
inline constexpr std::string_view kSourceRepositoryUri = "1.3.6.1.4.1.57264.1.12";
inline constexpr std::string_view kSourceRepositoryDigest = "1.3.6.1.4.1.57264.1.13";
inline constexpr std::string_view kSourceRepositoryRef = "1.3.6.1.4.1.57264.1.14";
inline constexpr std::string_view kSourceRepositoryIdentifier = "1.3.6.1.4.1.57264.1.15";
inline constexpr std::string_view kSourceRepositoryOwnerUri = "1.3.6.1.4.1.57264.1.16";
inline constexpr std::string_view kSourceRepositoryOwnerIdentifier = "1.3.6.1.4.1.57264.1.17";
inline constexpr std::string_view kBuildConfigUri = "1.3.6.1.4.1.57264.1.18";
inline constexpr std::string_view kBuildConfigDigest = "1.3.6.1.4.1.57264.1.19";
inline constexpr std::string_view kBuildTrigger = "1.3.6.1.4.1.57264.1.20";
inline constexpr std::string_view kRunInvocationUri = "1.3.6.1.4.1.57264.1.21";
inline constexpr std::string_view kSourceRepositoryVisibilityAtSigning = "1.3.6.1.4.1.57264.1.22";
inline constexpr std::string_view kDeploymentEnvironment = "1.3.6.1.4.1.57264.1.23";
inline constexpr std::string_view kTokenSubject = "1.3.6.1.4.1.57264.1.24";
}  // namespace fulcio_oid

struct FulcioExtensions {
  // .1.8 (DER UTF8String) if present, else the deprecated .1.1 (raw string).
  std::string issuer;
  // .1.2 - .1.6, deprecated, raw strings.
  std::string github_workflow_trigger, github_workflow_sha, github_workflow_name, github_workflow_repository,
      github_workflow_ref;
  // .1.9 - .1.24, DER UTF8String.
  std::string build_signer_uri, build_signer_digest, runner_environment, source_repository_uri,
      source_repository_digest, source_repository_ref, source_repository_identifier, source_repository_owner_uri,
      source_repository_owner_identifier, build_config_uri, build_config_digest, build_trigger, run_invocation_uri,
      source_repository_visibility_at_signing, deployment_environment, token_subject;
};

// One Fulcio extension as a field of FulcioExtensions: its OID, the member it fills, and whether
// its value is a DER UTF8String (.1.8 and later) or the raw bytes (.1.1 - .1.6).
struct FulcioExtensionField {
  std::string_view oid;
  std::string FulcioExtensions::*member;
  bool der_utf8;
};

// Every Fulcio extension vouch reads and writes, in OID order (as Fulcio writes them); the issuer
// appears twice, as .1.1 (raw) and .1.8 (DER).
std::span<const FulcioExtensionField> fulcio_extension_fields();

// Reads every Fulcio extension of `cert`. kInvalidInput, naming the OID, when a .1.8-.1.24 value is
// not exactly one DER UTF8String of valid UTF-8, when an extension occurs twice, or when both
// issuer extensions are present and disagree. (fulcio's and sigstore-go's ParseExtensions let
// whichever comes later win; Fulcio itself always writes the same value to both, so vouch treats
// a disagreement as a malformed certificate rather than pick one.)
Result<FulcioExtensions> parse_fulcio_extensions(const Certificate& cert);

}  // namespace vouch::crypto
