// libFuzzer target: JMESPath evaluation under a small budget. The first line of the input is
// the expression, the rest (if JSON) the data. An evaluation must end within its budget
// (libFuzzer's -rss_limit_mb and -timeout catch one that does not), and an evaluation that fits
// the small budget must give the same result as under the default one: the budget may stop an
// evaluation, never change its answer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "../lib/jmespath_fuzz_input.h"
#include "vouch/policy/jmespath.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vouch;
  namespace jp = policy::jmespath;
  static const auto functions = jp::kyverno_functions();
  static const boost::json::value fixed = *json::parse(
      R"({"s": "abcabc", "a": [1, 2, 3, "x", {"k": "v"}], "o": {"p": {"q": ["r", "s"]}}, "n": 7})");
  auto input = testing::read_jmespath_input(data, size, fixed, 1 << 16);
  const std::string_view expr = input.expression;
  jp::Limits small;
  small.budget = {.max_steps = 100'000, .max_bytes = 1 << 20};
  auto bounded = jp::Expression::compile(expr, functions, small);
  if (!bounded.ok()) return 0;
  auto unbounded = jp::Expression::compile(expr, functions);
  if (!unbounded.ok()) std::abort();  // the budget is not part of parsing
  const boost::json::value& doc = input.document;
  auto r = bounded->search(doc);
  // random() and time_now*() give a new answer each time.
  const bool deterministic = expr.find("random") == std::string_view::npos && expr.find("time_") == std::string_view::npos;
  if (r.ok()) {
    if (!deterministic) return 0;
    auto again = unbounded->search(doc);
    if (!again.ok() || *again != *r) std::abort();
  } else if (jp::error_kind(r.error()) == jp::ErrorKind::kLimit) {
    // Over the small budget: fine, as long as it said so in one line.
    if (r.error().message.find('\n') != std::string::npos) std::abort();
  }
  return 0;
}
