// The TBSCertificate an embedded SCT signs, cut out of the leaf's bytes: it must be exactly what
// OpenSSL gives when it copies the certificate, deletes the SCT list and encodes the TBS again,
// for real Fulcio certificates, for built ones, and for encodings that are not plain DER.
#include <gtest/gtest.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <iterator>

#include "sigstore_testdata.h"
#include "vouch/crypto/certificate_builder.h"
#include "vouch/crypto/sct.h"

namespace vouch::crypto {
namespace {

// What the SCT verification computed before: OpenSSL's copy, without the extension, re-encoded.
Bytes openssl_tbs_without_scts(const Certificate& cert) {
  X509* copy = X509_dup(cert.get());
  EXPECT_NE(copy, nullptr);
  int idx = X509_get_ext_by_NID(copy, NID_ct_precert_scts, -1);
  if (idx >= 0) X509_EXTENSION_free(X509_delete_ext(copy, idx));
  unsigned char* buf = nullptr;
  int len = i2d_re_X509_tbs(copy, &buf);
  EXPECT_GT(len, 0);
  Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  X509_free(copy);
  return out;
}

Certificate leaf_of_case(std::string_view name) {
  const boost::json::value doc = testdata::case_bundle(name);
  auto vm = json::Node::root(doc).get("verificationMaterial").value();
  Bytes der;
  if (auto cert = vm.find("certificate"))
    der = cert->get_bytes("rawBytes").value();
  else
    der = vm.get("x509CertificateChain").value().get("certificates").value().array().value().at(0).get_bytes("rawBytes").value();
  return Certificate::from_der(der).value();
}

TEST(PrecertificateTbs, FulcioCertificatesGiveOpenSslsEncoding) {
  VOUCH_REQUIRE_TESTDATA();
  int with_scts = 0;
  for (const char* name : {"happy-path-v0.1", "happy-path-v0.2", "happy-path-v0.3", "happy-path-intoto-in-dsse-v3",
                           "intoto-with-custom-trust-root", "rekor2-happy-path", "rekor2-dsse-happy-path"}) {
    Certificate leaf = leaf_of_case(name);
    if (!leaf.extension(kEmbeddedSctOid)) continue;
    ++with_scts;
    auto tbs = precertificate_tbs(leaf);
    ASSERT_TRUE(tbs.ok()) << name << ": " << tbs.error().message;
    EXPECT_EQ(*tbs, openssl_tbs_without_scts(leaf)) << name;
    EXPECT_LT(tbs->size(), leaf.tbs_der().size()) << name;
  }
  EXPECT_GE(with_scts, 4);
}

struct Built {
  Certificate leaf;
  Certificate intermediate;
  CtLog log;
};

// A Fulcio-like leaf with an SCT signed over the precertificate (computed by OpenSSL).
Built build_leaf(const std::vector<RawExtension>& extra) {
  const UnixSeconds now = now_unix();
  auto root_key = PrivateKey::generate(KeyType::kEcdsaP256).value();
  auto ca_key = PrivateKey::generate(KeyType::kEcdsaP256).value();
  auto leaf_key = PrivateKey::generate(KeyType::kEcdsaP256).value();
  auto log_key = PrivateKey::generate(KeyType::kEcdsaP256).value();
  auto pair = create_ca_pair(root_key, ca_key,
                             {.root_subject = {{"CN", "tbs root"}},
                              .intermediate_subject = {{"CN", "tbs intermediate"}},
                              .not_before = now - 3600,
                              .not_after = now + 3600})
                  .value();
  CertificateTemplate t;
  t.serial = Bytes{0x42};
  t.not_before = now - 60;
  t.not_after = now + 600;
  t.public_key = leaf_key.public_key();
  t.key_usage.digital_signature = true;
  t.code_signing_eku = true;
  t.subject_alt_names.emails = {"signer@vouch.test"};
  t.fulcio.issuer = "https://issuer.vouch.test";
  t.fulcio.build_signer_uri = "https://vouch.test/build";
  t.extra_extensions = extra;
  t.ct_poison = true;
  auto precert = sign_certificate(t, ca_key, pair.intermediate).value();
  auto sct = sign_sct(log_key, precert_entry(precert, pair.intermediate).value(), static_cast<uint64_t>(now - 10) * 1000)
                 .value();
  t.ct_poison = false;
  t.sct_list = serialize_sct_list({sct}).value();
  Built b{sign_certificate(t, ca_key, pair.intermediate).value(), pair.intermediate, {}};
  b.log = CtLog{sha256(log_key.public_key().der()), log_key.public_key(), now - 3600, std::nullopt};
  return b;
}

TEST(PrecertificateTbs, BuiltCertificatesVerifyAndMatch) {
  for (const auto& extra : {std::vector<RawExtension>{},
                            std::vector<RawExtension>{{"1.2.3.4.5", true, Bytes{0x05, 0x00}}},
                            std::vector<RawExtension>{{"1.2.3.4.6", false, Bytes(300, 0x04)}}}) {
    Built b = build_leaf(extra);
    auto tbs = precertificate_tbs(b.leaf);
    ASSERT_TRUE(tbs.ok()) << tbs.error().message;
    EXPECT_EQ(*tbs, openssl_tbs_without_scts(b.leaf));
    auto st = verify_embedded_scts(b.leaf, b.intermediate, {b.log});
    EXPECT_TRUE(st.ok()) << st.error().message;
  }
}

// Rewrites the DER length octets at `at` (a short-form length) in the long form 0x81 nn, and
// every enclosing definite length given by `enclosing` (offsets of 0x82 long-form lengths).
Bytes lengthen(Bytes der, size_t at, std::initializer_list<size_t> enclosing) {
  for (size_t off : enclosing) {
    EXPECT_EQ(der[off], 0x82);
    size_t len = (size_t{der[off + 1]} << 8 | der[off + 2]) + 1;
    der[off + 1] = static_cast<uint8_t>(len >> 8);
    der[off + 2] = static_cast<uint8_t>(len & 0xff);
  }
  der.insert(der.begin() + static_cast<std::ptrdiff_t>(at), 0x81);
  return der;
}

TEST(PrecertificateTbs, EncodingsThatAreNotPlainDerGiveOpenSslsEncoding) {
  VOUCH_REQUIRE_TESTDATA();
  Certificate leaf = leaf_of_case("happy-path-v0.3");
  const Bytes& der = leaf.der();
  ASSERT_EQ(der[0], 0x30);
  ASSERT_EQ(der[1], 0x82);
  ASSERT_EQ(der[4], 0x30);
  ASSERT_EQ(der[5], 0x82);

  // The empty subject (30 00) with its length in a longer form than needed (30 81 00).
  const uint8_t empty_name_then_key[] = {0x30, 0x00, 0x30, 0x59};
  auto it = std::search(der.begin(), der.end(), std::begin(empty_name_then_key), std::end(empty_name_then_key));
  ASSERT_NE(it, der.end());
  const size_t subject_length = static_cast<size_t>(it - der.begin()) + 1;
  auto long_length = Certificate::from_der(lengthen(der, subject_length, {1, 5}));
  ASSERT_TRUE(long_length.ok()) << long_length.error().message;
  auto tbs = precertificate_tbs(*long_length);
  ASSERT_TRUE(tbs.ok()) << tbs.error().message;
  EXPECT_EQ(*tbs, openssl_tbs_without_scts(*long_length));

  // A critical flag written as 0x01 rather than DER's 0xff.
  Bytes odd_boolean = der;
  const uint8_t critical_true[] = {0x01, 0x01, 0xff};
  auto flag = std::search(odd_boolean.begin(), odd_boolean.end(), std::begin(critical_true), std::end(critical_true));
  ASSERT_NE(flag, odd_boolean.end());
  flag[2] = 0x01;
  auto odd = Certificate::from_der(odd_boolean);
  ASSERT_TRUE(odd.ok()) << odd.error().message;
  tbs = precertificate_tbs(*odd);
  ASSERT_TRUE(tbs.ok()) << tbs.error().message;
  EXPECT_EQ(*tbs, openssl_tbs_without_scts(*odd));
}

TEST(PrecertificateTbs, WithoutAnSctListTheTbsIsUnchanged) {
  Built b = build_leaf({});
  auto plain = Certificate::from_der(b.intermediate.der()).value();
  auto tbs = precertificate_tbs(plain);
  ASSERT_TRUE(tbs.ok()) << tbs.error().message;
  EXPECT_EQ(*tbs, openssl_tbs_without_scts(plain));
  EXPECT_EQ(*tbs, plain.tbs_der());
}

}  // namespace
}  // namespace vouch::crypto
