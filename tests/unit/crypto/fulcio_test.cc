#include "vouch/crypto/fulcio.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdlib>
#include <filesystem>
#include <utility>
#include <vector>

#include "vouch/base/bytes.h"
#include "vouch/base/file.h"
#include "vouch/base/json.h"

namespace vouch::crypto {
namespace {

namespace fs = std::filesystem;
namespace oid = fulcio_oid;

// <source>/../shared/testdata in the real checkout; VOUCH_TESTDATA elsewhere.
fs::path shared_testdata() {
  fs::path p = fs::path(VOUCH_SOURCE_DIR).parent_path() / "shared" / "testdata";
  if (fs::exists(p)) return p;
  if (const char* env = std::getenv("VOUCH_TESTDATA")) return env;
  return {};
}

// The signing certificate of a sigstore-conformance bundle.
Result<Certificate> bundle_certificate(const std::string& name) {
  fs::path dir = shared_testdata();
  if (dir.empty()) return not_found("shared test data not found (set VOUCH_TESTDATA)");
  VOUCH_ASSIGN_OR_RETURN(std::string text,
                         read_file(dir / "sigstore-conformance" / "bundle-verify" / name / "bundle.sigstore.json"));
  VOUCH_ASSIGN_OR_RETURN(auto value, json::parse(text));
  auto root = json::Node::root(value);
  VOUCH_ASSIGN_OR_RETURN(auto material, root.get("verificationMaterial"));
  Bytes der;
  if (auto cert = material.find("certificate")) {
    VOUCH_ASSIGN_OR_RETURN(der, cert->get_bytes("rawBytes"));
  } else {
    VOUCH_ASSIGN_OR_RETURN(auto chain, material.get("x509CertificateChain"));
    VOUCH_ASSIGN_OR_RETURN(auto certs, chain.get("certificates"));
    VOUCH_ASSIGN_OR_RETURN(auto list, certs.array());
    if (list.empty()) return invalid_input("empty chain");
    VOUCH_ASSIGN_OR_RETURN(der, list[0].get_bytes("rawBytes"));
  }
  return Certificate::from_der(der);
}

constexpr std::string_view kRepo = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon";
constexpr std::string_view kWorkflow =
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/"
    "extremely-dangerous-oidc-beacon.yml@refs/heads/main";
constexpr std::string_view kSha = "c7b3dfb335f051e1c86bda4c716fac97df62ad81";

TEST(Fulcio, RealGithubActionsCertificate) {
  auto cert = bundle_certificate("happy-path-v0.3");
  ASSERT_TRUE(cert.ok()) << cert.error().message;
  auto ext = parse_fulcio_extensions(*cert);
  ASSERT_TRUE(ext.ok()) << ext.error().message;
  EXPECT_EQ(ext->issuer, "https://token.actions.githubusercontent.com");
  // .1.2-.1.6: raw strings.
  EXPECT_EQ(ext->github_workflow_trigger, "workflow_dispatch");
  EXPECT_EQ(ext->github_workflow_sha, kSha);
  EXPECT_EQ(ext->github_workflow_name, "Extremely dangerous OIDC beacon");
  EXPECT_EQ(ext->github_workflow_repository, "sigstore-conformance/extremely-dangerous-public-oidc-beacon");
  EXPECT_EQ(ext->github_workflow_ref, "refs/heads/main");
  // .1.9-.1.22: DER UTF8String (.1.9, .1.18 and .1.21 need a long-form length).
  EXPECT_EQ(ext->build_signer_uri, kWorkflow);
  EXPECT_EQ(ext->build_signer_digest, kSha);
  EXPECT_EQ(ext->runner_environment, "github-hosted");
  EXPECT_EQ(ext->source_repository_uri, kRepo);
  EXPECT_EQ(ext->source_repository_digest, kSha);
  EXPECT_EQ(ext->source_repository_ref, "refs/heads/main");
  EXPECT_EQ(ext->source_repository_identifier, "632596897");
  EXPECT_EQ(ext->source_repository_owner_uri, "https://github.com/sigstore-conformance");
  EXPECT_EQ(ext->source_repository_owner_identifier, "131804563");
  EXPECT_EQ(ext->build_config_uri, kWorkflow);
  EXPECT_EQ(ext->build_config_digest, kSha);
  EXPECT_EQ(ext->build_trigger, "workflow_dispatch");
  EXPECT_EQ(ext->run_invocation_uri, std::string(kRepo) + "/actions/runs/8347481628/attempts/1");
  EXPECT_EQ(ext->source_repository_visibility_at_signing, "public");
  // Not in this certificate.
  EXPECT_EQ(ext->deployment_environment, "");
  EXPECT_EQ(ext->token_subject, "");
}

TEST(Fulcio, RealCertificateWithOnlyIssuerExtensions) {
  // Issued with .1.8 before .1.1 and no workflow extensions.
  auto cert = bundle_certificate("intoto-with-custom-trust-root");
  ASSERT_TRUE(cert.ok()) << cert.error().message;
  auto ext = parse_fulcio_extensions(*cert);
  ASSERT_TRUE(ext.ok()) << ext.error().message;
  EXPECT_EQ(ext->issuer, "https://token.actions.githubusercontent.com");
  EXPECT_EQ(ext->github_workflow_sha, "");
  EXPECT_EQ(ext->build_signer_uri, "");
}

// ---- Synthetic certificates for the error paths ----

Bytes utf8(std::string_view s) {  // DER UTF8String, short form
  Bytes out(s.size() + 2);
  out[0] = 0x0c;
  out[1] = static_cast<uint8_t>(s.size());
  std::copy(s.begin(), s.end(), out.begin() + 2);
  return out;
}

Certificate make_cert(const std::vector<std::pair<std::string_view, Bytes>>& extensions) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 600);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("fulcio test"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509_set_pubkey(x, key);
  for (const auto& [id, value] : extensions) {
    ASN1_OBJECT* obj = OBJ_txt2obj(std::string(id).c_str(), 1);
    ASN1_OCTET_STRING* data = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(data, value.data(), static_cast<int>(value.size()));
    X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, obj, 0, data);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(data);
    ASN1_OBJECT_free(obj);
  }
  X509_sign(x, key, EVP_sha256());
  unsigned char* buf = nullptr;
  int len = i2d_X509(x, &buf);
  Bytes der(buf, buf + len);
  OPENSSL_free(buf);
  X509_free(x);
  EVP_PKEY_free(key);
  auto cert = Certificate::from_der(der);
  EXPECT_TRUE(cert.ok()) << cert.error().message;
  return *cert;
}

