#!/usr/bin/env bash
# vouch's keyless client against another implementation of the Sigstore services: @sigstore/mock's
# Fulcio, Rekor v1 and timestamp authority served on 127.0.0.1 (../shared/peers/sigstore-js/
# mock-sigstore-server.js), which writes its trusted root. `vouch sign-blob` and `attest-blob`
# without --key get a certificate for the identity token's email, log and timestamp the
# signature; the bundles verify with `vouch verify-blob` and sigstore-js under that identity and
# are refused under another; a signing config file names the same services; bad input is refused.
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
cd "$work"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
PORT=$port node "$root/.cache/sigstore-js/mock-sigstore-server.js" mock_root.json 2>mock.log &
pid=$!
for _ in $(seq 100); do [ -s mock_root.json ] && grep -q listening mock.log && break; sleep 0.1; done
[ -s mock_root.json ] || { echo "FAIL: mock services did not start: $(cat mock.log)"; exit 1; }

# An identity token as an OIDC provider would issue it (the mock CA reads it without checking
# its signature; vouch's client never trusts it either: it only reads the email to prove
# possession of the key for it).
b64url() { python3 -c 'import base64,sys; print(base64.urlsafe_b64encode(sys.stdin.buffer.read()).decode().rstrip("="))'; }
jwt() {
  local claims=$1
  echo "$(printf '{"alg":"RS256","kid":"k"}' | b64url).$(printf '%s' "$claims" | b64url).$(printf 'sig' | b64url)"
}
now=$(date +%s)
token=$(jwt "{\"iss\":\"https://oidc.example\",\"sub\":\"alice@example.com\",\"aud\":\"sigstore\",\"email\":\"alice@example.com\",\"email_verified\":true,\"iat\":$now,\"exp\":$((now+600))}")
echo "an artifact signed keyless" > artifact.txt

sjs() { node "$shared/peers/sigstore-js/verify-bundle.js" "$@" 2>&1; }

# sign-blob with the services given as flags; the token from $SIGSTORE_ID_TOKEN.
SIGSTORE_ID_TOKEN=$token "$vouch" sign-blob --yes --fulcio-url "$url" --rekor-url "$url" \
  --timestamp-server-url "$url/api/v1/timestamp" --bundle blob.json -o json artifact.txt >sign.out 2>sign.err \
  || fail "keyless sign-blob against the mock services: $(cat sign.err)"
