#include "vouch/crypto/sct.h"

#include <chrono>

#include <openssl/ct.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <optional>
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

// The TBSCertificate of `cert` without the extension `nid` (if present).
Result<Bytes> tbs_without(const Certificate& cert, int nid) {
  X509Ptr copy(X509_dup(cert.get()));
  if (!copy) return internal_error(fmt::format("SCT: cannot copy the certificate: {}", openssl_error()));
  int idx = X509_get_ext_by_NID(copy.get(), nid, -1);
  if (idx >= 0) X509_EXTENSION_free(X509_delete_ext(copy.get(), idx));
  unsigned char* buf = nullptr;
  int len = i2d_re_X509_tbs(copy.get(), &buf);
  if (len <= 0) return internal_error(fmt::format("SCT: cannot encode the TBS certificate: {}", openssl_error()));
  Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

// ---- The precertificate's TBSCertificate, cut out of the leaf's own bytes ----------------------
// Copying the certificate and encoding it again (tbs_without) parses its public key once more,
// which OpenSSL 3 does slowly; for a certificate in DER the same bytes come from removing the
// SCT list extension and rewriting the lengths around it.

// One element at the start of a buffer: a one-octet tag (low tag number) and a definite length
// in its shortest form, as DER has them.
struct DerElement {
  uint8_t tag = 0;
  size_t header = 0;  // tag and length octets
  size_t length = 0;  // contents
  size_t size() const { return header + length; }
};

std::optional<DerElement> read_der_element(ByteView in) {
  if (in.size() < 2 || (in[0] & 0x1f) == 0x1f) return std::nullopt;
  DerElement e;
  e.tag = in[0];
  e.header = 2;
  if (in[1] < 0x80) {
    e.length = in[1];
  } else {
    const size_t octets = in[1] & 0x7f;  // 0: indefinite length, which DER forbids
    if (octets == 0 || octets > 4 || in.size() < 2 + octets || in[2] == 0) return std::nullopt;
    for (size_t i = 0; i < octets; ++i) e.length = (e.length << 8) | in[2 + i];
    if (e.length < 0x80) return std::nullopt;
    e.header += octets;
  }
  if (e.length > in.size() - e.header) return std::nullopt;
  return e;
}

void append_der_header(Bytes& out, uint8_t tag, size_t length) {
  out.push_back(tag);
  if (length < 0x80) {
    out.push_back(static_cast<uint8_t>(length));
    return;
  }
  uint8_t octets[sizeof(size_t)];
  size_t n = 0;
  for (size_t rest = length; rest > 0; rest >>= 8) octets[n++] = static_cast<uint8_t>(rest & 0xff);
  out.push_back(static_cast<uint8_t>(0x80 | n));
  while (n > 0) out.push_back(octets[--n]);
}

// Whether `in` is a run of elements that OpenSSL would encode again byte for byte: shortest
// lengths all the way down, and no constructed form other than SEQUENCE, SET and tagged
// elements (BER's constructed strings).
bool is_plain_der(ByteView in, int depth) {
  if (depth > 32) return false;
  while (!in.empty()) {
    auto e = read_der_element(in);
    if (!e) return false;
    const bool constructed = (e->tag & 0x20) != 0;
    const bool universal = (e->tag & 0xc0) == 0;
    if (constructed && universal && e->tag != 0x30 && e->tag != 0x31) return false;
    if (constructed && !is_plain_der(in.subspan(e->header, e->length), depth + 1)) return false;
    in = in.subspan(e->size());
  }
  return true;
}

// 1.3.6.1.4.1.11129.2.4.2, the embedded SCT list, as the contents of a DER OBJECT IDENTIFIER.
constexpr uint8_t kSctListOidDer[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02};

// The TBSCertificate of `cert_der` without its one SCT list extension; nullopt when the
// certificate is not plain DER or does not hold exactly one such extension.
std::optional<Bytes> tbs_without_sct_list(ByteView cert_der) {
  auto cert = read_der_element(cert_der);
  if (!cert || cert->tag != 0x30 || cert->size() != cert_der.size()) return std::nullopt;
  ByteView cert_body = cert_der.subspan(cert->header, cert->length);
  auto tbs = read_der_element(cert_body);
  if (!tbs || tbs->tag != 0x30) return std::nullopt;
  ByteView tbs_body = cert_body.subspan(tbs->header, tbs->length);
  if (!is_plain_der(tbs_body, 0)) return std::nullopt;

  // The extensions, [3] EXPLICIT, are the TBSCertificate's last element.
  size_t extensions_at = 0;
  ByteView extensions_body;
  for (size_t pos = 0; pos < tbs_body.size();) {
    auto e = read_der_element(tbs_body.subspan(pos));
    if (!e) return std::nullopt;
    if (e->tag == 0xa3) {
      if (pos + e->size() != tbs_body.size()) return std::nullopt;
      extensions_at = pos;
      auto list = read_der_element(tbs_body.subspan(pos + e->header, e->length));
      if (!list || list->tag != 0x30 || list->size() != e->length) return std::nullopt;
      extensions_body = tbs_body.subspan(pos + e->header + list->header, list->length);
    }
    pos += e->size();
  }
  if (extensions_at == 0) return std::nullopt;

  // Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }.
  // In DER a critical flag is present only when TRUE, as 0xff (OpenSSL would write it so).
  Bytes kept;
  kept.reserve(extensions_body.size());
  int removed = 0;
  for (size_t pos = 0; pos < extensions_body.size();) {
    auto ext = read_der_element(extensions_body.subspan(pos));
    if (!ext || ext->tag != 0x30) return std::nullopt;
    ByteView whole = extensions_body.subspan(pos, ext->size());
    ByteView fields = whole.subspan(ext->header);
    auto oid = read_der_element(fields);
    if (!oid || oid->tag != 0x06) return std::nullopt;
    size_t at = oid->size();
    auto next = read_der_element(fields.subspan(at));
    if (next && next->tag == 0x01) {
      if (next->length != 1 || fields[at + next->header] != 0xff) return std::nullopt;
      at += next->size();
      next = read_der_element(fields.subspan(at));
    }
    if (!next || next->tag != 0x04 || at + next->size() != fields.size()) return std::nullopt;
    ByteView oid_value = fields.subspan(oid->header, oid->length);
    if (std::equal(oid_value.begin(), oid_value.end(), std::begin(kSctListOidDer), std::end(kSctListOidDer)))
      ++removed;
    else
      kept.insert(kept.end(), whole.begin(), whole.end());
    pos += ext->size();
  }
  if (removed != 1) return std::nullopt;

  // The same elements with new lengths around what is left: TBSCertificate, [3], the list.
  Bytes list;
  append_der_header(list, 0x30, kept.size());
  list.insert(list.end(), kept.begin(), kept.end());
  Bytes tagged;
  append_der_header(tagged, 0xa3, list.size());
  tagged.insert(tagged.end(), list.begin(), list.end());
  Bytes out;
  out.reserve(extensions_at + tagged.size() + 8);
  append_der_header(out, 0x30, extensions_at + tagged.size());
  out.insert(out.end(), tbs_body.begin(), tbs_body.begin() + static_cast<std::ptrdiff_t>(extensions_at));
  out.insert(out.end(), tagged.begin(), tagged.end());
  return out;
}


Bytes sct_extensions(const SCT* sct) {
  unsigned char* ext = nullptr;
  size_t len = SCT_get0_extensions(sct, &ext);
  return ext ? Bytes(ext, ext + len) : Bytes{};
}

Bytes sct_signature(const SCT* sct) {
  unsigned char* sig = nullptr;
  size_t len = SCT_get0_signature(sct, &sig);
  return sig ? Bytes(sig, sig + len) : Bytes{};
}

// SHA-256 of the issuer's SubjectPublicKeyInfo as the certificate encodes it.
Result<Bytes> issuer_key_hash(const Certificate& issuer) {
  unsigned char* spki = nullptr;
  int spki_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(issuer.get()), &spki);
  if (spki_len <= 0) return internal_error("SCT: cannot encode the issuer's public key");
  Bytes hash = sha256(ByteView(spki, static_cast<size_t>(spki_len)));
  OPENSSL_free(spki);
  return hash;
}

