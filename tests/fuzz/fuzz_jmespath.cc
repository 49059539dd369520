// libFuzzer target: JMESPath parsing with Kyverno's functions, and evaluation of what parses
// on a fixed document and on the input's own. The first line of the input is the expression,
// the rest (if JSON) the data.
#include <cstddef>
#include <cstdint>

#include "../lib/jmespath_fuzz_input.h"
#include "vouch/policy/jmespath.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vouch;
  namespace jp = policy::jmespath;
  static const auto functions = jp::kyverno_functions();
  static const boost::json::value fixed = *json::parse(
      R"({"a": {"b": [1, 2.5, "x", null, true, {"c": "d"}]}, "s": "Hello", "n": -3, "l": ["a", "b"]})");
  auto input = testing::read_jmespath_input(data, size, fixed, 1 << 20);
  auto compiled = jp::Expression::compile(input.expression, functions);
  if (!compiled.ok()) return 0;
  (void)compiled->search(fixed);
  if (input.document_given) (void)compiled->search(input.document);
  return 0;
}