void expect_error(const Certificate& cert, std::string_view needle) {
  auto ext = parse_fulcio_extensions(cert);
  ASSERT_FALSE(ext.ok()) << needle;
  EXPECT_EQ(ext.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(ext.error().message.find(needle), std::string::npos) << ext.error().message;
}

TEST(Fulcio, EveryDerField) {
  std::vector<std::pair<std::string_view, Bytes>> exts;
  const std::vector<std::string_view> der_oids = {
      oid::kIssuerV2, oid::kBuildSignerUri, oid::kBuildSignerDigest, oid::kRunnerEnvironment,
      oid::kSourceRepositoryUri, oid::kSourceRepositoryDigest, oid::kSourceRepositoryRef,
      oid::kSourceRepositoryIdentifier, oid::kSourceRepositoryOwnerUri, oid::kSourceRepositoryOwnerIdentifier,
      oid::kBuildConfigUri, oid::kBuildConfigDigest, oid::kBuildTrigger, oid::kRunInvocationUri,
      oid::kSourceRepositoryVisibilityAtSigning, oid::kDeploymentEnvironment, oid::kTokenSubject};
  for (auto id : der_oids) exts.emplace_back(id, utf8(id.substr(id.rfind('.') + 1)));
  auto ext = parse_fulcio_extensions(make_cert(exts));
  ASSERT_TRUE(ext.ok()) << ext.error().message;
  const FulcioExtensions& e = *ext;
  const std::vector<std::pair<const std::string*, std::string>> want = {
      {&e.issuer, "8"}, {&e.build_signer_uri, "9"}, {&e.build_signer_digest, "10"},
      {&e.runner_environment, "11"}, {&e.source_repository_uri, "12"}, {&e.source_repository_digest, "13"},
      {&e.source_repository_ref, "14"}, {&e.source_repository_identifier, "15"},
      {&e.source_repository_owner_uri, "16"}, {&e.source_repository_owner_identifier, "17"},
      {&e.build_config_uri, "18"}, {&e.build_config_digest, "19"}, {&e.build_trigger, "20"},
      {&e.run_invocation_uri, "21"}, {&e.source_repository_visibility_at_signing, "22"},
      {&e.deployment_environment, "23"}, {&e.token_subject, "24"}};
  for (const auto& [field, value] : want) EXPECT_EQ(*field, value);
  EXPECT_EQ(e.github_workflow_ref, "");
}

TEST(Fulcio, IssuerSources) {
  // Only the deprecated raw .1.1.
  auto v1 = parse_fulcio_extensions(make_cert({{oid::kIssuerV1, to_bytes("https://accounts.google.com")}}));
  ASSERT_TRUE(v1.ok()) << v1.error().message;
  EXPECT_EQ(v1->issuer, "https://accounts.google.com");
  // Both, agreeing.
  auto both = parse_fulcio_extensions(make_cert({{oid::kIssuerV1, to_bytes("https://a.example")},
                                                 {oid::kIssuerV2, utf8("https://a.example")}}));
  ASSERT_TRUE(both.ok()) << both.error().message;
  EXPECT_EQ(both->issuer, "https://a.example");
  // Both, disagreeing: refused whatever the order.
  expect_error(make_cert({{oid::kIssuerV1, to_bytes("https://a.example")}, {oid::kIssuerV2, utf8("https://b.example")}}),
               "issuer extensions disagree: 1.3.6.1.4.1.57264.1.1 is 'https://a.example' but 1.3.6.1.4.1.57264.1.8 "
               "is 'https://b.example'");
  expect_error(make_cert({{oid::kIssuerV2, utf8("https://b.example")}, {oid::kIssuerV1, to_bytes("https://a.example")}}),
               "issuer extensions disagree");
  // No issuer at all is not an error here (policy decides).
  auto none = parse_fulcio_extensions(make_cert({}));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->issuer, "");
}

