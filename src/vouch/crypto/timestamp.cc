#include "vouch/crypto/timestamp.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#include <ctime>

#include "openssl_util.h"

namespace vouch::crypto {
namespace {

constexpr size_t kMaxTimestampBytes = 1 << 20;

struct TsDeleter {
  void operator()(TS_RESP* p) const { TS_RESP_free(p); }
  void operator()(EXTENDED_KEY_USAGE* p) const { EXTENDED_KEY_USAGE_free(p); }
};
using TsRespPtr = std::unique_ptr<TS_RESP, TsDeleter>;
using EkuPtr = std::unique_ptr<EXTENDED_KEY_USAGE, TsDeleter>;

// Every error in OpenSSL's queue, innermost first, with the data OpenSSL attached
// ("certificate verify error (Verify error:certificate has expired)"); clears the queue.
std::string openssl_errors() {
  std::string out;
  std::string last;
  const char* data = nullptr;
  int flags = 0;
  while (unsigned long e = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) {
    const char* reason = ERR_reason_error_string(e);
    std::string item = reason ? reason : fmt::format("error {:#x}", e);
    if ((flags & ERR_TXT_STRING) && data && *data) item += fmt::format(" ({})", data);
    if (item == last) continue;
    if (!out.empty()) out += ": ";
    out += item;
    last = std::move(item);
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

Result<UnixSeconds> generalized_time_to_unix(const ASN1_GENERALIZEDTIME* t) {
  struct tm tm {};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) {
    ERR_clear_error();
    return invalid_input("timestamp: genTime is not a valid GeneralizedTime");
  }
  return static_cast<UnixSeconds>(timegm(&tm));
}

// The fraction of a second a GeneralizedTime carries ("...SS.123Z"), in microseconds; digits
// past the sixth are dropped.
int64_t fraction_micros(const ASN1_GENERALIZEDTIME* t) {
  std::string_view text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(t)),
                        static_cast<size_t>(ASN1_STRING_length(t)));
  size_t dot = text.find('.');
  if (dot == std::string_view::npos) return 0;
  int64_t micros = 0;
  int digits = 0;
  for (size_t i = dot + 1; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    if (digits == 6) continue;
    micros = micros * 10 + (text[i] - '0');
    ++digits;
  }
  for (; digits < 6; ++digits) micros *= 10;
  return micros;
}

// The TSTInfo's accuracy in microseconds (0 when absent). RFC 3161 bounds millis and micros to
// 1..999; a negative or larger field, or more seconds than a timestamp can sensibly be off by
// (a year), is malformed.
Result<int64_t> accuracy_micros(TS_TST_INFO* tst) {
  const TS_ACCURACY* accuracy = TS_TST_INFO_get_accuracy(tst);
  if (!accuracy) return int64_t{0};
  int64_t total = 0;
  struct Field {
    const ASN1_INTEGER* value;
    const char* name;
    int64_t max;
    int64_t unit;
  };
  for (const Field& f : {Field{TS_ACCURACY_get_seconds(accuracy), "seconds", 365 * 86400, 1000000},
                         Field{TS_ACCURACY_get_millis(accuracy), "millis", 999, 1000},
                         Field{TS_ACCURACY_get_micros(accuracy), "micros", 999, 1}}) {
    if (!f.value) continue;
    int64_t v = 0;
    if (ASN1_INTEGER_get_int64(&v, f.value) != 1 || v < 0 || v > f.max) {
      ERR_clear_error();
      return invalid_input(fmt::format("timestamp: accuracy {} out of range (0 to {})", f.name, f.max));
    }
    total += v * f.unit;
  }
  return total;
}

std::string hex_of(const ASN1_INTEGER* i) {
  if (!i) return "?";
  BIGNUM* bn = ASN1_INTEGER_to_BN(i, nullptr);
  if (!bn) {
    ERR_clear_error();
    return "?";
  }
  char* hex = BN_bn2hex(bn);
  std::string out = hex ? hex : "?";
  OPENSSL_free(hex);
  BN_free(bn);
  return out;
}

std::string name_of(const X509_NAME* name) {
  if (!name) return "?";
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string subject_of(X509* x) { return name_of(X509_get_subject_name(x)); }

Result<Certificate> to_certificate(X509* x) {
  unsigned char* buf = nullptr;
  int len = i2d_X509(x, &buf);
  if (len <= 0) {
    ERR_clear_error();
    return invalid_input("timestamp: cannot encode a certificate");
  }
  Bytes der(buf, buf + len);
  OPENSSL_free(buf);
  return Certificate::from_der(der);
}

// RFC 3161 §2.3: the TSA's certificate is an end-entity certificate whose only extended key
// usage is id-kp-timeStamping, in a critical extension.
Status check_tsa_certificate(X509* x) {
  if (X509_check_ca(x) > 0)
    return verification_failed(
        fmt::format("timestamp: TSA certificate {} is a CA certificate, not an end-entity certificate", subject_of(x)));
  int crit = -1;
  EkuPtr eku(static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(x, NID_ext_key_usage, &crit, nullptr)));
  ERR_clear_error();
  if (!eku || crit != 1 || sk_ASN1_OBJECT_num(eku.get()) != 1 ||
      OBJ_obj2nid(sk_ASN1_OBJECT_value(eku.get(), 0)) != NID_time_stamp)
    return verification_failed(fmt::format(
        "timestamp: TSA certificate {} must have exactly one extended key usage, timeStamping, marked critical",
        subject_of(x)));
  return ok_status();
}

Result<HashAlgorithm> imprint_hash(TS_MSG_IMPRINT* imprint) {
  const X509_ALGOR* algo = TS_MSG_IMPRINT_get_algo(imprint);
  const ASN1_OBJECT* oid = nullptr;
  int param_type = V_ASN1_UNDEF;
  X509_ALGOR_get0(&oid, &param_type, nullptr, algo);
  if (param_type != V_ASN1_UNDEF && param_type != V_ASN1_NULL)
    return invalid_input("timestamp: message imprint hash algorithm has unexpected parameters");
  switch (OBJ_obj2nid(oid)) {
    case NID_sha256: return HashAlgorithm::kSha256;
    case NID_sha384: return HashAlgorithm::kSha384;
    case NID_sha512: return HashAlgorithm::kSha512;
    default: {
      char name[80] = "?";
      OBJ_obj2txt(name, sizeof name, oid, 0);
      return invalid_input(fmt::format("timestamp: unsupported message imprint hash algorithm {}", name));
    }
  }
}

// A parsed TimeStampResp with status granted and a token.
struct Parsed {
  TsRespPtr resp;
  PKCS7* token = nullptr;      // owned by resp
  TS_TST_INFO* tst = nullptr;  // owned by resp
  PKCS7_SIGNER_INFO* signer_info = nullptr;
  UnixSeconds time = 0;
  int64_t time_micros = 0;
  int64_t accuracy_micros = 0;
  std::string policy;
  HashAlgorithm hash = HashAlgorithm::kSha256;
  Bytes imprint;
  std::vector<Certificate> embedded;  // the token's certificates (untrusted)
};

Result<Parsed> parse(ByteView der) {
  if (der.size() > kMaxTimestampBytes) return invalid_input("timestamp: larger than 1 MiB");
  Parsed p;
  const unsigned char* cursor = der.data();
  p.resp.reset(d2i_TS_RESP(nullptr, &cursor, static_cast<long>(der.size())));
  if (!p.resp) {
    std::string why = openssl_errors();
    return invalid_input(fmt::format("timestamp: not a DER RFC 3161 TimeStampResp: {}", why));
  }
  if (cursor != der.data() + der.size()) return invalid_input("timestamp: trailing data after the TimeStampResp");

  // d2i_TS_RESP already insists that a token is present exactly when the status is granted
  // (0) or grantedWithMods (1), and that the token's content is a TSTInfo.
  long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(p.resp.get())));
  if (status != 0 && status != 1)
    return invalid_input(fmt::format("timestamp: the TSA did not grant it (PKIStatus {})", status));
  p.token = TS_RESP_get_token(p.resp.get());
  p.tst = TS_RESP_get_tst_info(p.resp.get());
  if (!p.token || !p.tst || !PKCS7_type_is_signed(p.token) || !p.token->d.sign)
    return invalid_input("timestamp: response carries no signed TimeStampToken");
  if (TS_TST_INFO_get_version(p.tst) != 1)
    return invalid_input(fmt::format("timestamp: unsupported TSTInfo version {}", TS_TST_INFO_get_version(p.tst)));

  STACK_OF(PKCS7_SIGNER_INFO)* infos = PKCS7_get_signer_info(p.token);
  if (!infos || sk_PKCS7_SIGNER_INFO_num(infos) != 1)
    return invalid_input("timestamp: the token must have exactly one signer");
  p.signer_info = sk_PKCS7_SIGNER_INFO_value(infos, 0);
  if (!p.signer_info || !p.signer_info->issuer_and_serial || !p.signer_info->issuer_and_serial->issuer ||
      !p.signer_info->issuer_and_serial->serial)
    return invalid_input("timestamp: the signer is not identified by issuer and serial number");

  VOUCH_ASSIGN_OR_RETURN(p.time, generalized_time_to_unix(TS_TST_INFO_get_time(p.tst)));
  p.time_micros = p.time * 1000000 + fraction_micros(TS_TST_INFO_get_time(p.tst));
  VOUCH_ASSIGN_OR_RETURN(p.accuracy_micros, accuracy_micros(p.tst));
  char oid[128] = "";
  if (const ASN1_OBJECT* policy = TS_TST_INFO_get_policy_id(p.tst)) OBJ_obj2txt(oid, sizeof oid, policy, 1);
  p.policy = oid;
  TS_MSG_IMPRINT* imprint = TS_TST_INFO_get_msg_imprint(p.tst);
  if (!imprint) return invalid_input("timestamp: no message imprint");
  VOUCH_ASSIGN_OR_RETURN(p.hash, imprint_hash(imprint));
  const ASN1_OCTET_STRING* msg = TS_MSG_IMPRINT_get_msg(imprint);
  if (!msg) return invalid_input("timestamp: no message imprint");
  const unsigned char* m = ASN1_STRING_get0_data(msg);
  p.imprint.assign(m, m + ASN1_STRING_length(msg));
  if (p.imprint.size() != hash_size(p.hash))
    return invalid_input(fmt::format("timestamp: message imprint is {} bytes, not the {} bytes of {}", p.imprint.size(),
                                     hash_size(p.hash), hash_name(p.hash)));
  STACK_OF(X509)* embedded = p.token->d.sign->cert;
  for (int i = 0; i < sk_X509_num(embedded); ++i) {
    auto c = to_certificate(sk_X509_value(embedded, i));
    if (!c.ok()) return std::move(c).error().context(fmt::format("timestamp: embedded certificate {}", i));
    p.embedded.push_back(std::move(c).value());
  }
  return p;
}

