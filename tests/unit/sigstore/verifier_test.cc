// A Verifier prepared once: its chain cache must never let a bundle pass that a verification
// without it fails (at any time, near every validity boundary, for any other certificate of the
// same CA), and its batches must give each bundle the result it gets on its own.
#include <gtest/gtest.h>

#include <memory>

#include "vouch/base/json.h"
#include "vouch/crypto/certificate_builder.h"
#include "vouch/sigstore/sign.h"
#include "vouch/sigstore/verifier.h"

namespace vouch::sigstore {
namespace {

constexpr UnixSeconds kT0 = 1'700'000'000;  // the leaves' notBefore
constexpr UnixSeconds kLeafLifetime = 600;
constexpr char kEmail[] = "signer@vouch.test";
constexpr char kIssuer[] = "https://issuer.vouch.test";

// A signing key with its certificate, as a keyless signer holds them.
class CertificateSigner final : public Signer {
 public:
  CertificateSigner(crypto::PrivateKey key, crypto::Certificate leaf) : key_(std::move(key)) {
    material_.public_key = key_.public_key();
    material_.certificate_chain = {std::move(leaf)};
  }
  Result<Bytes> sign(ByteView data) const override { return key_.sign(data, crypto::HashAlgorithm::kSha256); }
  crypto::HashAlgorithm hash_algorithm() const override { return crypto::HashAlgorithm::kSha256; }
  const SignerMaterial& material() const override { return material_; }

 private:
  crypto::PrivateKey key_;
  SignerMaterial material_;
};

// A Fulcio-like CA: root and intermediate, valid from kT0 - 1 day to `ca_not_after`.
struct Ca {
  crypto::PrivateKey key = crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256).value();
  crypto::CaPair pair;

  explicit Ca(UnixSeconds ca_not_after) {
    auto root_key = crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256).value();
    pair = crypto::create_ca_pair(root_key, key,
                                  {.root_subject = {{"O", "vouch.test"}, {"CN", "verifier root"}},
                                   .intermediate_subject = {{"O", "vouch.test"}, {"CN", "verifier intermediate"}},
                                   .not_before = kT0 - 86400,
                                   .not_after = ca_not_after})
               .value();
  }

  // The CA as a trusted root lists it (read back from JSON, so its chain is checked on load).
  std::shared_ptr<const TrustedRoot> trusted_root(std::optional<UnixSeconds> trusted_until = std::nullopt) const {
    TrustedRoot root;
    CertificateAuthority authority;
    authority.uri = "https://fulcio.vouch.test";
    authority.chain = {pair.intermediate, pair.root};
    authority.valid_for = {kT0 - 86400, trusted_until};
    root.certificate_authorities.push_back(authority);
    auto parsed = parse_trusted_root(json::serialize(trusted_root_json(root)));
    EXPECT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_TRUE(parsed->certificate_authorities.at(0).chain_verified);
    return std::make_shared<const TrustedRoot>(std::move(parsed).value());
  }
};

struct Signed {
  Bundle bundle;
  Artifact artifact = Artifact::from_bytes("");
};

// A bundle over `artifact` by a new key with a certificate from `ca`, valid kT0 to kT0 + 600.
Signed sign_with(const Ca& ca, std::string artifact) {
  auto key = crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256).value();
  crypto::CertificateTemplate t;
  t.not_before = kT0;
  t.not_after = kT0 + kLeafLifetime;
  t.public_key = key.public_key();
  t.key_usage.digital_signature = true;
  t.code_signing_eku = true;
  t.subject_alt_names.emails = {kEmail};
  t.fulcio.issuer = kIssuer;
  auto leaf = crypto::sign_certificate(t, ca.key, ca.pair.intermediate);
  EXPECT_TRUE(leaf.ok()) << leaf.error().message;
  CertificateSigner signer(key, *leaf);
  Signed s;
  s.bundle = sign_blob(signer, as_bytes(artifact)).value();
  s.artifact = Artifact::from_bytes(std::move(artifact));
  return s;
}

// Keyless, at time `at`: no log entry and no SCT, so the chain check runs at exactly that time.
VerifyPolicy at_time(UnixSeconds at) {
  VerifyPolicy p;
  p.identities.push_back({StringMatcher::exact(kEmail), StringMatcher::exact(kIssuer)});
  p.ignore_tlog = true;
  p.ignore_sct = true;
  p.now = at;
  return p;
}

