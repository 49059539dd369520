// Verification of one Notary Project signature envelope against the artifact it must describe,
// under the trust policy that applies to the artifact's repository: integrity, authenticity
// (certificate chain, trust store, trusted identities), expiry and authentic timestamp, each
// enforced, logged or skipped as the policy's verification level says.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"
#include "vouch/base/time.h"
#include "vouch/crypto/timestamp.h"
#include "vouch/notation/envelope.h"
#include "vouch/notation/trust_policy.h"

namespace vouch::notation {

struct CheckResult {
  Check check = Check::kIntegrity;
  Action action = Action::kEnforce;
  std::optional<std::string> failure;  // why the check failed; none when it passed
};

struct VerificationOutcome {
  bool verified = false;              // no enforced check failed
  std::string policy;                 // the trust policy statement applied
  std::string level;                  // its verification level
  std::vector<CheckResult> results;   // the checks that ran, in order
  std::optional<Envelope> envelope;   // when it could be parsed
  std::optional<TargetArtifact> target;
  // The first enforced failure, naming the check and the level ("authenticity (enforced by
  // level strict): ..."); empty when verified.
  std::string failure;
  // Logged failures, in the same form ("expiry (logged by level permissive): ...").
  std::vector<std::string> logged;
  boost::json::object to_json() const;
};

struct VerifyRequest {
  ByteView envelope;
  EnvelopeFormat format = EnvelopeFormat::kJws;
  TargetArtifact artifact;  // mediaType, digest and size of the artifact being verified
  std::string scope;        // registry/repository, to select the trust policy
  // Annotations the signed payload must carry with these values (notation's --user-metadata).
  std::map<std::string, std::string> user_metadata;
};

struct VerifyContext {
  const TrustPolicyDocument* policy = nullptr;
  const TrustStore* trust_store = nullptr;
  UnixSeconds now = 0;
};

// When a verified RFC 3161 countersignature says the signature was made: genTime ± the token's
// accuracy, as notation-go reads it (tspclient-go's Timestamp). A token under RFC 3628's baseline
// time-stamp policy that states no accuracy is taken to be accurate to one second, as the Notary
// Project's trust policy specification says. Bounds in microseconds since the epoch, inclusive.
struct StampedInterval {
  int64_t earliest_micros = 0;
  int64_t latest_micros = 0;
  std::string text() const;  // "[2024-01-01T00:00:09Z, 2024-01-01T00:00:11Z]"
};
inline constexpr std::string_view kBaselineTimestampPolicy = "0.4.0.2023.1.1";
inline constexpr int64_t kMicrosPerSecond = 1000000;
StampedInterval stamped_interval(const crypto::VerifiedTimestamp& stamp);

// Runs the checks of the Notary Project verification procedure. Returns an outcome whether or not
// it verified; an error only when no policy applies to the scope (kVerification).
Result<VerificationOutcome> verify_envelope(const VerifyRequest& request, const VerifyContext& context);

}  // namespace vouch::notation
