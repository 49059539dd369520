// policies.kyverno.io PolicyException: reading one document and judging it against a CEL
// policy (ValidatingPolicy, ImageValidatingPolicy) for one request. Not part of the module's
// interface; parse_policy_exceptions and Engine reach it.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "json_field.h"
#include "vouch/policy/engine.h"
#include "vouch/policy/policy.h"

namespace vouch::policy::cel_exception {

bool is_cel_exception_kind(std::string_view api_version, std::string_view kind);

// Reads and compiles one PolicyException document (`root` is the whole document).
Result<PolicyException> parse(const JsonField& root);

// When `policy` is a CEL policy whose match constraints take the request and a CEL
// PolicyException among `in_force` names it and holds, the one result that replaces the
// policy's evaluation: skip (or pass, as the deciding exception's reportResult says), rule
// "exception", message "rule is skipped due to policy exception: <keys>". An exception whose
// condition fails to evaluate is an error result unless another exception exempts in full.
std::optional<RuleResult> exception_result(const Policy& policy, const Request& request,
                                           const std::vector<const PolicyException*>& in_force);

}  // namespace vouch::policy::cel_exception
