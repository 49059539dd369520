// Kyverno CLI tests (kyverno-test.yaml, cli.kyverno.io/v1alpha1 Test or the older form without
// apiVersion): what a test names, and the matching of its expected results against the rule
// results, as `kyverno test` does.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "vouch/base/result.h"
#include "vouch/policy/values.h"

namespace vouch::policy {

// One entry of a test's results.
struct ExpectedResult {
  std::string policy, rule, kind, ns, result, operation;
  std::vector<std::string> resources;  // resource and resources
  // patchedResources: a file (relative to the test) of the resources as the policy's mutate
  // rules should leave them, and its documents once the caller has read it.
  std::string patched_resources;
  std::vector<boost::json::value> patched_documents;
  // failOnMissingResources: a resource missing from patchedResources fails the row (else, as
  // `kyverno test`, the row is not checked).
  bool fail_on_missing_resources = false;
};

// One of a test's globalContextEntries: the value a GlobalContextEntry named `name` holds, from
// `data` (an object), inline `resources` or `resource_files` (a list of objects), then
// `field_path` and `projections` (JMESPath) applied, as Kyverno's CLI mocks it.
struct GlobalContextEntryValue {
  std::string name;
  std::optional<boost::json::value> data;
  std::optional<std::vector<boost::json::value>> resources;
  std::optional<std::vector<std::string>> resource_files;  // relative to the test file
  std::string field_path;
  std::vector<std::pair<std::string, std::string>> projections;  // name, path
};
// The entry's value; `loaded` holds the objects of its resource_files (read by the caller).
Result<boost::json::value> resolve_global_context_entry(const GlobalContextEntryValue& entry,
                                                        const std::vector<boost::json::value>& loaded);

struct KyvernoTest {
  std::vector<std::string> policies;   // paths as written, relative to the test file
  std::vector<std::string> exceptions; // PolicyException files
  std::string inline_values;           // `values:` written in the test itself (JSON), else "".
  std::vector<std::string> resources;
  // jsonPayloads (and the older jsonPayload): JSON files that JSON-mode ValidatingPolicies judge,
  // named in results by the path as written.
  std::vector<std::string> json_payloads;
  // envoyPayloads and httpPayloads: authorization requests (JSON) that Envoy- and HTTP-mode
  // ValidatingPolicies judge.
  std::vector<std::string> envoy_payloads;
  std::vector<std::string> http_payloads;
  // context: a Context file (cli.kyverno.io/v1alpha1) whose resources ValidatingPolicies'
  // `resource` library reads, or empty.
  std::string context;
  // paramResources: the objects ValidatingAdmissionPolicy bindings' paramRef picks from.
  std::vector<std::string> param_resources;
  // clusterResources: objects in the cluster the CEL `resource` library reads (beside a
  // context file's). ClusterPolicy context entries (configMap, apiCall) do not read them: they
  // take their values from a values file, and are errors without one.
  std::vector<std::string> cluster_resources;
  // globalContextEntries: what ValidatingPolicies' globalContext.Get() and ClusterPolicies'
  // globalReference context entries read.
  std::vector<GlobalContextEntryValue> global_context_entries;
  // apiCallResponses (url or urlPath): the answers to the CEL `http` library and to
  // ClusterPolicies' apiCall context entries, keyed as CelClusterData's.
  std::map<std::string, boost::json::value> http_responses;
  std::string values;                  // variables or values: a values file, or empty
  std::string user_info;               // userinfo: a user-info file, or empty
  std::vector<ExpectedResult> results;
};

// Every Test document of a test file, as `kyverno test` reads each document as a test;
// `source` names the file in errors.
Result<std::vector<KyvernoTest>> parse_kyverno_tests(std::string_view text, std::string_view source);

// Whether a mutated resource is the expected one, as `kyverno test` compares them: empty maps,
// lists and nulls removed from both, then equal. On a difference, `diff` names the first
// path that differs.
bool same_patched_resource(const boost::json::value& actual, const boost::json::value& expected, std::string& diff);

// One expected result for one resource, and what was found.
struct TestRow {
  std::string policy, rule, resource, want, got, reason;
  bool ok = false;
};

// Matches each expected result, resource by resource, against the results evaluated with its
// operation (`by_operation` holds "" for the default and each operation the results name). No
// result is "skip"; an expected result that names no resource is checked against every
// resource the policy has a result for (none at all: a failed row); a rule written for Pods matches its autogen variants, and any of them
// that agrees makes the row pass.
std::vector<TestRow> match_test_results(const std::vector<ExpectedResult>& expected,
                                        const std::map<std::string, std::vector<Evaluated>>& by_operation);

}  // namespace vouch::policy
