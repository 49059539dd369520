// Check: the signature covers the artifact.
#include "checks.h"
#include "vouch/intoto/dsse.h"
#include "vouch/intoto/statement.h"

namespace vouch::sigstore::checks {
namespace {

Status verify_message_signature(const MessageSignature& ms, const Artifact& artifact, const crypto::PublicKey& key) {
  crypto::HashAlgorithm alg = ms.digest_algorithm.value_or(key.default_hash());
  if (key.type() == crypto::KeyType::kEd25519) {
    if (!artifact.has_bytes()) return invalid_input("signature: an Ed25519 signature needs the artifact, not its digest");
    auto st = key.verify(artifact.bytes(), ms.signature, alg);
    if (!st.ok()) return verification_failed("signature: the signature does not verify over the artifact");
    return ok_status();
  }
  auto digest = artifact.digest(alg);
  if (!digest.ok()) return std::move(digest).error().context("signature");
  if (ms.digest_algorithm && !bytes_equal(*digest, ms.digest))
    return verification_failed("signature: the artifact's digest does not match the bundle's message digest");
  auto st = key.verify_digest(*digest, ms.signature, alg);
  if (!st.ok()) return verification_failed("signature: the signature does not verify over the artifact");
  return ok_status();
}

// The artifact must be one of the in-toto statement's subjects.
Status check_subjects(const DsseEnvelope& env, const Artifact& artifact) {
  auto statement = intoto::parse_statement(env.payload);
  if (!statement.ok()) return std::move(statement).error().context("signature");
  for (const auto& subject : statement->subjects) {
    for (const auto& [name, hex] : subject.digest) {
      auto alg = crypto::hash_from_name(name);
      if (!alg.ok()) continue;
      auto have = artifact.digest(*alg);
      if (have.ok() && statement->has_subject_digest(name, hex_encode(*have))) return ok_status();
    }
  }
  return verification_failed("signature: the artifact's digest is not among the in-toto statement's subjects");
}

}  // namespace

Status verify_signature(const SignedEntity& entity, const Artifact& artifact, const crypto::PublicKey& key) {
  if (const auto* ms = std::get_if<MessageSignature>(&entity.signature_content())) return verify_message_signature(*ms, artifact, key);
  const auto& env = std::get<DsseEnvelope>(entity.signature_content());
  if (env.signatures.size() != 1)
    return invalid_input(fmt::format("signature: DSSE envelope has {} signatures, want exactly 1", env.signatures.size()));
  Bytes pae = intoto::pae(env.payload_type, env.payload);
  if (!key.verify(pae, env.signatures.front().sig, key.default_hash()).ok())
    return verification_failed("signature: the DSSE envelope's signature does not verify");
  if (env.payload_type == intoto::kInTotoPayloadType) return check_subjects(env, artifact);
  if (artifact.has_bytes() && bytes_equal(artifact.bytes(), env.payload)) return ok_status();
  return verification_failed(
      fmt::format("signature: DSSE payload type '{}' is not an in-toto statement and the payload is not the artifact",
                  env.payload_type));
}

}  // namespace vouch::sigstore::checks
