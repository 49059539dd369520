// The log's side of SCTs: TLS encodings, signing for x509 and precertificate entries (checked
// with vouch's verifier and with OpenSSL's own CT validation), and the checks on submitted chains.
#include <gtest/gtest.h>
#include <openssl/ct.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>

#include "../temp_dir.h"
#include "vouch/base/file.h"
#include "vouch/crypto/certificate_builder.h"
#include "vouch/crypto/digest.h"
#include "vouch/crypto/sct.h"

namespace vouch::crypto {
namespace {

const PrivateKey& key(int which) {
  static std::map<int, PrivateKey> keys;
  auto it = keys.find(which);
  if (it == keys.end()) {
    auto k = PrivateKey::generate(KeyType::kEcdsaP256);
    EXPECT_TRUE(k.ok()) << k.error().message;
    it = keys.emplace(which, *k).first;
  }
  return it->second;
}

uint64_t now_ms() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

// A root and intermediate; keys 0 and 1 (or 10 and 11 for `other`).
CaPair make_ca(bool other = false) {
  CaPairOptions options;
  options.root_subject = {{"O", "vouch.test"}, {"CN", other ? "other-root" : "sct-root"}};
  options.intermediate_subject = {{"O", "vouch.test"}, {"CN", other ? "other-intermediate" : "sct-intermediate"}};
  options.not_before = now_unix() - 86400;
  options.not_after = now_unix() + 365 * 86400;
  auto pair = create_ca_pair(key(other ? 10 : 0), key(other ? 11 : 1), options);
  EXPECT_TRUE(pair.ok()) << pair.error().message;
  return *pair;
}

CertificateTemplate leaf_template() {
  CertificateTemplate t;
  t.serial = Bytes{0x01, 0x23, 0x45, 0x67, 0x89};
  t.not_before = now_unix() - 60;
  t.not_after = now_unix() + 600;
  t.public_key = key(2).public_key();
  t.key_usage.digital_signature = true;
  t.code_signing_eku = true;
  t.subject_alt_names.emails = {"alice@example.com"};
  t.fulcio.issuer = "https://accounts.example.com";
  return t;
}

Certificate issue(const CaPair& ca, const CertificateTemplate& t, bool other = false) {
  auto c = sign_certificate(t, key(other ? 11 : 1), ca.intermediate);
  EXPECT_TRUE(c.ok()) << c.error().message;
  return *c;
}

CtLog trust(const PrivateKey& log_key) {
  return CtLog{sha256(log_key.public_key().der()), log_key.public_key(), now_unix() - 3600, std::nullopt};
}

Bytes hex(std::string_view text) {
  auto b = hex_decode(text);
  EXPECT_TRUE(b.ok()) << text;
  return b.ok() ? *b : Bytes{};
}

// OpenSSL's own CT code (SCT_LIST_validate, which rebuilds the precertificate and the signed
// struct itself) checks the embedded SCTs of `cert` against the log key.
bool openssl_validates(const Certificate& cert, const Certificate& issuer, const PrivateKey& log_key) {
  // A CTLOG_STORE is filled from a file only.
  vouch::testing::TempDir dir;
  const auto file = dir.path() / "ct_log_list.cnf";
  const std::string conf = "enabled_logs = test\n[test]\ndescription = vouch test log\nkey = " +
                           base64_encode(log_key.public_key().der()) + "\n";
  if (!write_file_atomic(file, conf).ok()) return false;
  std::unique_ptr<CTLOG_STORE, decltype(&CTLOG_STORE_free)> store(CTLOG_STORE_new(), CTLOG_STORE_free);
  if (CTLOG_STORE_load_file(store.get(), file.c_str()) != 1) {
    ADD_FAILURE() << "OpenSSL cannot load the CT log list";
    return false;
  }
  auto* scts = static_cast<STACK_OF(SCT)*>(X509_get_ext_d2i(cert.get(), NID_ct_precert_scts, nullptr, nullptr));
  if (!scts) return false;
  CT_POLICY_EVAL_CTX* ctx = CT_POLICY_EVAL_CTX_new();
  CT_POLICY_EVAL_CTX_set1_cert(ctx, cert.get());
  CT_POLICY_EVAL_CTX_set1_issuer(ctx, issuer.get());
  CT_POLICY_EVAL_CTX_set_shared_CTLOG_STORE(ctx, store.get());
  CT_POLICY_EVAL_CTX_set_time(ctx, now_ms() + 1000);
  bool ok = SCT_LIST_validate(scts, ctx) == 1;
  for (int i = 0; i < sk_SCT_num(scts); ++i)
    ok = ok && SCT_get_validation_status(sk_SCT_value(scts, i)) == SCT_VALIDATION_STATUS_VALID;
  CT_POLICY_EVAL_CTX_free(ctx);
  SCT_LIST_free(scts);
  ERR_clear_error();
  return ok;
}

// `cert` with one more extension, signed again by `issuer_key` (built with OpenSSL, since the
// certificate builder writes only well-formed CT extensions).
Certificate with_extension(const Certificate& cert, int nid, bool critical, const Bytes& value,
                           const PrivateKey& issuer_key) {
  std::unique_ptr<X509, decltype(&X509_free)> copy(X509_dup(cert.get()), X509_free);
  std::unique_ptr<ASN1_OCTET_STRING, decltype(&ASN1_OCTET_STRING_free)> data(ASN1_OCTET_STRING_new(),
                                                                             ASN1_OCTET_STRING_free);
  ASN1_OCTET_STRING_set(data.get(), value.data(), static_cast<int>(value.size()));
  X509_EXTENSION* ext = X509_EXTENSION_create_by_NID(nullptr, nid, critical ? 1 : 0, data.get());
  EXPECT_NE(ext, nullptr);
  EXPECT_EQ(X509_add_ext(copy.get(), ext, -1), 1);
  X509_EXTENSION_free(ext);
  EXPECT_GT(X509_sign(copy.get(), issuer_key.get(), EVP_sha256()), 0);
  unsigned char* der = nullptr;
  int len = i2d_X509(copy.get(), &der);
  auto out = Certificate::from_der(ByteView(der, static_cast<size_t>(std::max(len, 0))));
  OPENSSL_free(der);
  EXPECT_TRUE(out.ok());
  return *out;
}

TEST(SctSign, PrecertificateSctEmbedsAndVerifies) {
  CaPair ca = make_ca();
  CertificateTemplate t = leaf_template();
  t.ct_poison = true;
  Certificate precert = issue(ca, t);
  auto entry = precert_entry(precert, ca.intermediate);
  ASSERT_TRUE(entry.ok()) << entry.error().message;
  EXPECT_EQ(entry->type, CtEntryType::kPrecert);
  EXPECT_EQ(entry->issuer_key_hash, sha256(ca.intermediate.public_key().der()));

  const uint64_t ts = now_ms() - 5000;
  auto sct = sign_sct(key(5), *entry, ts);
  ASSERT_TRUE(sct.ok()) << sct.error().message;
  EXPECT_EQ(sct->log_id, sha256(key(5).public_key().der()));
  EXPECT_TRUE(verify_sct(*sct, *entry, key(5).public_key()).ok());

  auto list = serialize_sct_list({*sct});
  ASSERT_TRUE(list.ok()) << list.error().message;
  t.ct_poison = false;
  t.sct_list = *list;
  Certificate final_cert = issue(ca, t);

  Status verified = verify_embedded_scts(final_cert, ca.intermediate, {trust(key(5))});
  EXPECT_TRUE(verified.ok()) << verified.error().message;
  EXPECT_TRUE(openssl_validates(final_cert, ca.intermediate, key(5)));
  auto embedded = embedded_scts(final_cert);
  ASSERT_TRUE(embedded.ok());
  ASSERT_EQ(embedded->size(), 1u);
  EXPECT_EQ((*embedded)[0].timestamp_ms, static_cast<int64_t>(ts));
  EXPECT_EQ((*embedded)[0].log_id, sct->log_id);

  // The SCT binds the certificate's contents and its issuer.
  CertificateTemplate changed = t;
  changed.subject_alt_names.emails = {"mallory@example.com"};
  Certificate other_cert = issue(ca, changed);
  EXPECT_FALSE(verify_embedded_scts(other_cert, ca.intermediate, {trust(key(5))}).ok());
  EXPECT_FALSE(openssl_validates(other_cert, ca.intermediate, key(5)));
  CaPair other_ca = make_ca(true);
  Certificate from_other_ca = issue(other_ca, t, true);
  EXPECT_FALSE(verify_embedded_scts(from_other_ca, other_ca.intermediate, {trust(key(5))}).ok());
  // And only the log's key verifies it.
  EXPECT_FALSE(verify_embedded_scts(final_cert, ca.intermediate, {trust(key(6))}).ok());
}

TEST(SctSign, PrecertEntryNeedsThePoisonAndTheIssuer) {
  CaPair ca = make_ca();
  CertificateTemplate t = leaf_template();
  Certificate plain = issue(ca, t);
  EXPECT_FALSE(precert_entry(plain, ca.intermediate).ok());
  auto poisoned = is_precertificate(plain);
  ASSERT_TRUE(poisoned.ok());
  EXPECT_FALSE(*poisoned);

  t.ct_poison = true;
  Certificate precert = issue(ca, t);
  EXPECT_FALSE(precert_entry(precert, ca.root).ok());  // not its issuer
  poisoned = is_precertificate(precert);
  ASSERT_TRUE(poisoned.ok());
  EXPECT_TRUE(*poisoned);

  // A poison that is not critical, or whose value is not NULL, makes the certificate neither a
  // certificate nor a precertificate.
  for (auto [critical, value] : {std::pair{false, Bytes{0x05, 0x00}}, std::pair{true, Bytes{0x04, 0x00}}}) {
    Certificate odd = with_extension(plain, NID_ct_precert_poison, critical, value, key(1));
    EXPECT_FALSE(is_precertificate(odd).ok()) << critical;
    EXPECT_FALSE(precert_entry(odd, ca.intermediate).ok()) << critical;
    EXPECT_FALSE(verify_ct_submission({odd, ca.intermediate}, {ca.root}, true).ok()) << critical;
    EXPECT_FALSE(verify_ct_submission({odd, ca.intermediate}, {ca.root}, false).ok()) << critical;
  }
  // Two poisons are refused too.
  Certificate twice = with_extension(precert, NID_ct_precert_poison, true, Bytes{0x05, 0x00}, key(1));
  EXPECT_FALSE(is_precertificate(twice).ok());
}

TEST(SctSign, X509EntrySignsTheLeafDer) {
  CaPair ca = make_ca();
  Certificate leaf = issue(ca, leaf_template());
  CtSignedEntry entry = x509_entry(leaf);
  EXPECT_EQ(entry.certificate, leaf.der());
  auto sct = sign_sct(key(5), entry, 1234);
  ASSERT_TRUE(sct.ok());
  EXPECT_TRUE(verify_sct(*sct, entry, key(5).public_key()).ok());
  EXPECT_FALSE(verify_sct(*sct, entry, key(6).public_key()).ok());
  SignedCertificateTimestamp later = *sct;
  later.timestamp_ms++;
  EXPECT_FALSE(verify_sct(later, entry, key(5).public_key()).ok());
  CtSignedEntry other = entry;
  other.certificate.back() ^= 1;
  EXPECT_FALSE(verify_sct(*sct, other, key(5).public_key()).ok());
}

TEST(SctSign, SignatureInputIsRfc6962s) {
  // x509_entry: v1, certificate_timestamp, timestamp, entry type 0, uint24 length, cert, no extensions.
  auto x509 = sct_signature_input(CtSignedEntry{CtEntryType::kX509, {0xaa, 0xbb}, {}}, 0x0102030405060708, {});
  ASSERT_TRUE(x509.ok());
  EXPECT_EQ(*x509, hex("0000" "0102030405060708" "0000" "000002aabb" "0000"));
  // precert_entry: issuer_key_hash[32] before the TBS; extensions with their length.
  Bytes ikh(32, 0x11);
  auto pre = sct_signature_input(CtSignedEntry{CtEntryType::kPrecert, {0xcc}, ikh}, 1, Bytes{0xee});
  ASSERT_TRUE(pre.ok());
  EXPECT_EQ(*pre, hex("0000" "0000000000000001" "0001" + std::string(64, '1') + "000001cc" "0001ee"));
  EXPECT_FALSE(sct_signature_input(CtSignedEntry{CtEntryType::kPrecert, {0xcc}, Bytes(31, 0)}, 1, {}).ok());
  EXPECT_FALSE(sct_signature_input(CtSignedEntry{CtEntryType::kX509, {}, {}}, 1, {}).ok());
  EXPECT_FALSE(sct_signature_input(CtSignedEntry{static_cast<CtEntryType>(7), {1}, {}}, 1, {}).ok());
}

TEST(SctSign, SerializesAndParsesStrictly) {
  SignedCertificateTimestamp sct{Bytes(32, 0x42), 0x0000018000000001, {0x01, 0x02}, {4, 3, {0x30, 0x01, 0x00}}};
  auto bytes = sct.serialize();
  ASSERT_TRUE(bytes.ok());
  Bytes expected = {0x00};
  expected.insert(expected.end(), 32, 0x42);
  Bytes tail = hex("0000018000000001" "00020102" "0403" "0003300100");
  expected.insert(expected.end(), tail.begin(), tail.end());
  EXPECT_EQ(*bytes, expected);

  auto parsed = parse_sct(*bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->log_id, sct.log_id);
  EXPECT_EQ(parsed->timestamp_ms, sct.timestamp_ms);
  EXPECT_EQ(parsed->extensions, sct.extensions);
  EXPECT_EQ(parsed->signature.hash_algorithm, 4);
  EXPECT_EQ(parsed->signature.signature_algorithm, 3);
  EXPECT_EQ(parsed->signature.signature, sct.signature.signature);

  Bytes trailing = *bytes;
  trailing.push_back(0);
  EXPECT_FALSE(parse_sct(trailing).ok());
  for (size_t cut : {size_t{0}, size_t{1}, size_t{33}, size_t{41}, bytes->size() - 1})
    EXPECT_FALSE(parse_sct(ByteView(*bytes).first(cut)).ok()) << cut;
  Bytes v2 = *bytes;
  v2[0] = 1;
  EXPECT_FALSE(parse_sct(v2).ok());
  Bytes long_ext = *bytes;
  long_ext[1 + 32 + 8 + 1] = 0x10;  // extensions length beyond the data
  EXPECT_FALSE(parse_sct(long_ext).ok());

  SignedCertificateTimestamp short_id = sct;
  short_id.log_id.pop_back();
  EXPECT_FALSE(short_id.serialize().ok());
  SignedCertificateTimestamp huge = sct;
  huge.signature.signature.assign(0x10000, 0);
  EXPECT_FALSE(huge.serialize().ok());

  auto ds = parse_digitally_signed(hex("0403" "0002abcd"));
  ASSERT_TRUE(ds.ok());
  EXPECT_EQ(ds->signature, hex("abcd"));
  EXPECT_FALSE(parse_digitally_signed(hex("0403" "0003abcd")).ok());
  EXPECT_FALSE(parse_digitally_signed(hex("0403" "0002abcdef")).ok());
}

TEST(SctSign, MerkleLeafSerializesAndParsesStrictly) {
  CtMerkleLeaf leaf{0x0102030405060708, {CtEntryType::kX509, {0xaa}, {}}, {}};
  auto bytes = leaf.serialize();
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, hex("0000" "0102030405060708" "0000" "000001aa" "0000"));
  auto parsed = parse_ct_merkle_leaf(*bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->timestamp_ms, leaf.timestamp_ms);
  EXPECT_EQ(parsed->entry.type, CtEntryType::kX509);
  EXPECT_EQ(parsed->entry.certificate, Bytes{0xaa});

