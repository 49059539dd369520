// Declarations shared by the files of the policy engine, one file per job as in Kyverno's
// pkg/engine: matching, variables and context, operators, conditions, the validate and
// verifyImages handlers, image extraction. Not part of the module's interface.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "vouch/base/result.h"
#include "vouch/policy/engine.h"
#include "vouch/policy/policy.h"

namespace vouch::policy {

namespace engine_internal {

// The parts of `text` between each `sep` (Go's strings.Split: "" gives one empty part).
std::vector<std::string> split(std::string_view text, char sep);

// Whether a built-in kind is cluster-scoped (Namespace, ClusterRole, …); any other kind is
// taken as namespaced, as resource_ref does.
bool cluster_scoped_kind(std::string_view kind);

constexpr size_t kMaxSubstitutions = 10000;
constexpr size_t kMaxContextNodes = 200000;  // per context value: variables cannot double the context unboundedly
constexpr size_t kMaxSubstitutedBytes = 1 << 20;  // a string after variable substitution
constexpr size_t kMaxContextTotal = 1000000;  // the whole context
constexpr unsigned kMaxDepth = 128;

// ---------------------------------------------------------------- variables and context

std::string str_at(const bj::value& v, std::initializer_list<std::string_view> path);
const bj::object* obj_at(const bj::value& v, std::initializer_list<std::string_view> path);
// A dotted variable name, with JMESPath-quoted segments: request.object.metadata.labels."app.kubernetes.io/name".
std::vector<std::string> split_dotted(const std::string& name);
void set_path(bj::object& root, std::span<const std::string> parts, const bj::value& value);
void set_dotted(bj::object& root, const std::string& name, const bj::value& value);
// Counts the nodes of a value, stopping once past `limit`.
size_t count_nodes(const bj::value& v, size_t limit, size_t seen = 0);

// ---------------------------------------------------------------- images

struct ContainerImage {
  std::string group;  // containers, initContainers, ephemeralContainers
  std::string container;
  std::string image;
  std::string pointer;  // JSON pointer of the image field ("/spec/containers/0/image")
};

std::vector<ContainerImage> container_images(const bj::value& resource);
bj::object images_variable(const bj::value& resource);

// ---------------------------------------------------------------- matching

struct MatchInput {
  const bj::value* resource;
  ResourceRef ref;
  const Request* request;
  std::string operation;
};

bool wildcard_any(const std::vector<std::string>& patterns, const std::string& value);
bool selector_matches(const LabelSelector& s, const std::map<std::string, std::string>& labels);
bool rule_matches(const Rule& r, const MatchInput& in);

// The variables of a request a rule starts from: request.*, serviceAccountName/Namespace,
// images, and the supplied values.
bj::object request_variables(const Request& request, const std::string& operation, const ResourceRef& ref);

bool has_mutate_rules(const Policy& policy);
bool match_resources(const MatchResources& m, const MatchInput& in);

// ---------------------------------------------------------------- operators

// fmt.Sprint of a JSON value as Go prints interface{} values.
std::string go_sprint(const bj::value& v);

bool evaluate_operator(const std::string& op, const bj::value& key, const bj::value& value);

// ---------------------------------------------------------------- references

// Resolves Kyverno's `$(...)` references in `document`, a rule document (a pattern, a patch, a
// message) whose root stands at `base` in Kyverno's path notation ("" or "/mutate/...").
// A reference that resolves to nothing or to a non-string is an error, with Kyverno's words.
Result<bj::value> substitute_references(const bj::value& document, const std::string& base = "");
// Whether `document` holds a "$(" anywhere (most rules do not: then nothing is resolved or copied).
bool mentions_reference(const bj::value& document);
// The base path of `substitute`'s `path` argument ("/" or "/mutate/patchStrategicMerge").
std::string reference_base(const std::string& path);

}  // namespace engine_internal

// The variables a rule sees (request, images, context entries, element) and their
// substitution into policy text.
struct EvalContext {
  const Engine& engine;
  bj::value data;  // an object; kept as a value so that queries read it in place
  bj::object& obj() { return data.as_object(); }
  bool is_delete = false;
  size_t substitutions = 0;
  // Nodes in `data`, counted once and then kept up to date as entries change, so that the
  // size bound costs the size of what changes rather than of the whole context each time.
  std::optional<size_t> nodes = std::nullopt;

  size_t context_nodes() {
    if (!nodes) nodes = engine_internal::count_nodes(data, engine_internal::kMaxContextTotal);
    return *nodes;
  }

