#include "vouch/crypto/fulcio.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>

#include <algorithm>
#include <optional>

#include "openssl_util.h"

namespace vouch::crypto {
namespace {

// Number of times the extension `oid` occurs in the certificate.
int count_extension(const Certificate& cert, std::string_view oid) {
  std::unique_ptr<ASN1_OBJECT, OpenSslDeleter> obj(OBJ_txt2obj(std::string(oid).c_str(), 1));
  if (!obj) return 0;
  int count = 0;
  for (int idx = X509_get_ext_by_OBJ(cert.get(), obj.get(), -1); idx >= 0;
       idx = X509_get_ext_by_OBJ(cert.get(), obj.get(), idx))
    ++count;
  return count;
}

Result<std::optional<Bytes>> extension_once(const Certificate& cert, std::string_view oid) {
  if (count_extension(cert, oid) > 1) return invalid_input(fmt::format("extension {} occurs more than once", oid));
  return cert.extension(oid);
}

// A DER UTF8String holding valid UTF-8 and nothing after it (as Go's asn1.Unmarshal into a
// string tagged utf8, with fulcio's check for trailing bytes).
Result<std::string> decode_der_utf8_string(ByteView der, std::string_view oid) {
  auto bad = [&](std::string_view why) { return invalid_input(fmt::format("extension {}: {}", oid, why)); };
  const unsigned char* p = der.data();
  std::unique_ptr<ASN1_UTF8STRING, decltype(&ASN1_UTF8STRING_free)> str(
      d2i_ASN1_UTF8STRING(nullptr, &p, static_cast<long>(der.size())), ASN1_UTF8STRING_free);
  if (!str) {
    ERR_clear_error();
    return bad("not a DER UTF8String");
  }
  if (p != der.data() + der.size()) return bad("trailing bytes after the DER UTF8String");
  // OpenSSL also reads BER forms (long or constructed encodings); re-encoding must give the input back.
  unsigned char* reencoded = nullptr;
  int len = i2d_ASN1_UTF8STRING(str.get(), &reencoded);
  bool canonical = len >= 0 && static_cast<size_t>(len) == der.size() &&
                   std::equal(der.begin(), der.end(), reencoded);
  OPENSSL_free(reencoded);
  if (!canonical) return bad("UTF8String is not in DER form");
  unsigned char* utf8 = nullptr;
  int utf8_len = ASN1_STRING_to_UTF8(&utf8, str.get());
  if (utf8_len < 0) {
    ERR_clear_error();
    return bad("UTF8String holds invalid UTF-8");
  }
  std::string out(reinterpret_cast<const char*>(utf8), static_cast<size_t>(utf8_len));
  OPENSSL_free(utf8);
  return out;
}

// For error messages: bytes outside printable ASCII become '?'.
std::string printable(std::string_view s) {
  std::string out(s.substr(0, 256));
  for (char& c : out)
    if (c < 0x20 || c > 0x7e) c = '?';
  return out;
}

namespace oid = fulcio_oid;
using F = FulcioExtensions;
constexpr FulcioExtensionField kFields[] = {
    {oid::kIssuerV1, &F::issuer, false},
    {oid::kGithubWorkflowTrigger, &F::github_workflow_trigger, false},
    {oid::kGithubWorkflowSha, &F::github_workflow_sha, false},
    {oid::kGithubWorkflowName, &F::github_workflow_name, false},
    {oid::kGithubWorkflowRepository, &F::github_workflow_repository, false},
    {oid::kGithubWorkflowRef, &F::github_workflow_ref, false},
    {oid::kIssuerV2, &F::issuer, true},
    {oid::kBuildSignerUri, &F::build_signer_uri, true},
    {oid::kBuildSignerDigest, &F::build_signer_digest, true},
    {oid::kRunnerEnvironment, &F::runner_environment, true},
    {oid::kSourceRepositoryUri, &F::source_repository_uri, true},
    {oid::kSourceRepositoryDigest, &F::source_repository_digest, true},
    {oid::kSourceRepositoryRef, &F::source_repository_ref, true},
    {oid::kSourceRepositoryIdentifier, &F::source_repository_identifier, true},
    {oid::kSourceRepositoryOwnerUri, &F::source_repository_owner_uri, true},
    {oid::kSourceRepositoryOwnerIdentifier, &F::source_repository_owner_identifier, true},
    {oid::kBuildConfigUri, &F::build_config_uri, true},
    {oid::kBuildConfigDigest, &F::build_config_digest, true},
    {oid::kBuildTrigger, &F::build_trigger, true},
    {oid::kRunInvocationUri, &F::run_invocation_uri, true},
    {oid::kSourceRepositoryVisibilityAtSigning, &F::source_repository_visibility_at_signing, true},
    {oid::kDeploymentEnvironment, &F::deployment_environment, true},
    {oid::kTokenSubject, &F::token_subject, true},
};


Result<std::optional<std::string>> read_field(const Certificate& cert, std::string_view oid, bool der) {
  VOUCH_ASSIGN_OR_RETURN(std::optional<Bytes> value, extension_once(cert, oid));
  if (!value) return std::optional<std::string>();
  if (!der) return std::optional<std::string>(to_string(*value));
  VOUCH_ASSIGN_OR_RETURN(std::string text, decode_der_utf8_string(*value, oid));
  return std::optional<std::string>(std::move(text));
}

Result<FulcioExtensions> parse(const Certificate& cert) {
  FulcioExtensions out;
  for (const FulcioExtensionField& f : kFields) {
    if (f.member == &F::issuer) continue;  // both issuer extensions are read below, and must agree
    VOUCH_ASSIGN_OR_RETURN(std::optional<std::string> value, read_field(cert, f.oid, f.der_utf8));
    if (value) out.*f.member = std::move(*value);
  }
  VOUCH_ASSIGN_OR_RETURN(std::optional<std::string> issuer_v1, read_field(cert, oid::kIssuerV1, false));
  VOUCH_ASSIGN_OR_RETURN(std::optional<std::string> issuer_v2, read_field(cert, oid::kIssuerV2, true));
  if (issuer_v1 && issuer_v2 && *issuer_v1 != *issuer_v2)
    return invalid_input(fmt::format("issuer extensions disagree: {} is '{}' but {} is '{}'", oid::kIssuerV1,
                                     printable(*issuer_v1), oid::kIssuerV2, printable(*issuer_v2)));
  if (issuer_v2)
    out.issuer = std::move(*issuer_v2);
  else if (issuer_v1)
    out.issuer = std::move(*issuer_v1);
  return out;
}

}  // namespace

std::span<const FulcioExtensionField> fulcio_extension_fields() { return kFields; }

Result<FulcioExtensions> parse_fulcio_extensions(const Certificate& cert) {
  auto result = parse(cert);
  if (!result.ok()) return std::move(result).error().context("fulcio certificate");
  return result;
}

}  // namespace vouch::crypto
