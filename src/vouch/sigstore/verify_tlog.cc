// Check: transparency log entries. The entry body must describe this artifact, signature and
// signer; the entry must be proven in the log (inclusion proof against a signed checkpoint)
// or promised by it (signed entry timestamp).
#include "checks.h"
#include "vouch/intoto/dsse.h"
#include "vouch/base/canonical_json.h"
#include "vouch/base/json.h"
#include "vouch/crypto/pem.h"
#include "vouch/tlog/checkpoint.h"
#include "vouch/tlog/entry_timestamp.h"
#include "vouch/tlog/merkle.h"

namespace vouch::sigstore::checks {
namespace {

using json::Node;

// The signer as the entry records it: a PEM certificate or key (v1 kinds), or DER (v2 kinds).
Status check_signer_pem(const Node& node, const crypto::PublicKey& key, const crypto::Certificate* leaf) {
  if (leaf) {
    // Logs record a certificate as base64 of its PEM in the layout Go's pem.Encode writes: the
    // same text, made from the bundle's certificate, compares without decoding either. Any other
    // layout is decoded below.
    auto text = node.string();
    if (text.ok() && *text == base64_encode(as_bytes(crypto::write_pem_block("CERTIFICATE", leaf->der()))))
      return ok_status();
  }
  VOUCH_ASSIGN_OR_RETURN(Bytes pem, node.bytes());
  if (leaf) {
    auto block = crypto::read_pem_block(as_chars(pem), "CERTIFICATE");
    if (block.ok() && bytes_equal(block->der, leaf->der())) return ok_status();
    return verification_failed(fmt::format("{}: the entry's certificate is not the bundle's certificate", node.path()));
  }
  auto entry_key = crypto::PublicKey::from_pem(as_chars(pem));
  if (entry_key.ok() && entry_key->equals(key)) return ok_status();
  return verification_failed(fmt::format("{}: the entry's public key is not the verification key", node.path()));
}

Status check_signer_v2(const Node& verifier, const crypto::PublicKey& key, const crypto::Certificate* leaf) {
  if (auto cert = verifier.find("x509Certificate")) {
    VOUCH_ASSIGN_OR_RETURN(Bytes der, cert->get_bytes("rawBytes"));
    if (leaf && bytes_equal(der, leaf->der())) return ok_status();
    return verification_failed(fmt::format("{}: the entry's certificate is not the bundle's certificate", cert->path()));
  }
  if (auto pk = verifier.find("publicKey")) {
    VOUCH_ASSIGN_OR_RETURN(Bytes der, pk->get_bytes("rawBytes"));
    auto entry_key = crypto::PublicKey::from_der(der);
    if (!leaf && entry_key.ok() && entry_key->equals(key)) return ok_status();
    return verification_failed(fmt::format("{}: the entry's public key is not the verification key", pk->path()));
  }
  return verifier.error("neither x509Certificate nor publicKey");
}

Status check_hex_digest(const Node& hash, ByteView data, std::string_view what) {
  VOUCH_ASSIGN_OR_RETURN(std::string alg_name, hash.get_string("algorithm"));
  VOUCH_ASSIGN_OR_RETURN(std::string value, hash.get_string("value"));
  auto alg = crypto::hash_from_name(alg_name);
  if (!alg.ok()) return hash.error(alg.error().message);
  auto want = hex_decode(value);
  if (!want.ok() || !bytes_equal(*want, crypto::digest(*alg, data)))
    return verification_failed(fmt::format("{}: does not match the {}", hash.path(), what));
  return ok_status();
}

Status check_hashedrekord_v001(const Node& spec, const SignedEntity& entity, const Artifact& artifact,
                               const crypto::PublicKey& key, const crypto::Certificate* leaf) {
  if (std::holds_alternative<DsseEnvelope>(entity.signature_content())) return verification_failed("a hashedrekord 0.0.1 entry cannot record a DSSE envelope");
  VOUCH_ASSIGN_OR_RETURN(Node sig, spec.get("signature"));
  VOUCH_ASSIGN_OR_RETURN(Bytes content, sig.get_bytes("content"));
  if (!bytes_equal(content, signature_bytes(entity.signature_content())))
    return verification_failed("spec.signature.content: the entry's signature is not the bundle's signature");
  VOUCH_ASSIGN_OR_RETURN(Node pk, sig.get("publicKey"));
  VOUCH_ASSIGN_OR_RETURN(Node pk_content, pk.get("content"));
  VOUCH_RETURN_IF_ERROR(check_signer_pem(pk_content, key, leaf));
  VOUCH_ASSIGN_OR_RETURN(Node data, spec.get("data"));
  VOUCH_ASSIGN_OR_RETURN(Node hash, data.get("hash"));
  VOUCH_ASSIGN_OR_RETURN(std::string alg_name, hash.get_string("algorithm"));
  VOUCH_ASSIGN_OR_RETURN(std::string value, hash.get_string("value"));
  auto alg = crypto::hash_from_name(alg_name);
  if (!alg.ok()) return hash.error(alg.error().message);
  auto want = hex_decode(value);
  auto have = artifact.digest(*alg);
  if (!have.ok()) return std::move(have).error();
  if (!want.ok() || !bytes_equal(*want, *have))
    return verification_failed("spec.data.hash: the entry's artifact digest is not the artifact's digest");
  return ok_status();
}

Status check_hashedrekord_v002(const Node& spec, const SignedEntity& entity, const Artifact& artifact,
                               const crypto::PublicKey& key, const crypto::Certificate* leaf) {
  VOUCH_ASSIGN_OR_RETURN(Node v2, spec.get("hashedRekordV002"));
  VOUCH_ASSIGN_OR_RETURN(Node sig, v2.get("signature"));
  VOUCH_ASSIGN_OR_RETURN(Bytes content, sig.get_bytes("content"));
  if (!bytes_equal(content, signature_bytes(entity.signature_content())))
    return verification_failed(fmt::format("{}: the entry's signature is not the bundle's signature", sig.path()));
  VOUCH_ASSIGN_OR_RETURN(Node verifier, sig.get("verifier"));
  VOUCH_RETURN_IF_ERROR(check_signer_v2(verifier, key, leaf));
  VOUCH_ASSIGN_OR_RETURN(Node data, v2.get("data"));
  VOUCH_ASSIGN_OR_RETURN(std::string alg_name, data.get_string("algorithm"));
  VOUCH_ASSIGN_OR_RETURN(Bytes digest, data.get_bytes("digest"));
  auto alg = crypto::hash_from_name(alg_name);
  if (!alg.ok()) return data.error(alg.error().message);
  Bytes expected;
  if (const auto* env = std::get_if<DsseEnvelope>(&entity.signature_content())) {
    // Rekor v2 logs a DSSE envelope as a hashedrekord over its pre-authentication encoding.
    expected = crypto::digest(*alg, intoto::pae(env->payload_type, env->payload));
  } else {
    VOUCH_ASSIGN_OR_RETURN(expected, artifact.digest(*alg));
  }
  if (!bytes_equal(expected, digest))
    return verification_failed(fmt::format("{}: the entry's digest is not the artifact's digest", data.path()));
  return ok_status();
}

Status check_dsse_v001(const Node& spec, const SignedEntity& entity, const crypto::PublicKey& key,
                       const crypto::Certificate* leaf) {
  const auto* env = std::get_if<DsseEnvelope>(&entity.signature_content());
  if (!env) return verification_failed("a dsse entry cannot record a message signature");
  VOUCH_ASSIGN_OR_RETURN(Node payload_hash, spec.get("payloadHash"));
  VOUCH_RETURN_IF_ERROR(check_hex_digest(payload_hash, env->payload, "DSSE payload"));
  VOUCH_ASSIGN_OR_RETURN(Node sigs, spec.get("signatures"));
  VOUCH_ASSIGN_OR_RETURN(auto items, sigs.array());
  for (const auto& s : items) {
    VOUCH_ASSIGN_OR_RETURN(Bytes sig, s.get_bytes("signature"));
    if (!bytes_equal(sig, signature_bytes(entity.signature_content()))) continue;
    VOUCH_ASSIGN_OR_RETURN(Node verifier, s.get("verifier"));
    return check_signer_pem(verifier, key, leaf);
  }
  return verification_failed("spec.signatures: the envelope's signature is not in the entry");
}

Status check_dsse_v002(const Node& spec, const SignedEntity& entity, const crypto::PublicKey& key,
                       const crypto::Certificate* leaf) {
  const auto* env = std::get_if<DsseEnvelope>(&entity.signature_content());
  if (!env) return verification_failed("a dsse entry cannot record a message signature");
  VOUCH_ASSIGN_OR_RETURN(Node v2, spec.get("dsseV002"));
  VOUCH_ASSIGN_OR_RETURN(Node payload_hash, v2.get("payloadHash"));
  VOUCH_ASSIGN_OR_RETURN(std::string alg_name, payload_hash.get_string("algorithm"));
  VOUCH_ASSIGN_OR_RETURN(Bytes digest, payload_hash.get_bytes("digest"));
  auto alg = crypto::hash_from_name(alg_name);
  if (!alg.ok()) return payload_hash.error(alg.error().message);
  if (!bytes_equal(digest, crypto::digest(*alg, env->payload)))
    return verification_failed(fmt::format("{}: does not match the DSSE payload", payload_hash.path()));
  VOUCH_ASSIGN_OR_RETURN(Node sigs, v2.get("signatures"));
  VOUCH_ASSIGN_OR_RETURN(auto items, sigs.array());
  for (const auto& s : items) {
    VOUCH_ASSIGN_OR_RETURN(Bytes sig, s.get_bytes("content"));
    if (!bytes_equal(sig, signature_bytes(entity.signature_content()))) continue;
    VOUCH_ASSIGN_OR_RETURN(Node verifier, s.get("verifier"));
    return check_signer_v2(verifier, key, leaf);
  }
  return verification_failed(fmt::format("{}: the envelope's signature is not in the entry", sigs.path()));
}

Status check_intoto_v002(const Node& spec, const SignedEntity& entity, const crypto::PublicKey& key,
                         const crypto::Certificate* leaf) {
  const auto* env = std::get_if<DsseEnvelope>(&entity.signature_content());
  if (!env) return verification_failed("an intoto entry cannot record a message signature");
  VOUCH_ASSIGN_OR_RETURN(Node content, spec.get("content"));
  VOUCH_ASSIGN_OR_RETURN(Node payload_hash, content.get("payloadHash"));
  VOUCH_RETURN_IF_ERROR(check_hex_digest(payload_hash, env->payload, "DSSE payload"));
  VOUCH_ASSIGN_OR_RETURN(Node envelope, content.get("envelope"));
  VOUCH_ASSIGN_OR_RETURN(std::string payload_type, envelope.get_string("payloadType"));
  if (payload_type != env->payload_type)
    return verification_failed("spec.content.envelope.payloadType: does not match the DSSE envelope");
  VOUCH_ASSIGN_OR_RETURN(Node sigs, envelope.get("signatures"));
  VOUCH_ASSIGN_OR_RETURN(auto items, sigs.array());
  for (const auto& s : items) {
    // intoto 0.0.2 stores the signature base64-encoded twice.
    VOUCH_ASSIGN_OR_RETURN(Bytes once, s.get_bytes("sig"));
    auto sig = protojson_bytes_decode(as_chars(once));
    if (!sig.ok() || !bytes_equal(*sig, signature_bytes(entity.signature_content()))) continue;
    VOUCH_ASSIGN_OR_RETURN(Node pk, s.get("publicKey"));
    return check_signer_pem(pk, key, leaf);
  }
  return verification_failed("spec.content.envelope.signatures: the envelope's signature is not in the entry");
}

Status check_body(const TlogEntry& entry, const SignedEntity& entity, const Artifact& artifact,
                  const crypto::PublicKey& key, const crypto::Certificate* leaf) {
  auto parsed = json::parse(as_chars(entry.canonicalized_body), {.max_bytes = 16 * 1024 * 1024, .max_depth = 32});
  if (!parsed.ok()) return std::move(parsed).error().context("canonicalizedBody");
  Node body = Node::root(*parsed);
  VOUCH_ASSIGN_OR_RETURN(std::string kind, body.get_string("kind"));
  VOUCH_ASSIGN_OR_RETURN(std::string version, body.get_string("apiVersion"));
  if (kind != entry.kind || version != entry.version)
    return verification_failed(fmt::format("body is {} {} but kindVersion says {} {}", kind, version, entry.kind,
                                           entry.version));
  VOUCH_ASSIGN_OR_RETURN(Node spec, body.get("spec"));
  if (kind == "hashedrekord" && version == "0.0.1") return check_hashedrekord_v001(spec, entity, artifact, key, leaf);
  if (kind == "hashedrekord" && version == "0.0.2") return check_hashedrekord_v002(spec, entity, artifact, key, leaf);
  if (kind == "dsse" && version == "0.0.1") return check_dsse_v001(spec, entity, key, leaf);
  if (kind == "dsse" && version == "0.0.2") return check_dsse_v002(spec, entity, key, leaf);
  if (kind == "intoto" && version == "0.0.2") return check_intoto_v002(spec, entity, key, leaf);
  return invalid_input(fmt::format("unsupported entry kind {} {}", kind, version));
}

Status check_inclusion(const TlogEntry& entry, const LogInstance& log) {
  const InclusionProof& proof = *entry.inclusion_proof;
  Bytes leaf_hash = tlog::hash_leaf(entry.canonicalized_body);
  auto st = tlog::verify_inclusion(static_cast<uint64_t>(proof.log_index), static_cast<uint64_t>(proof.tree_size),
                                   leaf_hash, proof.hashes, proof.root_hash);
  if (!st.ok()) return std::move(st).error().context("inclusion proof");
  if (!proof.checkpoint) return verification_failed("inclusion proof: no checkpoint");
  auto note = tlog::parse_signed_note(*proof.checkpoint);
  if (!note.ok()) return std::move(note).error().context("checkpoint");
  auto checkpoint = tlog::parse_checkpoint(note->text);
  if (!checkpoint.ok()) return std::move(checkpoint).error().context("checkpoint");
  // Rekor v1 checkpoints have the origin "<host> - <tree ID>", are signed under the name
  // <host> and carry the legacy key hint (SHA-256 of the DER key). Rekor v2 (C2SP) checkpoints
  // have the log's host as origin and name, with C2SP key IDs.
  Result<tlog::NoteVerifier> verifier = internal_error("unset");
  if (auto host = tlog::rekor_v1_origin_host(checkpoint->origin)) {
    verifier = tlog::make_note_verifier(std::string(*host), log.key, tlog::legacy_key_id(log.key));
  } else {
    if (checkpoint->origin != log.origin())
      return verification_failed(fmt::format("checkpoint: origin '{}' is not the log's origin '{}'",
                                             checkpoint->origin, log.origin()));
    verifier = tlog::make_note_verifier(log.origin(), log.key);
  }
  if (!verifier.ok()) return std::move(verifier).error().context("checkpoint");
  auto signed_ok = tlog::verify_note(*note, *verifier);
  if (!signed_ok.ok()) return std::move(signed_ok).error().context("checkpoint");
  if (checkpoint->size != static_cast<uint64_t>(proof.tree_size))
    return verification_failed(fmt::format("checkpoint: tree size {} does not match the inclusion proof's {}",
                                           checkpoint->size, proof.tree_size));
  if (!bytes_equal(checkpoint->root_hash, proof.root_hash))
    return verification_failed("checkpoint: root hash does not match the inclusion proof's root hash");
  return ok_status();
}

Status check_signed_entry_timestamp(const TlogEntry& entry, const LogInstance& log) {
  VOUCH_ASSIGN_OR_RETURN(std::string canonical, tlog::entry_timestamp_payload(entry.canonicalized_body, entry.integrated_time,
                                                                               entry.log_id, entry.log_index));
  auto st = log.key.verify(as_bytes(canonical), *entry.signed_entry_timestamp, log.hash_algorithm);
  if (!st.ok()) return verification_failed("signed entry timestamp: the log's signature does not verify");
  return ok_status();
}

}  // namespace

Result<TlogOutcome> verify_tlog_entries(const SignedEntity& entity, const Artifact& artifact, const TrustedMaterial& trusted,
                                        const crypto::PublicKey& signer_key, const crypto::Certificate* leaf,
                                        size_t threshold) {
  TlogOutcome out;
  const auto& entries = entity.tlog_entries();
  for (size_t i = 0; i < entries.size(); ++i) {
    const TlogEntry& entry = entries[i];
    auto fail = [&](Error e) { return std::move(e.context(fmt::format("transparency log: entry {}", i))); };
    const LogInstance* log = trusted.find_tlog(entry.log_id);
    if (!log)
      return fail(verification_failed(
          fmt::format("log ID {} is not a transparency log in the trusted root", base64_encode(entry.log_id))));
    if (auto st = check_body(entry, entity, artifact, signer_key, leaf); !st.ok()) return fail(std::move(st).error());

    if (entity.requires_inclusion_proof() && !entry.inclusion_proof)
      return fail(verification_failed("no inclusion proof (required from bundle v0.2 on)"));
    if (!entry.inclusion_proof && !entry.signed_entry_timestamp)
      return fail(verification_failed("neither an inclusion proof nor a signed entry timestamp"));
    if (entry.inclusion_proof) {
      if (auto st = check_inclusion(entry, *log); !st.ok()) return fail(std::move(st).error());
    }
    if (entry.signed_entry_timestamp) {
      if (auto st = check_signed_entry_timestamp(entry, *log); !st.ok()) return fail(std::move(st).error());
      if (!log->valid_for.contains(entry.integrated_time))
        return fail(verification_failed(fmt::format("integrated time {} is outside the validity of log {}",
                                                    format_rfc3339(entry.integrated_time), log->base_url)));
      out.integrated_times.push_back(entry.integrated_time);
    }
    out.log_indexes.push_back(entry.log_index);
  }
  if (out.log_indexes.size() < threshold)
    return verification_failed(fmt::format("transparency log: {} verified log entries, want at least {}",
                                           out.log_indexes.size(), threshold));
  return out;
}

}  // namespace vouch::sigstore::checks
