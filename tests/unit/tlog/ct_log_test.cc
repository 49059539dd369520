// The RFC 6962 CT log: SCTs over its HTTP API that verify once embedded, chains it refuses,
// signed tree heads and proofs checked with tlog's Merkle verification, entries, restarts and
// duplicate submissions. Each test has its own directory; PostgreSQL runs when
// $VOUCH_TEST_POSTGRES_URL names a server (tests/integration/tlog_postgres.sh starts one).
#include "vouch/tlog/ct_log.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sys/stat.h>

#include <filesystem>
#include <future>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "../temp_dir.h"
#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/crypto/certificate_builder.h"
#include "vouch/crypto/digest.h"
#include "vouch/tlog/merkle.h"

namespace vouch::tlog {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;
using crypto::Certificate;

const crypto::PrivateKey& key(int which) {
  static std::map<int, crypto::PrivateKey> keys;
  auto it = keys.find(which);
  if (it == keys.end()) {
    auto k = crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256);
    EXPECT_TRUE(k.ok()) << k.error().message;
    it = keys.emplace(which, *k).first;
  }
  return it->second;
}

// A root and an intermediate (keys 0, 1; or 10, 11 for another CA).
crypto::CaPair make_ca(bool other = false) {
  static std::map<bool, crypto::CaPair> cas;
  if (auto it = cas.find(other); it != cas.end()) return it->second;
  crypto::CaPairOptions options;
  options.root_subject = {{"CN", other ? "other-root" : "ct-root"}};
  options.intermediate_subject = {{"CN", other ? "other-intermediate" : "ct-intermediate"}};
  options.not_before = now_unix() - 86400;
  options.not_after = now_unix() + 365 * 86400;
  auto pair = crypto::create_ca_pair(key(other ? 10 : 0), key(other ? 11 : 1), options);
  EXPECT_TRUE(pair.ok()) << pair.error().message;
  return cas.emplace(other, *pair).first->second;
}

crypto::CertificateTemplate leaf_template(uint8_t serial) {
  crypto::CertificateTemplate t;
  t.serial = Bytes{0x10, serial};
  t.not_before = now_unix() - 60;
  t.not_after = now_unix() + 600;
  t.public_key = key(2).public_key();
  t.key_usage.digital_signature = true;
  t.code_signing_eku = true;
  t.subject_alt_names.emails = {fmt::format("user{}@example.com", serial)};
  return t;
}

Certificate issue(const crypto::CertificateTemplate& t, bool other = false) {
  auto c = crypto::sign_certificate(t, key(other ? 11 : 1), make_ca(other).intermediate);
  EXPECT_TRUE(c.ok()) << c.error().message;
  return *c;
}

Certificate leaf(uint8_t serial, bool poison = false, bool other = false) {
  crypto::CertificateTemplate t = leaf_template(serial);
  t.ct_poison = poison;
  return issue(t, other);
}

std::string chain_json(const std::vector<Bytes>& ders) {
  bj::array a;
  for (const auto& d : ders) a.push_back(bj::value(base64_encode(d)));
  return json::serialize(bj::object{{"chain", std::move(a)}});
}

Bytes b64(const bj::value& v) {
  auto b = base64_decode(v.as_string());
  EXPECT_TRUE(b.ok()) << v;
  return b.ok() ? *b : Bytes{};
}

// Base64 in a query string: '+', '/' and '=' escaped.
std::string query_base64(ByteView data) {
  std::string out;
  for (char c : base64_encode(data)) out += c == '+' ? "%2B" : c == '/' ? "%2F" : c == '=' ? "%3D" : std::string(1, c);
  return out;
}

uint64_t u64(const bj::value& v) { return v.is_uint64() ? v.as_uint64() : static_cast<uint64_t>(v.as_int64()); }

struct Reply {
  int status = 0;
  bj::value body;            // a JSON answer
  std::string content_type;
  std::string text;          // the body as sent
};

