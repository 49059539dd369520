// Authentic timestamps under notary.x509: the signature was made somewhere in genTime ± the
// timestamp's accuracy, and every certificate of the signing chain must have been valid over all
// of it (notation-go with tspclient-go); a token under RFC 3628's baseline policy without an
// accuracy counts as accurate to one second. Timestamps come from a TSA with a fixed clock.
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/objects.h>
#include <openssl/ts.h>

#include "notation_pki.h"
#include "vouch/crypto/timestamp.h"
#include "vouch/notation/envelope.h"
#include "vouch/notation/trust_policy.h"
#include "vouch/notation/verifier.h"

namespace vouch::notation {
namespace {

constexpr UnixSeconds kNotBefore = 1704067200;    // 2024-01-01T00:00:00Z, the signing leaf's
constexpr UnixSeconds kNotAfter = kNotBefore + 3600;

// What the TSA's clock says and how it describes its own accuracy.
struct Clock {
  UnixSeconds seconds = kNotBefore + 60;
  long micros = 0;
  unsigned precision_digits = 0;  // digits of a second written into genTime
  int accuracy_seconds = 0, accuracy_millis = 0, accuracy_micros = 0;  // all 0: no accuracy field
  const char* policy = "1.2.3.4.1";
};

int clock_time(TS_RESP_CTX*, void* data, long* sec, long* usec) {
  const auto* clock = static_cast<const Clock*>(data);
  *sec = static_cast<long>(clock->seconds);
  *usec = clock->micros;
  return 1;
}

struct Del {
  void operator()(TS_RESP_CTX* p) const { TS_RESP_CTX_free(p); }
  void operator()(TS_RESP* p) const { TS_RESP_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(ASN1_OBJECT* p) const { ASN1_OBJECT_free(p); }
  void operator()(STACK_OF(X509)* p) const { sk_X509_free(p); }
};

class NotationTimestampAccuracy : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = testing::make_root("Test Root", kNotBefore);
    leaf_ = testing::make_leaf(pki_, key(), "signer", kNotBefore, kNotAfter);
    tsa_root_key_ = crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256).value();
    tsa_key_ = crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256).value();
    crypto::CertificateTemplate root;
    root.subject = testing::name("Test TSA Root");
    root.not_before = kNotBefore - 86400;
    root.not_after = kNotBefore + 365 * 86400;
    root.public_key = tsa_root_key_.public_key();
    root.is_ca = true;
    root.key_usage.cert_sign = true;
    root.key_usage.crl_sign = true;
    tsa_root_ = crypto::sign_certificate(root, tsa_root_key_).value();
    crypto::CertificateTemplate tsa;
    tsa.subject = testing::name("Test TSA");
    tsa.not_before = root.not_before;
    tsa.not_after = root.not_after;
    tsa.public_key = tsa_key_.public_key();
    tsa.key_usage.digital_signature = true;
    // extKeyUsage: SEQUENCE { id-kp-timeStamping }, critical.
    tsa.extra_extensions.push_back({"2.5.29.37", true, Bytes{0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08}});
    tsa_ = crypto::sign_certificate(tsa, tsa_root_key_, tsa_root_).value();
    store_ = TrustStore::in_memory({{{TrustStoreType::kCa, "acme"}, {pki_.root}}, {{TrustStoreType::kTsa, "tsa"}, {tsa_root_}}});
  }

  static const crypto::PrivateKey& key() { return testing::test_key(crypto::KeyType::kEcdsaP256); }

  // A DER TimeStampResp over `data` from the TSA at `clock`.
  Result<Bytes> stamp(ByteView data, const Clock& clock) const {
    VOUCH_ASSIGN_OR_RETURN(Bytes request, crypto::timestamp_request(data, crypto::HashAlgorithm::kSha256, true));
    std::unique_ptr<BIO, Del> request_bio(BIO_new_mem_buf(request.data(), static_cast<int>(request.size())));
    std::unique_ptr<TS_RESP_CTX, Del> ctx(TS_RESP_CTX_new());
    TS_RESP_CTX_set_signer_cert(ctx.get(), tsa_.get());
    TS_RESP_CTX_set_signer_key(ctx.get(), tsa_key_.get());
    TS_RESP_CTX_set_signer_digest(ctx.get(), EVP_sha256());
    TS_RESP_CTX_set_ess_cert_id_digest(ctx.get(), EVP_sha256());
    std::unique_ptr<ASN1_OBJECT, Del> policy(OBJ_txt2obj(clock.policy, 1));
    TS_RESP_CTX_set_def_policy(ctx.get(), policy.get());
    TS_RESP_CTX_add_md(ctx.get(), EVP_sha256());
    std::unique_ptr<STACK_OF(X509), Del> extra(sk_X509_new_null());
    sk_X509_push(extra.get(), tsa_root_.get());
    TS_RESP_CTX_set_certs(ctx.get(), extra.get());
    TS_RESP_CTX_set_accuracy(ctx.get(), clock.accuracy_seconds, clock.accuracy_millis, clock.accuracy_micros);
    TS_RESP_CTX_set_clock_precision_digits(ctx.get(), clock.precision_digits);
    TS_RESP_CTX_set_time_cb(ctx.get(), clock_time, const_cast<Clock*>(&clock));
    std::unique_ptr<TS_RESP, Del> response(TS_RESP_create_response(ctx.get(), request_bio.get()));
    if (!response) return internal_error("the test TSA made no response");
    unsigned char* der = nullptr;
    int len = i2d_TS_RESP(response.get(), &der);
    Bytes out(der, der + len);
    OPENSSL_free(der);
    return out;
  }

  // Signs a JWS envelope timestamped at `clock` and verifies it under a strict policy that
  // trusts the TSA, long after the leaf expired.
  VerificationOutcome verify_stamped(const Clock& clock) {
    SignOptions options;
    options.signing_time = clock.seconds;
    options.timestamper = [&](ByteView signature) -> Result<Bytes> {
      VOUCH_ASSIGN_OR_RETURN(Bytes response, stamp(signature, clock));
      return timestamp_token_from_response(response);
    };
    const TargetArtifact target{"application/vnd.oci.image.manifest.v1+json",
                                "sha256:0000000000000000000000000000000000000000000000000000000000000001", 1234, {}, {}};
    auto envelope = sign_envelope(target, key(), {leaf_, pki_.root}, options);
    EXPECT_TRUE(envelope.ok()) << envelope.error().message;
    if (!envelope.ok()) return {};
    const auto policy = parse_trust_policy(R"({"version":"1.0","trustPolicies":[{"name":"p","registryScopes":["*"],
        "signatureVerification":{"level":"strict"},"trustStores":["ca:acme","tsa:tsa"],"trustedIdentities":["*"]}]})")
                            .value();
    auto outcome = verify_envelope({*envelope, EnvelopeFormat::kJws, target, "registry.example/app", {}},
                                   {&policy, &store_, kNotAfter + 86400});
    EXPECT_TRUE(outcome.ok()) << outcome.error().message;
    return outcome.ok() ? *outcome : VerificationOutcome{};
  }

  testing::TestPki pki_;
  crypto::Certificate leaf_, tsa_root_, tsa_;
  crypto::PrivateKey tsa_root_key_, tsa_key_;
  TrustStore store_ = TrustStore::in_memory({});
};

