// Signed Certificate Timestamps (RFC 6962) embedded in Fulcio certificates: proof that the
// certificate was submitted to a Certificate Transparency log before it was issued. Verification
// of embedded SCTs for relying parties, and the log's side: SCT v1 structures in their TLS
// encoding, signing for x509 and precertificate entries, and the checks a log makes on a
// submitted chain.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"
#include "vouch/base/time.h"
#include "vouch/crypto/keys.h"
#include "vouch/crypto/x509.h"

namespace vouch::crypto {

// The OID of the X.509 extension that carries the SCT list.
inline constexpr std::string_view kEmbeddedSctOid = "1.3.6.1.4.1.11129.2.4.2";
// The OID of the critical "poison" extension (value ASN.1 NULL) that makes a precertificate.
inline constexpr std::string_view kPrecertPoisonOid = "1.3.6.1.4.1.11129.2.4.3";
// The extended key usage of a Precertificate Signing Certificate (RFC 6962 section 3.1).
inline constexpr std::string_view kPrecertSigningEkuOid = "1.3.6.1.4.1.11129.2.4.4";

// A CT log as a trusted root lists it (trusted_root.json ctlogs[]).
struct CtLog {
  Bytes log_id;  // 32 bytes: SHA-256 of the log's DER public key (logId.keyId)
  PublicKey key;
  UnixSeconds valid_start = 0;             // publicKey.validFor, closed interval
  std::optional<UnixSeconds> valid_end;
};

// One embedded SCT as the certificate carries it, unverified.
struct EmbeddedSct {
  Bytes log_id;
  int64_t timestamp_ms = 0;  // milliseconds since the Unix epoch
};

// The SCTs embedded in `cert`, unverified. Fails when the extension is absent or malformed.
Result<std::vector<EmbeddedSct>> embedded_scts(const Certificate& cert);

// The TBSCertificate that an SCT embedded in `leaf` signs: the leaf's own, without the SCT list
// extension (RFC 6962 section 3.2). Cut out of the certificate's bytes when they are plain DER
// (shortest lengths, DER booleans), which is the certificate's TBSCertificate encoded again
// without that extension; otherwise encoded again by OpenSSL.
Result<Bytes> precertificate_tbs(const Certificate& leaf);

// Verifies that SCTs from at least `threshold` distinct trusted CT logs are embedded in `leaf`
// (extension 1.3.6.1.4.1.11129.2.4.2): each is signed by a log in `logs` over the
// precertificate (the leaf without the SCT extension, bound to `issuer`'s key by the
// issuer_key_hash), and its timestamp lies within that log's validity window and not in the
// future. `issuer` is the certificate that issued `leaf`.
Status verify_embedded_scts(const Certificate& leaf, const Certificate& issuer, const std::vector<CtLog>& logs,
                            size_t threshold = 1);

// ---- SCT v1 structures (RFC 6962 section 3.2, TLS encoding) -------------------------------
// Parsers take untrusted input: they read exactly the bytes given (no trailing data), check
// every length against what is left and against the bounds the structures declare.

// TLS HashAlgorithm and SignatureAlgorithm codes (RFC 5246 section 7.4.1.4.1).
inline constexpr uint8_t kTlsHashSha256 = 4;
inline constexpr uint8_t kTlsSignatureRsa = 1;
inline constexpr uint8_t kTlsSignatureEcdsa = 3;

// RFC 5246 DigitallySigned: the algorithms and the signature (ASN.1 DER for ECDSA).
struct DigitallySigned {
  uint8_t hash_algorithm = kTlsHashSha256;
  uint8_t signature_algorithm = kTlsSignatureEcdsa;
  Bytes signature;  // at most 65535 bytes

  // hash(1) signature(1) opaque signature<0..2^16-1>.
  Result<Bytes> serialize() const;
};
Result<DigitallySigned> parse_digitally_signed(ByteView data);

// Signs `data` as a CT log signs: SHA-256 with the log's ECDSA P-256 key.
Result<DigitallySigned> ct_sign(const PrivateKey& key, ByteView data);
// Verifies `signed_data` over `data` with `key`: the algorithms must be SHA-256 with the key's
// kind (ECDSA or RSA).
Status ct_verify(const PublicKey& key, ByteView data, const DigitallySigned& signed_data);

// A signed SCT v1 as a log returns it and a certificate embeds it.
struct SignedCertificateTimestamp {
  Bytes log_id;  // 32 bytes: SHA-256 of the log's DER public key
  uint64_t timestamp_ms = 0;
  Bytes extensions;  // CtExtensions, opaque; empty in v1
  DigitallySigned signature;