// The storage under test: SQLite in the test's directory, or a fresh PostgreSQL database.
std::string fresh_storage(const std::string& kind) {
  if (kind == "sqlite") return "";  // the default: sqlite:<dir>/ct.db
  const char* base = std::getenv("VOUCH_TEST_POSTGRES_URL");
  if (!base) return "-";
  std::string db = fmt::format("ct_log_test_{}", std::random_device{}());
  PGconn* c = PQconnectdb(base);
  EXPECT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
  PQclear(PQexec(c, ("CREATE DATABASE " + db).c_str()));
  PQfinish(c);
  std::string url = base;
  return url.substr(0, url.rfind('/') + 1) + db;
}

class CtLogTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }

  void open() {
    log_.reset();
    auto log = CtLog::open(CtLogOptions{dir_.path() / "ct", storage_, {make_ca().root.der()}, 1024, 2});
    ASSERT_TRUE(log.ok()) << log.error().message;
    log_ = std::move(*log);
  }

  Reply call(std::string method, std::string target, std::string body = "") {
    net::HttpRequest req;
    req.method = std::move(method);
    req.target = target;
    auto parsed = net::parse_target(target);
    EXPECT_TRUE(parsed.ok());
    req.path = parsed->first;
    req.query = parsed->second;
    req.content_type = "application/json";
    req.body = std::move(body);
    std::promise<net::HttpResponse> promise;
    auto future = promise.get_future();
    log_->handler()(std::move(req), [&promise](net::HttpResponse r) { promise.set_value(std::move(r)); });
    net::HttpResponse res = future.get();
    Reply reply{res.status, {}, res.content_type, res.body};
    if (res.status != 200) return reply;
    EXPECT_EQ(res.content_type, "application/json");
    auto v = json::parse(res.body);
    EXPECT_TRUE(v.ok()) << res.body;
    if (v.ok()) reply.body = *v;
    return reply;
  }
  Reply post(std::string path, const std::vector<Bytes>& chain) { return call("POST", std::move(path), chain_json(chain)); }
  Reply get(std::string target) { return call("GET", std::move(target)); }

  // The SCT of an add-chain / add-pre-chain answer.
  crypto::SignedCertificateTimestamp sct_of(const Reply& r) {
    EXPECT_EQ(r.status, 200) << r.body;
    const bj::object& o = r.body.as_object();
    EXPECT_EQ(u64(o.at("sct_version")), 0u);
    EXPECT_EQ(o.at("extensions").as_string(), "");
    crypto::SignedCertificateTimestamp sct;
    sct.log_id = b64(o.at("id"));
    sct.timestamp_ms = u64(o.at("timestamp"));
    auto sig = crypto::parse_digitally_signed(b64(o.at("signature")));
    EXPECT_TRUE(sig.ok());
    if (sig.ok()) sct.signature = *sig;
    return sct;
  }

  void expect_error(const Reply& r, int status, std::string_view why) {
    EXPECT_EQ(r.status, status) << why << ": " << r.text;
    // ctfe's error page: the status text, then the reason, as text/plain.
    EXPECT_EQ(r.content_type, "text/plain; charset=utf-8") << why;
    const std::string_view status_text = status == 400 ? "Bad Request\n" : status == 404 ? "Not Found\n"
                                         : status == 405 ? "Method Not Allowed\n" : "?";
    EXPECT_EQ(r.text.rfind(status_text, 0), 0u) << why << ": " << r.text;
    EXPECT_GT(r.text.size(), status_text.size() + 1) << why << ": no reason after the status text";
  }

  // Leaf hashes of the whole log, from get-entries.
  std::vector<Bytes> leaf_hashes() {
    Reply sth = get("/ct/v1/get-sth");
    const uint64_t size = u64(sth.body.at("tree_size"));
    std::vector<Bytes> out;
    if (size == 0) return out;
    Reply entries = get(fmt::format("/ct/v1/get-entries?start=0&end={}", size - 1));
    for (const auto& e : entries.body.at("entries").as_array()) out.push_back(hash_leaf(b64(e.at("leaf_input"))));
    EXPECT_EQ(out.size(), size);
    return out;
  }

  vouch::testing::TempDir dir_;
  std::string storage_;
  std::unique_ptr<CtLog> log_;
};

