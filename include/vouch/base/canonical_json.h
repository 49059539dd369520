// RFC 8785 JSON Canonicalization Scheme: the bytes that Rekor signs in a signed entry
// timestamp and that in-toto tooling hashes.
#pragma once

#include <string>

#include <boost/json.hpp>

#include "vouch/base/result.h"

namespace vouch::json {

// Fails on numbers that have no canonical form (NaN, infinities).
Result<std::string> canonicalize(const boost::json::value& v);

}  // namespace vouch::json
