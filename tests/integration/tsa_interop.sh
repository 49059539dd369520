#!/usr/bin/env bash
# vouch's timestamp authority against OpenSSL's command line and vouch's own clients: a root CA
# and a TSA certificate (critical EKU timeStamping) made with openssl; `vouch tsa serve` answers
# `openssl ts -query` requests that `openssl ts -verify` accepts (and refuses for other data);
# `vouch sign-blob --timestamp-server-url` puts its timestamp in a bundle that `vouch verify-blob`
# accepts with a trusted root naming the TSA; bad requests get 4xx with one-line JSON errors.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/assert.sh"
vouch=${VOUCH_BIN:?VOUCH_BIN must point at the vouch binary}
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout root.key -out root.pem -days 30 \
  -subj "/O=vouch test/CN=TSA root" -addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign \
  2>/dev/null || { echo "FAIL: making the root"; exit 1; }
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tsa.key -out tsa.csr -subj "/O=vouch test/CN=TSA" \
  2>/dev/null || { echo "FAIL: making the TSA key"; exit 1; }
printf 'basicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n' > tsa.ext
openssl x509 -req -in tsa.csr -CA root.pem -CAkey root.key -CAcreateserial -days 20 -extfile tsa.ext -out tsa.pem \
  2>/dev/null || { echo "FAIL: issuing the TSA certificate"; exit 1; }
cat tsa.pem root.pem > chain.pem

# A key that is not the certificate's is refused at start, in one line.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out other.key 2>/dev/null
expect 2 "does not belong to the key" -- "$vouch" tsa serve --listen 127.0.0.1:0 --key other.key --cert-chain chain.pem

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
"$vouch" tsa serve --listen 127.0.0.1:$port --key tsa.key --cert-chain chain.pem 2>server.log &
pid=$!
for _ in $(seq 50); do curl -sf "$url/readyz" >/dev/null && break; sleep 0.1; done
curl -sf "$url/healthz" >/dev/null || { echo "FAIL: server did not start: $(cat server.log)"; exit 1; }

echo "data to timestamp" > data.txt
openssl ts -query -data data.txt -sha256 -cert -out q.tsq 2>/dev/null || fail "openssl ts -query"
code=$(curl -s -o r.tsr -w '%{http_code}' -H 'Content-Type: application/timestamp-query' --data-binary @q.tsq "$url/api/v1/timestamp")
[ "$code" = 200 ] || fail "POST timestamp-query: HTTP $code"
out=$(openssl ts -verify -data data.txt -in r.tsr -CAfile root.pem -untrusted tsa.pem 2>&1)
[[ "$out" == *"Verification: OK"* ]] || fail "openssl ts -verify rejects vouch's timestamp: $out"
openssl ts -reply -in r.tsr -text 2>/dev/null | grep -q "Policy OID: 1.3.6.1.4.1.57264.2" || fail "policy OID not in the reply"
echo "other data" > other.txt
openssl ts -verify -data other.txt -in r.tsr -CAfile root.pem -untrusted tsa.pem >/dev/null 2>&1 \
  && fail "openssl ts -verify accepts the timestamp for other data"
openssl ts -query -data data.txt -sha512 -no_nonce -out q512.tsq 2>/dev/null
curl -s -o r512.tsr -H 'Content-Type: application/timestamp-query' --data-binary @q512.tsq "$url/api/v1/timestamp"
openssl ts -verify -data data.txt -in r512.tsr -CAfile root.pem -untrusted tsa.pem 2>&1 | grep -q "Verification: OK" \
  || fail "SHA-512 request without certReq or nonce"
curl -sf "$url/api/v1/timestamp/certchain" > served.pem || fail "GET certchain"
cmp -s <(openssl x509 -in served.pem -outform DER) <(openssl x509 -in tsa.pem -outform DER) || fail "certchain does not start with the TSA certificate"

# Refusals: 4xx with one JSON error line, nothing signed.
status() { curl -s -o resp.txt -w '%{http_code}' "$@"; }
[ "$(status -H 'Content-Type: application/timestamp-query' --data-binary 'not DER' "$url/api/v1/timestamp")" = 400 ] \
  || fail "garbage request: $(cat resp.txt)"
grep -q '"code":400' resp.txt || fail "error body is not JSON: $(cat resp.txt)"
openssl ts -query -data data.txt -sha1 -out q1.tsq 2>/dev/null
[ "$(status -H 'Content-Type: application/timestamp-query' --data-binary @q1.tsq "$url/api/v1/timestamp")" = 400 ] \
  || fail "a SHA-1 request was not refused: $(cat resp.txt)"
[ "$(status -H 'Content-Type: text/plain' --data-binary @q.tsq "$url/api/v1/timestamp")" = 415 ] || fail "wrong content type"
[ "$(status -H 'Content-Type: application/json' -d '{"artifactHash":"AAAA","hashAlgorithm":"sha256"}' "$url/api/v1/timestamp")" = 400 ] \
  || fail "a JSON request with a short imprint was answered"
