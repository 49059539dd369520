#include "vouch/crypto/fulcio.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <optional>

#include "openssl_util.h"

namespace vouch::crypto {
namespace {

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


constexpr size_t kFieldCount = std::size(kFields);

// The DER contents of each field's OID, in kFields order, computed once.
const std::array<Bytes, kFieldCount>& field_oids() {
  static const std::array<Bytes, kFieldCount> oids = [] {
    std::array<Bytes, kFieldCount> out;
    for (size_t i = 0; i < kFieldCount; ++i) {
      std::unique_ptr<ASN1_OBJECT, OpenSslDeleter> obj(OBJ_txt2obj(std::string(kFields[i].oid).c_str(), 1));
      if (!obj) continue;
      const unsigned char* data = OBJ_get0_data(obj.get());
      out[i] = Bytes(data, data + OBJ_length(obj.get()));
    }
    return out;
  }();
  return oids;
}

// The Fulcio extensions a certificate carries, found in one pass over its extensions: for each
// field, how often it occurs and the contents of its first occurrence.
struct FoundFields {
  std::array<int, kFieldCount> count{};
  std::array<ByteView, kFieldCount> value{};
};

FoundFields find_fields(const Certificate& cert) {
  FoundFields found;
  const auto& oids = field_oids();
  const int n = X509_get_ext_count(cert.get());
  for (int idx = 0; idx < n; ++idx) {
    X509_EXTENSION* ext = X509_get_ext(cert.get(), idx);
    const ASN1_OBJECT* obj = X509_EXTENSION_get_object(ext);
    const ByteView oid(OBJ_get0_data(obj), static_cast<size_t>(OBJ_length(obj)));
    for (size_t i = 0; i < kFieldCount; ++i) {
      if (oids[i].empty() || !bytes_equal(oids[i], oid)) continue;
      if (found.count[i]++ == 0) {
        const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(ext);
        found.value[i] = ByteView(ASN1_STRING_get0_data(data), static_cast<size_t>(ASN1_STRING_length(data)));
      }
    }
  }
  return found;
}

Result<std::optional<std::string>> read_field(const FoundFields& found, size_t i) {
  const FulcioExtensionField& f = kFields[i];
  if (found.count[i] > 1) return invalid_input(fmt::format("extension {} occurs more than once", f.oid));
  if (found.count[i] == 0) return std::optional<std::string>();
  if (!f.der_utf8) return std::optional<std::string>(std::string(as_chars(found.value[i])));
  VOUCH_ASSIGN_OR_RETURN(std::string text, decode_der_utf8_string(found.value[i], f.oid));
  return std::optional<std::string>(std::move(text));
}

Result<FulcioExtensions> parse(const Certificate& cert) {
  const FoundFields found = find_fields(cert);
  FulcioExtensions out;
  std::optional<std::string> issuer_v1, issuer_v2;
  for (size_t i = 0; i < kFieldCount; ++i) {
    if (kFields[i].member == &F::issuer) continue;  // both issuer extensions are read below, and must agree
    VOUCH_ASSIGN_OR_RETURN(std::optional<std::string> value, read_field(found, i));
    if (value) out.*kFields[i].member = std::move(*value);
  }
  for (size_t i = 0; i < kFieldCount; ++i) {
    if (kFields[i].oid == oid::kIssuerV1) {
      VOUCH_ASSIGN_OR_RETURN(issuer_v1, read_field(found, i));
    } else if (kFields[i].oid == oid::kIssuerV2) {
      VOUCH_ASSIGN_OR_RETURN(issuer_v2, read_field(found, i));
    }
  }
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
