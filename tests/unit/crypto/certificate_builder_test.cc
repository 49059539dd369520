#include "vouch/crypto/certificate_builder.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "../temp_dir.h"
#include "vouch/base/file.h"
#include "vouch/crypto/digest.h"
#include "vouch/crypto/fulcio.h"
#include "vouch/crypto/sct.h"

namespace vouch::crypto {
namespace {

namespace oid = fulcio_oid;

constexpr UnixSeconds kT0 = 1'700'000'000;  // 2023-11-14
constexpr UnixSeconds kLeafLifetime = 600;  // Fulcio's ten minutes
constexpr const char* kEmail = "alice@example.com";
constexpr const char* kUri = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main";

// A fixed RSA-2048 test key (`openssl genpkey -algorithm RSA`): generating one per run is slow.
constexpr const char* kRsaTestKey =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCKQ6MPo4pVXHvi\n"
    "IKxR0Phw9WXonsUpp0N1fT+1A+Z0dkQEx1FZulNKp8+8kYnBrfhutdg/NAStmiFB\n"
    "AhABvcvjSn8QJqR7lYWev8QCp5E9N2jyXv7rxfqolpiobZ2yxlrVzNoRBwrKbDYK\n"
    "MuGuBNFuNTKSlGiAyz50Mvwq4cR1VXkWTyNvFlpG9DSNlHsR/JZ4w27b6MmGR3E8\n"
    "LGvMvyZUr/2aCCkFM2F8f188UKxjvAkcnZofAFIfYBY9cytcNIVkaS7ScwNQCCuD\n"
    "zhcjzoEjSa7b2bF4OGjCjJ2nEAb/IKlabbmqDLhGpdvlvJyOjixn3vxlw9/9w8cz\n"
    "11Hig0ZNAgMBAAECggEAPOMpQT9PMWUfZwbla8g/SBtBLA4THFM82VX1QqU7jOjx\n"
    "7jrKH932RQeea1eaFxEiOLraxoaFUt/vqf2bB/FJgsfxKa8iuwuvAqhHTLX3N0KZ\n"
    "9DYSQ8j1J93dzzoqeqpwIPvrwhjcTyUVLSuYB7a2dbZ2lWdGmAUo9Snos4elqNd7\n"
    "3brc7UjCbaDZHp3B90N8JiGmjXeo8F54ZfUVR2mk1yF8pwAoMRAFVAACGl98IVBW\n"
    "/3Sy+rD6jlcscLq25GYyJZCkzlu8INUi2Z/GaBu9B91Y8wHWvqEOwgYb+wbakg5p\n"
    "PdXNJ2cgZWa2FSFyOviwWuLjNA2MLUrEOsLEn9WY3wKBgQC88xADJ96DW1AT84wL\n"
    "ruv+KBkkT7tZLa/9q0KgQwESSzN9cxQc6192y5hOwZkxClY80zQ3PzBGITKoJspM\n"
    "dY4RxYAzhBsfBF0xdcxWJ2fR35Bs++3OH66Dnx/kGhMiScJjD3mJyAz8lSid9wWZ\n"
    "E5BK81fMq7ERUwKEbKsFKSQ3/wKBgQC7VB6iCREorblrDxX/OzTuySbS0fwJa3fj\n"
    "gUDEDTWQE4ZJUh9By4c2UrTUybySxd0HebDSyo9XMAj+MzGiuoUYOmqYUF/PAH6b\n"
    "K/XpaufMf/+FMBsiHLA4UqoX+A2mAEFr4x5GyLPzsgeEG0GyY6jDZKp4tRhTtX4s\n"
    "x5A4PwfhswKBgHw6Ej0A6XrTfkKfzWOhDed71YvaIALx1tOg1Z0ocHvmlWPVVVPu\n"
    "LEWedfTRtDZZ5Xj4I0xvbv2stfF4D2lVoKJuh2tXX7100RDDsiSyo7+IjRwaRq9O\n"
    "hR5kcEM4IXxZokQe2HmN3XvzVVEGJ9gM1MFyXDdkanZJbU5DY+1wry9hAoGAMubY\n"
    "rA7qqrMJ/x1KTOA5sejWs9J7OdQJ77ffcWZld5DWnHXEKIy1YP14RZnLs9YwCSf3\n"
    "9E82Q+q5htlCU4V7ROoarOiqIAVyYZfAanyyH89oDzjTJqHFAIj1zy2IB+Np43cD\n"
    "cxh2TXHCuRLu9xo9cVqZN9N9mMFoV6KifaYi7iECgYBPfRofbXWa/x4NrnFayZIp\n"
    "hPDQp5InmebcwXY/hEvfXCVZsL2GksV+dOlAC4YM2VE6BtlM42oMpaQtrpl+5kVB\n"
    "5AHI10cA7TjPuTXCiX2CW+Nzxt1vplveeroJpIMo3uEF9T8WP5YaMoiuYk2u6pW9\n"
    "voLwPitfq0kPXjJkkNVX7A==\n"
    "-----END PRIVATE KEY-----\n";

// One key per type and number for the whole suite.
const PrivateKey& key(KeyType type, int which = 0) {
  static std::map<std::pair<KeyType, int>, PrivateKey> keys;
  auto it = keys.find({type, which});
  if (it == keys.end()) {
    auto k = type == KeyType::kRsa && which == 0 ? PrivateKey::from_pem(kRsaTestKey) : PrivateKey::generate(type);
    EXPECT_TRUE(k.ok()) << k.error().message;
    it = keys.emplace(std::pair{type, which}, *k).first;
  }
  return it->second;
}

CaPair make_ca(KeyType root_type = KeyType::kEcdsaP256) {
  CaPairOptions options;
  options.root_subject = {{"O", "vouch.test"}, {"CN", "vouch-root"}};
  options.intermediate_subject = {{"O", "vouch.test"}, {"CN", "vouch-intermediate"}};
  options.not_before = kT0 - 86400;
  options.not_after = kT0 + 10 * 365 * 86400;
  auto pair = create_ca_pair(key(root_type), key(KeyType::kEcdsaP256, 1), options);
  EXPECT_TRUE(pair.ok()) << pair.error().message;
  return *pair;
}

FulcioExtensions all_fulcio_fields() {
  FulcioExtensions f;
  f.issuer = "https://token.actions.githubusercontent.com";
  f.github_workflow_trigger = "push";
  f.github_workflow_sha = "af785b6d3b0fa0c0aa1305faee7ce6036e8d90c4";
  f.github_workflow_name = "Release";
  f.github_workflow_repository = "acme/app";
  f.github_workflow_ref = "refs/heads/main";
  f.build_signer_uri = kUri;
  f.build_signer_digest = "0123456789abcdef0123456789abcdef01234567";
  f.runner_environment = "github-hosted";
  f.source_repository_uri = "https://github.com/acme/app";
  f.source_repository_digest = "af785b6d3b0fa0c0aa1305faee7ce6036e8d90c4";
  f.source_repository_ref = "refs/heads/main";
  f.source_repository_identifier = "632596897";
  f.source_repository_owner_uri = "https://github.com/acme";
  f.source_repository_owner_identifier = "131804563";
  f.build_config_uri = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main";
  f.build_config_digest = "fedcba9876543210fedcba9876543210fedcba98";
  f.build_trigger = "push";
  f.run_invocation_uri = "https://github.com/acme/app/actions/runs/1/attempts/1";
  f.source_repository_visibility_at_signing = "public";
  f.deployment_environment = "production";
  f.token_subject = "repo:acme/app:ref:refs/heads/main";
  return f;
}

// A Fulcio-shaped code-signing leaf: empty subject, email and URI SANs, every Fulcio extension.
CertificateTemplate leaf_template(const PublicKey& key) {
  CertificateTemplate t;
  t.not_before = kT0;
  t.not_after = kT0 + kLeafLifetime;
  t.public_key = key;
  t.key_usage.digital_signature = true;
  t.code_signing_eku = true;
  t.subject_alt_names.emails = {kEmail};
  t.subject_alt_names.uris = {kUri};
  t.fulcio = all_fulcio_fields();
  return t;
}

Certificate make_leaf(const CaPair& ca, const CertificateTemplate& t) {
  auto leaf = sign_certificate(t, key(KeyType::kEcdsaP256, 1), ca.intermediate);
  EXPECT_TRUE(leaf.ok()) << leaf.error().message;
  return *leaf;
}

std::vector<std::string> extension_oids(const Certificate& c) {
  std::vector<std::string> out;
  for (int i = 0; i < X509_get_ext_count(c.get()); ++i) {
    char buf[80];
    OBJ_obj2txt(buf, sizeof buf, X509_EXTENSION_get_object(X509_get_ext(c.get(), i)), 1);
    out.emplace_back(buf);
  }
  return out;
}

bool extension_critical(const Certificate& c, std::string_view dotted) {
  for (int i = 0; i < X509_get_ext_count(c.get()); ++i) {
    X509_EXTENSION* ext = X509_get_ext(c.get(), i);
    char buf[80];
    OBJ_obj2txt(buf, sizeof buf, X509_EXTENSION_get_object(ext), 1);
    if (dotted == buf) return X509_EXTENSION_get_critical(ext) == 1;
  }
  ADD_FAILURE() << "no extension " << dotted;
  return false;
}

Bytes serial_of(const Certificate& c) {
  const ASN1_INTEGER* serial = X509_get0_serialNumber(c.get());
  EXPECT_EQ(ASN1_STRING_type(serial), V_ASN1_INTEGER) << "serial is negative";
  const unsigned char* p = ASN1_STRING_get0_data(serial);
  return Bytes(p, p + ASN1_STRING_length(serial));
}

// TBSCertificate of `c` with the extension `dotted` removed, as a CT log and an SCT verifier see it.
Bytes tbs_without(const Certificate& c, std::string_view dotted) {
  X509* copy = X509_dup(c.get());
  std::unique_ptr<ASN1_OBJECT, decltype(&ASN1_OBJECT_free)> obj(OBJ_txt2obj(std::string(dotted).c_str(), 1),
                                                                 ASN1_OBJECT_free);
  int idx = X509_get_ext_by_OBJ(copy, obj.get(), -1);
  EXPECT_GE(idx, 0) << "no extension " << dotted;
  if (idx >= 0) X509_EXTENSION_free(X509_delete_ext(copy, idx));
  unsigned char* buf = nullptr;
  int len = i2d_re_X509_tbs(copy, &buf);
  Bytes out(buf, buf + std::max(len, 0));
  OPENSSL_free(buf);
  X509_free(copy);
  return out;
}

Bytes der_utf8(std::string_view s) {
  Bytes out = {0x0c};
  if (s.size() < 128) {
    out.push_back(static_cast<uint8_t>(s.size()));
  } else {
    out.push_back(0x81);
    out.push_back(static_cast<uint8_t>(s.size()));
  }
  out.insert(out.end(), s.begin(), s.end());
  return out;
}

struct CommandResult {
  int status = -1;
  std::string output;
};

CommandResult run(const std::string& command) {
  CommandResult r;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  r.status = pclose(pipe);
  return r;
}

// ---- chains ----

TEST(CertificateBuilder, ChainVerifiesInsideLeafValidityOnly) {
  CaPair ca = make_ca();
  Certificate leaf = make_leaf(ca, leaf_template(key(KeyType::kEcdsaP256, 2).public_key()));
  EXPECT_TRUE(ca.root.is_self_signed());
  EXPECT_TRUE(ca.root.is_ca());
  EXPECT_TRUE(ca.intermediate.is_ca());
  EXPECT_FALSE(leaf.is_ca());
  EXPECT_EQ(leaf.issuer(), ca.intermediate.subject());
  EXPECT_EQ(ca.intermediate.issuer(), ca.root.subject());
  EXPECT_EQ(leaf.subject(), "");
  EXPECT_EQ(leaf.not_before(), kT0);
  EXPECT_EQ(leaf.not_after(), kT0 + kLeafLifetime);

  // OpenSSL's chain verification takes notAfter as the first second outside the validity.
  for (UnixSeconds at : {kT0, kT0 + 300, kT0 + kLeafLifetime - 1}) {
    auto chain = verify_chain(leaf, {ca.intermediate}, {ca.root}, at);
    ASSERT_TRUE(chain.ok()) << at << ": " << chain.error().message;
    EXPECT_EQ(chain->size(), 3u);
  }
  for (UnixSeconds at : {kT0 - 1, kT0 + kLeafLifetime + 1, kT0 + 10 * kLeafLifetime}) {
    auto chain = verify_chain(leaf, {ca.intermediate}, {ca.root}, at);
    ASSERT_FALSE(chain.ok()) << at;
    EXPECT_EQ(chain.error().code, ErrorCode::kVerification);
  }
  // Without the intermediate, or against another root, there is no chain.
  EXPECT_FALSE(verify_chain(leaf, {}, {ca.root}, kT0 + 1).ok());
  CaPair other = make_ca(KeyType::kEcdsaP384);
  EXPECT_FALSE(verify_chain(leaf, {ca.intermediate}, {other.root}, kT0 + 1).ok());
}

struct RootCase {
  const char* name;
  KeyType type;
  int signature_nid;
};

class CertificateBuilderRoot : public ::testing::TestWithParam<RootCase> {};

TEST_P(CertificateBuilderRoot, SignsWithTheIssuerKeysAlgorithmAndVerifies) {
  CaPair ca = make_ca(GetParam().type);
  Certificate leaf = make_leaf(ca, leaf_template(key(KeyType::kEcdsaP256, 2).public_key()));
  EXPECT_EQ(X509_get_signature_nid(ca.root.get()), GetParam().signature_nid);
  EXPECT_EQ(X509_get_signature_nid(ca.intermediate.get()), GetParam().signature_nid);
  EXPECT_EQ(X509_get_signature_nid(leaf.get()), NID_ecdsa_with_SHA256);  // the P-256 intermediate
  EXPECT_TRUE(verify_chain(leaf, {ca.intermediate}, {ca.root}, kT0 + 1).ok());
  EXPECT_FALSE(verify_chain(leaf, {ca.intermediate}, {ca.root}, kT0 + kLeafLifetime + 1).ok());
}

INSTANTIATE_TEST_SUITE_P(Keys, CertificateBuilderRoot,
                         ::testing::Values(RootCase{"P256", KeyType::kEcdsaP256, NID_ecdsa_with_SHA256},
                                           RootCase{"P384", KeyType::kEcdsaP384, NID_ecdsa_with_SHA384},
                                           RootCase{"P521", KeyType::kEcdsaP521, NID_ecdsa_with_SHA512},
                                           RootCase{"Ed25519", KeyType::kEd25519, NID_ED25519},
                                           RootCase{"Rsa", KeyType::kRsa, NID_sha256WithRSAEncryption}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(CertificateBuilder, CaPairIsShapedAsFulciosCa) {
  CaPair ca = make_ca();
  // Root: keyCertSign + cRLSign, pathlen 1, no EKU. Intermediate: pathlen 0, EKU codeSigning.
  EXPECT_EQ(X509_get_key_usage(ca.root.get()), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  EXPECT_EQ(X509_get_key_usage(ca.intermediate.get()), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  EXPECT_EQ(X509_get_pathlen(ca.root.get()), 1);
  EXPECT_EQ(X509_get_pathlen(ca.intermediate.get()), 0);
  EXPECT_FALSE(ca.root.has_code_signing_eku());
  EXPECT_TRUE(ca.intermediate.has_code_signing_eku());
  EXPECT_TRUE(extension_critical(ca.root, "2.5.29.19"));
  EXPECT_TRUE(extension_critical(ca.intermediate, "2.5.29.15"));
  // Same order as Fulcio's (Go's) CA certificates: KU, EKU, BC, SKI, AKI.
  EXPECT_EQ(extension_oids(ca.intermediate),
            (std::vector<std::string>{"2.5.29.15", "2.5.29.37", "2.5.29.19", "2.5.29.14", "2.5.29.35"}));
  EXPECT_EQ(extension_oids(ca.root), (std::vector<std::string>{"2.5.29.15", "2.5.29.19", "2.5.29.14", "2.5.29.35"}));

  // SKI: SHA-1 of the subjectPublicKey bits; AKI: the issuer's SKI (the root's own for the root).
  auto ski = [](const Certificate& c) {
    const ASN1_OCTET_STRING* s = X509_get0_subject_key_id(c.get());
    return s ? Bytes(ASN1_STRING_get0_data(s), ASN1_STRING_get0_data(s) + ASN1_STRING_length(s)) : Bytes{};
  };
  auto aki = [](const Certificate& c) {
    const ASN1_OCTET_STRING* s = X509_get0_authority_key_id(c.get());
    return s ? Bytes(ASN1_STRING_get0_data(s), ASN1_STRING_get0_data(s) + ASN1_STRING_length(s)) : Bytes{};
  };
  const Bytes& spki = ca.intermediate.public_key().der();
  // A P-256 SubjectPublicKeyInfo ends in the 65-byte uncompressed point, the BIT STRING's bytes.
  unsigned char sha1[EVP_MAX_MD_SIZE];
  unsigned int sha1_len = 0;
  ASSERT_EQ(EVP_Digest(spki.data() + spki.size() - 65, 65, sha1, &sha1_len, EVP_sha1(), nullptr), 1);
  EXPECT_EQ(ski(ca.intermediate), Bytes(sha1, sha1 + sha1_len));
  EXPECT_EQ(aki(ca.intermediate), ski(ca.root));
  EXPECT_EQ(aki(ca.root), ski(ca.root));

  // Path length 0: a CA under the intermediate cannot issue a verifiable leaf.
  CertificateTemplate sub;
  sub.subject = {{"CN", "sub-ca"}};
  sub.not_before = kT0 - 10;
  sub.not_after = kT0 + 86400;
  sub.public_key = key(KeyType::kEcdsaP256, 3).public_key();
  sub.is_ca = true;
  sub.key_usage.cert_sign = true;
  sub.code_signing_eku = true;
  auto sub_ca = sign_certificate(sub, key(KeyType::kEcdsaP256, 1), ca.intermediate);
  ASSERT_TRUE(sub_ca.ok()) << sub_ca.error().message;
  auto leaf = sign_certificate(leaf_template(key(KeyType::kEcdsaP256, 2).public_key()), key(KeyType::kEcdsaP256, 3),
                               *sub_ca);
  ASSERT_TRUE(leaf.ok()) << leaf.error().message;
  EXPECT_FALSE(verify_chain(*leaf, {*sub_ca, ca.intermediate}, {ca.root}, kT0 + 1).ok());
  EXPECT_TRUE(verify_chain(*leaf, {}, {*sub_ca}, kT0 + 1).ok());
}

// ---- the real peer ----

TEST(CertificateBuilder, OpensslCliVerifiesTheChainAndReadsTheLeaf) {
  CaPair ca = make_ca();
  Certificate leaf = make_leaf(ca, leaf_template(key(KeyType::kEcdsaP256, 2).public_key()));
  vouch::testing::TempDir dir;
  auto path = [&](const char* name) { return (dir.path() / name).string(); };
  ASSERT_TRUE(write_file_atomic(path("root.pem"), ca.root.pem()).ok());
  ASSERT_TRUE(write_file_atomic(path("inter.pem"), ca.intermediate.pem()).ok());
  ASSERT_TRUE(write_file_atomic(path("leaf.pem"), leaf.pem()).ok());
  const std::string verify = "openssl verify -x509_strict -purpose any -CAfile " + path("root.pem") + " -untrusted " +
                             path("inter.pem") + " -attime ";

  CommandResult inside = run(verify + std::to_string(kT0 + 60) + " " + path("leaf.pem"));
  EXPECT_EQ(inside.status, 0) << inside.output;
  EXPECT_EQ(inside.output, path("leaf.pem") + ": OK\n");
  CommandResult after = run(verify + std::to_string(kT0 + kLeafLifetime + 60) + " " + path("leaf.pem"));
  EXPECT_NE(after.status, 0) << after.output;
  EXPECT_NE(after.output.find("certificate has expired"), std::string::npos) << after.output;

  CommandResult text = run("openssl x509 -noout -text -in " + path("leaf.pem"));
  ASSERT_EQ(text.status, 0) << text.output;
  for (const char* expected :
       {"X509v3 Key Usage: critical", "Digital Signature", "X509v3 Extended Key Usage: \n                Code Signing",
        "X509v3 Subject Alternative Name: critical", "email:alice@example.com",
        "URI:https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main",
        "1.3.6.1.4.1.57264.1.1: \n                https://token.actions.githubusercontent.com",
        "Signature Algorithm: ecdsa-with-SHA256", "Subject: \n"})
    EXPECT_NE(text.output.find(expected), std::string::npos) << "missing '" << expected << "' in\n" << text.output;
  EXPECT_EQ(text.output.find("Basic Constraints"), std::string::npos) << "a Fulcio leaf carries no basic constraints";

  CertificateTemplate t = leaf_template(key(KeyType::kEcdsaP256, 2).public_key());
  t.ct_poison = true;
  ASSERT_TRUE(write_file_atomic(path("precert.pem"), make_leaf(ca, t).pem()).ok());
  CommandResult precert = run("openssl x509 -noout -text -in " + path("precert.pem"));
  ASSERT_EQ(precert.status, 0) << precert.output;
  EXPECT_NE(precert.output.find("CT Precertificate Poison: critical"), std::string::npos) << precert.output;
}

// ---- TLS server certificates ----

// A webhook's own CA and its serving certificate, as `vouch admission manifests` makes them.
struct ServingPair {
  Certificate ca;
  Certificate leaf;
};

ServingPair make_serving_pair(const std::vector<std::string>& dns_names) {
  CertificateTemplate ca;
  ca.subject = {{"CN", "vouch-admission CA"}};
  ca.not_before = kT0 - 300;
  ca.not_after = kT0 + 10 * 365 * 86400;
  ca.public_key = key(KeyType::kEcdsaP256, 4).public_key();
  ca.is_ca = true;
  ca.path_len = 0;
  ca.key_usage = {.digital_signature = false, .cert_sign = true, .crl_sign = true};
  auto ca_cert = sign_certificate(ca, key(KeyType::kEcdsaP256, 4));
  EXPECT_TRUE(ca_cert.ok()) << ca_cert.error().message;

  CertificateTemplate leaf;
  leaf.subject = {{"CN", dns_names.front()}};
  leaf.not_before = kT0 - 300;
  leaf.not_after = kT0 + 365 * 86400;
  leaf.public_key = key(KeyType::kEcdsaP256, 5).public_key();
  leaf.key_usage.digital_signature = true;
  leaf.server_auth_eku = true;
  leaf.subject_alt_names.dns_names = dns_names;
  auto leaf_cert = sign_certificate(leaf, key(KeyType::kEcdsaP256, 4), *ca_cert);
  EXPECT_TRUE(leaf_cert.ok()) << leaf_cert.error().message;
  return {*ca_cert, *leaf_cert};
}

TEST(CertificateBuilder, ServerAuthLeafCarriesTheEkuAndDnsNames) {
  ServingPair pair = make_serving_pair({"vouch-admission.vouch.svc", "vouch-admission.vouch.svc.cluster.local"});
  EXPECT_EQ(X509_get_extended_key_usage(pair.leaf.get()), static_cast<uint32_t>(XKU_SSL_SERVER));
  EXPECT_FALSE(pair.leaf.has_code_signing_eku());
  EXPECT_FALSE(pair.leaf.is_ca());
  EXPECT_EQ(X509_get_key_usage(pair.leaf.get()), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(pair.leaf.subject_alt_names().dns_names,
            (std::vector<std::string>{"vouch-admission.vouch.svc", "vouch-admission.vouch.svc.cluster.local"}));
  // With a subject, the SAN is not critical (RFC 5280 4.2.1.6).
  EXPECT_FALSE(extension_critical(pair.leaf, "2.5.29.17"));
  EXPECT_EQ(extension_oids(pair.leaf),
            (std::vector<std::string>{"2.5.29.15", "2.5.29.37", "2.5.29.14", "2.5.29.35", "2.5.29.17"}));
  EXPECT_EQ(X509_get_pathlen(pair.ca.get()), 0);
  EXPECT_TRUE(verify_chain(pair.leaf, {}, {pair.ca}, kT0 + 86400).ok());

  // Both purposes at once: serverAuth first, in OID order.
  CertificateTemplate both = leaf_template(key(KeyType::kEcdsaP256, 2).public_key());
  both.server_auth_eku = true;
  CaPair ca = make_ca();
  Certificate leaf = make_leaf(ca, both);
  EXPECT_EQ(X509_get_extended_key_usage(leaf.get()), static_cast<uint32_t>(XKU_SSL_SERVER | XKU_CODE_SIGN));
  auto eku = leaf.extension("2.5.29.37");
  ASSERT_TRUE(eku.has_value());
  // SEQUENCE { id-kp-serverAuth, id-kp-codeSigning }
  EXPECT_EQ(*eku, (Bytes{0x30, 0x14, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01,
                         0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03}));
}

TEST(CertificateBuilder, OpensslCliAcceptsTheServerLeafForItsNamesOnly) {
  ServingPair pair = make_serving_pair({"vouch-admission.vouch.svc", "vouch-admission.vouch.svc.cluster.local"});
  vouch::testing::TempDir dir;
  auto path = [&](const char* name) { return (dir.path() / name).string(); };
  ASSERT_TRUE(write_file_atomic(path("ca.crt"), pair.ca.pem()).ok());
  ASSERT_TRUE(write_file_atomic(path("tls.crt"), pair.leaf.pem()).ok());
  const std::string verify = "openssl verify -x509_strict -purpose sslserver -attime " + std::to_string(kT0 + 3600) +
                             " -CAfile " + path("ca.crt") + " ";
  for (const char* name : {"vouch-admission.vouch.svc", "vouch-admission.vouch.svc.cluster.local"}) {
    CommandResult ok = run(verify + "-verify_hostname " + name + " " + path("tls.crt"));
    EXPECT_EQ(ok.status, 0) << name << ": " << ok.output;
  }
  CommandResult other = run(verify + "-verify_hostname vouch-admission.other.svc " + path("tls.crt"));
  EXPECT_NE(other.status, 0) << other.output;
  EXPECT_NE(other.output.find("hostname mismatch"), std::string::npos) << other.output;

  // A code-signing leaf is no TLS server: the purpose check is what the EKU is for.
  CaPair ca = make_ca();
  ASSERT_TRUE(write_file_atomic(path("root.pem"), ca.root.pem()).ok());
  ASSERT_TRUE(write_file_atomic(path("inter.pem"), ca.intermediate.pem()).ok());
  ASSERT_TRUE(
      write_file_atomic(path("signing.pem"), make_leaf(ca, leaf_template(key(KeyType::kEcdsaP256, 2).public_key())).pem())
          .ok());
  CommandResult signing = run("openssl verify -purpose sslserver -attime " + std::to_string(kT0 + 60) + " -CAfile " +
                              path("root.pem") + " -untrusted " + path("inter.pem") + " " + path("signing.pem"));
  EXPECT_NE(signing.status, 0) << signing.output;
  EXPECT_NE(signing.output.find("unsuitable certificate purpose"), std::string::npos) << signing.output;
}

// ---- contents ----

TEST(CertificateBuilder, LeafCarriesEveryFulcioFieldAndTheSans) {
  CaPair ca = make_ca();
  Certificate leaf = make_leaf(ca, leaf_template(key(KeyType::kEcdsaP256, 2).public_key()));
  auto parsed = parse_fulcio_extensions(leaf);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  const FulcioExtensions want = all_fulcio_fields();
  const FulcioExtensions& got = *parsed;
  for (auto member : {&FulcioExtensions::issuer, &FulcioExtensions::github_workflow_trigger,
                      &FulcioExtensions::github_workflow_sha, &FulcioExtensions::github_workflow_name,
                      &FulcioExtensions::github_workflow_repository, &FulcioExtensions::github_workflow_ref,
                      &FulcioExtensions::build_signer_uri, &FulcioExtensions::build_signer_digest,
                      &FulcioExtensions::runner_environment, &FulcioExtensions::source_repository_uri,
                      &FulcioExtensions::source_repository_digest, &FulcioExtensions::source_repository_ref,
                      &FulcioExtensions::source_repository_identifier, &FulcioExtensions::source_repository_owner_uri,
                      &FulcioExtensions::source_repository_owner_identifier, &FulcioExtensions::build_config_uri,
                      &FulcioExtensions::build_config_digest, &FulcioExtensions::build_trigger,
                      &FulcioExtensions::run_invocation_uri,
                      &FulcioExtensions::source_repository_visibility_at_signing,
                      &FulcioExtensions::deployment_environment, &FulcioExtensions::token_subject}) {
    EXPECT_FALSE((want.*member).empty());
    EXPECT_EQ(got.*member, want.*member);
  }
  // Encodings as Fulcio writes them: raw bytes for .1.1-.1.6, a DER UTF8String from .1.8 on.
  EXPECT_EQ(leaf.extension(oid::kIssuerV1), to_bytes(want.issuer));
  EXPECT_EQ(leaf.extension(oid::kGithubWorkflowSha), to_bytes(want.github_workflow_sha));
  EXPECT_EQ(leaf.extension(oid::kIssuerV2), der_utf8(want.issuer));
  EXPECT_EQ(leaf.extension(oid::kTokenSubject), der_utf8(want.token_subject));

  SubjectAltNames san = leaf.subject_alt_names();
  EXPECT_EQ(san.emails, std::vector<std::string>{kEmail});
  EXPECT_EQ(san.uris, std::vector<std::string>{kUri});
  EXPECT_TRUE(san.dns_names.empty());
  EXPECT_TRUE(leaf.has_code_signing_eku());
  EXPECT_EQ(X509_get_key_usage(leaf.get()), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));

  // Order and criticality as in a certificate from sigstore's Fulcio.
  std::vector<std::string> want_oids = {"2.5.29.15", "2.5.29.37", "2.5.29.14", "2.5.29.35", "2.5.29.17"};
  for (int arc : {1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24})
    want_oids.push_back("1.3.6.1.4.1.57264.1." + std::to_string(arc));
  EXPECT_EQ(extension_oids(leaf), want_oids);
  EXPECT_TRUE(extension_critical(leaf, "2.5.29.15"));
  EXPECT_TRUE(extension_critical(leaf, "2.5.29.17"));
  EXPECT_FALSE(extension_critical(leaf, "2.5.29.37"));
  EXPECT_FALSE(extension_critical(leaf, oid::kIssuerV2));
}

TEST(CertificateBuilder, WritesOnlyNonEmptyFulcioFieldsAndOtherSans) {
  CaPair ca = make_ca();
  CertificateTemplate t = leaf_template(key(KeyType::kEcdsaP256, 2).public_key());
  t.fulcio = {};
  t.fulcio.issuer = "https://accounts.example.com";
  t.subject = {{"O", "acme"}};
  t.subject_alt_names = {};
  t.subject_alt_names.other_names = {"alice!example.com"};
  t.subject_alt_names.dns_names = {"build.example.com"};
  Certificate leaf = make_leaf(ca, t);
  EXPECT_EQ(extension_oids(leaf), (std::vector<std::string>{"2.5.29.15", "2.5.29.37", "2.5.29.14", "2.5.29.35",
                                                            "2.5.29.17", std::string(oid::kIssuerV1),
                                                            std::string(oid::kIssuerV2)}));
  // A subject is present, so the SAN is not critical.
  EXPECT_FALSE(extension_critical(leaf, "2.5.29.17"));
  SubjectAltNames san = leaf.subject_alt_names();
  EXPECT_EQ(san.other_names, std::vector<std::string>{"alice!example.com"});
  EXPECT_EQ(san.dns_names, std::vector<std::string>{"build.example.com"});
  EXPECT_TRUE(san.emails.empty());
  auto parsed = parse_fulcio_extensions(leaf);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->issuer, "https://accounts.example.com");
  EXPECT_EQ(parsed->token_subject, "");
  EXPECT_EQ(leaf.subject(), "O=acme");
}

TEST(CertificateBuilder, SerialsAreRandomPositiveAndAtMostTwentyBytes) {
  CaPair ca = make_ca();
  CertificateTemplate t = leaf_template(key(KeyType::kEcdsaP256, 2).public_key());
  Bytes a = serial_of(make_leaf(ca, t));
  Bytes b = serial_of(make_leaf(ca, t));
  EXPECT_NE(a, b);
  for (const Bytes& s : {a, b}) {
    EXPECT_LE(s.size(), 20u);
    EXPECT_GE(s.size(), 10u);  // 159 random bits: shorter is vanishingly rare
  }
  for (int i = 0; i < 64; ++i) {
    auto serial = random_serial_number();
    ASSERT_TRUE(serial.ok());
    ASSERT_EQ(serial->size(), 20u);
    EXPECT_EQ((*serial)[0] & 0x80, 0);
  }
  // A serial given is written as given (DER drops nothing but leading zero octets).
  t.serial = Bytes{0x00, 0x7f, 0x01, 0x02};
  EXPECT_EQ(serial_of(make_leaf(ca, t)), (Bytes{0x7f, 0x01, 0x02}));
  t.serial = Bytes(20, 0x7f);
  EXPECT_EQ(serial_of(make_leaf(ca, t)), Bytes(20, 0x7f));
}

TEST(CertificateBuilder, SameTemplateGivesTheSameTbs) {
  CaPair ca = make_ca();
  CertificateTemplate t = leaf_template(key(KeyType::kEcdsaP256, 2).public_key());
  t.serial = Bytes{0x42};
  Certificate a = make_leaf(ca, t);
  Certificate b = make_leaf(ca, t);
  EXPECT_EQ(a.tbs_der(), b.tbs_der());
  t.fulcio.token_subject += "x";
  EXPECT_NE(make_leaf(ca, t).tbs_der(), a.tbs_der());
}

// ---- Certificate Transparency ----

TEST(CertificateBuilder, PrecertificateMinusPoisonIsFinalMinusSctList) {
  CaPair ca = make_ca();
  CertificateTemplate t = leaf_template(key(KeyType::kEcdsaP256, 2).public_key());
  auto serial = random_serial_number();
  ASSERT_TRUE(serial.ok());
  t.serial = *serial;
  t.ct_poison = true;
  Certificate precert = make_leaf(ca, t);
  ASSERT_EQ(extension_oids(precert).back(), kPrecertPoisonOid);
  EXPECT_TRUE(extension_critical(precert, kPrecertPoisonOid));
  EXPECT_EQ(precert.extension(kPrecertPoisonOid), (Bytes{0x05, 0x00}));

  t.ct_poison = false;
  const Bytes sct_list = {0x00, 0x05, 0x00, 0x03, 0xaa, 0xbb, 0xcc};
  t.sct_list = sct_list;
  Certificate final_cert = make_leaf(ca, t);
  ASSERT_EQ(extension_oids(final_cert).back(), kEmbeddedSctOid);
  EXPECT_FALSE(extension_critical(final_cert, kEmbeddedSctOid));
  Bytes wrapped = {0x04, static_cast<uint8_t>(sct_list.size())};
  wrapped.insert(wrapped.end(), sct_list.begin(), sct_list.end());
  EXPECT_EQ(final_cert.extension(kEmbeddedSctOid), wrapped);
  EXPECT_FALSE(final_cert.extension(kPrecertPoisonOid).has_value());

  const Bytes precert_tbs = tbs_without(precert, kPrecertPoisonOid);
  EXPECT_EQ(precert_tbs, tbs_without(final_cert, kEmbeddedSctOid));
  EXPECT_NE(precert_tbs, precert.tbs_der());

  // A different serial (as a CA that forgot to fix it would get) breaks the equality.
  t.serial.reset();
  EXPECT_NE(precert_tbs, tbs_without(make_leaf(ca, t), kEmbeddedSctOid));
}

void put_uint(Bytes& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// An RFC 6962 v1 SCT over `precert`, signed by `log_key`, TLS-serialized.
Bytes make_sct(const PrivateKey& log_key, const Certificate& precert, const Certificate& issuer, uint64_t ts_ms) {
  const Bytes log_id = sha256(log_key.public_key().der());
  const Bytes tbs = tbs_without(precert, kPrecertPoisonOid);
  Bytes signed_data = {0, 0};  // v1, certificate_timestamp
  put_uint(signed_data, ts_ms, 8);
  put_uint(signed_data, 1, 2);  // precert_entry
  const Bytes issuer_key_hash = sha256(issuer.public_key().der());
  signed_data.insert(signed_data.end(), issuer_key_hash.begin(), issuer_key_hash.end());
  put_uint(signed_data, tbs.size(), 3);
  signed_data.insert(signed_data.end(), tbs.begin(), tbs.end());
  put_uint(signed_data, 0, 2);  // no extensions
  auto signature = log_key.sign(signed_data, HashAlgorithm::kSha256);
  EXPECT_TRUE(signature.ok());

  Bytes sct = {0};  // v1
  sct.insert(sct.end(), log_id.begin(), log_id.end());
  put_uint(sct, ts_ms, 8);
  put_uint(sct, 0, 2);
  sct.push_back(4);  // sha256
  sct.push_back(3);  // ecdsa
  put_uint(sct, signature->size(), 2);
  sct.insert(sct.end(), signature->begin(), signature->end());
  return sct;
}

TEST(CertificateBuilder, EmbeddedSctOverThePrecertificateVerifies) {
  CaPair ca = make_ca();
  const PrivateKey& log_key = key(KeyType::kEcdsaP256, 4);
  CtLog log{sha256(log_key.public_key().der()), log_key.public_key(), 0, std::nullopt};

  CertificateTemplate t = leaf_template(key(KeyType::kEcdsaP256, 2).public_key());
  auto serial = random_serial_number();
  ASSERT_TRUE(serial.ok());
  t.serial = *serial;
  t.ct_poison = true;
  Certificate precert = make_leaf(ca, t);
  const uint64_t ts_ms = static_cast<uint64_t>(now_unix() - 60) * 1000;
  auto sct = parse_sct(make_sct(log_key, precert, ca.intermediate, ts_ms));
  ASSERT_TRUE(sct.ok()) << sct.error().message;
  auto list = serialize_sct_list({*sct});
  ASSERT_TRUE(list.ok()) << list.error().message;

  t.ct_poison = false;
  t.sct_list = *list;
  Certificate final_cert = make_leaf(ca, t);
  Status verified = verify_embedded_scts(final_cert, ca.intermediate, {log});
  EXPECT_TRUE(verified.ok()) << verified.error().message;
  auto scts = embedded_scts(final_cert);
  ASSERT_TRUE(scts.ok()) << scts.error().message;
  ASSERT_EQ(scts->size(), 1u);
  EXPECT_EQ((*scts)[0].timestamp_ms, static_cast<int64_t>(ts_ms));

  // The same SCT on a certificate that says something else does not verify.
  t.fulcio.token_subject = "repo:acme/other:ref:refs/heads/main";
  EXPECT_FALSE(verify_embedded_scts(make_leaf(ca, t), ca.intermediate, {log}).ok());
}

// ---- untrusted claims ----

TEST(CertificateBuilder, ClaimsWithSyntaxCharactersEndUpVerbatim) {
  CaPair ca = make_ca();
  CertificateTemplate t = leaf_template(key(KeyType::kEcdsaP256, 2).public_key());
  const std::string nasty = "repo:a,b=c\nsubjectAltName=email:evil@example.com, critical,DER:05:00 ünïcødé ✓ \"'\\";
  const std::string nasty_issuer = "https://issuer.example.com/?a=b,c=d\nbasicConstraints=CA:TRUE";
  t.fulcio.issuer = nasty_issuer;
  t.fulcio.github_workflow_name = nasty;
  t.fulcio.token_subject = nasty;
  t.fulcio.source_repository_ref = "refs/heads/\xe2\x80\xae" "evil";  // right-to-left override, valid UTF-8
  t.subject = {{"CN", "a, CN=b + O=c\n=d ü"}};
  Certificate leaf = make_leaf(ca, t);

  auto parsed = parse_fulcio_extensions(leaf);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->issuer, nasty_issuer);
  EXPECT_EQ(parsed->github_workflow_name, nasty);
  EXPECT_EQ(parsed->token_subject, nasty);
  EXPECT_EQ(parsed->source_repository_ref, t.fulcio.source_repository_ref);
  EXPECT_EQ(leaf.extension(oid::kIssuerV1), to_bytes(nasty_issuer));
  EXPECT_EQ(leaf.extension(oid::kTokenSubject), der_utf8(nasty));
  // Nothing was injected: still one email, no basic constraints, not a CA.
  EXPECT_EQ(leaf.subject_alt_names().emails, std::vector<std::string>{kEmail});
  EXPECT_FALSE(leaf.is_ca());
  EXPECT_EQ(X509_get_ext_by_NID(leaf.get(), NID_basic_constraints, -1), -1);
  EXPECT_EQ(extension_oids(leaf).size(), 28u);
  // The subject is one CN attribute holding the whole string.
  X509_NAME* name = X509_get_subject_name(leaf.get());
  ASSERT_EQ(X509_NAME_entry_count(name), 1);
  const ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, 0));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(cn)), ASN1_STRING_length(cn)),
            "a, CN=b + O=c\n=d ü");
  EXPECT_TRUE(verify_chain(leaf, {ca.intermediate}, {ca.root}, kT0 + 1).ok());
}

