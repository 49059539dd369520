// The published notation-go envelopes, trust stores and policies (testdata/notation/SOURCE.md),
// each verifying or failing as notation does.
#include <gtest/gtest.h>

#include "../testdata.h"
#include "vouch/base/json.h"
#include "vouch/notation/envelope.h"
#include "vouch/notation/trust_policy.h"
#include "vouch/notation/verifier.h"

namespace vouch::notation {
namespace {

namespace fs = std::filesystem;
using vouch::testing::read_testdata;
using vouch::testing::testdata_dir;

const std::string kTimestampDir = "notation/notation-go/verifier/testdata/timestamp/sigEnv/";

fs::path store_root() { return testdata_dir() / "notation/notation-go/verifier/testdata/truststore"; }

TargetArtifact docker_manifest() {
  return {"application/vnd.docker.distribution.manifest.v2+json",
          "sha256:c0669ef34cdc14332c0f1ab0c2c01acb91d96014b172f1a76f3a39e63d1f0bda", 528, {}, {}};
}

EnvelopeFormat format_of(const std::string& data) { return detect_envelope_format(as_bytes(data)).value(); }

TrustPolicyDocument timestamp_policy(const std::string& stores, const std::string& extra = "") {
  return parse_trust_policy(R"({"version":"1.0","trustPolicies":[{"name":"test-timestamp","registryScopes":["*"],
      "signatureVerification":{"level":"strict")" + extra + R"(},"trustStores":)" + stores +
                            R"(,"trustedIdentities":["*"]}]})")
      .value();
}

VerificationOutcome verify(const std::string& file, const TrustPolicyDocument& policy, const std::string& data = "") {
  std::string envelope = data.empty() ? read_testdata(kTimestampDir + file) : data;
  TrustStore store = TrustStore::directory(store_root());
  VerifyRequest request{as_bytes(envelope), format_of(envelope), docker_manifest(), "localhost:5000/net-monitor", {}};
  return verify_envelope(request, {&policy, &store, now_unix()}).value();
}

const CheckResult* result_of(const VerificationOutcome& o, Check check) {
  for (const auto& r : o.results)
    if (r.check == check) return &r;
  return nullptr;
}

TEST(NotationPublished, InternalEnvelopesParseAndTheirSignaturesVerify) {
  for (const char* file : {"jws_signature.sig", "cose_signature.sig"}) {
    SCOPED_TRACE(file);
    std::string data = read_testdata(std::string("notation/notation-go/internal/testdata/") + file);
    auto format = format_of(data);
    EXPECT_EQ(format, std::string(file).starts_with("jws") ? EnvelopeFormat::kJws : EnvelopeFormat::kCose);
    auto env = parse_envelope(as_bytes(data), format).value();
    EXPECT_EQ(env.algorithm, SignatureAlgorithm::kPs256);
    EXPECT_EQ(env.scheme, SigningScheme::kX509);
    EXPECT_EQ(env.chain.size(), 1u);
    EXPECT_TRUE(verify_envelope_signature(env).ok());
    auto target = parse_payload(env.payload).value();
    EXPECT_EQ(target.digest, "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0");
    EXPECT_EQ(target.size, 481);
    EXPECT_EQ(target.media_type, "application/vnd.oci.image.manifest.v1+json");

    // Trusting its own self-signed certificate, the whole procedure passes under strict; the
    // manifest it names is the one in the OCI layout beside it.
    auto policy = timestamp_policy(R"(["ca:own"])");
    TrustStore store = TrustStore::in_memory({{{TrustStoreType::kCa, "own"}, {env.chain[0]}}});
    VerifyRequest request{as_bytes(data), format, target, "example.com/alpine", {}};
    auto outcome = verify_envelope(request, {&policy, &store, now_unix()}).value();
    EXPECT_TRUE(outcome.verified) << outcome.failure;

    request.artifact.size = 482;
    outcome = verify_envelope(request, {&policy, &store, now_unix()}).value();
    EXPECT_FALSE(outcome.verified);
    EXPECT_NE(outcome.failure.find("integrity (enforced by level strict)"), std::string::npos) << outcome.failure;
  }
}

TEST(NotationPublished, ManifestInTheLayoutIsTheSignedOne) {
  std::string manifest = read_testdata(
      "notation/notation-go/internal/testdata/oci-layout/blobs/sha256/19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0");
  EXPECT_EQ(manifest.size(), 481u);
}

TEST(NotationPublished, ChangedSignatureOrPayloadFailsIntegrity) {
  std::string data = read_testdata("notation/notation-go/internal/testdata/jws_signature.sig");
  auto doc = json::parse(data).value();
  std::string payload(doc.as_object()["payload"].as_string());
  payload[10] = payload[10] == 'A' ? 'B' : 'A';
  doc.as_object()["payload"] = payload;
  std::string changed = json::serialize(doc);
  auto env = parse_envelope(as_bytes(changed), EnvelopeFormat::kJws);
  EXPECT_TRUE(!env.ok() || !verify_envelope_signature(*env).ok());

  std::string cose = read_testdata("notation/notation-go/internal/testdata/cose_signature.sig");
  cose[cose.size() - 5] ^= 1;  // inside the signature
  auto cenv = parse_envelope(as_bytes(cose), EnvelopeFormat::kCose).value();
  EXPECT_FALSE(verify_envelope_signature(cenv).ok());
}

TEST(NotationPublished, AuthenticTimestampsVerify) {
  auto policy = timestamp_policy(R"(["ca:valid-trust-store","tsa:test-timestamp"])", R"(,"verifyTimestamp":"always")");
  for (const char* file : {"jwsWithTimestamp.sig", "coseWithTimestamp.sig"}) {
    SCOPED_TRACE(file);
    auto outcome = verify(file, policy);
    EXPECT_TRUE(outcome.verified) << outcome.failure;
    EXPECT_EQ(outcome.results.size(), 4u);
  }
  auto after_expiry = timestamp_policy(R"(["ca:valid-trust-store","tsa:test-timestamp"])", R"(,"verifyTimestamp":"afterCertExpiry")");
  EXPECT_TRUE(verify("jwsWithTimestamp.sig", after_expiry).verified);
}

TEST(NotationPublished, TimestampCoversACertificateThatExpiredSince) {
  // Their 10-minute certificates are in no trust store: authenticity is only logged here so that
  // the authentic-timestamp check runs and is enforced.
  auto policy = timestamp_policy(R"(["ca:valid-trust-store","tsa:test-timestamp"])",
                                 R"(,"override":{"authenticity":"log"})");
  for (const char* file : {"jwsExpiredWithTimestamp.sig", "coseExpiredWithTimestamp.sig"}) {
    SCOPED_TRACE(file);
    auto outcome = verify(file, policy);
    EXPECT_TRUE(outcome.verified) << outcome.failure;
    const auto* ts = result_of(outcome, Check::kAuthenticTimestamp);
    ASSERT_NE(ts, nullptr);
    EXPECT_FALSE(ts->failure.has_value());
    EXPECT_EQ(outcome.logged.size(), 1u);
  }
  auto no_tsa = timestamp_policy(R"(["ca:valid-trust-store"])", R"(,"override":{"authenticity":"log"})");
  auto outcome = verify("coseExpiredWithTimestamp.sig", no_tsa);
  EXPECT_FALSE(outcome.verified);
  EXPECT_NE(outcome.failure.find("authenticTimestamp (enforced by level custom): verification time is after certificate"),
            std::string::npos)
      << outcome.failure;
  EXPECT_NE(outcome.failure.find("\"Tue, 18 Jun 2024 07:30:31 +0000\""), std::string::npos) << outcome.failure;
}

TEST(NotationPublished, TimestampOutsideTheCertificateValidityFails) {
  auto policy = timestamp_policy(R"(["ca:valid-trust-store","tsa:test-timestamp"])", R"(,"override":{"authenticity":"log"})");
  auto before = verify("timestampBeforeNotBefore.sig", policy);
  EXPECT_FALSE(before.verified);
  EXPECT_NE(before.failure.find("timestamp can be before certificate"), std::string::npos) << before.failure;
  EXPECT_NE(before.failure.find("\"Fri, 18 Sep 2099 11:54:34 +0000\""), std::string::npos) << before.failure;
  auto after = verify("timestampAfterNotAfter.sig", policy);
  EXPECT_FALSE(after.verified);
  EXPECT_NE(after.failure.find("timestamp can be after certificate"), std::string::npos) << after.failure;
  EXPECT_NE(after.failure.find("\"Tue, 18 Sep 2001 11:54:34 +0000\""), std::string::npos) << after.failure;
}

std::string with_token(const std::string& file) {
  std::string data = read_testdata(kTimestampDir + "withoutTimestamp.sig");
  auto doc = json::parse(data).value();
  doc.as_object()["header"].as_object()["io.cncf.notary.timestampSignature"] =
      base64_encode(as_bytes(read_testdata("notation/notation-go/verifier/testdata/timestamp/countersignature/" + file)));
  return json::serialize(doc);
}

TEST(NotationPublished, MissingOrBadCountersignaturesFail) {
  auto policy = timestamp_policy(R"(["ca:valid-trust-store","tsa:test-timestamp"])", R"(,"verifyTimestamp":"always")");
  auto none = verify("withoutTimestamp.sig", policy);
  EXPECT_FALSE(none.verified);
  EXPECT_NE(none.failure.find("no timestamp countersignature was found in the signature envelope"), std::string::npos)
      << none.failure;
  for (const char* token : {"TimeStampTokenWithInvalideContentType.p7s", "TimeStampTokenWithInvalidTSTInfo.p7s",
                            "TimeStampToken.p7s", "TimeStampTokenWithoutCertificate.p7s"}) {
    SCOPED_TRACE(token);
    auto outcome = verify("withoutTimestamp.sig", policy, with_token(token));
    EXPECT_FALSE(outcome.verified);
    EXPECT_NE(outcome.failure.find("authenticTimestamp (enforced by level strict): failed to verify the timestamp"),
              std::string::npos)
        << outcome.failure;
  }
  // Without a tsa store the chain is checked at the time of verification instead.
  auto no_tsa = timestamp_policy(R"(["ca:valid-trust-store"])");
  EXPECT_TRUE(verify("withoutTimestamp.sig", no_tsa).verified);
}

TEST(NotationPublished, TsaStoresMustExistAndBeTheSigningOnes) {
  auto missing = verify("jwsWithTimestamp.sig", timestamp_policy(R"(["ca:valid-trust-store","tsa:does-not-exist"])"));
  EXPECT_FALSE(missing.verified);
  EXPECT_NE(missing.failure.find("the trust store \"does-not-exist\" of type \"tsa\" does not exist"), std::string::npos)
      << missing.failure;
  auto mismatch = verify("jwsWithTimestamp.sig", timestamp_policy(R"(["ca:valid-trust-store","tsa:test-mismatch"])"));
  EXPECT_FALSE(mismatch.verified);
  EXPECT_NE(mismatch.failure.find("failed to verify the timestamp countersignature"), std::string::npos) << mismatch.failure;
  auto bad = parse_trust_policy(R"({"version":"1.0","trustPolicies":[{"name":"test-timestamp","registryScopes":["*"],
      "signatureVerification":{"level":"strict"},"trustStores":["ca:valid-trust-store","tsa"],"trustedIdentities":["*"]}]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("is missing separator in trust store value \"tsa\""), std::string::npos);
}

