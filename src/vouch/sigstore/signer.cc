#include "vouch/sigstore/signer.h"

namespace vouch::sigstore {

std::string SignerMaterial::pem() const {
  return has_certificate() ? certificate_chain.front().pem() : public_key.pem();
}

KeySigner::KeySigner(crypto::PrivateKey key) : key_(std::move(key)) { material_.public_key = key_.public_key(); }

}  // namespace vouch::sigstore
