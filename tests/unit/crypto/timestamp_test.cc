#include "vouch/crypto/timestamp.h"

#include <gtest/gtest.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#include <memory>
#include <random>
#include <set>

#include "sigstore_testdata.h"
#include "vouch/crypto/digest.h"
#include "vouch/crypto/keys.h"

namespace vouch::crypto {
namespace {

namespace td = vouch::testdata;

// ---------------------------------------------------------------------------------------
// Conformance cases

struct Case {
  std::vector<Bytes> timestamps;
  Bytes signature;
  std::vector<TimestampAuthority> authorities;
  boost::json::value bundle;
};

Case load_case(std::string_view name) {
  Case c;
  c.bundle = td::case_bundle(name);
  c.timestamps = td::bundle_timestamps(c.bundle);
  c.signature = td::bundle_signature(c.bundle);
  c.authorities = td::timestamp_authorities(td::case_trusted_root(name));
  return c;
}

Result<VerifiedTimestamp> verify_case(std::string_view name) {
  Case c = load_case(name);
  EXPECT_EQ(c.timestamps.size(), 1u) << name;
  if (c.timestamps.empty()) return invalid_input("no timestamp in the bundle");
  return verify_timestamp(c.timestamps[0], c.signature, c.authorities);
}

class HappyTimestamp : public ::testing::TestWithParam<const char*> {};

TEST_P(HappyTimestamp, Verifies) {
  VOUCH_REQUIRE_TESTDATA();
  auto r = verify_case(GetParam());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->authority_index, 0u);
  // genTime lies within the signing certificate's validity in every happy case.
  Case c = load_case(GetParam());
  if (td::has_certificate(c.bundle)) {
    EXPECT_TRUE(td::bundle_leaf(c.bundle).valid_at(r->time)) << format_rfc3339(r->time);
  }
}

INSTANTIATE_TEST_SUITE_P(Conformance, HappyTimestamp,
                         ::testing::Values("rekor2-happy-path", "rekor2-dsse-happy-path",
                                           "rekor2-timestamp-with-embedded-cert",
                                           "rekor2-timestamp-without-embedded-cert", "rekor2-checkpoint-cosigned",
                                           "intoto-with-custom-trust-root", "managed-key-happy-path"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& ch : n)
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

TEST(TimestampConformance, HappyPathTime) {
  VOUCH_REQUIRE_TESTDATA();
  auto r = verify_case("rekor2-happy-path");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(format_rfc3339(r->time), "2025-06-12T12:02:20Z");
}

TEST(TimestampConformance, OutsideTrustRootTsaValidity) {
  VOUCH_REQUIRE_TESTDATA();
  // The trusted root ends the TSA's validFor on 2025-06-01; the timestamp is of 2025-06-12.
  auto r = verify_case("rekor2-timestamp-outside-trust-root-tsa-validity_fail");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kVerification);
  EXPECT_EQ(r.error().message,
            "timestamp: genTime 2025-06-12T12:02:20Z outside the validity window of timestamp authority "
            "CN=sigstore-tsa-selfsigned,O=sigstore.dev in the trusted root (2025-04-09T00:00:00Z to "
            "2025-06-01T00:00:00Z)");
}

TEST(TimestampConformance, OutsideTsaCertValidity) {
  VOUCH_REQUIRE_TESTDATA();
  // The local TSA's certificate expired at 15:37:08; the timestamp was issued at 15:38:32.
  auto r = verify_case("rekor2-timestamp-outside-tsa-cert-validity_fail");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kVerification);
  EXPECT_EQ(r.error().message,
            "timestamp: genTime 2025-08-07T15:38:32Z outside the validity of TSA certificate "
            "CN=Test TSA Timestamping,O=local (2025-08-07T15:29:08Z to 2025-08-07T15:37:08Z)");
}

TEST(TimestampConformance, UntrustedTsaWithEmbeddedCert) {
  VOUCH_REQUIRE_TESTDATA();
  // FreeTSA signed it and embedded its own chain; the trusted root lists only the Sigstore TSA.
  Case c = load_case("rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail");
  auto info = parse_timestamp(c.timestamps[0]);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_FALSE(info->embedded_certificates.empty());
  auto r = verify_timestamp(c.timestamps[0], c.signature, c.authorities);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kVerification);
  EXPECT_CONTAINS(r.error().message, "timestamp: no trusted timestamp authority signed it");
  EXPECT_CONTAINS(r.error().message, "www.freetsa.org");

  // The embedded certificates do not become trusted by being offered as an authority's
  // intermediates either: trust comes only from an authority's own anchor.
  std::vector<TimestampAuthority> with_intermediates = c.authorities;
  for (auto& a : with_intermediates)
    a.chain.insert(a.chain.begin() + 1, info->embedded_certificates.begin(), info->embedded_certificates.end());
  EXPECT_FALSE(verify_timestamp(c.timestamps[0], c.signature, with_intermediates).ok());
}

