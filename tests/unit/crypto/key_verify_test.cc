// Public keys keep the contexts they verified with for the next verification: a kept context
// must give the same answers as a new one, whatever was verified with it before (another digest,
// another padding, a signature that failed), from any number of threads.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <atomic>
#include <thread>
#include <vector>

#include "../testdata.h"
#include "vouch/crypto/certificate_builder.h"
#include "vouch/crypto/keys.h"

namespace vouch::crypto {
namespace {

Bytes flipped(Bytes sig) {
  sig[sig.size() / 2] ^= 0x01;
  return sig;
}

TEST(KeyVerifyContexts, EcdsaAnswersStayRightAcrossDigestsAndFailures) {
  auto key = PrivateKey::generate(KeyType::kEcdsaP256).value();
  const PublicKey pub = key.public_key();
  const std::string message = "kept contexts";
  const Bytes sig256 = key.sign(as_bytes(message), HashAlgorithm::kSha256).value();
  const Bytes sig384 = key.sign(as_bytes(message), HashAlgorithm::kSha384).value();
  for (int round = 0; round < 20; ++round) {
    EXPECT_TRUE(pub.verify(as_bytes(message), sig256, HashAlgorithm::kSha256).ok());
    EXPECT_FALSE(pub.verify(as_bytes(message), flipped(sig256), HashAlgorithm::kSha256).ok());
    EXPECT_TRUE(pub.verify(as_bytes(message), sig384, HashAlgorithm::kSha384).ok());
    EXPECT_FALSE(pub.verify(as_bytes(message), sig384, HashAlgorithm::kSha256).ok());
    EXPECT_FALSE(pub.verify(as_bytes(message), sig256, HashAlgorithm::kSha384).ok());
    EXPECT_TRUE(pub.verify_digest(sha256(message), sig256, HashAlgorithm::kSha256).ok());
    EXPECT_FALSE(pub.verify(as_bytes(message + "!"), sig256, HashAlgorithm::kSha256).ok());
  }
  // A copy shares the kept contexts and answers the same.
  PublicKey copy = pub;
  EXPECT_TRUE(copy.verify(as_bytes(message), sig256, HashAlgorithm::kSha256).ok());
  EXPECT_FALSE(copy.verify(as_bytes(message), flipped(sig384), HashAlgorithm::kSha384).ok());
}

// A PKCS#1 v1.5 and a PSS signature over one message, as OpenSSL makes them.
Bytes rsa_sign(const PrivateKey& key, std::string_view message, bool pss) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  EXPECT_EQ(EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), nullptr, key.get()), 1);
  if (pss) {
    EXPECT_EQ(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
    EXPECT_EQ(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST), 1);
  }
  size_t len = 0;
  EXPECT_EQ(EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(message.data()), message.size()), 1);
  Bytes sig(len);
  EXPECT_EQ(EVP_DigestSign(ctx, sig.data(), &len, reinterpret_cast<const unsigned char*>(message.data()), message.size()),
            1);
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  return sig;
}

TEST(KeyVerifyContexts, RsaPaddingsAreNeverMixedUp) {
  auto key = PrivateKey::from_pem(vouch::testing::read_testdata("tuf/python-tuf/tests/repository_data/keystore/root_key"));
  ASSERT_TRUE(key.ok()) << key.error().message;
  ASSERT_EQ(key->type(), KeyType::kRsa);
  const PublicKey pub = key->public_key();
  const std::string message = "one key, two paddings";
  const Bytes pkcs1 = rsa_sign(*key, message, false);
  const Bytes pss = rsa_sign(*key, message, true);
  for (int round = 0; round < 5; ++round) {
    EXPECT_TRUE(pub.verify(as_bytes(message), pkcs1, HashAlgorithm::kSha256, RsaPadding::kPkcs1v15).ok());
    EXPECT_FALSE(pub.verify(as_bytes(message), pkcs1, HashAlgorithm::kSha256, RsaPadding::kPss).ok());
    EXPECT_TRUE(pub.verify(as_bytes(message), pss, HashAlgorithm::kSha256, RsaPadding::kPss).ok());
    EXPECT_FALSE(pub.verify(as_bytes(message), pss, HashAlgorithm::kSha256, RsaPadding::kPkcs1v15).ok());
    EXPECT_FALSE(pub.verify(as_bytes(message), flipped(pss), HashAlgorithm::kSha256, RsaPadding::kPss).ok());
  }
}

TEST(KeyVerifyContexts, ManyThreadsShareOneKey) {
  auto key = PrivateKey::generate(KeyType::kEcdsaP256).value();
  const PublicKey pub = key.public_key();
  std::vector<std::string> messages;
  std::vector<Bytes> sigs;
  for (int i = 0; i < 8; ++i) {
    messages.push_back("message " + std::to_string(i));
    sigs.push_back(key.sign(as_bytes(messages.back())).value());
  }
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        size_t m = static_cast<size_t>(t + i) % messages.size();
        if (!pub.verify(as_bytes(messages[m]), sigs[m]).ok()) ++wrong;
        if (pub.verify(as_bytes(messages[m]), sigs[(m + 1) % sigs.size()]).ok()) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(KeyVerifyContexts, CertificateKeysAreTheirSubjectPublicKeyInfo) {
  const UnixSeconds now = now_unix();
  for (KeyType type : {KeyType::kEcdsaP256, KeyType::kEcdsaP384, KeyType::kEd25519}) {
    auto key = PrivateKey::generate(type).value();
    CertificateTemplate t;
    t.subject = {{"CN", "spki"}};
    t.not_before = now - 60;
    t.not_after = now + 60;
    t.public_key = key.public_key();
    t.is_ca = true;
    t.key_usage.cert_sign = true;
    auto cert = sign_certificate(t, key);
    ASSERT_TRUE(cert.ok()) << cert.error().message;
    // The certificate's own encoding of the key, and OpenSSL's encoding of the parsed key, agree.
    EXPECT_EQ(cert->public_key().der(), key.public_key().der()) << key_type_name(type);
    EXPECT_TRUE(cert->public_key().equals(PublicKey::from_der(cert->public_key().der()).value()));
    EXPECT_EQ(cert->public_key().type(), type);
    auto sig = key.sign(as_bytes(std::string_view("spki")));
    EXPECT_TRUE(cert->public_key().verify(as_bytes(std::string_view("spki")), *sig).ok());
  }
}

}  // namespace
}  // namespace vouch::crypto
