// Check: RFC 3161 timestamps over the signature, signed by a trusted timestamp authority.
#include "checks.h"
#include "vouch/crypto/timestamp.h"

namespace vouch::sigstore::checks {

Result<std::vector<UnixSeconds>> verify_signed_timestamps(const Bundle& bundle, const TrustedRoot& root) {
  std::vector<UnixSeconds> times;
  if (bundle.material.rfc3161_timestamps.empty()) return times;
  std::vector<crypto::TimestampAuthority> authorities;
  for (const auto& tsa : root.timestamp_authorities)
    authorities.push_back(crypto::TimestampAuthority{tsa.chain, tsa.valid_for.start, tsa.valid_for.end});
  for (size_t i = 0; i < bundle.material.rfc3161_timestamps.size(); ++i) {
    auto verified = crypto::verify_timestamp(bundle.material.rfc3161_timestamps[i], bundle.signature(), authorities);
    if (!verified.ok()) return std::move(verified).error().context(fmt::format("RFC 3161 timestamp {}", i));
    times.push_back(verified->time);
  }
  return times;
}

}  // namespace vouch::sigstore::checks