TEST_F(CtLogTest, PreChainSctVerifiesOnceEmbedded) {
  const crypto::CaPair ca = make_ca();
  crypto::CertificateTemplate t = leaf_template(1);
  t.ct_poison = true;
  Certificate precert = issue(t);
  crypto::SignedCertificateTimestamp sct = sct_of(post("/ct/v1/add-pre-chain", {precert.der(), ca.intermediate.der()}));
  EXPECT_EQ(sct.log_id, crypto::sha256(log_->public_key().der()));

  auto list = crypto::serialize_sct_list({sct});
  ASSERT_TRUE(list.ok());
  t.ct_poison = false;
  t.sct_list = *list;
  Certificate final_cert = issue(t);
  crypto::CtLog trust = log_->trust_entry();
  EXPECT_EQ(trust.log_id, log_->log_id());
  EXPECT_LE(trust.valid_start, now_unix());
  Status verified = crypto::verify_embedded_scts(final_cert, ca.intermediate, {trust});
  EXPECT_TRUE(verified.ok()) << verified.error().message;

  // The in-process API gives the same entry.
  auto again = log_->add_pre_chain({precert.der(), ca.intermediate.der(), ca.root.der()});
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->sct.timestamp_ms, sct.timestamp_ms);
}

TEST_F(CtLogTest, ChainSctSignsTheCertificate) {
  const crypto::CaPair ca = make_ca();
  Certificate cert = leaf(2);
  crypto::SignedCertificateTimestamp sct =
      sct_of(post("/ct/v1/add-chain", {cert.der(), ca.intermediate.der(), ca.root.der()}));
  Status ok = crypto::verify_sct(sct, crypto::x509_entry(cert), log_->public_key());
  EXPECT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_FALSE(crypto::verify_sct(sct, crypto::x509_entry(leaf(3)), log_->public_key()).ok());
}

TEST_F(CtLogTest, RefusesChainsItMustNotLog) {
  const crypto::CaPair ca = make_ca();
  const crypto::CaPair other = make_ca(true);
  expect_error(post("/ct/v1/add-chain", {leaf(4, false, true).der(), other.intermediate.der(), other.root.der()}), 400,
               "another CA's chain");
  expect_error(post("/ct/v1/add-chain", {leaf(4).der(), other.intermediate.der()}), 400, "the wrong issuer");
  expect_error(post("/ct/v1/add-chain", {leaf(4).der()}), 400, "no issuer");
  expect_error(post("/ct/v1/add-pre-chain", {leaf(4).der(), ca.intermediate.der()}), 400, "a precert without poison");
  expect_error(post("/ct/v1/add-chain", {leaf(4, true).der(), ca.intermediate.der()}), 400, "poison on add-chain");
  expect_error(post("/ct/v1/add-chain", {}), 400, "an empty chain");
  expect_error(post("/ct/v1/add-chain", {Bytes{0x30, 0x03, 0x02, 0x01, 0x01}}), 400, "not a certificate");
  expect_error(call("POST", "/ct/v1/add-chain", R"({"chain": ["not base64!"]})"), 400, "garbage base64");
  expect_error(call("POST", "/ct/v1/add-chain", R"({"chain": [42]})"), 400, "a number");
  expect_error(call("POST", "/ct/v1/add-chain", R"({"certs": []})"), 400, "no chain");
  expect_error(call("POST", "/ct/v1/add-pre-chain", "{"), 400, "not JSON");
  expect_error(call("POST", "/ct/v1/add-chain", "[]"), 400, "not an object");
  std::vector<Bytes> long_chain(CtLog::kMaxChainLength + 1, ca.root.der());
  expect_error(post("/ct/v1/add-chain", long_chain), 400, "too long a chain");
  EXPECT_EQ(u64(get("/ct/v1/get-sth").body.at("tree_size")), 0u);
  EXPECT_EQ(log_->log().head().size, 0u);
}

TEST_F(CtLogTest, MethodsAndPathsAsCtfe) {
  expect_error(get("/ct/v1/add-chain"), 405, "GET add-chain");
  expect_error(call("POST", "/ct/v1/get-sth"), 405, "POST get-sth");
  expect_error(call("HEAD", "/ct/v1/get-roots"), 405, "HEAD get-roots");
  expect_error(get("/ct/v1/get-nothing"), 404, "unknown endpoint");
  expect_error(get("/ct/v2/get-sth"), 404, "unknown version");
  Reply roots = get("/ct/v1/get-roots");
  ASSERT_EQ(roots.status, 200);
  const auto& certs = roots.body.at("certificates").as_array();
  ASSERT_EQ(certs.size(), 1u);
  EXPECT_EQ(b64(certs[0]), make_ca().root.der());
}

