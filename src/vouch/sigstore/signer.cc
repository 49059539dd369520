#include "vouch/sigstore/signer.h"

namespace vouch::sigstore {

std::string public_key_hint(const crypto::PublicKey& key) { return base64_encode(crypto::sha256(key.der())); }

Result<Bundle> sign_blob_with_key(const crypto::PrivateKey& key, ByteView artifact) {
  Bundle b;
  b.media_type = std::string(kBundleMediaTypeV03);
  b.version = BundleVersion::kV03;
  b.material.public_key_hint = to_bytes(public_key_hint(key.public_key()));
  MessageSignature ms;
  crypto::HashAlgorithm alg = key.default_hash();
  ms.digest_algorithm = alg;
  ms.digest = crypto::digest(alg, artifact);
  VOUCH_ASSIGN_OR_RETURN(ms.signature, key.sign(artifact, alg));
  b.content = std::move(ms);
  return b;
}

}  // namespace vouch::sigstore