  // Runs `change` on the top-level entry `key` (created null when absent), keeping the node
  // count in step.
  template <typename Change>
  void change_entry(const std::string& key, Change&& change) {
    auto* existing = obj().if_contains(key);
    size_t before = existing ? engine_internal::count_nodes(*existing, engine_internal::kMaxContextTotal) : 0;
    change(obj()[key]);
    size_t after = engine_internal::count_nodes(obj()[key], engine_internal::kMaxContextTotal);
    if (!nodes) return;
    if (*nodes > engine_internal::kMaxContextTotal || before > engine_internal::kMaxContextTotal || after > engine_internal::kMaxContextTotal) nodes.reset();
    else *nodes = *nodes - before + after;
  }

  void set_entry(const std::string& key, bj::value value) {
    change_entry(key, [&](bj::value& slot) { slot = std::move(value); });
  }

  void erase_entry(const std::string& key);

  // Sets a dotted variable (request.object.metadata.name) in the context.
  void set_variable(const std::string& name, const bj::value& value);

  // ctx.Query: JMESPath over the context. A plain field path that names a missing key is
  // an error ("Unknown key"), as in Kyverno's JMESPath.
  Result<bj::value> query(const std::string& raw);
  // A JMESPath expression over `data` rather than the context (imageExtractors' jmesPath).
  Result<bj::value> search(const std::string& expression, const bj::value& data);

  Result<bj::value> substitute_string(const std::string& s, const std::string& path);

  // Kyverno's SubstituteAll: the references of `doc` (engine_references.cc), then its variables.
  // `path` is where `doc` stands in its rule ("/mutate/patchStrategicMerge"), for messages and
  // absolute references.
  Result<bj::value> substitute(const bj::value& doc, const std::string& path = "/");
  // Variables only, for a document whose references are already resolved.
  Result<bj::value> substitute_variables(const bj::value& doc, const std::string& path = "/", unsigned depth = 0);

  Result<std::string> entry_text(const ContextEntry& e, std::string_view kind, std::string_view key);
  Status set_fetched(const ContextEntry& e, std::string_view kind, bj::value value);
  Status load_config_map(const ContextEntry& e, const CelClusterData& cluster);
  Status load_api_call(const ContextEntry& e, const CelClusterData& cluster);
  Status load_global_reference(const ContextEntry& e, const CelClusterData& cluster);
  Status load_context(const std::vector<ContextEntry>& entries, const Request& request);
};

namespace engine_internal {

// ---------------------------------------------------------------- conditions

struct CondResult {
  bool value = false;
  std::string message;
};

std::string join_non_empty(const std::vector<std::string>& parts, std::string_view sep);
Result<CondResult> evaluate_conditions(EvalContext& ctx, const Conditions& conds);

// ---------------------------------------------------------------- validate

struct Outcome {
  RuleStatus status = RuleStatus::kPass;
  std::string message;
  bool none = false;  // nothing was applied (a foreach over empty lists)
};

// The validate handler of one rule: pattern, anyPattern, deny and foreach.
struct Validator {
  EvalContext& ctx;
  const Rule& rule;
  const Request& request;
  const std::string& message;  // validate.message

  // validate.message with its variables substituted; nullopt when a variable does not resolve
  // (a JMESPath error, a missing field), which Kyverno reports in place of the message.
  std::optional<std::string> substituted_message();

  std::string error_message(const std::string& err, const std::string& path);

  Outcome patterns(const bj::value& resource, const std::optional<bj::value>& pattern,
                   const std::optional<bj::array>& any_pattern);

  Outcome deny(const Conditions& conds);

  Outcome foreach_list(const std::vector<ForEachValidation>& list, unsigned nesting);

  Outcome foreach_elements(const ForEachValidation& fe, const bj::array& elements, unsigned nesting, int& applied);

  Outcome foreach_one(const ForEachValidation& fe, const bj::value& element, unsigned nesting);
};

// ---------------------------------------------------------------- verifyImages

// The verifyImages handler of one rule: verifies the selected images of the resource and
// adds the digest patches (mutateDigest) to `patches`. Nothing when no image of the
// resource is selected (the rule does not apply).
// The images a verifyImages rule looks at: its imageExtractors for the resource's kind, or
// the containers of a Pod or Pod controller.
Result<std::vector<ContainerImage>> rule_images(const Rule& rule, const bj::value& resource, EvalContext& ctx);

std::optional<Outcome> verify_images(const Engine& engine, ImageVerifier* verifier, const Rule& rule,
                                     const Request& request, EvalContext& ctx, std::vector<bj::object>& patches,
                                     std::vector<std::pair<std::string, RuleStatus>>& images);

}  // namespace engine_internal

}  // namespace vouch::policy