// Whether `cert` is the certificate the SignerInfo names by issuer and serial number.
bool names_signer(X509* cert, const PKCS7_SIGNER_INFO* si) {
  return X509_NAME_cmp(X509_get_issuer_name(cert), si->issuer_and_serial->issuer) == 0 &&
         ASN1_INTEGER_cmp(X509_get0_serialNumber(cert), si->issuer_and_serial->serial) == 0;
}

std::string window_text(UnixSeconds start, const std::optional<UnixSeconds>& end) {
  return fmt::format("{} to {}", format_rfc3339(start), end ? format_rfc3339(*end) : std::string("open end"));
}

// Verifies the token against one authority. Sets *candidate to false when the authority
// cannot have signed it (its pinned signing certificate is not the token's signer).
Status verify_with_authority(const Parsed& p, const TimestampAuthority& authority, bool* candidate) {
  *candidate = false;
  const auto& chain = authority.chain;
  if (chain.empty()) return invalid_input("timestamp authority has no certificates");
  const bool pinned = !chain.front().is_ca();
  const Certificate& anchor = chain.back();
  std::vector<Certificate> intermediates;
  for (size_t i = pinned ? 1 : 0; i + 1 < chain.size(); ++i) intermediates.push_back(chain[i]);

  if (pinned && !names_signer(chain.front().get(), p.signer_info)) return ok_status();
  *candidate = true;
  if (pinned) VOUCH_RETURN_IF_ERROR(check_tsa_certificate(chain.front().get()));

  // The CMS signature, the path from the signer to the anchor (with the timeStamping
  // purpose), and the ESS signing-certificate attribute, by OpenSSL. Certificates embedded
  // in the token only help build the path; trust comes from the anchor alone, and a pinned
  // signing certificate is found first (OpenSSL searches `certs` before the token's own).
  // Validity times are checked below against genTime.
  X509StorePtr store(X509_STORE_new());
  if (!store || X509_STORE_add_cert(store.get(), anchor.get()) != 1)
    return internal_error(fmt::format("timestamp: cannot set up the trust store: {}", openssl_errors()));
  X509_STORE_set_flags(store.get(), X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_X509_STRICT | X509_V_FLAG_NO_CHECK_TIME);
  X509StackPtr certs(sk_X509_new_null());
  if (pinned) sk_X509_push(certs.get(), chain.front().get());
  for (const auto& c : intermediates) sk_X509_push(certs.get(), c.get());
  X509* signer_raw = nullptr;
  ERR_clear_error();
  if (TS_RESP_verify_signature(p.token, certs.get(), store.get(), &signer_raw) != 1) {
    X509_free(signer_raw);
    return verification_failed(fmt::format("timestamp: signature does not verify with the timestamp authority {}: {}",
                                           anchor.subject(), openssl_errors()));
  }
  X509Ptr signer(signer_raw);
  if (pinned && X509_cmp(signer.get(), chain.front().get()) != 0)
    return verification_failed("timestamp: signed by a certificate other than the authority's TSA certificate");
  VOUCH_RETURN_IF_ERROR(check_tsa_certificate(signer.get()));

  VOUCH_ASSIGN_OR_RETURN(Certificate signer_cert, to_certificate(signer.get()));
  if (!signer_cert.valid_at(p.time))
    return verification_failed(fmt::format("timestamp: genTime {} outside the validity of TSA certificate {} ({} to {})",
                                           format_rfc3339(p.time), signer_cert.subject(),
                                           format_rfc3339(signer_cert.not_before()),
                                           format_rfc3339(signer_cert.not_after())));
  intermediates.insert(intermediates.end(), p.embedded.begin(), p.embedded.end());
  auto path = verify_chain(signer_cert, intermediates, {anchor}, p.time);
  if (!path.ok()) return std::move(path).error().context("timestamp: TSA certificate chain at genTime");

  if (p.time < authority.valid_start || (authority.valid_end && p.time > *authority.valid_end))
    return verification_failed(
        fmt::format("timestamp: genTime {} outside the validity window of timestamp authority {} in the trusted root ({})",
                    format_rfc3339(p.time), anchor.subject(), window_text(authority.valid_start, authority.valid_end)));
  return ok_status();
}

}  // namespace