TEST(NotationPublished, UntrustedChainFailsAuthenticityUnderStrictAndPermissiveButNotAudit) {
  for (const char* level : {"strict", "permissive", "audit"}) {
    SCOPED_TRACE(level);
    auto policy = parse_trust_policy(std::string(R"({"version":"1.0","trustPolicies":[{"name":"p","registryScopes":["*"],
        "signatureVerification":{"level":")") + level + R"("},"trustStores":["ca:valid-trust-store-2"],"trustedIdentities":["*"]}]})")
                      .value();
    auto outcome = verify("withoutTimestamp.sig", policy);
    EXPECT_EQ(outcome.verified, std::string(level) == "audit") << outcome.failure;
    const auto* auth = result_of(outcome, Check::kAuthenticity);
    ASSERT_NE(auth, nullptr);
    ASSERT_TRUE(auth->failure.has_value());
    EXPECT_NE(auth->failure->find("the signature's certificate chain does not contain any trusted certificate"),
              std::string::npos);
  }
}

TEST(NotationPublished, BlobSignatureVerifiesAgainstItsDescriptor) {
  std::string data = read_testdata("notation/derived-from-go-tests/verifier_test.testSig.blob.jws.json");
  auto cert = crypto::Certificate::from_pem(read_testdata("notation/derived-from-go-tests/verifier_test.trustedCert.pem")).value();
  auto policy = parse_trust_policy(R"({"version":"1.0","trustPolicies":[{"name":"blob-test-policy","registryScopes":["*"],
      "signatureVerification":{"level":"strict"},"trustStores":["ca:dummy-ts"],"trustedIdentities":["*"]}]})")
                    .value();
  TrustStore store = TrustStore::in_memory({{{TrustStoreType::kCa, "dummy-ts"}, {cert}}});
  TargetArtifact blob{"video/mp4",
                      "sha384:b8ab24dafba5cf7e4c89c562f811cf10493d4203da982d3b1345f366ca863d9c2ed323dbd0fb7ff83a80302ceffa5a61",
                      12, {}, {}};
  VerifyRequest request{as_bytes(data), EnvelopeFormat::kJws, blob, "blob/blob", {{"buildId", "101"}}};
  auto outcome = verify_envelope(request, {&policy, &store, now_unix()}).value();
  EXPECT_TRUE(outcome.verified) << outcome.failure;
  EXPECT_EQ(outcome.envelope->algorithm, SignatureAlgorithm::kPs384);

  request.user_metadata = {{"buildId", "102"}};
  EXPECT_FALSE(verify_envelope(request, {&policy, &store, now_unix()}).value().verified);
  request.user_metadata.clear();
  request.artifact.digest.back() = '2';
  outcome = verify_envelope(request, {&policy, &store, now_unix()}).value();
  EXPECT_FALSE(outcome.verified);
  EXPECT_NE(outcome.failure.find("integrity"), std::string::npos);
  request.envelope = as_bytes(std::string_view(data).substr(0, data.size() - 3));
  EXPECT_FALSE(verify_envelope(request, {&policy, &store, now_unix()}).value().verified);
}

