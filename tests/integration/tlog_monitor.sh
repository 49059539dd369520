#!/usr/bin/env bash
# `vouch log monitor` against `vouch log serve`: reports entries whose certificate identity
# matches, keeps its verified checkpoint on disk across runs, and exits 1 when the log it follows
# is replaced by a different tree under the same key (a split view).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/assert.sh"
vouch=${VOUCH_BIN:?VOUCH_BIN must point at the vouch binary}
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
cd "$work"
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out log.key 2>/dev/null
start() {  # start DB
  "$vouch" log serve --listen 127.0.0.1:$port --storage "sqlite:$work/$1" --signing-key log.key --hostname 127.0.0.1:$port 2>>server.log &
  pid=$!
  for _ in $(seq 100); do curl -sf "$url/readyz" >/dev/null && return 0; sleep 0.05; done
  echo "FAIL: server did not start"; exit 1
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null; pid=""; }
# submit EMAIL N: a hashedrekord entry signed with a key whose certificate names EMAIL.
submit() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "k$2.pem" -out "c$2.pem" \
    -days 1 -subj "/CN=test" -addext "subjectAltName=email:$1" 2>/dev/null
  echo "artifact $2 $RANDOM" > "a$2"
  openssl dgst -sha256 -sign "k$2.pem" -out "s$2" "a$2"
  python3 - "$2" > "p$2.json" <<'PY'
import base64, hashlib, json, sys
n = sys.argv[1]
print(json.dumps({"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
  "data": {"hash": {"algorithm": "sha256", "value": hashlib.sha256(open("a" + n, "rb").read()).hexdigest()}},
  "signature": {"content": base64.b64encode(open("s" + n, "rb").read()).decode(),
                "publicKey": {"content": base64.b64encode(open("c" + n + ".pem", "rb").read()).decode()}}}}))
PY
  [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary "@p$2.json" "$url/api/v1/log/entries")" = 201 ] \
    || fail "submitting entry $2"
}

start one.db
submit alice@example.com 1
submit bob@example.com 2
submit alice@example.com 3
out=$("$vouch" log monitor --log "$url" --identity '^alice@example\.com$' --state state.json --once 2>/dev/null) || fail "first monitor round"
[ "$(grep -c '^match: ' <<<"$out")" = 2 ] || fail "first round matched: $out"
grep -q '"size": 3' state.json || fail "state after the first round: $(cat state.json)"
submit alice@example.com 4
submit carol@example.com 5
out=$("$vouch" log monitor --log "$url" --identity alice --identity carol --state state.json --once -o json 2>/dev/null) || fail "second monitor round"
[ "$(grep -c '"logIndex"' <<<"$out")" = 2 ] || fail "second round reported: $out"
grep -q '"logIndex":3' <<<"$out" || fail "second round missed index 3: $out"

# The same key now serves a different tree: the monitor must refuse it.
stop
start two.db
for i in 6 7 8 9 10 11; do submit dave@example.com $i; done
err=$("$vouch" log monitor --log "$url" --state state.json --once 2>&1 >/dev/null); rc=$?
[ "$rc" = 1 ] || fail "monitor exit $rc on a split view, want 1: $err"
grep -q "inconsistent log" <<<"$err" || fail "monitor message: $err"
grep -q '"size": 5' state.json || fail "the state moved past an inconsistency: $(cat state.json)"
stop

[ "$fails" -eq 0 ] && echo "tlog monitor: all checks passed"
[ "$fails" -eq 0 ]
