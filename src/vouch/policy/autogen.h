// Autogen of Pod-controller rules (autogen.cc), for the policy parser.
#pragma once

#include <cstddef>
#include <vector>

#include "vouch/base/result.h"
#include "vouch/policy/policy.h"

namespace vouch::policy {

// One generated rule: the index of the written rule it comes from, and the rule as JSON, to be
// parsed like a written one.
struct AutogenRule {
  size_t origin = 0;
  bj::object rule;
};

// The autogen rules of a policy's written rules (`policy.rules` holds only those), in
// Kyverno's order: the controllers first, then CronJob.
Result<std::vector<AutogenRule>> autogen_rules(const Policy& policy);

}  // namespace vouch::policy
