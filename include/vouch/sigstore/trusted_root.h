// The trusted root (protobuf-specs sigstore_trustroot.proto): the only source of trust for
// verification. Transparency logs, certificate authorities, CT logs and timestamp
// authorities, each with the window of time in which it is trusted.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"
#include "vouch/base/time.h"
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

struct TrustedRoot {
  std::string media_type;
  std::vector<LogInstance> tlogs;
  std::vector<CertificateAuthority> certificate_authorities;
  std::vector<LogInstance> ctlogs;
  std::vector<CertificateAuthority> timestamp_authorities;

  const LogInstance* find_tlog(ByteView log_id) const;
};

Result<TrustedRoot> parse_trusted_root(std::string_view json);

}  // namespace vouch::sigstore
