// The CA behind Fulcio's API with a real token verifier and CT log: what a keyless client gets
// (a chain with embedded SCTs that verifies), and what it is refused, with the reason.
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "../temp_dir.h"
#include "issuer_server.h"
#include "vouch/base/json.h"
#include "vouch/ca/ca_server.h"
#include "vouch/crypto/fulcio.h"
#include "vouch/crypto/sct.h"

namespace vouch::ca {
namespace {

namespace bj = boost::json;
using testing::IssuerServer;

class FulcioApiTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }

  void open(bool ct_log = true) {
    server_.reset();
    CaServerOptions o;
    o.dir = dir_.path() / "ca";
    IssuerConfig email;
    email.issuer_url = issuer_.url();
    o.issuers = {email};
    o.ct_log = ct_log;
    auto s = CaServer::open(o);
    ASSERT_TRUE(s.ok()) << s.error().message;
    server_ = std::move(*s);
  }

  std::string token(bj::object claims = {{"sub", "user-1"}, {"email", "dev@example.com"}, {"email_verified", true}}) {
    return issuer_.issuer().issue(claims).value();
  }

  net::HttpResponse post(const std::string& path, const bj::value& body, std::string bearer = {}) {
    net::HttpRequest r = testing::make_request("POST", path, "application/json", json::serialize(body));
    if (!bearer.empty()) r.headers.emplace_back("authorization", "Bearer " + bearer);
    net::HttpResponse out;
    server_->handler()(r, [&](net::HttpResponse response) { out = std::move(response); });
    return out;
  }

  // A v2 request for `key`, proving possession by signing `challenge`.
  bj::object request_for(const crypto::PrivateKey& key, std::string_view challenge, std::string tok) {
    Bytes proof = key.sign(as_bytes(challenge)).value();
    bj::object r{{"publicKeyRequest", bj::object{{"publicKey", bj::object{{"algorithm", "ECDSA"}, {"content", key.public_key().pem()}}},
                                                 {"proofOfPossession", base64_encode(proof)}}}};
    if (!tok.empty()) r["credentials"] = bj::object{{"oidcIdentityToken", tok}};
    return r;
  }

  static std::vector<crypto::Certificate> chain_of(const net::HttpResponse& response, std::string_view kind) {
    auto doc = json::parse(response.body).value().as_object();
    std::vector<crypto::Certificate> out;
    for (const auto& pem : doc.at(kind).as_object().at("chain").as_object().at("certificates").as_array())
      out.push_back(crypto::Certificate::from_pem(std::string(pem.as_string())).value());
    return out;
  }

  static std::string message_of(const net::HttpResponse& response) {
    return std::string(json::parse(response.body).value().as_object().at("message").as_string());
  }

  vouch::testing::TempDir dir_;
  IssuerServer issuer_;
  std::unique_ptr<CaServer> server_;
  crypto::PrivateKey key_ = crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256).value();
};

TEST_F(FulcioApiTest, IssuesATenMinuteCertificateWithAnEmbeddedSct) {
  auto response = post("/api/v2/signingCert", request_for(key_, "dev@example.com", token()));
  ASSERT_EQ(response.status, 200) << response.body;
  auto chain = chain_of(response, "signedCertificateEmbeddedSct");
  ASSERT_EQ(chain.size(), 3u);
  const auto& leaf = chain[0];
  EXPECT_EQ(leaf.not_after() - leaf.not_before(), 600);
  EXPECT_TRUE(leaf.has_code_signing_eku());
  EXPECT_EQ(leaf.subject(), "");
  EXPECT_EQ(leaf.subject_alt_names().emails, std::vector<std::string>{"dev@example.com"});
  EXPECT_TRUE(leaf.public_key().equals(key_.public_key()));
  auto ext = crypto::parse_fulcio_extensions(leaf).value();
  EXPECT_EQ(ext.issuer, issuer_.url());
  EXPECT_EQ(ext.token_subject, "user-1");
  // The chain verifies, and the SCT is the CT log's over the precertificate.
  ASSERT_TRUE(crypto::verify_chain(leaf, {chain[1]}, {chain[2]}, leaf.not_before()).ok());
  auto scts = crypto::verify_embedded_scts(leaf, chain[1], {server_->ct_log()->trust_entry()});
  EXPECT_TRUE(scts.ok()) << scts.error().message;
  EXPECT_EQ(server_->ct_log()->log().head().size, 1u);

  // The token may come in the Authorization header instead.
  auto via_header = post("/api/v2/signingCert", request_for(key_, "dev@example.com", ""), token());
  EXPECT_EQ(via_header.status, 200) << via_header.body;
}

TEST_F(FulcioApiTest, CertificateSigningRequestProvesPossession) {
  // A CSR made by OpenSSL itself: its self-signature is the proof.
  X509_REQ* req = X509_REQ_new();
  X509_REQ_set_pubkey(req, key_.get());
  X509_REQ_sign(req, key_.get(), EVP_sha256());
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509_REQ(bio, req);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  X509_REQ_free(req);
  bj::object body{{"credentials", bj::object{{"oidcIdentityToken", token()}}},
                  {"certificateSigningRequest", base64_encode(as_bytes(pem))}};
  auto response = post("/api/v2/signingCert", body);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_TRUE(chain_of(response, "signedCertificateEmbeddedSct")[0].public_key().equals(key_.public_key()));
}

