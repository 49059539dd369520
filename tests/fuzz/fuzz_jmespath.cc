// libFuzzer target: JMESPath parsing with Kyverno's functions, and evaluation of what parses
// on a fixed document. The first line of the input is the expression, the rest (if JSON) the data.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "vouch/base/json.h"
#include "vouch/policy/jmespath.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vouch;
  namespace jp = policy::jmespath;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  static const auto functions = jp::kyverno_functions();
  static const boost::json::value fixed = *json::parse(
      R"({"a": {"b": [1, 2.5, "x", null, true, {"c": "d"}]}, "s": "Hello", "n": -3, "l": ["a", "b"]})");
  size_t nl = input.find('\n');
  std::string_view expr = input.substr(0, nl);
  auto compiled = jp::Expression::compile(expr, functions);
  if (!compiled.ok()) return 0;
  (void)compiled->search(fixed);
  if (nl != std::string_view::npos) {
    auto doc = json::parse(input.substr(nl + 1), {.max_bytes = 1 << 20, .max_depth = 64});
    if (doc.ok()) (void)compiled->search(*doc);
  }
  return 0;
}
