#include "vouch/crypto/x509.h"

#include <openssl/asn1.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <ctime>

#include "openssl_util.h"

namespace vouch::crypto {
namespace {

Result<UnixSeconds> asn1_time_to_unix(const ASN1_TIME* t) {
  struct tm tm {};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return invalid_input("certificate has an invalid time");
  return static_cast<UnixSeconds>(timegm(&tm));
}

}  // namespace

Result<Certificate> Certificate::from_der(ByteView der) {
  if (der.size() > 1 << 20) return invalid_input("certificate larger than 1 MiB");
  const unsigned char* p = der.data();
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (!x) {
    ERR_clear_error();
    return invalid_input("not a DER X.509 certificate");
  }
  X509Ptr owned(x);
  if (p != der.data() + der.size()) return invalid_input("trailing data after DER certificate");
  Certificate c;
  VOUCH_ASSIGN_OR_RETURN(c.not_before_, asn1_time_to_unix(X509_get0_notBefore(x)));
  VOUCH_ASSIGN_OR_RETURN(c.not_after_, asn1_time_to_unix(X509_get0_notAfter(x)));
  EVP_PKEY* pk = X509_get_pubkey(x);
  if (!pk) {
    ERR_clear_error();
    return invalid_input("certificate public key cannot be parsed");
  }
  // The SubjectPublicKeyInfo as the certificate encodes it, rather than through OpenSSL 3's
  // encoders, which take longer than parsing the whole certificate.
  unsigned char* spki = nullptr;
  int spki_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
  if (spki_len <= 0) {
    EVP_PKEY_free(pk);
    ERR_clear_error();
    return invalid_input("certificate public key cannot be encoded");
  }
  Bytes spki_der(spki, spki + spki_len);
  OPENSSL_free(spki);
  auto key = PublicKey::adopt_encoded(pk, std::move(spki_der));
  if (!key.ok()) return std::move(key).error().context("certificate public key");
  c.key_ = *key;
  c.cert_ = std::shared_ptr<X509>(owned.release(), X509_free);
  c.der_ = std::make_shared<const Bytes>(der.begin(), der.end());
  return c;
}

Result<Certificate> Certificate::from_pem(std::string_view pem) {
  VOUCH_ASSIGN_OR_RETURN(auto all, all_from_pem(pem));
  if (all.empty()) return invalid_input("no PEM certificate found");
  return all.front();
}

Result<std::vector<Certificate>> Certificate::all_from_pem(std::string_view pem) {
  if (pem.size() > 16 << 20) return invalid_input("PEM certificate bundle too large");
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::vector<Certificate> out;
  for (;;) {
    X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (!x) {
      ERR_clear_error();
      break;
    }
    X509Ptr owned(x);
    unsigned char* buf = nullptr;
    int len = i2d_X509(x, &buf);
    if (len <= 0) return invalid_input("cannot encode certificate");
    Bytes der(buf, buf + len);
    OPENSSL_free(buf);
    VOUCH_ASSIGN_OR_RETURN(Certificate c, from_der(der));
    out.push_back(std::move(c));
  }
  if (out.empty()) return invalid_input("no PEM certificate found");
  return out;
}

std::string Certificate::pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert_.get());
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

bool Certificate::is_ca() const { return X509_check_ca(cert_.get()) > 0; }

bool Certificate::is_self_signed() const { return X509_self_signed(cert_.get(), 0) == 1; }

bool Certificate::has_code_signing_eku() const {
  return (X509_get_extension_flags(cert_.get()) & EXFLAG_XKUSAGE) &&
         (X509_get_extended_key_usage(cert_.get()) & XKU_CODE_SIGN);
}