TEST(TimestampConformance, WithIncorrectTimeIsAboutTheSigningCertificate) {
  VOUCH_REQUIRE_TESTDATA();
  // This case fails because genTime (2025-07-15) lies outside the *signing* certificate's
  // validity, not because of the timestamp itself: the timestamp is genuine and verifies.
  // Rejecting it is the job of the bundle verifier that checks the Fulcio certificate at the
  // verified time.
  Case c = load_case("rekor2-timestamp-with-incorrect-time_fail");
  auto r = verify_timestamp(c.timestamps[0], c.signature, c.authorities);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(format_rfc3339(r->time), "2025-07-15T10:33:31Z");
  Certificate leaf = td::bundle_leaf(c.bundle);
  EXPECT_FALSE(leaf.valid_at(r->time));
  EXPECT_LT(leaf.not_after(), r->time);
}

// Cases that fail for reasons other than the timestamp: their timestamps verify.
TEST(TimestampConformance, OtherFailingCasesHaveGoodTimestamps) {
  VOUCH_REQUIRE_TESTDATA();
  for (const char* name :
       {"rekor2-checkpoint-missing-log-signature_fail", "rekor2-checkpoint-missing-root-hash_fail",
        "rekor2-checkpoint-missing-size_fail", "rekor2-checkpoint-no-matching-signature_fail",
        "rekor2-no-inclusion-proof_fail", "rekor2-dsse-invalid-sig_fail", "rekor2-dsse-mismatch-sig_fail",
        "trust-root-tlog-missing-validity-start_fail", "rekor2-checkpoint-multiple-cosigs",
        "rekor2-checkpoint-origin-not-first", "rekor2-checkpoint-two-sigs-cosigned"}) {
    auto r = verify_case(name);
    EXPECT_TRUE(r.ok()) << name << ": " << r.error().message;
  }
}

TEST(TimestampConformance, TamperedSignatureFailsImprint) {
  VOUCH_REQUIRE_TESTDATA();
  Case c = load_case("rekor2-happy-path");
  Bytes sig = c.signature;
  sig[sig.size() / 2] ^= 0x01;
  auto r = verify_timestamp(c.timestamps[0], sig, c.authorities);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kVerification);
  EXPECT_EQ(r.error().message, "timestamp: message imprint does not match the signature (sha256)");
  // The artifact digest is not what is timestamped: the signature is.
  auto md = json::Node::root(c.bundle).get("messageSignature")->get("messageDigest")->get_bytes("digest");
  ASSERT_TRUE(md.ok());
  EXPECT_FALSE(verify_timestamp(c.timestamps[0], *md, c.authorities).ok());
}

size_t find_bytes(const Bytes& haystack, const Bytes& needle) {
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end());
  return it == haystack.end() ? std::string::npos : static_cast<size_t>(it - haystack.begin());
}

TEST(TimestampConformance, TamperedImprintFailsSignature) {
  VOUCH_REQUIRE_TESTDATA();
  Case c = load_case("rekor2-happy-path");
  Bytes der = c.timestamps[0];
  size_t at = find_bytes(der, sha256(c.signature));
  ASSERT_NE(at, std::string::npos);
  der[at] ^= 0x80;
  auto r = verify_timestamp(der, c.signature, c.authorities);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kVerification);
  EXPECT_CONTAINS(r.error().message, "timestamp: signature does not verify");
}

TEST(TimestampConformance, TamperedGenTimeFailsSignature) {
  VOUCH_REQUIRE_TESTDATA();
  Case c = load_case("rekor2-happy-path");
  Bytes der = c.timestamps[0];
  Bytes year = to_bytes("20250612");
  size_t at = find_bytes(der, year);
  ASSERT_NE(at, std::string::npos);
  der[at + 7] = '3';  // 2025-06-13
  auto info = parse_timestamp(der);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(format_rfc3339(info->time).substr(0, 10), "2025-06-13");
  auto r = verify_timestamp(der, c.signature, c.authorities);
  ASSERT_FALSE(r.ok());
  EXPECT_CONTAINS(r.error().message, "timestamp: signature does not verify");
}

TEST(TimestampConformance, WrongAuthority) {
  VOUCH_REQUIRE_TESTDATA();
  Case good = load_case("rekor2-happy-path");
  Case local = load_case("rekor2-timestamp-outside-tsa-cert-validity_fail");
  // The local test TSA is trusted, the Sigstore staging TSA is not.
  auto r = verify_timestamp(good.timestamps[0], good.signature, local.authorities);
  ASSERT_FALSE(r.ok());
  EXPECT_CONTAINS(r.error().message, "no trusted timestamp authority signed it");
  EXPECT_CONTAINS(r.error().message, "sigstore-tsa-selfsigned");
  // No authorities at all.
  r = verify_timestamp(good.timestamps[0], good.signature, {});
  ASSERT_FALSE(r.ok());
  EXPECT_CONTAINS(r.error().message, "no trusted timestamp authority signed it");
  // The right one second in the list.
  std::vector<TimestampAuthority> both = local.authorities;
  both.push_back(good.authorities[0]);
  r = verify_timestamp(good.timestamps[0], good.signature, both);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->authority_index, 1u);
}

