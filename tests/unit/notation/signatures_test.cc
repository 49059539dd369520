// Signatures as OCI referrers in an OCI layout: pushed, listed, read back and verified, with the
// published notation-go envelopes on the layout they sign.
#include <gtest/gtest.h>

#include <filesystem>

#include "../temp_dir.h"
#include "../testdata.h"
#include "notation_pki.h"
#include "vouch/notation/signatures.h"
#include "vouch/oci/reference.h"

namespace vouch::notation {
namespace {

namespace fs = std::filesystem;

class NotationSignatures : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::copy(vouch::testing::testdata_dir() / "notation/notation-go/internal/testdata/oci-layout", dir_.path() / "layout",
             fs::copy_options::recursive);
    for (const auto& e : fs::recursive_directory_iterator(dir_.path()))
      fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
    auto ref = oci::parse_image_ref("oci:" + (dir_.path() / "layout").string() + ":v2").value();
    store_ = oci::open_store(ref, {}, true).value();
    subject_ = store_->get_root().value().descriptor();
  }

  VerificationOutcome verify_with(const std::vector<crypto::Certificate>& anchors, ImageVerification* result = nullptr) {
    auto store = TrustStore::in_memory({{{TrustStoreType::kCa, "own"}, anchors}});
    auto image = verify_image(*store_, subject_, "docker.io/library/alpine", {&policy_, &store, now_unix()}).value();
    if (result) *result = image;
    return image.signatures.empty() ? VerificationOutcome{} : image.signatures.back().second;
  }

  vouch::testing::TempDir dir_;
  std::unique_ptr<oci::Store> store_;
  oci::Descriptor subject_;
  TrustPolicyDocument policy_ = parse_trust_policy(R"({"version":"1.0","trustPolicies":[{"name":"p","registryScopes":["*"],
      "signatureVerification":{"level":"strict"},"trustStores":["ca:own"],"trustedIdentities":["*"]}]})")
                                    .value();
};

TEST_F(NotationSignatures, PublishedEnvelopesVerifyAsReferrersOfTheirManifest) {
  EXPECT_EQ(subject_.digest.str(), "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0");
  ImageVerification none;
  verify_with({}, &none);
  EXPECT_FALSE(none.verified);
  EXPECT_NE(none.failure.find("no Notary Project signature"), std::string::npos);

  for (const char* file : {"cose_signature.sig", "jws_signature.sig"}) {
    std::string data = vouch::testing::read_testdata(std::string("notation/notation-go/internal/testdata/") + file);
    auto format = detect_envelope_format(as_bytes(data)).value();
    auto env = parse_envelope(as_bytes(data), format).value();
    auto pushed = push_signature(*store_, subject_, data, format, env.chain);
    ASSERT_TRUE(pushed.ok()) << pushed.error().message;
  }
  auto listed = list_signatures(*store_, subject_.digest).value();
  ASSERT_EQ(listed.size(), 2u);
  auto sig = fetch_signature(*store_, listed[0], subject_.digest).value();
  EXPECT_EQ(sig.annotations.count(std::string(kThumbprintAnnotation)), 1u);

  std::string jws = vouch::testing::read_testdata("notation/notation-go/internal/testdata/jws_signature.sig");
  auto leaf = parse_envelope(as_bytes(jws), EnvelopeFormat::kJws).value().chain[0];
  ImageVerification result;
  auto outcome = verify_with({leaf}, &result);
  EXPECT_TRUE(result.verified) << result.failure;
  EXPECT_TRUE(outcome.verified);
  // Another anchor: neither signature verifies, and the failure says why for each.
  auto other = testing::make_root("Test Root", now_unix());
  verify_with({other.root}, &result);
  EXPECT_FALSE(result.verified);
  EXPECT_EQ(result.signatures.size(), 2u);
  EXPECT_NE(result.failure.find("does not contain any trusted certificate"), std::string::npos) << result.failure;
}

TEST_F(NotationSignatures, SignedHereVerifiesAndAThumbprintMismatchFails) {
  const UnixSeconds now = now_unix();
  auto pki = testing::make_root("Test Root", now);
  const auto& key = testing::test_key(crypto::KeyType::kEcdsaP256);
  auto leaf = testing::make_leaf(pki, key, "signer", now - 60, now + 3600);
  SignOptions options;
  options.format = EnvelopeFormat::kCose;
  options.signing_time = now;
  TargetArtifact target{subject_.media_type, subject_.digest.str(), subject_.size, {}, {}};
  auto envelope = to_string(sign_envelope(target, key, {leaf, pki.root}, options).value());
  // The annotation names another chain than the envelope's.
  ASSERT_TRUE(push_signature(*store_, subject_, envelope, EnvelopeFormat::kCose, {pki.root}).ok());
  ImageVerification result;
  verify_with({pki.root}, &result);
  EXPECT_FALSE(result.verified);
  EXPECT_NE(result.failure.find("x509chain.thumbprint#S256"), std::string::npos) << result.failure;
  ASSERT_TRUE(push_signature(*store_, subject_, envelope + "", EnvelopeFormat::kCose, {leaf, pki.root}).ok());
  verify_with({pki.root}, &result);
  EXPECT_TRUE(result.verified) << result.failure;
}

}  // namespace
}  // namespace vouch::notation
