// Kyverno's validate.pattern semantics (pkg/engine/validate, pattern, anchor): wildcards,
// '|' alternatives and '&' conjunctions, comparison operators and ranges on numbers,
// quantities and durations, and the anchors: conditional (), equality =(), existence ^(),
// negation X() and global <().
#pragma once

#include <string>

#include <boost/json.hpp>

namespace vouch::policy {

namespace bj = boost::json;

struct PatternResult {
  enum Kind { kPass, kFail, kSkip, kError } kind = kPass;
  std::string path;     // where the resource did not match ("/spec/containers/0/image/")
  std::string message;  // why
};

PatternResult match_pattern(const bj::value& resource, const bj::value& pattern);

// One scalar pattern ("ghcr.io/* | docker.io/*", ">=2", "1-10", "!*:latest") against a value.
bool match_scalar(const bj::value& value, const bj::value& pattern);

}  // namespace vouch::policy
