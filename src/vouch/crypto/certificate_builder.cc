#include "vouch/crypto/certificate_builder.h"

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/objects.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <memory>

#include "openssl_util.h"
#include "vouch/crypto/random.h"
#include "vouch/crypto/sct.h"

namespace vouch::crypto {
namespace {

template <typename T, void (*F)(T*)>
struct Freer {
  void operator()(T* p) const { F(p); }
};
template <typename T, void (*F)(T*)>
using Owned = std::unique_ptr<T, Freer<T, F>>;

using ObjectPtr = Owned<ASN1_OBJECT, ASN1_OBJECT_free>;
using StringPtr = Owned<ASN1_STRING, ASN1_STRING_free>;
using ExtensionPtr = Owned<X509_EXTENSION, X509_EXTENSION_free>;
using GeneralNamePtr = Owned<GENERAL_NAME, GENERAL_NAME_free>;
using GeneralNamesPtr = Owned<GENERAL_NAMES, GENERAL_NAMES_free>;
using BasicConstraintsPtr = Owned<BASIC_CONSTRAINTS, BASIC_CONSTRAINTS_free>;
using AuthorityKeyIdPtr = Owned<AUTHORITY_KEYID, AUTHORITY_KEYID_free>;
using AsnTypePtr = Owned<ASN1_TYPE, ASN1_TYPE_free>;
using BignumPtr = Owned<BIGNUM, BN_free>;

struct EkuFree {
  // The stack holds OpenSSL's static objects (OBJ_nid2obj), which are not freed.
  void operator()(EXTENDED_KEY_USAGE* p) const { sk_ASN1_OBJECT_free(p); }
};
using EkuPtr = std::unique_ptr<EXTENDED_KEY_USAGE, EkuFree>;

constexpr size_t kMaxSerialBytes = 20;
// No single name, claim or extension value of a sensible certificate comes near this.
constexpr size_t kMaxValueBytes = 64 * 1024;

Error refused(std::string why) { return invalid_input(fmt::format("certificate template: {}", why)); }
Error failed(std::string_view what) {
  return internal_error(fmt::format("certificate signing: {}: {}", what, openssl_error()));
}

// For error messages: at most 128 characters, bytes outside printable ASCII as '?'.
std::string printable(std::string_view s) {
  std::string out(s.substr(0, 128));
  for (char& c : out)
    if (c < 0x20 || c > 0x7e) c = '?';
  return s.size() > 128 ? out + "..." : out;
}

Result<ObjectPtr> dotted_oid(std::string_view oid) {
  std::string text(oid);
  ObjectPtr obj(text.find('\0') == std::string::npos ? OBJ_txt2obj(text.c_str(), 1) : nullptr);
  if (!obj) {
    ERR_clear_error();
    return refused(fmt::format("'{}' is not a dotted OID", printable(oid)));
  }
  return obj;
}

std::string oid_text(const ASN1_OBJECT* obj) {
  char buf[128];
  int len = OBJ_obj2txt(buf, sizeof buf, obj, 1);
  return len > 0 ? std::string(buf, std::min<size_t>(static_cast<size_t>(len), sizeof buf - 1)) : "?";
}

// A DER UTF8String holding `text`, which must be valid UTF-8 (OpenSSL checks it while copying).
Result<StringPtr> utf8_string(std::string_view text, std::string_view where) {
  if (text.size() > kMaxValueBytes) return refused(fmt::format("{}: longer than {} bytes", where, kMaxValueBytes));
  ASN1_STRING* str = nullptr;
  if (ASN1_mbstring_copy(&str, reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()),
                         MBSTRING_UTF8, B_ASN1_UTF8STRING) < 0) {
    ERR_clear_error();
    return refused(fmt::format("{}: not valid UTF-8", where));
  }
  return StringPtr(str);
}

template <typename T, int (*Encode)(const T*, unsigned char**)>
Result<Bytes> to_der(const T* value, std::string_view what) {
  unsigned char* buf = nullptr;
  int len = Encode(value, &buf);
  if (len <= 0) return failed(fmt::format("cannot encode {}", what));
  Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

Result<Bytes> der_utf8_string(std::string_view text, std::string_view where) {
  VOUCH_ASSIGN_OR_RETURN(StringPtr str, utf8_string(text, where));
  return to_der<ASN1_UTF8STRING, i2d_ASN1_UTF8STRING>(str.get(), where);
}

Result<Bytes> der_octet_string(ByteView contents, std::string_view where) {
  StringPtr str(ASN1_OCTET_STRING_new());
  if (!str || ASN1_OCTET_STRING_set(str.get(), contents.data(), static_cast<int>(contents.size())) != 1)
    return failed(where);
  return to_der<ASN1_OCTET_STRING, i2d_ASN1_OCTET_STRING>(str.get(), where);
}

// An extension whose value OpenSSL encodes from its typed structure.
Result<ExtensionPtr> typed_extension(int nid, bool critical, void* value, std::string_view what) {
  ExtensionPtr ext(X509V3_EXT_i2d(nid, critical ? 1 : 0, value));
  if (!ext) return failed(fmt::format("cannot encode the {} extension", what));
  return ext;
}

// An extension carrying `value` as the contents of its OCTET STRING.
Result<ExtensionPtr> raw_extension(const ASN1_OBJECT* oid, bool critical, ByteView value) {
  StringPtr data(ASN1_OCTET_STRING_new());
  if (!data || ASN1_OCTET_STRING_set(data.get(), value.data(), static_cast<int>(value.size())) != 1)
    return failed("cannot hold an extension value");
  ExtensionPtr ext(X509_EXTENSION_create_by_OBJ(nullptr, oid, critical ? 1 : 0, data.get()));
  if (!ext) return failed(fmt::format("cannot create extension {}", oid_text(oid)));
  return ext;
}

Result<ExtensionPtr> raw_extension(std::string_view oid, bool critical, ByteView value) {
  VOUCH_ASSIGN_OR_RETURN(ObjectPtr obj, dotted_oid(oid));
  return raw_extension(obj.get(), critical, value);
}

// ---- checks ----

Status check_serial(const Bytes& serial) {
  auto first = std::find_if(serial.begin(), serial.end(), [](uint8_t b) { return b != 0; });
  if (first == serial.end()) return refused("serial number is zero; it must be positive");
  size_t magnitude = static_cast<size_t>(serial.end() - first);
  // DER adds a leading zero octet when the high bit is set; RFC 5280 allows 20 octets in all.
  if (magnitude > kMaxSerialBytes || (magnitude == kMaxSerialBytes && (*first & 0x80)))
    return refused("serial number is longer than 20 octets");
  return ok_status();
}

// SAN strings are IA5String; vouch also refuses spaces and control characters, which no email
// address, URI or DNS name needs and which would make a certificate misleading to read.
Status check_san_ascii(const std::vector<std::string>& values, std::string_view kind) {
  for (const auto& v : values) {
    if (v.empty()) return refused(fmt::format("empty {} subject alternative name", kind));
    if (v.size() > kMaxValueBytes) return refused(fmt::format("{} subject alternative name too long", kind));
    for (char c : v)
      if (c <= 0x20 || c >= 0x7f)
        return refused(fmt::format("{} subject alternative name '{}' has a character outside printable ASCII",
                                   kind, printable(v)));
  }
  return ok_status();
}

bool any_fulcio_field(const FulcioExtensions& f) {
  for (const std::string* s :
       {&f.github_workflow_trigger, &f.github_workflow_sha, &f.github_workflow_name, &f.github_workflow_repository,
        &f.github_workflow_ref, &f.build_signer_uri, &f.build_signer_digest, &f.runner_environment,
        &f.source_repository_uri, &f.source_repository_digest, &f.source_repository_ref,
        &f.source_repository_identifier, &f.source_repository_owner_uri, &f.source_repository_owner_identifier,
        &f.build_config_uri, &f.build_config_digest, &f.build_trigger, &f.run_invocation_uri,
        &f.source_repository_visibility_at_signing, &f.deployment_environment, &f.token_subject})
    if (!s->empty()) return true;
  return false;
}

// Each SerializedSCT inside the list has a 2-byte length and is not empty; nothing trails.
Status check_sct_list(const Bytes& list) {
  if (list.size() < 2 || list.size() > 0xffff + 2) return refused("SCT list has an impossible size");
  size_t total = (size_t{list[0]} << 8) | list[1];
  if (total != list.size() - 2) return refused("SCT list length prefix does not match its size");
  if (total == 0) return refused("SCT list is empty");
  for (size_t pos = 2; pos < list.size();) {
    if (list.size() - pos < 2) return refused("SCT list is truncated");
    size_t len = (size_t{list[pos]} << 8) | list[pos + 1];
    if (len == 0 || len > list.size() - pos - 2) return refused("SCT list holds a malformed SCT");
    pos += 2 + len;
  }
  return ok_status();
}

Status check_template(const CertificateTemplate& t) {
  if (!t.public_key.get()) return refused("no subject public key");
  if (t.not_after < t.not_before)
    return refused(fmt::format("validity ends ({}) before it starts ({})", t.not_after, t.not_before));
  if (t.serial) VOUCH_RETURN_IF_ERROR(check_serial(*t.serial));
  const KeyUsage& ku = t.key_usage;
  if (!ku.digital_signature && !ku.cert_sign && !ku.crl_sign) return refused("key usage is empty");
  if (t.is_ca) {
    if (!ku.cert_sign) return refused("a CA certificate needs keyCertSign in its key usage");
    if (t.subject.empty()) return refused("a CA certificate needs a subject (it names the issuer of what it signs)");
    if (t.path_len && *t.path_len < 0) return refused("path length is negative");
  } else {
    if (ku.cert_sign) return refused("keyCertSign in the key usage of a certificate that is not a CA");
    if (t.path_len) return refused("a path length on a certificate that is not a CA");
    if (t.code_signing_eku && !ku.digital_signature)
      return refused("a code-signing leaf needs digitalSignature in its key usage");
    // TLS 1.3 and ECDHE handshakes are signed with the server's key; keyEncipherment (RSA key
    // transport) is not offered.
    if (t.server_auth_eku && !ku.digital_signature)
      return refused("a TLS server leaf needs digitalSignature in its key usage");
    if (t.subject.empty() && t.subject_alt_names.empty())
      return refused("a leaf certificate needs a subject or a subject alternative name");
  }
  VOUCH_RETURN_IF_ERROR(check_san_ascii(t.subject_alt_names.emails, "email"));
  VOUCH_RETURN_IF_ERROR(check_san_ascii(t.subject_alt_names.uris, "URI"));
  VOUCH_RETURN_IF_ERROR(check_san_ascii(t.subject_alt_names.dns_names, "DNS"));
  for (const auto& name : t.subject_alt_names.other_names)
    if (name.empty()) return refused("empty username (otherName) subject alternative name");
  if (t.fulcio.issuer.empty() && any_fulcio_field(t.fulcio))
    return refused("Fulcio extensions without an OIDC issuer");
  if (t.ct_poison && t.sct_list) return refused("a precertificate (CT poison) cannot carry an SCT list");
  if (t.sct_list) VOUCH_RETURN_IF_ERROR(check_sct_list(*t.sct_list));
  for (const auto& ext : t.extra_extensions) {
    if (ext.oid == kPrecertPoisonOid || ext.oid == kEmbeddedSctOid)
      return refused(fmt::format("extension {} is written by ct_poison or sct_list, which keep it last", ext.oid));
    if (ext.value.size() > kMaxValueBytes) return refused(fmt::format("extension {} value too long", ext.oid));
  }
  return ok_status();
}

// ---- names ----

Status add_name(X509_NAME* name, const DistinguishedName& dn, std::string_view which) {
  for (const auto& attr : dn) {
    if (attr.value.empty()) return refused(fmt::format("{} attribute {} has an empty value", which, printable(attr.type)));
    if (attr.value.size() > kMaxValueBytes) return refused(fmt::format("{} attribute {} too long", which, printable(attr.type)));
    ObjectPtr type(attr.type.find('\0') == std::string::npos ? OBJ_txt2obj(attr.type.c_str(), 0) : nullptr);
    if (!type) {
      ERR_clear_error();
      return refused(fmt::format("{}: unknown attribute type '{}'", which, printable(attr.type)));
    }
    // MBSTRING_UTF8 input: OpenSSL checks the UTF-8, the attribute's length bound and string type.
    if (X509_NAME_add_entry_by_OBJ(name, type.get(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(attr.value.data()),
                                   static_cast<int>(attr.value.size()), -1, 0) != 1) {
      std::string why = openssl_error();
      return refused(fmt::format("{} attribute {} = '{}' refused: {}", which, printable(attr.type),
                                 printable(attr.value), why));
    }
  }
  return ok_status();
}

// ---- extensions ----

Result<ExtensionPtr> key_usage_extension(const KeyUsage& ku) {
  StringPtr bits(ASN1_BIT_STRING_new());
  if (!bits) return failed("cannot allocate the key usage");
  // RFC 5280 4.2.1.3 bit numbers.
  if ((ku.digital_signature && ASN1_BIT_STRING_set_bit(bits.get(), 0, 1) != 1) ||
      (ku.cert_sign && ASN1_BIT_STRING_set_bit(bits.get(), 5, 1) != 1) ||
      (ku.crl_sign && ASN1_BIT_STRING_set_bit(bits.get(), 6, 1) != 1))
    return failed("cannot set the key usage bits");
  return typed_extension(NID_key_usage, true, bits.get(), "key usage");
}

Result<ExtensionPtr> extended_key_usage_extension(bool server_auth, bool code_signing) {
  EkuPtr eku(sk_ASN1_OBJECT_new_null());
  if (!eku || (server_auth && sk_ASN1_OBJECT_push(eku.get(), OBJ_nid2obj(NID_server_auth)) <= 0) ||
      (code_signing && sk_ASN1_OBJECT_push(eku.get(), OBJ_nid2obj(NID_code_sign)) <= 0))
    return failed("cannot build the extended key usage");
  return typed_extension(NID_ext_key_usage, false, eku.get(), "extended key usage");
}

Result<ExtensionPtr> basic_constraints_extension(std::optional<int> path_len) {
  BasicConstraintsPtr bc(BASIC_CONSTRAINTS_new());
  if (!bc) return failed("cannot allocate the basic constraints");
  bc->ca = 0xff;
  if (path_len) {
    bc->pathlen = ASN1_INTEGER_new();
    if (!bc->pathlen || ASN1_INTEGER_set(bc->pathlen, *path_len) != 1) return failed("cannot set the path length");
  }
  return typed_extension(NID_basic_constraints, true, bc.get(), "basic constraints");
}

// RFC 5280 4.2.1.2 method 1, as Go computes it: SHA-1 of the subjectPublicKey BIT STRING's bytes.
Result<Bytes> key_identifier(const X509* cert) {
  const ASN1_BIT_STRING* bits = X509_get0_pubkey_bitstr(cert);
  if (!bits) return failed("certificate has no public key bits");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(ASN1_STRING_get0_data(bits), static_cast<size_t>(ASN1_STRING_length(bits)), md, &len, EVP_sha1(),
                 nullptr) != 1)
    return failed("cannot hash the public key");
  return Bytes(md, md + len);
}

Result<ExtensionPtr> subject_key_id_extension(ByteView key_id) {
  StringPtr id(ASN1_OCTET_STRING_new());
  if (!id || ASN1_OCTET_STRING_set(id.get(), key_id.data(), static_cast<int>(key_id.size())) != 1)
    return failed("cannot hold the subject key identifier");
  return typed_extension(NID_subject_key_identifier, false, id.get(), "subject key identifier");
}

Result<ExtensionPtr> authority_key_id_extension(ByteView key_id) {
  AuthorityKeyIdPtr akid(AUTHORITY_KEYID_new());
  if (!akid) return failed("cannot allocate the authority key identifier");
  akid->keyid = ASN1_OCTET_STRING_new();
  if (!akid->keyid || ASN1_OCTET_STRING_set(akid->keyid, key_id.data(), static_cast<int>(key_id.size())) != 1)
    return failed("cannot hold the authority key identifier");
  return typed_extension(NID_authority_key_identifier, false, akid.get(), "authority key identifier");
}

Status push_ia5_names(GENERAL_NAMES* names, const std::vector<std::string>& values, int type) {
  for (const auto& v : values) {
    GeneralNamePtr gn(GENERAL_NAME_new());
    StringPtr str(ASN1_IA5STRING_new());
    if (!gn || !str || ASN1_STRING_set(str.get(), v.data(), static_cast<int>(v.size())) != 1)
      return failed("cannot build a subject alternative name");
    GENERAL_NAME_set0_value(gn.get(), type, str.release());
    if (sk_GENERAL_NAME_push(names, gn.get()) <= 0) return failed("cannot add a subject alternative name");
    gn.release();
  }
  return ok_status();
}

Result<ExtensionPtr> subject_alt_name_extension(const SubjectAltNames& san, bool critical) {
  GeneralNamesPtr names(GENERAL_NAMES_new());
  if (!names) return failed("cannot allocate the subject alternative names");
  // Go's order: DNS names, emails, URIs; then Fulcio's username.
  VOUCH_RETURN_IF_ERROR(push_ia5_names(names.get(), san.dns_names, GEN_DNS));
  VOUCH_RETURN_IF_ERROR(push_ia5_names(names.get(), san.emails, GEN_EMAIL));
  VOUCH_RETURN_IF_ERROR(push_ia5_names(names.get(), san.uris, GEN_URI));
  for (const auto& username : san.other_names) {
    VOUCH_ASSIGN_OR_RETURN(StringPtr text, utf8_string(username, "username subject alternative name"));
    VOUCH_ASSIGN_OR_RETURN(ObjectPtr type_id, dotted_oid(fulcio_oid::kOtherNameSan));
    AsnTypePtr value(ASN1_TYPE_new());
    GeneralNamePtr gn(GENERAL_NAME_new());
    if (!value || !gn) return failed("cannot build the username subject alternative name");
    ASN1_TYPE_set(value.get(), V_ASN1_UTF8STRING, text.release());
    if (GENERAL_NAME_set0_othername(gn.get(), type_id.get(), value.get()) != 1)
      return failed("cannot build the username subject alternative name");
    type_id.release();
    value.release();
    if (sk_GENERAL_NAME_push(names.get(), gn.get()) <= 0) return failed("cannot add a subject alternative name");
    gn.release();
  }
  return typed_extension(NID_subject_alt_name, critical, names.get(), "subject alternative name");
}


Status add_fulcio_extensions(const FulcioExtensions& f, std::vector<ExtensionPtr>& exts) {
  for (const FulcioExtensionField& field : fulcio_extension_fields()) {
    const std::string& value = f.*field.member;
    if (value.empty()) continue;
    if (value.size() > kMaxValueBytes) return refused(fmt::format("extension {}: longer than {} bytes", field.oid, kMaxValueBytes));
    Bytes encoded;
    if (field.der_utf8) {
      VOUCH_ASSIGN_OR_RETURN(encoded, der_utf8_string(value, fmt::format("extension {}", field.oid)));
    } else {
      encoded = to_bytes(value);
    }
    VOUCH_ASSIGN_OR_RETURN(ExtensionPtr ext, raw_extension(field.oid, false, encoded));
    exts.push_back(std::move(ext));
  }
  return ok_status();
}

Result<std::vector<ExtensionPtr>> build_extensions(const CertificateTemplate& t, ByteView subject_key_id,
                                                   ByteView authority_key_id) {
  std::vector<ExtensionPtr> exts;
  auto add = [&](Result<ExtensionPtr> ext) -> Status {
    if (!ext.ok()) return std::move(ext).error();
    exts.push_back(std::move(ext).value());
    return ok_status();
  };
  VOUCH_RETURN_IF_ERROR(add(key_usage_extension(t.key_usage)));
  if (t.server_auth_eku || t.code_signing_eku)
    VOUCH_RETURN_IF_ERROR(add(extended_key_usage_extension(t.server_auth_eku, t.code_signing_eku)));
  if (t.is_ca) VOUCH_RETURN_IF_ERROR(add(basic_constraints_extension(t.path_len)));
  VOUCH_RETURN_IF_ERROR(add(subject_key_id_extension(subject_key_id)));
  VOUCH_RETURN_IF_ERROR(add(authority_key_id_extension(authority_key_id)));
  // RFC 5280 4.2.1.6: critical when the subject is empty.
  if (!t.subject_alt_names.empty())
    VOUCH_RETURN_IF_ERROR(add(subject_alt_name_extension(t.subject_alt_names, t.subject.empty())));
  VOUCH_RETURN_IF_ERROR(add_fulcio_extensions(t.fulcio, exts));
  for (const auto& extra : t.extra_extensions) VOUCH_RETURN_IF_ERROR(add(raw_extension(extra.oid, extra.critical, extra.value)));
  if (t.ct_poison) {
    static constexpr uint8_t kAsn1Null[] = {0x05, 0x00};
    VOUCH_RETURN_IF_ERROR(add(raw_extension(kPrecertPoisonOid, true, kAsn1Null)));
  }
  if (t.sct_list) {
    VOUCH_ASSIGN_OR_RETURN(Bytes wrapped, der_octet_string(*t.sct_list, "cannot encode the SCT list"));
    VOUCH_RETURN_IF_ERROR(add(raw_extension(kEmbeddedSctOid, false, wrapped)));
  }
  for (size_t i = 0; i < exts.size(); ++i)
    for (size_t j = i + 1; j < exts.size(); ++j)
      if (OBJ_cmp(X509_EXTENSION_get_object(exts[i].get()), X509_EXTENSION_get_object(exts[j].get())) == 0)
        return refused(
            fmt::format("extension {} occurs twice", oid_text(X509_EXTENSION_get_object(exts[i].get()))));
  return exts;
}

Status set_time(X509* x, UnixSeconds t, int (*set)(X509*, const ASN1_TIME*), std::string_view which) {
  // UTCTime for 1950-2049, GeneralizedTime otherwise, as RFC 5280 4.1.2.5 requires.
  Owned<ASN1_TIME, ASN1_TIME_free> time(ASN1_TIME_set(nullptr, static_cast<time_t>(t)));
  if (!time) {
    ERR_clear_error();
    return refused(fmt::format("{} {} cannot be written as a certificate time", which, t));
  }
  if (set(x, time.get()) != 1) return failed(fmt::format("cannot set {}", which));
  return ok_status();
}

Status set_serial(X509* x, const std::optional<Bytes>& requested) {
  Bytes serial;
  if (requested) {
    serial = *requested;
  } else {
    VOUCH_ASSIGN_OR_RETURN(serial, random_serial_number());
  }
  BignumPtr bn(BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr));
  if (!bn) return failed("cannot read the serial number");
  Owned<ASN1_INTEGER, ASN1_INTEGER_free> integer(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!integer || X509_set_serialNumber(x, integer.get()) != 1) return failed("cannot set the serial number");
  return ok_status();
}

const EVP_MD* signature_digest(KeyType type) {
  switch (type) {
    case KeyType::kEcdsaP256: return EVP_sha256();
    case KeyType::kEcdsaP384: return EVP_sha384();
    case KeyType::kEcdsaP521: return EVP_sha512();
    case KeyType::kRsa: return EVP_sha256();
    case KeyType::kEd25519: return nullptr;  // pure EdDSA hashes internally
  }
  return nullptr;
}

Result<Certificate> sign(const CertificateTemplate& t, const PrivateKey& issuer_key,
                         const std::optional<Certificate>& issuer) {
  VOUCH_RETURN_IF_ERROR(check_template(t));
  if (!issuer_key.get()) return refused("no issuer key");
  if (issuer) {
    const std::string name = issuer->subject().empty() ? "the issuer certificate (empty subject)"
                                                       : "issuer " + printable(issuer->subject());
    if (!issuer->is_ca()) return refused(fmt::format("{} is not a CA allowed to sign certificates", name));
    if (!issuer->public_key().equals(issuer_key.public_key()))
      return refused(fmt::format("the issuer key is not the key of {}", name));
  } else if (!t.public_key.equals(issuer_key.public_key())) {
    return refused("a self-signed certificate must be signed by the key it certifies");
  }

  X509Ptr x(X509_new());
  if (!x || X509_set_version(x.get(), X509_VERSION_3) != 1) return failed("cannot create a certificate");
  VOUCH_RETURN_IF_ERROR(set_serial(x.get(), t.serial));
  VOUCH_RETURN_IF_ERROR(add_name(X509_get_subject_name(x.get()), t.subject, "subject"));
  const X509_NAME* issuer_name = issuer ? X509_get_subject_name(issuer->get()) : X509_get_subject_name(x.get());
  if (X509_set_issuer_name(x.get(), issuer_name) != 1) return failed("cannot set the issuer name");
  VOUCH_RETURN_IF_ERROR(set_time(x.get(), t.not_before, X509_set1_notBefore, "not_before"));
  VOUCH_RETURN_IF_ERROR(set_time(x.get(), t.not_after, X509_set1_notAfter, "not_after"));
  if (X509_set_pubkey(x.get(), t.public_key.get()) != 1) return failed("cannot set the public key");

  VOUCH_ASSIGN_OR_RETURN(Bytes subject_key_id, key_identifier(x.get()));
  Bytes authority_key_id = subject_key_id;
  if (issuer) {
    if (const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(issuer->get())) {
      const unsigned char* p = ASN1_STRING_get0_data(ski);
      authority_key_id.assign(p, p + ASN1_STRING_length(ski));
    } else {
      VOUCH_ASSIGN_OR_RETURN(authority_key_id, key_identifier(issuer->get()));
    }
  }
  VOUCH_ASSIGN_OR_RETURN(std::vector<ExtensionPtr> exts, build_extensions(t, subject_key_id, authority_key_id));
  for (const auto& ext : exts)
    if (X509_add_ext(x.get(), ext.get(), -1) != 1) return failed("cannot add an extension");

  if (X509_sign(x.get(), issuer_key.get(), signature_digest(issuer_key.type())) <= 0)
    return failed("cannot sign the certificate");
  VOUCH_ASSIGN_OR_RETURN(Bytes der, (to_der<X509, i2d_X509>(x.get(), "the certificate")));
  return Certificate::from_der(der);
}

}  // namespace