TEST(NotationPublished, TrustStoresLoadOrFailAsNotationSays) {
  TrustStore store = TrustStore::directory(store_root());
  auto valid = store.certificates(TrustStoreType::kCa, "valid-trust-store");
  ASSERT_TRUE(valid.ok()) << valid.error().message;
  EXPECT_EQ(valid->size(), 6u);
  EXPECT_EQ(store.certificates(TrustStoreType::kCa, "valid-trust-store-self-signed").value().size(), 1u);
  EXPECT_EQ(store.certificates(TrustStoreType::kTsa, "test-timestamp").value().size(), 1u);
  for (auto [type, name] : std::vector<std::pair<TrustStoreType, std::string>>{
           {TrustStoreType::kCa, "trust-store-with-invalid-certs"},
           {TrustStoreType::kCa, "trust-store-with-leaf-certs"},
           {TrustStoreType::kCa, "trust-store-with-leaf-certs-in-single-file"},
           {TrustStoreType::kTsa, "test-nonCA"},
           {TrustStoreType::kTsa, "test-nonSelfIssued"},
           {TrustStoreType::kCa, "does-not-exist"},
           {TrustStoreType::kCa, "../ca"}}) {
    SCOPED_TRACE(name);
    EXPECT_FALSE(store.certificates(type, name).ok());
  }
  auto core = testdata_dir() / "notation/notation-core-go/x509/testdata";
  EXPECT_EQ(read_certificate_file(core / "pem.crt").value().size(), 1u);
  EXPECT_EQ(read_certificate_file(core / "der.der").value().size(), 1u);
  EXPECT_EQ(read_certificate_file(core / "multi-pem.crt").value().size(), 2u);
  EXPECT_EQ(read_certificate_file(core / "multi-der.der").value().size(), 2u);
  EXPECT_FALSE(read_certificate_file(core / "invalid").ok());
}

