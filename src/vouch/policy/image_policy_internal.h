// What the ImageValidatingPolicy parser and evaluator share. Not part of the module's interface.
#pragma once

#include <string>

#include <boost/json.hpp>

#include "vouch/base/result.h"
#include "vouch/cel/cel.h"
#include "vouch/policy/image_policy.h"

namespace vouch::policy::image_policy_internal {

// Compiles the policy's expressions (matchConditions, variables, images, validations and
// their messages, auditAnnotations, matchImageReferences, attestor expressions).
Status compile_image_policy(ImageValidatingPolicy& policy);

// Kyverno's image library (image(), parseImageReference(), isImage(), registry() and the other
// accessors, containsDigest()) and imagedata library (image.GetMetadata()), which the
// ValidatingPolicy environment has too; `image_data_context()` is the value bound as `image`.
void add_image_library(cel::Environment& env);
cel::Value image_data_context();

// One attestor as written (`path` names it in errors), with the same checks as in a policy.
Result<IvpolAttestor> parse_attestor(const boost::json::value& value, std::string path);

}  // namespace vouch::policy::image_policy_internal
