#include <gtest/gtest.h>

#include "../testdata.h"
#include "vouch/sigstore/bundle.h"
#include "vouch/sigstore/sign.h"
#include "vouch/sigstore/trusted_root.h"
#include "vouch/sigstore/verifier.h"

namespace vouch::sigstore {
namespace {

using vouch::testing::read_testdata;

std::string conformance(const std::string& name, const std::string& file = "bundle.sigstore.json") {
  return read_testdata("sigstore-conformance/bundle-verify/" + name + "/" + file);
}

TEST(Bundle, ParsesEveryVersion) {
  auto v1 = parse_bundle(conformance("happy-path-v0.1"));
  ASSERT_TRUE(v1.ok()) << v1.error().message;
  EXPECT_EQ(v1->version, BundleVersion::kV01);
  EXPECT_EQ(v1->material.certificate_chain.size(), 1u);
  auto v2 = parse_bundle(conformance("happy-path-v0.2"));
  ASSERT_TRUE(v2.ok()) << v2.error().message;
  EXPECT_EQ(v2->version, BundleVersion::kV02);
  auto v3 = parse_bundle(conformance("happy-path-v0.3"));
  ASSERT_TRUE(v3.ok()) << v3.error().message;
  EXPECT_EQ(v3->version, BundleVersion::kV03);
  ASSERT_TRUE(v3->material.certificate.has_value());
  ASSERT_EQ(v3->material.tlog_entries.size(), 1u);
  EXPECT_EQ(v3->material.tlog_entries[0].log_index, 79571823);
  EXPECT_EQ(v3->material.tlog_entries[0].inclusion_proof->tree_size, 75408393);
  auto dsse = parse_bundle(conformance("happy-path-intoto-in-dsse-v3"));
  ASSERT_TRUE(dsse.ok()) << dsse.error().message;
  EXPECT_TRUE(dsse->is_dsse());
}

TEST(Bundle, MalformedInputNamesTheProblem) {
  auto truncated = parse_bundle(conformance("bundle-malformed-json_fail"));
  ASSERT_FALSE(truncated.ok());
  EXPECT_NE(truncated.error().message.find("malformed JSON"), std::string::npos) << truncated.error().message;

  auto unknown = parse_bundle(conformance("bundle-unknown-version_fail"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("mediaType"), std::string::npos) << unknown.error().message;

  auto base64 = parse_bundle(conformance("bundle-invalid-base64-signature_fail"));
  ASSERT_FALSE(base64.ok());
  EXPECT_NE(base64.error().message.find("messageSignature.signature"), std::string::npos) << base64.error().message;

  for (std::string_view bad : {"", "[]", "{}", "null", "{\"mediaType\":1}", "{\"mediaType\":\"x\"}"}) {
    auto r = parse_bundle(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
  }
  std::string deep = "{\"mediaType\":" + std::string(5000, '[') + std::string(5000, ']') + "}";
  EXPECT_FALSE(parse_bundle(deep).ok());
}

TEST(Bundle, SerializeRoundTrip) {
  auto b = parse_bundle(conformance("happy-path-v0.3"));
  ASSERT_TRUE(b.ok());
  std::string text = serialize_bundle(*b);
  auto again = parse_bundle(text);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(serialize_bundle(*again), text);
  EXPECT_EQ(again->material.tlog_entries[0].canonicalized_body, b->material.tlog_entries[0].canonicalized_body);
}

TEST(Bundle, AbsentLogIndexIsEntryZero) {
  // protojson leaves out zero int64s: the first entry of a log has no logIndex member.
  auto doc = boost::json::parse(conformance("happy-path-v0.3")).as_object();
  auto& entry = doc["verificationMaterial"].as_object()["tlogEntries"].as_array()[0].as_object();
  entry.erase("logIndex");
  entry["inclusionProof"].as_object().erase("logIndex");
  auto b = parse_bundle(boost::json::serialize(doc));
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->material.tlog_entries[0].log_index, 0);
  EXPECT_EQ(b->material.tlog_entries[0].inclusion_proof->log_index, 0);
  entry["logIndex"] = "-1";
  EXPECT_FALSE(parse_bundle(boost::json::serialize(doc)).ok());
}

TEST(TrustedRoot, ParsesPublicGoodRoots) {
  auto prod = parse_trusted_root(read_testdata("sigstore-trust/trusted_root.production.json"));
  ASSERT_TRUE(prod.ok()) << prod.error().message;
  EXPECT_EQ(prod->tlogs.size(), 2u);
  EXPECT_EQ(prod->certificate_authorities.size(), 2u);
  EXPECT_EQ(prod->ctlogs.size(), 2u);
  EXPECT_EQ(prod->timestamp_authorities.size(), 1u);
  EXPECT_EQ(prod->tlogs[0].origin(), "rekor.sigstore.dev");
  // The second CA has no end: still valid.
  EXPECT_FALSE(prod->certificate_authorities[1].valid_for.end.has_value());
  auto staging = parse_trusted_root(read_testdata("sigstore-trust/trusted_root.staging.json"));
  ASSERT_TRUE(staging.ok()) << staging.error().message;  // includes a PKCS#1 RSA CT log key
}

TEST(TrustedRoot, MissingValidityStartIsAnError) {
  auto r = parse_trusted_root(conformance("trust-root-tlog-missing-validity-start_fail", "trusted_root.json"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("validFor.start"), std::string::npos) << r.error().message;
}

TEST(TrustedRoot, ValidityWindowIsClosed) {
  ValidityWindow w{100, 200};
  EXPECT_TRUE(w.contains(100));
  EXPECT_TRUE(w.contains(200));
  EXPECT_FALSE(w.contains(99));
  EXPECT_FALSE(w.contains(201));
  EXPECT_TRUE((ValidityWindow{100, std::nullopt}).contains(1LL << 40));
}

TEST(SignBlob, ManagedKeyRoundTrip) {
  auto key = crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256);
  ASSERT_TRUE(key.ok());
  std::string data = "hello, vouch";
  auto bundle = sign_blob(KeySigner(*key), as_bytes(data));
  ASSERT_TRUE(bundle.ok());
  auto parsed = parse_bundle(serialize_bundle(*bundle));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  VerifyPolicy policy;
  policy.key = key->public_key();
  policy.ignore_tlog = true;
  TrustedRoot empty;
  auto ok = verify_bundle(*parsed, Artifact::from_bytes(data), empty, policy);
  EXPECT_TRUE(ok.ok()) << ok.error().message;
  // By digest only.
  auto by_digest = Artifact::from_digest(crypto::HashAlgorithm::kSha256, crypto::sha256(data));
  ASSERT_TRUE(by_digest.ok());
  EXPECT_TRUE(verify_bundle(*parsed, *by_digest, empty, policy).ok());
  // Tampered artifact.
  auto bad = verify_bundle(*parsed, Artifact::from_bytes("hello, vouch!"), empty, policy);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kVerification);
  EXPECT_EQ(bad.error().message.rfind("signature:", 0), 0u) << bad.error().message;
  // Another key.
  auto other = crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256);
  policy.key = other->public_key();
  EXPECT_FALSE(verify_bundle(*parsed, Artifact::from_bytes(data), empty, policy).ok());
  // Without --insecure-ignore-tlog a bundle with no log entry fails.
  policy.key = key->public_key();
  policy.ignore_tlog = false;
  auto no_tlog = verify_bundle(*parsed, Artifact::from_bytes(data), empty, policy);
  ASSERT_FALSE(no_tlog.ok());
  EXPECT_NE(no_tlog.error().message.find("transparency log"), std::string::npos) << no_tlog.error().message;
}

TEST(Identity, MatchesLikeCosign) {
  auto re = StringMatcher::regexp("^https://github.com/sigstore-conformance/.*@refs/heads/main$");
  ASSERT_TRUE(re.ok());
  EXPECT_TRUE(re->matches("https://github.com/sigstore-conformance/x/.github/workflows/y.yml@refs/heads/main"));
  EXPECT_FALSE(re->matches("https://github.com/evil/x@refs/heads/main"));
  // Unanchored, as Go's regexp.MatchString.
  auto partial = StringMatcher::regexp("sigstore-conformance");
  EXPECT_TRUE(partial->matches("https://github.com/sigstore-conformance/x"));
  EXPECT_FALSE(StringMatcher::regexp("(").ok());
  auto exact = StringMatcher::exact("a@b.c");
  EXPECT_TRUE(exact.matches("a@b.c"));
  EXPECT_FALSE(exact.matches("xa@b.c"));
}

}  // namespace
}  // namespace vouch::sigstore
