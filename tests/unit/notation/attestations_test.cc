// Notary Project attestations (Kyverno's verifyImages `type: Notary` attestations) in an OCI
// layout: referrers of a type pushed as `oras attach` pushes them, signed with Notary Project
// signatures, then verified; unsigned, foreign, misplaced and malformed ones.
#include <gtest/gtest.h>

#include <filesystem>

#include "../temp_dir.h"
#include "notation_pki.h"
#include "vouch/base/json.h"
#include "vouch/notation/attestations.h"
#include "vouch/oci/blob.h"
#include "vouch/oci/referrer.h"

namespace vouch::notation {
namespace {

namespace bj = boost::json;

constexpr std::string_view kCycloneDx = "application/vnd.cyclonedx+json";

class NotationAttestations : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ref = oci::parse_image_ref("oci:" + (dir_.path() / "layout").string() + ":app").value();
    store_ = oci::open_store(ref, {}, true).value();
    image_ = make_image("app");
    const UnixSeconds now = now_unix();
    pki_ = testing::make_root("Test Root", now);
    other_ = testing::make_root("Other Root", now);
    const auto& key = testing::test_key(crypto::KeyType::kEcdsaP256);
    chain_ = {testing::make_leaf(pki_, key, "signer", now - 60, now + 3600), pki_.root};
    foreign_chain_ = {testing::make_leaf(other_, key, "signer", now - 60, now + 3600), other_.root};
  }

  // An image manifest of its own (the name goes into its config), tagged `name`.
  oci::Descriptor make_image(const std::string& name) {
    const std::string config = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"name":")" +
                               name + "\"}";
    oci::Descriptor cfg;
    cfg.media_type = std::string(oci::media_type::kOciConfig);
    cfg.digest = oci::Digest::sha256_of(as_bytes(config));
    cfg.size = static_cast<int64_t>(config.size());
    EXPECT_TRUE(store_->put_blob(cfg, *oci::bytes_reader(config)).ok());
    bj::object m{{"schemaVersion", 2}, {"mediaType", std::string(oci::media_type::kOciManifest)},
                 {"config", cfg.to_json()}, {"layers", bj::array{}}};
    auto manifest = oci::parse_manifest(json::serialize(m)).value();
    EXPECT_TRUE(store_->put_manifest(manifest, name, false).ok());
    return manifest.descriptor();
  }

  oci::Manifest attach(const std::vector<std::string>& contents, std::string_view type = kCycloneDx,
                       const oci::Descriptor* subject = nullptr) {
    oci::ReferrerArtifact artifact;
    artifact.artifact_type = std::string(type);
    for (const auto& c : contents) artifact.files.push_back({"application/json", c, "sbom.json"});
    auto m = oci::push_referrer(*store_, subject ? *subject : image_, artifact);
    EXPECT_TRUE(m.ok()) << m.error().message;
    return m.value();
  }

  void sign(const oci::Manifest& referrer, const std::vector<crypto::Certificate>& chain) {
    const oci::Descriptor d = referrer.descriptor();
    SignOptions options;
    options.format = EnvelopeFormat::kCose;
    options.signing_time = now_unix();
    auto envelope = sign_envelope({d.media_type, d.digest.str(), d.size, {}, {}},
                                  testing::test_key(crypto::KeyType::kEcdsaP256), chain, options);
    ASSERT_TRUE(envelope.ok()) << envelope.error().message;
    ASSERT_TRUE(push_signature(*store_, d, to_string(*envelope), EnvelopeFormat::kCose, chain).ok());
  }

  Result<AttestationVerification> verify(std::string_view type = kCycloneDx, const AttestationLimits& limits = {},
                                         const oci::Descriptor* subject = nullptr) {
    return verify_attestations(*store_, (subject ? *subject : image_).digest, type, "registry.example/app",
                               {&policy_, &trust_store_, now_unix()}, limits);
  }

  vouch::testing::TempDir dir_;
  std::unique_ptr<oci::Store> store_;
  oci::Descriptor image_;
  testing::TestPki pki_, other_;
  std::vector<crypto::Certificate> chain_, foreign_chain_;
  // The policy Kyverno builds for a Notary attestor entry.
  TrustPolicyDocument policy_ = parse_trust_policy(R"({"version":"1.0","trustPolicies":[{"name":"kyverno",
      "registryScopes":["*"],"signatureVerification":{"level":"strict"},"trustStores":["ca:kyverno"],
      "trustedIdentities":["*"]}]})").value();
  TrustStore trust_store_ = TrustStore::in_memory({});

  void trust(const crypto::Certificate& root) {
    trust_store_ = TrustStore::in_memory({{{TrustStoreType::kCa, "kyverno"}, {root}}});
  }
};