[ "$(status -H 'Content-Type: application/json' -d '{"artifactHash":"AAAA","hashAlgorithm":"md5x","extra":1}' "$url/api/v1/timestamp")" = 400 ] \
  || fail "a JSON request with an unknown field was answered"
grep -q 'unknown field' resp.txt || fail "unknown field not named: $(cat resp.txt)"
[ "$(status "$url/api/v1/timestamp")" = 405 ] || fail "GET on the timestamp endpoint"

# vouch's client: a key-signed blob, timestamped, with no log; the trusted root names the TSA.
COSIGN_PASSWORD=pw "$vouch" generate-key-pair >/dev/null 2>&1 || fail "generate-key-pair"
COSIGN_PASSWORD=pw "$vouch" sign-blob --key cosign.key --timestamp-server-url "$url/api/v1/timestamp" --bundle b.json data.txt \
  2>sign.err || fail "sign-blob --timestamp-server-url: $(cat sign.err)"
python3 - <<'PY' > trusted_root.json || fail "writing trusted_root.json"
import base64, json, ssl
def der(path): return base64.b64encode(ssl.PEM_cert_to_DER_cert(open(path).read())).decode()
print(json.dumps({"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
  "tlogs": [], "certificateAuthorities": [], "ctlogs": [],
  "timestampAuthorities": [{"subject": {"organization": "vouch test", "commonName": "TSA"},
    "certChain": {"certificates": [{"rawBytes": der("tsa.pem")}, {"rawBytes": der("root.pem")}]},
    "validFor": {"start": "2020-01-01T00:00:00Z"}}]}))
PY
out=$("$vouch" verify-blob --bundle b.json --key cosign.pub --trusted-root trusted_root.json --insecure-ignore-tlog -o json data.txt 2>&1) \
  || fail "verify-blob rejects the timestamped bundle: $out"
[[ "$out" == *'"source": "'* ]] || [[ "$out" == *'"source":"'* ]] || fail "no verified timestamp in: $out"
expect 1 "" -- "$vouch" verify-blob --bundle b.json --key cosign.pub --trusted-root trusted_root.json --insecure-ignore-tlog other.txt
# cosign attach signature --tsr: a TSA's response over a signature made elsewhere, stored in the
# classic layer's rfc3161timestamp annotation as cosign stores it; one over other data is refused.
umoci init --layout L && umoci new --image L:app || fail "umoci: an image to sign"
digest=$(python3 -c 'import json; print(json.load(open("L/index.json"))["manifests"][0]["digest"])')
printf '{"critical":{"identity":{"docker-reference":"app"},"image":{"docker-manifest-digest":"%s"},"type":"cosign container image signature"},"optional":null}' \
  "$digest" > app.payload
COSIGN_PASSWORD=pw "$vouch" sign-blob --key cosign.key --tlog-upload=false --bundle app.bundle app.payload >/dev/null 2>&1 \
  || fail "sign-blob the payload"
python3 -c 'import json; print(json.load(open("app.bundle"))["messageSignature"]["signature"])' > app.sig
base64 -d app.sig > app.sig.raw
openssl ts -query -data app.sig.raw -sha256 -cert -out app.tsq 2>/dev/null || fail "openssl ts -query over the signature"
curl -sf -o app.tsr -H 'Content-Type: application/timestamp-query' --data-binary @app.tsq "$url/api/v1/timestamp" \
  || fail "timestamping the signature"
expect 2 "timestamps other data than this signature" -- \
  "$vouch" attach signature --payload app.payload --signature app.sig --tsr r.tsr "oci:L:app"
expect 2 "timestamp response" -- "$vouch" attach signature --payload app.payload --signature app.sig --tsr data.txt "oci:L:app"
expect 0 "" -- "$vouch" attach signature --payload app.payload --signature app.sig --tsr app.tsr "oci:L:app"
python3 - "$digest" <<'PY' || fail "the timestamp annotation is not cosign's"
import base64, json, sys
index = json.load(open("L/index.json"))
tag = sys.argv[1].replace(":", "-") + ".sig"
desc = next(m for m in index["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag)
manifest = json.load(open("L/blobs/sha256/" + desc["digest"].split(":")[1]))
note = json.loads(manifest["layers"][0]["annotations"]["dev.sigstore.cosign/rfc3161timestamp"])
assert list(note) == ["SignedRFC3161Timestamp"], note
assert base64.b64decode(note["SignedRFC3161Timestamp"]) == open("app.tsr", "rb").read()
PY
expect 0 "" -- "$vouch" verify --key cosign.pub --trusted-root trusted_root.json --insecure-ignore-tlog "oci:L:app"
curl -s "$url/metrics" | grep -q '^vouch_tsa_timestamps_granted_total [1-9]' || fail "metrics do not count granted timestamps"

kill -TERM "$pid"; wait "$pid"; rc=$?; pid=""
[ "$rc" = 0 ] || fail "server exit code $rc after SIGTERM"
grep -q "timestamp authority stopped" server.log || fail "no stop line in the server log"

[ "$fails" -eq 0 ] && echo "tsa interop: all checks passed"
[ "$fails" -eq 0 ]
