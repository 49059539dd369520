#!/usr/bin/env bash
# vouch's transparency log against independent verifiers: `vouch log serve` on 127.0.0.1 with a
# fresh SQLite store; `vouch sign-blob --rekor-url` logs a hashedrekord entry and packs it into a
# v0.3 bundle; a trusted_root.json naming the log is written from the log's public key; the
# bundle verifies with `vouch verify-blob` and with sigstore-js; tampered entries fail with both.
# (sigstore-js looks the checkpoint signer name up in the log's base URL, as with rekor.sigstore.dev,
# so the log is named by its host and port.)
# Also: the REST API's errors (400/404/409/413), proofs, search and the client commands.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/assert.sh"
vouch=${VOUCH_BIN:?VOUCH_BIN must point at the vouch binary}
root=$(cd "$(dirname "$0")/../.." && pwd)
shared=$root/../shared
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

bash "$root/scripts/npm-peer.sh" sigstore-js "$root/.cache/sigstore-js" || { echo "FAIL: installing sigstore-js"; exit 1; }
export NODE_PATH=$root/.cache/sigstore-js/node_modules

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
"$vouch" log serve --listen 127.0.0.1:$port --storage "sqlite:$work/log.db" --hostname 127.0.0.1:$port \
  --max-request-body 200000 2>"$work/server.log" &
pid=$!
for _ in $(seq 50); do curl -sf "$url/readyz" >/dev/null && break; sleep 0.1; done
curl -sf "$url/healthz" >/dev/null || { echo "FAIL: server did not start: $(cat "$work/server.log")"; exit 1; }

cd "$work"
COSIGN_PASSWORD=pw "$vouch" generate-key-pair >/dev/null 2>&1 || fail "generate-key-pair"
echo "an artifact for the log" > artifact.txt
COSIGN_PASSWORD=pw "$vouch" sign-blob --key cosign.key --bundle bundle.json --rekor-url "$url" artifact.txt 2>/dev/null \
  || fail "sign-blob --rekor-url"

# The trusted root: the log's key (DER), its ID (SHA-256 of the DER key), and when it starts.
curl -sf "$url/api/v1/log/publicKey" > log.pub || fail "GET publicKey"
python3 - "$url" log.pub > trusted_root.json <<'PY' || fail "writing trusted_root.json"
import base64, hashlib, json, sys
pem = open(sys.argv[2]).read()
der = base64.b64decode("".join(l for l in pem.splitlines() if not l.startswith("-----")))
print(json.dumps({
  "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
  "tlogs": [{"baseUrl": sys.argv[1], "hashAlgorithm": "SHA2_256",
             "publicKey": {"rawBytes": base64.b64encode(der).decode(), "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                           "validFor": {"start": "2020-01-01T00:00:00Z"}},
             "logId": {"keyId": base64.b64encode(hashlib.sha256(der).digest()).decode()}}],
  "certificateAuthorities": [], "ctlogs": [], "timestampAuthorities": []}))
PY

"$vouch" verify-blob --key cosign.pub --bundle bundle.json --trusted-root trusted_root.json artifact.txt 2>/dev/null \
  || fail "vouch verify-blob rejects a bundle from vouch's log: $("$vouch" verify-blob --key cosign.pub --bundle bundle.json --trusted-root trusted_root.json artifact.txt 2>&1)"
out=$(node "$shared/peers/sigstore-js/verify-bundle.js" bundle.json artifact.txt trusted_root.json --key cosign.pub 2>&1) \
  && [[ "$out" == OK* ]] || fail "sigstore-js rejects a bundle from vouch's log: $out"

# Tampering: the logged body, the inclusion proof, the signed entry timestamp.
tamper() {  # tamper NAME PYTHON-EXPRESSION-ON-e
  python3 - bundle.json "$1.json" "$2" <<'PY'
import base64, json, sys
b = json.load(open(sys.argv[1])); e = b["verificationMaterial"]["tlogEntries"][0]
exec(sys.argv[3]); json.dump(b, open(sys.argv[2], "w"))
PY
  if "$vouch" verify-blob --key cosign.pub --bundle "$1.json" --trusted-root trusted_root.json artifact.txt 2>/dev/null; then
    fail "vouch verify-blob accepts a bundle with $1"
  fi
  if node "$shared/peers/sigstore-js/verify-bundle.js" "$1.json" artifact.txt trusted_root.json --key cosign.pub >/dev/null 2>&1; then
    fail "sigstore-js accepts a bundle with $1"
  fi
}
tamper body 'body = json.loads(base64.b64decode(e["canonicalizedBody"])); body["spec"]["data"]["hash"]["value"] = "0" * 64; e["canonicalizedBody"] = base64.b64encode(json.dumps(body, separators=(",", ":"), sort_keys=True).encode()).decode()'
tamper checkpoint 'c = e["inclusionProof"]["checkpoint"]; lines = c["envelope"].split("\n"); lines[2] = base64.b64encode(bytes(32)).decode(); c["envelope"] = "\n".join(lines); e["inclusionProof"]["rootHash"] = lines[2]'
tamper log-index 'e["logIndex"] = "7"; e["inclusionProof"]["logIndex"] = "7"'
tamper timestamp 'e["integratedTime"] = str(int(e["integratedTime"]) + 1)'

# More entries, then proofs and the client commands.
for i in 1 2 3 4 5; do
  echo "artifact $i" > "a$i.txt"
  COSIGN_PASSWORD=pw "$vouch" sign-blob --key cosign.key --bundle "b$i.json" --rekor-url "$url" "a$i.txt" 2>/dev/null || fail "sign-blob $i"
done
info=$("$vouch" log info --rekor-url "$url" -o json) || fail "log info"
size=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["treeSize"])' <<<"$info")
[ "$size" = 6 ] || fail "tree size $size, want 6"
"$vouch" log get --rekor-url "$url" --log-index 3 -o json >/dev/null || fail "log get --log-index"
"$vouch" log proof --rekor-url "$url" --first-size 2 --last-size 6 -o json >/dev/null || fail "log proof"
hits=$("$vouch" log search --rekor-url "$url" --artifact a2.txt) || fail "log search --artifact"
[ "$(echo "$hits" | grep -c .)" = 1 ] || fail "search by artifact found '$hits'"
"$vouch" log get --rekor-url "$url" --uuid "$hits" >/dev/null || fail "log get --uuid"
hits=$("$vouch" log search --rekor-url "$url" --public-key cosign.pub) || fail "log search --public-key"
[ "$(echo "$hits" | grep -c .)" = 6 ] || fail "search by key found $(echo "$hits" | grep -c .) entries, want 6"

