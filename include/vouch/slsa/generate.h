// Generating SLSA provenance v1 predicates from where a build runs: GitHub Actions' environment
// (the GitHub Actions workflow build type, as GitHub and slsa-github-generator record a workflow
// run), GitLab CI's, or values given explicitly. The environment is passed in, never read here.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "vouch/base/result.h"
#include "vouch/intoto/statement.h"

namespace vouch::slsa {

inline constexpr std::string_view kGithubWorkflowBuildType =
    "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1";
inline constexpr std::string_view kGitlabCiBuildType = "https://gitlab.com/gitlab-org/gitlab-runner/-/blob/v1/PROVENANCE.md";

enum class BuildSystem { kGithubActions, kGitlabCi, kExplicit };

struct GenerateInputs {
  // Environment variables (GITHUB_*, RUNNER_*, CI_*, ...).
  std::map<std::string, std::string> env;
  // GitHub: the event payload ($GITHUB_EVENT_PATH); its "inputs" become externalParameters.inputs.
  std::optional<boost::json::value> github_event;
  // Explicit values; each overrides what the environment gives.
  std::string builder_id, source_uri, source_digest, build_type;
};

// GitHub Actions when GITHUB_ACTIONS=true, GitLab CI when GITLAB_CI=true, else explicit.
BuildSystem detect_build_system(const std::map<std::string, std::string>& env);

// The predicate (https://slsa.dev/provenance/v1). Fails, naming the variable or flag, when a
// value the build type needs is missing.
Result<boost::json::object> generate_predicate(const GenerateInputs& inputs);

// An in-toto Statement v1 with the SLSA v1 predicate over `subjects`.
std::string provenance_statement(const std::vector<intoto::Subject>& subjects, const boost::json::object& predicate);

}  // namespace vouch::slsa
