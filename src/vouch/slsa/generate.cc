#include "vouch/slsa/generate.h"

#include <fmt/format.h>

#include "vouch/intoto/predicate.h"

namespace vouch::slsa {
namespace {

namespace bj = boost::json;

std::string get(const std::map<std::string, std::string>& env, const std::string& key) {
  auto it = env.find(key);
  return it == env.end() ? std::string() : it->second;
}

Result<std::string> require(const std::map<std::string, std::string>& env, const std::string& key) {
  std::string v = get(env, key);
  if (v.empty()) return invalid_input(fmt::format("provenance: the environment variable {} is not set", key));
  return v;
}

// "sha1:HEX" or "ALG:HEX" -> {ALG: HEX}; a bare hex string is a git commit.
bj::object source_digest(const std::string& digest) {
  size_t colon = digest.find(':');
  if (colon == std::string::npos) return bj::object{{"gitCommit", digest}};
  return bj::object{{digest.substr(0, colon), digest.substr(colon + 1)}};
}

Result<bj::object> github_predicate(const GenerateInputs& in) {
  const auto& env = in.env;
  std::string server = get(env, "GITHUB_SERVER_URL");
  if (server.empty()) server = "https://github.com";
  VOUCH_ASSIGN_OR_RETURN(std::string repository, require(env, "GITHUB_REPOSITORY"));
  VOUCH_ASSIGN_OR_RETURN(std::string ref, require(env, "GITHUB_REF"));
  VOUCH_ASSIGN_OR_RETURN(std::string sha, require(env, "GITHUB_SHA"));
  VOUCH_ASSIGN_OR_RETURN(std::string workflow_ref, require(env, "GITHUB_WORKFLOW_REF"));
  VOUCH_ASSIGN_OR_RETURN(std::string run_id, require(env, "GITHUB_RUN_ID"));
  std::string attempt = get(env, "GITHUB_RUN_ATTEMPT");
  if (attempt.empty()) attempt = "1";
  // GITHUB_WORKFLOW_REF: OWNER/REPO/PATH@REF.
  size_t at = workflow_ref.rfind('@');
  const std::string workflow_path_full = workflow_ref.substr(0, at);
  if (!workflow_path_full.starts_with(repository + "/"))
    return invalid_input(fmt::format("provenance: GITHUB_WORKFLOW_REF '{}' is not a workflow of GITHUB_REPOSITORY '{}'",
                                     workflow_ref, repository));
  const std::string path = workflow_path_full.substr(repository.size() + 1);

  bj::object workflow{{"ref", ref}, {"repository", fmt::format("{}/{}", server, repository)}, {"path", path}};
  bj::object external{{"workflow", std::move(workflow)}};
  if (in.github_event && in.github_event->is_object()) {
    const auto& event = in.github_event->get_object();
    if (auto it = event.find("inputs"); it != event.end() && it->value().is_object()) external["inputs"] = it->value();
  }
  bj::object github{{"event_name", get(env, "GITHUB_EVENT_NAME")},
                    {"repository_id", get(env, "GITHUB_REPOSITORY_ID")},
                    {"repository_owner_id", get(env, "GITHUB_REPOSITORY_OWNER_ID")}};
  if (std::string runner = get(env, "RUNNER_ENVIRONMENT"); !runner.empty()) github["runner_environment"] = runner;
  bj::object internal{{"github", std::move(github)}};

  std::string source_uri = in.source_uri.empty() ? fmt::format("git+{}/{}@{}", server, repository, ref) : in.source_uri;
  bj::object dependency{{"uri", source_uri},
                        {"digest", in.source_digest.empty() ? bj::object{{"gitCommit", sha}} : source_digest(in.source_digest)}};
  std::string builder = in.builder_id.empty() ? fmt::format("{}/{}", server, workflow_ref) : in.builder_id;
  return bj::object{
      {"buildDefinition",
       bj::object{{"buildType", in.build_type.empty() ? std::string(kGithubWorkflowBuildType) : in.build_type},
                  {"externalParameters", std::move(external)},
                  {"internalParameters", std::move(internal)},
                  {"resolvedDependencies", bj::array{std::move(dependency)}}}},
      {"runDetails",
       bj::object{{"builder", bj::object{{"id", builder}}},
                  {"metadata", bj::object{{"invocationId", fmt::format("{}/{}/actions/runs/{}/attempts/{}", server,
                                                                        repository, run_id, attempt)}}}}}};
}

Result<bj::object> gitlab_predicate(const GenerateInputs& in) {
  const auto& env = in.env;
  VOUCH_ASSIGN_OR_RETURN(std::string project_url, require(env, "CI_PROJECT_URL"));
  VOUCH_ASSIGN_OR_RETURN(std::string sha, require(env, "CI_COMMIT_SHA"));
  VOUCH_ASSIGN_OR_RETURN(std::string ref_name, require(env, "CI_COMMIT_REF_NAME"));
  VOUCH_ASSIGN_OR_RETURN(std::string job_id, require(env, "CI_JOB_ID"));
  VOUCH_RETURN_IF_ERROR(require(env, "CI_PIPELINE_ID"));
  // A tag pipeline has CI_COMMIT_TAG; otherwise the ref is a branch.
  const std::string ref = get(env, "CI_COMMIT_TAG").empty() ? "refs/heads/" + ref_name : "refs/tags/" + ref_name;
  bj::object external{{"source", project_url}, {"ref", ref}};
  if (std::string config = get(env, "CI_CONFIG_PATH"); !config.empty()) external["entryPoint"] = config;
  if (std::string src = get(env, "CI_PIPELINE_SOURCE"); !src.empty()) external["pipelineSource"] = src;
  bj::object internal;
  for (const char* key : {"CI_SERVER_URL", "CI_PROJECT_ID", "CI_PIPELINE_ID", "CI_JOB_ID", "CI_JOB_NAME",
                          "CI_RUNNER_ID", "CI_RUNNER_VERSION", "CI_PIPELINE_SOURCE"})
    if (std::string v = get(env, key); !v.empty()) internal[key] = v;
  std::string source_uri = in.source_uri.empty() ? fmt::format("git+{}@{}", project_url, ref) : in.source_uri;
  bj::object dependency{{"uri", source_uri},
                        {"digest", in.source_digest.empty() ? bj::object{{"gitCommit", sha}} : source_digest(in.source_digest)}};
  std::string runner = get(env, "CI_RUNNER_ID");
  std::string builder = !in.builder_id.empty() ? in.builder_id
                        : runner.empty()       ? fmt::format("{}/-/runners", project_url)
                                               : fmt::format("{}/-/runners/{}", project_url, runner);
  std::string job_url = get(env, "CI_JOB_URL");
  if (job_url.empty()) job_url = fmt::format("{}/-/jobs/{}", project_url, job_id);
  return bj::object{
      {"buildDefinition", bj::object{{"buildType", in.build_type.empty() ? std::string(kGitlabCiBuildType) : in.build_type},
                                     {"externalParameters", std::move(external)},
                                     {"internalParameters", std::move(internal)},
                                     {"resolvedDependencies", bj::array{std::move(dependency)}}}},
      {"runDetails", bj::object{{"builder", bj::object{{"id", builder}}},
                                {"metadata", bj::object{{"invocationId", job_url}}}}}};
}

Result<bj::object> explicit_predicate(const GenerateInputs& in) {
  if (in.builder_id.empty()) return invalid_input("provenance: give --builder-id (no CI environment was found)");
  if (in.build_type.empty()) return invalid_input("provenance: give --build-type (no CI environment was found)");
  bj::object definition{{"buildType", in.build_type}, {"externalParameters", bj::object{}}};
  if (!in.source_uri.empty()) {
    bj::object dependency{{"uri", in.source_uri}};
    if (!in.source_digest.empty()) dependency["digest"] = source_digest(in.source_digest);
    definition["resolvedDependencies"] = bj::array{std::move(dependency)};
  }
  return bj::object{{"buildDefinition", std::move(definition)},
                    {"runDetails", bj::object{{"builder", bj::object{{"id", in.builder_id}}}}}};
}

}  // namespace

BuildSystem detect_build_system(const std::map<std::string, std::string>& env) {
  if (get(env, "GITHUB_ACTIONS") == "true") return BuildSystem::kGithubActions;
  if (get(env, "GITLAB_CI") == "true") return BuildSystem::kGitlabCi;
  return BuildSystem::kExplicit;
}

Result<bj::object> generate_predicate(const GenerateInputs& inputs) {
  switch (detect_build_system(inputs.env)) {
    case BuildSystem::kGithubActions:
      return github_predicate(inputs);
    case BuildSystem::kGitlabCi:
      return gitlab_predicate(inputs);
    case BuildSystem::kExplicit:
      break;
  }
  return explicit_predicate(inputs);
}

std::string provenance_statement(const std::vector<intoto::Subject>& subjects, const bj::object& predicate) {
  intoto::Statement s;
  s.subjects = subjects;
  s.predicate_type = std::string(intoto::kSlsaProvenanceV1);
  s.predicate = predicate;
  return intoto::serialize_statement(s);
}

}  // namespace vouch::slsa