TEST(TimestampConformance, AnchorOnlyAuthorityUsesEmbeddedLeaf) {
  VOUCH_REQUIRE_TESTDATA();
  // With only the TSA's root listed, the signing certificate must come from the token.
  Case embedded = load_case("rekor2-timestamp-with-embedded-cert");
  Case bare = load_case("rekor2-timestamp-without-embedded-cert");
  std::vector<TimestampAuthority> root_only = embedded.authorities;
  root_only[0].chain.erase(root_only[0].chain.begin());
  auto r = verify_timestamp(embedded.timestamps[0], embedded.signature, root_only);
  EXPECT_TRUE(r.ok()) << r.error().message;
  r = verify_timestamp(bare.timestamps[0], bare.signature, root_only);
  ASSERT_FALSE(r.ok());
  EXPECT_CONTAINS(r.error().message, "signature does not verify");
}

TEST(TimestampConformance, ParseInfo) {
  VOUCH_REQUIRE_TESTDATA();
  Case c = load_case("rekor2-happy-path");
  auto info = parse_timestamp(c.timestamps[0]);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->hash, HashAlgorithm::kSha256);
  EXPECT_EQ(info->imprint, sha256(c.signature));
  EXPECT_EQ(info->policy, "1.3.6.1.4.1.57264.2");
  EXPECT_EQ(info->serial, "559742C71EDAE5B645233A7AC43A8D033142A5AC");
  EXPECT_EQ(format_rfc3339(info->time), "2025-06-12T12:02:20Z");
}

// Untrusted input: every truncation and a flipped bit in every byte. Nothing crashes. Some
// flips land in unsigned parts (the status, versions, the case of the SignerInfo's issuer
// name, the signature algorithm OID that OpenSSL's PKCS#7 code does not consult, and the
// embedded certificates, which only help build the path) and still verify; whatever verifies
// still says exactly what the TSA signed.
void flip_every_byte(std::string_view name, size_t max_accepted) {
  Case c = load_case(name);
  const Bytes& der = c.timestamps[0];
  auto good = verify_timestamp(der, c.signature, c.authorities);
  ASSERT_TRUE(good.ok()) << good.error().message;
  auto info = parse_timestamp(der);
  ASSERT_TRUE(info.ok());
  for (size_t len = 0; len < der.size(); ++len) {
    auto r = verify_timestamp(ByteView(der.data(), len), c.signature, c.authorities);
    ASSERT_FALSE(r.ok()) << "truncated to " << len;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput) << len << ": " << r.error().message;
  }
  Bytes longer = der;
  longer.push_back(0);
  EXPECT_FALSE(verify_timestamp(longer, c.signature, c.authorities).ok());
  size_t accepted = 0;
  for (size_t i = 0; i < der.size(); ++i) {
    Bytes mutated = der;
    mutated[i] ^= static_cast<uint8_t>(1u << (i % 8));
    auto r = verify_timestamp(mutated, c.signature, c.authorities);
    if (!r.ok()) continue;
    ++accepted;
    auto m = parse_timestamp(mutated);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->time, info->time) << "byte " << i;
    EXPECT_EQ(m->imprint, info->imprint) << "byte " << i;
    EXPECT_EQ(m->serial, info->serial) << "byte " << i;
    EXPECT_EQ(m->policy, info->policy) << "byte " << i;
  }
  EXPECT_LE(accepted, max_accepted) << name;
}

TEST(TimestampRobustness, TruncatedAndFlipped) {
  VOUCH_REQUIRE_TESTDATA();
  flip_every_byte("rekor2-timestamp-without-embedded-cert", 20);
  flip_every_byte("rekor2-timestamp-with-embedded-cert", 600);
}