Result<TimestampInfo> parse_timestamp(ByteView der) {
  VOUCH_ASSIGN_OR_RETURN(Parsed p, parse(der));
  TimestampInfo info;
  info.time = p.time;
  info.hash = p.hash;
  info.imprint = p.imprint;
  info.serial = hex_of(TS_TST_INFO_get_serial(p.tst));
  info.policy = p.policy;
  info.embedded_certificates = std::move(p.embedded);
  info.time_micros = p.time_micros;
  info.accuracy_micros = p.accuracy_micros;
  return info;
}

Result<VerifiedTimestamp> verify_timestamp(ByteView der, ByteView signed_data,
                                           const std::vector<TimestampAuthority>& authorities) {
  VOUCH_ASSIGN_OR_RETURN(Parsed p, parse(der));

  std::optional<Error> first_failure;
  size_t failures = 0;
  std::optional<size_t> signed_by;
  for (size_t i = 0; i < authorities.size() && !signed_by; ++i) {
    bool candidate = false;
    Status s = verify_with_authority(p, authorities[i], &candidate);
    if (s.ok() && candidate) {
      signed_by = i;
    } else if (!s.ok() && candidate) {
      ++failures;
      if (!first_failure) first_failure = std::move(s).error();
    }
  }
  if (!signed_by) {
    if (first_failure) {
      if (failures > 1) first_failure->message += fmt::format(" (and {} more timestamp authorities fail)", failures - 1);
      return *std::move(first_failure);
    }
    const auto* ias = p.signer_info->issuer_and_serial;
    return verification_failed(
        fmt::format("timestamp: no trusted timestamp authority signed it (signer: issuer {}, serial {})",
                    name_of(ias->issuer), hex_of(ias->serial)));
  }

  if (!bytes_equal(digest(p.hash, signed_data), p.imprint))
    return verification_failed(
        fmt::format("timestamp: message imprint does not match the signature ({})", hash_name(p.hash)));
  return VerifiedTimestamp{p.time, *signed_by, p.time_micros, p.accuracy_micros, p.policy};
}


