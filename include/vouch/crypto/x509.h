// X.509 certificates: parsing, the fields Sigstore verification reads, and chain building
// against explicit trust anchors at a given time.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"
#include "vouch/base/time.h"
#include "vouch/crypto/keys.h"

typedef struct x509_st X509;

namespace vouch::crypto {

struct SubjectAltNames {
  std::vector<std::string> emails;
  std::vector<std::string> uris;
  std::vector<std::string> dns_names;
  std::vector<std::string> other_names;  // UTF8String otherName values (Fulcio's username SAN)
  bool empty() const { return emails.empty() && uris.empty() && dns_names.empty() && other_names.empty(); }
};

class Certificate {
 public:
  static Result<Certificate> from_der(ByteView der);
  static Result<Certificate> from_pem(std::string_view pem);
  // Every certificate in a PEM bundle, in order.
  static Result<std::vector<Certificate>> all_from_pem(std::string_view pem);

  const Bytes& der() const { return *der_; }
  std::string pem() const;
  UnixSeconds not_before() const { return not_before_; }
  UnixSeconds not_after() const { return not_after_; }
  // Closed interval, as RFC 5280 defines validity.
  bool valid_at(UnixSeconds t) const { return not_before_ <= t && t <= not_after_; }
  bool is_ca() const;
  bool is_self_signed() const;
  bool has_code_signing_eku() const;
  std::string subject() const;
  std::string issuer() const;
  PublicKey public_key() const;
  SubjectAltNames subject_alt_names() const;
  // Raw contents of the extension's OCTET STRING, or nullopt when absent.
  std::optional<Bytes> extension(std::string_view oid) const;
  // DER of TBSCertificate.
  Bytes tbs_der() const;

  X509* get() const { return cert_.get(); }

 private:
  std::shared_ptr<X509> cert_;
  std::shared_ptr<const Bytes> der_;
  PublicKey key_;
  UnixSeconds not_before_ = 0;
  UnixSeconds not_after_ = 0;
};

// Builds a path from `leaf` through `intermediates` to one of `roots`, checking signatures,
// CA constraints and validity of every certificate at time `at`. Trust anchors need not be
// self-signed (a Sigstore CA chain may end at an intermediate). On success returns the chain
// from the leaf to the anchor, made of the certificates passed in. With no time, validity
// periods are not checked (for checking a CA chain's signatures once, ahead of use).
Result<std::vector<Certificate>> verify_chain(const Certificate& leaf, const std::vector<Certificate>& intermediates,
                                              const std::vector<Certificate>& roots, std::optional<UnixSeconds> at);

// verify_chain with its trust anchors and intermediates set up once, for a verifier that checks
// many leaves against the same certificate authority. Copies share the set-up; any number of
// threads may verify at once.
class ChainVerifier {
 public:
  // Fails when `roots` is empty.
  static Result<ChainVerifier> create(std::vector<Certificate> intermediates, std::vector<Certificate> roots);
  // As verify_chain(leaf, intermediates, roots, at).
  Result<std::vector<Certificate>> verify(const Certificate& leaf, std::optional<UnixSeconds> at) const;

 private:
  struct State;
  std::shared_ptr<const State> state_;
};

// The public key of a PKCS#10 certificate signing request (PEM "CERTIFICATE REQUEST" or DER),
// after checking the request's signature with that key: the proof that its sender holds the
// private key. The request's other contents (subject, extensions) are not read.
Result<PublicKey> public_key_of_signed_csr(std::string_view pem_or_der);

}  // namespace vouch::crypto
