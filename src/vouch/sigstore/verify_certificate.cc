// Checks: the signing certificate chains to a trusted Fulcio CA at the signing time, and
// carries an SCT from a trusted CT log.
#include "checks.h"
#include "vouch/crypto/sct.h"

namespace vouch::sigstore::checks {

Result<std::vector<crypto::Certificate>> verify_certificate_chain(const SignedEntity& entity, const TrustedMaterial& trusted,
                                                                  UnixSeconds at) {
  const crypto::Certificate* leaf = entity.verification_content().leaf();
  if (!leaf) return internal_error("certificate chain: bundle has no certificate");
  auto all = trusted.fulcio_certificate_authorities();
  if (all.empty()) return verification_failed("certificate chain: no certificate authority in the trusted root");
  std::string last_error = fmt::format("no trusted certificate authority was valid at {}", format_rfc3339(at));
  for (const CertificateAuthority* trusted_ca : trusted.fulcio_certificate_authorities_at(at)) {
    const CertificateAuthority& ca = *trusted_ca;
    Result<std::vector<crypto::Certificate>> chain = internal_error("unset");
    if (ca.chain_verified) {
      // Validity periods above the issuing certificate still count at the signing time.
      const crypto::Certificate* expired = nullptr;
      for (const auto& c : ca.chain)
        if (!c.valid_at(at)) expired = &c;
      if (expired) {
        last_error = fmt::format("CA certificate {} is not valid at {}", expired->subject(), format_rfc3339(at));
        continue;
      }
      chain = crypto::verify_chain(*leaf, {}, {ca.chain.front()}, at);
    } else {
      std::vector<crypto::Certificate> intermediates(ca.chain.begin(), ca.chain.end() - 1);
      chain = crypto::verify_chain(*leaf, intermediates, {ca.chain.back()}, at);
    }
    if (chain.ok()) return chain;
    last_error = chain.error().message;
  }
  return verification_failed(fmt::format("certificate chain: {}", last_error));
}

Status verify_sct(const crypto::Certificate& leaf, const crypto::Certificate& issuer, const TrustedMaterial& trusted) {
  std::vector<crypto::CtLog> logs;
  for (const LogInstance* log : trusted.certificate_transparency_logs()) {
    logs.push_back(crypto::CtLog{log->log_id, log->key, log->valid_for.start, log->valid_for.end});
  }
  auto st = crypto::verify_embedded_scts(leaf, issuer, logs, 1);
  if (!st.ok()) return std::move(st).error().context("SCT");
  return ok_status();
}

}  // namespace vouch::sigstore::checks