namespace {

struct TsReqDeleter {
  void operator()(TS_REQ* p) const { TS_REQ_free(p); }
  void operator()(TS_MSG_IMPRINT* p) const { TS_MSG_IMPRINT_free(p); }
  void operator()(X509_ALGOR* p) const { X509_ALGOR_free(p); }
  void operator()(ASN1_INTEGER* p) const { ASN1_INTEGER_free(p); }
};
using TsReqPtr = std::unique_ptr<TS_REQ, TsReqDeleter>;

int nid_of(HashAlgorithm hash) {
  switch (hash) {
    case HashAlgorithm::kSha256: return NID_sha256;
    case HashAlgorithm::kSha384: return NID_sha384;
    case HashAlgorithm::kSha512: return NID_sha512;
  }
  return NID_undef;
}

Result<TsReqPtr> parse_request(ByteView der) {
  if (der.size() > kMaxTimestampBytes) return invalid_input("timestamp request: larger than 1 MiB");
  const unsigned char* p = der.data();
  TsReqPtr req(d2i_TS_REQ(nullptr, &p, static_cast<long>(der.size())));
  if (!req || p != der.data() + der.size()) {
    ERR_clear_error();
    return invalid_input("timestamp request: not a DER TimeStampReq");
  }
  return req;
}

}  // namespace

