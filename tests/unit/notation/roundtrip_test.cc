// Envelopes signed at test time for every supported key, then verified, changed, and verified
// under each verification level.
#include <gtest/gtest.h>

#include "notation_pki.h"
#include "vouch/notation/cbor.h"
#include "vouch/notation/envelope.h"
#include "vouch/notation/trust_policy.h"
#include "vouch/notation/verifier.h"

namespace vouch::notation {
namespace {

using testing::make_leaf;
using testing::make_root;
using testing::test_key;

constexpr UnixSeconds kDay = 86400;

TargetArtifact image() {
  return {"application/vnd.oci.image.manifest.v1+json",
          "sha256:0000000000000000000000000000000000000000000000000000000000000001", 1234, {{"build", "7"}}, {}};
}

TrustPolicyDocument policy(const std::string& level, const std::string& identity = "x509.subject:C=US,ST=WA,O=Acme",
                           const std::string& scope = "registry.example/app") {
  return parse_trust_policy(R"({"version":"1.0","trustPolicies":[{"name":"app","registryScopes":[")" + scope +
                            R"("],"signatureVerification":{"level":")" + level +
                            R"("},"trustStores":["ca:acme"],"trustedIdentities":[")" + identity + R"("]}]})")
      .value();
}

struct Signed {
  Bytes envelope;
  EnvelopeFormat format;
};

class NotationRoundTrip : public ::testing::Test {
 protected:
  void SetUp() override {
    now_ = now_unix();
    pki_ = make_root("Test Root", now_);
    store_ = TrustStore::in_memory({{{TrustStoreType::kCa, "acme"}, {pki_.root}}});
  }

  Signed sign(const crypto::PrivateKey& key, EnvelopeFormat format, std::optional<UnixSeconds> expiry = std::nullopt,
              std::optional<std::pair<UnixSeconds, UnixSeconds>> validity = std::nullopt,
              const std::string& org = "Acme") {
    auto [nb, na] = validity.value_or(std::make_pair(now_ - kDay, now_ + 30 * kDay));
    auto leaf = make_leaf(pki_, key, "signer", nb, na, org);
    SignOptions options;
    options.format = format;
    options.signing_time = now_;
    options.expiry = expiry;
    auto env = sign_envelope(image(), key, {leaf, pki_.root}, options);
    EXPECT_TRUE(env.ok()) << env.error().message;
    return {env.value(), format};
  }

  VerificationOutcome verify(const Signed& s, const TrustPolicyDocument& doc, const std::string& scope = "registry.example/app") {
    VerifyRequest request{s.envelope, s.format, image(), scope, {}};
    auto outcome = verify_envelope(request, {&doc, &store_, now_});
    EXPECT_TRUE(outcome.ok()) << outcome.error().message;
    return outcome.value();
  }

  UnixSeconds now_ = 0;
  testing::TestPki pki_;
  TrustStore store_ = TrustStore::in_memory({});
};

TEST_F(NotationRoundTrip, EverySupportedKeySignsAndVerifiesInBothFormats) {
  struct Case {
    crypto::KeyType type;
    int bits;
    SignatureAlgorithm alg;
  };
  for (const Case& c : {Case{crypto::KeyType::kRsa, 2048, SignatureAlgorithm::kPs256},
                        Case{crypto::KeyType::kRsa, 3072, SignatureAlgorithm::kPs384},
                        Case{crypto::KeyType::kRsa, 4096, SignatureAlgorithm::kPs512},
                        Case{crypto::KeyType::kEcdsaP256, 0, SignatureAlgorithm::kEs256},
                        Case{crypto::KeyType::kEcdsaP384, 0, SignatureAlgorithm::kEs384},
                        Case{crypto::KeyType::kEcdsaP521, 0, SignatureAlgorithm::kEs512}}) {
    for (auto format : {EnvelopeFormat::kJws, EnvelopeFormat::kCose}) {
      SCOPED_TRACE(std::string(algorithm_name(c.alg)) + " " + std::string(envelope_media_type(format)));
      const auto& key = test_key(c.type, c.bits);
      auto s = sign(key, format, now_ + kDay);
      EXPECT_EQ(detect_envelope_format(s.envelope).value(), format);
      auto env = parse_envelope(s.envelope, format).value();
      EXPECT_EQ(env.algorithm, c.alg);
      EXPECT_EQ(env.chain.size(), 2u);
      EXPECT_EQ(env.expiry, now_ + kDay);
      auto outcome = verify(s, policy("strict"));
      EXPECT_TRUE(outcome.verified) << outcome.failure;
      EXPECT_EQ(outcome.results.size(), 4u);
      EXPECT_EQ(outcome.target->annotations.at("build"), "7");

      // The algorithm must be the key's: the same signature under another algorithm is refused.
      env.algorithm = c.alg == SignatureAlgorithm::kPs256 ? SignatureAlgorithm::kPs384 : SignatureAlgorithm::kPs256;
      auto wrong = verify_envelope_signature(env);
      ASSERT_FALSE(wrong.ok());
      EXPECT_NE(wrong.error().message.find("does not match the signing certificate's key"), std::string::npos);
    }
  }
}

