// Keyless image signatures: a certificate from a (synthetic) Fulcio-like CA in the classic
// layout's certificate annotation and in a bundle referrer; identity, issuer and GitHub
// workflow claims decide.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../../lib/memory_registry.h"
#include "vouch/base/json.h"
#include "vouch/cosign/payload.h"
#include "vouch/cosign/verify.h"
#include "vouch/crypto/digest.h"
#include "vouch/intoto/dsse.h"
#include "vouch/sigstore/bundle.h"
#include "vouch/sigstore/trusted_root.h"

namespace vouch::cosign {
namespace {

namespace bj = boost::json;

using testing::MemoryRegistry;

void add_ext(X509* x, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, x, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  ASSERT_NE(ext, nullptr) << value;
  X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
}

void add_raw_ext(X509* x, const char* oid, std::string_view value) {
  ASN1_OBJECT* obj = OBJ_txt2obj(oid, 1);
  ASN1_OCTET_STRING* data = ASN1_OCTET_STRING_new();
  ASN1_OCTET_STRING_set(data, reinterpret_cast<const unsigned char*>(value.data()), static_cast<int>(value.size()));
  X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, obj, 0, data);
  X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  ASN1_OCTET_STRING_free(data);
  ASN1_OBJECT_free(obj);
}

struct Pki {
  crypto::PrivateKey ca_key = *crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256);
  crypto::PrivateKey leaf_key = *crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256);
  crypto::Certificate ca, leaf;

  static crypto::Certificate to_cert(X509* x) {
    unsigned char* buf = nullptr;
    int len = i2d_X509(x, &buf);
    Bytes der(buf, buf + len);
    OPENSSL_free(buf);
    X509_free(x);
    return *crypto::Certificate::from_der(der);
  }

  Pki() {
    X509* c = X509_new();
    X509_set_version(c, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(c), 1);
    X509_gmtime_adj(X509_getm_notBefore(c), -86400);
    X509_gmtime_adj(X509_getm_notAfter(c), 86400);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(c), "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("test CA"), -1, -1, 0);
    X509_set_issuer_name(c, X509_get_subject_name(c));
    X509_set_pubkey(c, ca_key.get());
    add_ext(c, c, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(c, c, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_ext(c, c, NID_subject_key_identifier, "hash");
    X509_sign(c, ca_key.get(), EVP_sha256());
    X509* ca_x = X509_dup(c);
    ca = to_cert(c);

    X509* l = X509_new();
    X509_set_version(l, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(l), 2);
    X509_gmtime_adj(X509_getm_notBefore(l), -600);
    X509_gmtime_adj(X509_getm_notAfter(l), 600);
    X509_set_issuer_name(l, X509_get_subject_name(ca_x));
    X509_set_pubkey(l, leaf_key.get());
    add_ext(l, ca_x, NID_key_usage, "critical,digitalSignature");
    add_ext(l, ca_x, NID_ext_key_usage, "codeSigning");
    add_ext(l, ca_x, NID_authority_key_identifier, "keyid:always");
    add_ext(l, ca_x, NID_subject_alt_name, "critical,URI:https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main");
    add_raw_ext(l, "1.3.6.1.4.1.57264.1.1", "https://token.actions.githubusercontent.com");
    add_raw_ext(l, "1.3.6.1.4.1.57264.1.2", "push");
    add_raw_ext(l, "1.3.6.1.4.1.57264.1.5", "acme/app");
    add_raw_ext(l, "1.3.6.1.4.1.57264.1.6", "refs/heads/main");
    X509_sign(l, ca_key.get(), EVP_sha256());
    X509_free(ca_x);
    leaf = to_cert(l);
  }

  std::shared_ptr<const sigstore::TrustedRoot> root() const {
    sigstore::TrustedRoot r;
    sigstore::CertificateAuthority ca_entry;
    ca_entry.chain = {ca};
    ca_entry.valid_for.start = 0;
    r.certificate_authorities.push_back(ca_entry);
    return std::make_shared<const sigstore::TrustedRoot>(std::move(r));
  }
};

oci::Reference image_ref() { return *oci::parse_reference("127.0.0.1:5000/acme/app:v1"); }

VerifyOptions keyless(const Pki& pki, std::string identity, std::string issuer) {
  VerifyOptions o;
  o.identities.push_back({sigstore::StringMatcher::exact(std::move(identity)), sigstore::StringMatcher::exact(std::move(issuer))});
  o.trusted_material = pki.root();
  o.ignore_tlog = true;
  o.ignore_sct = true;
  return o;
}

constexpr const char* kIdentity = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main";
constexpr const char* kIssuer = "https://token.actions.githubusercontent.com";

// One classic certificate signature and one bundle referrer, both by the leaf.
MemoryRegistry signed_store(const Pki& pki, const oci::Digest& image) {
  MemoryRegistry s;
  std::string payload = simple_signing_payload(cosign_repository_name(image_ref()), image, {});
  oci::Descriptor layer = s.add_blob(media_type::kSimpleSigning, payload);
  layer.annotations[std::string(annotation::kSignature)] = base64_encode(*pki.leaf_key.sign(as_bytes(payload)));
  layer.annotations[std::string(annotation::kCertificate)] = pki.leaf.pem();
  layer.annotations[std::string(annotation::kChain)] = pki.ca.pem();
  oci::Descriptor config = s.add_blob(oci::media_type::kOciConfig, "{}");
  bj::object m{{"schemaVersion", 2}, {"mediaType", std::string(oci::media_type::kOciManifest)},
               {"config", config.to_json()}, {"layers", bj::array{layer.to_json()}}};
  s.tag_bytes(oci::digest_tag(image, ".sig"), json::serialize(m));

  sigstore::Bundle b;
  b.media_type = std::string(sigstore::kBundleMediaTypeV03);
  b.material.certificate = pki.leaf;
  b.content = *intoto::sign_envelope(intoto::kInTotoPayloadType, as_bytes(sign_statement(image, {})), pki.leaf_key);
  oci::Descriptor bl = s.add_blob(media_type::kBundleV03, sigstore::serialize_bundle(b));
  oci::Descriptor empty = s.add_blob(oci::media_type::kOciEmpty, "{}");
  oci::Descriptor subject;
  subject.media_type = std::string(oci::media_type::kOciManifest);
  subject.digest = image;
  subject.size = 100;
  bj::object rm{{"schemaVersion", 2}, {"mediaType", std::string(oci::media_type::kOciManifest)},
                {"artifactType", std::string(media_type::kBundleV03)}, {"config", empty.to_json()},
                {"layers", bj::array{bl.to_json()}}, {"subject", subject.to_json()}};
  std::string rbytes = json::serialize(rm);
  auto parsed = *oci::parse_manifest(rbytes);
  s.manifests[parsed.digest.str()] = rbytes;
  oci::Descriptor rd = parsed.descriptor();
  rd.artifact_type = std::string(oci::media_type::kOciEmpty);
  bj::object idx{{"schemaVersion", 2}, {"mediaType", std::string(oci::media_type::kOciIndex)},
                 {"manifests", bj::array{rd.to_json()}}};
  s.tag_bytes(oci::digest_tag(image), json::serialize(idx));
  return s;
}

TEST(CosignKeyless, CertificateIdentityDecidesInBothLayouts) {
  Pki pki;
  auto image = oci::Digest::sha256_from_hex(std::string(64, 'e'));
  MemoryRegistry store = signed_store(pki, image);
  auto r = verify_signatures_in(store, image_ref(), image, keyless(pki, kIdentity, kIssuer));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->verified.size(), 2u) << r->failure_summary();
  for (const auto& v : r->verified) {
    EXPECT_EQ(v.signer_identity.value_or(""), kIdentity);
    EXPECT_EQ(v.signer_issuer.value_or(""), kIssuer);
  }
  EXPECT_EQ(r->verified[0].layout, Layout::kClassic);
  EXPECT_EQ(r->verified[1].layout, Layout::kBundle);
  // As cosign verify prints them: the signer in "optional".
  for (const auto& v : r->verified) {
    const auto& opt = v.json.as_object().at("optional").as_object();
    EXPECT_EQ(opt.at("Subject").as_string(), kIdentity);
    EXPECT_EQ(opt.at("Issuer").as_string(), kIssuer);
  }

  auto wrong_id = verify_signatures_in(store, image_ref(), image, keyless(pki, "https://github.com/evil/x", kIssuer));
  ASSERT_TRUE(wrong_id.ok());
  EXPECT_FALSE(wrong_id->ok());
  EXPECT_EQ(wrong_id->rejected.size(), 2u) << wrong_id->failure_summary();
  auto wrong_issuer = verify_signatures_in(store, image_ref(), image, keyless(pki, kIdentity, "https://accounts.google.com"));
  ASSERT_TRUE(wrong_issuer.ok());
  EXPECT_FALSE(wrong_issuer->ok());

  // Another CA in the trusted root: the chain does not verify.
  Pki other;
  VerifyOptions foreign = keyless(pki, kIdentity, kIssuer);
  foreign.trusted_material = other.root();
  auto f = verify_signatures_in(store, image_ref(), image, foreign);
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->ok());
  EXPECT_NE(f->failure_summary().find("certificate chain"), std::string::npos) << f->failure_summary();

  // The SCT is required unless ignored.
  VerifyOptions with_sct = keyless(pki, kIdentity, kIssuer);
  with_sct.ignore_sct = false;
  auto sct = verify_signatures_in(store, image_ref(), image, with_sct);
  ASSERT_TRUE(sct.ok());
  EXPECT_FALSE(sct->ok());
}

