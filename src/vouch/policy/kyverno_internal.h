// Private to the Kyverno JMESPath functions: Go-compatible durations, times and number text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "vouch/policy/jmespath.h"

namespace vouch::policy::jmespath::kyverno {

// An error as Kyverno words it: "JMESPath function 'name': message" (kind invalid-value).
Error function_error(std::string_view function, std::string_view message);

// Go's time.ParseDuration and time.Duration.String (nanoseconds).
Result<int64_t> parse_go_duration(std::string_view text);
std::string format_go_duration(int64_t nanos);

// Adds the functions of each group to the registry.
void add_arithmetic_functions(FunctionRegistry& registry);
void add_time_functions(FunctionRegistry& registry);

}  // namespace vouch::policy::jmespath::kyverno
