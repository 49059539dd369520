// Interop with Node's built-in crypto (tests/unit/notation/notation_interop.js): node verifies
// the JWS and COSE envelopes vouch signs with every supported key, and signs JWS envelopes that
// vouch verifies.
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>

#include <gtest/gtest.h>

#include "../temp_dir.h"
#include "notation_pki.h"
#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/notation/envelope.h"
#include "vouch/notation/verifier.h"

namespace vouch::notation {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> find_node() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("VOUCH_NODE")) candidates.emplace_back(env);
  candidates.emplace_back("/usr/bin/node");
  candidates.emplace_back("/usr/local/bin/node");
  for (const auto& path : candidates)
    if (::access(path.c_str(), X_OK) == 0) return path;
  return std::nullopt;
}

std::optional<std::string> run(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return std::nullopt;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  if (pclose(pipe) != 0) return std::nullopt;
  return out;
}

TEST(NotationInterop, NodeCryptoBothWays) {
  auto node = find_node();
  if (!node) GTEST_SKIP() << "node is not installed (set VOUCH_NODE to its path)";
  vouch::testing::TempDir dir;
  const UnixSeconds now = now_unix();
  auto pki = testing::make_root("Test Root", now);
  TargetArtifact target{"application/vnd.oci.image.manifest.v1+json",
                        "sha256:00000000000000000000000000000000000000000000000000000000000000aa", 99, {}, {}};
  struct Case {
    std::string name;
    crypto::KeyType type;
    int bits;
  };
  std::vector<Case> cases{{"rsa2048", crypto::KeyType::kRsa, 2048},     {"rsa3072", crypto::KeyType::kRsa, 3072},
                          {"rsa4096", crypto::KeyType::kRsa, 4096},     {"p256", crypto::KeyType::kEcdsaP256, 0},
                          {"p384", crypto::KeyType::kEcdsaP384, 0},     {"p521", crypto::KeyType::kEcdsaP521, 0}};
  ASSERT_TRUE(write_file_atomic(dir.path() / "payload.json", payload_json(target)).ok());
  for (const auto& c : cases) {
    const auto& key = testing::test_key(c.type, c.bits);
    auto leaf = testing::make_leaf(pki, key, c.name, now - 60, now + 3600);
    SignOptions options;
    options.signing_time = now;
    for (auto format : {EnvelopeFormat::kJws, EnvelopeFormat::kCose}) {
      options.format = format;
      auto env = sign_envelope(target, key, {leaf, pki.root}, options).value();
      const std::string ext = format == EnvelopeFormat::kJws ? ".jws" : ".cose";
      ASSERT_TRUE(write_file_atomic(dir.path() / (c.name + ext), to_string(env)).ok());
      // One changed byte of the signature: node must refuse it.
      env[env.size() - (format == EnvelopeFormat::kJws ? 4 : 2)] ^= 1;
      ASSERT_TRUE(write_file_atomic(dir.path() / (c.name + "-tampered" + ext), to_string(env)).ok());
    }
    ASSERT_TRUE(write_file_atomic(dir.path() / (c.name + ".key"), key.pkcs8_pem()).ok());
    ASSERT_TRUE(write_file_atomic(dir.path() / (c.name + ".chain.pem"), leaf.pem() + pki.root.pem()).ok());
    auto alg = algorithm_for_key(key.public_key()).value();
    ASSERT_TRUE(write_file_atomic(dir.path() / (c.name + ".alg"), std::string(algorithm_name(alg))).ok());
  }
  fs::path script = fs::path(VOUCH_SOURCE_DIR) / "tests" / "unit" / "notation" / "notation_interop.js";
  auto out = run(*node + " '" + script.string() + "' '" + dir.path().string() + "'");
  ASSERT_TRUE(out.has_value()) << "node failed";
  auto result = json::parse(*out).value();
  const auto& verified = result.at("verified").as_object();
  for (const auto& c : cases) {
    for (const std::string ext : {".jws", ".cose"}) {
      EXPECT_EQ(verified.at(c.name + ext), true) << c.name << ext << ": " << *out;
      EXPECT_EQ(verified.at(c.name + "-tampered" + ext), false) << c.name << ext << ": " << *out;
    }
  }

  auto policy = parse_trust_policy(R"({"version":"1.0","trustPolicies":[{"name":"p","registryScopes":["*"],
      "signatureVerification":{"level":"strict"},"trustStores":["ca:acme"],"trustedIdentities":["x509.subject:C=US,ST=WA,O=Acme"]}]})")
                    .value();
  auto store = TrustStore::in_memory({{{TrustStoreType::kCa, "acme"}, {pki.root}}});
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto text = read_file(dir.path() / (c.name + ".node.jws"));
    ASSERT_TRUE(text.ok());
    VerifyRequest request{as_bytes(*text), EnvelopeFormat::kJws, target, "example.com/app", {}};
    auto outcome = verify_envelope(request, {&policy, &store, now}).value();
    EXPECT_TRUE(outcome.verified) << outcome.failure;
  }
}

}  // namespace
}  // namespace vouch::notation