TEST(CosignKeyless, GithubWorkflowClaims) {
  Pki pki;
  auto image = oci::Digest::sha256_from_hex(std::string(64, 'f'));
  MemoryRegistry store = signed_store(pki, image);
  VerifyOptions o = keyless(pki, kIdentity, kIssuer);
  o.github_claims.trigger = "push";
  o.github_claims.repository = "acme/app";
  o.github_claims.ref = "refs/heads/main";
  auto ok = verify_signatures_in(store, image_ref(), image, o);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->verified.size(), 2u) << ok->failure_summary();
  o.github_claims.repository = "acme/other";
  auto bad = verify_signatures_in(store, image_ref(), image, o);
  ASSERT_TRUE(bad.ok());
  EXPECT_FALSE(bad->ok());
  EXPECT_NE(bad->failure_summary().find("GitHub workflow repository is 'acme/app', want 'acme/other'"), std::string::npos)
      << bad->failure_summary();
}

}  // namespace
}  // namespace vouch::cosign

namespace vouch::cosign {
namespace {

// A private root and another together: signatures chaining to either verify.
TEST(CosignKeyless, EveryRootOfACollectionIsTrusted) {
  Pki pki, other;
  auto image = oci::Digest::sha256_from_hex(std::string(64, 'e'));
  MemoryRegistry store = signed_store(pki, image);
  using Members = std::vector<std::shared_ptr<const sigstore::TrustedMaterial>>;
  VerifyOptions both = keyless(pki, kIdentity, kIssuer);
  both.trusted_material = std::make_shared<const sigstore::TrustedMaterialCollection>(Members{other.root(), pki.root()});
  auto r = verify_signatures_in(store, image_ref(), image, both);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->verified.size(), 2u) << r->failure_summary();

  VerifyOptions neither = keyless(pki, kIdentity, kIssuer);
  neither.trusted_material = std::make_shared<const sigstore::TrustedMaterialCollection>(Members{other.root()});
  auto f = verify_signatures_in(store, image_ref(), image, neither);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_FALSE(f->ok());
  EXPECT_NE(f->failure_summary().find("certificate chain"), std::string::npos) << f->failure_summary();
}

}  // namespace
}  // namespace vouch::cosign
