// The patches of Kyverno's mutate rules (pkg/engine/mutate/patch): patchStrategicMerge with
// its anchors resolved against the resource and then merged as kustomize merges (lists of
// Kubernetes types by their merge keys, other lists replaced), patchesJson6902 with Kyverno's
// leniencies, and the JSON Patch that turns one resource into another (for admission
// responses and results). Not part of the module's interface.
#pragma once

#include <string>
#include <vector>

#include <boost/json.hpp>

#include "vouch/base/result.h"

namespace vouch::policy::mutate_internal {

namespace bj = boost::json;

// What applying a patchStrategicMerge did: the patched resource, or that a conditional anchor
// did not hold (then nothing is patched and `condition_failed` says why).
struct StrategicMergeOutcome {
  bj::value resource;
  std::string condition_failed;
};

// Resolves the anchors of `patch` ((key) conditional, <(key) global, +(key) add if not present)
// against `resource` and merges what remains into it. An error is a patch that cannot apply
// (a map where the resource has a list, an unknown $patch directive).
Result<StrategicMergeOutcome> strategic_merge(const bj::value& resource, const bj::value& patch);

// Only the anchor resolution (Kyverno's preProcessPattern): the patch kustomize would merge.
Result<StrategicMergeOutcome> resolve_anchors(const bj::value& resource, const bj::value& patch);

// Only the merge (kustomize's patchstrategicmerge filter), for a patch without anchors.
Result<bj::value> merge_patch(const bj::value& resource, const bj::value& patch);

// patchesJson6902: a YAML or JSON list of RFC 6902 operations, applied with negative indices,
// removal of missing paths and creation of missing parents allowed, as Kyverno applies them.
Result<bj::value> apply_json6902(const bj::value& resource, const std::string& patches);

// RFC 6902 operations that turn `from` into `to` (add, remove, replace), in document order.
std::vector<bj::object> json_diff(const bj::value& from, const bj::value& to);

}  // namespace vouch::policy::mutate_internal