// The same answer from `cached` as from a verification that prepares everything afresh.
void expect_same_answer(const Verifier& cached, const Signed& s, const TrustedMaterial& trusted, UnixSeconds at) {
  auto fresh = verify_bundle(s.bundle, s.artifact, trusted, at_time(at));
  auto via_cache = cached.verify_bundle(s.bundle, s.artifact, at_time(at));
  ASSERT_EQ(fresh.ok(), via_cache.ok()) << "at kT0 + " << at - kT0 << ": "
                                        << (fresh.ok() ? via_cache.error().message : fresh.error().message);
  if (!fresh.ok()) {
    EXPECT_EQ(fresh.error().message, via_cache.error().message) << "at kT0 + " << at - kT0;
    EXPECT_EQ(fresh.error().code, via_cache.error().code);
  }
}

TEST(VerifierChainCache, ARememberedChainIsCheckedAtEveryTime) {
  // The CA's certificates expire at kT0 + 300, halfway through the leaf's life; then the CA's
  // certificates live on but the trusted root stops trusting it at kT0 + 300.
  const Ca short_lived(kT0 + 300);
  const Ca long_lived(kT0 + 86400);
  struct Scenario {
    const Ca& ca;
    std::optional<UnixSeconds> trusted_until;
  };
  for (const Scenario& sc : {Scenario{short_lived, std::nullopt}, Scenario{long_lived, kT0 + 300}}) {
    auto trusted = sc.ca.trusted_root(sc.trusted_until);
    const Signed s = sign_with(sc.ca, "artifact");
    Verifier cached(trusted);
    ASSERT_TRUE(cached.verify_bundle(s.bundle, s.artifact, at_time(kT0 + 100)).ok());
    ASSERT_EQ(cached.chain_cache_stats().misses, 1u);

    for (UnixSeconds offset : {-86401, -1, 0, 1, 2, 100, 298, 299, 300, 301, 302, 599, 600, 601, 86400})
      expect_same_answer(cached, s, *trusted, kT0 + offset);
    EXPECT_GT(cached.chain_cache_stats().hits, 0u);

    EXPECT_TRUE(cached.verify_bundle(s.bundle, s.artifact, at_time(kT0 + 299)).ok());
    EXPECT_FALSE(cached.verify_bundle(s.bundle, s.artifact, at_time(kT0 + 301)).ok());
    EXPECT_FALSE(cached.verify_bundle(s.bundle, s.artifact, at_time(kT0 + 601)).ok());
    EXPECT_FALSE(cached.verify_bundle(s.bundle, s.artifact, at_time(kT0 - 1)).ok());
  }
}

TEST(VerifierChainCache, AnyOtherCertificateOfTheSameCaIsCheckedInFull) {
  const Ca ca(kT0 + 86400);
  auto trusted = ca.trusted_root();
  Verifier cached(trusted);
  const Signed genuine = sign_with(ca, "artifact");
  ASSERT_TRUE(cached.verify_bundle(genuine.bundle, genuine.artifact, at_time(kT0 + 100)).ok());
  ASSERT_TRUE(cached.verify_bundle(genuine.bundle, genuine.artifact, at_time(kT0 + 200)).ok());
  ASSERT_EQ(cached.chain_cache_stats().hits, 1u);

  // Another leaf of the same intermediate is verified in full (a miss), and passes on its own merit.
  const Signed sibling = sign_with(ca, "another artifact");
  EXPECT_TRUE(cached.verify_bundle(sibling.bundle, sibling.artifact, at_time(kT0 + 100)).ok());
  EXPECT_EQ(cached.chain_cache_stats().hits, 1u);

  // A leaf from an impostor CA whose certificates carry the same names.
  const Ca impostor(kT0 + 86400);
  const Signed forged = sign_with(impostor, "artifact");
  // The genuine leaf with its signature altered: the same TBSCertificate, other bytes.
  Signed tampered = genuine;
  Bytes der = genuine.bundle.material.certificate->der();
  der[der.size() - 1] ^= 0x01;
  tampered.bundle.material.certificate = crypto::Certificate::from_der(der).value();
  for (const Signed* bad : {&forged, static_cast<const Signed*>(&tampered)}) {
    for (int round = 0; round < 2; ++round) {
      auto r = cached.verify_bundle(bad->bundle, bad->artifact, at_time(kT0 + 100));
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().code, ErrorCode::kVerification);
      EXPECT_EQ(r.error().message.rfind("certificate chain:", 0), 0u) << r.error().message;
      expect_same_answer(cached, *bad, *trusted, kT0 + 100);
    }
  }
  // Failures are never remembered: nothing but the genuine leaf's second look was a hit.
  EXPECT_EQ(cached.chain_cache_stats().hits, 1u);
}

