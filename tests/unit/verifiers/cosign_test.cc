// The verifyImages verifier over real cosign signatures in an OCI layout: attestor sets
// (count, every entry), attestation predicates handed to the conditions, and the attestor
// settings it cannot honour refused rather than ignored.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "vouch/base/json.h"
#include "vouch/cosign/sign.h"
#include "vouch/crypto/keys.h"
#include "vouch/oci/store.h"
#include "vouch/verifiers/cosign.h"

namespace vouch::verifiers {
namespace {

namespace fs = std::filesystem;
namespace bj = boost::json;
using namespace vouch::policy;

class LayoutImage : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("vouch-policy-cosign-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    image = "oci:" + (dir / "l").string() + ":app";
    auto ref = oci::parse_image_ref(image);
    ASSERT_TRUE(ref.ok());
    auto store = oci::open_store(*ref, {}, true);
    ASSERT_TRUE(store.ok()) << store.error().message;
    const std::string config = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})";
    oci::Descriptor cfg;
    cfg.digest = oci::Digest::sha256_of(as_bytes(config));
    cfg.size = static_cast<int64_t>(config.size());
    cfg.media_type = "application/vnd.oci.image.config.v1+json";
    ASSERT_TRUE((*store)->put_blob(cfg, *oci::bytes_reader(config)).ok());
    bj::object m{{"schemaVersion", 2}, {"mediaType", std::string(oci::media_type::kOciManifest)},
                 {"config", cfg.to_json()}, {"layers", bj::array{}}};
    auto manifest = oci::parse_manifest(json::serialize(m));
    ASSERT_TRUE(manifest.ok());
    ASSERT_TRUE((*store)->put_manifest(*manifest, std::string("app"), true).ok());
    ASSERT_TRUE((*store)->commit().ok());
    digest = manifest->digest.str();
    signer = *crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256);
    other = *crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256);
  }
  void TearDown() override { fs::remove_all(dir); }

  static Attestor key_entry(const crypto::PrivateKey& k) {
    Attestor a;
    a.keys = KeyAttestor{};
    a.keys->public_keys = k.public_key().pem();
    a.keys->rekor = Rekor{};
    a.keys->rekor->ignore_tlog = true;
    return a;
  }

  fs::path dir;
  std::string image, digest;
  crypto::PrivateKey signer, other;
};

TEST_F(LayoutImage, AttestorSetsCountAndEveryEntry) {
  cosign::SignOptions so;
  ASSERT_TRUE(cosign::sign_image(*oci::parse_image_ref(image), sigstore::KeySigner(signer), so).ok());
  auto verifier = cosign_image_verifier({});
  ImageVerification rule;

  AttestorSet one_of_two{1, {key_entry(other), key_entry(signer)}, {}};
  auto r = verifier->verify(image, rule, one_of_two, nullptr);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->verified) << r->reason;
  EXPECT_EQ(r->digest, digest);

  AttestorSet all{std::nullopt, {key_entry(signer), key_entry(other)}, {}};
  r = verifier->verify(image, rule, all, nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->verified);
  EXPECT_NE(r->reason.find("1 of 2 required attestor(s) verified: .entries[1]:"), std::string::npos) << r->reason;

  AttestorSet wrong{std::nullopt, {key_entry(other)}, {}};
  r = verifier->verify(image, rule, wrong, nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->verified);
}

TEST_F(LayoutImage, AttestationPredicatesReachTheConditions) {
  cosign::SignOptions so;
  so.layout = cosign::Layout::kClassic;
  bj::value predicate = bj::object{{"spdxVersion", "SPDX-2.3"}};
  ASSERT_TRUE(cosign::attest_image(*oci::parse_image_ref(image), sigstore::KeySigner(signer), "https://spdx.dev/Document", predicate, so).ok());
  auto verifier = cosign_image_verifier({});
  ImageVerification rule;
  Attestation att;
  att.type = "https://spdx.dev/Document";
  auto r = verifier->verify(image, rule, AttestorSet{std::nullopt, {key_entry(signer)}, {}}, &att);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->verified) << r->reason;
  ASSERT_EQ(r->predicates.size(), 1u);
  EXPECT_EQ(r->predicates[0], predicate);
  // Another predicate type is not there.
  att.type = "https://slsa.dev/provenance/v1";
  r = verifier->verify(image, rule, AttestorSet{std::nullopt, {key_entry(signer)}, {}}, &att);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->verified);
  EXPECT_TRUE(r->predicates.empty());
}

TEST_F(LayoutImage, SettingsThatCannotBeHonouredAreErrorsNotPasses) {
  cosign::SignOptions so;
  ASSERT_TRUE(cosign::sign_image(*oci::parse_image_ref(image), sigstore::KeySigner(signer), so).ok());
  auto verifier = cosign_image_verifier({});
  ImageVerification rule;
  auto with = [&](auto change) {
    Attestor a = key_entry(signer);
    change(a);
    return verifier->verify(image, rule, AttestorSet{std::nullopt, {a}, {}}, nullptr);
  };
  // The log check with nothing to check it against.
  auto r = with([](Attestor& a) { a.keys->rekor.reset(); });
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(".entries[0]: the transparency log check needs a trusted root"), std::string::npos)
      << r.error().message;
  r = with([](Attestor& a) { a.keys->kms = "awskms:///alias/x"; });
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("kms"), std::string::npos);
  r = with([](Attestor& a) { a.keys->public_keys = "not a key"; });
  ASSERT_FALSE(r.ok());
  r = with([](Attestor& a) {
    a.keys.reset();
    a.keyless = KeylessAttestor{};
    a.keyless->issuer = "https://issuer";
    a.keyless->subject = "me";
  });
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("trusted root"), std::string::npos);
  rule.type = "Notary";
  r = verifier->verify(image, rule, AttestorSet{std::nullopt, {key_entry(signer)}, {}}, nullptr);
  ASSERT_FALSE(r.ok());
}

}  // namespace
}  // namespace vouch::verifiers
