// The conformance suite checks exit codes; these tests check that failing cases fail for the
// reason their README gives, and that the happy paths pass in process.
#include <gtest/gtest.h>

#include "../testdata.h"
#include "vouch/sigstore/verifier.h"

namespace vouch::sigstore {
namespace {

using vouch::testing::read_testdata;
using vouch::testing::testdata_dir;

constexpr char kIdentity[] =
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/"
    "extremely-dangerous-oidc-beacon.yml@refs/heads/main";
constexpr char kIssuer[] = "https://token.actions.githubusercontent.com";

Result<VerificationResult> verify_case(const std::string& name) {
  auto dir = testdata_dir() / "sigstore-conformance/bundle-verify" / name;
  VOUCH_ASSIGN_OR_RETURN(std::string bundle_text, read_file(dir / "bundle.sigstore.json"));
  VOUCH_ASSIGN_OR_RETURN(Bundle bundle, parse_bundle(bundle_text));
  auto root_path = std::filesystem::exists(dir / "trusted_root.json")
                       ? dir / "trusted_root.json"
                       : testdata_dir() / "sigstore-trust/trusted_root.production.json";
  VOUCH_ASSIGN_OR_RETURN(std::string root_text, read_file(root_path));
  VOUCH_ASSIGN_OR_RETURN(TrustedRoot root, parse_trusted_root(root_text));
  auto artifact_path = std::filesystem::exists(dir / "artifact")
                           ? dir / "artifact"
                           : testdata_dir() / "sigstore-conformance/bundle-verify/a.txt";
  VOUCH_ASSIGN_OR_RETURN(std::string artifact, read_file(artifact_path));
  VerifyPolicy policy;
  if (std::filesystem::exists(dir / "key.pub")) {
    VOUCH_ASSIGN_OR_RETURN(std::string pem, read_file(dir / "key.pub"));
    VOUCH_ASSIGN_OR_RETURN(policy.key, crypto::PublicKey::from_pem(pem));
  } else {
    policy.identities.push_back({StringMatcher::exact(kIdentity), StringMatcher::exact(kIssuer)});
  }
  return verify_bundle(bundle, Artifact::from_bytes(artifact), root, policy);
}

struct FailCase {
  const char* name;
  const char* reason;  // a substring the error must contain
};

class ConformanceFailure : public ::testing::TestWithParam<FailCase> {};

TEST_P(ConformanceFailure, FailsForTheDocumentedReason) {
  auto r = verify_case(GetParam().name);
  ASSERT_FALSE(r.ok()) << GetParam().name << " verified";
  EXPECT_NE(r.error().message.find(GetParam().reason), std::string::npos)
      << GetParam().name << ": " << r.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Reasons, ConformanceFailure,
    ::testing::Values(
        FailCase{"bundle-from-wrong-instance_fail", "is not a transparency log in the trusted root"},
        FailCase{"bundle-with-root-cert_fail", "root certificate"},
        FailCase{"checkpoint-wrong-roothash_fail", "checkpoint"},
        FailCase{"dsse-invalid-sig_fail", "the envelope's signature is not in the entry"},
        FailCase{"incorrect-public-key_fail", "the entry's certificate is not the bundle's certificate"},
        FailCase{"intoto-expired-certificate_fail", "certificate chain"},
        FailCase{"intoto-missing-inclusion-proof_fail", "no inclusion proof"},
        FailCase{"intoto-set-outside-signing-cert-validity_fail", "outside the certificate's validity"},
        FailCase{"invalid-checkpoint-signature_fail", "checkpoint"},
        FailCase{"invalid-inclusion-proof_fail", "inclusion proof"},
        FailCase{"managed-key-wrong-key_fail", "public key"},
        FailCase{"set-invalid-signature_fail", "signed entry timestamp"},
        FailCase{"signature-mismatch_fail", "signature"},
        FailCase{"wrong-hashedrekord-artifact_fail", "the entry's signature is not the bundle's signature"},
        FailCase{"rekor2-no-inclusion-proof_fail", "no inclusion proof"},
        FailCase{"rekor2-no-timestamp_fail", "timestamp: 0 verified signing times"},
        FailCase{"rekor2-checkpoint-no-matching-signature_fail", "checkpoint"},
        FailCase{"rekor2-timestamp-with-incorrect-time_fail", "outside the certificate's validity"},
        FailCase{"rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail", "RFC 3161 timestamp"},
        FailCase{"rekor2-dsse-mismatch-sig_fail", "the entry's signature is not the bundle's signature"},
        FailCase{"wrong-hashedrekord-entry_fail", "transparency log: entry 0"}),
    [](const auto& info) {
      std::string n = info.param.name;
      for (char& c : n)
        if (!isalnum(static_cast<unsigned char>(c))) c = '_';
      return n;
    });

class ConformanceHappy : public ::testing::TestWithParam<const char*> {};

TEST_P(ConformanceHappy, Verifies) {
  auto r = verify_case(GetParam());
  ASSERT_TRUE(r.ok()) << GetParam() << ": " << r.error().message;
  EXPECT_FALSE(r->timestamps.empty());
}

INSTANTIATE_TEST_SUITE_P(Cases, ConformanceHappy,
                         ::testing::Values("happy-path-v0.1", "happy-path-v0.2", "happy-path-v0.3",
                                           "happy-path-intoto-in-dsse-v3", "intoto-with-custom-trust-root",
                                           "managed-key-happy-path", "rekor2-happy-path", "rekor2-dsse-happy-path",
                                           "rekor2-checkpoint-cosigned", "trust-root-tlog-validity-end-inclusive"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(Conformance, SignerIdentityIsReported) {
  auto r = verify_case("happy-path-v0.3");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->signer.has_value());
  EXPECT_EQ(r->signer->issuer, kIssuer);
  EXPECT_EQ(r->signer->sans.at(0), kIdentity);
  EXPECT_EQ(r->log_indexes.at(0), 79571823);
}

}  // namespace
}  // namespace vouch::sigstore
