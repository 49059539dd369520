// Building and signing X.509 v3 certificates as a Fulcio-compatible CA issues them: roots,
// intermediates and short-lived code-signing leaves with Fulcio's extensions, CT
// precertificates (poison extension) and final certificates with embedded SCTs; and TLS server
// certificates (serverAuth, DNS names) for servers that bring their own CA. Every extension
// is built from typed ASN.1 objects, so identity claims from untrusted tokens end up verbatim in
// the certificate and are never parsed as configuration.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"
#include "vouch/base/time.h"
#include "vouch/crypto/fulcio.h"
#include "vouch/crypto/keys.h"
#include "vouch/crypto/sct.h"
#include "vouch/crypto/x509.h"

namespace vouch::crypto {

// One attribute of a distinguished name. `type` is a short name OpenSSL knows ("C", "ST", "L",
// "street", "postalCode", "O", "OU", "CN", ...) or a dotted OID; `value` is UTF-8.
struct NameAttribute {
  std::string type;
  std::string value;
};
// In order, one relative distinguished name per attribute.
using DistinguishedName = std::vector<NameAttribute>;

struct KeyUsage {
  bool digital_signature = false;
  bool cert_sign = false;  // keyCertSign
  bool crl_sign = false;   // cRLSign
};

// An extension written as given, after the ones the template describes.
struct RawExtension {
  std::string oid;  // dotted
  bool critical = false;
  Bytes value;  // the contents of the extension's OCTET STRING (normally DER)
};

// What a certificate says, apart from its issuer. The extensions are written in this order:
// keyUsage (critical), extKeyUsage, basicConstraints (critical; CA certificates only, as
// Fulcio's leaves carry none), subjectKeyIdentifier, authorityKeyIdentifier, subjectAltName
// (critical when the subject is empty), the Fulcio extensions in OID order (.1.1-.1.6, .1.8-.1.24),
// `extra_extensions`, and last the CT poison or the SCT list. With the two CT extensions last, a
// precertificate without its poison and the final certificate without its SCT list have the same
// TBSCertificate, which is what an embedded SCT signs.
struct CertificateTemplate {
  // Big-endian magnitude of a positive serial, at most 20 bytes. Absent: random_serial_number().
  // A precertificate and its final certificate must share one serial, so a CA sets it.
  std::optional<Bytes> serial;
  DistinguishedName subject;  // may be empty for a leaf that has subject alternative names
  UnixSeconds not_before = 0;
  UnixSeconds not_after = 0;  // inclusive, as RFC 5280
  PublicKey public_key;
  bool is_ca = false;
  std::optional<int> path_len;  // CA only; absent: no limit
  KeyUsage key_usage;
  // extKeyUsage purposes; the extension is written when either is set (serverAuth first, in OID
  // order). serverAuth makes a TLS server certificate, such as an admission webhook's.
  bool code_signing_eku = false;
  bool server_auth_eku = false;
  // Emails, URIs, DNS names and Fulcio's username (otherName 1.3.6.1.4.1.57264.1.7, UTF8String).
  SubjectAltNames subject_alt_names;
  // Only non-empty fields are written; the issuer goes to both .1.1 (raw) and .1.8 (UTF8String).
  FulcioExtensions fulcio;
  std::vector<RawExtension> extra_extensions;
  bool ct_poison = false;
  // A TLS-encoded SignedCertificateTimestampList (see serialize_sct_list in sct.h); written as extension
  // 1.3.6.1.4.1.11129.2.4.2, non-critical, wrapped in a DER OCTET STRING.
  std::optional<Bytes> sct_list;
};

// 20 random bytes with the high bit cleared: a positive 159-bit serial, as Sigstore's
// cryptoutils.GenerateSerialNumber makes them.
Result<Bytes> random_serial_number();

// Signs `tmpl` with `issuer_key`. Without `issuer`, the certificate is self-signed: its issuer
// name is its subject and `issuer_key` must be the key of `tmpl.public_key`. With `issuer`, the
// issuer name is `issuer`'s subject, `issuer` must be a CA whose key is `issuer_key`, and the
// authority key identifier is `issuer`'s subject key identifier. The signature algorithm follows
// the issuer key: ECDSA P-256/P-384/P-521 with SHA-256/384/512, RSA PKCS#1 v1.5 with SHA-256,
// Ed25519. kInvalidInput, naming the problem, for a template that makes no sense (validity ends
// before it starts, a CA without keyCertSign or without a subject, a leaf with neither subject nor
// alternative name, a code-signing or TLS server leaf without digitalSignature, non-ASCII
// alternative names, invalid UTF-8, both poison and SCTs, an extension that occurs twice, ...).
Result<Certificate> sign_certificate(const CertificateTemplate& tmpl, const PrivateKey& issuer_key,
                                     const std::optional<Certificate>& issuer = std::nullopt);

// A root and an intermediate as Fulcio's ephemeral and file CAs use them.
struct CaPairOptions {
  DistinguishedName root_subject;
  DistinguishedName intermediate_subject;
  UnixSeconds not_before = 0;
  UnixSeconds not_after = 0;
  std::optional<int> root_path_len = 1;  // as fulcio's ephemeral CA and createca
};

struct CaPair {
  Certificate root;
  Certificate intermediate;
};

// The root: self-signed CA, keyCertSign + cRLSign, path length `root_path_len`. The intermediate:
// CA signed by the root, keyCertSign + cRLSign, path length 0, extKeyUsage codeSigning (so that the
// code-signing leaves it issues satisfy EKU chaining, as Fulcio requires of its intermediates).
Result<CaPair> create_ca_pair(const PrivateKey& root_key, const PrivateKey& intermediate_key,
                              const CaPairOptions& options);

}  // namespace vouch::crypto