TEST(TimestampRobustness, Garbage) {
  std::mt19937 rng(7);
  for (int n = 0; n < 300; ++n) {
    Bytes junk(static_cast<size_t>(rng() % 600));
    for (auto& b : junk) b = static_cast<uint8_t>(rng());
    if (!junk.empty() && n % 2) junk[0] = 0x30;  // looks like a SEQUENCE
    auto r = verify_timestamp(junk, as_bytes("x"), {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
  }
  EXPECT_FALSE(parse_timestamp({}).ok());
  EXPECT_FALSE(parse_timestamp(Bytes{0x30, 0x80, 0x00, 0x00}).ok());
  EXPECT_FALSE(parse_timestamp(Bytes(2 << 20, 0x30)).ok());
}

TEST(TimestampRobustness, BareTokenIsNotAResponse) {
  VOUCH_REQUIRE_TESTDATA();
  // Sigstore bundles carry the TimeStampResp (protobuf-specs: "DER encoded TimeStampResponse"),
  // so a bare TimeStampToken (ContentInfo) is rejected as malformed.
  Case c = load_case("rekor2-happy-path");
  const Bytes& der = c.timestamps[0];
  // TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken ContentInfo }: the token
  // starts after the 4-byte outer header and the 5-byte status SEQUENCE.
  ASSERT_EQ(der[0], 0x30);
  ASSERT_EQ(der[4], 0x30);
  Bytes token(der.begin() + 4 + 2 + der[5], der.end());
  ASSERT_EQ(token[0], 0x30);
  auto r = verify_timestamp(token, c.signature, c.authorities);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
}

// ---------------------------------------------------------------------------------------
// A synthetic TSA (OpenSSL's TS_RESP_CTX) for what the conformance data does not cover.

struct Del {
  void operator()(X509* p) const { X509_free(p); }
  void operator()(TS_RESP_CTX* p) const { TS_RESP_CTX_free(p); }
  void operator()(TS_REQ* p) const { TS_REQ_free(p); }
  void operator()(TS_RESP* p) const { TS_RESP_free(p); }
  void operator()(TS_MSG_IMPRINT* p) const { TS_MSG_IMPRINT_free(p); }
  void operator()(X509_ALGOR* p) const { X509_ALGOR_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(ASN1_OBJECT* p) const { ASN1_OBJECT_free(p); }
  void operator()(STACK_OF(X509)* p) const { sk_X509_free(p); }
};

constexpr UnixSeconds kJan2024 = 1704067200;  // 2024-01-01T00:00:00Z
constexpr UnixSeconds kDay = 86400;

struct Issued {
  PrivateKey key;
  Certificate cert;
};

struct CertSpec {
  std::string cn = {};
  bool ca = false;
  const char* eku = "critical,timeStamping";  // nullptr: none
  UnixSeconds not_before = kJan2024;
  UnixSeconds not_after = kJan2024 + 365 * kDay;
  long serial = 1;
};

void add_ext(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, ctx, nid, value);
  ASSERT_NE(ext, nullptr) << value;
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// Issues a certificate for `key` (a fresh P-256 key when null), signed by `issuer`
// (self-signed when null).
Issued issue(const CertSpec& spec, const Issued* issuer, const PrivateKey* reuse_key = nullptr) {
  auto key = reuse_key ? Result<PrivateKey>(*reuse_key) : PrivateKey::generate(KeyType::kEcdsaP256);
  EXPECT_TRUE(key.ok());
  std::unique_ptr<X509, Del> x(X509_new());
  X509_set_version(x.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), spec.serial);
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("vouch test"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(spec.cn.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(x.get(), issuer ? X509_get_subject_name(issuer->cert.get()) : name);
  ASN1_TIME_set(X509_getm_notBefore(x.get()), static_cast<time_t>(spec.not_before));
  ASN1_TIME_set(X509_getm_notAfter(x.get()), static_cast<time_t>(spec.not_after));
  X509_set_pubkey(x.get(), key->get());
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer ? issuer->cert.get() : x.get(), x.get(), nullptr, nullptr, 0);
  add_ext(x.get(), &ctx, NID_subject_key_identifier, "hash");
  add_ext(x.get(), &ctx, NID_authority_key_identifier, "keyid:always");
  if (spec.ca) {
    add_ext(x.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(x.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(x.get(), &ctx, NID_key_usage, "critical,digitalSignature");
  }
  if (spec.eku) add_ext(x.get(), &ctx, NID_ext_key_usage, spec.eku);
  EXPECT_GT(X509_sign(x.get(), issuer ? issuer->key.get() : key->get(), EVP_sha256()), 0);
  unsigned char* buf = nullptr;
  int len = i2d_X509(x.get(), &buf);
  Bytes der(buf, buf + len);
  OPENSSL_free(buf);
  auto cert = Certificate::from_der(der);
  EXPECT_TRUE(cert.ok()) << cert.error().message;
  return {*key, *cert};
}

struct StampOptions {
  HashAlgorithm hash = HashAlgorithm::kSha256;
  UnixSeconds time = kJan2024 + 10 * kDay;
  bool embed_certs = true;
  std::vector<Certificate> extra_certs = {};  // embedded besides the signer
  const EVP_MD* ess_digest = nullptr;     // nullptr: ESSCertID (SHA-1); else ESSCertIDv2
  long micros = 0;                        // added to time; written when precision_digits > 0
  unsigned precision_digits = 0;          // digits of a second genTime carries
  int accuracy_seconds = 0, accuracy_millis = 0, accuracy_micros = 0;  // all 0: no accuracy field
  const char* policy = "1.3.6.1.4.1.57264.2";
};

int fixed_time(TS_RESP_CTX*, void* data, long* sec, long* usec) {
  const auto* opt = static_cast<const StampOptions*>(data);
  *sec = static_cast<long>(opt->time);
  *usec = opt->micros;
  return 1;
}

const EVP_MD* md_of(HashAlgorithm h) {
  switch (h) {
    case HashAlgorithm::kSha256: return EVP_sha256();
    case HashAlgorithm::kSha384: return EVP_sha384();
    case HashAlgorithm::kSha512: return EVP_sha512();
  }
  return EVP_sha256();
}

// A DER TimeStampResp from `tsa` over `data`.
Bytes stamp(const Issued& tsa, ByteView data, StampOptions opt = {}) {
  Bytes imprint = digest(opt.hash, data);
  std::unique_ptr<TS_MSG_IMPRINT, Del> mi(TS_MSG_IMPRINT_new());
  std::unique_ptr<X509_ALGOR, Del> algo(X509_ALGOR_new());
  X509_ALGOR_set_md(algo.get(), md_of(opt.hash));
  TS_MSG_IMPRINT_set_algo(mi.get(), algo.get());
  TS_MSG_IMPRINT_set_msg(mi.get(), imprint.data(), static_cast<int>(imprint.size()));
  std::unique_ptr<TS_REQ, Del> req(TS_REQ_new());
  TS_REQ_set_version(req.get(), 1);
  TS_REQ_set_msg_imprint(req.get(), mi.get());
  TS_REQ_set_cert_req(req.get(), opt.embed_certs ? 1 : 0);
  std::unique_ptr<BIO, Del> req_bio(BIO_new(BIO_s_mem()));
  i2d_TS_REQ_bio(req_bio.get(), req.get());

  std::unique_ptr<TS_RESP_CTX, Del> ctx(TS_RESP_CTX_new());
  TS_RESP_CTX_set_signer_cert(ctx.get(), tsa.cert.get());
  TS_RESP_CTX_set_signer_key(ctx.get(), tsa.key.get());
  TS_RESP_CTX_set_signer_digest(ctx.get(), EVP_sha256());
  std::unique_ptr<ASN1_OBJECT, Del> policy(OBJ_txt2obj(opt.policy, 1));
  TS_RESP_CTX_set_def_policy(ctx.get(), policy.get());
  TS_RESP_CTX_set_accuracy(ctx.get(), opt.accuracy_seconds, opt.accuracy_millis, opt.accuracy_micros);
  TS_RESP_CTX_set_clock_precision_digits(ctx.get(), opt.precision_digits);
  for (auto h : {HashAlgorithm::kSha256, HashAlgorithm::kSha384, HashAlgorithm::kSha512})
    TS_RESP_CTX_add_md(ctx.get(), md_of(h));
  if (opt.ess_digest) TS_RESP_CTX_set_ess_cert_id_digest(ctx.get(), opt.ess_digest);
  if (!opt.extra_certs.empty()) {
    std::unique_ptr<STACK_OF(X509), Del> extra(sk_X509_new_null());
    for (const auto& c : opt.extra_certs) sk_X509_push(extra.get(), c.get());
    TS_RESP_CTX_set_certs(ctx.get(), extra.get());
  }
  TS_RESP_CTX_set_time_cb(ctx.get(), fixed_time, &opt);
  std::unique_ptr<TS_RESP, Del> resp(TS_RESP_create_response(ctx.get(), req_bio.get()));
  EXPECT_NE(resp, nullptr);
  if (!resp) return {};
  unsigned char* buf = nullptr;
  int len = i2d_TS_RESP(resp.get(), &buf);
  Bytes der(buf, buf + len);
  OPENSSL_free(buf);
  return der;
}

class SyntheticTsa : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = issue({.cn = "Test TSA Root", .ca = true, .eku = nullptr, .not_after = kJan2024 + 3650 * kDay}, nullptr);
    leaf_ = issue({.cn = "Test TSA", .serial = 2}, &root_);
  }
  TimestampAuthority authority() const { return {{leaf_.cert, root_.cert}, kJan2024, std::nullopt}; }

  Issued root_, leaf_;
  const Bytes sig_ = to_bytes("the signature bytes");
};

TEST_F(SyntheticTsa, GenTimeFractionAndAccuracyAreRead) {
  // genTime with milliseconds, accuracy of 1 s 250 ms 7 µs.
  Bytes der = stamp(leaf_, sig_, {.micros = 456789, .precision_digits = 3, .accuracy_seconds = 1,
                                  .accuracy_millis = 250, .accuracy_micros = 7});
  auto r = verify_timestamp(der, sig_, {authority()});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->time, kJan2024 + 10 * kDay);
  EXPECT_EQ(r->time_micros, (kJan2024 + 10 * kDay) * 1000000 + 456000);
  EXPECT_EQ(r->accuracy_micros, 1250007);
  EXPECT_EQ(r->policy, "1.3.6.1.4.1.57264.2");
  auto info = parse_timestamp(der);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->time_micros, r->time_micros);
  EXPECT_EQ(info->accuracy_micros, 1250007);
  // Whole seconds and no accuracy field.
  der = stamp(leaf_, sig_, {.policy = "0.4.0.2023.1.1"});
  r = verify_timestamp(der, sig_, {authority()});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->time_micros, (kJan2024 + 10 * kDay) * 1000000);
  EXPECT_EQ(r->accuracy_micros, 0);
  EXPECT_EQ(r->policy, "0.4.0.2023.1.1");
}

