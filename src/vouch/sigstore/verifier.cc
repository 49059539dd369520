#include "vouch/sigstore/verifier.h"

#include <exception>

#include "checks.h"
#include "worker_pool.h"

namespace vouch::sigstore {

Artifact Artifact::from_bytes(std::string data) {
  Artifact a;
  a.data_ = std::move(data);
  a.digest_ = crypto::sha256(as_bytes(*a.data_));
  return a;
}

Result<Artifact> Artifact::from_digest(crypto::HashAlgorithm alg, Bytes digest) {
  if (digest.size() != crypto::hash_size(alg))
    return invalid_input(fmt::format("artifact digest has {} bytes, want {} for {}", digest.size(),
                                     crypto::hash_size(alg), crypto::hash_name(alg)));
  Artifact a;
  a.alg_ = alg;
  a.digest_ = std::move(digest);
  return a;
}

Result<Bytes> Artifact::digest(crypto::HashAlgorithm alg) const {
  if (alg == alg_) return digest_;
  if (data_) return crypto::digest(alg, as_bytes(*data_));
  return invalid_input(fmt::format("the artifact's {} digest is needed, but only its {} digest was given",
                                   crypto::hash_name(alg), crypto::hash_name(alg_)));
}

Result<Artifact> Artifact::from_digest_string(std::string_view alg_and_hex) {
  auto colon = alg_and_hex.find(':');
  if (colon == std::string_view::npos)
    return invalid_input(fmt::format("artifact digest '{}': want ALGORITHM:HEX", alg_and_hex.substr(0, 200)));
  auto alg = crypto::hash_from_name(alg_and_hex.substr(0, colon));
  if (!alg.ok()) return std::move(alg).error().context(fmt::format("artifact digest '{}'", alg_and_hex.substr(0, 200)));
  auto digest = hex_decode(alg_and_hex.substr(colon + 1));
  if (!digest.ok())
    return std::move(digest).error().context(fmt::format("artifact digest '{}'", alg_and_hex.substr(0, 200)));
  return from_digest(*alg, std::move(digest).value());
}

struct Verifier::State {
  State(std::shared_ptr<const TrustedMaterial> material, const VerifierOptions& options)
      : trusted(std::move(material)), prepared(*trusted, options.chain_cache_entries) {}