TEST_F(NotationRoundTrip, CoseEnvelopeHasTheSpecifiedShape) {
  auto s = sign(test_key(crypto::KeyType::kEcdsaP256), EnvelopeFormat::kCose, now_ + kDay);
  auto top = cbor_decode(s.envelope).value();
  ASSERT_EQ(top.tag, 18u);
  const auto& msg = top.items[0];
  auto header = cbor_decode(as_bytes(msg.items[0].string)).value();
  EXPECT_EQ(header.find(1)->integer, -7);
  EXPECT_EQ(header.find(3)->string, kPayloadMediaType);
  EXPECT_EQ(header.find("io.cncf.notary.signingScheme")->string, "notary.x509");
  EXPECT_EQ(header.find("io.cncf.notary.expiry")->tag, 1u);
  EXPECT_EQ(header.find(2)->items.size(), 2u);
  EXPECT_EQ(msg.items[1].find(33)->items.size(), 2u);
  EXPECT_EQ(msg.items[3].string.size(), 64u);
}

TEST_F(NotationRoundTrip, ChangedPayloadFailsIntegrityAtEveryLevel) {
  for (auto format : {EnvelopeFormat::kJws, EnvelopeFormat::kCose}) {
    auto s = sign(test_key(crypto::KeyType::kEcdsaP256), format);
    // Swap a digit of the signed digest inside the envelope (the payload is base64url in JWS).
    Bytes changed = s.envelope;
    if (format == EnvelopeFormat::kCose) {
      std::string text = to_string(changed);
      auto at = text.find("0000000001");
      ASSERT_NE(at, std::string::npos);
      changed[at + 9] = '2';
    } else {
      std::string text = to_string(changed);
      auto at = text.find("\"payload\":\"") + 20;
      changed[at] = changed[at] == 'A' ? 'B' : 'A';
    }
    for (const char* level : {"strict", "permissive", "audit"}) {
      SCOPED_TRACE(level);
      auto outcome = verify({changed, format}, policy(level));
      EXPECT_FALSE(outcome.verified);
      EXPECT_NE(outcome.failure.find(std::string("integrity (enforced by level ") + level), std::string::npos) << outcome.failure;
    }
    EXPECT_TRUE(verify({changed, format}, parse_trust_policy(R"({"version":"1.0","trustPolicies":[{"name":"s","registryScopes":["*"],
        "signatureVerification":{"level":"skip"}}]})").value()).verified);
  }
}

TEST_F(NotationRoundTrip, LevelsDecideWhatEachFailureDoes) {
  const auto& key = test_key(crypto::KeyType::kEcdsaP384);
  struct Case {
    std::string name;
    Signed s;
    TrustPolicyDocument doc_strict, doc_permissive, doc_audit;
    bool permissive_ok, audit_ok;
    std::string check;
  };
  auto other = make_root("Other Root", now_);
  std::vector<Case> cases;
  cases.push_back({"expired signature", sign(key, EnvelopeFormat::kJws, now_ - 60), policy("strict"), policy("permissive"),
                   policy("audit"), true, true, "expiry"});
  cases.push_back({"certificate outside its validity",
                   sign(key, EnvelopeFormat::kCose, std::nullopt, std::make_pair(now_ - 10 * kDay, now_ - 5 * kDay)),
                   policy("strict"), policy("permissive"), policy("audit"), true, true, "authenticTimestamp"});
  cases.push_back({"wrong identity", sign(key, EnvelopeFormat::kJws, std::nullopt, std::nullopt, "Mallory"), policy("strict"),
                   policy("permissive"), policy("audit"), false, true, "authenticity"});
  {
    // Signed under another root entirely.
    auto leaf = make_leaf(other, key, "signer", now_ - kDay, now_ + kDay);
    SignOptions options;
    options.format = EnvelopeFormat::kCose;
    options.signing_time = now_;
    Signed s{sign_envelope(image(), key, {leaf, other.root}, options).value(), EnvelopeFormat::kCose};
    cases.push_back({"untrusted root", s, policy("strict"), policy("permissive"), policy("audit"), false, true, "authenticity"});
  }
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto strict = verify(c.s, c.doc_strict);
    EXPECT_FALSE(strict.verified);
    EXPECT_NE(strict.failure.find(c.check + " (enforced by level strict)"), std::string::npos) << strict.failure;
    auto permissive = verify(c.s, c.doc_permissive);
    EXPECT_EQ(permissive.verified, c.permissive_ok) << permissive.failure;
    if (c.permissive_ok) {
      ASSERT_EQ(permissive.logged.size(), 1u);
      EXPECT_NE(permissive.logged[0].find(c.check + " (logged by level permissive)"), std::string::npos);
    }
    auto audit = verify(c.s, c.doc_audit);
    EXPECT_EQ(audit.verified, c.audit_ok) << audit.failure;
    EXPECT_FALSE(audit.logged.empty());
  }
  // Overrides: expiry logged under strict.
  auto expired = sign(key, EnvelopeFormat::kJws, now_ - 60);
  auto doc = parse_trust_policy(R"({"version":"1.0","trustPolicies":[{"name":"app","registryScopes":["registry.example/app"],
      "signatureVerification":{"level":"strict","override":{"expiry":"log"}},"trustStores":["ca:acme"],"trustedIdentities":["*"]}]})")
                 .value();
  EXPECT_TRUE(verify(expired, doc).verified);
}