# The REST API's answers to bad and repeated input.
status() { curl -s -o "$work/resp" -w '%{http_code}' "$@"; }
proposal=$(python3 - <<'PY'
import base64, json
b = json.load(open("bundle.json")); e = b["verificationMaterial"]["tlogEntries"][0]
print(base64.b64decode(e["canonicalizedBody"]).decode())
PY
)
[ "$(status -X POST -H 'Content-Type: application/json' -d "$proposal" "$url/api/v1/log/entries")" = 409 ] || fail "resubmission is not 409"
grep -q '"code":409' resp || fail "409 body: $(cat resp)"
[ "$(status -X POST -d '{"kind":' "$url/api/v1/log/entries")" = 400 ] || fail "malformed JSON is not 400"
grep -q 'malformed JSON' resp || fail "malformed JSON message: $(cat resp)"
[ "$(status -X POST -d '{"kind":"rpm","apiVersion":"0.0.1","spec":{}}' "$url/api/v1/log/entries")" = 400 ] || fail "unknown kind is not 400"
grep -q "unsupported entry kind" resp || fail "unknown kind message: $(cat resp)"
bad=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["spec"]["data"]["hash"]["value"]="1"*64; print(json.dumps(d))' "$proposal")
[ "$(status -X POST -d "$bad" "$url/api/v1/log/entries")" = 400 ] || fail "a signature that does not verify is not 400"
grep -q "does not verify" resp || fail "bad signature message: $(cat resp)"
head -c 300000 /dev/zero | tr '\0' 'x' > big.txt
code=$(status -X POST --data-binary @big.txt "$url/api/v1/log/entries")
[ "$code" = 413 ] || fail "an oversized body got $code, want 413"
[ "$(status "$url/api/v1/log/entries?logIndex=99")" = 404 ] || fail "missing index is not 404"
[ "$(status "$url/api/v1/log/entries/zz")" = 400 ] || fail "bad UUID is not 400"
[ "$(status "$url/api/v1/log/proof?firstSize=3&lastSize=99")" = 400 ] || fail "proof beyond the tree is not 400"
curl -sf "$url/metrics" | grep '^vouch_tlog_tree_size 6$' >/dev/null || fail "metrics tree size"

