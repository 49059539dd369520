// Checks: the signing certificate chains to a trusted Fulcio CA at the signing time, and
// carries an SCT from a trusted CT log.
#include <cstring>

#include "checks.h"
#include "vouch/crypto/sct.h"

namespace vouch::sigstore::checks {
namespace {

// Valid at `at` with a second to spare at both ends. The boundary seconds are left to OpenSSL's
// own check, so that a remembered chain never passes where a full verification would not.
bool well_inside_validity(const crypto::Certificate& cert, UnixSeconds at) {
  return cert.not_before() < at && at < cert.not_after();
}

}  // namespace

std::string ChainCache::key(size_t authority, ByteView leaf_der) {
  std::string k(sizeof authority, '\0');
  std::memcpy(k.data(), &authority, sizeof authority);
  k.append(as_chars(leaf_der));
  return k;
}

std::optional<std::vector<crypto::Certificate>> ChainCache::find(size_t authority, ByteView leaf_der) {
  if (!enabled()) return std::nullopt;
  const std::string k = key(authority, leaf_der);
  std::lock_guard lock(mu_);
  auto it = entries_.find(k);
  if (it == entries_.end()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  hits_.fetch_add(1, std::memory_order_relaxed);
  return it->second;
}

void ChainCache::remember(size_t authority, ByteView leaf_der, std::vector<crypto::Certificate> issuers) {
  if (!enabled()) return;
  std::string k = key(authority, leaf_der);
  std::lock_guard lock(mu_);
  if (entries_.count(k)) return;
  while (entries_.size() >= capacity_ && !order_.empty()) {
    entries_.erase(order_.front());
    order_.pop_front();
  }
  order_.push_back(k);
  entries_.emplace(std::move(k), std::move(issuers));
}

PreparedTrust::PreparedTrust(const TrustedMaterial& trusted_material, size_t chain_cache_entries)
    : trusted(trusted_material), chain_cache(chain_cache_entries) {
  for (const CertificateAuthority* ca : trusted.fulcio_certificate_authorities()) {
    Authority a;
    a.ca = ca;
    if (!ca->chain.empty()) {
      // Validity periods above the issuing certificate are checked by verify_certificate_chain.
      auto chain = ca->chain_verified
                       ? crypto::ChainVerifier::create({}, {ca->chain.front()})
                       : crypto::ChainVerifier::create({ca->chain.begin(), ca->chain.end() - 1}, {ca->chain.back()});
      if (chain.ok()) a.chain = std::move(chain).value();
    }
    authorities.push_back(std::move(a));
  }
  for (const LogInstance* log : trusted.certificate_transparency_logs())
    ct_logs.push_back(crypto::CtLog{log->log_id, log->key, log->valid_for.start, log->valid_for.end});
  for (const CertificateAuthority* tsa : trusted.timestamping_authorities())
    timestamp_authorities.push_back(crypto::TimestampAuthority{tsa->chain, tsa->valid_for.start, tsa->valid_for.end});
}

const PreparedTrust::Authority* PreparedTrust::find(const CertificateAuthority* ca) const {
  for (const Authority& a : authorities)
    if (a.ca == ca) return &a;
  return nullptr;
}

Result<std::vector<crypto::Certificate>> verify_certificate_chain(const SignedEntity& entity, PreparedTrust& trust,
                                                                  UnixSeconds at) {
  const crypto::Certificate* leaf = entity.verification_content().leaf();
  if (!leaf) return internal_error("certificate chain: bundle has no certificate");
  if (trust.authorities.empty()) return verification_failed("certificate chain: no certificate authority in the trusted root");
  std::string last_error = fmt::format("no trusted certificate authority was valid at {}", format_rfc3339(at));
  for (const CertificateAuthority* trusted_ca : trust.trusted.fulcio_certificate_authorities_at(at)) {
    const CertificateAuthority& ca = *trusted_ca;
    if (ca.chain.empty()) {
      last_error = "a trusted certificate authority has no certificate";
      continue;
    }
    if (ca.chain_verified) {
      // Validity periods above the issuing certificate still count at the signing time.
      const crypto::Certificate* expired = nullptr;
      for (const auto& c : ca.chain)
        if (!c.valid_at(at)) expired = &c;
      if (expired) {
        last_error = fmt::format("CA certificate {} is not valid at {}", expired->subject(), format_rfc3339(at));
        continue;
      }
    }
    const PreparedTrust::Authority* prepared = trust.find(trusted_ca);
    if (!prepared) {
      // A CA the trusted material did not list when the verifier was made: checked on its own.
      auto chain = ca.chain_verified
                       ? crypto::verify_chain(*leaf, {}, {ca.chain.front()}, at)
                       : crypto::verify_chain(*leaf, {ca.chain.begin(), ca.chain.end() - 1}, {ca.chain.back()}, at);
      if (chain.ok()) return chain;
      last_error = chain.error().message;
      continue;
    }
    if (!prepared->chain) {
      last_error = "chain verification could not be set up for a trusted certificate authority";
      continue;
    }
    // Only a chain to the issuing certificate alone is remembered: with a single trust anchor and
    // no intermediates, OpenSSL can build only one path, the same at any time.
    const size_t index = static_cast<size_t>(prepared - trust.authorities.data());
    const bool cacheable = ca.chain_verified && trust.chain_cache.enabled();
    if (cacheable) {
      if (auto issuers = trust.chain_cache.find(index, leaf->der())) {
        bool inside = well_inside_validity(*leaf, at);
        for (const auto& c : *issuers) inside = inside && well_inside_validity(c, at);
        if (inside) {
          std::vector<crypto::Certificate> chain{*leaf};
          chain.insert(chain.end(), issuers->begin(), issuers->end());
          return chain;
        }
        // Near or outside a validity boundary: the full verification below decides.
      }
    }
    auto chain = prepared->chain->verify(*leaf, at);
    if (chain.ok()) {
      if (cacheable) trust.chain_cache.remember(index, leaf->der(), {chain->begin() + 1, chain->end()});
      return chain;
    }
    last_error = chain.error().message;
  }
  return verification_failed(fmt::format("certificate chain: {}", last_error));
}

Status verify_sct(const crypto::Certificate& leaf, const crypto::Certificate& issuer, const PreparedTrust& trust) {
  auto st = crypto::verify_embedded_scts(leaf, issuer, trust.ct_logs, 1);
  if (!st.ok()) return std::move(st).error().context("SCT");
  return ok_status();
}

}  // namespace vouch::sigstore::checks