TEST(VerifierChainCache, TurnedOffItRemembersNothing) {
  const Ca ca(kT0 + 86400);
  Verifier verifier(ca.trusted_root(), {.chain_cache_entries = 0});
  const Signed s = sign_with(ca, "artifact");
  EXPECT_TRUE(verifier.verify_bundle(s.bundle, s.artifact, at_time(kT0 + 100)).ok());
  EXPECT_TRUE(verifier.verify_bundle(s.bundle, s.artifact, at_time(kT0 + 100)).ok());
  EXPECT_EQ(verifier.chain_cache_stats().hits, 0u);
  EXPECT_EQ(verifier.chain_cache_stats().misses, 0u);
}

TEST(VerifierChainCache, TheOldestEntryGoesFirst) {
  const Ca ca(kT0 + 86400);
  Verifier verifier(ca.trusted_root(), {.chain_cache_entries = 2});
  const Signed a = sign_with(ca, "a"), b = sign_with(ca, "b"), c = sign_with(ca, "c");
  for (const Signed* s : {&a, &b, &c}) ASSERT_TRUE(verifier.verify_bundle(s->bundle, s->artifact, at_time(kT0 + 100)).ok());
  EXPECT_EQ(verifier.chain_cache_stats().misses, 3u);
  EXPECT_TRUE(verifier.verify_bundle(c.bundle, c.artifact, at_time(kT0 + 100)).ok());
  EXPECT_EQ(verifier.chain_cache_stats().hits, 1u);
  EXPECT_TRUE(verifier.verify_bundle(a.bundle, a.artifact, at_time(kT0 + 100)).ok());
  EXPECT_EQ(verifier.chain_cache_stats().hits, 1u);
  EXPECT_EQ(verifier.chain_cache_stats().misses, 4u);
}

TEST(VerifierBatch, EveryBundleGetsTheResultItGetsAlone) {
  const Ca ca(kT0 + 86400);
  const Ca impostor(kT0 + 86400);
  auto trusted = ca.trusted_root();
  std::vector<Signed> signed_bundles;
  for (int i = 0; i < 16; ++i)
    signed_bundles.push_back(sign_with(i % 4 == 1 ? impostor : ca, "artifact " + std::to_string(i)));
  std::vector<BundleInput> inputs;
  const Artifact other = Artifact::from_bytes("not what was signed");
  for (size_t i = 0; i < signed_bundles.size(); ++i)
    inputs.push_back({&signed_bundles[i].bundle, i % 4 == 2 ? &other : &signed_bundles[i].artifact});
  inputs.push_back({nullptr, &other});

  const Verifier verifier(trusted, {.chain_cache_entries = 0});
  const VerifyPolicy policy = at_time(kT0 + 100);
  auto results = verifier.verify_bundles(inputs, policy);
  auto again = verify_bundles(inputs, *trusted, policy);
  ASSERT_EQ(results.size(), inputs.size());
  ASSERT_EQ(again.size(), inputs.size());
  for (size_t i = 0; i + 1 < inputs.size(); ++i) {
    auto alone = verifier.verify_bundle(*inputs[i].bundle, *inputs[i].artifact, policy);
    EXPECT_EQ(results[i].ok(), i % 4 == 0 || i % 4 == 3) << i;
    ASSERT_EQ(results[i].ok(), alone.ok()) << i;
    ASSERT_EQ(again[i].ok(), alone.ok()) << i;
    if (alone.ok()) {
      EXPECT_EQ(results[i]->signer->sans, alone->signer->sans);
    } else {
      EXPECT_EQ(results[i].error().message, alone.error().message) << i;
      EXPECT_EQ(again[i].error().message, alone.error().message) << i;
    }
  }
  ASSERT_FALSE(results.back().ok());
  EXPECT_EQ(results.back().error().code, ErrorCode::kInvalidInput);
  EXPECT_TRUE(verifier.verify_bundles({}, policy).empty());
}

}  // namespace
}  // namespace vouch::sigstore
