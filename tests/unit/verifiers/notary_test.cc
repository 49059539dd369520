// The verifyImages verifier of `type: Notary`: what an attestor entry or a rule asks that Notary
// verification cannot honour is an error before any registry is asked (nothing listens at the
// registry named here), never a pass; without attestors nothing verifies.
#include <gtest/gtest.h>

#include <vector>

#include "vouch/base/time.h"
#include "vouch/crypto/certificate_builder.h"
#include "vouch/crypto/keys.h"
#include "vouch/verifiers/notary.h"

namespace vouch::verifiers {
namespace {

using namespace vouch::policy;

constexpr const char* kImage = "127.0.0.1:1/app@sha256:0000000000000000000000000000000000000000000000000000000000000001";

std::string root_pem() {
  auto key = crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256).value();
  crypto::CertificateTemplate t;
  t.subject = {{"O", "Acme"}, {"CN", "Root"}};
  t.not_before = now_unix() - 60;
  t.not_after = now_unix() + 3600;
  t.public_key = key.public_key();
  t.is_ca = true;
  t.key_usage.cert_sign = true;
  return crypto::sign_certificate(t, key).value().pem();
}

Attestor certificates_entry() {
  static const std::string pem = root_pem();
  Attestor a;
  a.certificates = CertificateAttestor{};
  a.certificates->cert = pem;
  return a;
}

Result<ImageVerificationOutcome> verify_with(const Attestor& entry, const Attestation* attestation = nullptr,
                                             ImageVerification rule = {}) {
  rule.type = "Notary";
  NotaryOptions options;
  options.store.max_retries = 0;  // the registry cannot be reached; say so at once
  return notary_image_verifier(options)->verify(kImage, rule, AttestorSet{std::nullopt, {entry}, {}}, attestation);
}

void expect_refused(const Result<ImageVerificationOutcome>& r, const std::string& message) {
  ASSERT_FALSE(r.ok()) << "passed or failed instead of refusing: " << message;
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(r.error().message, message);
}

TEST(NotaryVerifier, SettingsItCannotHonourAreRefused) {
  Attestor a = certificates_entry();
  a.annotations["team"] = "x";
  expect_refused(verify_with(a), ".entries[0].annotations: not supported for type Notary");
  a = certificates_entry();
  a.repository = "registry.invalid/signatures";
  expect_refused(verify_with(a), ".entries[0].repository: not supported for type Notary");
  a = certificates_entry();
  a.certificates->rekor = Rekor{};
  expect_refused(verify_with(a), ".entries[0].certificates.rekor: type Notary has no transparency log to check (leave rekor out)");
  a = certificates_entry();
  a.certificates->ctlog = CTLog{};
  expect_refused(verify_with(a),
                 ".entries[0].certificates.ctlog: type Notary has no certificate transparency to check (leave ctlog out)");
  a = certificates_entry();
  a.certificates.reset();
  a.keys = KeyAttestor{};
  expect_refused(verify_with(a), ".entries[0]: type Notary needs certificates (cert, certChain)");
  a = certificates_entry();
  a.certificates->cert = "not PEM";
  EXPECT_FALSE(verify_with(a).ok());
  ImageVerification rule;
  rule.repository = "registry.invalid/signatures";
  expect_refused(verify_with(certificates_entry(), nullptr, rule), "repository is not supported for type Notary");
  Attestation untyped;
  expect_refused(verify_with(certificates_entry(), &untyped), "attestation: type is required");
}

TEST(NotaryVerifier, SettingsThatOnlyTurnOffChecksItDoesNotHaveAreAccepted) {
  // rekor.ignoreTlog and ctlog.ignoreSCT ask for nothing: verification goes on to the registry,
  // which cannot be reached (an error, not a refusal of the entry).
  Attestor a = certificates_entry();
  a.certificates->rekor = Rekor{};
  a.certificates->rekor->ignore_tlog = true;
  a.certificates->ctlog = CTLog{};
  a.certificates->ctlog->ignore_sct = true;
  auto r = verify_with(a);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.find(".entries[0]"), std::string::npos) << r.error().message;
}

TEST(NotaryVerifier, WithoutAttestorsNothingVerifies) {
  Attestation sbom;
  sbom.type = "application/vnd.cyclonedx+json";
  ImageVerification rule;
  rule.type = "Notary";
  const std::vector<const Attestation*> questions{nullptr, &sbom};
  for (const Attestation* attestation : questions) {
    auto r = notary_image_verifier({})->verify(kImage, rule, AttestorSet{}, attestation);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_FALSE(r->verified);
    EXPECT_EQ(r->reason, "no attestors");
    EXPECT_TRUE(r->predicates.empty());
  }
}

}  // namespace
}  // namespace vouch::verifiers
