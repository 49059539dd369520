// What a policy says that is legal but almost surely not what its author meant: checks that
// run before a policy is used (`vouch policy lint`, and as warnings in `policy apply` and
// `admission serve`). Each finding names the field by its path in the document.
#pragma once

#include <string>
#include <vector>

#include "vouch/policy/policy.h"

namespace vouch::policy {

struct LintFinding {
  std::string policy;   // "ClusterPolicy NAME" or "Policy NS/NAME"
  std::string path;     // "spec.rules[0].verifyImages[0].attestors[0].entries[0].keyless.subject"
  std::string message;  // one line: what is wrong and what to write instead
};

// The findings for one policy, in document order:
//  - a keyless `subject` or `issuer` with regular-expression syntax and no `*`: it is compared
//    literally (only `*` is a wildcard) and will never match; subjectRegExp/issuerRegExp was meant;
//  - a `subjectRegExp` or `issuerRegExp` that matches anything (".*", "^.*$", ".+");
//  - an `imageReferences` entry of "*": every image in the cluster;
//  - Enforce with `failurePolicy: Ignore`: requests are admitted unchecked whenever the
//    webhook cannot answer;
//  - a verifyImages entry with both `mutateDigest` and `verifyDigest` false: the verified tag
//    can point at other content when the pod starts.
// Rules generated for Pod controllers (autogen) are not reported again.
std::vector<LintFinding> lint_policy(const Policy& policy);

}  // namespace vouch::policy
