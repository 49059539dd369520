// slsa-verifier's regression cases on real slsa-github-generator provenance (../shared/testdata/slsa):
// every case passes where slsa-verifier passes and fails on the same check where it fails.
#include <gtest/gtest.h>

#include <memory>

#include "../testdata.h"
#include "vouch/base/bytes.h"
#include "vouch/base/json.h"
#include "vouch/crypto/digest.h"
#include "vouch/sigstore/bundle.h"
#include "vouch/sigstore/trusted_root.h"
#include "vouch/slsa/verify.h"

namespace vouch::slsa {
namespace {

namespace bj = boost::json;

const std::string kGeneric = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml";
const std::string kContainerBased =
    "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_container-based_slsa3.yml";
const std::string kNotTrusted = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/not-trusted.yml";
const std::string kSource = "github.com/slsa-framework/example-package";
const std::string kGenericDigest = "376e7e01348585b6e6643bc6663146b9d525d9b41228bf180eaeb4d4a3706caa";
const std::string kEmptyDigest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

const sigstore::TrustedRoot& public_good() {
  static const auto root = std::make_shared<sigstore::TrustedRoot>(
      *sigstore::parse_trusted_root(testing::read_testdata("slsa/trusted_root.public-good.json")));
  return *root;
}

std::string generic(const std::string& name) {
  return testing::read_testdata("slsa/gha_generic/v2.1.0/binary-linux-amd64-" + name + ".intoto.jsonl");
}
std::string container_based(const std::string& name) {
  return testing::read_testdata("slsa/gha_container-based/v2.1.0/binary-linux-amd64-" + name + ".intoto.build.slsa");
}

struct Flags {
  std::optional<std::string> builder = {}, branch = {}, tag = {}, versioned_tag = {};
  std::string source = kSource;
};

// "" when verification passes, else the failed check's name (the message up to the first ':').
std::string outcome(const std::string& bundle, const std::string& digest, const Flags& f) {
  ProvenanceOptions o;
  o.source_uri = f.source;
  o.builder_id = f.builder;
  o.branch = f.branch;
  o.tag = f.tag;
  o.versioned_tag = f.versioned_tag;
  o.expected_digest = digest;
  auto r = verify_artifact_provenance(bundle, o, public_good());
  if (r.ok()) return "";
  EXPECT_EQ(r.error().code, ErrorCode::kVerification) << r.error().message;
  EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
  return r.error().message.substr(0, r.error().message.find(':'));
}

std::vector<std::optional<std::string>> builder_variants(const std::string& builder) {
  return {std::nullopt, builder, builder + "@v2.1.0", builder + "@refs/tags/v2.1.0"};
}

TEST(SlsaVerify, GenericWorkflowDispatch) {
  const std::string bundle = generic("workflow_dispatch");
  for (const auto& b : builder_variants(kGeneric)) {
    SCOPED_TRACE(b.value_or("(no builder)"));
    EXPECT_EQ(outcome(bundle, kGenericDigest, {.builder = b}), "");
    EXPECT_EQ(outcome(bundle, kGenericDigest, {.builder = b, .branch = "main"}), "");
    EXPECT_EQ(outcome(bundle, kGenericDigest, {.builder = b, .branch = "master"}), "branch");
    EXPECT_EQ(outcome(bundle, kGenericDigest, {.builder = b, .source = "github.com/laurentsimon/slsa-verifier-test-gen"}),
              "source");
    EXPECT_EQ(outcome(bundle, kGenericDigest, {.builder = b, .source = "github.com/Alaurentsimon/slsa-verifier-test-gen"}),
              "source");
    // A branch build has no tag: the tag flags find an invalid ref.
    EXPECT_EQ(outcome(bundle, kGenericDigest, {.builder = b, .tag = "v1.2.3"}), "tag");
    EXPECT_EQ(outcome(bundle, kGenericDigest, {.builder = b, .versioned_tag = "v1"}), "versioned tag");
  }
  EXPECT_EQ(outcome(bundle, kGenericDigest, {.builder = kNotTrusted}), "builder");
}

TEST(SlsaVerify, GenericFailureMessagesSaySlsaVerifiersReason) {
  ProvenanceOptions o;
  o.source_uri = kSource;
  o.expected_digest = kGenericDigest;
  o.branch = "master";
  auto r = verify_artifact_provenance(generic("workflow_dispatch"), o, public_good());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("expected branch 'master', got 'main'"), std::string::npos) << r.error().message;
  o.branch.reset();
  o.tag = "v1.2.3";
  r = verify_artifact_provenance(generic("workflow_dispatch"), o, public_good());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("invalid ref"), std::string::npos) << r.error().message;
}

