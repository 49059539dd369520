// What commands that evaluate Kyverno policies read: policy and resource files (YAML or JSON,
// files or directories), and the image verifier that verifyImages rules use against registries.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "cli/common.h"
#include "vouch/base/result.h"
#include "vouch/policy/engine.h"
#include "vouch/policy/image_policy.h"
#include "vouch/policy/policy.h"

namespace vouch::cli {

// The largest policy, resource or values file read.
constexpr size_t kMaxPolicyInputBytes = 16 << 20;

// Files and directories as given: a directory stands for its .yaml, .yml and .json files below
// it (sorted); a path that does not exist is an error.
Result<std::vector<std::filesystem::path>> expand_paths(const std::vector<std::string>& args);

// Every ClusterPolicy and Policy in the files.
Result<std::vector<policy::Policy>> load_policies(const std::vector<std::filesystem::path>& files);
// PolicyExceptions from files or directories (other kinds in them are ignored; none found in a
// named file is an error, so a wrong path is not silently no exception).
Result<std::vector<policy::PolicyException>> load_exceptions(const std::vector<std::string>& args);

// Every resource in the files; a List (kind ending in "List") stands for its items. A document
// without kind, apiVersion or metadata is an error.
Result<std::vector<boost::json::value>> load_resources(const std::vector<std::filesystem::path>& files);
// Every resource in the files and directories given (expand_paths, then load_resources): a
// ValidatingAdmissionPolicy's parameter objects, a global context entry's resource files.
Result<std::vector<boost::json::value>> load_resources_at(const std::vector<std::string>& paths);
// One YAML or JSON document of a policy input file (a context, ClusterResource, CRD, payload).
Result<boost::json::value> read_policy_document(const std::filesystem::path& path);

// The cosign verifier for verifyImages rules (as `kyverno apply --registry`): trust from
// `trust`, else Sigstore's trusted root over TUF, fetched only when a rule needs it.
Result<std::shared_ptr<policy::ImageVerifier>> make_image_verifier(bool allow_insecure_registry,
                                                                   const TrustedRootFlags& trust);

// The same registry access and trust for ImageValidatingPolicy's image functions.
Result<std::shared_ptr<policy::ImagePolicyVerifier>> make_image_policy_verifier(bool allow_insecure_registry,
                                                                                const TrustedRootFlags& trust);

}  // namespace vouch::cli