TEST_F(CtLogTest, SignedTreeHeadVerifiesOverTreeHeadSignature) {
  const crypto::CaPair ca = make_ca();
  Reply empty = get("/ct/v1/get-sth");
  ASSERT_EQ(empty.status, 200);
  EXPECT_EQ(u64(empty.body.at("tree_size")), 0u);
  EXPECT_EQ(b64(empty.body.at("sha256_root_hash")), crypto::sha256(ByteView{}));
  for (uint8_t i = 0; i < 3; ++i) sct_of(post("/ct/v1/add-chain", {leaf(10 + i).der(), ca.intermediate.der()}));

  Reply sth = get("/ct/v1/get-sth");
  ASSERT_EQ(sth.status, 200) << sth.body;
  const bj::object& o = sth.body.as_object();
  ASSERT_EQ(u64(o.at("tree_size")), 3u);
  const uint64_t timestamp = u64(o.at("timestamp"));
  const Bytes root = b64(o.at("sha256_root_hash"));
  // RFC 6962 section 3.5 TreeHeadSignature, built here byte by byte.
  Bytes signed_data = {0x00, 0x01};
  for (int i = 7; i >= 0; --i) signed_data.push_back(static_cast<uint8_t>(timestamp >> (8 * i)));
  for (int i = 7; i >= 0; --i) signed_data.push_back(static_cast<uint8_t>(uint64_t{3} >> (8 * i)));
  signed_data.insert(signed_data.end(), root.begin(), root.end());
  const Bytes ds = b64(o.at("tree_head_signature"));
  ASSERT_GT(ds.size(), 4u);
  EXPECT_EQ(ds[0], 4);  // sha256
  EXPECT_EQ(ds[1], 3);  // ecdsa
  ASSERT_EQ(static_cast<size_t>(ds[2] << 8 | ds[3]), ds.size() - 4);
  const Bytes signature(ds.begin() + 4, ds.end());
  EXPECT_TRUE(log_->public_key().verify(signed_data, signature, crypto::HashAlgorithm::kSha256).ok());
  signed_data[10] ^= 1;
  EXPECT_FALSE(log_->public_key().verify(signed_data, signature, crypto::HashAlgorithm::kSha256).ok());

  EXPECT_EQ(root, root_hash(leaf_hashes()));
  EXPECT_LE(timestamp, static_cast<uint64_t>(now_unix() + 1) * 1000);
  // Unchanged tree, unchanged head.
  EXPECT_EQ(json::serialize(get("/ct/v1/get-sth").body), json::serialize(sth.body));
}

