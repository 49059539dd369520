// x509_decode: a certificate made for this test with
//   openssl req -x509 -newkey rsa:2048 -subj "/C=DE/O=Example Org/CN=policy-test" -set_serial 4660
//     -addext "subjectAltName=DNS:example.com,email:ops@example.com"
// and the modulus checked against `openssl x509 -noout -modulus`.
#include <gtest/gtest.h>

#include "vouch/policy/jmespath.h"

namespace vouch::policy::jmespath {
namespace {

constexpr const char* kCert = R"(-----BEGIN CERTIFICATE-----
MIIDajCCAlKgAwIBAgICEjQwDQYJKoZIhvcNAQELBQAwOTELMAkGA1UEBhMCREUx
FDASBgNVBAoMC0V4YW1wbGUgT3JnMRQwEgYDVQQDDAtwb2xpY3ktdGVzdDAeFw0y
NjExMjEyMTQxNTRaFw0zNjExMTgyMTQxNTRaMDkxCzAJBgNVBAYTAkRFMRQwEgYD
VQQKDAtFeGFtcGxlIE9yZzEUMBIGA1UEAwwLcG9saWN5LXRlc3QwggEiMA0GCSqG
SIb3DQEBAQUAA4IBDwAwggEKAoIBAQCJc6rnZnvoy7IXbkiDKnjNNKUPJ661UEqE
JNPqyhfAyQMpT+WAoWBNTH0X253PdJbUBgk4BX/Klu7bK2/d9Z29erFzYPAmq1qh
rkAMezYqNXsl33StdOVAFO+vo61CZPqpEkJZltnfIROd9BRo5TA4s4xIgXQ62IRI
LaL3P6jfhaopIv9ijrjVTPxI/FVRTxVvekL2x6E2pDnIj12RFfrkGF0+Karg8YFp
M/Fn25QinZUDqVSI2w7adXPT2vSfrbhFChQ09RgmX7AGbUYyPTfeYAH+GR9ch48G
HtW+yV35e407s+lBksyTepTBDrlBWwKSQOtJmiufSOJaVCXMVLWPAgMBAAGjfDB6
MB0GA1UdDgQWBBQD/dHsaTc66nJE6DLAsoptKhxkTTAfBgNVHSMEGDAWgBQD/dHs
aTc66nJE6DLAsoptKhxkTTAPBgNVHRMBAf8EBTADAQH/MCcGA1UdEQQgMB6CC2V4
YW1wbGUuY29tgQ9vcHNAZXhhbXBsZS5jb20wDQYJKoZIhvcNAQELBQADggEBADtr
Qj5y7Qw8k5cDpohkEVar8IP1bAX6BSrbwFQUZMHxZcJlfMRNHUeB93LTgxJG5pr8
mVORE5bvxmqqnXsQyIMsp2OiO2jmk9zx5huMuE/2sl7MKMYZjjiBPBRQ2nfEAFWf
ytwn9z7HdJ8FRAqKEM4ll83Kft9DFYa1/337Ne9Z0Vci/ZIoxHHsypNS3Iwa5cGN
0svVVzWkAJp7B8NxVTQh2hr6Bxwx6D8FKyN26zr37JLNUvOOSG+s7XV3aKENbGrO
9w5HXaa2uGqX1NkAe/MITkKHEOR5yfLfWGpZy6gkXkeuHtaX3g49bS7AuOmEMHxG
AzeOkUTLChb2WkxJhiY=
-----END CERTIFICATE-----)";

TEST(KyvernoX509, DecodesAsGoDoes) {
  bj::value data = bj::object{{"cert", kCert}};
  auto r = search("x509_decode(cert)", data, kyverno_functions());
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& c = r->as_object();
  EXPECT_EQ(c.at("Version").to_number<int64_t>(), 3);
  EXPECT_EQ(c.at("SerialNumber").to_number<int64_t>(), 4660);
  EXPECT_EQ(c.at("Subject").at("CommonName").as_string(), "policy-test");
  EXPECT_EQ(c.at("Subject").at("Organization").at(0).as_string(), "Example Org");
  EXPECT_EQ(c.at("Issuer").at("Country").at(0).as_string(), "DE");
  EXPECT_EQ(c.at("NotBefore").as_string(), "2026-11-21T21:41:54Z");
  EXPECT_EQ(c.at("NotAfter").as_string(), "2036-11-18T21:41:54Z");
  EXPECT_EQ(c.at("PublicKeyAlgorithm").to_number<int64_t>(), 1);
  EXPECT_EQ(c.at("PublicKey").at("N").as_string(),
            "17351685596478566541554302161575851382684584599692475304324630901208660776142389812429776624752068636832331628969960179222176733923590355604810661526804293232181655589817692416892606530582899668055191016455251110191505081160395340651381197083906608356927260837950089033070735188775617403562763114256598908538079909099792059858055776318256183648701925203915882272816039938136939799879416386975797409183331460567551195534986140629105481326935853860037526504725901510626973459646825958451616296552274921950024862297974187549924390037758858772536650691134573244596095846946668272602179201890117021780062445915737637041551");
  EXPECT_EQ(c.at("PublicKey").at("E").to_number<int64_t>(), 65537);
  EXPECT_EQ(c.at("DNSNames").at(0).as_string(), "example.com");
  EXPECT_EQ(c.at("EmailAddresses").at(0).as_string(), "ops@example.com");
  EXPECT_TRUE(c.at("IPAddresses").is_null());  // no IP SAN: Go's nil slice
  EXPECT_TRUE(c.at("IsCA").as_bool());
  EXPECT_TRUE(c.at("BasicConstraintsValid").as_bool());
  auto n = search("x509_decode(cert).Subject.Names[?Type==`[2,5,4,3]`].Value | [0]", data, kyverno_functions());
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(n->as_string(), "policy-test");
  EXPECT_FALSE(search("x509_decode('not a certificate')", bj::value(), kyverno_functions()).ok());
}

}  // namespace
}  // namespace vouch::policy::jmespath
