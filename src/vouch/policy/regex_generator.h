// Random strings that a regular expression matches: Kyverno's CEL `random(pattern)` (which
// generates with goregen). Perl syntax: literals, escapes (\d \w \s and their negations),
// classes with ranges, negation and POSIX names, `.`, groups, alternation and the quantifiers
// * + ? {n} {n,} {n,m}; unbounded repeats stop at 10, as goregen's default. `.` and negated
// classes draw from printable ASCII.
#pragma once

#include <string>
#include <string_view>

#include "vouch/base/result.h"

namespace vouch::policy {

Result<std::string> generate_matching(std::string_view pattern);

}  // namespace vouch::policy
