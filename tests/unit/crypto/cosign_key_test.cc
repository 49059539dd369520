#include "vouch/crypto/cosign_key.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include "vouch/base/bytes.h"
#include "vouch/base/file.h"
#include "vouch/base/json.h"

namespace vouch::crypto {
namespace {

namespace fs = std::filesystem;
namespace bj = boost::json;

constexpr std::string_view kBegin = "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n";
constexpr std::string_view kEnd = "-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n";

fs::path vectors_dir() { return fs::path(VOUCH_SOURCE_DIR) / "tests" / "unit" / "crypto" / "testdata"; }

std::string read_vector(const std::string& name) {
  auto text = read_file(vectors_dir() / name);
  EXPECT_TRUE(text.ok()) << name << ": " << text.error().message;
  return text.ok() ? *text : std::string();
}

// The JSON document inside an encrypted key PEM, and back.
bj::object document_of(const std::string& pem) {
  EXPECT_EQ(pem.substr(0, kBegin.size()), kBegin);
  EXPECT_EQ(pem.substr(pem.size() - kEnd.size()), kEnd);
  std::string body = pem.substr(kBegin.size(), pem.size() - kBegin.size() - kEnd.size());
  std::string b64;
  size_t start = 0;
  while (start < body.size()) {  // 64-column lines, the last one shorter; no headers, no blank line
    size_t nl = body.find('\n', start);
    EXPECT_NE(nl, std::string::npos);
    if (nl + 1 < body.size()) {
      EXPECT_EQ(nl - start, 64u) << body;
    }
    EXPECT_GE(nl - start, 1u);
    EXPECT_LE(nl - start, 64u);
    b64 += body.substr(start, nl - start);
    start = nl + 1;
  }
  auto json = base64_decode(b64);
  EXPECT_TRUE(json.ok());
  auto v = json::parse(as_chars(*json));
  EXPECT_TRUE(v.ok());
  return v->as_object();
}

std::string pem_of(const bj::object& doc, std::string_view type = "ENCRYPTED SIGSTORE PRIVATE KEY") {
  std::string b64 = base64_encode(as_bytes(json::serialize(doc)));
  std::string out = fmt::format("-----BEGIN {}-----\n", type);
  for (size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  return out + fmt::format("-----END {}-----\n", type);
}

// One encrypted key shared by the tests that only read it (scrypt costs ~0.1 s per call).
struct Fixture {
  PrivateKey key;
  std::string pem;
};
const Fixture& fixture() {
  static const Fixture f = [] {
    auto key = PrivateKey::generate(KeyType::kEcdsaP256);
    auto pem = encrypt_cosign_private_key(*key, "correct horse");
    return Fixture{*key, *pem};
  }();
  return f;
}

TEST(CosignKey, WritesTheFormatCosignWrites) {
  const std::string& pem = fixture().pem;
  bj::object doc = document_of(pem);
  // Go's encoding/json writes go-securesystemslib's struct fields in this order.
  std::string serialized = json::serialize(doc);
  EXPECT_EQ(serialized.rfind(R"({"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":")", 0), 0u)
      << serialized;
  EXPECT_NE(serialized.find(R"("},"cipher":{"name":"nacl/secretbox","nonce":")"), std::string::npos);
  EXPECT_EQ(base64_decode(doc["kdf"].as_object()["salt"].as_string())->size(), 32u);
  EXPECT_EQ(base64_decode(doc["cipher"].as_object()["nonce"].as_string())->size(), 24u);
  // PKCS#8 of a P-256 key (138 bytes from OpenSSL) plus the 16-byte Poly1305 tag.
  EXPECT_EQ(base64_decode(doc["ciphertext"].as_string())->size(), fixture().key.pkcs8_der().size() + 16);
}

TEST(CosignKey, RoundTripP256) {
  auto key = decrypt_cosign_private_key(fixture().pem, "correct horse");
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(key->type(), KeyType::kEcdsaP256);
  EXPECT_TRUE(key->public_key().equals(fixture().key.public_key()));
  auto sig = key->sign(as_bytes("payload"));
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(fixture().key.public_key().verify(as_bytes("payload"), *sig).ok());
}

TEST(CosignKey, RoundTripEd25519WithEmptyPassword) {
  // `cosign generate-key-pair` accepts an empty password and still encrypts.
  auto key = PrivateKey::generate(KeyType::kEd25519);
  ASSERT_TRUE(key.ok());
  auto pem = encrypt_cosign_private_key(*key, "");
  ASSERT_TRUE(pem.ok()) << pem.error().message;
  auto back = decrypt_cosign_private_key(*pem, "");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->type(), KeyType::kEd25519);
  EXPECT_TRUE(back->public_key().equals(key->public_key()));
  EXPECT_NE(*encrypt_cosign_private_key(*key, ""), *pem) << "salt and nonce are fresh each time";
}

TEST(CosignKey, WrongPasswordFails) {
  auto key = decrypt_cosign_private_key(fixture().pem, "correct horsE");
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().code, ErrorCode::kVerification);
  EXPECT_EQ(key.error().message, "cosign key: wrong password or corrupted key");
  EXPECT_FALSE(decrypt_cosign_private_key(fixture().pem, "").ok());
}

TEST(CosignKey, TamperedCiphertextFails) {
  bj::object doc = document_of(fixture().pem);
  Bytes ct = *base64_decode(doc["ciphertext"].as_string());
  for (size_t pos : {size_t{0}, size_t{20}, ct.size() - 1}) {
    Bytes bad = ct;
    bad[pos] ^= 0x01;
    doc["ciphertext"] = base64_encode(bad);
    auto key = decrypt_cosign_private_key(pem_of(doc), "correct horse");
    ASSERT_FALSE(key.ok()) << pos;
    EXPECT_EQ(key.error().code, ErrorCode::kVerification);
    EXPECT_EQ(key.error().message, "cosign key: wrong password or corrupted key");
  }
  // A changed salt or nonce changes the key or keystream: same verdict.
  doc = document_of(fixture().pem);
  Bytes nonce = *base64_decode(doc["cipher"].as_object()["nonce"].as_string());
  nonce[3] ^= 0x80;
  doc["cipher"].as_object()["nonce"] = base64_encode(nonce);
  EXPECT_EQ(decrypt_cosign_private_key(pem_of(doc), "correct horse").error().code, ErrorCode::kVerification);
}

// Malformed documents fail before any key derivation, with the JSON path in the message.
void expect_invalid(const bj::object& doc, std::string_view needle) {
  auto key = decrypt_cosign_private_key(pem_of(doc), "correct horse");
  ASSERT_FALSE(key.ok()) << needle;
  EXPECT_EQ(key.error().code, ErrorCode::kInvalidInput) << key.error().message;
  EXPECT_NE(key.error().message.find(needle), std::string::npos) << key.error().message;
  EXPECT_EQ(key.error().message.rfind("cosign key: ", 0), 0u) << key.error().message;
}

TEST(CosignKey, MalformedFieldsAreNamed) {
  const bj::object good = document_of(fixture().pem);
  auto with = [&](auto edit) {
    bj::object d = good;
    edit(d);
    return d;
  };
  auto kdf = [](bj::object& d) -> bj::object& { return d["kdf"].as_object(); };
  auto params = [&](bj::object& d) -> bj::object& { return kdf(d)["params"].as_object(); };

  expect_invalid(with([&](bj::object& d) { kdf(d)["name"] = "pbkdf2"; }), "kdf.name");
  expect_invalid(with([&](bj::object& d) { kdf(d)["salt"] = "not base64!"; }), "kdf.salt: invalid base64");
  expect_invalid(with([&](bj::object& d) { kdf(d)["salt"] = 7; }), "kdf.salt: expected a string");
  expect_invalid(with([&](bj::object& d) { kdf(d).erase("salt"); }), "kdf.salt: missing");
  expect_invalid(with([&](bj::object& d) { d["cipher"].as_object()["name"] = "aes-gcm"; }), "cipher.name");
  expect_invalid(with([&](bj::object& d) { d["cipher"].as_object()["nonce"] = "AAAA"; }), "cipher.nonce: 3 bytes");
  expect_invalid(with([&](bj::object& d) { d.erase("ciphertext"); }), "ciphertext: missing");
  expect_invalid(with([&](bj::object& d) { d["ciphertext"] = "AAAA"; }), "ciphertext: 3 bytes");
  expect_invalid(with([&](bj::object& d) { d["ciphertext"] = "%%%%"; }), "ciphertext: invalid base64");
  expect_invalid(with([&](bj::object& d) { d.erase("kdf"); }), "kdf: missing");
  // scrypt parameters: only go-securesystemslib's three sets, so nothing can exhaust memory.
  expect_invalid(with([&](bj::object& d) { params(d)["N"] = 1u << 30; }), "kdf.params: unsupported scrypt parameters N=1073741824");
  expect_invalid(with([&](bj::object& d) { params(d)["r"] = 1000000; }), "kdf.params: unsupported scrypt parameters");
  expect_invalid(with([&](bj::object& d) { params(d)["p"] = 16; }), "kdf.params: unsupported scrypt parameters");
  expect_invalid(with([&](bj::object& d) { params(d)["N"] = 1024; }), "kdf.params: unsupported scrypt parameters");
  expect_invalid(with([&](bj::object& d) { params(d)["N"] = -32768; }), "kdf.params.N: expected a non-negative integer");
  expect_invalid(with([&](bj::object& d) { params(d)["N"] = "65536"; }), "kdf.params.N: expected a non-negative integer");
  expect_invalid(with([&](bj::object& d) { params(d)["r"] = 8.5; }), "kdf.params.r: expected a non-negative integer");
  expect_invalid(with([&](bj::object& d) { params(d).erase("p"); }), "kdf.params.p: missing");
}

TEST(CosignKey, MalformedEnvelope) {
  auto fails = [](std::string_view pem, std::string_view needle) {
    auto key = decrypt_cosign_private_key(pem, "pw");
    ASSERT_FALSE(key.ok()) << needle;
    EXPECT_EQ(key.error().code, ErrorCode::kInvalidInput);
    EXPECT_NE(key.error().message.find(needle), std::string::npos) << key.error().message;
  };
  fails("", "no PEM block found");
  fails("hello", "no PEM block found");
  std::string not_json = fmt::format("{}{}\n{}", kBegin, base64_encode(as_bytes("{\"kdf\":")), kEnd);
  fails(not_json, "malformed JSON");
  std::string array = fmt::format("{}{}\n{}", kBegin, base64_encode(as_bytes("[1]")), kEnd);
  fails(array, "expected an object");
  std::string cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  fails(cert, "unsupported PEM block type 'CERTIFICATE'");
  std::string with_headers = std::string(kBegin) + "Proc-Type: 4,ENCRYPTED\n\n" +
                             fixture().pem.substr(kBegin.size());
  fails(with_headers, "unexpected PEM headers");
  fails(std::string(2 << 20, 'A'), "larger than 1 MiB");
}

TEST(CosignKey, AcceptsUnencryptedPemKeys) {
  auto p384 = PrivateKey::generate(KeyType::kEcdsaP384);
  ASSERT_TRUE(p384.ok());
  auto key = decrypt_cosign_private_key(p384->pkcs8_pem(), "");
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_TRUE(key->public_key().equals(p384->public_key()));
  // SEC 1 "EC PRIVATE KEY" from cosign's tests.
  auto sec1 = read_vector("cosign-validecp256.key");
  auto ec = decrypt_cosign_private_key(sec1, "");
  ASSERT_TRUE(ec.ok()) << ec.error().message;
  EXPECT_EQ(ec->type(), KeyType::kEcdsaP256);
  EXPECT_FALSE(decrypt_cosign_private_key("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "").ok());
}

// Real files written by cosign, from its test suite (see tests/unit/crypto/testdata/*.key).
TEST(CosignKey, DecryptsCosignTestVectors) {
  for (const char* name : {"cosign-sigstore-label", "cosign-cosign-label"}) {
    SCOPED_TRACE(name);
    std::string pem = read_vector(std::string(name) + ".key");
    auto key = decrypt_cosign_private_key(pem, "hello");
    ASSERT_TRUE(key.ok()) << key.error().message;
    EXPECT_EQ(key->type(), KeyType::kEcdsaP256);
    auto expected = PublicKey::from_pem(read_vector(std::string(name) + ".pub"));
    ASSERT_TRUE(expected.ok()) << expected.error().message;
    EXPECT_TRUE(key->public_key().equals(*expected));
    auto wrong = decrypt_cosign_private_key(pem, "Hello");
    ASSERT_FALSE(wrong.ok());
    EXPECT_EQ(wrong.error().code, ErrorCode::kVerification);
  }
}

TEST(CosignKey, RefusesNonPkcs8Plaintext) {
  // Decrypts fine, but holds a SEC 1 key; cosign's LoadPrivateKey refuses it too.
  auto key = decrypt_cosign_private_key(read_vector("cosign-sec1-plaintext.key"), "hello");
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(key.error().message, "cosign key: decrypted key is not a DER PKCS#8 private key");
}

// ---- Interop with an independent implementation (Python hashlib.scrypt + PyNaCl) ----

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

std::string shell_quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// "<python> <script>" when a Python with PyNaCl is found (Debian: python3-nacl), else nullopt.
std::optional<std::string> interop_command() {
  fs::path script = fs::path(VOUCH_SOURCE_DIR) / "tests" / "unit" / "crypto" / "cosign_key_interop.py";
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("VOUCH_PYTHON")) candidates.emplace_back(env);
  candidates.emplace_back("/usr/bin/python3");
  candidates.emplace_back("python3");
  for (const auto& python : candidates) {
    std::string cmd = shell_quote(python) + " " + shell_quote(script.string());
    if (run(cmd + " check 2>/dev/null")) return cmd;
  }
  return std::nullopt;
}

TEST(CosignKey, InteropWithPythonNacl) {
  auto cmd = interop_command();
  if (!cmd) GTEST_SKIP() << "no python3 with PyNaCl (apt-get install python3-nacl)";
  const std::string password = "pa ss'word";

  // Python encrypts, vouch decrypts.
  auto p521 = PrivateKey::generate(KeyType::kEcdsaP521);
  ASSERT_TRUE(p521.ok());
  auto pem = run(*cmd + " encrypt " + shell_quote(password) + " " + hex_encode(p521->pkcs8_der()));
  ASSERT_TRUE(pem.has_value());
  auto key = decrypt_cosign_private_key(*pem, password);
  ASSERT_TRUE(key.ok()) << key.error().message << "\n" << *pem;
  EXPECT_TRUE(key->public_key().equals(p521->public_key()));
  EXPECT_EQ(decrypt_cosign_private_key(*pem, "other").error().code, ErrorCode::kVerification);

  // vouch encrypts, Python decrypts.
  fs::path file = fs::temp_directory_path() / fmt::format("vouch-cosign-key-{}.pem", getpid());
  ASSERT_TRUE(write_file_atomic(file, fixture().pem, 0600).ok());
  auto hex = run(*cmd + " decrypt " + shell_quote("correct horse") + " " + shell_quote(file.string()));
  fs::remove(file);
  ASSERT_TRUE(hex.has_value());
  EXPECT_EQ(*hex, hex_encode(fixture().key.pkcs8_der()) + "\n");
}

}  // namespace
}  // namespace vouch::crypto