TEST_F(NotationTimestampAccuracy, AnInstantWellInsideTheValidityVerifies) {
  auto outcome = verify_stamped({.seconds = kNotBefore + 60, .accuracy_seconds = 1});
  EXPECT_TRUE(outcome.verified) << outcome.failure;
}

TEST_F(NotationTimestampAccuracy, TheAccuracyWidensGenTimeIntoAnIntervalTheChainMustCover) {
  // genTime 0.4 s after notBefore, accurate to 0.5 s: it may have been 0.1 s before.
  auto outcome = verify_stamped({.seconds = kNotBefore, .micros = 400000, .precision_digits = 3, .accuracy_millis = 500});
  EXPECT_FALSE(outcome.verified);
  EXPECT_TRUE(outcome.failure.starts_with("authenticTimestamp (enforced by level strict): timestamp can be before certificate"))
      << outcome.failure;
  EXPECT_TRUE(outcome.failure.ends_with("validity period, it will be valid from \"Mon, 01 Jan 2024 00:00:00 +0000\" "
                                        "(timestamp range [2023-12-31T23:59:59.9Z, 2024-01-01T00:00:00.9Z])"))
      << outcome.failure;
  // 0.6 s after, the interval starts 0.1 s after notBefore.
  outcome = verify_stamped({.seconds = kNotBefore, .micros = 600000, .precision_digits = 3, .accuracy_millis = 500});
  EXPECT_TRUE(outcome.verified) << outcome.failure;
  // Near the end: one second before notAfter, accurate to two, may be one second after.
  outcome = verify_stamped({.seconds = kNotAfter - 1, .accuracy_seconds = 2});
  EXPECT_FALSE(outcome.verified);
  EXPECT_NE(outcome.failure.find("timestamp can be after certificate"), std::string::npos) << outcome.failure;
  EXPECT_NE(outcome.failure.find("(timestamp range [2024-01-01T00:59:57Z, 2024-01-01T01:00:01Z])"), std::string::npos)
      << outcome.failure;
  // The bounds are inclusive, as notation-go's BoundedBefore and BoundedAfter.
  outcome = verify_stamped({.seconds = kNotAfter - 2, .accuracy_seconds = 2});
  EXPECT_TRUE(outcome.verified) << outcome.failure;
  outcome = verify_stamped({.seconds = kNotBefore + 2, .accuracy_seconds = 2});
  EXPECT_TRUE(outcome.verified) << outcome.failure;
  // Seconds, millis and micros add up: 1 s + 999 ms + 999 µs from notBefore + 2 s is past it.
  outcome = verify_stamped({.seconds = kNotBefore + 2, .accuracy_seconds = 1, .accuracy_millis = 999, .accuracy_micros = 999});
  EXPECT_TRUE(outcome.verified) << outcome.failure;
  outcome = verify_stamped({.seconds = kNotBefore + 1, .accuracy_seconds = 1, .accuracy_millis = 999, .accuracy_micros = 999});
  EXPECT_FALSE(outcome.verified);
}

