// libFuzzer target: CEL parsing and compilation with the Kubernetes libraries, and evaluation
// of what compiles against a fixed Kubernetes object under a small cost limit.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "vouch/base/json.h"
#include "vouch/cel/cel.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vouch;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  static const cel::Environment env = [] {
    cel::EnvironmentOptions options;
    options.libraries = cel::Libraries::all();
    return cel::Environment(options);
  }();
  static const cel::Activation vars = [] {
    cel::Activation a;
    a.bind("object", cel::from_json(*json::parse(
                         R"({"metadata": {"name": "p", "labels": {"app": "x"}},
                             "spec": {"containers": [{"name": "a", "image": "ghcr.io/org/a:1"}], "replicas": 3}})")));
    a.bind("s", cel::Value::string("hello, world"));
    return a;
  }();
  auto program = env.compile(input);
  if (!program.ok()) return 0;
  cel::EvalOptions options;
  options.cost_limit = 20000;
  (void)program->evaluate(vars, options);
  return 0;
}
