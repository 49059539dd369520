#include "vouch/crypto/sct.h"

#include <chrono>

#include <openssl/ct.h>
#include <openssl/x509v3.h>

#include <set>
#include <string>

#include "openssl_util.h"

namespace vouch::crypto {
namespace {

struct CtDeleter {
  void operator()(STACK_OF(SCT)* p) const { SCT_LIST_free(p); }
};
using SctListPtr = std::unique_ptr<STACK_OF(SCT), CtDeleter>;

constexpr size_t kMaxScts = 64;

Result<SctListPtr> read_sct_list(const Certificate& cert) {
  int crit = -1;
  auto* list = static_cast<STACK_OF(SCT)*>(X509_get_ext_d2i(cert.get(), NID_ct_precert_scts, &crit, nullptr));
  ERR_clear_error();
  SctListPtr owned(list);
  if (!list) {
    if (crit == -1) return verification_failed("certificate has no embedded SCT");
    if (crit == -2) return invalid_input("certificate has more than one embedded SCT list extension");
    return invalid_input("certificate's embedded SCT list is malformed");
  }
  if (sk_SCT_num(list) <= 0) return verification_failed("certificate has no embedded SCT");
  if (static_cast<size_t>(sk_SCT_num(list)) > kMaxScts)
    return invalid_input(fmt::format("certificate embeds more than {} SCTs", kMaxScts));
  return owned;
}

Bytes sct_log_id(const SCT* sct) {
  unsigned char* id = nullptr;
  size_t len = SCT_get0_log_id(sct, &id);
  return id ? Bytes(id, id + len) : Bytes{};
}

// The precertificate TBSCertificate an SCT covers: the leaf's TBS without the SCT list.
Result<Bytes> precert_tbs(const Certificate& leaf) {
  X509Ptr copy(X509_dup(leaf.get()));
  if (!copy) return internal_error(fmt::format("SCT: cannot copy the certificate: {}", openssl_error()));
  int idx = X509_get_ext_by_NID(copy.get(), NID_ct_precert_scts, -1);
  if (idx >= 0) X509_EXTENSION_free(X509_delete_ext(copy.get(), idx));
  unsigned char* buf = nullptr;
  int len = i2d_re_X509_tbs(copy.get(), &buf);
  if (len <= 0) return internal_error(fmt::format("SCT: cannot encode the TBS certificate: {}", openssl_error()));
  Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

void put_uint(Bytes& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// RFC 6962 section 3.2: the digitally-signed struct of a v1 SCT over a precertificate entry.
// OpenSSL parses SCTs but builds this struct only inside its CT log store, which it fills
// from files alone; building it here keeps verification free of temporary files.
Bytes sct_signed_data(const SCT* sct, ByteView issuer_key_hash, ByteView tbs) {
  Bytes out;
  out.reserve(tbs.size() + 64);
  out.push_back(0);  // sct_version v1
  out.push_back(0);  // signature_type certificate_timestamp
  put_uint(out, SCT_get_timestamp(sct), 8);
  put_uint(out, 1, 2);  // entry_type precert_entry
  out.insert(out.end(), issuer_key_hash.begin(), issuer_key_hash.end());
  put_uint(out, tbs.size(), 3);
  out.insert(out.end(), tbs.begin(), tbs.end());
  unsigned char* ext = nullptr;
  size_t ext_len = SCT_get0_extensions(sct, &ext);
  put_uint(out, ext_len, 2);
  if (ext_len) out.insert(out.end(), ext, ext + ext_len);
  return out;
}

Bytes sct_signature(const SCT* sct) {
  unsigned char* sig = nullptr;
  size_t len = SCT_get0_signature(sct, &sig);
  return sig ? Bytes(sig, sig + len) : Bytes{};
}

std::string window_text(const CtLog& log) {
  return fmt::format("{} to {}", format_rfc3339(log.valid_start),
                     log.valid_end ? format_rfc3339(*log.valid_end) : std::string("open end"));
}

}  // namespace

Result<std::vector<EmbeddedSct>> embedded_scts(const Certificate& cert) {
  VOUCH_ASSIGN_OR_RETURN(SctListPtr list, read_sct_list(cert));
  std::vector<EmbeddedSct> out;
  for (int i = 0; i < sk_SCT_num(list.get()); ++i) {
    const SCT* sct = sk_SCT_value(list.get(), i);
    out.push_back({sct_log_id(sct), static_cast<int64_t>(SCT_get_timestamp(sct))});
  }
  return out;
}

Status verify_embedded_scts(const Certificate& leaf, const Certificate& issuer, const std::vector<CtLog>& logs,
                            size_t threshold) {
  if (threshold == 0) return ok_status();
  VOUCH_ASSIGN_OR_RETURN(SctListPtr list, read_sct_list(leaf));
  if (X509_check_issued(issuer.get(), leaf.get()) != X509_V_OK)
    return verification_failed(fmt::format("SCT: {} is not the issuer of the certificate (issued by {})",
                                           issuer.subject(), leaf.issuer()));

  VOUCH_ASSIGN_OR_RETURN(Bytes tbs, precert_tbs(leaf));
  unsigned char* spki = nullptr;
  int spki_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(issuer.get()), &spki);
  if (spki_len <= 0) return internal_error("SCT: cannot encode the issuer's public key");
  const Bytes issuer_key_hash = sha256(ByteView(spki, static_cast<size_t>(spki_len)));
  OPENSSL_free(spki);
  // At the clock's millisecond, as SCTs carry it: an SCT made earlier within this second is not
  // in the future.
  const uint64_t now_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                    std::chrono::system_clock::now().time_since_epoch())
                                                    .count());