Result<Bytes> random_serial_number() {
  for (;;) {
    VOUCH_ASSIGN_OR_RETURN(Bytes serial, random_bytes(kMaxSerialBytes));
    serial[0] &= 0x7f;
    if (std::any_of(serial.begin(), serial.end(), [](uint8_t b) { return b != 0; })) return serial;
  }
}

Result<Certificate> sign_certificate(const CertificateTemplate& tmpl, const PrivateKey& issuer_key,
                                     const std::optional<Certificate>& issuer) {
  auto cert = sign(tmpl, issuer_key, issuer);
  ERR_clear_error();
  return cert;
}

Result<CaPair> create_ca_pair(const PrivateKey& root_key, const PrivateKey& intermediate_key,
                              const CaPairOptions& options) {
  CertificateTemplate root;
  root.subject = options.root_subject;
  root.not_before = options.not_before;
  root.not_after = options.not_after;
  root.public_key = root_key.public_key();
  root.is_ca = true;
  root.path_len = options.root_path_len;
  root.key_usage = {.digital_signature = false, .cert_sign = true, .crl_sign = true};
  auto root_cert = sign_certificate(root, root_key);
  if (!root_cert.ok()) return std::move(root_cert).error().context("root CA");

  CertificateTemplate intermediate = root;
  intermediate.serial.reset();
  intermediate.subject = options.intermediate_subject;
  intermediate.public_key = intermediate_key.public_key();
  intermediate.path_len = 0;
  intermediate.code_signing_eku = true;
  auto intermediate_cert = sign_certificate(intermediate, root_key, *root_cert);
  if (!intermediate_cert.ok()) return std::move(intermediate_cert).error().context("intermediate CA");
  return CaPair{*root_cert, *intermediate_cert};
}

}  // namespace vouch::crypto
