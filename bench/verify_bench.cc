// Sigstore bundle verification throughput, in process: every iteration parses and verifies
// the next of the conformance suite's passing keyless bundles (distinct bundles, no cache
// of verification results). scripts/bench.sh compares the figure with the limit the
// signatures set (openssl speed) and with sigstore-js on the same bundles.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>

#include "vouch/base/file.h"
#include "vouch/sigstore/verifier.h"

namespace {

using namespace vouch;
using namespace vouch::sigstore;

struct Case {
  std::string name;
  std::string bundle_text;
  std::string artifact;
  TrustedRoot root;
};

std::filesystem::path testdata() {
  if (const char* env = std::getenv("VOUCH_TESTDATA")) return env;
  return "../shared/testdata";
}

// The public-good production bundles (Rekor v1, Fulcio, CT): one P-384 chain check, SET,
// checkpoint, SCT and signature verifications each.
const std::vector<Case>& cases() {
  static const std::vector<Case> all = [] {
    std::vector<Case> out;
    auto base = testdata() / "sigstore-conformance/bundle-verify";
    auto prod = read_file(testdata() / "sigstore-trust/trusted_root.production.json");
    if (!prod.ok()) {
      fprintf(stderr, "bench: %s\n", prod.error().message.c_str());
      std::exit(2);
    }
    for (const char* name : {"happy-path-v0.1", "happy-path-v0.2", "happy-path-v0.3", "happy-path-intoto-in-dsse-v3"}) {
      auto dir = base / name;
      Case c;
      c.name = name;
      c.bundle_text = *read_file(dir / "bundle.sigstore.json");
      auto art = std::filesystem::exists(dir / "artifact") ? dir / "artifact" : base / "a.txt";
      c.artifact = *read_file(art);
      c.root = *parse_trusted_root(*prod);
      out.push_back(std::move(c));
    }
    return out;
  }();
  return all;
}

VerifyPolicy policy() {
  VerifyPolicy p;
  p.identities.push_back(
      {StringMatcher::exact("https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/"
                            "workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"),
       StringMatcher::exact("https://token.actions.githubusercontent.com")});
  return p;
}

void BM_VerifyBundle(benchmark::State& state) {
  const auto& all = cases();
  const VerifyPolicy p = policy();
  size_t i = 0;
  for (auto _ : state) {
    const Case& c = all[i++ % all.size()];
    auto bundle = parse_bundle(c.bundle_text);
    auto result = verify_bundle(*bundle, Artifact::from_bytes(c.artifact), c.root, p);
    if (!result.ok()) {
      state.SkipWithError(result.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyBundle)->Unit(benchmark::kMicrosecond)->MinTime(2.0);

void BM_ParseBundle(benchmark::State& state) {
  const auto& all = cases();
  size_t i = 0;
  for (auto _ : state) {
    auto bundle = parse_bundle(all[i++ % all.size()].bundle_text);
    benchmark::DoNotOptimize(bundle);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseBundle)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