TEST(SlsaVerify, GenericPassReportsBuilderAndCommit) {
  ProvenanceOptions o;
  o.source_uri = kSource;
  o.expected_digest = kGenericDigest;
  auto r = verify_artifact_provenance(generic("workflow_dispatch"), o, public_good());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->builder_id, kGeneric + "@refs/tags/v2.1.0");
  EXPECT_EQ(r->commit.size(), 40u);
  EXPECT_EQ(r->provenance.version, ProvenanceVersion::kV02);
}

TEST(SlsaVerify, GenericPushV13030) {
  const std::string bundle = generic("push-v13.0.30");
  for (const auto& b : builder_variants(kGeneric)) {
    SCOPED_TRACE(b.value_or("(no builder)"));
    for (std::string t : {"v13.0.29", "v13.0", "v13"}) EXPECT_EQ(outcome(bundle, kGenericDigest, {.builder = b, .tag = t}), "tag") << t;
    EXPECT_EQ(outcome(bundle, kGenericDigest, {.builder = b, .tag = "v13.0.30"}), "");
    for (std::string t : {"v13.0.30", "v13.0", "v13"})
      EXPECT_EQ(outcome(bundle, kGenericDigest, {.builder = b, .versioned_tag = t}), "") << t;
    for (std::string t : {"v2", "v0", "v13.1", "v12.9", "v13.0.29", "v13.0.31"})
      EXPECT_EQ(outcome(bundle, kGenericDigest, {.builder = b, .versioned_tag = t}), "versioned tag") << t;
  }
}

TEST(SlsaVerify, GenericPushV14) {
  const std::string bundle = generic("push-v14");
  for (const auto& b : builder_variants(kGeneric)) {
    for (std::string t : {"v14", "v14.0"}) EXPECT_EQ(outcome(bundle, kGenericDigest, {.builder = b, .versioned_tag = t}), "") << t;
    for (std::string t : {"v14.1", "v13", "v15", "v13.2", "v0"})
      EXPECT_EQ(outcome(bundle, kGenericDigest, {.builder = b, .versioned_tag = t}), "versioned tag") << t;
  }
  // A tag build on main: the branch comes from the push event's base_ref.
  EXPECT_EQ(outcome(bundle, kGenericDigest, {.branch = "main"}), "");
}

TEST(SlsaVerify, GenericPushV142) {
  const std::string bundle = generic("push-v14.2");
  for (const auto& b : builder_variants(kGeneric)) {
    for (std::string t : {"v14.2", "v14"}) EXPECT_EQ(outcome(bundle, kGenericDigest, {.builder = b, .versioned_tag = t}), "") << t;
    for (std::string t : {"v14.2.1", "v14.2.3", "v14.1", "v14.1.1", "v14.3.1", "v13", "v15", "v15.1"})
      EXPECT_EQ(outcome(bundle, kGenericDigest, {.builder = b, .versioned_tag = t}), "versioned tag") << t;
  }
}

TEST(SlsaVerify, ContainerBasedWorkflowDispatch) {
  const std::string bundle = container_based("workflow_dispatch");
  for (const auto& b : builder_variants(kContainerBased)) {
    SCOPED_TRACE(b.value_or("(no builder)"));
    EXPECT_EQ(outcome(bundle, kEmptyDigest, {.builder = b}), "");
    EXPECT_EQ(outcome(bundle, kEmptyDigest, {.builder = b, .branch = "main"}), "");
    EXPECT_EQ(outcome(bundle, kEmptyDigest, {.builder = b, .branch = "master"}), "branch");
    EXPECT_EQ(outcome(bundle, kEmptyDigest, {.builder = b, .versioned_tag = "v1"}), "versioned tag");
    EXPECT_EQ(outcome(bundle, kEmptyDigest, {.builder = b, .tag = "v1.2.3"}), "tag");
    for (std::string s : {"github.com/slsa-framework/example-packageA", "Agithub.com/slsa-framework/example-package",
                          "github.com/Aslsa-framework/example-package"})
      EXPECT_EQ(outcome(bundle, kEmptyDigest, {.builder = b, .source = s}), "source") << s;
  }
  EXPECT_EQ(outcome(bundle, kEmptyDigest, {.builder = kNotTrusted}), "builder");
  // The container-based builder's provenance is v1.
  ProvenanceOptions o;
  o.source_uri = kSource;
  o.expected_digest = kEmptyDigest;
  auto r = verify_artifact_provenance(bundle, o, public_good());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->provenance.version, ProvenanceVersion::kV1);
  EXPECT_EQ(r->builder_id, kContainerBased + "@refs/tags/v2.1.0");
}