// ---- refusals ----

struct Refusal {
  const char* name;
  std::function<void(CertificateTemplate&)> change;
  const char* message;
};

TEST(CertificateBuilder, RefusesTemplatesThatMakeNoSense) {
  CaPair ca = make_ca();
  const PublicKey leaf_key = key(KeyType::kEcdsaP256, 2).public_key();
  const std::vector<Refusal> cases = {
      {"validity backwards", [](auto& t) { t.not_after = t.not_before - 1; },
       "certificate template: validity ends (1699999999) before it starts (1700000000)"},
      {"CA with code-signing key usage only",
       [](auto& t) {
         t.is_ca = true;
         t.subject = {{"CN", "ca"}};
       },
       "certificate template: a CA certificate needs keyCertSign in its key usage"},
      {"CA without subject",
       [](auto& t) {
         t.is_ca = true;
         t.key_usage.cert_sign = true;
       },
       "certificate template: a CA certificate needs a subject (it names the issuer of what it signs)"},
      {"leaf with keyCertSign", [](auto& t) { t.key_usage.cert_sign = true; },
       "certificate template: keyCertSign in the key usage of a certificate that is not a CA"},
      {"leaf with path length", [](auto& t) { t.path_len = 0; },
       "certificate template: a path length on a certificate that is not a CA"},
      {"negative path length",
       [](auto& t) {
         t.is_ca = true;
         t.subject = {{"CN", "ca"}};
         t.key_usage.cert_sign = true;
         t.path_len = -1;
       },
       "certificate template: path length is negative"},
      {"leaf with neither subject nor SAN", [](auto& t) { t.subject_alt_names = {}; },
       "certificate template: a leaf certificate needs a subject or a subject alternative name"},
      {"empty key usage", [](auto& t) { t.key_usage = {}; }, "certificate template: key usage is empty"},
      {"code signing without digitalSignature",
       [](auto& t) {
         t.key_usage = {};
         t.key_usage.crl_sign = true;
       },
       "certificate template: a code-signing leaf needs digitalSignature in its key usage"},
      {"server auth without digitalSignature",
       [](auto& t) {
         t.code_signing_eku = false;
         t.server_auth_eku = true;
         t.key_usage = {};
         t.key_usage.crl_sign = true;
       },
       "certificate template: a TLS server leaf needs digitalSignature in its key usage"},
      {"no public key", [](auto& t) { t.public_key = PublicKey(); }, "certificate template: no subject public key"},
      {"zero serial", [](auto& t) { t.serial = Bytes{0, 0}; },
       "certificate template: serial number is zero; it must be positive"},
      {"21-byte serial", [](auto& t) { t.serial = Bytes(21, 1); },
       "certificate template: serial number is longer than 20 octets"},
      {"20-byte serial with the high bit set", [](auto& t) { t.serial = Bytes(20, 0x80); },
       "certificate template: serial number is longer than 20 octets"},
      {"non-ASCII email", [](auto& t) { t.subject_alt_names.emails = {"älice@example.com"}; },
       "certificate template: email subject alternative name '??lice@example.com' has a character outside "
       "printable ASCII"},
      {"URI with a newline", [](auto& t) { t.subject_alt_names.uris = {"https://a.example/\nx"}; },
       "certificate template: URI subject alternative name 'https://a.example/?x' has a character outside "
       "printable ASCII"},
      {"empty email", [](auto& t) { t.subject_alt_names.emails = {""}; },
       "certificate template: empty email subject alternative name"},
      {"invalid UTF-8 claim", [](auto& t) { t.fulcio.build_trigger = "push\xff"; },
       "certificate template: extension 1.3.6.1.4.1.57264.1.20: not valid UTF-8"},
      {"invalid UTF-8 issuer", [](auto& t) { t.fulcio.issuer = "https://\xc0\xaf"; },
       "certificate template: extension 1.3.6.1.4.1.57264.1.8: not valid UTF-8"},
      {"Fulcio claims without issuer", [](auto& t) { t.fulcio.issuer.clear(); },
       "certificate template: Fulcio extensions without an OIDC issuer"},
      {"poison and SCTs",
       [](auto& t) {
         t.ct_poison = true;
         t.sct_list = Bytes{0, 3, 0, 1, 9};
       },
       "certificate template: a precertificate (CT poison) cannot carry an SCT list"},
      {"malformed SCT list", [](auto& t) { t.sct_list = Bytes{0, 4, 0, 5, 9, 9}; },
       "certificate template: SCT list holds a malformed SCT"},
      {"SCT list length prefix", [](auto& t) { t.sct_list = Bytes{0, 9, 0, 1, 9}; },
       "certificate template: SCT list length prefix does not match its size"},
      {"extra extension repeating the SAN", [](auto& t) { t.extra_extensions = {{"2.5.29.17", false, {0x30, 0x00}}}; },
       "certificate template: extension 2.5.29.17 occurs twice"},
      {"extra extension repeating a Fulcio claim",
       [](auto& t) { t.extra_extensions = {{std::string(oid::kTokenSubject), false, {0x0c, 0x00}}}; },
       "certificate template: extension 1.3.6.1.4.1.57264.1.24 occurs twice"},
      {"extra poison", [](auto& t) { t.extra_extensions = {{std::string(kPrecertPoisonOid), true, {0x05, 0x00}}}; },
       "certificate template: extension 1.3.6.1.4.1.11129.2.4.3 is written by ct_poison or sct_list, which keep it "
       "last"},
      {"extra extension with a bad OID", [](auto& t) { t.extra_extensions = {{"codeSigning", false, {0x05, 0x00}}}; },
       "certificate template: 'codeSigning' is not a dotted OID"},
      {"unknown subject attribute", [](auto& t) { t.subject = {{"Nonsense", "x"}}; },
       "certificate template: subject: unknown attribute type 'Nonsense'"},
      {"empty subject attribute", [](auto& t) { t.subject = {{"CN", ""}}; },
       "certificate template: subject attribute CN has an empty value"},
      {"invalid UTF-8 subject", [](auto& t) { t.subject = {{"O", "a\xff"}}; },
       "certificate template: subject attribute O = 'a?' refused: "},
  };
  for (const auto& c : cases) {
    CertificateTemplate t = leaf_template(leaf_key);
    c.change(t);
    auto cert = sign_certificate(t, key(KeyType::kEcdsaP256, 1), ca.intermediate);
    ASSERT_FALSE(cert.ok()) << c.name;
    EXPECT_EQ(cert.error().code, ErrorCode::kInvalidInput) << c.name;
    EXPECT_EQ(cert.error().message.substr(0, std::string(c.message).size()), c.message) << c.name;
  }
}