Result<Bytes> timestamp_request(ByteView data, HashAlgorithm hash, bool include_certificates,
                                std::optional<Bytes> nonce) {
  return timestamp_request_for_digest(digest(hash, data), hash, include_certificates, std::move(nonce));
}

Result<Bytes> timestamp_request_for_digest(ByteView digest_value, HashAlgorithm hash, bool include_certificates,
                                           std::optional<Bytes> nonce) {
  if (digest_value.size() != hash_size(hash))
    return invalid_input(fmt::format("timestamp request: a {} digest has {} bytes, not {}", hash_name(hash),
                                     hash_size(hash), digest_value.size()));
  TsReqPtr req(TS_REQ_new());
  std::unique_ptr<TS_MSG_IMPRINT, TsReqDeleter> imprint(TS_MSG_IMPRINT_new());
  std::unique_ptr<X509_ALGOR, TsReqDeleter> algo(X509_ALGOR_new());
  if (!req || !imprint || !algo || TS_REQ_set_version(req.get(), 1) != 1 ||
      X509_ALGOR_set0(algo.get(), OBJ_nid2obj(nid_of(hash)), V_ASN1_NULL, nullptr) != 1 ||
      TS_MSG_IMPRINT_set_algo(imprint.get(), algo.get()) != 1 ||
      // OpenSSL copies the imprint; its parameter is not const only for historical reasons.
      TS_MSG_IMPRINT_set_msg(imprint.get(), const_cast<unsigned char*>(digest_value.data()), static_cast<int>(digest_value.size())) != 1 ||
      TS_REQ_set_msg_imprint(req.get(), imprint.get()) != 1 ||
      TS_REQ_set_cert_req(req.get(), include_certificates ? 1 : 0) != 1)
    return internal_error("timestamp request: " + openssl_errors());
  if (nonce) {
    if (nonce->empty() || nonce->size() > 32) return invalid_input("timestamp request: nonce must be 1 to 32 bytes");
    BIGNUM* bn = BN_bin2bn(nonce->data(), static_cast<int>(nonce->size()), nullptr);
    std::unique_ptr<ASN1_INTEGER, TsReqDeleter> n(bn ? BN_to_ASN1_INTEGER(bn, nullptr) : nullptr);
    BN_free(bn);
    if (!n || TS_REQ_set_nonce(req.get(), n.get()) != 1)
      return internal_error("timestamp request: " + openssl_errors());
  }
  unsigned char* buf = nullptr;
  int len = i2d_TS_REQ(req.get(), &buf);
  if (len <= 0) return internal_error("timestamp request: cannot encode: " + openssl_errors());
  Bytes der(buf, buf + len);
  OPENSSL_free(buf);
  return der;
}