python3 - <<'PY' || fail "sign-blob -o json or the bundle is not what keyless signing writes: $(cat sign.out)"
import json
out = json.load(open("sign.out")); b = json.load(open("blob.json"))
assert out["keyless"] is True and out["identity"] == "alice@example.com" and out["timestamped"] is True, out
assert "logIndex" in out, out
vm = b["verificationMaterial"]
assert b["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
assert "certificate" in vm and len(vm["tlogEntries"]) == 1, vm.keys()
assert len(vm["timestampVerificationData"]["rfc3161Timestamps"]) == 1
PY

"$vouch" verify-blob --bundle blob.json --trusted-root mock_root.json --certificate-identity alice@example.com \
  --certificate-oidc-issuer https://oidc.example artifact.txt 2>verify.err \
  || fail "vouch verify-blob rejects its own keyless bundle: $(cat verify.err)"
# sigstore-js is given a bundle without the mock TSA's timestamp: its ASN.1 time parser now and
# then refuses the times that TSA writes ("invalid time"), whoever asked for them.
SIGSTORE_ID_TOKEN=$token "$vouch" sign-blob --yes --fulcio-url "$url" --rekor-url "$url" --bundle blob_sjs.json artifact.txt \
  2>sign_sjs.err || fail "keyless sign-blob without a TSA: $(cat sign_sjs.err)"
out=$(sjs blob_sjs.json artifact.txt mock_root.json --identity alice@example.com --issuer https://oidc.example) \
  && [[ "$out" == OK* ]] || fail "sigstore-js rejects vouch's keyless bundle: $out"
# Another identity or issuer is refused by both.
expect 1 "" -- "$vouch" verify-blob --bundle blob.json --trusted-root mock_root.json --certificate-identity mallory@example.com \
  --certificate-oidc-issuer https://oidc.example artifact.txt
expect 1 "" -- "$vouch" verify-blob --bundle blob.json --trusted-root mock_root.json --certificate-identity alice@example.com \
  --certificate-oidc-issuer https://other.example artifact.txt
sjs blob_sjs.json artifact.txt mock_root.json --identity mallory@example.com --issuer https://oidc.example | grep -q '^OK' \
  && fail "sigstore-js accepts the bundle under another identity"
sjs blob_sjs.json artifact.txt mock_root.json --identity alice@example.com --issuer https://other.example | grep -q '^OK' \
  && fail "sigstore-js accepts the bundle under another issuer"
# Another artifact is refused.
echo "something else" > other.txt
expect 1 "" -- "$vouch" verify-blob --bundle blob.json --trusted-root mock_root.json --certificate-identity alice@example.com \
  --certificate-oidc-issuer https://oidc.example other.txt

# The same services named by a signing config (v0.2); the token from a file given to --identity-token.
python3 - "$url" > signing_config.json <<'PY'
import json, sys
u = sys.argv[1]
svc = lambda url: {"url": url, "majorApiVersion": 1, "validFor": {"start": "2020-01-01T00:00:00Z"}, "operator": "mock"}
print(json.dumps({"mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
                  "caUrls": [svc(u)], "oidcUrls": [], "rekorTlogUrls": [svc(u)], "rekorTlogConfig": {"selector": "ANY"},
                  "tsaUrls": [svc(u + "/api/v1/timestamp")], "tsaConfig": {"selector": "ANY"}}))
PY
printf '%s\n' "$token" > token.txt
"$vouch" sign-blob -y --signing-config signing_config.json --identity-token token.txt --bundle blob2.json artifact.txt \
  2>sign2.err || fail "keyless sign-blob with --signing-config: $(cat sign2.err)"
"$vouch" verify-blob --bundle blob2.json --trusted-root mock_root.json --certificate-identity alice@example.com \
  --certificate-oidc-issuer https://oidc.example artifact.txt 2>verify2.err \
  || fail "the bundle signed through the signing config does not verify: $(cat verify2.err)"
python3 -c 'import json; b=json.load(open("blob2.json")); assert b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]' \
  || fail "the signing config's TSA was not used"

# attest-blob keyless: a DSSE in-toto statement over the file, timestamped (the mock's Rekor v1
# keeps DSSE entries in a form no verifier accepts, so this one is not logged).
echo '{"builder":"example"}' > predicate.json
SIGSTORE_ID_TOKEN=$token "$vouch" attest-blob -y --fulcio-url "$url" --tlog-upload=false \
  --timestamp-server-url "$url/api/v1/timestamp" --type https://example.com/predicate/v1 --predicate predicate.json \
  --bundle att.json artifact.txt 2>att.err || fail "keyless attest-blob: $(cat att.err)"
"$vouch" verify-blob --bundle att.json --trusted-root mock_root.json --insecure-ignore-tlog \
  --certificate-identity alice@example.com --certificate-oidc-issuer https://oidc.example artifact.txt 2>verify.err \
  || fail "vouch verify-blob rejects the keyless attestation bundle: $(cat verify.err)"
python3 - <<'PY' || fail "the attestation's statement is not over the file"
import base64, hashlib, json
b = json.load(open("att.json"))
st = json.loads(base64.b64decode(b["dsseEnvelope"]["payload"]))
assert st["predicateType"] == "https://example.com/predicate/v1", st
assert st["subject"][0]["digest"]["sha256"] == hashlib.sha256(open("artifact.txt", "rb").read()).hexdigest()
assert st["predicate"] == {"builder": "example"}
PY

# Images: keyless `vouch sign` in both layouts on an OCI layout; `vouch verify` accepts the
# identity and refuses another. (Classic: a hashedrekord entry in the mock's log, the certificate
# and chain in the layer's annotations. Bundle: a DSSE bundle, timestamped, not logged, since
# the mock's log keeps DSSE entries in a form no verifier accepts.)
if command -v umoci >/dev/null; then
  umoci init --layout L && umoci new --image L:v1 >/dev/null || fail "umoci: making an image"
  SIGSTORE_ID_TOKEN=$token "$vouch" sign -y --fulcio-url "$url" --rekor-url "$url" --new-bundle-format=false oci:L:v1 \
    2>img.err || fail "keyless sign, classic layout: $(cat img.err)"
  SIGSTORE_ID_TOKEN=$token "$vouch" sign -y --fulcio-url "$url" --tlog-upload=false \
    --timestamp-server-url "$url/api/v1/timestamp" oci:L:v1 2>img2.err || fail "keyless sign, bundle layout: $(cat img2.err)"
  "$vouch" verify --trusted-root mock_root.json --certificate-identity alice@example.com \
    --certificate-oidc-issuer https://oidc.example oci:L:v1 >verified.json 2>img3.err \
    || fail "vouch verify rejects the keyless classic signature: $(cat img3.err)"
  python3 -c 'import json; v=json.load(open("verified.json")); assert v and v[0]["optional"]["Subject"]=="alice@example.com", v' \
    || fail "verify output does not name the signer: $(cat verified.json)"
  "$vouch" verify --trusted-root mock_root.json --insecure-ignore-tlog --certificate-identity alice@example.com \
    --certificate-oidc-issuer https://oidc.example -o text oci:L:v1 >verified.txt 2>img4.err \
    || fail "vouch verify --insecure-ignore-tlog: $(cat img4.err)"
  grep -q '^bundle ' verified.txt || fail "the keyless bundle-layout signature did not verify: $(cat verified.txt) $(cat img4.err)"
  # A classic signature with a timestamp and no log entry: the timestamp annotation is what shows
  # the signature was made within the certificate's ten minutes.
  umoci new --image L:v2 >/dev/null || fail "umoci: a second image"
  SIGSTORE_ID_TOKEN=$token "$vouch" sign -y --fulcio-url "$url" --tlog-upload=false --new-bundle-format=false \
    --timestamp-server-url "$url/api/v1/timestamp" oci:L:v2 2>img5.err || fail "keyless classic sign with a TSA: $(cat img5.err)"
  "$vouch" verify --trusted-root mock_root.json --insecure-ignore-tlog --certificate-identity alice@example.com \
    --certificate-oidc-issuer https://oidc.example oci:L:v2 >/dev/null 2>img6.err \
    || fail "the timestamped classic signature does not verify: $(cat img6.err)"
  expect 12 "no valid signatures" -- "$vouch" verify --trusted-root mock_root.json --certificate-identity mallory@example.com \
    --certificate-oidc-issuer https://oidc.example oci:L:v1
else
  fail "umoci is missing (scripts/install-deps.sh installs it)"
fi

# Refusals: one line, exit 2, no bundle written.
rm -f none.json
out=$(env -u SIGSTORE_ID_TOKEN -u ACTIONS_ID_TOKEN_REQUEST_URL "$vouch" sign-blob -y --fulcio-url "$url" --rekor-url "$url" \
  --bundle none.json artifact.txt 2>&1); rc=$?
[ $rc -eq 2 ] && [[ "$out" == *"no identity token"* ]] || fail "sign-blob without a token: exit $rc: $out"
unverified=$(jwt '{"iss":"https://oidc.example","sub":"bob","email":"bob@example.com","email_verified":false}')
out=$(SIGSTORE_ID_TOKEN=$unverified "$vouch" sign-blob -y --fulcio-url "$url" --rekor-url "$url" --bundle none.json artifact.txt 2>&1) \
  && fail "sign-blob accepted a token whose email is not verified"
[[ "$out" == *"not verified"* ]] || fail "unverified email: $out"
out=$(SIGSTORE_ID_TOKEN=$token "$vouch" sign-blob --fulcio-url "$url" --rekor-url "$url" --bundle none.json artifact.txt 2>&1 </dev/null) \
  && fail "keyless sign-blob ran without --yes and without a terminal to ask"
[[ "$out" == *"--yes"* ]] || fail "no --yes: $out"
out=$(SIGSTORE_ID_TOKEN=$token "$vouch" sign-blob -y --fulcio-url "$url" --tlog-upload=false --bundle none.json artifact.txt 2>&1) \
  && fail "keyless sign-blob with neither a log nor a timestamp authority"
[[ "$out" == *"transparency log or a timestamp authority"* ]] || fail "no log, no TSA: $out"
out=$(SIGSTORE_ID_TOKEN=$token "$vouch" sign-blob -y --fulcio-url "http://127.0.0.1:1" --rekor-url "$url" -t 5s --bundle none.json artifact.txt 2>&1) \
  && fail "keyless sign-blob with an unreachable CA"
sed 's/"ANY"/"SOME"/' signing_config.json > bad_config.json
out=$(SIGSTORE_ID_TOKEN=$token "$vouch" sign-blob -y --signing-config bad_config.json --bundle none.json artifact.txt 2>&1); rc=$?
[ $rc -eq 2 ] && [[ "$out" == *"selector"* ]] || fail "bad signing config: exit $rc: $out"
[ -e none.json ] && fail "a refused keyless signing left a bundle behind"
[ "$(wc -l <<<"$out")" -eq 1 ] || fail "a refusal is not one line: $out"

[ "$fails" -eq 0 ] && echo "keyless against @sigstore/mock: all checks passed"
[ "$fails" -eq 0 ]
