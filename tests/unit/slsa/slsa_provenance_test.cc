// The provenance model read leniently from untrusted bytes, and provenance generated from CI
// environments read back by it.
#include <gtest/gtest.h>

#include "vouch/base/bytes.h"
#include "vouch/base/json.h"
#include "vouch/slsa/generate.h"
#include "vouch/slsa/provenance.h"

namespace vouch::slsa {
namespace {

Result<Provenance> parse(std::string_view text) { return parse_provenance(as_bytes(text)); }

std::string statement(std::string_view predicate_type, std::string_view predicate,
                      std::string_view subject = R"([{"name":"a","digest":{"sha256":"ab"}}])") {
  return fmt::format(R"({{"_type":"https://in-toto.io/Statement/v1","subject":{},"predicateType":"{}","predicate":{}}})",
                     subject, predicate_type, predicate);
}

TEST(SlsaProvenance, ReadsV1AndIgnoresUnknownMembers) {
  auto p = parse(statement("https://slsa.dev/provenance/v1", R"({
    "buildDefinition": {"buildType": "bt", "externalParameters": {"x": 1}, "future": true,
                        "resolvedDependencies": [{"uri": "git+https://github.com/o/r@refs/heads/main",
                                                  "digest": {"gitCommit": "abc"}, "extra": [1]}]},
    "runDetails": {"builder": {"id": "https://b@v1"}, "metadata": {"invocationId": "run"}}})"));
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->version, ProvenanceVersion::kV1);
  EXPECT_EQ(p->build_type, "bt");
  EXPECT_EQ(p->builder_id, "https://b@v1");
  ASSERT_EQ(p->resolved_dependencies.size(), 1u);
  EXPECT_EQ(p->resolved_dependencies[0].digest.at("gitCommit"), "abc");
  EXPECT_EQ(p->invocation_id, "run");
  EXPECT_TRUE(p->internal_parameters.is_null());  // unset is empty
}

TEST(SlsaProvenance, ReadsV02InV1Roles) {
  auto p = parse(statement("https://slsa.dev/provenance/v0.2", R"({
    "builder": {"id": "https://b@v1"}, "buildType": "bt",
    "invocation": {"configSource": {"uri": "git+https://github.com/o/r@refs/tags/v1", "entryPoint": "w.yml"},
                   "parameters": {"p": 1}, "environment": {"github_ref": "refs/tags/v1"}},
    "materials": [{"uri": "git+https://github.com/o/r@refs/tags/v1", "digest": {"sha1": "abc"}}],
    "metadata": {"buildInvocationId": "run"}})"));
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->version, ProvenanceVersion::kV02);
  EXPECT_EQ(p->config_source.name, "w.yml");
  EXPECT_EQ(p->internal_parameters.at("github_ref").as_string(), "refs/tags/v1");
  EXPECT_EQ(p->external_parameters.at("p").as_int64(), 1);
  EXPECT_EQ(p->resolved_dependencies.at(0).uri, "git+https://github.com/o/r@refs/tags/v1");
  EXPECT_EQ(p->invocation_id, "run");
}

void expect_error_naming(std::string_view text, std::string_view field) {
  auto p = parse(text);
  ASSERT_FALSE(p.ok()) << text;
  EXPECT_NE(p.error().message.find(field), std::string::npos) << p.error().message;
  EXPECT_EQ(p.error().message.find('\n'), std::string::npos);
}

TEST(SlsaProvenance, MalformedStatementsNameTheField) {
  expect_error_naming(statement("https://slsa.dev/provenance/v1", "{}", R"([{"name":"a"}])"), "subject[0]");
  expect_error_naming(statement("https://slsa.dev/provenance/v1", "{}", R"([{"digest":{}}])"), "subject[0].digest");
  expect_error_naming(statement("https://slsa.dev/provenance/v1", "{}", R"([{"digest":{"sha256":1}}])"),
                      "subject[0].digest.sha256");
  expect_error_naming(statement("https://slsa.dev/provenance/v1", "{}", "[]"), "subject");
  expect_error_naming(statement("https://spdx.dev/Document", "{}"), "predicateType");
  expect_error_naming(statement("https://slsa.dev/provenance/v1", "[]"), "predicate");
  expect_error_naming(statement("https://slsa.dev/provenance/v1", R"({"runDetails":{"builder":{"id":7}}})"),
                      "predicate.runDetails.builder.id");
  expect_error_naming(statement("https://slsa.dev/provenance/v0.2", R"({"materials":{}})"), "predicate.materials");
  expect_error_naming(R"({"_type":"x","subject":[],"predicateType":"","predicate":{}})", "_type");
  expect_error_naming(R"({"subject":[]})", "_type");
}

TEST(SlsaProvenance, HugeOrDeepJsonIsRefused) {
  std::string deep = statement("https://slsa.dev/provenance/v1",
                               R"({"buildDefinition":{"externalParameters":)" + std::string(200, '[') +
                                   std::string(200, ']') + "}}");
  auto p = parse(deep);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("statement"), std::string::npos) << p.error().message;
  std::string huge = statement("https://slsa.dev/provenance/v1",
                               R"({"pad":")" + std::string(kMaxStatementBytes, 'a') + R"("})");
  EXPECT_FALSE(parse(huge).ok());
}