TEST_F(FulcioApiTest, RefusesAndNamesWhy) {
  auto refused = [&](const net::HttpResponse& r, std::string_view needle) {
    EXPECT_EQ(r.status, 400) << r.body;
    auto doc = json::parse(r.body).value().as_object();
    EXPECT_EQ(doc.at("code").as_int64(), 3);
    EXPECT_NE(message_of(r).find(needle), std::string::npos) << r.body;
  };
  // Proof of possession over another identity than the token's.
  refused(post("/api/v2/signingCert", request_for(key_, "someone@example.com", token())),
          "The signature supplied in the request could not be verified");
  // Signed by another key than the one to certify.
  {
    auto other = crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256).value();
    auto body = request_for(key_, "dev@example.com", token());
    body["publicKeyRequest"].as_object()["proofOfPossession"] = base64_encode(other.sign(as_bytes(std::string_view("dev@example.com"))).value());
    refused(post("/api/v2/signingCert", body), "could not be verified");
  }
  refused(post("/api/v2/signingCert", request_for(key_, "dev@example.com", "")), "no identity token");
  refused(post("/api/v2/signingCert", request_for(key_, "dev@example.com", token({{"sub", "u"}, {"email", "dev@example.com"}}))),
          "email_verified");
  refused(post("/api/v2/signingCert", request_for(key_, "dev@example.com", token({{"sub", "u"}, {"email", "dev@example.com"}, {"email_verified", true}, {"aud", "other"}}))),
          "audience");
  {
    auto body = request_for(key_, "dev@example.com", token());
    body["unexpected"] = 1;
    refused(post("/api/v2/signingCert", body), "unknown field \"unexpected\"");
  }
  {
    auto body = request_for(key_, "dev@example.com", token());
    body["publicKeyRequest"].as_object()["publicKey"].as_object()["content"] = "not a key";
    refused(post("/api/v2/signingCert", body), "The public key supplied in the request could not be parsed");
  }
  EXPECT_EQ(server_->ct_log()->log().head().size, 0u) << "nothing refused reaches the CT log";
}

TEST_F(FulcioApiTest, LegacyApiTrustBundleAndConfiguration) {
  // v1: the token in the header, the key as base64 DER or PEM bytes, 201 with a PEM chain.
  Bytes proof = key_.sign(as_bytes(std::string_view("dev@example.com"))).value();
  bj::object v1{{"publicKey", bj::object{{"algorithm", "ecdsa"}, {"content", base64_encode(key_.public_key().der())}}},
                {"signedEmailAddress", base64_encode(proof)}};
  auto legacy = post("/api/v1/signingCert", v1, token());
  ASSERT_EQ(legacy.status, 201) << legacy.body;
  EXPECT_EQ(legacy.content_type, "application/pem-certificate-chain");
  EXPECT_EQ(crypto::Certificate::all_from_pem(legacy.body).value().size(), 3u);

  net::HttpResponse bundle;
  server_->handler()(testing::make_request("GET", "/api/v2/trustBundle"),
                     [&](net::HttpResponse r) { bundle = std::move(r); });
  ASSERT_EQ(bundle.status, 200);
  auto chains = json::parse(bundle.body).value().as_object().at("chains").as_array();
  ASSERT_EQ(chains.size(), 1u);
  EXPECT_EQ(chains[0].as_object().at("certificates").as_array().size(), 2u);

  net::HttpResponse config;
  server_->handler()(testing::make_request("GET", "/api/v2/configuration"),
                     [&](net::HttpResponse r) { config = std::move(r); });
  auto issuers = json::parse(config.body).value().as_object().at("issuers").as_array();
  ASSERT_EQ(issuers.size(), 1u);
  EXPECT_EQ(issuers[0].as_object().at("issuerUrl").as_string(), issuer_.url());
  EXPECT_EQ(issuers[0].as_object().at("challengeClaim").as_string(), "email");
}

TEST_F(FulcioApiTest, RestartKeepsTheCaAndItsLog) {
  ASSERT_EQ(post("/api/v2/signingCert", request_for(key_, "dev@example.com", token())).status, 200);
  const Bytes root = server_->ca().chain().back().der();
  const Bytes log_id = server_->ct_log()->log_id();
  EXPECT_TRUE(server_->created());
  open();
  EXPECT_FALSE(server_->created());
  EXPECT_EQ(server_->ca().chain().back().der(), root);
  EXPECT_EQ(server_->ct_log()->log_id(), log_id);
  EXPECT_EQ(server_->ct_log()->log().head().size, 1u);
}

TEST_F(FulcioApiTest, WithoutACtLogTheCertificateIsDetached) {
  open(false);
  auto response = post("/api/v2/signingCert", request_for(key_, "dev@example.com", token()));
  ASSERT_EQ(response.status, 200) << response.body;
  auto chain = chain_of(response, "signedCertificateDetachedSct");
  EXPECT_FALSE(chain[0].extension(crypto::kEmbeddedSctOid).has_value());
}

TEST(CertificateAuthorityDir, IncompleteDirectoryIsRefused) {
  vouch::testing::TempDir dir;
  CaOptions o;
  o.dir = dir.path();
  ASSERT_TRUE(CertificateAuthority::open(o).ok());
  std::filesystem::remove(dir.path() / "intermediate_key.pem");
  auto reopened = CertificateAuthority::open(o);
  ASSERT_FALSE(reopened.ok());
  EXPECT_NE(reopened.error().message.find("missing intermediate_key.pem"), std::string::npos) << reopened.error().message;
  EXPECT_EQ(std::filesystem::status(dir.path() / "root_key.pem").permissions() & std::filesystem::perms::group_read,
            std::filesystem::perms::none);
}

}  // namespace
}  // namespace vouch::ca