# DSSE: an in-toto statement about artifact.txt, signed over the DSSE PAE (openssl), logged as
# dsse 0.0.1 and as intoto 0.0.2, packed into v0.3 bundles that both verifiers accept.
openssl ecparam -name prime256v1 -genkey -noout -out dsse.key 2>/dev/null
openssl ec -in dsse.key -pubout -out dsse.pub 2>/dev/null
for kind in dsse intoto; do
  python3 - "$kind" "$url" > "bundle-$kind.json" <<'PY' || fail "building the $kind bundle"
import base64, hashlib, json, subprocess, sys, urllib.request
kind, url = sys.argv[1], sys.argv[2]
b64 = lambda b: base64.b64encode(b).decode()
art = open("artifact.txt", "rb").read()
stmt = json.dumps({"_type": "https://in-toto.io/Statement/v1",
                   "subject": [{"name": "artifact.txt", "digest": {"sha256": hashlib.sha256(art).hexdigest()}}],
                   "predicateType": "https://example.com/test/v1", "predicate": {"kind": kind}}).encode()
ptype = "application/vnd.in-toto+json"
pae = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype.encode(), len(stmt), stmt)
open("pae.bin", "wb").write(pae)
sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", "dsse.key", "pae.bin"], check=True, capture_output=True).stdout
env = {"payload": b64(stmt), "payloadType": ptype, "signatures": [{"keyid": "", "sig": b64(sig)}]}
env_json = json.dumps(env)
pub = open("dsse.pub", "rb").read()
if kind == "dsse":
    prop = {"apiVersion": "0.0.1", "kind": "dsse",
            "spec": {"proposedContent": {"envelope": env_json, "verifiers": [b64(pub)]}}}
else:
    prop = {"apiVersion": "0.0.2", "kind": "intoto", "spec": {"content": {
        "envelope": {"payload": b64(env["payload"].encode()), "payloadType": ptype,
                     "signatures": [{"sig": b64(env["signatures"][0]["sig"].encode()), "publicKey": b64(pub)}]},
        "hash": {"algorithm": "sha256", "value": hashlib.sha256(env_json.encode()).hexdigest()}}}}
req = urllib.request.Request(url + "/api/v1/log/entries", json.dumps(prop).encode(), {"Content-Type": "application/json"})
(uuid, e), = json.load(urllib.request.urlopen(req)).items()
body = json.loads(base64.b64decode(e["body"]))
p = e["verification"]["inclusionProof"]
hexb64 = lambda h: b64(bytes.fromhex(h))
print(json.dumps({
  "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
  "verificationMaterial": {"publicKey": {"hint": b64(hashlib.sha256(pub).digest())}, "tlogEntries": [{
    "logIndex": str(e["logIndex"]), "logId": {"keyId": hexb64(e["logID"])},
    "kindVersion": {"kind": body["kind"], "version": body["apiVersion"]},
    "integratedTime": str(e["integratedTime"]),
    "inclusionPromise": {"signedEntryTimestamp": e["verification"]["signedEntryTimestamp"]},
    "inclusionProof": {"logIndex": str(p["logIndex"]), "rootHash": hexb64(p["rootHash"]), "treeSize": str(p["treeSize"]),
                       "hashes": [hexb64(h) for h in p["hashes"]], "checkpoint": {"envelope": p["checkpoint"]}},
    "canonicalizedBody": e["body"]}]},
  "dsseEnvelope": env}))
PY
  "$vouch" verify-blob --key dsse.pub --bundle "bundle-$kind.json" --trusted-root trusted_root.json artifact.txt 2>/dev/null \
    || fail "vouch verify-blob rejects a $kind entry from vouch's log: $("$vouch" verify-blob --key dsse.pub --bundle "bundle-$kind.json" --trusted-root trusted_root.json artifact.txt 2>&1)"
  out=$(node "$shared/peers/sigstore-js/verify-bundle.js" "bundle-$kind.json" artifact.txt trusted_root.json --key dsse.pub 2>&1) \
    && [[ "$out" == OK* ]] || fail "sigstore-js rejects a $kind entry from vouch's log: $(tail -3 <<<"$out")"
done

# Graceful stop on SIGTERM: exit 0, the stop logged.
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=""
[ "$rc" = 0 ] || fail "server exit code $rc after SIGTERM"
grep -q "transparency log stopped" "$work/server.log" || fail "no stop line in the server log"

[ "$fails" -eq 0 ] && echo "tlog interop: all checks passed"
[ "$fails" -eq 0 ]
