// Test PKI for Notary Project signatures: keys of every supported size and curve, a root CA and
// code-signing leaves under it, made at test time.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "vouch/base/file.h"
#include "vouch/crypto/certificate_builder.h"
#include "vouch/crypto/keys.h"
#include "vouch/crypto/x509.h"

namespace vouch::notation::testing {

// One key per (type, bits), made once per test process. RSA keys come from
// tests/unit/notation/testdata (generating 3072- and 4096-bit keys takes seconds).
inline const crypto::PrivateKey& test_key(crypto::KeyType type, int rsa_bits = 0) {
  static std::map<std::pair<crypto::KeyType, int>, crypto::PrivateKey> keys;
  auto it = keys.find({type, rsa_bits});
  if (it != keys.end()) return it->second;
  crypto::PrivateKey key;
  if (type == crypto::KeyType::kRsa) {
    auto pem = read_file(std::filesystem::path(VOUCH_SOURCE_DIR) / "tests/unit/notation/testdata" /
                         ("rsa" + std::to_string(rsa_bits) + ".pem"));
    key = crypto::PrivateKey::from_pem(pem.value()).value();
  } else {
    key = crypto::PrivateKey::generate(type).value();
  }
  return keys.emplace(std::make_pair(type, rsa_bits), std::move(key)).first->second;
}

struct TestPki {
  crypto::PrivateKey root_key;
  crypto::Certificate root;
};

inline crypto::DistinguishedName name(const std::string& cn, const std::string& org = "Acme") {
  return {{"C", "US"}, {"ST", "WA"}, {"L", "Seattle"}, {"O", org}, {"CN", cn}};
}

inline TestPki make_root(const std::string& cn, UnixSeconds now, const std::string& org = "Acme") {
  TestPki pki{test_key(crypto::KeyType::kEcdsaP256), {}};
  if (cn != "Test Root") pki.root_key = crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256).value();
  crypto::CertificateTemplate t;
  t.subject = name(cn, org);
  t.not_before = now - 86400;
  t.not_after = now + 10 * 365 * 86400;
  t.public_key = pki.root_key.public_key();
  t.is_ca = true;
  t.key_usage.cert_sign = true;
  t.key_usage.crl_sign = true;
  pki.root = crypto::sign_certificate(t, pki.root_key).value();
  return pki;
}

inline crypto::Certificate make_leaf(const TestPki& pki, const crypto::PrivateKey& key, const std::string& cn,
                                     UnixSeconds not_before, UnixSeconds not_after, const std::string& org = "Acme") {
  crypto::CertificateTemplate t;
  t.subject = name(cn, org);
  t.not_before = not_before;
  t.not_after = not_after;
  t.public_key = key.public_key();
  t.key_usage.digital_signature = true;
  t.code_signing_eku = true;
  return crypto::sign_certificate(t, pki.root_key, pki.root).value();
}

}  // namespace vouch::notation::testing
