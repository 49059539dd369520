// Who signs: a Signer signs bytes and says what verification material goes with the
// signature (sigstore-go's Keypair with its certificate provider). A key file is one signer
// (KeySigner); a keyless signer (an ephemeral key with a certificate from a CA for an OIDC
// identity) is another, with the same interface.
#pragma once

#include <vector>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"
#include "vouch/crypto/digest.h"
#include "vouch/crypto/keys.h"
#include "vouch/crypto/x509.h"

namespace vouch::sigstore {

// What a verifier is given with the signature.
struct SignerMaterial {
  crypto::PublicKey public_key;                        // verifies the signature
  std::vector<crypto::Certificate> certificate_chain;  // leaf first; empty for a managed key

  bool has_certificate() const { return !certificate_chain.empty(); }
  // What a log entry records as the signer: the leaf certificate, else the public key (PEM).
  std::string pem() const;
};

class Signer {
 public:
  virtual ~Signer() = default;

  // Signs `data`, hashing it with hash_algorithm().
  virtual Result<Bytes> sign(ByteView data) const = 0;
  virtual crypto::HashAlgorithm hash_algorithm() const = 0;
  virtual const SignerMaterial& material() const = 0;
};

// A managed key (cosign.key): the signature goes with a hint at the public key only.
class KeySigner final : public Signer {
 public:
  explicit KeySigner(crypto::PrivateKey key);

  Result<Bytes> sign(ByteView data) const override { return key_.sign(data, key_.default_hash()); }
  crypto::HashAlgorithm hash_algorithm() const override { return key_.default_hash(); }
  const SignerMaterial& material() const override { return material_; }

 private:
  crypto::PrivateKey key_;
  SignerMaterial material_;
};

}  // namespace vouch::sigstore
