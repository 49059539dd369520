#!/usr/bin/env bash
# Runs every test suite against the build in $1: unit tests (gtest, one process per core) and the Sigstore
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
# The test binary runs in one process per core (gtest sharding), not one process per test as
# ctest would: under AddressSanitizer, starting the binary costs about a second, 1,400 times over.
shards=$(nproc)
unit_logs=() unit_pids=()
for ((i = 0; i < shards; i++)); do
  log=$(mktemp); unit_logs+=("$log")
  GTEST_TOTAL_SHARDS=$shards GTEST_SHARD_INDEX=$i VOUCH_SOURCE_DIR=$root \
    "$build/vouch_unit_tests" --gtest_brief=1 --gtest_color=no > "$log" 2>&1 &
  unit_pids+=($!)
done
for i in "${!unit_pids[@]}"; do
  rc=0; wait "${unit_pids[$i]}" || rc=$?
  log=${unit_logs[$i]}
  ran=$(sed -nE 's/^\[==========\] ([0-9]+) tests? from .* ran\..*/\1/p' "$log" | tail -n1)
  # --gtest_brief prints one "[  FAILED  ] Suite.Test (N ms)" line per failed test and no list.
  nfail=$(grep -E '^\[  FAILED  \] [A-Za-z_]' "$log" | sed -E 's/ \([0-9]+ ms\)$//' | sort -u | grep -c '' || true)
  if [ -z "$ran" ]; then
    echo "test: unit test shard $i ended without a summary (exit $rc; a crash or a sanitizer report):"; tail -n 40 "$log"
    failed=$((failed + 1))
  else
    passed=$((passed + ran - nfail)); failed=$((failed + nfail))
    [ "$nfail" -eq 0 ] || grep -vE '^\[  (PASSED|SKIPPED) ' "$log" | head -n 60
    # A sanitizer's report after the tests (a leak) fails the shard though every test passed.
    if [ "$rc" -ne 0 ] && [ "$nfail" -eq 0 ]; then
      echo "test: unit test shard $i exited $rc after its tests passed:"; tail -n 40 "$log"
      failed=$((failed + 1))
    fi
  fi
  rm -f "$log"
done
echo "unit tests: $passed passed, $failed failed ($SECONDS s)"

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

# Under the sanitizers (make test-asan sets ASAN_OPTIONS) the unit tests, the conformance cases
# and the policy tests run whole, and of the integration scripts those that drive vouch's own
# servers (admission, log, CA, TSA, TUF, watch) and its readers of remote input (registries,
# OSV exports, bundles, provenance): the list below. The others spend their time in peers
# (skopeo, Chromium, go, rpmbuild, PostgreSQL, npm) or start vouch hundreds of times (a
# sanitized start costs about half a second), over code the unit tests and the listed scripts
# already run sanitized; they run in the plain pass. VOUCH_SANITIZED_SCRIPTS=all runs every one.
sanitized=${ASAN_OPTIONS:+1}
sanitized_scripts=${VOUCH_SANITIZED_SCRIPTS:-admission_webhook admission_cel inventory_watch db_update vuln_scan
  keyless_stack tlog_interop tlog_durability tsa_interop tuf_stack slsa_verify}
runs_sanitized() {
  [ "$sanitized_scripts" = all ] && return 0
  local s
  for s in $sanitized_scripts; do [ "$s" = "$1" ] && return 0; done
  return 1
}
for t in tests/integration/*.sh; do
  [ -f "$t" ] || continue
  name=$(basename "$t" .sh)
  if [ -n "$sanitized" ] && ! runs_sanitized "$name"; then
    echo "== integration: $name.sh: in the plain pass only"; continue
  fi
  echo "== integration: $name.sh"
  started=$SECONDS
  if VOUCH_BIN="$root/$build/vouch" bash "$t"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL  $t"; fi
  echo "   ($name.sh: $((SECONDS - started)) s)"
done
# The seed chapters' commands and policies on vouch (tests/seeds/README.md).
if [ -n "$sanitized" ] && [ "$sanitized_scripts" != all ]; then
  echo "== seeds: in the plain pass only"
else
  echo "== seeds: tests/seeds/run.sh"
  started=$SECONDS
  if VOUCH_BIN="$root/$build/vouch" bash tests/seeds/run.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL  tests/seeds/run.sh"; fi
  echo "   (seeds: $((SECONDS - started)) s)"
fi
echo "suite time: $SECONDS s"

echo "total: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