TEST(CertificateBuilder, RefusesIssuersThatCannotSign) {
  CaPair ca = make_ca();
  CertificateTemplate t = leaf_template(key(KeyType::kEcdsaP256, 2).public_key());
  // The issuer key is not the intermediate's.
  auto wrong_key = sign_certificate(t, key(KeyType::kEcdsaP256), ca.intermediate);
  ASSERT_FALSE(wrong_key.ok());
  EXPECT_EQ(wrong_key.error().message,
            "certificate template: the issuer key is not the key of issuer CN=vouch-intermediate,O=vouch.test");
  // A leaf is no issuer.
  Certificate leaf = make_leaf(ca, t);
  auto from_leaf = sign_certificate(t, key(KeyType::kEcdsaP256, 2), leaf);
  ASSERT_FALSE(from_leaf.ok());
  EXPECT_EQ(from_leaf.error().message, "certificate template: the issuer certificate (empty subject) is not a CA allowed to sign certificates");
  // Self-signed means signed by the certified key.
  auto self = sign_certificate(t, key(KeyType::kEcdsaP256, 1));
  ASSERT_FALSE(self.ok());
  EXPECT_EQ(self.error().message, "certificate template: a self-signed certificate must be signed by the key it certifies");
  // A self-signed leaf with its own key is fine (its issuer name is its own empty subject).
  EXPECT_TRUE(sign_certificate(t, key(KeyType::kEcdsaP256, 2)).ok());
}

}  // namespace
}  // namespace vouch::crypto
