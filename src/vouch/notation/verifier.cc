#include "vouch/notation/verifier.h"

#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>

#include <fmt/format.h>

#include "vouch/crypto/timestamp.h"

namespace vouch::notation {
namespace {

// Times in failure messages as notation writes them (Go's RFC1123Z, in UTC), quoted.
std::string when(UnixSeconds t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  if (!gmtime_r(&tt, &tm)) return fmt::format("\"{}\"", t);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return fmt::format("\"{}\"", buf);
}

// The signing certificate chain must be complete: each certificate issued by the next, ending at
// a self-signed root, with a leaf fit for code signing. Time is checked elsewhere, under the rules
// of the signing scheme.
Status check_chain(const std::vector<crypto::Certificate>& chain) {
  const crypto::Certificate& leaf = chain[0];
  const uint32_t usage = X509_get_key_usage(leaf.get());
  if (usage != UINT32_MAX && !(usage & KU_DIGITAL_SIGNATURE))
    return verification_failed(fmt::format("signing certificate \"{}\" lacks the digitalSignature key usage", leaf.subject()));
  const uint32_t eku_flags = X509_get_extension_flags(leaf.get());
  if ((eku_flags & EXFLAG_XKUSAGE) && !leaf.has_code_signing_eku())
    return verification_failed(fmt::format("signing certificate \"{}\" lacks the codeSigning extended key usage", leaf.subject()));
  if (chain.size() > 1 && leaf.is_ca())
    return verification_failed(fmt::format("signing certificate \"{}\" is a CA certificate", leaf.subject()));
  const crypto::Certificate& root = chain.back();
  if (!root.is_self_signed())
    return verification_failed(fmt::format("the certificate chain does not end at a self-signed root (\"{}\")", root.subject()));
  std::vector<crypto::Certificate> intermediates(chain.begin() + 1, chain.end() - (chain.size() > 1 ? 1 : 0));
  if (chain.size() == 1) intermediates.clear();
  auto verified = crypto::verify_chain(leaf, intermediates, {root}, std::nullopt);
  if (!verified.ok())
    return verification_failed(fmt::format("invalid certificate chain: {}", verified.error().message));
  if (verified->size() != chain.size())
    return verification_failed("the certificate chain holds certificates that are not part of the path to its root");
  return ok_status();
}

Result<std::vector<crypto::Certificate>> load_stores(const TrustPolicy& policy, const TrustStore& store, TrustStoreType type) {
  std::vector<crypto::Certificate> out;
  for (const auto& [t, name] : policy.trust_stores) {
    if (t != type) continue;
    auto certs = store.certificates(t, name);
    if (!certs.ok()) return std::move(certs).error();
    out.insert(out.end(), certs->begin(), certs->end());
  }
  return out;
}

Status check_authenticity(const Envelope& env, const TrustPolicy& policy, const TrustStore& store) {
  VOUCH_RETURN_IF_ERROR(check_chain(env.chain));
  const TrustStoreType type = env.scheme == SigningScheme::kX509 ? TrustStoreType::kCa : TrustStoreType::kSigningAuthority;
  auto trusted = load_stores(policy, store, type);
  if (!trusted.ok())
    return verification_failed(fmt::format("error while loading the trust store: {}", trusted.error().message));
  if (trusted->empty())
    return verification_failed(fmt::format("trust policy \"{}\" names no trust store of type \"{}\" for signing scheme {}",
                                           policy.name, trust_store_type_name(type), signing_scheme_name(env.scheme)));
  bool anchored = false;
  for (const auto& t : *trusted)
    for (const auto& c : env.chain)
      if (t.der() == c.der()) anchored = true;
  if (!anchored) return verification_failed("the signature's certificate chain does not contain any trusted certificate");
  return match_trusted_identities(policy, env.chain[0]);
}

Status check_authentic_timestamp(const Envelope& env, const TrustPolicy& policy, const TrustStore& store, UnixSeconds now) {
  if (env.scheme == SigningScheme::kX509SigningAuthority) {
    for (const auto& cert : env.chain)
      if (!cert.valid_at(env.signing_time))
        return verification_failed(fmt::format("certificate \"{}\" was not valid when the digital signature was produced at {}",
                                               cert.subject(), when(env.signing_time)));
    return ok_status();
  }
  const bool tsa_configured = std::any_of(policy.trust_stores.begin(), policy.trust_stores.end(),
                                          [](const auto& s) { return s.first == TrustStoreType::kTsa; });
  bool use_timestamp = tsa_configured;
  if (use_timestamp && !policy.verify_timestamp_always)
    use_timestamp = std::any_of(env.chain.begin(), env.chain.end(), [&](const auto& c) { return now > c.not_after(); });
  if (!use_timestamp) {
    for (const auto& cert : env.chain) {
      if (now < cert.not_before())
        return verification_failed(fmt::format("verification time is before certificate \"{}\" validity period, it will be valid from {}",
                                               cert.subject(), when(cert.not_before())));
      if (now > cert.not_after())
        return verification_failed(fmt::format("verification time is after certificate \"{}\" validity period, it was expired at {}",
                                               cert.subject(), when(cert.not_after())));
    }
    return ok_status();
  }
  if (!env.timestamp_token || env.timestamp_token->empty())
    return verification_failed("no timestamp countersignature was found in the signature envelope");
  auto tsa_roots = load_stores(policy, store, TrustStoreType::kTsa);
  if (!tsa_roots.ok()) return verification_failed(fmt::format("failed to load tsa trust store: {}", tsa_roots.error().message));
  std::vector<crypto::TimestampAuthority> authorities;
  for (const auto& root : *tsa_roots) authorities.push_back({{root}, 0, std::nullopt});
  auto stamp = crypto::verify_timestamp(timestamp_response_from_token(*env.timestamp_token), env.signature, authorities);
  if (!stamp.ok())
    return verification_failed(fmt::format("failed to verify the timestamp countersignature: {}", stamp.error().message));
  // The signature was made somewhere in genTime ± accuracy, and every certificate must have been
  // valid over all of it (notation-go's BoundedAfter and BoundedBefore).
  const StampedInterval interval = stamped_interval(*stamp);
  for (const auto& cert : env.chain) {
    if (interval.earliest_micros < cert.not_before() * kMicrosPerSecond)
      return verification_failed(fmt::format("timestamp can be before certificate \"{}\" validity period, it will be valid from {} "
                                             "(timestamp range {})",
                                             cert.subject(), when(cert.not_before()), interval.text()));
    if (interval.latest_micros > cert.not_after() * kMicrosPerSecond)
      return verification_failed(fmt::format("timestamp can be after certificate \"{}\" validity period, it was expired at {} "
                                             "(timestamp range {})",
                                             cert.subject(), when(cert.not_after()), interval.text()));
  }
  return ok_status();
}

}  // namespace

std::string StampedInterval::text() const {
  auto at = [](int64_t micros) {
    int64_t seconds = micros / kMicrosPerSecond, fraction = micros % kMicrosPerSecond;
    if (fraction < 0) {
      seconds -= 1;
      fraction += kMicrosPerSecond;
    }
    std::string out = format_rfc3339(seconds);
    if (fraction != 0 && out.ends_with('Z')) {
      std::string digits = fmt::format("{:06d}", fraction);
      while (digits.back() == '0') digits.pop_back();
      out.insert(out.size() - 1, "." + digits);
    }
    return out;
  };
  return fmt::format("[{}, {}]", at(earliest_micros), at(latest_micros));
}

StampedInterval stamped_interval(const crypto::VerifiedTimestamp& stamp) {
  int64_t accuracy = stamp.accuracy_micros;
  if (accuracy == 0 && stamp.policy == kBaselineTimestampPolicy) accuracy = kMicrosPerSecond;
  return {stamp.time_micros - accuracy, stamp.time_micros + accuracy};
}

boost::json::object VerificationOutcome::to_json() const {
  boost::json::object o;
  o["verified"] = verified;
  o["trustPolicy"] = policy;
  o["level"] = level;
  boost::json::array checks;
  for (const auto& r : results) {
    boost::json::object c;
    c["check"] = check_name(r.check);
    c["action"] = action_name(r.action);
    c["passed"] = !r.failure.has_value();
    if (r.failure) c["error"] = *r.failure;
    checks.push_back(std::move(c));
  }
  o["checks"] = std::move(checks);
  if (envelope) {
    o["envelope"] = envelope_media_type(envelope->format);
    o["signatureAlgorithm"] = algorithm_name(envelope->algorithm);
    o["signingScheme"] = signing_scheme_name(envelope->scheme);
    o["signingTime"] = format_rfc3339(envelope->signing_time);
    if (envelope->expiry) o["expiry"] = format_rfc3339(*envelope->expiry);
    if (!envelope->chain.empty()) o["signer"] = envelope->chain[0].subject();
    o["timestamped"] = envelope->timestamp_token.has_value();
  }
  if (target) {
    boost::json::object t;
    t["mediaType"] = target->media_type;
    t["digest"] = target->digest;
    t["size"] = target->size;
    o["targetArtifact"] = std::move(t);
  }
  if (!failure.empty()) o["error"] = failure;
  boost::json::array l;
  for (const auto& s : logged) l.emplace_back(s);
  o["logged"] = std::move(l);
  return o;
}

Result<VerificationOutcome> verify_envelope(const VerifyRequest& request, const VerifyContext& context) {
  if (!context.policy || !context.trust_store) return internal_error("notation: verification needs a trust policy and a trust store");
  VOUCH_ASSIGN_OR_RETURN(const TrustPolicy* policy, context.policy->select(request.scope));
  VerificationOutcome out;
  out.policy = policy->name;
  out.level = policy->level.name;
  if (policy->level.name == "skip") {
    out.verified = true;
    return out;
  }

  // Records a check's result; returns true when verification must stop here.
  auto record = [&](Check check, Status status) {
    CheckResult r{check, policy->level.action(check), std::nullopt};
    if (r.action == Action::kSkip) return false;
    if (!status.ok()) r.failure = status.error().message;
    out.results.push_back(r);
    if (!r.failure) return false;
    if (r.action == Action::kEnforce) {
      out.failure = fmt::format("{} (enforced by level {}): {}", check_name(check), out.level, *r.failure);
      return true;
    }
    out.logged.push_back(fmt::format("{} (logged by level {}): {}", check_name(check), out.level, *r.failure));
    return false;
  };
  // Integrity is enforced by every level but skip.
  auto integrity = [&]() -> Status {
    auto env = parse_envelope(request.envelope, request.format);
    if (!env.ok()) return verification_failed(fmt::format("unable to parse the digital signature: {}", env.error().message));
    out.envelope = std::move(*env);
    const Envelope& e = *out.envelope;
    VOUCH_RETURN_IF_ERROR(verify_envelope_signature(e));
    if (!e.verification_plugin.empty())
      return verification_failed(fmt::format("the signature requires verification plugin \"{}\", and plugins are not supported",
                                             e.verification_plugin));
    if (!e.unknown_critical.empty())
      return verification_failed(fmt::format("critical header \"{}\" is not understood", e.unknown_critical[0]));
    auto target = parse_payload(e.payload);
    if (!target.ok()) return verification_failed(target.error().message);
    out.target = *target;
    if (!same_artifact(*target, request.artifact))
      return verification_failed(fmt::format("signature does not match the given artifact: it is for {} ({}, {} bytes), not {} ({}, {} bytes)",
                                             target->digest, target->media_type, target->size, request.artifact.digest,
                                             request.artifact.media_type, request.artifact.size));
    return ok_status();
  };
  if (record(Check::kIntegrity, integrity())) return out;
  const Envelope& env = *out.envelope;
  if (record(Check::kAuthenticity, check_authenticity(env, *policy, *context.trust_store))) return out;
  Status expiry;
  if (env.expiry && context.now >= *env.expiry)
    expiry = verification_failed(fmt::format("digital signature has expired on {}", when(*env.expiry)));
  if (record(Check::kExpiry, expiry)) return out;
  if (record(Check::kAuthenticTimestamp, check_authentic_timestamp(env, *policy, *context.trust_store, context.now))) return out;
  for (const auto& [k, v] : request.user_metadata) {
    auto it = out.target->annotations.find(k);
    if (it == out.target->annotations.end() || it->second != v) {
      out.failure = fmt::format("unable to find specified metadata {}={} in the signature", k, v);
      return out;
    }
  }
  out.verified = true;
  return out;
}

}  // namespace vouch::notation
