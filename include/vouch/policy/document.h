// Kubernetes documents as users write them: YAML (one or many documents separated by ---) or
// JSON, read into JSON values as sigs.k8s.io/yaml reads them (YAML 1.1 scalars).
//
//   auto docs = parse_documents(text, "pod.yaml");  // one value per non-empty document
//
// Input is untrusted: size, nesting depth and alias expansion are bounded, and every error
// names the source and, where known, the line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "vouch/base/result.h"

namespace vouch::policy {

struct DocumentLimits {
  size_t max_bytes = 16 * 1024 * 1024;
  unsigned max_depth = 64;
  size_t max_nodes = 500000;
};

// Every non-empty document of a YAML stream (JSON is YAML). `source` prefixes errors.
Result<std::vector<boost::json::value>> parse_documents(std::string_view text, std::string_view source,
                                                        const DocumentLimits& limits = {});
// Exactly one document: JSON when the text parses as JSON, else YAML.
Result<boost::json::value> parse_document(std::string_view text, std::string_view source,
                                          const DocumentLimits& limits = {});

}  // namespace vouch::policy