  std::set<Bytes> verified_logs;
  std::vector<std::string> reasons;
  const int count = sk_SCT_num(list.get());
  for (int i = 0; i < count; ++i) {
    SCT* sct = sk_SCT_value(list.get(), i);
    const Bytes id = sct_log_id(sct);
    const std::string id_text = base64_encode(id);
    auto reason = [&](std::string why) {
      reasons.push_back(count > 1 ? fmt::format("SCT {}: {}", i, why) : std::move(why));
    };
    if (SCT_get_version(sct) != SCT_VERSION_V1) {
      reason("unsupported SCT version");
      continue;
    }
    if (verified_logs.count(id)) continue;
    const uint64_t ts_ms = SCT_get_timestamp(sct);
    const auto ts = static_cast<UnixSeconds>(ts_ms / 1000);
    const CtLog* known = nullptr;
    const CtLog* in_window = nullptr;
    for (const auto& log : logs) {
      if (!bytes_equal(log.log_id, id)) continue;
      known = &log;
      if (ts >= log.valid_start && (!log.valid_end || ts <= *log.valid_end)) {
        in_window = &log;
        break;
      }
    }
    if (!known) {
      reason(fmt::format("log id {} unknown", id_text));
      continue;
    }
    if (!in_window) {
      reason(fmt::format("SCT time {} outside the validity of CT log {} ({})", format_rfc3339(ts), id_text,
                         window_text(*known)));
      continue;
    }
    if (!bytes_equal(in_window->log_id, sha256(in_window->key.der()))) {
      reason(fmt::format("CT log id {} is not the SHA-256 of the log's public key", id_text));
      continue;
    }
    if (ts_ms > now_ms) {
      reason(fmt::format("SCT from log {} has a time in the future ({})", id_text, format_rfc3339(ts)));
      continue;
    }
    // Sigstore's CT logs sign with SHA-256 (ECDSA P-256 or RSA PKCS#1 v1.5).
    int nid = SCT_get_signature_nid(sct);
    if (nid != NID_ecdsa_with_SHA256 && nid != NID_sha256WithRSAEncryption) {
      reason(fmt::format("SCT from log {} uses an unsupported signature algorithm", id_text));
      continue;
    }
    if (in_window->key.verify(sct_signed_data(sct, issuer_key_hash, tbs), sct_signature(sct), HashAlgorithm::kSha256)
            .ok()) {
      verified_logs.insert(id);
      continue;
    }
    reason(fmt::format("signature of the SCT from log {} does not verify", id_text));
  }
  ERR_clear_error();

  if (verified_logs.size() >= threshold) return ok_status();
  std::string why;
  for (const auto& r : reasons) why += (why.empty() ? " (" : "; ") + r;
  if (!why.empty()) why += ")";
  if (verified_logs.empty()) return verification_failed(fmt::format("no SCT verifies against a trusted CT log{}", why));
  return verification_failed(fmt::format("SCTs from {} distinct trusted CT logs verify, {} required{}",
                                         verified_logs.size(), threshold, why));
}

}  // namespace vouch::crypto
