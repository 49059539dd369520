#!/usr/bin/env bash
# The transparency log on PostgreSQL, started here as a real server on 127.0.0.1: the storage
# unit tests (a batch written whole and only where the log ends, proofs from stored nodes and
# from a batch in memory, deduplication, reopen, a failed commit) and the SIGKILL durability test;
# and the admission report store's unit tests on the same server.
set -uo pipefail
vouch=${VOUCH_BIN:?VOUCH_BIN must point at the vouch binary}
root=$(cd "$(dirname "$0")/../.." && pwd)
unit=$(dirname "$vouch")/vouch_unit_tests
pg=$(mktemp -d)  # its own directory: the server runs as the postgres user
cleanup() { bash "$root/scripts/pg-cluster.sh" stop "$pg"; rm -rf "$pg"; }
trap cleanup EXIT
fails=0
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url=$(bash "$root/scripts/pg-cluster.sh" start "$pg" "$port") || { echo "FAIL: PostgreSQL did not start"; exit 1; }

out=$(VOUCH_TEST_POSTGRES_URL=$url "$unit" --gtest_filter='Storage/LogStorageTest.*/postgres:CtLogStorage/CtLogRestart.*/postgres' 2>&1)
if ! grep -q '\[  PASSED  \] 7 tests' <<<"$out" || grep -q SKIPPED <<<"$out"; then
  echo "FAIL: storage unit tests on PostgreSQL: $(grep -E 'FAILED|Failure|SKIPPED' <<<"$out" | head -5 | tr '\n' ' ')"
  fails=$((fails + 1))
fi
# The admission report store on the same server.
out=$(VOUCH_TEST_POSTGRES_URL=$url "$unit" --gtest_filter='ReportStorePostgres*' 2>&1)
if ! grep -qE '\[  PASSED  \] [1-9][0-9]* tests' <<<"$out" || grep -qE 'SKIPPED|FAILED' <<<"$out"; then
  echo "FAIL: report store unit tests on PostgreSQL: $(grep -E 'FAILED|Failure|SKIPPED' <<<"$out" | head -5 | tr '\n' ' ')"
  fails=$((fails + 1))
fi
TLOG_STORAGE=postgres TLOG_STORAGE_URL=${url%/postgres}/postgres bash "$root/tests/integration/tlog_durability.sh" || fails=$((fails + 1))

[ "$fails" -eq 0 ] && echo "tlog postgres: all checks passed"
[ "$fails" -eq 0 ]
