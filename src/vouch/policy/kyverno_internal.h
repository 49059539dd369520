// Private to the Kyverno JMESPath functions: Go-compatible durations, times and number text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "vouch/policy/jmespath.h"

namespace YAML {
class Node;
}

namespace vouch::policy::jmespath::kyverno {

// An error as Kyverno words it: "JMESPath function 'name': message" (kind invalid-value).
Error function_error(std::string_view function, std::string_view message);

// Go's time.ParseDuration and time.Duration.String (nanoseconds).
Result<int64_t> parse_go_duration(std::string_view text);
std::string format_go_duration(int64_t nanos);

// Go's path.Clean ('/'-separated paths).
std::string go_clean(std::string_view path);

// Kyverno's wildcard matching (IGLOU-EU/go-wildcard): '*' any run, '?' one character.
bool wildcard(std::string_view pattern, std::string_view text);
// A YAML scalar as sigs.k8s.io/yaml reads it (YAML 1.1 booleans, Go integers and floats);
// `key`: as an object key, always a string.
Result<bj::value> yaml_scalar_to_json(const YAML::Node& node, bool key);

// x509_decode: a PEM certificate as the JSON of Go's x509.Certificate (kyverno_x509.cc).
Result<bj::value> x509_decode(std::string_view pem);
// x509.decode of Kyverno's CEL x509 library: an RSA certificate as the JSON of its
// CertificateOutput (raw parts base64, times RFC 3339, the public key as {N, E}).
Result<bj::value> cel_x509_decode(std::string_view pem);

// Adds the functions of each group to the registry.
void add_arithmetic_functions(FunctionRegistry& registry);
void add_time_functions(FunctionRegistry& registry);

}  // namespace vouch::policy::jmespath::kyverno

namespace vouch::policy::jmespath::kyverno {
// Compares two Kubernetes quantities ("100m", "1Gi"): -1, 0 or 1; nullopt when either does
// not parse as a quantity.
std::optional<int> compare_quantities(std::string_view a, std::string_view b);
}  // namespace vouch::policy::jmespath::kyverno