TEST_F(SyntheticTsa, AllImprintHashes) {
  for (auto h : {HashAlgorithm::kSha256, HashAlgorithm::kSha384, HashAlgorithm::kSha512}) {
    Bytes der = stamp(leaf_, sig_, {.hash = h});
    auto r = verify_timestamp(der, sig_, {authority()});
    ASSERT_TRUE(r.ok()) << hash_name(h) << ": " << r.error().message;
    EXPECT_EQ(r->time, kJan2024 + 10 * kDay);
    EXPECT_EQ(parse_timestamp(der)->hash, h);
    auto bad = verify_timestamp(der, to_bytes("other"), {authority()});
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().message,
              fmt::format("timestamp: message imprint does not match the signature ({})", hash_name(h)));
  }
}

TEST_F(SyntheticTsa, EssCertIdV1AndV2WithAndWithoutEmbeddedCert) {
  for (const EVP_MD* ess : {static_cast<const EVP_MD*>(nullptr), EVP_sha256(), EVP_sha512()}) {
    for (bool embed : {true, false}) {
      auto r = verify_timestamp(stamp(leaf_, sig_, {.embed_certs = embed, .ess_digest = ess}), sig_, {authority()});
      EXPECT_TRUE(r.ok()) << r.error().message;
    }
  }
}