// SHA-2 algorithm identifiers may carry NULL parameters or none (RFC 5754 §2): both name the
// same hash, and TSAs answer with either.
namespace {
bool same_hash_algorithm(const X509_ALGOR* a, const X509_ALGOR* b) {
  const ASN1_OBJECT *oid_a = nullptr, *oid_b = nullptr;
  int type_a = 0, type_b = 0;
  const void *param_a = nullptr, *param_b = nullptr;
  X509_ALGOR_get0(&oid_a, &type_a, &param_a, a);
  X509_ALGOR_get0(&oid_b, &type_b, &param_b, b);
  auto null_or_absent = [](int type) { return type == V_ASN1_UNDEF || type == V_ASN1_NULL; };
  return OBJ_cmp(oid_a, oid_b) == 0 && null_or_absent(type_a) && null_or_absent(type_b);
}
}  // namespace

Status check_timestamp_answers(ByteView response, ByteView request) {
  VOUCH_ASSIGN_OR_RETURN(TsReqPtr req, parse_request(request));
  if (response.size() > kMaxTimestampBytes) return invalid_input("timestamp response: larger than 1 MiB");
  const unsigned char* p = response.data();
  TsRespPtr resp(d2i_TS_RESP(nullptr, &p, static_cast<long>(response.size())));
  if (!resp) {
    ERR_clear_error();
    return invalid_input("timestamp response: not a DER TimeStampResp");
  }
  if (ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(resp.get()))) > 1)
    return verification_failed("timestamp response: the TSA did not grant the request");
  TS_TST_INFO* info = TS_RESP_get_tst_info(resp.get());
  if (!info) return invalid_input("timestamp response: granted but carries no token");
  TS_MSG_IMPRINT* asked = TS_REQ_get_msg_imprint(req.get());
  TS_MSG_IMPRINT* got = TS_TST_INFO_get_msg_imprint(info);
  if (!same_hash_algorithm(TS_MSG_IMPRINT_get_algo(asked), TS_MSG_IMPRINT_get_algo(got)) ||
      ASN1_STRING_cmp(TS_MSG_IMPRINT_get_msg(asked), TS_MSG_IMPRINT_get_msg(got)) != 0)
    return verification_failed("timestamp response: message imprint differs from the request's");
  const ASN1_INTEGER* asked_nonce = TS_REQ_get_nonce(req.get());
  const ASN1_INTEGER* got_nonce = TS_TST_INFO_get_nonce(info);
  if ((asked_nonce == nullptr) != (got_nonce == nullptr) ||
      (asked_nonce && ASN1_INTEGER_cmp(asked_nonce, got_nonce) != 0))
    return verification_failed("timestamp response: nonce differs from the request's");
  if (ASN1_OBJECT* policy = TS_REQ_get_policy_id(req.get());
      policy && OBJ_cmp(policy, TS_TST_INFO_get_policy_id(info)) != 0)
    return verification_failed("timestamp response: policy differs from the one requested");
  return ok_status();
}


namespace {

struct TsCtxDeleter {
  void operator()(TS_RESP_CTX* p) const { TS_RESP_CTX_free(p); }
};

// Serial numbers are random 128-bit positive integers, unique without shared state.
ASN1_INTEGER* random_serial(TS_RESP_CTX*, void*) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return nullptr;
  bytes[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(bytes, sizeof bytes, nullptr);
  ASN1_INTEGER* serial = bn ? BN_to_ASN1_INTEGER(bn, nullptr) : nullptr;
  BN_free(bn);
  return serial;
}

}  // namespace

