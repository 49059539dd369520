// A Fulcio-style certificate authority: a root and an intermediate kept in a directory, and
// ten-minute code-signing certificates for a verified Principal, with Fulcio's extensions and,
// when a CT log is attached, SCTs embedded through a precertificate.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "vouch/base/result.h"
#include "vouch/base/time.h"
#include "vouch/ca/oidc.h"
#include "vouch/crypto/keys.h"
#include "vouch/crypto/sct.h"
#include "vouch/crypto/x509.h"

namespace vouch::ca {

// Logs a precertificate chain (DER: precertificate, intermediate, root) and returns the log's SCT
// once the entry is durable: an embedded CT log, or one reached over HTTP.
using PrecertificateSubmitter =
    std::function<Result<crypto::SignedCertificateTimestamp>(const std::vector<Bytes>& der_chain)>;

struct CaOptions {
  // root.pem, root_key.pem, intermediate.pem, intermediate_key.pem (keys mode 0600). All four are
  // created on first start; a directory holding only some of them is refused, never completed.
  std::filesystem::path dir;
  std::string organization = "vouch";
  std::string common_name = "vouch";
  std::chrono::seconds leaf_lifetime = std::chrono::minutes(10);
  // Lifetime of a root and intermediate created on first start.
  std::chrono::hours ca_lifetime = std::chrono::hours(24 * 365 * 10);
  PrecertificateSubmitter submit_precertificate;  // empty: certificates carry no SCT
  std::function<UnixSeconds()> now = now_unix;
};

struct IssuedCertificate {
  crypto::Certificate leaf;
  std::vector<crypto::Certificate> chain;  // intermediate, root
  bool sct_embedded = false;
};

class CertificateAuthority {
 public:
  // Creates the root and intermediate on first start (files written atomically) or loads them,
  // checking that each key belongs to its certificate and the root issued the intermediate.
  static Result<std::unique_ptr<CertificateAuthority>> open(CaOptions options);
  virtual ~CertificateAuthority() = default;

  // A leaf for `principal` and `key`: empty subject, the SAN critical, digitalSignature,
  // codeSigning, a random 159-bit serial, valid for the leaf lifetime from now.
  virtual Result<IssuedCertificate> issue(const Principal& principal, const crypto::PublicKey& key) = 0;

  virtual const std::vector<crypto::Certificate>& chain() const = 0;  // intermediate, root
  virtual bool created() const = 0;  // whether this start created the CA
};

// Fulcio's goodkey rules for a key a certificate may be issued to: ECDSA P-256/P-384/P-521, RSA of
// 2048 to 4096 bits, Ed25519.
Status check_subject_key(const crypto::PublicKey& key);

}  // namespace vouch::ca