TEST(Fulcio, MalformedDerNamesTheOid) {
  auto with = [](std::string_view id, Bytes value) { return make_cert({{id, std::move(value)}}); };
  // The raw form where DER is required.
  expect_error(with(oid::kIssuerV2, to_bytes("https://a.example")),
               "fulcio certificate: extension 1.3.6.1.4.1.57264.1.8: not a DER UTF8String");
  // Another string type (PrintableString, IA5String).
  Bytes printable = utf8("push");
  printable[0] = 0x13;
  expect_error(with(oid::kBuildTrigger, printable), "extension 1.3.6.1.4.1.57264.1.20: not a DER UTF8String");
  Bytes ia5 = utf8("push");
  ia5[0] = 0x16;
  expect_error(with(oid::kTokenSubject, ia5), "extension 1.3.6.1.4.1.57264.1.24: not a DER UTF8String");
  // Trailing bytes.
  Bytes trailing = utf8("main");
  trailing.push_back(0x00);
  expect_error(with(oid::kSourceRepositoryRef, trailing), "extension 1.3.6.1.4.1.57264.1.14: trailing bytes");
  // Truncated.
  Bytes truncated = utf8("github-hosted");
  truncated.pop_back();
  expect_error(with(oid::kRunnerEnvironment, truncated), "extension 1.3.6.1.4.1.57264.1.11: not a DER UTF8String");
  // Empty value.
  expect_error(with(oid::kDeploymentEnvironment, Bytes{}), "extension 1.3.6.1.4.1.57264.1.23: not a DER UTF8String");
  // BER, not DER: a long-form length for a 4-byte string.
  expect_error(with(oid::kBuildTrigger, Bytes{0x0c, 0x81, 0x04, 'p', 'u', 's', 'h'}),
               "extension 1.3.6.1.4.1.57264.1.20: UTF8String is not in DER form");
  // Invalid UTF-8 (a lone continuation byte; an overlong encoding of '/').
  expect_error(with(oid::kSourceRepositoryUri, Bytes{0x0c, 0x02, 'a', 0x80}),
               "extension 1.3.6.1.4.1.57264.1.12: UTF8String holds invalid UTF-8");
  expect_error(with(oid::kSourceRepositoryUri, Bytes{0x0c, 0x02, 0xc0, 0xaf}), "invalid UTF-8");
  // A valid empty string is fine, and so is non-ASCII UTF-8.
  auto empty = parse_fulcio_extensions(with(oid::kDeploymentEnvironment, Bytes{0x0c, 0x00}));
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  auto accented = parse_fulcio_extensions(with(oid::kDeploymentEnvironment, utf8("pr\xc3\xa9prod")));
  ASSERT_TRUE(accented.ok()) << accented.error().message;
  EXPECT_EQ(accented->deployment_environment, "pr\xc3\xa9prod");
}

TEST(Fulcio, RawFieldsAreTakenAsIs) {
  // .1.2-.1.6 are not DER: a value that happens to look like DER stays as it is.
  auto ext = parse_fulcio_extensions(make_cert({{oid::kGithubWorkflowRef, utf8("refs/heads/main")}}));
  ASSERT_TRUE(ext.ok()) << ext.error().message;
  EXPECT_EQ(ext->github_workflow_ref, to_string(utf8("refs/heads/main")));
}

TEST(Fulcio, DuplicateExtensionIsRefused) {
  // OpenSSL parses such a certificate; Go's x509 refuses it, and so do we.
  auto cert = Certificate::from_der(make_cert({{oid::kSourceRepositoryUri, utf8("https://a.example/x")},
                                               {oid::kSourceRepositoryUri, utf8("https://a.example/y")}})
                                        .der());
  ASSERT_TRUE(cert.ok());
  expect_error(*cert, "extension 1.3.6.1.4.1.57264.1.12 occurs more than once");
}

}  // namespace
}  // namespace vouch::crypto
