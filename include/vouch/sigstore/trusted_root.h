// The trusted root (protobuf-specs sigstore_trustroot.proto): one source of trusted material.
// Transparency logs, certificate authorities, CT logs and timestamp authorities, each with the
// window of time in which it is trusted.
#pragma once

#include <optional>
#include <string>
#include <vector>

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

Result<TrustedRoot> parse_trusted_root(std::string_view json);

}  // namespace vouch::sigstore