  // The TLS SignedCertificateTimestamp: version v1, log id, timestamp, extensions, signature.
  Result<Bytes> serialize() const;
};
Result<SignedCertificateTimestamp> parse_sct(ByteView data);

// The SignedCertificateTimestampList (RFC 6962 section 3.3): opaque SerializedSCT<1..2^16-1>
// items in a list of at most 2^16-1 bytes.
Result<Bytes> serialize_sct_list(const std::vector<SignedCertificateTimestamp>& scts);
Result<std::vector<SignedCertificateTimestamp>> parse_sct_list(ByteView data);

// ---- What an SCT signs (RFC 6962 sections 3.2 and 3.4) -------------------------------------

enum class CtEntryType : uint16_t { kX509 = 0, kPrecert = 1 };

// The signed_entry of an SCT and of a log's TimestampedEntry.
struct CtSignedEntry {
  CtEntryType type = CtEntryType::kX509;
  // x509_entry: the leaf certificate (DER). precert_entry: the precertificate's TBSCertificate
  // without the poison extension.
  Bytes certificate;
  Bytes issuer_key_hash;  // precert_entry only: SHA-256 of the issuer's SubjectPublicKeyInfo DER

  // entry_type(2), then for x509 ASN.1Cert<1..2^24-1>, for precert issuer_key_hash[32] and
  // TBSCertificate<1..2^24-1>.
  Result<Bytes> serialize() const;
};

// MerkleTreeLeaf (section 3.4), the leaf of a CT log's Merkle tree: version v1, leaf_type
// timestamped_entry, and the TimestampedEntry (timestamp, entry type, signed entry, extensions).
struct CtMerkleLeaf {
  uint64_t timestamp_ms = 0;
  CtSignedEntry entry;
  Bytes extensions;  // CtExtensions

  Result<Bytes> serialize() const;
};
// Parses a leaf strictly (exact length, v1, a known entry type).
Result<CtMerkleLeaf> parse_ct_merkle_leaf(ByteView data);

// The x509_entry of a certificate.
CtSignedEntry x509_entry(const Certificate& leaf);
// The precert_entry of a precertificate (which must carry the critical poison extension) issued
// directly by `issuer`: its TBSCertificate with the poison removed, and the hash of the
// issuer's public key. The final certificate, with the SCT list in place of the poison, yields
// the same TBSCertificate once verify_embedded_scts removes that list again.
Result<CtSignedEntry> precert_entry(const Certificate& precert, const Certificate& issuer);

// True when `cert` carries the poison extension; an error when it carries one that is not
// critical or whose value is not ASN.1 NULL, or more than one.
Result<bool> is_precertificate(const Certificate& cert);

// The digitally-signed struct of an SCT v1 (signature_type certificate_timestamp).
Result<Bytes> sct_signature_input(const CtSignedEntry& entry, uint64_t timestamp_ms, ByteView extensions);

// Signs an SCT v1 for `entry` at `timestamp_ms` with a log's ECDSA P-256 key.
Result<SignedCertificateTimestamp> sign_sct(const PrivateKey& log_key, const CtSignedEntry& entry,
                                            uint64_t timestamp_ms, ByteView extensions = {});
// Verifies an SCT for `entry` against a log's key: the log id must be the key's, and the
// signature must verify over the entry.
Status verify_sct(const SignedCertificateTimestamp& sct, const CtSignedEntry& entry, const PublicKey& log_key);

// ---- Chains submitted to a CT log (RFC 6962 sections 4.1 and 4.2) --------------------------

// Checks a submitted chain: chain[0] is the certificate (or, with `precert`, the
// precertificate, which must carry the poison extension; without, it must not); each
// certificate is issued and signed by the next, which is a CA; no certificate after the first
// carries the poison; and the last is one of `roots` or is issued and signed by one. Validity
// periods are not checked (a log accepts expired certificates). Precertificate Signing
// Certificates are not supported. Returns the chain ending at the accepted root (the root
// appended when the submitter left it out).
Result<std::vector<Certificate>> verify_ct_submission(const std::vector<Certificate>& chain,
                                                      const std::vector<Certificate>& roots, bool precert);

}  // namespace vouch::crypto
