#include "vouch/sigstore/sign.h"

#include <boost/json.hpp>
#include <fmt/format.h>

#include "vouch/base/json.h"

namespace vouch::sigstore {

std::string public_key_hint(const crypto::PublicKey& key) { return base64_encode(crypto::sha256(key.der())); }

VerificationMaterial bundle_material(const SignerMaterial& signer) {
  VerificationMaterial m;
  if (signer.has_certificate())
    m.certificate = signer.certificate_chain.front();
  else
    m.public_key_hint = to_bytes(public_key_hint(signer.public_key));
  return m;
}

Result<Bundle> sign_blob(const Signer& signer, ByteView artifact) {
  Bundle b;
  b.media_type = std::string(kBundleMediaTypeV03);
  b.version = BundleVersion::kV03;
  b.material = bundle_material(signer.material());
  MessageSignature ms;
  crypto::HashAlgorithm alg = signer.hash_algorithm();
  ms.digest_algorithm = alg;
  ms.digest = crypto::digest(alg, artifact);
  VOUCH_ASSIGN_OR_RETURN(ms.signature, signer.sign(artifact));
  b.content = std::move(ms);
  return b;
}

Result<DsseEnvelope> sign_dsse(const Signer& signer, std::string_view payload_type, ByteView payload) {
  DsseEnvelope e;
  e.payload.assign(payload.begin(), payload.end());
  e.payload_type = std::string(payload_type);
  VOUCH_ASSIGN_OR_RETURN(Bytes sig, signer.sign(intoto::pae(payload_type, payload)));
  e.signatures.push_back({std::move(sig), ""});
  return e;
}

Result<std::string> hashedrekord_proposal(const Bundle& bundle, const SignerMaterial& signer) {
  const auto* ms = std::get_if<MessageSignature>(&bundle.content);
  if (!ms) return invalid_input("a hashedrekord entry records a message signature, not a DSSE envelope");
  if (!ms->digest_algorithm) return invalid_input("the bundle's message signature has no digest");
  namespace bj = boost::json;
  bj::object o{{"apiVersion", "0.0.1"},
               {"kind", "hashedrekord"},
               {"spec", bj::object{{"data", bj::object{{"hash", bj::object{{"algorithm", crypto::hash_name(*ms->digest_algorithm)},
                                                                           {"value", hex_encode(ms->digest)}}}}},
                                   {"signature", bj::object{{"content", base64_encode(ms->signature)},
                                                            {"publicKey", bj::object{{"content", base64_encode(as_bytes(signer.pem()))}}}}}}}};
  return json::serialize(o);
}

std::string dsse_proposal(const DsseEnvelope& envelope, const SignerMaterial& signer) {
  namespace bj = boost::json;
  bj::object o{{"apiVersion", "0.0.1"},
               {"kind", "dsse"},
               {"spec", bj::object{{"proposedContent",
                                    bj::object{{"envelope", intoto::serialize_envelope(envelope)},
                                               {"verifiers", bj::array{bj::value(base64_encode(as_bytes(signer.pem())))}}}}}}};
  return json::serialize(o);
}

Result<std::string> dsse_proposal(const Bundle& bundle, const SignerMaterial& signer) {
  const auto* env = std::get_if<DsseEnvelope>(&bundle.content);
  if (!env) return invalid_input("a dsse entry records a DSSE envelope, not a message signature");
  return dsse_proposal(*env, signer);
}

Result<TlogEntry> tlog_entry_from_rekor(const tlog::RekorLogEntry& entry) {
  TlogEntry out;
  out.log_index = entry.log_index;
  out.log_id = entry.log_id;
  out.integrated_time = entry.integrated_time;
  out.canonicalized_body = to_bytes(entry.body);
  auto body = json::parse(entry.body, {.max_bytes = 64 << 20, .max_depth = 32});
  if (!body.ok()) return std::move(body).error().context("log entry body");
  json::Node root = json::Node::root(*body);
  VOUCH_ASSIGN_OR_RETURN(out.kind, root.get_string("kind"));
  VOUCH_ASSIGN_OR_RETURN(out.version, root.get_string("apiVersion"));
  out.signed_entry_timestamp = entry.signed_entry_timestamp;
  if (entry.inclusion_proof) {
    InclusionProof p;
    p.log_index = entry.inclusion_proof->log_index;
    p.root_hash = entry.inclusion_proof->root_hash;
    p.tree_size = entry.inclusion_proof->tree_size;
    p.hashes = entry.inclusion_proof->hashes;
    if (!entry.inclusion_proof->checkpoint.empty()) p.checkpoint = entry.inclusion_proof->checkpoint;
    out.inclusion_proof = std::move(p);
  }
  return out;
}

}  // namespace vouch::sigstore
