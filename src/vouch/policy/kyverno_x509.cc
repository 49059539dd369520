// Kyverno's x509_decode (JMESPath): a PEM certificate as the JSON of Go's x509.Certificate (the
// fields policies read: Version, SerialNumber, Subject, Issuer, NotBefore, NotAfter, PublicKey,
// PublicKeyAlgorithm, DNSNames, EmailAddresses, URIs, IPAddresses, IsCA, KeyUsage, key ids).
// Big integers (serial numbers, RSA moduli, EC coordinates) are decimal strings, since JSON
// numbers cannot hold them. And Kyverno's CEL x509.decode: an RSA certificate as its
// CertificateOutput.
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

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

// An OID as Go's asn1.ObjectIdentifier marshals it: a list of its arcs.
bj::array oid_arcs(const ASN1_OBJECT* obj) {
  char text[128];
  OBJ_obj2txt(text, sizeof text, obj, 1);
  bj::array arcs;
  std::string_view o(text);
  size_t start = 0;
  while (start < o.size()) {
    size_t dot = o.find('.', start);
    if (dot == std::string_view::npos) dot = o.size();
    int64_t arc = 0;
    for (char c : o.substr(start, dot - start)) arc = arc * 10 + (c - '0');
    arcs.push_back(bj::value(arc));
    start = dot + 1;
  }
  return arcs;
}

// Go's KeyUsage: bits numbered from digitalSignature = 1; OpenSSL's flags use the DER bit order.
int64_t go_key_usage(X509* x) {
  uint32_t ku = X509_get_key_usage(x);
  if (ku == UINT32_MAX) return 0;
  const std::pair<uint32_t, int64_t> kBits[] = {{KU_DIGITAL_SIGNATURE, 1}, {KU_NON_REPUDIATION, 2}, {KU_KEY_ENCIPHERMENT, 4},
                                               {KU_DATA_ENCIPHERMENT, 8}, {KU_KEY_AGREEMENT, 16}, {KU_KEY_CERT_SIGN, 32},
                                               {KU_CRL_SIGN, 64}, {KU_ENCIPHER_ONLY, 128}, {KU_DECIPHER_ONLY, 256}};
  int64_t out = 0;
  for (auto [flag, bit] : kBits)
    if (ku & flag) out |= bit;
  return out;
}

template <typename T, typename F>
std::unique_ptr<T, F> owned(T* p, F free) {
  return std::unique_ptr<T, F>(p, free);
}

// The IP address SANs as Go's net.IP writes them.
bj::value ip_addresses(X509* x) {
  std::vector<std::string> ips;
  if (auto names = owned(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr)),
                         GENERAL_NAMES_free)) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
      GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
      if (gn->type != GEN_IPADD) continue;
      const unsigned char* a = ASN1_STRING_get0_data(gn->d.iPAddress);
      int len = ASN1_STRING_length(gn->d.iPAddress);
      char text[INET6_ADDRSTRLEN] = {0};
      if (len == 4) inet_ntop(AF_INET, a, text, sizeof text);
      else if (len == 16) inet_ntop(AF_INET6, a, text, sizeof text);
      else continue;
      ips.push_back(text);
    }
  }
  return strings(ips);
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
    names.push_back(bj::object{{"Type", oid_arcs(X509_NAME_ENTRY_get_object(e))}, {"Value", value}});
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
  o["KeyUsage"] = go_key_usage(x);
  o["IsCA"] = (X509_get_extension_flags(x) & EXFLAG_CA) != 0;  // basicConstraints cA, as Go reads it
  o["BasicConstraintsValid"] = (X509_get_extension_flags(x) & EXFLAG_BCONS) != 0;
  auto sans = cert->subject_alt_names();
  o["DNSNames"] = strings(sans.dns_names);
  o["EmailAddresses"] = strings(sans.emails);
  o["URIs"] = strings(sans.uris);
  o["IPAddresses"] = ip_addresses(x);
  o["SubjectKeyId"] = key_id(X509_get0_subject_key_id(x));
  o["AuthorityKeyId"] = key_id(X509_get0_authority_key_id(x));
  return bj::value(std::move(o));
}

namespace {

std::string der_base64(const unsigned char* data, int len) {
  return len > 0 ? base64_encode(ByteView(data, static_cast<size_t>(len))) : "";
}

// Go's ExtKeyUsage numbers, by OpenSSL NID (others are Go's UnknownExtKeyUsage, not listed).
int64_t go_ext_key_usage(int nid) {
  switch (nid) {
    case NID_anyExtendedKeyUsage: return 0;
    case NID_server_auth: return 1;
    case NID_client_auth: return 2;
    case NID_code_sign: return 3;
    case NID_email_protect: return 4;
    case NID_ipsecEndSystem: return 5;
    case NID_ipsecTunnel: return 6;
    case NID_ipsecUser: return 7;
    case NID_time_stamp: return 8;
    case NID_OCSP_sign: return 9;
    case NID_ms_sgc: return 10;
    case NID_ns_sgc: return 11;
    case NID_ms_code_com: return 12;
    default: return -1;
  }
}

std::string general_name_uri(GENERAL_NAME* gn) {
  if (gn->type != GEN_URI) return "";
  const ASN1_IA5STRING* s = gn->d.uniformResourceIdentifier;
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<size_t>(ASN1_STRING_length(s)));
}

