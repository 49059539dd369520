// Check: RFC 3161 timestamps over the signature, signed by a trusted timestamp authority.
#include "checks.h"
#include "vouch/crypto/timestamp.h"

namespace vouch::sigstore::checks {

Result<std::vector<UnixSeconds>> verify_signed_timestamps(const SignedEntity& entity, const PreparedTrust& trust) {
  std::vector<UnixSeconds> times;
  for (size_t i = 0; i < entity.rfc3161_timestamps().size(); ++i) {
    auto verified = crypto::verify_timestamp(entity.rfc3161_timestamps()[i], signature_bytes(entity.signature_content()),
                                             trust.timestamp_authorities);
    if (!verified.ok()) return std::move(verified).error().context(fmt::format("RFC 3161 timestamp {}", i));
    times.push_back(verified->time);
  }
  return times;
}

}  // namespace vouch::sigstore::checks