std::string window_text(const CtLog& log) {
  return fmt::format("{} to {}", format_rfc3339(log.valid_start),
                     log.valid_end ? format_rfc3339(*log.valid_end) : std::string("open end"));
}

}  // namespace

Result<Bytes> precertificate_tbs(const Certificate& leaf) {
  if (auto cut = tbs_without_sct_list(leaf.der())) return std::move(*cut);
  return tbs_without(leaf, NID_ct_precert_scts);
}

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

  CtSignedEntry entry{CtEntryType::kPrecert, {}, {}};
  VOUCH_ASSIGN_OR_RETURN(entry.certificate, precertificate_tbs(leaf));
  VOUCH_ASSIGN_OR_RETURN(entry.issuer_key_hash, issuer_key_hash(issuer));
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
    auto signed_data = sct_signature_input(entry, SCT_get_timestamp(sct), sct_extensions(sct));
    if (!signed_data.ok()) {
      reason(fmt::format("SCT from log {}: {}", id_text, signed_data.error().message));
      continue;
    }
    if (in_window->key.verify(*signed_data, sct_signature(sct), HashAlgorithm::kSha256).ok()) {
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

// ---- SCT v1 structures ------------------------------------------------------------------------

namespace {

constexpr size_t kMaxUint16 = 0xffff;
constexpr size_t kMaxUint24 = 0xffffff;
constexpr size_t kLogIdSize = 32;

size_t max_for(int length_bytes) { return length_bytes == 2 ? kMaxUint16 : kMaxUint24; }

// Writes the TLS presentation language: big-endian integers and length-prefixed vectors.
class TlsWriter {
 public:
  void uint(uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void raw(ByteView data) { out_.insert(out_.end(), data.begin(), data.end()); }
  // opaque field<min..2^(8*length_bytes)-1>.
  Status opaque(ByteView data, int length_bytes, size_t min, std::string_view what) {
    if (data.size() < min || data.size() > max_for(length_bytes))
      return invalid_input(fmt::format("{}: {} bytes, want {} to {}", what, data.size(), min, max_for(length_bytes)));
    uint(data.size(), length_bytes);
    raw(data);
    return ok_status();
  }
  Bytes take() { return std::move(out_); }

 private:
  Bytes out_;
};

// Reads what TlsWriter writes, from untrusted bytes: every length is checked against what is left.
class TlsReader {
 public:
  TlsReader(ByteView data, std::string_view what) : data_(data), what_(what) {}

  Result<uint64_t> uint(int bytes, std::string_view field) {
    VOUCH_ASSIGN_OR_RETURN(ByteView b, fixed(static_cast<size_t>(bytes), field));
    uint64_t v = 0;
    for (uint8_t c : b) v = v << 8 | c;
    return v;
  }
  Result<ByteView> fixed(size_t n, std::string_view field) {
    if (n > data_.size() - pos_)
      return invalid_input(fmt::format("{}: {}: want {} bytes, {} left", what_, field, n, data_.size() - pos_));
    ByteView out = data_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  Result<ByteView> opaque(int length_bytes, size_t min, std::string_view field) {
    VOUCH_ASSIGN_OR_RETURN(uint64_t len, uint(length_bytes, field));
    if (len < min) return invalid_input(fmt::format("{}: {}: length {} is below the minimum {}", what_, field, len, min));
    return fixed(static_cast<size_t>(len), field);
  }
  bool at_end() const { return pos_ == data_.size(); }
  Status finish() const {
    if (!at_end())
      return invalid_input(fmt::format("{}: {} bytes of trailing data", what_, data_.size() - pos_));
    return ok_status();
  }

 private:
  ByteView data_;
  size_t pos_ = 0;
  std::string_view what_;
};

Status write_digitally_signed(TlsWriter& w, const DigitallySigned& ds) {
  w.uint(ds.hash_algorithm, 1);
  w.uint(ds.signature_algorithm, 1);
  return w.opaque(ds.signature, 2, 0, "DigitallySigned signature");
}

Result<DigitallySigned> read_digitally_signed(TlsReader& r) {
  DigitallySigned ds;
  VOUCH_ASSIGN_OR_RETURN(uint64_t hash, r.uint(1, "hash algorithm"));
  VOUCH_ASSIGN_OR_RETURN(uint64_t sig, r.uint(1, "signature algorithm"));
  VOUCH_ASSIGN_OR_RETURN(ByteView signature, r.opaque(2, 0, "signature"));
  ds.hash_algorithm = static_cast<uint8_t>(hash);
  ds.signature_algorithm = static_cast<uint8_t>(sig);
  ds.signature.assign(signature.begin(), signature.end());
  return ds;
}

Result<SignedCertificateTimestamp> read_sct(TlsReader& r) {
  VOUCH_ASSIGN_OR_RETURN(uint64_t version, r.uint(1, "version"));
  if (version != 0) return invalid_input(fmt::format("SCT: unsupported version {} (want v1)", version));
  SignedCertificateTimestamp sct;
  VOUCH_ASSIGN_OR_RETURN(ByteView id, r.fixed(kLogIdSize, "log id"));
  sct.log_id.assign(id.begin(), id.end());
  VOUCH_ASSIGN_OR_RETURN(sct.timestamp_ms, r.uint(8, "timestamp"));
  VOUCH_ASSIGN_OR_RETURN(ByteView ext, r.opaque(2, 0, "extensions"));
  sct.extensions.assign(ext.begin(), ext.end());
  VOUCH_ASSIGN_OR_RETURN(sct.signature, read_digitally_signed(r));
  return sct;
}

// One certificate issued and signed by the next.
Status check_issued(const Certificate& subject, const Certificate& issuer, std::string_view subject_name,
                    std::string_view issuer_name) {
  int rc = X509_check_issued(issuer.get(), subject.get());
  if (rc != X509_V_OK) {
    ERR_clear_error();
    return verification_failed(fmt::format("{} ({}) is not issued by {} ({}): {}", subject_name, subject.subject(),
                                           issuer_name, issuer.subject(), X509_verify_cert_error_string(rc)));
  }
  if (!issuer.is_ca())
    return verification_failed(fmt::format("{} ({}) is not a CA certificate", issuer_name, issuer.subject()));
  if (X509_verify(subject.get(), X509_get0_pubkey(issuer.get())) != 1) {
    ERR_clear_error();
    return verification_failed(fmt::format("the signature on {} does not verify with the key of {}", subject_name,
                                           issuer_name));
  }
  return ok_status();
}

bool has_precert_signing_eku(const Certificate& cert) {
  auto* ekus = static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(cert.get(), NID_ext_key_usage, nullptr, nullptr));
  ERR_clear_error();
  if (!ekus) return false;
  bool found = false;
  for (int i = 0; i < sk_ASN1_OBJECT_num(ekus); ++i)
    if (OBJ_obj2nid(sk_ASN1_OBJECT_value(ekus, i)) == NID_ct_precert_signer) found = true;
  EXTENDED_KEY_USAGE_free(ekus);
  return found;
}

}  // namespace

Result<Bytes> DigitallySigned::serialize() const {
  TlsWriter w;
  VOUCH_RETURN_IF_ERROR(write_digitally_signed(w, *this));
  return w.take();
}

Result<DigitallySigned> parse_digitally_signed(ByteView data) {
  TlsReader r(data, "DigitallySigned");
  VOUCH_ASSIGN_OR_RETURN(DigitallySigned ds, read_digitally_signed(r));
  VOUCH_RETURN_IF_ERROR(r.finish());
  return ds;
}

Result<DigitallySigned> ct_sign(const PrivateKey& key, ByteView data) {
  if (key.type() != KeyType::kEcdsaP256)
    return invalid_input(fmt::format("a CT log key must be ECDSA P-256, not {}", key_type_name(key.type())));
  VOUCH_ASSIGN_OR_RETURN(Bytes signature, key.sign(data, HashAlgorithm::kSha256));
  return DigitallySigned{kTlsHashSha256, kTlsSignatureEcdsa, std::move(signature)};
}

Status ct_verify(const PublicKey& key, ByteView data, const DigitallySigned& signed_data) {
  if (signed_data.hash_algorithm != kTlsHashSha256)
    return verification_failed(fmt::format("CT signature: hash algorithm {} is not SHA-256", signed_data.hash_algorithm));
  const bool ecdsa = key.type() == KeyType::kEcdsaP256;
  const bool rsa = key.type() == KeyType::kRsa;
  if ((!ecdsa && !rsa) || signed_data.signature_algorithm != (ecdsa ? kTlsSignatureEcdsa : kTlsSignatureRsa))
    return verification_failed(fmt::format("CT signature: signature algorithm {} does not match the {} key",
                                           signed_data.signature_algorithm, key_type_name(key.type())));
  Status st = key.verify(data, signed_data.signature, HashAlgorithm::kSha256);
  if (!st.ok()) return verification_failed("CT signature does not verify");
  return ok_status();
}

Result<Bytes> SignedCertificateTimestamp::serialize() const {
  if (log_id.size() != kLogIdSize)
    return invalid_input(fmt::format("SCT: log id is {} bytes, want {}", log_id.size(), kLogIdSize));
  TlsWriter w;
  w.uint(0, 1);  // v1
  w.raw(log_id);
  w.uint(timestamp_ms, 8);
  VOUCH_RETURN_IF_ERROR(w.opaque(extensions, 2, 0, "SCT extensions"));
  VOUCH_RETURN_IF_ERROR(write_digitally_signed(w, signature));
  return w.take();
}

Result<SignedCertificateTimestamp> parse_sct(ByteView data) {
  TlsReader r(data, "SCT");
  VOUCH_ASSIGN_OR_RETURN(SignedCertificateTimestamp sct, read_sct(r));
  VOUCH_RETURN_IF_ERROR(r.finish());
  return sct;
}

Result<Bytes> serialize_sct_list(const std::vector<SignedCertificateTimestamp>& scts) {
  if (scts.empty()) return invalid_input("SCT list: no SCT");
  TlsWriter items;
  for (const auto& sct : scts) {
    VOUCH_ASSIGN_OR_RETURN(Bytes one, sct.serialize());
    VOUCH_RETURN_IF_ERROR(items.opaque(one, 2, 1, "SCT list item"));
  }
  TlsWriter w;
  VOUCH_RETURN_IF_ERROR(w.opaque(items.take(), 2, 1, "SCT list"));
  return w.take();
}

Result<std::vector<SignedCertificateTimestamp>> parse_sct_list(ByteView data) {
  TlsReader outer(data, "SCT list");
  VOUCH_ASSIGN_OR_RETURN(ByteView list, outer.opaque(2, 1, "list"));
  VOUCH_RETURN_IF_ERROR(outer.finish());
  TlsReader items(list, "SCT list");
  std::vector<SignedCertificateTimestamp> out;
  while (!items.at_end()) {
    if (out.size() == kMaxScts) return invalid_input(fmt::format("SCT list: more than {} SCTs", kMaxScts));
    VOUCH_ASSIGN_OR_RETURN(ByteView item, items.opaque(2, 1, fmt::format("item {}", out.size())));
    auto sct = parse_sct(item);
    if (!sct.ok()) return std::move(sct).error().context(fmt::format("SCT list: item {}", out.size()));
    out.push_back(std::move(*sct));
  }
  return out;
}

// ---- What an SCT signs ----------------------------------------------------------------------

Result<Bytes> CtSignedEntry::serialize() const {
  TlsWriter w;
  w.uint(static_cast<uint16_t>(type), 2);
  switch (type) {
    case CtEntryType::kX509:
      VOUCH_RETURN_IF_ERROR(w.opaque(certificate, 3, 1, "x509_entry certificate"));
      break;
    case CtEntryType::kPrecert:
      if (issuer_key_hash.size() != 32)
        return invalid_input(fmt::format("precert_entry: issuer_key_hash is {} bytes, want 32", issuer_key_hash.size()));
      w.raw(issuer_key_hash);
      VOUCH_RETURN_IF_ERROR(w.opaque(certificate, 3, 1, "precert_entry tbs_certificate"));
      break;
    default:
      return invalid_input(fmt::format("CT entry type {} is not x509_entry or precert_entry",
                                       static_cast<uint16_t>(type)));
  }
  return w.take();
}

Result<Bytes> CtMerkleLeaf::serialize() const {
  TlsWriter w;
  w.uint(0, 1);  // version v1
  w.uint(0, 1);  // leaf_type timestamped_entry
  w.uint(timestamp_ms, 8);
  VOUCH_ASSIGN_OR_RETURN(Bytes signed_entry, entry.serialize());
  w.raw(signed_entry);
  VOUCH_RETURN_IF_ERROR(w.opaque(extensions, 2, 0, "CT leaf extensions"));
  return w.take();
}

Result<CtMerkleLeaf> parse_ct_merkle_leaf(ByteView data) {
  TlsReader r(data, "CT leaf");
  VOUCH_ASSIGN_OR_RETURN(uint64_t version, r.uint(1, "version"));
  if (version != 0) return invalid_input(fmt::format("CT leaf: unsupported version {} (want v1)", version));
  VOUCH_ASSIGN_OR_RETURN(uint64_t leaf_type, r.uint(1, "leaf type"));
  if (leaf_type != 0) return invalid_input(fmt::format("CT leaf: unsupported leaf type {}", leaf_type));
  CtMerkleLeaf leaf;
  VOUCH_ASSIGN_OR_RETURN(leaf.timestamp_ms, r.uint(8, "timestamp"));
  VOUCH_ASSIGN_OR_RETURN(uint64_t type, r.uint(2, "entry type"));
  ByteView certificate;
  if (type == static_cast<uint16_t>(CtEntryType::kX509)) {
    leaf.entry.type = CtEntryType::kX509;
    VOUCH_ASSIGN_OR_RETURN(certificate, r.opaque(3, 1, "certificate"));
  } else if (type == static_cast<uint16_t>(CtEntryType::kPrecert)) {
    leaf.entry.type = CtEntryType::kPrecert;
    VOUCH_ASSIGN_OR_RETURN(ByteView hash, r.fixed(32, "issuer key hash"));
    leaf.entry.issuer_key_hash.assign(hash.begin(), hash.end());
    VOUCH_ASSIGN_OR_RETURN(certificate, r.opaque(3, 1, "TBS certificate"));
  } else {
    return invalid_input(fmt::format("CT leaf: unknown entry type {}", type));
  }
  leaf.entry.certificate.assign(certificate.begin(), certificate.end());
  VOUCH_ASSIGN_OR_RETURN(ByteView extensions, r.opaque(2, 0, "extensions"));
  leaf.extensions.assign(extensions.begin(), extensions.end());
  VOUCH_RETURN_IF_ERROR(r.finish());
  return leaf;
}

CtSignedEntry x509_entry(const Certificate& leaf) { return CtSignedEntry{CtEntryType::kX509, leaf.der(), {}}; }

Result<bool> is_precertificate(const Certificate& cert) {
  int idx = X509_get_ext_by_NID(cert.get(), NID_ct_precert_poison, -1);
  if (idx < 0) return false;
  if (X509_get_ext_by_NID(cert.get(), NID_ct_precert_poison, idx) >= 0)
    return invalid_input(fmt::format("certificate {} carries more than one poison extension", cert.subject()));
  X509_EXTENSION* ext = X509_get_ext(cert.get(), idx);
  const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(ext);
  const bool null_value = ASN1_STRING_length(data) == 2 && ASN1_STRING_get0_data(data)[0] == 0x05 &&
                          ASN1_STRING_get0_data(data)[1] == 0x00;
  if (!X509_EXTENSION_get_critical(ext) || !null_value)
    return invalid_input(fmt::format("certificate {}: the poison extension is not critical or its value is not NULL",
                                     cert.subject()));
  return true;
}

Result<CtSignedEntry> precert_entry(const Certificate& precert, const Certificate& issuer) {
  VOUCH_ASSIGN_OR_RETURN(bool poisoned, is_precertificate(precert));
  if (!poisoned)
    return invalid_input(fmt::format("{} is not a precertificate: it has no poison extension ({})", precert.subject(),
                                     kPrecertPoisonOid));
  int rc = X509_check_issued(issuer.get(), precert.get());
  if (rc != X509_V_OK) {
    ERR_clear_error();
    return invalid_input(fmt::format("precertificate {} is not issued by {}: {}", precert.subject(), issuer.subject(),
                                     X509_verify_cert_error_string(rc)));
  }
  CtSignedEntry entry{CtEntryType::kPrecert, {}, {}};
  VOUCH_ASSIGN_OR_RETURN(entry.certificate, tbs_without(precert, NID_ct_precert_poison));
  VOUCH_ASSIGN_OR_RETURN(entry.issuer_key_hash, issuer_key_hash(issuer));
  return entry;
}

Result<Bytes> sct_signature_input(const CtSignedEntry& entry, uint64_t timestamp_ms, ByteView extensions) {
  TlsWriter w;
  w.uint(0, 1);  // sct_version v1
  w.uint(0, 1);  // signature_type certificate_timestamp
  w.uint(timestamp_ms, 8);
  VOUCH_ASSIGN_OR_RETURN(Bytes signed_entry, entry.serialize());
  w.raw(signed_entry);
  VOUCH_RETURN_IF_ERROR(w.opaque(extensions, 2, 0, "SCT extensions"));
  return w.take();
}

Result<SignedCertificateTimestamp> sign_sct(const PrivateKey& log_key, const CtSignedEntry& entry,
                                            uint64_t timestamp_ms, ByteView extensions) {
  VOUCH_ASSIGN_OR_RETURN(Bytes input, sct_signature_input(entry, timestamp_ms, extensions));
  VOUCH_ASSIGN_OR_RETURN(DigitallySigned signature, ct_sign(log_key, input));
  return SignedCertificateTimestamp{sha256(log_key.public_key().der()), timestamp_ms,
                                    Bytes(extensions.begin(), extensions.end()), std::move(signature)};
}

Status verify_sct(const SignedCertificateTimestamp& sct, const CtSignedEntry& entry, const PublicKey& log_key) {
  const Bytes id = sha256(log_key.der());
  if (!bytes_equal(sct.log_id, id))
    return verification_failed(fmt::format("SCT: log id {} is not the log key's ({})", base64_encode(sct.log_id),
                                           base64_encode(id)));
  VOUCH_ASSIGN_OR_RETURN(Bytes input, sct_signature_input(entry, sct.timestamp_ms, sct.extensions));
  Status st = ct_verify(log_key, input, sct.signature);
  if (!st.ok()) return std::move(st).error().context("SCT");
  return ok_status();
}

// ---- Chains submitted to a CT log -----------------------------------------------------------

Result<std::vector<Certificate>> verify_ct_submission(const std::vector<Certificate>& chain,
                                                      const std::vector<Certificate>& roots, bool precert) {
  if (chain.empty()) return invalid_input("the chain is empty");
  if (roots.empty()) return verification_failed("the log accepts no root");
  for (size_t i = 0; i < chain.size(); ++i) {
    auto poisoned = is_precertificate(chain[i]);
    if (!poisoned.ok()) return std::move(poisoned).error().context(fmt::format("chain[{}]", i));
    if (i == 0 && precert && !*poisoned)
      return invalid_input(fmt::format("chain[0] ({}) is not a precertificate: it has no poison extension",
                                       chain[0].subject()));
    if (i == 0 && !precert && *poisoned)
      return invalid_input(fmt::format("chain[0] ({}) is a precertificate: submit it with add-pre-chain",
                                       chain[0].subject()));
    if (i > 0 && *poisoned)
      return invalid_input(fmt::format("chain[{}] ({}) carries the poison extension", i, chain[i].subject()));
  }
  if (precert && chain.size() > 1 && has_precert_signing_eku(chain[1]))
    return invalid_input("chain[1] is a Precertificate Signing Certificate, which this log does not support");
  for (size_t i = 0; i + 1 < chain.size(); ++i)
    VOUCH_RETURN_IF_ERROR(
        check_issued(chain[i], chain[i + 1], fmt::format("chain[{}]", i), fmt::format("chain[{}]", i + 1)));

  const Certificate& last = chain.back();
  for (const auto& root : roots) {
    if (X509_cmp(last.get(), root.get()) != 0) continue;
    if (chain.size() == 1 && precert) return invalid_input("a precertificate cannot be an accepted root");
    return chain;
  }
  std::string why;
  for (size_t r = 0; r < roots.size(); ++r) {
    Status st = check_issued(last, roots[r], fmt::format("chain[{}]", chain.size() - 1), "an accepted root");
    if (st.ok()) {
      std::vector<Certificate> out = chain;
      out.push_back(roots[r]);
      return out;
    }
    if (why.empty()) why = st.error().message;
  }
  return verification_failed(fmt::format("the chain does not end in an accepted root: chain[{}] ({}) is not one, nor "
                                         "issued by one (first reason: {})",
                                         chain.size() - 1, last.subject(), why));
}

}  // namespace vouch::crypto