TEST_F(NotationRoundTrip, ScopeSelectsThePolicy) {
  auto s = sign(test_key(crypto::KeyType::kEcdsaP256), EnvelopeFormat::kJws);
  VerifyRequest request{s.envelope, s.format, image(), "registry.example/other", {}};
  auto doc = policy("strict");
  auto outcome = verify_envelope(request, {&doc, &store_, now_});
  ASSERT_FALSE(outcome.ok());
  EXPECT_NE(outcome.error().message.find("no applicable trust policy"), std::string::npos);
  // An exact scope wins over the global policy, whatever their order.
  auto both = parse_trust_policy(R"({"version":"1.0","trustPolicies":[
      {"name":"global","registryScopes":["*"],"signatureVerification":{"level":"skip"}},
      {"name":"app","registryScopes":["registry.example/app"],"signatureVerification":{"level":"strict"},
       "trustStores":["ca:acme"],"trustedIdentities":["x509.subject:C=US,ST=WA,O=Nobody"]}]})")
                  .value();
  EXPECT_FALSE(verify(s, both).verified);
  EXPECT_EQ(verify(s, both, "registry.example/other").policy, "global");
}

TEST_F(NotationRoundTrip, SigningAuthorityTimeMustLieWithinTheChainValidity) {
  auto pki = make_root("Test Root", now_ - 30 * kDay);  // valid from 31 days ago
  const auto& key = test_key(crypto::KeyType::kEcdsaP256);
  auto leaf = make_leaf(pki, key, "signer", now_ - 10 * kDay, now_ - 5 * kDay);  // expired
  auto store = TrustStore::in_memory({{{TrustStoreType::kSigningAuthority, "sa"}, {pki.root}},
                                      {{TrustStoreType::kCa, "ca"}, {pki.root}}});
  auto doc = [](const std::string& stores) {
    return parse_trust_policy(R"({"version":"1.0","trustPolicies":[{"name":"sa","registryScopes":["*"],
        "signatureVerification":{"level":"strict"},"trustStores":)" + stores + R"(,"trustedIdentities":["*"]}]})")
        .value();
  };
  auto sa_only = doc(R"(["signingAuthority:sa"])");
  auto ca_only = doc(R"(["ca:ca"])");
  for (auto format : {EnvelopeFormat::kJws, EnvelopeFormat::kCose}) {
    SCOPED_TRACE(std::string(envelope_media_type(format)));
    SignOptions options;
    options.format = format;
    options.scheme = SigningScheme::kX509SigningAuthority;
    options.signing_time = now_ - 7 * kDay;
    Bytes envelope = sign_envelope(image(), key, {leaf, pki.root}, options).value();
    auto env = parse_envelope(envelope, format).value();
    EXPECT_EQ(env.scheme, SigningScheme::kX509SigningAuthority);
    EXPECT_EQ(env.signing_time, now_ - 7 * kDay);
    VerifyRequest request{envelope, format, image(), "registry.example/app", {}};
    // The certificate has expired since, but the authentic signing time lies within its validity.
    auto outcome = verify_envelope(request, {&sa_only, &store, now_}).value();
    EXPECT_TRUE(outcome.verified) << outcome.failure;
    // A signing-authority signature is trusted through signingAuthority stores only.
    outcome = verify_envelope(request, {&ca_only, &store, now_}).value();
    EXPECT_FALSE(outcome.verified);
    EXPECT_NE(outcome.failure.find("authenticity (enforced by level strict)"), std::string::npos) << outcome.failure;

    options.signing_time = now_;
    envelope = sign_envelope(image(), key, {leaf, pki.root}, options).value();
    request.envelope = envelope;
    outcome = verify_envelope(request, {&sa_only, &store, now_}).value();
    EXPECT_FALSE(outcome.verified);
    EXPECT_NE(outcome.failure.find("authenticTimestamp (enforced by level strict): certificate"), std::string::npos)
        << outcome.failure;
    EXPECT_NE(outcome.failure.find("was not valid when the digital signature was produced"), std::string::npos);
  }
}

