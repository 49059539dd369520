// What verification trusts, independent of where it comes from: certificate authorities that
// issue signing certificates, transparency logs by log ID, certificate transparency logs and
// timestamp authorities. A trusted root is one source; a collection of several lets a private
// root and the public-good root be trusted together. Verifiers take this interface, never a
// particular source.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vouch/base/bytes.h"
#include "vouch/base/time.h"
#include "vouch/crypto/digest.h"
#include "vouch/crypto/keys.h"
#include "vouch/crypto/x509.h"

namespace vouch::sigstore {

// A closed interval [start, end]; an absent end means "still valid".
struct ValidityWindow {
  UnixSeconds start = 0;
  std::optional<UnixSeconds> end;
  bool contains(UnixSeconds t) const { return start <= t && (!end || t <= *end); }
};

// A transparency log (Rekor v1 or v2) or a certificate transparency log.
struct LogInstance {
  std::string base_url;
  crypto::HashAlgorithm hash_algorithm = crypto::HashAlgorithm::kSha256;
  crypto::PublicKey key;
  std::string key_details;  // e.g. PKIX_ECDSA_P256_SHA_256, PKIX_ED25519
  Bytes log_id;             // logId.keyId
  std::optional<Bytes> checkpoint_key_id;
  ValidityWindow valid_for;

  // The base URL's host name: a Rekor v2 log's checkpoint origin and signer name.
  std::string origin() const;
};

struct CertificateAuthority {
  std::string uri;
  std::vector<crypto::Certificate> chain;  // issuing certificate first, root last
  ValidityWindow valid_for;
  // The chain's own signatures were checked when the trusted root was loaded, so a leaf
  // needs to be checked only against the issuing certificate.
  bool chain_verified = false;
};

class TrustedMaterial {
 public:
  virtual ~TrustedMaterial() = default;

  // Certificate authorities that issue signing certificates (Fulcio), whatever their validity.
  virtual std::vector<const CertificateAuthority*> fulcio_certificate_authorities() const = 0;
  // The transparency log whose log ID (or checkpoint key ID) is `log_id`, or null.
  virtual const LogInstance* find_tlog(ByteView log_id) const = 0;
  // Certificate transparency logs whose SCTs are accepted.
  virtual std::vector<const LogInstance*> certificate_transparency_logs() const = 0;
  // RFC 3161 timestamp authorities.
  virtual std::vector<const CertificateAuthority*> timestamping_authorities() const = 0;

  // The signing certificate authorities trusted at time `at`.
  std::vector<const CertificateAuthority*> fulcio_certificate_authorities_at(UnixSeconds at) const;
};

// Several sources of trust at once: whatever any member trusts is trusted. A log ID found in
// more than one member resolves to the first member's log.
class TrustedMaterialCollection final : public TrustedMaterial {
 public:
  TrustedMaterialCollection() = default;
  explicit TrustedMaterialCollection(std::vector<std::shared_ptr<const TrustedMaterial>> members);

  void add(std::shared_ptr<const TrustedMaterial> member);
  size_t size() const { return members_.size(); }

  std::vector<const CertificateAuthority*> fulcio_certificate_authorities() const override;
  const LogInstance* find_tlog(ByteView log_id) const override;
  std::vector<const LogInstance*> certificate_transparency_logs() const override;
  std::vector<const CertificateAuthority*> timestamping_authorities() const override;

 private:
  std::vector<std::shared_ptr<const TrustedMaterial>> members_;
};

}  // namespace vouch::sigstore
