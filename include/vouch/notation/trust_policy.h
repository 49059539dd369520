// Notary Project trust stores and trust policies as notation reads them: certificates under
// {config}/truststore/x509/{ca,signingAuthority,tsa}/<name>/ and the OCI trust policy document
// (trustpolicy.oci.json, or the older trustpolicy.json) that picks, by registry scope, which
// stores and identities a signature must chain to and how strictly each check is enforced.
#pragma once

#include <array>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vouch/base/result.h"
#include "vouch/crypto/x509.h"

namespace vouch::notation {

enum class TrustStoreType { kCa, kSigningAuthority, kTsa };
std::string_view trust_store_type_name(TrustStoreType type);  // "ca", "signingAuthority", "tsa"

// Every certificate in a file of PEM certificates or concatenated DER certificates.
Result<std::vector<crypto::Certificate>> read_certificate_file(const std::filesystem::path& path);

// Named sets of trusted certificates by type. A directory store reads
// <root>/x509/<type>/<name>/ when asked: regular files only (a symbolic link or a subdirectory is
// an error), each holding PEM or DER certificates; ca and signingAuthority certificates must be CA
// or self-signed certificates, tsa certificates self-signed root CAs. An in-memory store holds
// certificates given directly (as Kyverno's policy carries them).
class TrustStore {
 public:
  static TrustStore directory(std::filesystem::path root);
  static TrustStore in_memory(std::map<std::pair<TrustStoreType, std::string>, std::vector<crypto::Certificate>> stores);

  // kNotFound when the named store does not exist.
  Result<std::vector<crypto::Certificate>> certificates(TrustStoreType type, const std::string& name) const;

 private:
  std::optional<std::filesystem::path> root_;
  std::map<std::pair<TrustStoreType, std::string>, std::vector<crypto::Certificate>> stores_;
};

// The checks of signature verification, in the order they run.
enum class Check { kIntegrity, kAuthenticity, kAuthenticTimestamp, kExpiry, kRevocation };
std::string_view check_name(Check check);  // "integrity", "authenticity", "authenticTimestamp", ...

// What a failed check does: fail verification, be logged, or not run at all.
enum class Action { kEnforce, kLog, kSkip };
std::string_view action_name(Action action);

struct VerificationLevel {
  std::string name;  // "strict", "permissive", "audit", "skip", or "custom" after overrides
  std::array<Action, 5> actions{};
  Action action(Check check) const { return actions[static_cast<size_t>(check)]; }
};

// strict, permissive, audit or skip, with notation's overrides (integrity cannot be overridden,
// only revocation can be skipped).
Result<VerificationLevel> verification_level(std::string_view name, const std::map<std::string, std::string>& overrides = {});

struct TrustPolicy {
  std::string name;
  std::vector<std::string> registry_scopes;  // "registry/repository" or "*"
  VerificationLevel level;
  bool verify_timestamp_always = true;  // false: only after a chain certificate expired
  std::vector<std::pair<TrustStoreType, std::string>> trust_stores;
  std::vector<std::string> trusted_identities;  // "*" or "prefix:value"
};

struct TrustPolicyDocument {
  std::vector<TrustPolicy> policies;
  // The policy whose scopes list `scope` (registry/repository) exactly, else the one with "*".
  // kVerification when none applies.
  Result<const TrustPolicy*> select(std::string_view scope) const;
};

// Parses and validates a trust policy document (version "1.0"): unique names, scopes that occur
// in one policy only, at most one global policy, valid levels and overrides, "type:name" trust
// stores of known types, trusted identities ("*" alone, or x509.subject distinguished names with
// C, ST and O that do not overlap). kInvalidInput quoting notation's reasons.
Result<TrustPolicyDocument> parse_trust_policy(std::string_view json);

// {config}/trustpolicy.oci.json, else {config}/trustpolicy.json; a symbolic link is refused.
Result<TrustPolicyDocument> load_trust_policy(const std::filesystem::path& config_dir);

// A distinguished name as attribute type → value ("S" is read as "ST"). Values may use the
// escapes of RFC 4514 (\, \; \\ \+ \" and \XX). kInvalidInput for a malformed name, a
// multi-valued RDN or a repeated attribute type.
Result<std::map<std::string, std::string>> parse_distinguished_name(std::string_view dn);

// The subject of `cert` as attribute type → value, with OpenSSL's short names (C, ST, L, O, OU,
// CN, ...). A type that occurs twice keeps its values joined by '+', so it never matches.
std::map<std::string, std::string> certificate_subject(const crypto::Certificate& cert);

// Whether the leaf certificate satisfies one of `trusted_identities` ("*", or an x509.subject
// whose every attribute the subject has with the same value).
Status match_trusted_identities(const TrustPolicy& policy, const crypto::Certificate& leaf);

}  // namespace vouch::notation
