#!/usr/bin/env bash
# Runs every test suite against the build in $1: unit tests (ctest) and the Sigstore
# bundle-verification conformance cases. Ends with one "total: N passed, N failed" line.
set -uo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
shared=$root/../shared
[ -d "$shared/testdata" ] || { echo "test: $shared/testdata is missing (the shared folder must sit beside the repository)"; exit 2; }
export VOUCH_TESTDATA=$shared/testdata
# Commands that fall back to Sigstore's trust over TUF keep their cache here, not in ~/.sigstore.
export TUF_ROOT=$(mktemp -d)
trap 'rm -rf "$TUF_ROOT"' EXIT
cd "$root"
passed=0; failed=0

echo "== unit tests"
ctest_log=$(mktemp)
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" 2>&1 | tee "$ctest_log" | grep -vE '^ *([0-9]+/[0-9]+ Test +#[0-9]+: .* Passed|Start +[0-9]+:)' || true
line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$ctest_log" | tail -n1)
if [ -n "$line" ]; then
  total=$(echo "$line" | sed -E 's/.*out of ([0-9]+).*/\1/')
  nfail=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed.*/\1/')
  passed=$((passed + total - nfail)); failed=$((failed + nfail))
else
  echo "test: ctest reported no result"; failed=$((failed + 1))
fi
rm -f "$ctest_log"

echo "== sigstore conformance: bundle-verify"
conf_log=$(mktemp)
VOUCH_BIN="$root/$build/vouch" bash "$shared/conformance/bundle-verify.sh" "$root/tools/sigstore-conformance" 2>&1 | tee "$conf_log"
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$conf_log" | tail -n1)
if [ -n "$line" ]; then
  passed=$((passed + $(echo "$line" | cut -d' ' -f1))); failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
else
  failed=$((failed + 1))
fi
rm -f "$conf_log"

echo "== policy: vouch policy test tests/policy"
if "$root/$build/vouch" policy test --fail-only tests/policy; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL  vouch policy test tests/policy"; fi

for t in tests/integration/*.sh; do
  [ -f "$t" ] || continue
  echo "== integration: $(basename "$t")"
  if VOUCH_BIN="$root/$build/vouch" bash "$t"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL  $t"; fi
done

echo "total: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