// The PEM block's type ("CERTIFICATE", ...) of the first block, as Go's pem.Decode finds it.
std::optional<std::string> pem_type(std::string_view pem) {
  constexpr std::string_view kBegin = "-----BEGIN ";
  size_t at = pem.find(kBegin);
  if (at == std::string_view::npos) return std::nullopt;
  size_t end = pem.find("-----", at + kBegin.size());
  if (end == std::string_view::npos) return std::nullopt;
  return std::string(pem.substr(at + kBegin.size(), end - at - kBegin.size()));
}

}  // namespace

Result<bj::value> cel_x509_decode(std::string_view pem) {
  auto type = pem_type(pem);
  if (!type) return invalid_input("failed to decode PEM block");
  if (*type == "CERTIFICATE REQUEST")
    return invalid_input("x509.decode: certificate requests are not supported by vouch (certificates are)");
  if (*type != "CERTIFICATE") return invalid_input("PEM block neither contains a CERTIFICATE or CERTIFICATE REQUEST");
  auto cert = crypto::Certificate::from_pem(pem);
  if (!cert.ok()) return invalid_input(cert.error().message);
  X509* x = cert->get();
  EVP_PKEY* pkey = X509_get0_pubkey(x);
  if (!pkey || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) return invalid_input("certificate should use rsa algorithm");
  // Name constraints would fill fields vouch does not write: refused rather than left empty.
  if (X509_get_ext_by_NID(x, NID_name_constraints, -1) >= 0)
    return invalid_input("x509.decode: certificates with name constraints are not supported by vouch");

  bj::object o;
  o["Raw"] = base64_encode(cert->der());
  o["RawTBSCertificate"] = base64_encode(cert->tbs_der());
  {
    unsigned char* spki = nullptr;
    int len = i2d_PUBKEY(pkey, &spki);
    o["RawSubjectPublicKeyInfo"] = der_base64(spki, len);
    OPENSSL_free(spki);
    unsigned char* subject = nullptr;
    len = i2d_X509_NAME(X509_get_subject_name(x), &subject);
    o["RawSubject"] = der_base64(subject, len);
    OPENSSL_free(subject);
    unsigned char* issuer = nullptr;
    len = i2d_X509_NAME(X509_get_issuer_name(x), &issuer);
    o["RawIssuer"] = der_base64(issuer, len);
    OPENSSL_free(issuer);
  }
  const ASN1_BIT_STRING* signature = nullptr;
  X509_get0_signature(&signature, nullptr, x);
  o["Signature"] = der_base64(ASN1_STRING_get0_data(signature), ASN1_STRING_length(signature));
  o["PublicKeyAlgorithm"] = 1;  // x509.RSA
  {
    BIGNUM* n = nullptr;
    BIGNUM* e = nullptr;
    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n);
    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e);
    o["PublicKey"] = bj::object{{"N", bn_decimal(n)}, {"E", static_cast<int64_t>(e ? BN_get_word(e) : 0)}};
    BN_free(n);
    BN_free(e);
  }
  {
    // big.Int's Int64: the low 64 bits, with the sign applied.
    BIGNUM* serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr);
    uint64_t low = 0;
    int bytes = serial ? BN_num_bytes(serial) : 0;
    std::vector<unsigned char> buf(static_cast<size_t>(bytes));
    if (bytes > 0) BN_bn2bin(serial, buf.data());
    for (size_t i = buf.size() > 8 ? buf.size() - 8 : 0; i < buf.size(); ++i) low = (low << 8) | buf[i];
    int64_t v = static_cast<int64_t>(low);
    o["SerialNumber"] = serial && BN_is_negative(serial) ? -v : v;
    BN_free(serial);
  }
  o["Issuer"] = name_json(X509_get_issuer_name(x));
  o["NotBefore"] = format_rfc3339(cert->not_before());
  o["NotAfter"] = format_rfc3339(cert->not_after());
  o["KeyUsage"] = go_key_usage(x);

  bj::array extensions;
  for (int i = 0; i < X509_get_ext_count(x); ++i) {
    X509_EXTENSION* ext = X509_get_ext(x, i);
    const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(ext);
    extensions.push_back(bj::object{{"Id", oid_arcs(X509_EXTENSION_get_object(ext))},
                                    {"Critical", X509_EXTENSION_get_critical(ext) != 0},
                                    {"Value", der_base64(ASN1_STRING_get0_data(value), ASN1_STRING_length(value))}});
  }
  o["Extensions"] = extensions.empty() ? bj::value() : bj::value(std::move(extensions));
  o["ExtraExtensions"] = nullptr;

  bj::array eku;
  if (auto usages = owned(static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(x, NID_ext_key_usage, nullptr, nullptr)),
                          EXTENDED_KEY_USAGE_free)) {
    for (int i = 0; i < sk_ASN1_OBJECT_num(usages.get()); ++i)
      if (int64_t go = go_ext_key_usage(OBJ_obj2nid(sk_ASN1_OBJECT_value(usages.get(), i))); go >= 0) eku.push_back(go);
  }
  o["ExtKeyUsage"] = eku.empty() ? bj::value() : bj::value(std::move(eku));

  // Basic constraints as Go reads them: MaxPathLen -1 when the extension has no pathLen.
  bool bc_valid = false, is_ca = false, path_len_zero = false;
  int64_t max_path_len = 0;
  if (auto bc = owned(static_cast<BASIC_CONSTRAINTS*>(X509_get_ext_d2i(x, NID_basic_constraints, nullptr, nullptr)),
                      BASIC_CONSTRAINTS_free)) {
    bc_valid = true;
    is_ca = bc->ca != 0;
    if (bc->pathlen) {
      max_path_len = ASN1_INTEGER_get(bc->pathlen);
      path_len_zero = max_path_len == 0;
    } else {
      max_path_len = -1;
    }
  }
  o["BasicConstraintsValid"] = bc_valid;
  o["IsCA"] = is_ca;
  o["MaxPathLen"] = max_path_len;
  o["MaxPathLenZero"] = path_len_zero;
  std::string akid = key_id(X509_get0_authority_key_id(x));
  o["AuthorityKeyId"] = akid.empty() ? bj::value() : bj::value(akid);

  std::vector<std::string> ocsp, issuers, crls;
  if (auto aia = owned(static_cast<AUTHORITY_INFO_ACCESS*>(X509_get_ext_d2i(x, NID_info_access, nullptr, nullptr)),
                       AUTHORITY_INFO_ACCESS_free)) {
    for (int i = 0; i < sk_ACCESS_DESCRIPTION_num(aia.get()); ++i) {
      ACCESS_DESCRIPTION* ad = sk_ACCESS_DESCRIPTION_value(aia.get(), i);
      std::string uri = general_name_uri(ad->location);
      if (uri.empty()) continue;
      int nid = OBJ_obj2nid(ad->method);
      if (nid == NID_ad_OCSP) ocsp.push_back(uri);
      else if (nid == NID_ad_ca_issuers) issuers.push_back(uri);
    }
  }
  if (auto dps = owned(static_cast<CRL_DIST_POINTS*>(X509_get_ext_d2i(x, NID_crl_distribution_points, nullptr, nullptr)),
                       CRL_DIST_POINTS_free)) {
    for (int i = 0; i < sk_DIST_POINT_num(dps.get()); ++i) {
      DIST_POINT* dp = sk_DIST_POINT_value(dps.get(), i);
      if (!dp->distpoint || dp->distpoint->type != 0) continue;
      GENERAL_NAMES* names = dp->distpoint->name.fullname;
      for (int j = 0; j < sk_GENERAL_NAME_num(names); ++j)
        if (std::string uri = general_name_uri(sk_GENERAL_NAME_value(names, j)); !uri.empty()) crls.push_back(uri);
    }
  }
  o["OCSPServer"] = strings(ocsp);
  o["IssuingCertificateURL"] = strings(issuers);
  auto sans = cert->subject_alt_names();
  o["DNSNames"] = strings(sans.dns_names);
  o["EmailAddresses"] = strings(sans.emails);
  o["IPAddresses"] = ip_addresses(x);
  o["PermittedDNSDomainsCritical"] = false;
  for (const char* key : {"PermittedDNSDomains", "ExcludedDNSDomains", "PermittedIPRanges", "ExcludedIPRanges",
                          "PermittedEmailAddresses", "ExcludedEmailAddresses", "PermittedURIDomains", "ExcludedURIDomains"})
    o[key] = nullptr;
  o["CRLDistributionPoints"] = strings(crls);
  bj::array policies;
  if (auto cps = owned(static_cast<CERTIFICATEPOLICIES*>(X509_get_ext_d2i(x, NID_certificate_policies, nullptr, nullptr)),
                       CERTIFICATEPOLICIES_free)) {
    for (int i = 0; i < sk_POLICYINFO_num(cps.get()); ++i) policies.push_back(oid_arcs(sk_POLICYINFO_value(cps.get(), i)->policyid));
  }
  o["PolicyIdentifiers"] = policies.empty() ? bj::value() : bj::value(std::move(policies));
  return bj::value(std::move(o));
}

}  // namespace vouch::policy::jmespath::kyverno