TEST(NotationTrustPolicy, RefusesWhatNotationRefuses) {
  auto parse = [](const std::string& statement) {
    return parse_trust_policy(R"({"version":"1.0","trustPolicies":[)" + statement + "]}");
  };
  const std::string ok_tail = R"("trustStores":["ca:x"],"trustedIdentities":["*"]})";
  EXPECT_TRUE(parse(R"({"name":"a","registryScopes":["r.io/a"],"signatureVerification":{"level":"audit"},)" + ok_tail).ok());
  for (const std::string& bad : std::vector<std::string>{
           R"({"name":"","registryScopes":["r.io/a"],"signatureVerification":{"level":"strict"},)" + ok_tail,
           R"({"name":"a","registryScopes":[],"signatureVerification":{"level":"strict"},)" + ok_tail,
           R"({"name":"a","registryScopes":["*","r.io/a"],"signatureVerification":{"level":"strict"},)" + ok_tail,
           R"({"name":"a","registryScopes":["r.io/a:tag"],"signatureVerification":{"level":"strict"},)" + ok_tail,
           R"({"name":"a","registryScopes":["r.io/a"],"signatureVerification":{"level":"lenient"},)" + ok_tail,
           R"({"name":"a","registryScopes":["r.io/a"],"signatureVerification":{"level":"strict","override":{"integrity":"log"}},)" + ok_tail,
           R"({"name":"a","registryScopes":["r.io/a"],"signatureVerification":{"level":"strict","override":{"expiry":"skip"}},)" + ok_tail,
           R"({"name":"a","registryScopes":["r.io/a"],"signatureVerification":{"level":"skip"},)" + ok_tail,
           R"({"name":"a","registryScopes":["r.io/a"],"signatureVerification":{"level":"strict","verifyTimestamp":"never"},)" + ok_tail,
           R"({"name":"a","registryScopes":["r.io/a"],"signatureVerification":{"level":"strict"},"trustStores":["pki:x"],"trustedIdentities":["*"]})",
           R"({"name":"a","registryScopes":["r.io/a"],"signatureVerification":{"level":"strict"},"trustStores":["ca:../x"],"trustedIdentities":["*"]})",
           R"({"name":"a","registryScopes":["r.io/a"],"signatureVerification":{"level":"strict"},"trustStores":["ca:x"],"trustedIdentities":["x509.subject:CN=a,O=b"]})",
           R"({"name":"a","registryScopes":["r.io/a"],"signatureVerification":{"level":"strict"},"trustStores":["ca:x"]})",
       }) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(parse(bad).ok());
  }
  EXPECT_FALSE(parse(R"({"name":"a","registryScopes":["r.io/a"],"signatureVerification":{"level":"strict"},)" + ok_tail + "," +
                     R"({"name":"b","registryScopes":["r.io/a"],"signatureVerification":{"level":"strict"},)" + ok_tail)
                   .ok());
  EXPECT_FALSE(parse_trust_policy(R"({"version":"2.0","trustPolicies":[]})").ok());
  auto level = verification_level("permissive").value();
  EXPECT_EQ(level.action(Check::kIntegrity), Action::kEnforce);
  EXPECT_EQ(level.action(Check::kAuthenticity), Action::kEnforce);
  EXPECT_EQ(level.action(Check::kExpiry), Action::kLog);
  EXPECT_EQ(level.action(Check::kAuthenticTimestamp), Action::kLog);
  EXPECT_EQ(verification_level("audit").value().action(Check::kAuthenticity), Action::kLog);
  EXPECT_EQ(verification_level("strict", {{"revocation", "skip"}}).value().action(Check::kRevocation), Action::kSkip);
}

TEST(NotationTrustPolicy, DistinguishedNamesParseWithEscapes) {
  auto dn = parse_distinguished_name(R"(C=US, S=WA, O=Acme\, Inc., CN= spaced\ )").value();
  EXPECT_EQ(dn.at("ST"), "WA");
  EXPECT_EQ(dn.at("O"), "Acme, Inc.");
  EXPECT_EQ(dn.at("CN"), "spaced ");
  EXPECT_FALSE(parse_distinguished_name("C=US+O=x").ok());
  EXPECT_FALSE(parse_distinguished_name("C=US,C=CA").ok());
  EXPECT_FALSE(parse_distinguished_name("C").ok());
  EXPECT_FALSE(parse_distinguished_name("C=").ok());
}

}  // namespace
}  // namespace vouch::notation
