// Unpacking google.protobuf.Any values (type URL and serialized message) into CEL messages of
// the environment's declared types.
#pragma once

#include <string>

#include "internal.h"

namespace vouch::cel {

// The message the Any holds; when its type is unknown, an Any message that compares by bytes.
Value unpack_any(const std::string& type_url, const std::string& payload, const Environment::State& env, int depth = 0);

}  // namespace vouch::cel