TEST(SlsaVerify, ContainerBasedTagBuilds) {
  EXPECT_EQ(outcome(container_based("push-v14.2"), kEmptyDigest, {.versioned_tag = "v14"}), "");
  EXPECT_EQ(outcome(container_based("push-v14"), kEmptyDigest, {.tag = "v14"}), "");
  EXPECT_EQ(outcome(container_based("push-v13.0.30"), kEmptyDigest, {.versioned_tag = "v13.1"}), "versioned tag");
}

TEST(SlsaVerify, WrongArtifactFailsOnTheSubjectDigest) {
  EXPECT_EQ(outcome(generic("workflow_dispatch"), kEmptyDigest, {}), "subject digest");
  EXPECT_EQ(outcome(container_based("workflow_dispatch"), kGenericDigest, {}), "subject digest");
}

TEST(SlsaVerify, BuilderOfAnotherKindIsUntrusted) {
  // The generic generator's provenance with the container-based builder asked for.
  EXPECT_EQ(outcome(generic("workflow_dispatch"), kGenericDigest, {.builder = kContainerBased}), "builder");
  // A version other than the certificate's.
  EXPECT_EQ(outcome(generic("workflow_dispatch"), kGenericDigest, {.builder = kGeneric + "@v2.0.0"}), "builder");
}

// The bundle with its DSSE payload replaced by `edit` applied to the statement.
std::string tampered(const std::string& bundle_json, const std::function<void(std::string&)>& edit) {
  bj::value b = *json::parse(bundle_json);
  auto& env = b.as_object()["dsseEnvelope"].as_object();
  auto payload = base64_decode(std::string(env["payload"].as_string()));
  std::string statement = to_string(*payload);
  edit(statement);
  env["payload"] = base64_encode(as_bytes(statement));
  return json::serialize(b);
}

TEST(SlsaVerify, TamperedPayloadFailsTheAttestation) {
  std::string bundle = tampered(generic("workflow_dispatch"), [](std::string& s) {
    auto at = s.find("refs/heads/main");
    ASSERT_NE(at, std::string::npos);
    s.replace(at, 15, "refs/heads/evil");
  });
  EXPECT_EQ(outcome(bundle, kGenericDigest, {}), "attestation");
  bundle = tampered(container_based("workflow_dispatch"), [](std::string& s) { s += " "; });
  EXPECT_EQ(outcome(bundle, kEmptyDigest, {}), "attestation");
}

TEST(SlsaVerify, AttestationNeedsTheTrustedRoot) {
  sigstore::TrustedRoot empty;
  ProvenanceOptions o;
  o.source_uri = kSource;
  o.expected_digest = kGenericDigest;
  auto r = verify_artifact_provenance(generic("workflow_dispatch"), o, empty);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().message.starts_with("attestation:")) << r.error().message;
}

TEST(SlsaVerify, PrivateIssuerMustBeAskedFor) {
  ProvenanceOptions o;
  o.source_uri = kSource;
  o.expected_digest = kGenericDigest;
  o.issuer = "https://issuer.example";
  auto r = verify_artifact_provenance(generic("workflow_dispatch"), o, public_good());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().message.starts_with("issuer: invalid OIDC issuer")) << r.error().message;
}

// ---- the checks after the signature, on statements the real certificate did not sign ----

struct Signed {
  intoto::Envelope envelope;
  crypto::Certificate cert;
};

Signed real(const std::string& bundle_json) {
  auto b = sigstore::parse_bundle(bundle_json);
  EXPECT_TRUE(b.ok());
  return {std::get<sigstore::DsseEnvelope>(b->content), *b->material.leaf()};
}

std::string check_failure(const Signed& s, const std::string& statement, std::string payload_type = "application/vnd.in-toto+json") {
  intoto::Envelope env = s.envelope;
  env.payload = to_bytes(statement);
  env.payload_type = std::move(payload_type);
  ProvenanceOptions o;
  o.source_uri = kSource;
  o.expected_digest = kGenericDigest;
  auto r = verify_envelope_and_certificate(env, s.cert, o, artifact_builders());
  if (r.ok()) return "";
  EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
  return r.error().message;
}

TEST(SlsaVerify, EnvelopeChecksRunInSlsaVerifiersOrder) {
  Signed s = real(generic("workflow_dispatch"));
  const std::string statement = to_string(s.envelope.payload);
  EXPECT_EQ(check_failure(s, statement), "");
  // Payload type before anything in the payload.
  EXPECT_TRUE(check_failure(s, "not json", "text/plain").starts_with("payload type:"));
  // A builder.id other than the certificate's.
  std::string other = statement;
  const std::string id = "generator_generic_slsa3.yml@refs/tags/v2.1.0";
  other.replace(other.find(id), id.size(), "generator_generic_slsa3.yml@refs/tags/v2.0.0");
  EXPECT_TRUE(check_failure(s, other).starts_with("builder id:")) << check_failure(s, other);
  // A build type the builder does not write.
  other = statement;
  other.replace(other.find("slsa-github-generator/generic@v1"), 32, "slsa-github-generator/go@v1xxxxx");
  EXPECT_TRUE(check_failure(s, other).starts_with("build type:")) << check_failure(s, other);
  // Trigger and first material disagree.
  other = statement;
  auto m = other.find("\"materials\"");
  ASSERT_NE(m, std::string::npos);
  other.replace(other.find("@refs/heads/main", m), 16, "@refs/heads/next");
  EXPECT_TRUE(check_failure(s, other).starts_with("trigger:")) << check_failure(s, other);
}