TEST_F(CtLogTest, ProofsVerifyWithMerkleFunctions) {
  const crypto::CaPair ca = make_ca();
  constexpr uint64_t kN = 6;
  for (uint8_t i = 0; i < kN; ++i) sct_of(post("/ct/v1/add-chain", {leaf(20 + i).der(), ca.intermediate.der()}));
  const std::vector<Bytes> leaves = leaf_hashes();
  ASSERT_EQ(leaves.size(), kN);
  const std::span<const Bytes> all(leaves);

  for (uint64_t size = 1; size <= kN; ++size) {
    const Bytes root = root_hash(all.first(size));
    for (uint64_t i = 0; i < size; ++i) {
      Reply r = get(fmt::format("/ct/v1/get-proof-by-hash?hash={}&tree_size={}", query_base64(leaves[i]), size));
      ASSERT_EQ(r.status, 200) << r.body;
      EXPECT_EQ(u64(r.body.at("leaf_index")), i);
      std::vector<Bytes> path;
      for (const auto& h : r.body.at("audit_path").as_array()) path.push_back(b64(h));
      Status ok = verify_inclusion(i, size, leaves[i], path, root);
      EXPECT_TRUE(ok.ok()) << i << "/" << size << ": " << ok.error().message;
    }
    for (uint64_t first = 1; first <= size; ++first) {
      Reply r = get(fmt::format("/ct/v1/get-sth-consistency?first={}&second={}", first, size));
      ASSERT_EQ(r.status, 200) << r.body;
      std::vector<Bytes> proof;
      for (const auto& h : r.body.at("consistency").as_array()) proof.push_back(b64(h));
      Status ok = verify_consistency(first, size, proof, root_hash(all.first(first)), root);
      EXPECT_TRUE(ok.ok()) << first << "->" << size << ": " << ok.error().message;
    }
  }

  Reply zero = get(fmt::format("/ct/v1/get-sth-consistency?first=0&second={}", kN));
  ASSERT_EQ(zero.status, 200);
  EXPECT_TRUE(zero.body.at("consistency").as_array().empty());
  expect_error(get(fmt::format("/ct/v1/get-sth-consistency?first=1&second={}", kN + 1)), 400, "beyond the tree");
  expect_error(get("/ct/v1/get-sth-consistency?first=3&second=2"), 400, "first > second");
  expect_error(get("/ct/v1/get-sth-consistency?first=1"), 400, "no second");
  expect_error(get("/ct/v1/get-sth-consistency?first=-1&second=2"), 400, "negative");
  const std::string unknown = base64_encode(Bytes(32, 0));
  expect_error(get("/ct/v1/get-proof-by-hash?hash=" + unknown + "&tree_size=1"), 404, "unknown leaf");
  expect_error(get(fmt::format("/ct/v1/get-proof-by-hash?hash={}&tree_size={}", unknown, kN + 1)), 404, "tree too small");
  expect_error(get("/ct/v1/get-proof-by-hash?hash=%25%25&tree_size=1"), 400, "bad base64");
  expect_error(get("/ct/v1/get-proof-by-hash?hash=AAAA&tree_size=1"), 400, "short hash");
  expect_error(get("/ct/v1/get-proof-by-hash?hash=" + unknown), 400, "no tree_size");
  expect_error(get("/ct/v1/get-proof-by-hash?hash=" + unknown + "&tree_size=0"), 400, "tree_size 0");
}

// certificate_chain<0..2^24-1> of ASN.1Cert<1..2^24-1>.
std::vector<Bytes> read_chain(ByteView data, size_t& pos) {
  auto u24 = [&](size_t at) { return static_cast<size_t>(data[at] << 16 | data[at + 1] << 8 | data[at + 2]); };
  std::vector<Bytes> out;
  const size_t total = u24(pos);
  pos += 3;
  const size_t end = pos + total;
  EXPECT_LE(end, data.size());
  while (pos < end) {
    const size_t len = u24(pos);
    out.emplace_back(data.begin() + pos + 3, data.begin() + pos + 3 + len);
    pos += 3 + len;
  }
  return out;
}

