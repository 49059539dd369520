// The trusted root (protobuf-specs sigstore_trustroot.proto): one source of trusted material.
// Transparency logs, certificate authorities, CT logs and timestamp authorities, each with the
// window of time in which it is trusted.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"
#include "vouch/base/time.h"
#include "vouch/crypto/keys.h"
#include "vouch/crypto/x509.h"
#include "vouch/sigstore/trusted_material.h"

namespace vouch::sigstore {

// One trusted root document. Its members are public so tests and tools can build one.
struct TrustedRoot final : TrustedMaterial {
  std::string media_type;
  std::vector<LogInstance> tlogs;
  std::vector<CertificateAuthority> certificate_authorities;
  std::vector<LogInstance> ctlogs;
  std::vector<CertificateAuthority> timestamp_authorities;

  std::vector<const CertificateAuthority*> fulcio_certificate_authorities() const override;
  const LogInstance* find_tlog(ByteView log_id) const override;
  std::vector<const LogInstance*> certificate_transparency_logs() const override;
  std::vector<const CertificateAuthority*> timestamping_authorities() const override;
};

inline constexpr std::string_view kTrustedRootMediaType = "application/vnd.dev.sigstore.trustedroot+json;version=0.1";

Result<TrustedRoot> parse_trusted_root(std::string_view json);

// The trusted root as protojson (camelCase members, bytes as base64), as parse_trusted_root
// reads it; under kTrustedRootMediaType when the root has no media type.
boost::json::object trusted_root_json(const TrustedRoot& root);

// The keyDetails a trusted root gives a log key (PKIX_ECDSA_P256_SHA_256, PKIX_ED25519, ...).
Result<std::string> key_details_for(const crypto::PublicKey& key);

// Certificate authorities given only as PEM certificates (cosign's SIGSTORE_ROOT_FILE):
// each self-signed certificate is a root, with the others as its intermediates, trusted
// without a time limit.
Result<TrustedRoot> trusted_root_from_certificates(std::string_view pem);

}  // namespace vouch::sigstore
