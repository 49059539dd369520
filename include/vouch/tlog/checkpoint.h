// C2SP signed notes (c2sp.org/signed-note) and transparency log checkpoints
// (c2sp.org/tlog-checkpoint), as Rekor v1 and Rekor v2 (rekor-tiles) sign them.
//
//   rekor.sigstore.dev - 2605736670972794746      <- origin
//   75408393                                      <- tree size
//   Fnnj13Uu1jdksPc4HZLapKX329dVlD5+MGNsiqBq1XM=  <- root hash
//                                                 <- blank line
//   — rekor.sigstore.dev wNI9ajBFAiBTyiBM9...     <- signature lines: name, base64(key ID || sig)
//
// Parsers take untrusted input: they never crash, bound sizes and counts, and reject anything
// the specifications do not allow. Nothing in a note may be trusted before verify_note passes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"
#include "vouch/crypto/keys.h"

namespace vouch::tlog {

// Limits for untrusted notes. C2SP requires accepting at least 16 signatures of up to ~5 kB.
inline constexpr size_t kMaxNoteBytes = 1 << 20;
inline constexpr size_t kMaxNoteSignatures = 100;
inline constexpr size_t kMaxCheckpointExtensions = 100;

// ---- Signed notes ---------------------------------------------------------------------------

struct NoteSignature {
  std::string name;   // the key name
  uint32_t key_hint;  // the key ID (first four bytes of the decoded signature, big-endian)
  Bytes signature;    // the signature proper (the rest of the decoded bytes)
};

struct SignedNote {
  // The signed text: everything up to and including the newline before the last blank line.
  std::string text;
  std::vector<NoteSignature> signatures;
};

// Parses a signed note strictly per C2SP signed-note: valid UTF-8 without control characters
// other than newline; the text ends in a newline and is separated from the signatures by the
// last blank line; one or more signature lines "— <name> <base64(key ID || signature)>\n" where
// the name is non-empty without Unicode spaces or '+', the base64 is standard with padding and
// decodes to at least 5 bytes. At most kMaxNoteBytes and kMaxNoteSignatures.
// Does not verify anything.
Result<SignedNote> parse_signed_note(std::string_view envelope);

// Serializes a note: text, blank line, signature lines (the inverse of parse_signed_note).
std::string format_signed_note(const SignedNote& note);

// True for a valid C2SP key name: non-empty UTF-8 with no Unicode space and no '+'.
bool is_valid_note_key_name(std::string_view name);

// ---- Checkpoints ----------------------------------------------------------------------------

struct Checkpoint {
  std::string origin;   // the log's identity, e.g. "log2025-1.rekor.sigstore.dev"
  uint64_t size = 0;    // number of leaves
  Bytes root_hash;      // 32-byte RFC 6962 root hash
  std::vector<std::string> extensions;  // optional non-empty lines after the root hash
};

// Parses a checkpoint from a note's text (SignedNote::text): an origin line, the decimal tree
// size (no sign, no leading zeros), the base64 root hash (32 bytes), then optional non-empty
// extension lines (Rekor v1 writes "Timestamp: <ns>"). The text must end with a newline.
Result<Checkpoint> parse_checkpoint(std::string_view note_text);

// The note text of a checkpoint (the inverse of parse_checkpoint).
std::string format_checkpoint(const Checkpoint& checkpoint);

// Rekor v1 writes the origin "<host> - <tree ID>" (e.g. "rekor.sigstore.dev - 2605736670972794746",
// "localhost:8000 - 124190645164477") and signs under the key name <host>; this returns <host>.
// For any other origin (Rekor v2 and other C2SP logs, where origin and key name are the same)
// it returns nullopt. sigstore-go tells Rekor v1 checkpoints apart by the same pattern.
std::optional<std::string_view> rekor_v1_origin_host(std::string_view origin);

// ---- Verification ---------------------------------------------------------------------------

struct NoteVerifier {
  std::string name;  // the key name that signature lines must carry
  uint32_t key_id;   // the key ID that signature lines must carry
  crypto::PublicKey key;
};

// Key IDs as the signers compute them:
//  - Ed25519: SHA-256(name || 0x0A || 0x01 || 32-byte public key)[:4]   (C2SP signed-note)
//  - ECDSA:   SHA-256(PKIX DER public key)[:4]                           (C2SP type 0x02;
//             the same hint Rekor v1 writes for its checkpoints)
//  - RSA:     SHA-256(name || 0x0A || 0xFF || "PKIX-RSA-PKCS#1v1.5" || PKIX DER public key)[:4]
//             (rekor-tiles pkg/note)
// Rekor v1 used SHA-256(PKIX DER)[:4] for every key type; for a Rekor v1 log with an Ed25519 or
// RSA key use the overload below with legacy_key_id(key).
uint32_t note_key_id(std::string_view name, const crypto::PublicKey& key);
// SHA-256(PKIX DER public key)[:4], as Rekor v1 computes it for any key type.
uint32_t legacy_key_id(const crypto::PublicKey& key);

// A verifier for `name` with the key ID note_key_id(name, key). Fails on an invalid name.
Result<NoteVerifier> make_note_verifier(std::string name, const crypto::PublicKey& key);
// A verifier with an explicit key ID (e.g. a trusted root's checkpointKeyId).
Result<NoteVerifier> make_note_verifier(std::string name, const crypto::PublicKey& key, uint32_t key_id);

// Verifies a note against one known key. Signature lines whose (name, key ID) pair is not the
// verifier's are ignored (witness cosignatures, other keys). Every line that does match must
// verify (C2SP: a failing signature from a known key rejects the note), and at least one must.
// Ed25519 verifies the text bytes (pure Ed25519); ECDSA verifies an ASN.1 DER signature over the
// text hashed with the curve's hash (SHA-256 for P-256); RSA verifies PKCS#1 v1.5 with SHA-256.
Status verify_note(const SignedNote& note, const NoteVerifier& verifier);

// parse_signed_note + verify_note + parse_checkpoint: the checkpoint in `envelope`, after its
// signature by `verifier` has been checked. The origin is not checked: for Rekor v2 (rekor-tiles)
// it must equal the key name; Rekor v1 writes "<hostname> - <tree ID>" and signs as <hostname>.
Result<Checkpoint> open_checkpoint(std::string_view envelope, const NoteVerifier& verifier);

}  // namespace vouch::tlog
