// Kyverno's x509_decode: a PEM certificate as the JSON of Go's x509.Certificate (the fields
// policies read: Version, SerialNumber, Subject, Issuer, NotBefore, NotAfter, PublicKey,
// PublicKeyAlgorithm, DNSNames, EmailAddresses, URIs, IPAddresses, IsCA, KeyUsage, key ids).
// Big integers (serial numbers, RSA moduli, EC coordinates) are decimal strings, since JSON
// numbers cannot hold them.
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include <fmt/format.h>

#include "kyverno_internal.h"
#include "vouch/base/bytes.h"
#include "vouch/base/time.h"
#include "vouch/crypto/x509.h"

namespace vouch::policy::jmespath::kyverno {
namespace {

std::string bn_decimal(const BIGNUM* bn) {
  if (!bn) return "0";
  char* s = BN_bn2dec(bn);
  if (!s) return "0";
  std::string out(s);
  OPENSSL_free(s);
  return out;
}

bj::value big_number(const BIGNUM* bn) {
  if (bn && BN_num_bits(bn) <= 53) {
    BN_ULONG w = BN_get_word(bn);
    int64_t v = static_cast<int64_t>(w);
    return bj::value(BN_is_negative(bn) ? -v : v);
  }
  return bj::value(bn_decimal(bn));
}

bj::value strings(const std::vector<std::string>& v) {
  if (v.empty()) return bj::value();
  bj::array a;
  for (const auto& s : v) a.push_back(bj::value(s));
  return a;
}

// pkix.Name as Go marshals it.
bj::object name_json(X509_NAME* name) {
  std::map<int, std::vector<std::string>> by_nid;
  bj::array names;
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(e);
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, data);
    std::string value = len >= 0 ? std::string(reinterpret_cast<char*>(utf8), static_cast<size_t>(len)) : "";
    OPENSSL_free(utf8);
    int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
    by_nid[nid].push_back(value);
    char oid[128];
    OBJ_obj2txt(oid, sizeof oid, X509_NAME_ENTRY_get_object(e), 1);
    bj::array type;
    std::string_view o(oid);
    size_t start = 0;
    while (start <= o.size()) {
      size_t dot = o.find('.', start);
      auto part = o.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
      type.push_back(bj::value(std::stoll(std::string(part))));
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    names.push_back(bj::object{{"Type", std::move(type)}, {"Value", value}});
  }
  auto get = [&](int nid) { return by_nid.count(nid) ? strings(by_nid[nid]) : bj::value(); };
  std::string cn = by_nid.count(NID_commonName) ? by_nid[NID_commonName].back() : "";
  std::string serial = by_nid.count(NID_serialNumber) ? by_nid[NID_serialNumber].back() : "";
  return bj::object{{"Country", get(NID_countryName)},
                    {"Organization", get(NID_organizationName)},
                    {"OrganizationalUnit", get(NID_organizationalUnitName)},
                    {"Locality", get(NID_localityName)},
                    {"Province", get(NID_stateOrProvinceName)},
                    {"StreetAddress", get(NID_streetAddress)},
                    {"PostalCode", get(NID_postalCode)},
                    {"SerialNumber", serial},
                    {"CommonName", cn},
                    {"Names", std::move(names)},
                    {"ExtraNames", bj::value()}};
}

Result<bj::value> public_key_json(EVP_PKEY* pkey, int& algorithm) {
  int id = EVP_PKEY_get_base_id(pkey);
  if (id == EVP_PKEY_RSA) {
    algorithm = 1;
    BIGNUM* n = nullptr;
    BIGNUM* e = nullptr;
    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n);
    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e);
    bj::object o{{"N", bj::value(bn_decimal(n))}, {"E", big_number(e)}};
    BN_free(n);
    BN_free(e);
    return bj::value(std::move(o));
  }
  if (id == EVP_PKEY_EC) {
    algorithm = 3;
    BIGNUM* x = nullptr;
    BIGNUM* y = nullptr;
    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x);
    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y);
    char group[64] = {0};
    size_t glen = 0;
    EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &glen);
    bj::object o{{"Curve", bj::object{{"Name", std::string(group, glen)}}},
                 {"X", bj::value(bn_decimal(x))},
                 {"Y", bj::value(bn_decimal(y))}};
    BN_free(x);
    BN_free(y);
    return bj::value(std::move(o));
  }
  if (id == EVP_PKEY_ED25519) {
    algorithm = 4;
    unsigned char raw[32];
    size_t len = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(pkey, raw, &len) != 1) return function_error("x509_decode", "bad Ed25519 key");
    return bj::value(base64_encode(ByteView(raw, len)));
  }
  algorithm = 0;
  return bj::value();
}

std::string key_id(const ASN1_OCTET_STRING* s) {
  if (!s) return "";
  return base64_encode(ByteView(ASN1_STRING_get0_data(s), static_cast<size_t>(ASN1_STRING_length(s))));
}

}  // namespace

Result<bj::value> x509_decode(std::string_view pem) {
  auto cert = crypto::Certificate::from_pem(pem);
  if (!cert.ok()) return function_error("x509_decode", cert.error().message);
  X509* x = cert->get();
  bj::object o;
  o["Raw"] = base64_encode(cert->der());
  o["Version"] = static_cast<int64_t>(X509_get_version(x) + 1);
  BIGNUM* serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr);
  o["SerialNumber"] = big_number(serial);
  BN_free(serial);
  o["Issuer"] = name_json(X509_get_issuer_name(x));
  o["Subject"] = name_json(X509_get_subject_name(x));
  o["NotBefore"] = format_rfc3339(cert->not_before());
  o["NotAfter"] = format_rfc3339(cert->not_after());
  int algorithm = 0;
  VOUCH_ASSIGN_OR_RETURN(o["PublicKey"], public_key_json(X509_get0_pubkey(x), algorithm));
  o["PublicKeyAlgorithm"] = algorithm;
  uint32_t ku = X509_get_key_usage(x);
  // Go numbers KeyUsage bits from digitalSignature = 1; OpenSSL's flags use the DER bit order.
  int64_t go_ku = 0;
  const std::pair<uint32_t, int64_t> kBits[] = {{KU_DIGITAL_SIGNATURE, 1}, {KU_NON_REPUDIATION, 2}, {KU_KEY_ENCIPHERMENT, 4},
                                               {KU_DATA_ENCIPHERMENT, 8}, {KU_KEY_AGREEMENT, 16}, {KU_KEY_CERT_SIGN, 32},
                                               {KU_CRL_SIGN, 64}, {KU_ENCIPHER_ONLY, 128}, {KU_DECIPHER_ONLY, 256}};
  if (ku != UINT32_MAX) {
    for (auto [flag, bit] : kBits)
      if (ku & flag) go_ku |= bit;
  }
  o["KeyUsage"] = go_ku;
  o["IsCA"] = (X509_get_extension_flags(x) & EXFLAG_CA) != 0;  // basicConstraints cA, as Go reads it
  o["BasicConstraintsValid"] = (X509_get_extension_flags(x) & EXFLAG_BCONS) != 0;
  auto sans = cert->subject_alt_names();
  o["DNSNames"] = strings(sans.dns_names);
  o["EmailAddresses"] = strings(sans.emails);
  o["URIs"] = strings(sans.uris);
  o["SubjectKeyId"] = key_id(X509_get0_subject_key_id(x));
  o["AuthorityKeyId"] = key_id(X509_get0_authority_key_id(x));
  return bj::value(std::move(o));
}

}  // namespace vouch::policy::jmespath::kyverno