Result<Bytes> sign_timestamp(ByteView request_der, const PrivateKey& key, const std::vector<Certificate>& chain,
                             const TimestampSigningOptions& options) {
  if (chain.empty()) return invalid_input("timestamp authority: no signing certificate");
  VOUCH_ASSIGN_OR_RETURN(TsReqPtr req, parse_request(request_der));
  if (TS_REQ_get_version(req.get()) != 1) return invalid_input("timestamp request: version must be 1");
  TS_MSG_IMPRINT* imprint = TS_REQ_get_msg_imprint(req.get());
  VOUCH_ASSIGN_OR_RETURN(HashAlgorithm hash, imprint_hash(imprint));
  if (ASN1_STRING_length(TS_MSG_IMPRINT_get_msg(imprint)) != static_cast<int>(hash_size(hash)))
    return invalid_input(fmt::format("timestamp request: message imprint is not a {} digest", hash_name(hash)));
  std::unique_ptr<ASN1_OBJECT, OpenSslDeleter> policy(OBJ_txt2obj(options.policy_oid.c_str(), 1));
  if (!policy) return invalid_input(fmt::format("timestamp authority: policy {} is not an OID", options.policy_oid));
  if (ASN1_OBJECT* asked = TS_REQ_get_policy_id(req.get()); asked && OBJ_cmp(asked, policy.get()) != 0) {
    char name[80] = "?";
    OBJ_obj2txt(name, sizeof name, asked, 1);
    return invalid_input(fmt::format("timestamp request: policy {} is not supported (only {})", name, options.policy_oid));
  }
  if (TS_REQ_get_exts(req.get()) && sk_X509_EXTENSION_num(TS_REQ_get_exts(req.get())) > 0)
    return invalid_input("timestamp request: extensions are not supported");

  std::unique_ptr<TS_RESP_CTX, TsCtxDeleter> ctx(TS_RESP_CTX_new());
  X509StackPtr extra(sk_X509_new_null());
  if (!ctx || !extra) return internal_error("timestamp authority: " + openssl_errors());
  for (size_t i = 1; i < chain.size(); ++i)
    if (!sk_X509_push(extra.get(), chain[i].get())) return internal_error("timestamp authority: " + openssl_errors());
  if (TS_RESP_CTX_set_signer_cert(ctx.get(), chain[0].get()) != 1 ||
      TS_RESP_CTX_set_signer_key(ctx.get(), key.get()) != 1 ||
      TS_RESP_CTX_set_signer_digest(ctx.get(), evp_md(hash)) != 1 ||
      TS_RESP_CTX_set_ess_cert_id_digest(ctx.get(), EVP_sha256()) != 1 ||
      TS_RESP_CTX_set_def_policy(ctx.get(), policy.get()) != 1 ||
      TS_RESP_CTX_set_certs(ctx.get(), extra.get()) != 1 ||
      TS_RESP_CTX_add_md(ctx.get(), EVP_sha256()) != 1 || TS_RESP_CTX_add_md(ctx.get(), EVP_sha384()) != 1 ||
      TS_RESP_CTX_add_md(ctx.get(), EVP_sha512()) != 1 ||
      TS_RESP_CTX_set_accuracy(ctx.get(), static_cast<int>(options.accuracy_seconds), 0, 0) != 1)
    return internal_error("timestamp authority: cannot set up the responder: " + openssl_errors());
  TS_RESP_CTX_set_serial_cb(ctx.get(), random_serial, nullptr);
  if (options.include_tsa_name) TS_RESP_CTX_add_flags(ctx.get(), TS_TSA_NAME);

  BioPtr in(BIO_new_mem_buf(request_der.data(), static_cast<int>(request_der.size())));
  TsRespPtr resp(in ? TS_RESP_create_response(ctx.get(), in.get()) : nullptr);
  if (!resp) return internal_error("timestamp authority: cannot create a response: " + openssl_errors());
  if (ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(resp.get()))) > 1)
    return internal_error("timestamp authority: the request was not granted: " + openssl_errors());
  unsigned char* buf = nullptr;
  int len = i2d_TS_RESP(resp.get(), &buf);
  if (len <= 0) return internal_error("timestamp authority: cannot encode the response: " + openssl_errors());
  Bytes der(buf, buf + len);
  OPENSSL_free(buf);
  return der;
}

}  // namespace vouch::crypto