TEST(SlsaVerify, MalformedStatementsNameTheField) {
  Signed s = real(generic("workflow_dispatch"));
  auto msg = check_failure(s, R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a"}],)"
                              R"("predicateType":"https://slsa.dev/provenance/v1","predicate":{}})");
  EXPECT_TRUE(msg.starts_with("provenance:")) << msg;
  EXPECT_NE(msg.find("subject[0]"), std::string::npos) << msg;
  msg = check_failure(s, R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"00"}}],)"
                         R"("predicateType":"https://spdx.dev/Document","predicate":{}})");
  EXPECT_NE(msg.find("predicateType"), std::string::npos) << msg;
  msg = check_failure(s, R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"00"}}],)"
                         R"("predicateType":"https://slsa.dev/provenance/v1","predicate":{"buildDefinition":[]}})");
  EXPECT_NE(msg.find("predicate.buildDefinition"), std::string::npos) << msg;
  msg = check_failure(s, std::string(100, '[') + std::string(100, ']'));
  EXPECT_TRUE(msg.starts_with("provenance:")) << msg;
}

TEST(SlsaVerify, SubjectDigestMustBeStrongEnough) {
  Signed s = real(generic("workflow_dispatch"));
  ProvenanceOptions o;
  o.source_uri = kSource;
  o.expected_digest = "abcd";
  auto r = verify_envelope_and_certificate(s.envelope, s.cert, o, artifact_builders());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().message.starts_with("subject digest: invalid hash")) << r.error().message;
}

TEST(SlsaVerify, WorkflowIdentityFromTheCertificate) {
  Signed s = real(generic("workflow_dispatch"));
  auto id = workflow_identity(s.cert);
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(id->issuer, kGithubActionsIssuer);
  EXPECT_EQ(id->source_repository, "slsa-framework/example-package");
  EXPECT_EQ(id->workflow_name(), kGeneric);
  EXPECT_EQ(id->workflow_ref(), "refs/tags/v2.1.0");
}

TEST(SlsaVersionedTag, FollowsGoSemver) {
  EXPECT_TRUE(is_semver("v1"));
  EXPECT_TRUE(is_semver("v1.2"));
  EXPECT_TRUE(is_semver("v1.2.3-rc.1+build.5"));
  EXPECT_FALSE(is_semver("1.2.3"));
  EXPECT_FALSE(is_semver("v1.2-rc"));
  EXPECT_FALSE(is_semver("v01.2.3"));
  EXPECT_FALSE(is_semver("v1.2.3.4"));
  EXPECT_TRUE(verify_versioned_tag("v1.2.3", "v1").ok());
  EXPECT_TRUE(verify_versioned_tag("v1.2.3", "v1.2.3+meta").ok());
  EXPECT_FALSE(verify_versioned_tag("v1.2.3-rc.1", "v1.2.3").ok());
  EXPECT_TRUE(verify_versioned_tag("v1.2.3-rc.1", "v1.2.3-rc.1").ok());
  EXPECT_FALSE(verify_versioned_tag("release", "v1").ok());
}

TEST(SlsaBuilderId, MatchesAsSlsaVerifier) {
  auto id = *BuilderId::parse("https://x/y.yml@refs/tags/v1.2.3", true);
  EXPECT_TRUE(id.matches_loose("https://x/y.yml").ok());
  EXPECT_TRUE(id.matches_loose("https://x/y.yml@v1.2.3").ok());
  EXPECT_FALSE(id.matches_loose("https://x/y.yml@v1.2.4").ok());
  EXPECT_FALSE(id.matches_full("https://x/y.yml").ok());
  EXPECT_TRUE(id.matches_full("https://x/y.yml@refs/tags/v1.2.3").ok());
  EXPECT_FALSE(BuilderId::parse("https://x/y.yml", true).ok());
  EXPECT_FALSE(BuilderId::parse("a@b@c", false).ok());
  EXPECT_FALSE(BuilderId::parse("a@", false).ok());
}

}  // namespace
}  // namespace vouch::slsa