TEST_F(SyntheticTsa, GenTimeOutsideCertificateAndWindow) {
  auto before = verify_timestamp(stamp(leaf_, sig_, {.time = kJan2024 - 1}), sig_, {authority()});
  ASSERT_FALSE(before.ok());
  EXPECT_EQ(before.error().message,
            "timestamp: genTime 2023-12-31T23:59:59Z outside the validity of TSA certificate "
            "CN=Test TSA,O=vouch test (2024-01-01T00:00:00Z to 2024-12-31T00:00:00Z)");
  // The validFor window is a closed interval.
  TimestampAuthority a = authority();
  a.valid_start = kJan2024 + 10 * kDay;
  a.valid_end = kJan2024 + 20 * kDay;
  for (UnixSeconds t : {a.valid_start, *a.valid_end})
    EXPECT_TRUE(verify_timestamp(stamp(leaf_, sig_, {.time = t}), sig_, {a}).ok());
  for (UnixSeconds t : {a.valid_start - 1, *a.valid_end + 1}) {
    auto r = verify_timestamp(stamp(leaf_, sig_, {.time = t}), sig_, {a});
    ASSERT_FALSE(r.ok());
    EXPECT_CONTAINS(r.error().message, "outside the validity window of timestamp authority CN=Test TSA Root");
  }
}

TEST_F(SyntheticTsa, ExpiredIntermediateAtGenTime) {
  Issued mid = issue({.cn = "Test TSA Intermediate", .ca = true, .eku = nullptr, .not_after = kJan2024 + 5 * kDay,
                      .serial = 3},
                     &root_);
  Issued leaf = issue({.cn = "Test TSA 2", .serial = 4}, &mid);
  TimestampAuthority a{{leaf.cert, mid.cert, root_.cert}, kJan2024, std::nullopt};
  EXPECT_TRUE(verify_timestamp(stamp(leaf, sig_, {.time = kJan2024 + 4 * kDay}), sig_, {a}).ok());
  auto r = verify_timestamp(stamp(leaf, sig_, {.time = kJan2024 + 6 * kDay}), sig_, {a});
  ASSERT_FALSE(r.ok());
  EXPECT_CONTAINS(r.error().message, "timestamp: TSA certificate chain at genTime");
  EXPECT_CONTAINS(r.error().message, "certificate has expired");
}

