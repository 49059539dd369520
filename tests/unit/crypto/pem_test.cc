// PEM blocks written as Go and OpenSSL write them, and read back.
#include <gtest/gtest.h>

#include "vouch/crypto/certificate_builder.h"
#include "vouch/crypto/pem.h"

namespace vouch::crypto {
namespace {

TEST(PemWrite, LaysOutBlocksAsOpenSslDoes) {
  auto key = PrivateKey::generate(KeyType::kEcdsaP256).value();
  CertificateTemplate t;
  t.subject = {{"CN", "pem"}};
  t.not_before = now_unix() - 60;
  t.not_after = now_unix() + 60;
  t.public_key = key.public_key();
  t.is_ca = true;
  t.key_usage.cert_sign = true;
  auto cert = sign_certificate(t, key);
  ASSERT_TRUE(cert.ok()) << cert.error().message;
  EXPECT_EQ(write_pem_block("CERTIFICATE", cert->der()), cert->pem());
  EXPECT_EQ(write_pem_block("PUBLIC KEY", key.public_key().der()), key.public_key().pem());

  for (size_t size : {1, 47, 48, 49, 96, 1000}) {
    Bytes der(size, 0xa5);
    std::string pem = write_pem_block("TEST", der);
    for (size_t line = 0, at = 0; at < pem.size(); ++line) {
      size_t end = pem.find('\n', at);
      ASSERT_NE(end, std::string::npos);
      EXPECT_LE(end - at, 64u) << "line " << line << " of a " << size << "-byte block";
      at = end + 1;
    }
    auto block = read_pem_block(pem, "TEST");
    ASSERT_TRUE(block.ok()) << size << ": " << block.error().message;
    EXPECT_EQ(block->der, der);
  }
}

}  // namespace
}  // namespace vouch::crypto
