#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "vouch/base/file.h"
#include "vouch/intoto/dsse.h"
#include "vouch/intoto/predicate.h"
#include "vouch/intoto/statement.h"

namespace vouch::intoto {
namespace {

TEST(Dsse, PaeMatchesTheSpecificationExample) {
  // From the DSSE protocol document: PAE("http://example.com/HelloWorld", "hello world").
  EXPECT_EQ(to_string(pae("http://example.com/HelloWorld", as_bytes("hello world"))),
            "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
}

TEST(Dsse, SignVerifyTamper) {
  auto key = crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256);
  ASSERT_TRUE(key.ok());
  auto env = sign_envelope(kInTotoPayloadType, as_bytes("{\"a\":1}"), *key);
  ASSERT_TRUE(env.ok());
  auto parsed = parse_envelope(serialize_envelope(*env));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_TRUE(verify_envelope(*parsed, key->public_key()).ok());
  Envelope changed_type = *parsed;
  changed_type.payload_type = "text/plain";
  EXPECT_FALSE(verify_envelope(changed_type, key->public_key()).ok());
  Envelope changed_payload = *parsed;
  changed_payload.payload.push_back(' ');
  EXPECT_FALSE(verify_envelope(changed_payload, key->public_key()).ok());
  auto other = crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256);
  EXPECT_FALSE(verify_envelope(*parsed, other->public_key()).ok());
}

TEST(Dsse, MalformedEnvelopes) {
  for (std::string_view bad : {"", "{}", "{\"payload\":\"!!\",\"payloadType\":\"x\",\"signatures\":[]}",
                               "{\"payload\":\"\",\"payloadType\":\"x\",\"signatures\":[]}",
                               "{\"payload\":\"\",\"payloadType\":1,\"signatures\":[{\"sig\":\"\"}]}"}) {
    auto r = parse_envelope(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().message.rfind("DSSE envelope: ", 0), 0u) << r.error().message;
  }
}

// Both directions against securesystemslib and python-cryptography (Debian packages).
TEST(Dsse, InteropWithSecuresystemslib) {
  auto dir = std::filesystem::temp_directory_path() / ("vouch-dsse-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string script = std::string(VOUCH_SOURCE_DIR) + "/tests/unit/intoto/dsse_interop.py";
  ASSERT_EQ(std::system(("/usr/bin/python3 -c 'import securesystemslib.signer, cryptography' 2>/dev/null")), 0)
      << "python3-securesystemslib and python3-cryptography are required (scripts/install-deps.sh)";

  auto key = crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256);
  Statement st;
  st.subjects.push_back({"app", {{"sha256", std::string(64, 'a')}}});
  st.predicate_type = std::string(kSlsaProvenanceV1);
  st.predicate = boost::json::object{{"buildDefinition", boost::json::object{{"buildType", "https://example/b"}}}};
  auto env = sign_envelope(kInTotoPayloadType, as_bytes(serialize_statement(st)), *key);
  ASSERT_TRUE(write_file_atomic(dir / "env.json", serialize_envelope(*env)).ok());
  ASSERT_TRUE(write_file_atomic(dir / "key.pem", key->public_key().pem()).ok());
  std::string verify = "/usr/bin/python3 " + script + " verify " + (dir / "env.json").string() + " " +
                       (dir / "key.pem").string();
  EXPECT_EQ(std::system(verify.c_str()), 0);
  // A tampered envelope must fail there too: the check is not one that always passes.
  Envelope tampered = *env;
  tampered.payload.back() = '}' ^ 1;
  ASSERT_TRUE(write_file_atomic(dir / "env.json", serialize_envelope(tampered)).ok());
  EXPECT_NE(std::system((verify + " 2>/dev/null").c_str()), 0);

  ASSERT_TRUE(write_file_atomic(dir / "payload", serialize_statement(st)).ok());
  std::string sign = "/usr/bin/python3 " + script + " sign " + std::string(kInTotoPayloadType) + " " +
                     (dir / "payload").string() + " " + (dir / "py.json").string() + " " + (dir / "py.pem").string();
  ASSERT_EQ(std::system(sign.c_str()), 0);
  auto py_env = parse_envelope(*read_file(dir / "py.json"));
  ASSERT_TRUE(py_env.ok()) << py_env.error().message;
  auto py_key = crypto::PublicKey::from_pem(*read_file(dir / "py.pem"));
  ASSERT_TRUE(py_key.ok());
  EXPECT_TRUE(verify_envelope(*py_env, *py_key).ok());
  auto parsed = parse_statement(py_env->payload);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_TRUE(parsed->has_subject_digest("sha256", std::string(64, 'A')));
  std::filesystem::remove_all(dir);
}

TEST(Statement, ParseAndSerialize) {
  auto st = parse_statement(as_bytes(
      R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"AB"}}],)"
      R"("predicateType":"https://slsa.dev/provenance/v1","predicate":{"x":[1,2]}})"));
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_TRUE(st->has_subject_digest("sha256", "ab"));
  EXPECT_FALSE(st->has_subject_digest("sha512", "ab"));
  EXPECT_EQ(serialize_statement(*st),
            R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"AB"}}],)"
            R"("predicateType":"https://slsa.dev/provenance/v1","predicate":{"x":[1,2]}})");
  auto bad_type = parse_statement(as_bytes(R"({"_type":"x","subject":[],"predicateType":"p"})"));
  ASSERT_FALSE(bad_type.ok());
  EXPECT_NE(bad_type.error().message.find("_type"), std::string::npos);
  auto no_subject = parse_statement(as_bytes(R"({"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"p"})"));
  ASSERT_FALSE(no_subject.ok());
  EXPECT_NE(no_subject.error().message.find("subject: no subjects"), std::string::npos) << no_subject.error().message;
}

TEST(Predicate, CosignTypeNames) {
  EXPECT_EQ(*predicate_type_for("slsaprovenance"), "https://slsa.dev/provenance/v0.2");
  EXPECT_EQ(*predicate_type_for("slsaprovenance1"), "https://slsa.dev/provenance/v1");
  EXPECT_EQ(*predicate_type_for("spdxjson"), "https://spdx.dev/Document");
  EXPECT_EQ(*predicate_type_for("cyclonedx"), "https://cyclonedx.org/bom");
  EXPECT_EQ(*predicate_type_for("vuln"), "https://cosign.sigstore.dev/attestation/vuln/v1");
  EXPECT_EQ(*predicate_type_for("openvex"), "https://openvex.dev/ns");
  EXPECT_EQ(*predicate_type_for("custom"), "https://cosign.sigstore.dev/attestation/v1");
  EXPECT_EQ(*predicate_type_for("https://example.com/p/v1"), "https://example.com/p/v1");
  EXPECT_FALSE(predicate_type_for("sbom").ok());
  EXPECT_EQ(boost::json::serialize(custom_predicate("x", "2024-01-01T00:00:00Z")),
            R"({"Data":"x","Timestamp":"2024-01-01T00:00:00Z"})");
}

}  // namespace
}  // namespace vouch::intoto
