#!/usr/bin/env bash
# Durability of `vouch log serve`: 8 concurrent clients submit signed entries; the server is
# killed with SIGKILL in the middle of it and started again on the same storage. Every entry
# that was acknowledged (201) must be at its index with the same body, and the new tree must be
# consistent (RFC 9162 consistency proof, checked here by an independent implementation) with
# the largest checkpoint the server handed out before the crash.
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

# 400 proposals signed with one key (openssl), made before the server starts.
openssl ecparam -name prime256v1 -genkey -noout -out "$work/signer.pem" 2>/dev/null
openssl ec -in "$work/signer.pem" -pubout -out "$work/signer.pub" 2>/dev/null
python3 - "$work" <<'PY' || { echo "FAIL: making proposals"; exit 1; }
import base64, hashlib, json, os, subprocess, sys
work = sys.argv[1]
pub = base64.b64encode(open(os.path.join(work, "signer.pub"), "rb").read()).decode()
out = []
for i in range(400):
    data = f"durability artifact {i} {os.urandom(8).hex()}".encode()
    path = os.path.join(work, "artifact")
    open(path, "wb").write(data)
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", os.path.join(work, "signer.pem"), path],
                         check=True, capture_output=True).stdout
    out.append({"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
        "data": {"hash": {"algorithm": "sha256", "value": hashlib.sha256(data).hexdigest()}},
        "signature": {"content": base64.b64encode(sig).decode(), "publicKey": {"content": pub}}}})
json.dump(out, open(os.path.join(work, "proposals.json"), "w"))
PY

start
# Clients: 8 threads POST proposals; acknowledged entries go to acks.jsonl. The main thread
# SIGKILLs the server once 60 entries are acknowledged, while the clients are still sending.
python3 - "$work" "$url" "$pid" <<'PY' || fail "the submission phase failed"
import base64, json, os, signal, sys, threading, time, urllib.request, urllib.error
work, url, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
proposals = json.load(open(os.path.join(work, "proposals.json")))
acks, lock, next_i = [], threading.Lock(), [0]
def client():
    while True:
        with lock:
            i = next_i[0]; next_i[0] += 1
        if i >= len(proposals): return
        req = urllib.request.Request(url + "/api/v1/log/entries", json.dumps(proposals[i]).encode(),
                                     {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                if r.status != 201: continue
                (uuid, e), = json.load(r).items()
                with lock: acks.append({"uuid": uuid, "logIndex": e["logIndex"], "body": e["body"],
                                        "treeSize": e["verification"]["inclusionProof"]["treeSize"],
                                        "rootHash": e["verification"]["inclusionProof"]["rootHash"]})
        except Exception:
            pass  # the server is gone: unacknowledged
threads = [threading.Thread(target=client) for _ in range(8)]
for t in threads: t.start()
deadline = time.time() + 60
while time.time() < deadline:
    with lock:
        if len(acks) >= 60: break
    time.sleep(0.005)
os.kill(pid, signal.SIGKILL)
for t in threads: t.join()
with lock:
    json.dump(acks, open(os.path.join(work, "acks.json"), "w"))
    print(f"durability: {len(acks)} entries acknowledged before SIGKILL, {next_i[0] - len(acks)} in flight or after")
    sys.exit(0 if len(acks) >= 60 else 1)
PY
while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done; pid=""

start
python3 - "$work" "$url" <<'PY' || fail "after restart ($storage_kind)"
import base64, hashlib, json, os, sys, urllib.request
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
for a in acks:
    (uuid, e), = get(f"/api/v1/log/entries?logIndex={a['logIndex']}").items()
    if uuid != a["uuid"] or e["body"] != a["body"]:
        print(f"FAIL: acknowledged entry {a['uuid']} is not at index {a['logIndex']}"); bad += 1
    if uuid[16:] != hashlib.sha256(b"\x00" + base64.b64decode(e["body"])).hexdigest():
        print(f"FAIL: entry {a['logIndex']}: UUID is not the leaf hash"); bad += 1
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
print(f"durability: {len(acks)} acknowledged entries in place; tree {last['treeSize']} -> {info['treeSize']} consistent")
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