// The TimeStampResp `der` with its embedded certificates replaced by `certs` (they are not
// signed, so the signature still verifies).
Bytes replace_embedded(const Bytes& der, const std::vector<Certificate>& certs) {
  const unsigned char* p = der.data();
  std::unique_ptr<TS_RESP, Del> resp(d2i_TS_RESP(nullptr, &p, static_cast<long>(der.size())));
  EXPECT_NE(resp, nullptr);
  if (!resp) return {};
  PKCS7* token = TS_RESP_get_token(resp.get());
  sk_X509_pop_free(token->d.sign->cert, X509_free);
  token->d.sign->cert = sk_X509_new_null();
  for (const auto& c : certs) sk_X509_push(token->d.sign->cert, X509_dup(c.get()));
  unsigned char* buf = nullptr;
  int len = i2d_TS_RESP(resp.get(), &buf);
  Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

// OpenSSL's TSA refuses to sign with a certificate of the wrong kind, so these tokens are
// signed by the good leaf and then attributed to a twin: same key, issuer and serial number,
// different extensions.
TEST_F(SyntheticTsa, LeafMustHaveOnlyCriticalTimeStampingEku) {
  const Bytes der = stamp(leaf_, sig_);
  ASSERT_TRUE(verify_timestamp(replace_embedded(der, {leaf_.cert}), sig_, {authority()}).ok());
  TimestampAuthority anchor_only{{root_.cert}, kJan2024, std::nullopt};
  ASSERT_TRUE(verify_timestamp(replace_embedded(der, {leaf_.cert}), sig_, {anchor_only}).ok());
  for (const char* eku : {"critical,codeSigning", "timeStamping", "critical,timeStamping,codeSigning", "none"}) {
    Issued twin = issue({.cn = "Test TSA", .eku = std::string_view(eku) == "none" ? nullptr : eku, .serial = 2},
                        &root_, &leaf_.key);
    TimestampAuthority pinned{{twin.cert, root_.cert}, kJan2024, std::nullopt};
    auto r = verify_timestamp(der, sig_, {pinned});
    ASSERT_FALSE(r.ok()) << eku;
    EXPECT_CONTAINS(r.error().message,
                    "TSA certificate CN=Test TSA,O=vouch test must have exactly one extended key usage, "
                    "timeStamping, marked critical");
    // Also when the signing certificate comes embedded in the token.
    r = verify_timestamp(replace_embedded(der, {twin.cert}), sig_, {anchor_only});
    EXPECT_FALSE(r.ok()) << eku;
  }
}

TEST_F(SyntheticTsa, CaCannotSignTimestamps) {
  const Bytes der = stamp(leaf_, sig_);
  Issued ca_twin = issue({.cn = "Test TSA", .ca = true, .serial = 2}, &root_, &leaf_.key);
  TimestampAuthority anchor_only{{root_.cert}, kJan2024, std::nullopt};
  EXPECT_FALSE(verify_timestamp(replace_embedded(der, {ca_twin.cert}), sig_, {anchor_only}).ok());
  // A chain whose first certificate is a CA pins no leaf: the token's own signer must chain.
  TimestampAuthority ca_first{{ca_twin.cert, root_.cert}, kJan2024, std::nullopt};
  EXPECT_FALSE(verify_timestamp(replace_embedded(der, {ca_twin.cert}), sig_, {ca_first}).ok());
}

TEST_F(SyntheticTsa, PinnedLeafIsTheOnlyAcceptedSigner) {
  // Another timestamping certificate from the same root is not the authority's TSA.
  Issued other = issue({.cn = "Other TSA", .serial = 7}, &root_);
  auto r = verify_timestamp(stamp(other, sig_), sig_, {authority()});
  ASSERT_FALSE(r.ok());
  EXPECT_CONTAINS(r.error().message, "no trusted timestamp authority signed it");
  // With only the root trusted, it is accepted: it chains to the anchor.
  TimestampAuthority anchor_only{{root_.cert}, kJan2024, std::nullopt};
  EXPECT_TRUE(verify_timestamp(stamp(other, sig_), sig_, {anchor_only}).ok());
}

TEST_F(SyntheticTsa, EmbeddedImpostorIsNotTrusted) {
  // A self-made certificate with the trusted TSA's issuer name and serial number, embedded in
  // the token and signing it: the pinned certificate's key is used, so the signature fails.
  Issued fake_root = issue({.cn = "Test TSA Root", .ca = true, .eku = nullptr}, nullptr);
  Issued impostor = issue({.cn = "Test TSA", .serial = 2}, &fake_root);
  Bytes der = stamp(impostor, sig_, {.extra_certs = {fake_root.cert}});
  auto r = verify_timestamp(der, sig_, {authority()});
  ASSERT_FALSE(r.ok());
  EXPECT_CONTAINS(r.error().message, "timestamp: signature does not verify");
  TimestampAuthority anchor_only{{root_.cert}, kJan2024, std::nullopt};
  EXPECT_FALSE(verify_timestamp(der, sig_, {anchor_only}).ok());
}

TEST_F(SyntheticTsa, RejectedResponse) {
  // A request the TSA refuses (SHA-1 imprint, not among its accepted digests) yields a
  // response with status rejection and no token.
  Bytes imprint(20, 0xab);
  std::unique_ptr<TS_MSG_IMPRINT, Del> mi(TS_MSG_IMPRINT_new());
  std::unique_ptr<X509_ALGOR, Del> algo(X509_ALGOR_new());
  X509_ALGOR_set_md(algo.get(), EVP_sha1());
  TS_MSG_IMPRINT_set_algo(mi.get(), algo.get());
  TS_MSG_IMPRINT_set_msg(mi.get(), imprint.data(), static_cast<int>(imprint.size()));
  std::unique_ptr<TS_REQ, Del> req(TS_REQ_new());
  TS_REQ_set_version(req.get(), 1);
  TS_REQ_set_msg_imprint(req.get(), mi.get());
  std::unique_ptr<BIO, Del> req_bio(BIO_new(BIO_s_mem()));
  i2d_TS_REQ_bio(req_bio.get(), req.get());
  std::unique_ptr<TS_RESP_CTX, Del> ctx(TS_RESP_CTX_new());
  TS_RESP_CTX_set_signer_cert(ctx.get(), leaf_.cert.get());
  TS_RESP_CTX_set_signer_key(ctx.get(), leaf_.key.get());
  std::unique_ptr<ASN1_OBJECT, Del> policy(OBJ_txt2obj("1.2.3.4", 1));
  TS_RESP_CTX_set_def_policy(ctx.get(), policy.get());
  TS_RESP_CTX_add_md(ctx.get(), EVP_sha256());
  std::unique_ptr<TS_RESP, Del> resp(TS_RESP_create_response(ctx.get(), req_bio.get()));
  ASSERT_NE(resp, nullptr);
  unsigned char* buf = nullptr;
  int len = i2d_TS_RESP(resp.get(), &buf);
  Bytes der(buf, buf + len);
  OPENSSL_free(buf);
  auto r = verify_timestamp(der, sig_, {authority()});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
  EXPECT_CONTAINS(r.error().message, "the TSA did not grant it (PKIStatus 2)");
}

}  // namespace
}  // namespace vouch::crypto

