// Check: RFC 3161 timestamps over the signature, signed by a trusted timestamp authority.
#include "checks.h"
#include "vouch/crypto/timestamp.h"

namespace vouch::sigstore::checks {

Result<std::vector<UnixSeconds>> verify_signed_timestamps(const SignedEntity& entity, const TrustedMaterial& trusted) {
  std::vector<UnixSeconds> times;
  if (entity.rfc3161_timestamps().empty()) return times;
  std::vector<crypto::TimestampAuthority> authorities;
  for (const CertificateAuthority* tsa : trusted.timestamping_authorities())
    authorities.push_back(crypto::TimestampAuthority{tsa->chain, tsa->valid_for.start, tsa->valid_for.end});
  for (size_t i = 0; i < entity.rfc3161_timestamps().size(); ++i) {
    auto verified = crypto::verify_timestamp(entity.rfc3161_timestamps()[i], signature_bytes(entity.signature_content()), authorities);
    if (!verified.ok()) return std::move(verified).error().context(fmt::format("RFC 3161 timestamp {}", i));
    times.push_back(verified->time);
  }
  return times;
}

}  // namespace vouch::sigstore::checks
