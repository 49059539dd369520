#include "vouch/crypto/sct.h"

#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include <memory>
#include <random>

#include "sigstore_testdata.h"
#include "vouch/crypto/digest.h"

namespace vouch::crypto {
namespace {

namespace td = vouch::testdata;

struct Fixture {
  Certificate leaf;
  Certificate issuer;
  std::vector<CtLog> logs;
};

// The leaf of a conformance bundle, its issuer (the first certificate of the trusted root's
// CA chain whose subject issued it) and the trusted root's CT logs.
Fixture load(std::string_view name) {
  Fixture f;
  auto bundle = td::case_bundle(name);
  auto root = td::case_trusted_root(name);
  f.leaf = td::bundle_leaf(bundle);
  f.logs = td::ct_logs(root);
  bool found = false;
  for (const auto& chain : td::fulcio_chains(root)) {
    if (!chain.empty() && chain.front().subject() == f.leaf.issuer()) {
      f.issuer = chain.front();
      found = true;
      break;
    }
  }
  EXPECT_TRUE(found) << name << ": no CA in the trusted root issued " << f.leaf.issuer();
  return f;
}

// DER of `x`, re-encoding its TBSCertificate after changes (OpenSSL caches the encoding).
Bytes cert_der(X509* x) {
  i2d_re_X509_tbs(x, nullptr);
  unsigned char* buf = nullptr;
  int len = i2d_X509(x, &buf);
  Bytes der(buf, buf + len);
  OPENSSL_free(buf);
  return der;
}

class HappySct : public ::testing::TestWithParam<const char*> {};

TEST_P(HappySct, Verifies) {
  VOUCH_REQUIRE_TESTDATA();
  Fixture f = load(GetParam());
  ASSERT_FALSE(f.logs.empty());
  auto s = verify_embedded_scts(f.leaf, f.issuer, f.logs);
  EXPECT_TRUE(s.ok()) << s.error().message;
  // One SCT, so one log: a threshold of two cannot be met.
  auto scts = embedded_scts(f.leaf);
  ASSERT_TRUE(scts.ok()) << scts.error().message;
  ASSERT_EQ(scts->size(), 1u);
  auto two = verify_embedded_scts(f.leaf, f.issuer, f.logs, 2);
  ASSERT_FALSE(two.ok());
  EXPECT_EQ(two.error().message, "SCTs from 1 distinct trusted CT logs verify, 2 required");
}

INSTANTIATE_TEST_SUITE_P(Conformance, HappySct,
                         ::testing::Values("happy-path-v0.1", "happy-path-v0.2", "happy-path-v0.3",
                                           "happy-path-intoto-in-dsse-v3", "rekor2-happy-path",
                                           "intoto-with-custom-trust-root"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& ch : n)
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

TEST(Sct, EmbeddedSctOfV03) {
  VOUCH_REQUIRE_TESTDATA();
  Fixture f = load("happy-path-v0.3");
  auto scts = embedded_scts(f.leaf);
  ASSERT_TRUE(scts.ok()) << scts.error().message;
  ASSERT_EQ(scts->size(), 1u);
  // The production 2022 log, at 2024-03-19T17:26:26.470Z.
  EXPECT_EQ(base64_encode((*scts)[0].log_id), "3T0wasbHETJjGR4cmWc3AqJKXrjePK3/h4pygC8p7o4=");
  EXPECT_EQ((*scts)[0].timestamp_ms, 1710869186470);
  EXPECT_EQ(f.leaf.extension(kEmbeddedSctOid).has_value(), true);
}

TEST(Sct, NoCtLogs) {
  VOUCH_REQUIRE_TESTDATA();
  Fixture f = load("happy-path-v0.3");
  auto s = verify_embedded_scts(f.leaf, f.issuer, {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kVerification);
  EXPECT_EQ(s.error().message,
            "no SCT verifies against a trusted CT log (log id 3T0wasbHETJjGR4cmWc3AqJKXrjePK3/h4pygC8p7o4= unknown)");
}

TEST(Sct, OnlyTheOtherLog) {
  VOUCH_REQUIRE_TESTDATA();
  Fixture f = load("happy-path-v0.3");
  std::vector<CtLog> other;
  for (const auto& l : f.logs)
    if (base64_encode(l.log_id) != "3T0wasbHETJjGR4cmWc3AqJKXrjePK3/h4pygC8p7o4=") other.push_back(l);
  ASSERT_EQ(other.size(), f.logs.size() - 1);
  auto s = verify_embedded_scts(f.leaf, f.issuer, other);
  ASSERT_FALSE(s.ok());
  EXPECT_CONTAINS(s.error().message, "unknown");
  // The right id with the wrong key: the key does not hash to the id, so it is not used.
  std::vector<CtLog> wrong_key = f.logs;
  for (auto& l : wrong_key)
    if (base64_encode(l.log_id) == "3T0wasbHETJjGR4cmWc3AqJKXrjePK3/h4pygC8p7o4=") l.key = other.front().key;
  s = verify_embedded_scts(f.leaf, f.issuer, wrong_key);
  ASSERT_FALSE(s.ok());
  EXPECT_CONTAINS(s.error().message, "is not the SHA-256 of the log's public key");
}

TEST(Sct, OutsideLogValidity) {
  VOUCH_REQUIRE_TESTDATA();
  Fixture f = load("happy-path-v0.3");
  std::vector<CtLog> logs = f.logs;
  for (auto& l : logs) l.valid_end = *parse_rfc3339("2024-03-19T17:26:25Z");
  auto s = verify_embedded_scts(f.leaf, f.issuer, logs);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "no SCT verifies against a trusted CT log (SCT time 2024-03-19T17:26:26Z outside the validity of CT log "
            "3T0wasbHETJjGR4cmWc3AqJKXrjePK3/h4pygC8p7o4= (2022-10-20T00:00:00Z to 2024-03-19T17:26:25Z))");
  // The window is closed: ending in the SCT's second still contains it.
  for (auto& l : logs) l.valid_end = *parse_rfc3339("2024-03-19T17:26:26Z");
  EXPECT_TRUE(verify_embedded_scts(f.leaf, f.issuer, logs).ok());
  for (auto& l : logs) {
    l.valid_end.reset();
    l.valid_start = *parse_rfc3339("2024-03-19T17:26:27Z");
  }
  EXPECT_FALSE(verify_embedded_scts(f.leaf, f.issuer, logs).ok());
}

TEST(Sct, WrongIssuer) {
  VOUCH_REQUIRE_TESTDATA();
  Fixture f = load("happy-path-v0.3");
  auto root = td::load_json(td::production_trusted_root());
  auto chains = td::fulcio_chains(root);
  // The root CA did not issue the leaf (the intermediate did).
  Certificate sigstore_root = chains.back().back();
  auto s = verify_embedded_scts(f.leaf, sigstore_root, f.logs);
  ASSERT_FALSE(s.ok());
  EXPECT_CONTAINS(s.error().message, "is not the issuer of the certificate");
  // A certificate with the issuer's name but another key: the issuer_key_hash differs.
  Fixture other = load("intoto-with-custom-trust-root");
  X509* forged = X509_dup(f.issuer.get());
  X509_set_pubkey(forged, other.issuer.public_key().get());
  // (Its subject key identifier extension is kept, so it still looks like the issuer.)
  auto forged_cert = Certificate::from_der(cert_der(forged));
  X509_free(forged);
  ASSERT_TRUE(forged_cert.ok()) << forged_cert.error().message;
  s = verify_embedded_scts(f.leaf, *forged_cert, f.logs);
  ASSERT_FALSE(s.ok());
  EXPECT_CONTAINS(s.error().message, "signature of the SCT from log 3T0wasbHETJjGR4cmWc3AqJKXrjePK3/h4pygC8p7o4= "
                                     "does not verify");
}

// Changes one character of a string inside the TBSCertificate (so the DER stays well formed).
Certificate tamper(const Certificate& cert, std::string_view inside) {
  Bytes der = cert.der();
  auto it = std::search(der.begin(), der.end(), inside.begin(), inside.end());
  EXPECT_NE(it, der.end()) << inside;
  if (it != der.end()) *it ^= 0x01;
  auto c = Certificate::from_der(der);
  EXPECT_TRUE(c.ok()) << c.error().message;
  return c.ok() ? *c : cert;
}

TEST(Sct, TamperedCertificate) {
  VOUCH_REQUIRE_TESTDATA();
  Fixture f = load("happy-path-v0.3");
  // The SAN URI: the SCT signs the precertificate, which includes it.
  Certificate tampered = tamper(f.leaf, "sigstore-conformance");
  auto s = verify_embedded_scts(tampered, f.issuer, f.logs);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "no SCT verifies against a trusted CT log (signature of the SCT from log "
            "3T0wasbHETJjGR4cmWc3AqJKXrjePK3/h4pygC8p7o4= does not verify)");
  // The SCT's own signature.
  auto ext = f.leaf.extension(kEmbeddedSctOid);
  ASSERT_TRUE(ext.has_value());
  Bytes der = f.leaf.der();
  auto at = std::search(der.begin(), der.end(), ext->begin(), ext->end());
  ASSERT_NE(at, der.end());
  *(at + static_cast<long>(ext->size()) - 5) ^= 0x10;  // inside the ECDSA signature
  auto bad_sig = Certificate::from_der(der);
  ASSERT_TRUE(bad_sig.ok());
  EXPECT_FALSE(verify_embedded_scts(*bad_sig, f.issuer, f.logs).ok());
  // The SCT's timestamp.
  der = f.leaf.der();
  at = std::search(der.begin(), der.end(), ext->begin(), ext->end());
  ASSERT_EQ((*ext)[0], 0x04);
  ASSERT_LT((*ext)[1], 0x80);
  // SignedCertificateTimestampList: 2 OCTET STRING header + 2 list length + 2 SCT length +
  // 1 version + 32 log id, then the 8-byte timestamp.
  *(at + 2 + 2 + 2 + 1 + 32 + 7) ^= 0x01;
  auto bad_time = Certificate::from_der(der);
  ASSERT_TRUE(bad_time.ok());
  EXPECT_FALSE(verify_embedded_scts(*bad_time, f.issuer, f.logs).ok());
}

TEST(Sct, NoEmbeddedSct) {
  VOUCH_REQUIRE_TESTDATA();
  Fixture f = load("happy-path-v0.3");
  // The intermediate CA has no SCT extension.
  auto root = td::load_json(td::production_trusted_root());
  auto s = verify_embedded_scts(f.issuer, td::fulcio_chains(root).back().back(), f.logs);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kVerification);
  EXPECT_EQ(s.error().message, "certificate has no embedded SCT");
  EXPECT_FALSE(embedded_scts(f.issuer).ok());
  // Threshold 0 asks for nothing.
  EXPECT_TRUE(verify_embedded_scts(f.issuer, f.issuer, f.logs, 0).ok());
}

// Replaces the contents of the leaf's SCT extension (the OCTET STRING wrapping the list).
Certificate with_sct_extension(const Certificate& cert, const Bytes& contents) {
  X509* x = X509_dup(cert.get());
  int idx = X509_get_ext_by_NID(x, NID_ct_precert_scts, -1);
  EXPECT_GE(idx, 0);
  X509_EXTENSION* old = X509_delete_ext(x, idx);
  X509_EXTENSION_free(old);
  ASN1_OCTET_STRING* data = ASN1_OCTET_STRING_new();
  ASN1_OCTET_STRING_set(data, contents.data(), static_cast<int>(contents.size()));
  X509_EXTENSION* ext = X509_EXTENSION_create_by_NID(nullptr, NID_ct_precert_scts, 0, data);
  ASN1_OCTET_STRING_free(data);
  X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  Bytes der = cert_der(x);
  X509_free(x);
  auto c = Certificate::from_der(der);
  EXPECT_TRUE(c.ok()) << c.error().message;
  return c.ok() ? *c : cert;
}

TEST(Sct, MalformedSctList) {
  VOUCH_REQUIRE_TESTDATA();
  Fixture f = load("happy-path-v0.3");
  const Bytes ext = *f.leaf.extension(kEmbeddedSctOid);
  // Every truncation of the extension's contents, and random garbage: no crash, no success.
  for (size_t len = 0; len < ext.size(); ++len) {
    Certificate c = with_sct_extension(f.leaf, Bytes(ext.begin(), ext.begin() + static_cast<long>(len)));
    auto s = verify_embedded_scts(c, f.issuer, f.logs);
    ASSERT_FALSE(s.ok()) << len;
  }
  std::mt19937 rng(11);
  for (int n = 0; n < 100; ++n) {
    Bytes junk(rng() % 200);
    for (auto& b : junk) b = static_cast<uint8_t>(rng());
    if (junk.size() > 4 && n % 2) {
      junk[0] = 0x04;  // an OCTET STRING holding a plausibly sized list
      junk[1] = static_cast<uint8_t>(junk.size() - 2);
    }
    EXPECT_FALSE(verify_embedded_scts(with_sct_extension(f.leaf, junk), f.issuer, f.logs).ok());
  }
  // The unchanged contents put back still verify (the rewrite itself is sound).
  EXPECT_TRUE(verify_embedded_scts(with_sct_extension(f.leaf, ext), f.issuer, f.logs).ok());
  auto malformed = verify_embedded_scts(with_sct_extension(f.leaf, Bytes{0x04, 0x01, 0x00}), f.issuer, f.logs);
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.error().code, ErrorCode::kInvalidInput);
}

}  // namespace
}  // namespace vouch::crypto