TEST_F(NotationAttestations, ASignedReferrerOfTheTypeVerifiesAndItsContentIsReturned) {
  trust(pki_.root);
  const std::string sbom = R"({"bomFormat":"CycloneDX","components":[{"name":"zlib","licenses":[{"expression":"Zlib"}]}]})";
  auto referrer = attach({sbom});
  sign(referrer, chain_);
  auto r = verify();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->verified) << r->failure;
  ASSERT_EQ(r->referrers.size(), 1u);
  EXPECT_EQ(r->referrers[0].referrer.digest, referrer.digest);
  EXPECT_EQ(r->referrers[0].content, json::parse(sbom).value());

  // Another type is not there; the signature itself is a referrer of another type.
  r = verify("application/vnd.trivy.report+json");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->verified);
  EXPECT_TRUE(r->referrers.empty());
  EXPECT_NE(r->failure.find("no attestation of type \"application/vnd.trivy.report+json\" is attached to "
                            "registry.example/app@" + image_.digest.str()), std::string::npos) << r->failure;
}

TEST_F(NotationAttestations, EveryReferrerOfTheTypeMustVerify) {
  trust(pki_.root);
  auto unsigned_one = attach({R"({"n":1})"});
  auto r = verify();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->verified);
  EXPECT_NE(r->failure.find("referrer " + unsigned_one.digest.str() + ": no Notary Project signature"), std::string::npos)
      << r->failure;

  auto foreign = attach({R"({"n":2})"});
  sign(foreign, foreign_chain_);
  auto good = attach({R"({"n":3})"});
  sign(good, chain_);
  r = verify();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->verified);
  EXPECT_EQ(r->referrers.size(), 3u);
  EXPECT_NE(r->failure.find("2 of 3 attestation(s)"), std::string::npos) << r->failure;
  EXPECT_NE(r->failure.find("does not contain any trusted certificate"), std::string::npos) << r->failure;

  // Trusting the other root instead: the foreign one verifies, the rest do not.
  trust(other_.root);
  r = verify();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->verified);
  size_t verified = 0;
  for (const auto& a : r->referrers) verified += a.verified ? 1 : 0;
  EXPECT_EQ(verified, 1u);
}

TEST_F(NotationAttestations, ASignedAttestationOfAnotherImageListedHereDoesNotCount) {
  trust(pki_.root);
  oci::Descriptor other_image = make_image("other");
  auto theirs = attach({R"({"of":"other"})"}, kCycloneDx, &other_image);
  sign(theirs, chain_);
  ASSERT_TRUE(verify(kCycloneDx, {}, &other_image)->verified);
  // Whoever may push can list it among this image's referrers (the tag schema's index).
  oci::Descriptor listed = theirs.descriptor();
  bj::object index{{"schemaVersion", 2}, {"mediaType", std::string(oci::media_type::kOciIndex)},
                   {"manifests", bj::array{listed.to_json()}}};
  auto idx = oci::parse_manifest(json::serialize(index)).value();
  ASSERT_TRUE(store_->put_manifest(idx, oci::digest_tag(image_.digest), false).ok());
  auto r = verify();
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->referrers.size(), 1u);
  EXPECT_FALSE(r->verified);
  EXPECT_NE(r->failure.find("its manifest's subject is " + other_image.digest.str()), std::string::npos) << r->failure;
}

TEST_F(NotationAttestations, AReferrerWithMoreThanOneLayerFails) {
  trust(pki_.root);
  auto referrer = attach({R"({"a":1})", R"({"b":2})"});
  sign(referrer, chain_);
  auto r = verify();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->verified);
  EXPECT_NE(r->failure.find("its manifest has 2 layers; an attestation has exactly one"), std::string::npos) << r->failure;
}

TEST_F(NotationAttestations, SignedContentThatCannotBeReadIsAnError) {
  trust(pki_.root);
  const std::string gzip_magic("\x1f\x8b\x08\x00", 4);
  struct Case {
    std::string content;
    std::string message;
  };
  for (const Case& c : {Case{"[1,2,3]", "its content is not a JSON object"}, Case{"{not json", "its content is not JSON"},
                        Case{gzip_magic + "rest", "its content is compressed"}}) {
    oci::Descriptor image = make_image("bad-" + std::to_string(c.content.size()));
    auto referrer = attach({c.content}, kCycloneDx, &image);
    sign(referrer, chain_);
    auto r = verify(kCycloneDx, {}, &image);
    ASSERT_FALSE(r.ok()) << c.message;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
    EXPECT_NE(r.error().message.find("referrer " + referrer.digest.str() + ": " + c.message), std::string::npos)
        << r.error().message;
  }
  // Unsigned, the same content is never read: a plain failure.
  oci::Descriptor image = make_image("unsigned-bad");
  attach({"[1]"}, kCycloneDx, &image);
  auto r = verify(kCycloneDx, {}, &image);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->verified);
}

TEST_F(NotationAttestations, LimitsAreErrors) {
  trust(pki_.root);
  sign(attach({R"({"n":1})"}), chain_);
  AttestationLimits limits;
  limits.max_content_bytes = 4;
  auto r = verify(kCycloneDx, limits);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("content of 7 bytes exceeds the limit of 4"), std::string::npos) << r.error().message;
  // The attestation's signature refers to the attestation, not the image: a second attestation
  // makes two referrers.
  attach({R"({"n":2})"}, "application/vnd.trivy.report+json");
  limits = {};
  limits.max_referrers = 1;
  r = verify(kCycloneDx, limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(r.error().message.find("2 referrers, more than the limit of 1"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace vouch::notation