  std::shared_ptr<const TrustedMaterial> trusted;
  checks::PreparedTrust prepared;
};

Verifier::Verifier(std::shared_ptr<const TrustedMaterial> trusted, VerifierOptions options)
    : state_(std::make_shared<State>(std::move(trusted), options)) {}

const std::shared_ptr<const TrustedMaterial>& Verifier::trusted_material() const { return state_->trusted; }

Verifier::ChainCacheStats Verifier::chain_cache_stats() const {
  return {state_->prepared.chain_cache.hits(), state_->prepared.chain_cache.misses()};
}

Result<VerificationResult> Verifier::verify_bundle(const Bundle& bundle, const Artifact& artifact,
                                                   const VerifyPolicy& policy) const {
  VOUCH_ASSIGN_OR_RETURN(VerificationResult result, verify(bundle, artifact, policy));
  result.media_type = bundle.media_type;
  return result;
}

std::vector<Result<VerificationResult>> Verifier::verify_bundles(std::span<const BundleInput> inputs,
                                                                 const VerifyPolicy& policy) const {
  std::vector<Result<VerificationResult>> results(inputs.size(), internal_error("not verified"));
  WorkerPool::shared().run(inputs.size(), [&](size_t i) {
    const BundleInput& in = inputs[i];
    if (!in.bundle || !in.artifact) {
      results[i] = invalid_input(fmt::format("batch item {}: no bundle or no artifact", i));
      return;
    }
    try {
      results[i] = verify_bundle(*in.bundle, *in.artifact, policy);
    } catch (const std::exception& e) {
      results[i] = internal_error(fmt::format("batch item {}: {}", i, e.what()));
    }
  });
  return results;
}

Result<VerificationResult> Verifier::verify(const SignedEntity& entity, const Artifact& artifact,
                                            const VerifyPolicy& policy) const {
  checks::PreparedTrust& trust = state_->prepared;
  const TrustedMaterial& trusted = trust.trusted;
  VerificationResult result;
  const VerificationContent material = entity.verification_content();
  const crypto::Certificate* leaf = material.leaf();

  // Who signed: a certificate or a managed key.
  crypto::PublicKey signer_key;
  if (leaf) {
    // A chain that carries its own root would be trusted on its own word.
    for (const auto& cert : material.certificates)
      if (material.certificates.size() > 1 && cert.is_self_signed())
        return verification_failed("certificate chain: the bundle carries a root certificate; roots come only from the trusted root");
    if (leaf->is_ca()) return verification_failed("certificate chain: the signing certificate is a CA certificate");
    signer_key = leaf->public_key();
    if (policy.key && !policy.key->equals(signer_key))
      return verification_failed("signature: the bundle's certificate does not hold the given public key");
  } else {
    if (!policy.key)
      return invalid_input("bundle is signed with a managed key, but no public key was given (--key)");
    signer_key = *policy.key;
  }
  bool keyless = leaf && !policy.key;

  // Signing time: transparency log integrated times and RFC 3161 timestamps.
  std::vector<UnixSeconds> times;
  if (!policy.ignore_tlog) {
    VOUCH_ASSIGN_OR_RETURN(auto tlog, checks::verify_tlog_entries(entity, artifact, trusted, signer_key, leaf,
                                                                  policy.tlog_threshold));
    result.log_indexes = tlog.log_indexes;
    for (UnixSeconds t : tlog.integrated_times) {
      times.push_back(t);
      result.timestamps.push_back({"transparency log", t});
    }
  }
  VOUCH_ASSIGN_OR_RETURN(auto signed_times, checks::verify_signed_timestamps(entity, trust));
  for (UnixSeconds t : signed_times) {
    times.push_back(t);
    result.timestamps.push_back({"timestamp authority", t});
  }
  if (!policy.ignore_tlog && times.size() < policy.timestamp_threshold)
    return verification_failed(fmt::format(
        "timestamp: {} verified signing times (signed entry timestamps or RFC 3161 timestamps), want at least {}",
        times.size(), policy.timestamp_threshold));
  if (times.empty() && keyless) times.push_back(policy.now.value_or(now_unix()));

  // The certificate must chain to a trusted CA, and be valid, at every verified signing time.
  if (leaf && keyless) {
    std::vector<crypto::Certificate> chain;
    for (UnixSeconds t : times) {
      if (!leaf->valid_at(t))
        return verification_failed(fmt::format("certificate chain: signing time {} is outside the certificate's validity ({} to {})",
                                               format_rfc3339(t), format_rfc3339(leaf->not_before()),
                                               format_rfc3339(leaf->not_after())));
      VOUCH_ASSIGN_OR_RETURN(chain, checks::verify_certificate_chain(entity, trust, t));
    }
    if (!policy.ignore_sct) {
      if (chain.size() < 2) return verification_failed("SCT: the certificate's issuer is unknown");
      VOUCH_RETURN_IF_ERROR(checks::verify_sct(*leaf, chain[1], trust));
    }
  }

  VOUCH_RETURN_IF_ERROR(checks::verify_signature(entity, artifact, signer_key));

  if (leaf) {
    VOUCH_ASSIGN_OR_RETURN(CertificateSubject subject, certificate_subject(*leaf));
    if (keyless || !policy.identities.empty()) VOUCH_RETURN_IF_ERROR(check_identity(subject, policy.identities));
    result.signer = std::move(subject);
  }
  if (const auto* env = std::get_if<DsseEnvelope>(&entity.signature_content())) {
    result.payload_type = env->payload_type;
    result.statement = std::string(as_chars(env->payload));
  }
  return result;
}

namespace {

// A verifier for one call: the trusted material is the caller's, so it is not owned, and nothing
// is remembered past the call.
Verifier one_off(const TrustedMaterial& trusted) {
  return Verifier(std::shared_ptr<const TrustedMaterial>(std::shared_ptr<const TrustedMaterial>(), &trusted),
                  VerifierOptions{.chain_cache_entries = 0});
}

}  // namespace

Result<VerificationResult> verify(const SignedEntity& entity, const Artifact& artifact, const TrustedMaterial& trusted,
                                  const VerifyPolicy& policy) {
  return one_off(trusted).verify(entity, artifact, policy);
}

Result<VerificationResult> verify_bundle(const Bundle& bundle, const Artifact& artifact, const TrustedMaterial& trusted,
                                         const VerifyPolicy& policy) {
  return one_off(trusted).verify_bundle(bundle, artifact, policy);
}

std::vector<Result<VerificationResult>> verify_bundles(std::span<const BundleInput> inputs,
                                                       const TrustedMaterial& trusted, const VerifyPolicy& policy) {
  Verifier verifier(std::shared_ptr<const TrustedMaterial>(std::shared_ptr<const TrustedMaterial>(), &trusted));
  return verifier.verify_bundles(inputs, policy);
}

}  // namespace vouch::sigstore
