// Test helpers: the shared Sigstore test data (conformance bundles and trusted roots) and
// the parts of a trusted root / bundle the crypto tests need, read with vouch::json.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/base/time.h"
#include "vouch/crypto/sct.h"
#include "vouch/crypto/timestamp.h"
#include "vouch/crypto/x509.h"

namespace vouch::testdata {

namespace fs = std::filesystem;

// <source>/../shared/testdata in the real checkout, else $VOUCH_TESTDATA; empty if neither.
inline fs::path root() {
  fs::path beside = fs::path(VOUCH_SOURCE_DIR) / ".." / "shared" / "testdata";
  std::error_code ec;
  if (fs::is_directory(beside, ec)) return beside;
  if (const char* env = std::getenv("VOUCH_TESTDATA"); env && *env && fs::is_directory(env, ec)) return env;
  return {};
}

// Fails the current test when the shared test data cannot be found.
#define VOUCH_REQUIRE_TESTDATA()                                                                   \
  do {                                                                                             \
    if (::vouch::testdata::root().empty())                                                         \
      FAIL() << "shared test data not found: expected <source>/../shared/testdata or "             \
                "VOUCH_TESTDATA=<path to shared/testdata>";                                        \
  } while (0)

// EXPECT that `text` contains `part`, printing `text` when it does not.
#define EXPECT_CONTAINS(text, part)                                                     \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << "in: " << (text)

inline fs::path conformance_case(std::string_view name) {
  return root() / "sigstore-conformance" / "bundle-verify" / std::string(name);
}
inline fs::path production_trusted_root() { return root() / "sigstore-trust" / "trusted_root.production.json"; }

inline boost::json::value load_json(const fs::path& path) {
  auto text = read_file(path);
  EXPECT_TRUE(text.ok()) << path << ": " << text.error().message;
  if (!text.ok()) return {};
  auto v = json::parse(*text);
  EXPECT_TRUE(v.ok()) << path << ": " << v.error().message;
  return v.ok() ? *v : boost::json::value{};
}

// The trusted root a conformance case uses: its own, or the production one.
inline boost::json::value case_trusted_root(std::string_view name) {
  fs::path own = conformance_case(name) / "trusted_root.json";
  return load_json(fs::exists(own) ? own : production_trusted_root());
}

inline boost::json::value case_bundle(std::string_view name) {
  return load_json(conformance_case(name) / "bundle.sigstore.json");
}

template <typename T>
T value_or_fail(Result<T> r, std::string_view what) {
  EXPECT_TRUE(r.ok()) << what << ": " << r.error().message;
  if (!r.ok()) return T{};
  return std::move(r).value();
}

inline std::vector<crypto::Certificate> cert_chain(const json::Node& chain_node) {
  std::vector<crypto::Certificate> out;
  auto certs = value_or_fail(chain_node.get("certificates").value().array(), "certificates");
  for (const auto& c : certs) {
    auto der = value_or_fail(c.get_bytes("rawBytes"), "rawBytes");
    auto cert = crypto::Certificate::from_der(der);
    EXPECT_TRUE(cert.ok()) << cert.error().message;
    if (cert.ok()) out.push_back(*cert);
  }
  return out;
}

inline void read_valid_for(const json::Node& owner, UnixSeconds* start, std::optional<UnixSeconds>* end) {
  auto vf = owner.find("validFor");
  if (!vf) return;
  if (auto s = vf->find("start")) *start = value_or_fail(parse_rfc3339(value_or_fail(s->string(), "start")), "start");
  if (auto e = vf->find("end")) *end = value_or_fail(parse_rfc3339(value_or_fail(e->string(), "end")), "end");
}

inline std::vector<crypto::TimestampAuthority> timestamp_authorities(const boost::json::value& trusted_root) {
  std::vector<crypto::TimestampAuthority> out;
  auto root_node = json::Node::root(trusted_root);
  auto tsas = root_node.find("timestampAuthorities");
  if (!tsas) return out;
  for (const auto& tsa : value_or_fail(tsas->array(), "timestampAuthorities")) {
    crypto::TimestampAuthority a;
    a.chain = cert_chain(tsa.get("certChain").value());
    read_valid_for(tsa, &a.valid_start, &a.valid_end);
    out.push_back(std::move(a));
  }
  return out;
}

inline std::vector<crypto::CtLog> ct_logs(const boost::json::value& trusted_root) {
  std::vector<crypto::CtLog> out;
  auto logs = json::Node::root(trusted_root).find("ctlogs");
  if (!logs) return out;
  for (const auto& log : value_or_fail(logs->array(), "ctlogs")) {
    crypto::CtLog l;
    l.log_id = value_or_fail(log.get("logId").value().get_bytes("keyId"), "keyId");
    auto pk = log.get("publicKey").value();
    Bytes raw = value_or_fail(pk.get_bytes("rawBytes"), "rawBytes");
    auto key = crypto::PublicKey::from_der(raw);
    if (!key.ok() && value_or_fail(pk.get_string("keyDetails"), "keyDetails").starts_with("PKCS1_RSA")) {
      // The staging root's oldest CT log key is a PKCS#1 RSAPublicKey, not a SubjectPublicKeyInfo.
      key = crypto::PublicKey::from_pem("-----BEGIN RSA PUBLIC KEY-----\n" + base64_encode(raw) +
                                        "\n-----END RSA PUBLIC KEY-----\n");
    }
    EXPECT_TRUE(key.ok()) << key.error().message;
    if (!key.ok()) continue;
    l.key = *key;
    read_valid_for(pk, &l.valid_start, &l.valid_end);
    out.push_back(std::move(l));
  }
  return out;
}

// certificateAuthorities[].certChain of a trusted root.
inline std::vector<std::vector<crypto::Certificate>> fulcio_chains(const boost::json::value& trusted_root) {
  std::vector<std::vector<crypto::Certificate>> out;
  auto cas = json::Node::root(trusted_root).find("certificateAuthorities");
  if (!cas) return out;
  for (const auto& ca : value_or_fail(cas->array(), "certificateAuthorities"))
    out.push_back(cert_chain(ca.get("certChain").value()));
  return out;
}

inline bool has_certificate(const boost::json::value& bundle) {
  auto vm = json::Node::root(bundle).get("verificationMaterial");
  return vm.ok() && (vm->has("certificate") || vm->has("x509CertificateChain"));
}

// The signing certificate of a bundle (v0.3 `certificate` or v0.1/v0.2 `x509CertificateChain`).
inline crypto::Certificate bundle_leaf(const boost::json::value& bundle) {
  auto vm = json::Node::root(bundle).get("verificationMaterial").value();
  Bytes der;
  if (auto c = vm.find("certificate")) {
    der = value_or_fail(c->get_bytes("rawBytes"), "certificate.rawBytes");
  } else {
    auto certs = value_or_fail(vm.get("x509CertificateChain").value().get("certificates").value().array(), "chain");
    EXPECT_FALSE(certs.empty());
    if (!certs.empty()) der = value_or_fail(certs[0].get_bytes("rawBytes"), "rawBytes");
  }
  return value_or_fail(crypto::Certificate::from_der(der), "bundle certificate");
}

// The bytes Sigstore timestamps: the message signature, or the first DSSE signature.
inline Bytes bundle_signature(const boost::json::value& bundle) {
  auto b = json::Node::root(bundle);
  if (auto ms = b.find("messageSignature")) return value_or_fail(ms->get_bytes("signature"), "signature");
  auto sigs = value_or_fail(b.get("dsseEnvelope").value().get("signatures").value().array(), "signatures");
  EXPECT_FALSE(sigs.empty());
  return sigs.empty() ? Bytes{} : value_or_fail(sigs[0].get_bytes("sig"), "sig");
}

inline std::vector<Bytes> bundle_timestamps(const boost::json::value& bundle) {
  std::vector<Bytes> out;
  auto vm = json::Node::root(bundle).get("verificationMaterial").value();
  auto tvd = vm.find("timestampVerificationData");
  if (!tvd) return out;
  auto list = tvd->find("rfc3161Timestamps");
  if (!list) return out;
  for (const auto& t : value_or_fail(list->array(), "rfc3161Timestamps")) {
    // rekor2-timestamp-with-incorrect-time_fail wraps its base64 at 76 columns ("base64
    // response.tsr"); protojson (Go's encoding/base64) skips the newlines, so do the same here.
    std::string text = value_or_fail(t.get("signedTimestamp").value().string(), "signedTimestamp");
    std::erase_if(text, [](char ch) { return ch == '\n' || ch == '\r'; });
    out.push_back(value_or_fail(protojson_bytes_decode(text), "signedTimestamp"));
  }
  return out;
}

}  // namespace vouch::testdata