  CtMerkleLeaf pre{7, {CtEntryType::kPrecert, {0xcc, 0xdd}, Bytes(32, 0x11)}, {0xee}};
  auto pre_bytes = pre.serialize();
  ASSERT_TRUE(pre_bytes.ok());
  EXPECT_EQ(*pre_bytes, hex("0000" "0000000000000007" "0001" + std::string(64, '1') + "000002ccdd" "0001ee"));
  auto pre_parsed = parse_ct_merkle_leaf(*pre_bytes);
  ASSERT_TRUE(pre_parsed.ok()) << pre_parsed.error().message;
  EXPECT_EQ(pre_parsed->entry.issuer_key_hash, Bytes(32, 0x11));
  EXPECT_EQ(pre_parsed->entry.certificate, (Bytes{0xcc, 0xdd}));
  EXPECT_EQ(pre_parsed->extensions, Bytes{0xee});

  Bytes trailing = *bytes;
  trailing.push_back(0);
  EXPECT_FALSE(parse_ct_merkle_leaf(trailing).ok());
  for (size_t cut = 0; cut < pre_bytes->size(); ++cut)
    EXPECT_FALSE(parse_ct_merkle_leaf(ByteView(*pre_bytes).first(cut)).ok()) << cut;
  Bytes v2 = *bytes;
  v2[0] = 1;
  EXPECT_FALSE(parse_ct_merkle_leaf(v2).ok());
  Bytes other_leaf_type = *bytes;
  other_leaf_type[1] = 1;
  EXPECT_FALSE(parse_ct_merkle_leaf(other_leaf_type).ok());
  Bytes unknown_type = *bytes;
  unknown_type[11] = 2;
  EXPECT_FALSE(parse_ct_merkle_leaf(unknown_type).ok());
}

TEST(SctSign, SctListsRoundTripAndMatchOpenssl) {
  SignedCertificateTimestamp a{Bytes(32, 1), 10, {}, {4, 3, {0x30, 0x00}}};
  SignedCertificateTimestamp b{Bytes(32, 2), 20, {0x09}, {4, 3, {0x30, 0x00}}};
  auto list = serialize_sct_list({a, b});
  ASSERT_TRUE(list.ok());
  auto one = a.serialize(), two = b.serialize();
  ASSERT_TRUE(one.ok() && two.ok());
  ASSERT_EQ(list->size(), 2 + 2 + one->size() + 2 + two->size());
  EXPECT_EQ((*list)[0] << 8 | (*list)[1], static_cast<int>(list->size() - 2));
  auto parsed = parse_sct_list(*list);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[1].timestamp_ms, 20u);
  EXPECT_EQ((*parsed)[1].extensions, Bytes{0x09});

