// BuildKit's unsigned provenance: what its statements claim, checked against what was asked.
// The statements have the shapes BuildKit writes for mode=min (v0.2) and version=v1.
#include <gtest/gtest.h>

#include "vouch/slsa/buildkit.h"

namespace vouch::slsa {
namespace {

const oci::Digest kImage = oci::Digest::sha256_from_hex(std::string(64, 'a'));

std::string v02_statement(std::string_view vcs, std::string_view config_source = R"({"entryPoint":"Dockerfile"})",
                          std::string_view builder = "", std::string_view subject_hex = std::string(64, 'a')) {
  return fmt::format(R"({{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v0.2",
    "subject":[{{"name":"pkg:docker/registry.example/app@v1?platform=linux%2Famd64","digest":{{"sha256":"{}"}}}}],
    "predicate":{{"builder":{{"id":"{}"}},"buildType":"https://mobyproject.org/buildkit@v1",
      "materials":[{{"uri":"pkg:docker/debian@12?platform=linux%2Famd64","digest":{{"sha256":"{}"}}}}],
      "invocation":{{"configSource":{},"parameters":{{"frontend":"dockerfile.v0"}},"environment":{{"platform":"linux/amd64"}}}},
      "metadata":{{"buildInvocationID":"x1","completeness":{{"parameters":true}},"reproducible":false,
        "https://mobyproject.org/buildkit@v1#metadata":{}}}}}}})",
                     subject_hex, builder, std::string(64, 'b'), config_source, vcs);
}

std::string v1_statement(std::string_view vcs, std::string_view builder = "https://github.com/o/r/actions/runs/1") {
  return fmt::format(R"({{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v1",
    "subject":[{{"name":"pkg:docker/app@v1","digest":{{"sha256":"{}"}}}}],
    "predicate":{{"buildDefinition":{{"buildType":"https://github.com/moby/buildkit/blob/master/docs/attestations/slsa-definitions.md",
        "externalParameters":{{"configSource":{{"uri":"https://github.com/o/r.git#refs/tags/v1","digest":{{"sha1":"c0ffee"}},"path":"Dockerfile"}},
                               "request":{{"frontend":"dockerfile.v0"}}}}}},
      "runDetails":{{"builder":{{"id":"{}"}},"metadata":{{"invocationID":"x2",
        "https://mobyproject.org/buildkit@v1#metadata":{}}}}}}}}})",
                     std::string(64, 'a'), builder, vcs);
}

BuildKitCheckOptions asking(std::string source, std::optional<std::string> builder = std::nullopt) {
  BuildKitCheckOptions o;
  o.source_uri = std::move(source);
  o.builder_id = std::move(builder);
  return o;
}

TEST(SlsaBuildKit, NormalizesRepositoriesAsUsersWriteThem) {
  for (const char* uri : {"https://github.com/Org/Repo.git", "https://github.com/Org/Repo.git#refs/tags/v1",
                          "git@github.com:Org/Repo.git", "git+https://github.com/Org/Repo@refs/heads/main",
                          "github.com/Org/Repo", "https://GitHub.com/Org/Repo/", "ssh://git@github.com/Org/Repo"})
    EXPECT_EQ(normalize_repository(uri), "github.com/Org/Repo") << uri;
  // A port stays a port; a different repository stays different.
  EXPECT_EQ(normalize_repository("https://git.example:8443/a/b.git"), "git.example:8443/a/b");
  EXPECT_NE(normalize_repository("https://github.com/Org/Repo2"), normalize_repository("https://github.com/Org/Repo"));
}

TEST(SlsaBuildKit, V02StatementNamingTheRepositoryPasses) {
  auto v = check_buildkit_statement(
      v02_statement(R"({"vcs":{"source":"https://github.com/o/r.git","revision":"deadbeef"}})"), kImage,
      asking("github.com/o/r"));
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->source, "https://github.com/o/r.git");
  EXPECT_EQ(v->commit, "deadbeef");
  EXPECT_EQ(v->builder_id, "");
  EXPECT_EQ(v->provenance.version, ProvenanceVersion::kV02);
}

