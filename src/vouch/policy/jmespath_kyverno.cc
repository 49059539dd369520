#include "policy/jmespath_ast.h"

namespace vouch::policy::jmespath {

void add_kyverno_functions(FunctionRegistry&) {}

std::shared_ptr<const FunctionRegistry> kyverno_functions() {
  static const std::shared_ptr<const FunctionRegistry> registry = [] {
    auto r = std::make_shared<FunctionRegistry>(*FunctionRegistry::standard());
    add_kyverno_functions(*r);
    return r;
  }();
  return registry;
}

}  // namespace vouch::policy::jmespath