std::map<std::string, std::string> github_env() {
  return {{"GITHUB_ACTIONS", "true"},
          {"GITHUB_SERVER_URL", "https://github.com"},
          {"GITHUB_REPOSITORY", "acme/app"},
          {"GITHUB_REPOSITORY_ID", "1"},
          {"GITHUB_REPOSITORY_OWNER_ID", "2"},
          {"GITHUB_REF", "refs/tags/v1.2.3"},
          {"GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567"},
          {"GITHUB_WORKFLOW_REF", "acme/app/.github/workflows/release.yml@refs/tags/v1.2.3"},
          {"GITHUB_RUN_ID", "42"},
          {"GITHUB_RUN_ATTEMPT", "2"},
          {"GITHUB_EVENT_NAME", "push"},
          {"RUNNER_ENVIRONMENT", "github-hosted"}};
}

TEST(SlsaGenerate, GithubActionsWorkflowRun) {
  GenerateInputs in;
  in.env = github_env();
  in.github_event = boost::json::parse(R"({"inputs":{"level":"3"}})");
  auto predicate = generate_predicate(in);
  ASSERT_TRUE(predicate.ok()) << predicate.error().message;
  intoto::Subject s{"app.tgz", {{"sha256", std::string(64, 'a')}}};
  auto p = parse(provenance_statement({s}, *predicate));
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->build_type, kGithubWorkflowBuildType);
  EXPECT_EQ(p->builder_id, "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.3");
  EXPECT_EQ(p->resolved_dependencies.at(0).uri, "git+https://github.com/acme/app@refs/tags/v1.2.3");
  EXPECT_EQ(p->resolved_dependencies.at(0).digest.at("gitCommit"), "0123456789abcdef0123456789abcdef01234567");
  const auto& workflow = p->external_parameters.at("workflow");
  EXPECT_EQ(workflow.at("path").as_string(), ".github/workflows/release.yml");
  EXPECT_EQ(workflow.at("repository").as_string(), "https://github.com/acme/app");
  EXPECT_EQ(workflow.at("ref").as_string(), "refs/tags/v1.2.3");
  EXPECT_EQ(p->external_parameters.at("inputs").at("level").as_string(), "3");
  EXPECT_EQ(p->internal_parameters.at("github").at("runner_environment").as_string(), "github-hosted");
  EXPECT_EQ(p->invocation_id, "https://github.com/acme/app/actions/runs/42/attempts/2");
}

TEST(SlsaGenerate, GithubActionsNeedsItsVariables) {
  GenerateInputs in;
  in.env = github_env();
  in.env.erase("GITHUB_SHA");
  auto predicate = generate_predicate(in);
  ASSERT_FALSE(predicate.ok());
  EXPECT_NE(predicate.error().message.find("GITHUB_SHA"), std::string::npos);
  in.env = github_env();
  in.env["GITHUB_WORKFLOW_REF"] = "other/repo/.github/workflows/x.yml@refs/heads/main";
  EXPECT_FALSE(generate_predicate(in).ok());
}

TEST(SlsaGenerate, GitlabCiPipeline) {
  GenerateInputs in;
  in.env = {{"GITLAB_CI", "true"},         {"CI_PROJECT_URL", "https://gitlab.example/acme/app"},
            {"CI_COMMIT_SHA", "abc"},      {"CI_COMMIT_REF_NAME", "main"},
            {"CI_JOB_ID", "7"},            {"CI_PIPELINE_ID", "8"},
            {"CI_SERVER_URL", "https://gitlab.example"}, {"CI_RUNNER_ID", "9"}};
  auto predicate = generate_predicate(in);
  ASSERT_TRUE(predicate.ok()) << predicate.error().message;
  auto p = parse(provenance_statement({{"a", {{"sha256", "ab"}}}}, *predicate));
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->build_type, kGitlabCiBuildType);
  EXPECT_EQ(p->builder_id, "https://gitlab.example/acme/app/-/runners/9");
  EXPECT_EQ(p->resolved_dependencies.at(0).uri, "git+https://gitlab.example/acme/app@refs/heads/main");
  EXPECT_EQ(p->invocation_id, "https://gitlab.example/acme/app/-/jobs/7");
}

TEST(SlsaGenerate, ExplicitValues) {
  GenerateInputs in;
  EXPECT_FALSE(generate_predicate(in).ok());  // nothing to go on
  in.builder_id = "https://builder.example/b@v1";
  in.build_type = "https://builder.example/type/v1";
  in.source_uri = "git+https://github.com/acme/app@refs/heads/main";
  in.source_digest = "sha1:abc";
  auto predicate = generate_predicate(in);
  ASSERT_TRUE(predicate.ok()) << predicate.error().message;
  auto p = parse(provenance_statement({{"a", {{"sha256", "ab"}}}}, *predicate));
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->builder_id, in.builder_id);
  EXPECT_EQ(p->resolved_dependencies.at(0).digest.at("sha1"), "abc");
}

}  // namespace
}  // namespace vouch::slsa