  // OpenSSL reads the same list.
  const unsigned char* p = list->data();
  STACK_OF(SCT)* scts = o2i_SCT_LIST(nullptr, &p, list->size());
  ASSERT_NE(scts, nullptr);
  EXPECT_EQ(sk_SCT_num(scts), 2);
  EXPECT_EQ(SCT_get_timestamp(sk_SCT_value(scts, 0)), 10u);
  SCT_LIST_free(scts);

  EXPECT_FALSE(serialize_sct_list({}).ok());
  EXPECT_FALSE(parse_sct_list(hex("0000")).ok());
  EXPECT_FALSE(parse_sct_list(hex("00020000")).ok());  // an empty item
  Bytes truncated = *list;
  truncated.pop_back();
  EXPECT_FALSE(parse_sct_list(truncated).ok());
}

TEST(SctSign, SubmittedChainsMustEndInAnAcceptedRoot) {
  CaPair ca = make_ca();
  CaPair other = make_ca(true);
  CertificateTemplate t = leaf_template();
  Certificate leaf = issue(ca, t);
  t.ct_poison = true;
  Certificate precert = issue(ca, t);

  auto full = verify_ct_submission({leaf, ca.intermediate, ca.root}, {ca.root}, false);
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_EQ(full->size(), 3u);
  // Without the root, the root is added.
  auto appended = verify_ct_submission({precert, ca.intermediate}, {ca.root}, true);
  ASSERT_TRUE(appended.ok()) << appended.error().message;
  ASSERT_EQ(appended->size(), 3u);
  EXPECT_EQ((*appended)[2].der(), ca.root.der());

  EXPECT_EQ(verify_ct_submission({leaf, ca.intermediate}, {other.root}, false).error().code, ErrorCode::kVerification);
  EXPECT_FALSE(verify_ct_submission({leaf}, {ca.root}, false).ok());  // the leaf's issuer is missing
  EXPECT_FALSE(verify_ct_submission({leaf, ca.root}, {ca.root}, false).ok());  // not signed by the root
  EXPECT_FALSE(verify_ct_submission({ca.intermediate, leaf}, {ca.root}, false).ok());  // out of order
  EXPECT_FALSE(verify_ct_submission({leaf, ca.intermediate}, {ca.root}, true).ok());  // no poison
  EXPECT_FALSE(verify_ct_submission({precert, ca.intermediate}, {ca.root}, false).ok());  // poison on add-chain
  EXPECT_FALSE(verify_ct_submission({}, {ca.root}, false).ok());
  EXPECT_FALSE(verify_ct_submission({leaf, ca.intermediate}, {}, false).ok());
  // A precertificate that is itself an accepted root has no issuer for its entry.
  CertificateTemplate root_template;
  root_template.subject = {{"CN", "poisoned root"}};
  root_template.not_before = now_unix() - 60;
  root_template.not_after = now_unix() + 600;
  root_template.public_key = key(3).public_key();
  root_template.is_ca = true;
  root_template.key_usage.cert_sign = true;
  root_template.ct_poison = true;
  auto poisoned_root = sign_certificate(root_template, key(3));
  ASSERT_TRUE(poisoned_root.ok()) << poisoned_root.error().message;
  EXPECT_FALSE(verify_ct_submission({*poisoned_root}, {*poisoned_root}, true).ok());

  // A chain may stop at any CA below the root, or be the root alone.
  EXPECT_TRUE(verify_ct_submission({ca.intermediate, ca.root}, {ca.root}, false).ok());
  EXPECT_TRUE(verify_ct_submission({ca.root}, {ca.root}, false).ok());
}

}  // namespace
}  // namespace vouch::crypto
