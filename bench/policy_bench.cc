// Policy evaluation throughput: the seeds' example policies (examples/policies: restricted
// registries with '|' alternatives, per-rule Enforce with a namespace override, signed images
// with excluded namespaces) applied to a typical Pod and a typical Deployment (autogen rules),
// and JMESPath evaluation of compiled expressions typical of policies. Run from the
// repository root (scripts/bench.sh does).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "vouch/base/file.h"
#include "vouch/policy/document.h"
#include "vouch/policy/engine.h"
#include "vouch/policy/jmespath.h"

namespace {

using namespace vouch;
namespace bj = boost::json;

const std::vector<policy::Policy>& example_policies() {
  static const std::vector<policy::Policy> all = [] {
    std::vector<policy::Policy> out;
    for (const char* f : {"examples/policies/restrict-registries.yaml", "examples/policies/per-rule-enforce.yaml",
                          "examples/policies/require-signed-images.yaml"}) {
      auto text = read_file(f);
      auto ps = text.ok() ? policy::parse_policies(*text, f) : Result<std::vector<policy::Policy>>(text.error());
      if (!ps.ok()) {
        std::fprintf(stderr, "bench: %s (run from the repository root)\n", ps.error().message.c_str());
        std::exit(2);
      }
      for (auto& p : *ps) out.push_back(std::move(p));
    }
    return out;
  }();
  return all;
}

bj::value load(std::string_view yaml) { return *policy::parse_document(yaml, "bench"); }

const bj::value& pod() {
  static const bj::value v = load(R"(apiVersion: v1
kind: Pod
metadata:
  name: shop-7d9f8
  namespace: shop
  labels: {app: shop, tier: frontend}
spec:
  initContainers:
    - name: migrate
      image: ghcr.io/myorg/shop-migrate@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
  containers:
    - name: app
      image: ghcr.io/myorg/shop@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
      ports: [{containerPort: 8080}]
      resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {memory: 256Mi}}
    - name: proxy
      image: registry.internal.example.com/envoy:1.29
)");
  return v;
}

const bj::value& deployment() {
  static const bj::value v = load(R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: shop, namespace: shop-dev, labels: {app: shop}}
spec:
  replicas: 3
  selector: {matchLabels: {app: shop}}
  template:
    metadata: {labels: {app: shop}}
    spec:
      containers:
        - name: app
          image: ghcr.io/myorg/shop:1.4.2
        - name: proxy
          image: docker.io/envoyproxy/envoy:latest
)");
  return v;
}

// A verifier that answers at once, so that the figure is the engine's own cost.
class InstantVerifier : public policy::ImageVerifier {
 public:
  Result<policy::ImageVerificationOutcome> verify(const std::string&, const policy::ImageVerification&,
                                                  const policy::AttestorSet&, const policy::Attestation*) override {
    return policy::ImageVerificationOutcome{true, "", "sha256:00", {}};
  }
};

void run(benchmark::State& state, const bj::value& resource) {
  policy::Engine engine({.verifier = std::make_shared<InstantVerifier>()});
  policy::Request req;
  req.object = resource;
  size_t results = 0;
  for (auto _ : state) {
    for (const auto& p : example_policies()) results += engine.apply(p, req).size();
  }
  benchmark::DoNotOptimize(results);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * example_policies().size()));
  state.counters["rule_results_per_resource"] = static_cast<double>(results) / static_cast<double>(state.iterations());
}

void BM_PolicyEvaluatePod(benchmark::State& state) { run(state, pod()); }
void BM_PolicyEvaluateDeployment(benchmark::State& state) { run(state, deployment()); }
BENCHMARK(BM_PolicyEvaluatePod);
BENCHMARK(BM_PolicyEvaluateDeployment);

void BM_JmespathEvaluate(benchmark::State& state) {
  namespace jp = policy::jmespath;
  bj::value data = bj::object{{"request", bj::object{{"object", deployment()}}}};
  std::vector<jp::Expression> exprs;
  for (const char* e : {"request.object.spec.template.spec.containers[].image",
                        "length(request.object.spec.template.spec.containers[?starts_with(image, 'ghcr.io/')])",
                        "request.object.metadata.labels.app || 'none'",
                        "request.object.spec.template.spec.containers[].image | [].split(@, '/')[0]"}) {
    exprs.push_back(*jp::Expression::compile(e, jp::kyverno_functions()));
  }
  for (auto _ : state) {
    for (const auto& e : exprs) benchmark::DoNotOptimize(e.search(data));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * exprs.size()));
}
BENCHMARK(BM_JmespathEvaluate);

}  // namespace