namespace vouch::crypto {
namespace {

// The authority side: requests built by timestamp_request, answered by sign_timestamp, verify
// with verify_timestamp and are matched to their request by check_timestamp_answers.
class SigningTsa : public ::testing::Test {
 protected:
  void SetUp() override {
    const UnixSeconds now = now_unix();
    root_ = issue({.cn = "Signing TSA Root", .ca = true, .eku = nullptr, .not_before = now - kDay, .not_after = now + kDay},
                  nullptr);
    leaf_ = issue({.cn = "Signing TSA", .not_before = now - kDay, .not_after = now + kDay, .serial = 2}, &root_);
  }
  TimestampAuthority authority() const { return {{leaf_.cert, root_.cert}, now_unix() - kDay, std::nullopt}; }
  Result<Bytes> answer(ByteView request) const {
    return sign_timestamp(request, leaf_.key, {leaf_.cert, root_.cert}, TimestampSigningOptions{});
  }

  Issued root_, leaf_;
  const Bytes sig_ = to_bytes("a signature to timestamp");
};

TEST_F(SigningTsa, AnswersWhatItIsAskedAndVerifies) {
  for (auto h : {HashAlgorithm::kSha256, HashAlgorithm::kSha384, HashAlgorithm::kSha512}) {
    auto request = timestamp_request(sig_, h, true, Bytes{0x01, 0x02, 0x03});
    ASSERT_TRUE(request.ok()) << request.error().message;
    auto reply = answer(*request);
    ASSERT_TRUE(reply.ok()) << reply.error().message;
    EXPECT_TRUE(check_timestamp_answers(*reply, *request).ok());
    auto verified = verify_timestamp(*reply, sig_, {authority()});
    ASSERT_TRUE(verified.ok()) << hash_name(h) << ": " << verified.error().message;
    EXPECT_LE(std::abs(verified->time - now_unix()), 5);
    auto info = parse_timestamp(*reply);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->policy, "1.3.6.1.4.1.57264.2");
    EXPECT_EQ(info->hash, h);
    EXPECT_EQ(info->embedded_certificates.size(), 2u);
  }
}

TEST_F(SigningTsa, AReplyToAnotherRequestIsNotAnAnswer) {
  auto asked = timestamp_request(sig_, HashAlgorithm::kSha256, true, Bytes{0x07});
  auto other_nonce = timestamp_request(sig_, HashAlgorithm::kSha256, true, Bytes{0x08});
  auto other_data = timestamp_request(to_bytes("other"), HashAlgorithm::kSha256, true, Bytes{0x07});
  auto reply = answer(*other_nonce);
  ASSERT_TRUE(reply.ok());
  auto r = check_timestamp_answers(*reply, *asked);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "timestamp response: nonce differs from the request's");
  reply = answer(*other_data);
  r = check_timestamp_answers(*reply, *asked);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "timestamp response: message imprint differs from the request's");
  // Without certReq the chain is not embedded, and the pinned leaf still verifies it.
  auto bare = timestamp_request(sig_, HashAlgorithm::kSha256, false);
  reply = answer(*bare);
  ASSERT_TRUE(reply.ok());
  EXPECT_TRUE(parse_timestamp(*reply)->embedded_certificates.empty());
  EXPECT_TRUE(verify_timestamp(*reply, sig_, {authority()}).ok());
}

TEST_F(SigningTsa, RefusesMalformedRequestsAndOtherHashes) {
  EXPECT_FALSE(answer(to_bytes("not DER")).ok());
  auto request = timestamp_request(sig_, HashAlgorithm::kSha256);
  Bytes truncated(request->begin(), request->end() - 3);
  EXPECT_FALSE(answer(truncated).ok());
  // A request whose imprint names SHA-1 is refused rather than answered.
  std::unique_ptr<TS_REQ, Del> req(TS_REQ_new());
  std::unique_ptr<TS_MSG_IMPRINT, Del> imprint(TS_MSG_IMPRINT_new());
  std::unique_ptr<X509_ALGOR, Del> algo(X509_ALGOR_new());
  unsigned char sha1[20] = {};
  X509_ALGOR_set0(algo.get(), OBJ_nid2obj(NID_sha1), V_ASN1_NULL, nullptr);
  TS_MSG_IMPRINT_set_algo(imprint.get(), algo.get());
  TS_MSG_IMPRINT_set_msg(imprint.get(), sha1, sizeof sha1);
  TS_REQ_set_version(req.get(), 1);
  TS_REQ_set_msg_imprint(req.get(), imprint.get());
  unsigned char* buf = nullptr;
  int len = i2d_TS_REQ(req.get(), &buf);
  Bytes der(buf, buf + len);
  OPENSSL_free(buf);
  auto refused = answer(der);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidInput);
}

}  // namespace
}  // namespace vouch::crypto