TEST(SlsaBuildKit, V1StatementReadsVcsAndConfigSource) {
  auto v = check_buildkit_statement(v1_statement(R"({"vcs":{"source":"git@github.com:o/r.git","revision":"abc123"}})"),
                                    kImage, asking("github.com/o/r", "https://github.com/o/r/actions/runs/1"));
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->commit, "abc123");
  // Without vcs metadata, the git context BuildKit was given is the source.
  auto from_context = check_buildkit_statement(v1_statement("{}"), kImage, asking("github.com/o/r"));
  ASSERT_TRUE(from_context.ok()) << from_context.error().message;
  EXPECT_EQ(from_context->source, "https://github.com/o/r.git#refs/tags/v1");
  EXPECT_EQ(from_context->commit, "c0ffee");
}

TEST(SlsaBuildKit, WrongRepositoryFailsSource) {
  auto v = check_buildkit_statement(v02_statement(R"({"vcs":{"source":"https://github.com/evil/r.git"}})"), kImage,
                                    asking("github.com/o/r"));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code, ErrorCode::kVerification);
  EXPECT_TRUE(v.error().message.starts_with("source: ")) << v.error().message;
}

TEST(SlsaBuildKit, NoRecordedRepositoryFailsSource) {
  // A local build context: BuildKit records neither vcs nor a config source URI.
  auto v = check_buildkit_statement(v02_statement("{}"), kImage, asking("github.com/o/r"));
  ASSERT_FALSE(v.ok());
  EXPECT_TRUE(v.error().message.starts_with("source: the provenance records no source repository")) << v.error().message;
}

TEST(SlsaBuildKit, OtherImageFailsSubjectDigest) {
  auto v = check_buildkit_statement(
      v02_statement(R"({"vcs":{"source":"https://github.com/o/r.git"}})", R"({"entryPoint":"Dockerfile"})", "",
                    std::string(64, 'c')),
      kImage, asking("github.com/o/r"));
  ASSERT_FALSE(v.ok());
  EXPECT_TRUE(v.error().message.starts_with("subject digest: ")) << v.error().message;
}

TEST(SlsaBuildKit, BuilderIdIsComparedExactly) {
  const std::string s = v1_statement(R"({"vcs":{"source":"https://github.com/o/r"}})");
  EXPECT_TRUE(check_buildkit_statement(s, kImage, asking("github.com/o/r", "https://github.com/o/r/actions/runs/1")).ok());
  auto v = check_buildkit_statement(s, kImage, asking("github.com/o/r", "https://github.com/o/r/actions/runs/2"));
  ASSERT_FALSE(v.ok());
  EXPECT_TRUE(v.error().message.starts_with("builder: ")) << v.error().message;
  // An empty builder.id never matches one asked for.
  auto empty = check_buildkit_statement(v02_statement(R"({"vcs":{"source":"https://github.com/o/r"}})"), kImage,
                                        asking("github.com/o/r", "https://github.com/o/r/actions/runs/1"));
  EXPECT_FALSE(empty.ok());
}

TEST(SlsaBuildKit, NotProvenanceFailsWithTheField) {
  auto sbom = check_buildkit_statement(
      R"({"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://spdx.dev/Document",
          "subject":[{"name":"x","digest":{"sha256":"aa"}}],"predicate":{}})",
      kImage, asking("github.com/o/r"));
  ASSERT_FALSE(sbom.ok());
  EXPECT_TRUE(sbom.error().message.starts_with("provenance: ")) << sbom.error().message;
  EXPECT_FALSE(check_buildkit_statement("{not json", kImage, asking("github.com/o/r")).ok());
}

}  // namespace
}  // namespace vouch::slsa
