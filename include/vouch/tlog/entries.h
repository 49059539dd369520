// Rekor v1 entry kinds: a proposed entry (the JSON a client POSTs to /api/v1/log/entries) is
// validated (its signatures must verify), then canonicalized into the body that is logged,
// exactly as Rekor writes it (RFC 8785 JSON of {apiVersion, kind, spec}):
//   hashedrekord 0.0.1  spec {data {hash {algorithm, value}}, signature {content, publicKey {content}}}
//                       the signature verifies over the digest with the key or certificate;
//   dsse 0.0.1          proposed {proposedContent {envelope, verifiers}}; logged
//                       {envelopeHash, payloadHash, signatures [{signature, verifier}]} (sorted
//                       by signature, no payload); every signature verifies over the DSSE PAE;
//   intoto 0.0.2        spec {content {envelope {payload, payloadType, signatures [{keyid, sig,
//                       publicKey}]}, hash}}; logged without the payload, with payloadHash.
// Keys and certificates are logged as canonical PEM, base64-encoded.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"

namespace vouch::tlog {

inline constexpr size_t kMaxProposedEntryBytes = 8 << 20;

// The Rekor entry kinds and versions vouch knows: the one list that the log (which kinds it
// accepts), its API and the verifiers (which bodies they check) go by.
struct EntryKind {
  std::string_view kind;
  std::string_view api_version;
  bool logged;  // this log accepts proposals of it (Rekor v1); the others come from Rekor v2 logs
};
inline constexpr EntryKind kEntryKinds[] = {
    {"hashedrekord", "0.0.1", true},
    {"hashedrekord", "0.0.2", false},
    {"dsse", "0.0.1", true},
    {"dsse", "0.0.2", false},
    {"intoto", "0.0.2", true},
};

// The entry of kEntryKinds for a kind and version; nullptr when vouch does not know it.
const EntryKind* find_entry_kind(std::string_view kind, std::string_view api_version);

struct CanonicalEntry {
  std::string kind;
  std::string api_version;
  std::string body;                     // the canonical body: the Merkle leaf
  std::vector<std::string> index_keys;  // search keys (see index_key_* below)
};

// Validates and canonicalizes a proposed entry. Errors are kInvalidInput (malformed, unknown
// kind or version, unsupported key) or kVerification (a signature does not verify), each naming
// the JSON path at fault.
Result<CanonicalEntry> canonicalize_proposed_entry(std::string_view json);

// Search keys, as Rekor's index stores them.
std::string index_key_for_hash(std::string_view algorithm, std::string_view hex_value);  // "sha256:<hex>"
// Hex SHA-256 of the canonical PEM of a public key or certificate (PEM or DER input).
Result<std::string> index_key_for_public_key(ByteView pem_or_der);
std::string index_key_for_email(std::string_view email);  // lower case, as Rekor indexes it

}  // namespace vouch::tlog
