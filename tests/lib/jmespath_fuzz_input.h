// How the JMESPath fuzz targets read their input: the expression on the first line, then, if
// what follows parses as JSON within the limits, the document to search (else a fixed one).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "vouch/base/json.h"

namespace vouch::testing {

struct JmespathInput {
  std::string_view expression;
  boost::json::value document;
  bool document_given = false;
};

inline JmespathInput read_jmespath_input(const uint8_t* data, size_t size, const boost::json::value& fixed,
                                         size_t max_document_bytes) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t nl = input.find('\n');
  JmespathInput in{input.substr(0, nl), fixed};
  if (nl != std::string_view::npos) {
    auto parsed = json::parse(input.substr(nl + 1), {.max_bytes = max_document_bytes, .max_depth = 64});
    if (parsed.ok()) {
      in.document = std::move(parsed).value();
      in.document_given = true;
    }
  }
  return in;
}

}  // namespace vouch::testing