TEST_F(CtLogTest, EntriesCarryTheLeafAndTheChain) {
  const crypto::CaPair ca = make_ca();
  Certificate cert = leaf(30);
  Certificate precert = leaf(31, true);
  auto first = sct_of(post("/ct/v1/add-chain", {cert.der(), ca.intermediate.der()}));
  auto second = sct_of(post("/ct/v1/add-pre-chain", {precert.der(), ca.intermediate.der(), ca.root.der()}));

  Reply r = get("/ct/v1/get-entries?start=0&end=99");  // clipped to the tree
  ASSERT_EQ(r.status, 200) << r.body;
  const auto& entries = r.body.at("entries").as_array();
  ASSERT_EQ(entries.size(), 2u);

  const Bytes x509_input = b64(entries[0].at("leaf_input"));
  auto x509_leaf = crypto::parse_ct_merkle_leaf(x509_input);
  ASSERT_TRUE(x509_leaf.ok()) << x509_leaf.error().message;
  EXPECT_EQ(x509_leaf->timestamp_ms, first.timestamp_ms);
  EXPECT_EQ(x509_leaf->entry.type, crypto::CtEntryType::kX509);
  EXPECT_EQ(x509_leaf->entry.certificate, cert.der());
  EXPECT_EQ(x509_input[0], 0);  // v1
  EXPECT_EQ(x509_input[1], 0);  // timestamped_entry
  const Bytes x509_extra = b64(entries[0].at("extra_data"));
  size_t pos = 0;
  EXPECT_EQ(read_chain(x509_extra, pos), (std::vector<Bytes>{ca.intermediate.der(), ca.root.der()}));
  EXPECT_EQ(pos, x509_extra.size());

  const Bytes pre_input = b64(entries[1].at("leaf_input"));
  auto pre_leaf = crypto::parse_ct_merkle_leaf(pre_input);
  ASSERT_TRUE(pre_leaf.ok()) << pre_leaf.error().message;
  EXPECT_EQ(pre_leaf->timestamp_ms, second.timestamp_ms);
  auto expected_entry = crypto::precert_entry(precert, ca.intermediate);
  ASSERT_TRUE(expected_entry.ok());
  EXPECT_EQ(pre_leaf->entry.type, crypto::CtEntryType::kPrecert);
  EXPECT_EQ(pre_leaf->entry.certificate, expected_entry->certificate);
  EXPECT_EQ(pre_leaf->entry.issuer_key_hash, crypto::sha256(ca.intermediate.public_key().der()));
  // PrecertChainEntry: the precertificate, then its chain.
  const Bytes pre_extra = b64(entries[1].at("extra_data"));
  pos = 0;
  const size_t pre_len = static_cast<size_t>(pre_extra[0] << 16 | pre_extra[1] << 8 | pre_extra[2]);
  EXPECT_EQ(Bytes(pre_extra.begin() + 3, pre_extra.begin() + 3 + pre_len), precert.der());
  pos = 3 + pre_len;
  EXPECT_EQ(read_chain(pre_extra, pos), (std::vector<Bytes>{ca.intermediate.der(), ca.root.der()}));
  EXPECT_EQ(pos, pre_extra.size());

  // The leaf hash a proof is asked for is the hash of leaf_input.
  Reply proof = get("/ct/v1/get-proof-by-hash?tree_size=2&hash=" + query_base64(hash_leaf(pre_input)));
  ASSERT_EQ(proof.status, 200) << proof.body;
  EXPECT_EQ(u64(proof.body.at("leaf_index")), 1u);

  Reply one = get("/ct/v1/get-entries?start=1&end=1");
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(one.body.at("entries").as_array().size(), 1u);
  expect_error(get("/ct/v1/get-entries?start=2&end=5"), 400, "start beyond the tree");
  expect_error(get("/ct/v1/get-entries?start=1&end=0"), 400, "start > end");
  expect_error(get("/ct/v1/get-entries?start=x&end=1"), 400, "malformed start");
  expect_error(get("/ct/v1/get-entries?start=0"), 400, "no end");
}

TEST_F(CtLogTest, DuplicatesGetTheFirstTimestamp) {
  const crypto::CaPair ca = make_ca();
  Certificate precert = leaf(40, true);
  auto a = log_->add_pre_chain({precert.der(), ca.intermediate.der()});
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_FALSE(a->duplicate);
  auto b = log_->add_pre_chain({precert.der(), ca.intermediate.der(), ca.root.der()});
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_TRUE(b->duplicate);
  EXPECT_EQ(b->sct.timestamp_ms, a->sct.timestamp_ms);
  EXPECT_EQ(b->index, a->index);
  auto entry = crypto::precert_entry(precert, ca.intermediate);
  ASSERT_TRUE(entry.ok());
  EXPECT_TRUE(crypto::verify_sct(b->sct, *entry, log_->public_key()).ok());

  // Concurrent submissions of one new certificate log it once.
  Certificate cert = leaf(41);
  constexpr int kSubmitters = 8;
  std::vector<std::promise<Result<CtAddResult>>> promises(kSubmitters);
  for (auto& p : promises)
    log_->add({cert.der(), ca.intermediate.der()}, false, [&p](Result<CtAddResult> r) { p.set_value(std::move(r)); });
  std::set<uint64_t> timestamps;
  int fresh = 0;
  for (auto& p : promises) {
    auto r = p.get_future().get();
    ASSERT_TRUE(r.ok()) << r.error().message;
    timestamps.insert(r->sct.timestamp_ms);
    if (!r->duplicate) ++fresh;
  }
  EXPECT_EQ(timestamps.size(), 1u);
  EXPECT_EQ(fresh, 1);
  EXPECT_EQ(log_->log().head().size, 2u);
}

