#!/usr/bin/env bash
# Durability of `vouch log serve` at the load the benchmark puts on it: 64 concurrent keep-alive
# clients submit signed entries; the server is killed with SIGKILL in the middle of it and
# started again on the same storage. Every entry that was acknowledged (201) must be at its index
# with the same body, the inclusion proof it was acknowledged with must verify, and the new tree
# must be consistent (RFC 9162 consistency proof, checked here by an independent implementation)
# with the largest checkpoint the server handed out before the crash.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/assert.sh"
vouch=${VOUCH_BIN:?VOUCH_BIN must point at the vouch binary}
storage_kind=${TLOG_STORAGE:-sqlite}
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

storage=${TLOG_STORAGE_URL:-sqlite:$work/log.db}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$work/log.key" 2>/dev/null
start() {
  "$vouch" log serve --listen 127.0.0.1:$port --storage "$storage" --signing-key "$work/log.key" \
    --hostname 127.0.0.1:$port 2>>"$work/server.log" &
  pid=$!
  disown "$pid"  # no job report when it is SIGKILLed
  for _ in $(seq 100); do curl -sf "$url/readyz" >/dev/null && return 0; sleep 0.05; done
  echo "FAIL: server did not start ($storage_kind): $(tail -3 "$work/server.log")"; exit 1
}

# Load as bench/tlog_bench.cc puts it on the log (64 keep-alive clients, one request outstanding
# on each), from node (tlog_load.js: its own ECDSA signatures and HTTP client). The server is
# SIGKILLed once 3,000 entries are acknowledged, while the clients are still sending.
load=$(dirname "${BASH_SOURCE[0]}")/tlog_load.js
connections=${TLOG_DURABILITY_CLIENTS:-64}
kill_after=${TLOG_DURABILITY_ACKS:-3000}
node "$load" propose $((kill_after + 1000)) "$work/proposals.json" || { echo "FAIL: making proposals"; exit 1; }

start
node "$load" submit "$url" "$work/proposals.json" "$connections" "$kill_after" "$pid" "$work/acks.json" \
  || fail "the submission phase failed"
while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done; pid=""

start
node "$load" check "$url" "$work/acks.json" 16 || fail "acknowledged entries after restart ($storage_kind)"
python3 - "$work" "$url" <<'PY' || fail "after restart ($storage_kind)"
import hashlib, json, os, sys, urllib.request
work, url = sys.argv[1], sys.argv[2]
acks = json.load(open(os.path.join(work, "acks.json")))
def get(path): return json.load(urllib.request.urlopen(url + path, timeout=10))
def H(*parts): return hashlib.sha256(b"".join(parts)).digest()
def verify_consistency(n1, n2, proof, r1, r2):  # RFC 9162 section 2.1.4.2
    if n1 == n2: return not proof and r1 == r2
    if not proof: return False
    if n1 & (n1 - 1) == 0: proof = [r1] + proof
    fn, sn = n1 - 1, n2 - 1
    while fn & 1: fn >>= 1; sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0: return False
        if fn & 1 or fn == sn:
            fr, sr = H(b"\x01", c, fr), H(b"\x01", c, sr)
            if not fn & 1:
                while fn and not fn & 1: fn >>= 1; sn >>= 1
        else:
            sr = H(b"\x01", sr, c)
        fn >>= 1; sn >>= 1
    return sn == 0 and fr == r1 and sr == r2
bad = 0
info = get("/api/v1/log")
last = max(acks, key=lambda a: a["treeSize"])
if info["treeSize"] < last["treeSize"]:
    print(f"FAIL: tree shrank from {last['treeSize']} to {info['treeSize']}"); bad += 1
else:
    p = get(f"/api/v1/log/proof?firstSize={last['treeSize']}&lastSize={info['treeSize']}")
    ok = verify_consistency(last["treeSize"], info["treeSize"], [bytes.fromhex(h) for h in p["hashes"]],
                            bytes.fromhex(last["rootHash"]), bytes.fromhex(info["rootHash"]))
    if not ok or p["rootHash"] != info["rootHash"]:
        print(f"FAIL: tree {info['treeSize']} is not consistent with checkpoint {last['treeSize']} issued before the crash"); bad += 1
print(f"durability: tree {last['treeSize']} -> {info['treeSize']} consistent")
sys.exit(1 if bad else 0)
PY
# The log goes on appending after the restart.
curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' \
  -d "$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))[-1]))' "$work/proposals.json")" \
  "$url/api/v1/log/entries" || true
kill -TERM "$pid"
for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$pid" 2>/dev/null && fail "the server did not stop within 10 s of SIGTERM"
pid=""
grep -q "transparency log stopped" "$work/server.log" || fail "no graceful stop after SIGTERM"

[ "$fails" -eq 0 ] && echo "tlog durability ($storage_kind): all checks passed"
[ "$fails" -eq 0 ]