static std::string name_to_string(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string Certificate::subject() const { return name_to_string(X509_get_subject_name(cert_.get())); }
std::string Certificate::issuer() const { return name_to_string(X509_get_issuer_name(cert_.get())); }

PublicKey Certificate::public_key() const { return key_; }

SubjectAltNames Certificate::subject_alt_names() const {
  SubjectAltNames out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert_.get(), NID_subject_alt_name, nullptr, nullptr));
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    auto str = [](const ASN1_STRING* s) {
      return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<size_t>(ASN1_STRING_length(s)));
    };
    switch (gn->type) {
      case GEN_EMAIL: out.emails.push_back(str(gn->d.rfc822Name)); break;
      case GEN_URI: out.uris.push_back(str(gn->d.uniformResourceIdentifier)); break;
      case GEN_DNS: out.dns_names.push_back(str(gn->d.dNSName)); break;
      case GEN_OTHERNAME: {
        const ASN1_TYPE* v = gn->d.otherName->value;
        if (v && v->type == V_ASN1_UTF8STRING) out.other_names.push_back(str(v->value.utf8string));
        break;
      }
      default: break;
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

std::optional<Bytes> Certificate::extension(std::string_view oid) const {
  ASN1_OBJECT* obj = OBJ_txt2obj(std::string(oid).c_str(), 1);
  if (!obj) return std::nullopt;
  int idx = X509_get_ext_by_OBJ(cert_.get(), obj, -1);
  ASN1_OBJECT_free(obj);
  if (idx < 0) return std::nullopt;
  X509_EXTENSION* ext = X509_get_ext(cert_.get(), idx);
  const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(ext);
  const unsigned char* p = ASN1_STRING_get0_data(data);
  return Bytes(p, p + ASN1_STRING_length(data));
}

Bytes Certificate::tbs_der() const {
  unsigned char* buf = nullptr;
  int len = i2d_re_X509_tbs(cert_.get(), &buf);
  if (len <= 0) return {};
  Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

struct ChainVerifier::State {
  std::vector<Certificate> intermediates;
  std::vector<Certificate> roots;
  X509StorePtr store{X509_STORE_new()};
  X509StackPtr untrusted{sk_X509_new_null()};
};

Result<ChainVerifier> ChainVerifier::create(std::vector<Certificate> intermediates, std::vector<Certificate> roots) {
  if (roots.empty()) return verification_failed("no trusted certificate authority to chain to");
  auto state = std::make_shared<State>();
  state->intermediates = std::move(intermediates);
  state->roots = std::move(roots);
  if (!state->store || !state->untrusted) return internal_error("chain verification setup failed: out of memory");
  for (const auto& r : state->roots)
    if (X509_STORE_add_cert(state->store.get(), r.get()) != 1)
      return internal_error(fmt::format("chain verification setup failed: {}", openssl_error()));
  for (const auto& c : state->intermediates)
    if (sk_X509_push(state->untrusted.get(), c.get()) <= 0)
      return internal_error("chain verification setup failed: out of memory");
  ChainVerifier v;
  v.state_ = std::move(state);
  return v;
}

Result<std::vector<Certificate>> ChainVerifier::verify(const Certificate& leaf, std::optional<UnixSeconds> at) const {
  if (!state_) return verification_failed("no trusted certificate authority to chain to");
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), state_->store.get(), leaf.get(), state_->untrusted.get()) != 1)
    return internal_error(fmt::format("chain verification setup failed: {}", openssl_error()));
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_X509_STRICT);
  if (at) {
    X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(*at));
  } else {
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_NO_CHECK_TIME);
  }
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return verification_failed(fmt::format("certificate chain does not verify{}: {}",
                                           at ? " at " + format_rfc3339(*at) : std::string(),
                                           X509_verify_cert_error_string(err)));
  }
  // Map the built chain back onto the certificates given, rather than parsing them again.
  std::vector<Certificate> chain;
  STACK_OF(X509)* built = X509_STORE_CTX_get0_chain(ctx.get());
  for (int i = 0; i < sk_X509_num(built); ++i) {
    X509* x = sk_X509_value(built, i);
    const Certificate* match = nullptr;
    if (x == leaf.get()) match = &leaf;
    for (const auto* list : {&state_->intermediates, &state_->roots})
      for (const auto& c : *list)
        if (!match && X509_cmp(x, c.get()) == 0) match = &c;
    if (!match) return internal_error("certificate chain: built chain holds an unknown certificate");
    chain.push_back(*match);
  }
  return chain;
}

Result<std::vector<Certificate>> verify_chain(const Certificate& leaf, const std::vector<Certificate>& intermediates,
                                              const std::vector<Certificate>& roots, std::optional<UnixSeconds> at) {
  VOUCH_ASSIGN_OR_RETURN(ChainVerifier verifier, ChainVerifier::create(intermediates, roots));
  return verifier.verify(leaf, at);
}

Result<PublicKey> public_key_of_signed_csr(std::string_view pem_or_der) {
  if (pem_or_der.size() > 64 << 10) return invalid_input("certificate signing request too large");
  BioPtr bio(BIO_new_mem_buf(pem_or_der.data(), static_cast<int>(pem_or_der.size())));
  X509_REQ* req = nullptr;
  if (pem_or_der.find("-----BEGIN") != std::string_view::npos) {
    req = PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr);
  } else {
    const auto* p = reinterpret_cast<const unsigned char*>(pem_or_der.data());
    req = d2i_X509_REQ(nullptr, &p, static_cast<long>(pem_or_der.size()));
    if (req && p != reinterpret_cast<const unsigned char*>(pem_or_der.data()) + pem_or_der.size()) {
      X509_REQ_free(req);
      return invalid_input("certificate signing request: trailing data after the DER");
    }
  }
  if (!req) {
    ERR_clear_error();
    return invalid_input("certificate signing request could not be parsed");
  }
  std::unique_ptr<X509_REQ, decltype(&X509_REQ_free)> owned(req, X509_REQ_free);
  EVP_PKEY* pk = X509_REQ_get_pubkey(req);  // a new reference
  if (!pk) {
    ERR_clear_error();
    return invalid_input("certificate signing request has no usable public key");
  }
  VOUCH_ASSIGN_OR_RETURN(PublicKey key, PublicKey::adopt(pk));
  if (X509_REQ_verify(req, key.get()) != 1) {
    ERR_clear_error();
    return verification_failed("certificate signing request signature does not verify with its public key");
  }
  return key;
}

}  // namespace vouch::crypto