class CtLogRestart : public CtLogTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    storage_ = fresh_storage(GetParam());
    if (storage_ == "-") GTEST_SKIP() << "VOUCH_TEST_POSTGRES_URL is not set";
    open();
  }
};

TEST_P(CtLogRestart, KeepsKeyTreeAndEntries) {
  const crypto::CaPair ca = make_ca();
  Certificate precert = leaf(50, true);
  auto added = log_->add_pre_chain({precert.der(), ca.intermediate.der()});
  ASSERT_TRUE(added.ok()) << added.error().message;
  auto cert = log_->add_chain({leaf(51).der(), ca.intermediate.der()});
  ASSERT_TRUE(cert.ok()) << cert.error().message;
  const Bytes id = log_->log_id();
  const UnixSeconds created = log_->created();
  const bj::value sth = get("/ct/v1/get-sth").body;
  const std::string entries = json::serialize(get("/ct/v1/get-entries?start=0&end=1").body);

  const fs::path key_file = dir_.path() / "ct" / "ct_key.pem";
  struct stat st {};
  ASSERT_EQ(::stat(key_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  open();  // destroys the log, then opens it again
  EXPECT_EQ(log_->log_id(), id);
  EXPECT_EQ(log_->created(), created);
  // The same tree head (ECDSA signs it anew: only the signature may differ).
  bj::value sth_after = get("/ct/v1/get-sth").body;
  for (const char* field : {"tree_size", "timestamp", "sha256_root_hash"})
    EXPECT_EQ(sth_after.at(field), sth.at(field)) << field;
  EXPECT_EQ(json::serialize(get("/ct/v1/get-entries?start=0&end=1").body), entries);
  auto entry = crypto::precert_entry(precert, ca.intermediate);
  ASSERT_TRUE(entry.ok());
  EXPECT_TRUE(crypto::verify_sct(added->sct, *entry, log_->public_key()).ok());

  auto again = log_->add_pre_chain({precert.der(), ca.intermediate.der()});
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->sct.timestamp_ms, added->sct.timestamp_ms);
  auto next = log_->add_chain({leaf(52).der(), ca.intermediate.der()});
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(next->index, 2u);
  const std::vector<Bytes> leaves = leaf_hashes();
  ASSERT_EQ(leaves.size(), 3u);
  EXPECT_EQ(b64(get("/ct/v1/get-sth").body.at("sha256_root_hash")), root_hash(leaves));
}

TEST_P(CtLogRestart, RefusesAKeyThatIsNotTheLogs) {
  auto added = log_->add_chain({leaf(60).der(), make_ca().intermediate.der()});
  ASSERT_TRUE(added.ok()) << added.error().message;
  log_.reset();
  const fs::path key_file = dir_.path() / "ct" / "ct_key.pem";
  auto original = read_file(key_file);
  ASSERT_TRUE(original.ok());
  const CtLogOptions options{dir_.path() / "ct", storage_, {make_ca().root.der()}, 1024, 2};

  fs::remove(key_file);
  auto missing = CtLog::open(options);
  ASSERT_FALSE(missing.ok());
  EXPECT_FALSE(fs::exists(key_file)) << "no new key is made for an existing log";

  ASSERT_TRUE(write_file_atomic(key_file, key(7).pkcs8_pem(), 0600).ok());
  EXPECT_FALSE(CtLog::open(options).ok());

  ASSERT_TRUE(write_file_atomic(key_file, *original, 0600).ok());
  auto reopened = CtLog::open(options);
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  EXPECT_EQ((*reopened)->log().head().size, 1u);
}

INSTANTIATE_TEST_SUITE_P(CtLogStorage, CtLogRestart, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

TEST(CtLogOpen, NeedsARootAndADirectory) {
  vouch::testing::TempDir dir;
  EXPECT_FALSE(CtLog::open(CtLogOptions{dir.path(), "", {}, 1024, 2}).ok());
  EXPECT_FALSE(CtLog::open(CtLogOptions{"", "", {make_ca().root.der()}, 1024, 2}).ok());
  EXPECT_FALSE(CtLog::open(CtLogOptions{dir.path(), "", {Bytes{1, 2, 3}}, 1024, 2}).ok());
}

}  // namespace
}  // namespace vouch::tlog