TEST(NotationPublished, TrustedIdentitiesMatchSubjectAttributes) {
  auto cert = crypto::Certificate::from_pem(read_testdata("notation/notation-go/verifier/testdata/verifier/signing-cert.pem")).value();
  auto policy_with = [](const std::string& ids) {
    return parse_trust_policy(R"({"version":"1.0","trustPolicies":[{"name":"p","registryScopes":["*"],
        "signatureVerification":{"level":"strict"},"trustStores":["ca:x"],"trustedIdentities":)" + ids + "}]}");
  };
  EXPECT_TRUE(match_trusted_identities(policy_with(R"(["x509.subject:C=US,O=SomeOrg,ST=WA"])").value().policies[0], cert).ok());
  EXPECT_TRUE(match_trusted_identities(
                  policy_with(R"(["x509.subject:C=US,O=SomeOrg,ST=WA","nonX509Prefix:my-custom-identity"])").value().policies[0], cert)
                  .ok());
  EXPECT_TRUE(match_trusted_identities(
                  policy_with(R"(["x509.subject:C=IND,O=SomeOrg,ST=TS","x509.subject:C=US, S=WA, O=SomeOrg, CN=SomeCN"])")
                      .value()
                      .policies[0],
                  cert)
                  .ok());
  EXPECT_TRUE(match_trusted_identities(policy_with(R"(["*"])").value().policies[0], cert).ok());
  EXPECT_FALSE(match_trusted_identities(policy_with(R"(["x509.subject:C=IND,O=SomeOrg,ST=TS"])").value().policies[0], cert).ok());
  EXPECT_FALSE(match_trusted_identities(policy_with(R"(["nonX509Prefix:my-custom-identity"])").value().policies[0], cert).ok());
  EXPECT_FALSE(policy_with(R"(["x509.subject:C=bad=#identity,O=SomeOrg,ST=WA"])").ok());
  EXPECT_FALSE(policy_with(R"(["x509.subject"])").ok());
  EXPECT_FALSE(policy_with(R"(["x509.subject:"])").ok());
  EXPECT_FALSE(policy_with(R"(["*","x509.subject:C=US,O=SomeOrg,ST=WA"])").ok());
  EXPECT_FALSE(policy_with(R"(["x509.subject:C=US,O=SomeOrg,ST=WA","x509.subject:C=US,O=SomeOrg,ST=WA,CN=x"])").ok());
}

TEST(NotationPublished, DummyPolicyParsesAndSelectsByScope) {
  auto doc = parse_trust_policy(read_testdata("notation/derived-from-go-tests/trustpolicy.oci.dummy.json")).value();
  ASSERT_EQ(doc.policies.size(), 1u);
  EXPECT_EQ(doc.policies[0].trust_stores.size(), 2u);
  EXPECT_EQ(doc.select("registry.acme-rockets.io/software/net-monitor").value()->name, "test-statement-name");
  EXPECT_FALSE(doc.select("registry.acme-rockets.io/software/other").ok());
  for (const char* file : {"trustpolicy.timestamp.json", "trustpolicy.plugin-version.json"}) {
    SCOPED_TRACE(file);
    auto parsed = parse_trust_policy(read_testdata(std::string("notation/derived-from-go-tests/") + file));
    EXPECT_TRUE(parsed.ok()) << parsed.error().message;
  }
}

}  // namespace
}  // namespace vouch::notation
