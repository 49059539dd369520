// JSON Patch (RFC 6902) application: the operations mutate results carry (mutate rules, and
// verifyImages' mutateDigest, which pins a tag to its digest with "replace").
//
//   auto mutated = apply_json_patch(resource, result.patches);
#pragma once

#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "vouch/base/result.h"

namespace vouch::policy {

// Applies add, remove, replace, move, copy and test in order to a copy of `document`. A
// failed test, a path that does not exist (where it must) or a malformed operation is an
// error naming the operation; the document is then left as it was.
Result<boost::json::value> apply_json_patch(boost::json::value document,
                                            const std::vector<boost::json::object>& operations);
Result<boost::json::value> apply_json_patch(boost::json::value document, const boost::json::array& operations);

// The leniencies Kyverno's mutate rules apply patches with (evanphx/json-patch options).
struct JsonPatchOptions {
  bool negative_indices = false;        // an index below zero counts from the end
  bool missing_path_on_remove = false;  // removing what is not there does nothing
  bool create_path_on_add = false;      // add creates the objects (and lists) above its target
};
Result<boost::json::value> apply_json_patch(boost::json::value document, const boost::json::array& operations,
                                            const JsonPatchOptions& options);

}  // namespace vouch::policy