TEST_F(NotationTimestampAccuracy, ABaselinePolicyTokenWithoutAccuracyIsTakenToOneSecond) {
  auto outcome = verify_stamped({.seconds = kNotBefore, .policy = "0.4.0.2023.1.1"});
  EXPECT_FALSE(outcome.verified);
  EXPECT_NE(outcome.failure.find("can be before certificate"), std::string::npos) << outcome.failure;
  EXPECT_NE(outcome.failure.find("(timestamp range [2023-12-31T23:59:59Z, 2024-01-01T00:00:01Z])"), std::string::npos)
      << outcome.failure;
  outcome = verify_stamped({.seconds = kNotBefore + 1, .policy = "0.4.0.2023.1.1"});
  EXPECT_TRUE(outcome.verified) << outcome.failure;
  // Under another policy a token without accuracy is the instant genTime.
  outcome = verify_stamped({.seconds = kNotBefore});
  EXPECT_TRUE(outcome.verified) << outcome.failure;
  outcome = verify_stamped({.seconds = kNotAfter});
  EXPECT_TRUE(outcome.verified) << outcome.failure;
  // A stated accuracy under the baseline policy is taken as stated.
  outcome = verify_stamped({.seconds = kNotBefore, .micros = 500000, .precision_digits = 1, .accuracy_millis = 500,
                            .policy = "0.4.0.2023.1.1"});
  EXPECT_TRUE(outcome.verified) << outcome.failure;
}

TEST(NotationStampedInterval, IsGenTimePlusOrMinusTheAccuracy) {
  crypto::VerifiedTimestamp stamp;
  stamp.time_micros = 10 * kMicrosPerSecond + 250000;
  stamp.accuracy_micros = 500000;
  stamp.policy = "1.2.3";
  auto interval = stamped_interval(stamp);
  EXPECT_EQ(interval.earliest_micros, 9 * kMicrosPerSecond + 750000);
  EXPECT_EQ(interval.latest_micros, 10 * kMicrosPerSecond + 750000);
  EXPECT_EQ(interval.text(), "[1970-01-01T00:00:09.75Z, 1970-01-01T00:00:10.75Z]");
  stamp.accuracy_micros = 0;
  EXPECT_EQ(stamped_interval(stamp).earliest_micros, stamp.time_micros);
  stamp.policy = std::string(kBaselineTimestampPolicy);
  EXPECT_EQ(stamped_interval(stamp).latest_micros, stamp.time_micros + kMicrosPerSecond);
}

}  // namespace
}  // namespace vouch::notation
