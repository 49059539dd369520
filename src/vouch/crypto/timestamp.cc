#include "vouch/crypto/timestamp.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
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
  char oid[128] = "";
  if (const ASN1_OBJECT* policy = TS_TST_INFO_get_policy_id(p.tst)) OBJ_obj2txt(oid, sizeof oid, policy, 1);
  info.policy = oid;
  info.embedded_certificates = std::move(p.embedded);
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
  return VerifiedTimestamp{p.time, *signed_by};
}

}  // namespace vouch::crypto
