#!/usr/bin/env bash
# The private Sigstore stack end to end: `vouch stack up` (OIDC issuer with GitHub Actions' token
# protocol, CA + CT log, Rekor-compatible log, TSA) and vouch's keyless client with nothing but
# DIR/env sourced. sigstore-js verifies the blob and image bundles offline with the stack's
# trusted root (chain, SCT, log entry, timestamp, identity) and refuses them under another
# identity or issuer, with the CT log's key replaced, and without any time source; sigstore-js's
# own signer signs through the same services. A restart
# keeps the CA and its logs; the CA refuses bad tokens with the check named. The
# sigstore-conformance wrapper (tools/sigstore-conformance) signs with sign-bundle.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/assert.sh"
vouch=${VOUCH_BIN:?VOUCH_BIN must point at the vouch binary}
root=$(cd "$(dirname "$0")/../.." && pwd)
shared=$root/../shared
work=$(mktemp -d)
pid=""
stop_stack() { [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; pid=""; }
cleanup() { stop_stack; rm -rf "$work"; }
trap cleanup EXIT

bash "$root/scripts/npm-peer.sh" sigstore-js "$root/.cache/sigstore-js" || { echo "FAIL: installing sigstore-js"; exit 1; }
export NODE_PATH=$root/.cache/sigstore-js/node_modules
cd "$work"

start_stack() {
  rm -f stack/env
  "$vouch" stack up --dir stack --github-repository acme/app --github-workflow .github/workflows/release.yml \
    --github-ref refs/tags/v1.2.3 2>>stack.log &
  pid=$!
  for _ in $(seq 100); do [ -s stack/env ] && break; sleep 0.1; done
  [ -s stack/env ] || { echo "FAIL: vouch stack up did not start: $(cat stack.log)"; exit 1; }
}
start_stack
# shellcheck disable=SC1091
source stack/env
identity=https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.3
[ "$(stat -c %a stack/env)" = 600 ] || fail "stack/env (it holds the request token) is not mode 0600"
[ "$(stat -c %a stack/ca/intermediate_key.pem)" = 600 ] || fail "the CA's key is not mode 0600"

sjs() { node "$shared/peers/sigstore-js/verify-bundle.js" "$@" 2>&1; }

# A blob, signed with no flag but the signing config: token from GitHub Actions' variables.
echo "release artifact" > artifact.txt
"$vouch" sign-blob --signing-config stack/signing_config.json --bundle blob.json -o json artifact.txt --yes \
  >sign.out 2>sign.err || fail "keyless sign-blob through the stack: $(cat sign.err)"
python3 - "$identity" <<'PY' || fail "the bundle is not a keyless, logged, timestamped one: $(cat sign.out)"
import json, sys
out = json.load(open("sign.out")); b = json.load(open("blob.json"))
assert out["keyless"] is True and out["identity"] == sys.argv[1], out
vm = b["verificationMaterial"]
assert "certificate" in vm and len(vm["tlogEntries"]) == 1, vm
assert len(vm["timestampVerificationData"]["rfc3161Timestamps"]) == 1, vm
PY
"$vouch" verify-blob --bundle blob.json --certificate-identity "$identity" --certificate-oidc-issuer "$VOUCH_OIDC_URL" \
  artifact.txt 2>verify.err || fail "vouch verify-blob (trust from SIGSTORE_ROOT_FILE): $(cat verify.err)"
out=$(sjs blob.json artifact.txt stack/trusted_root.json --identity "$identity" --issuer "$VOUCH_OIDC_URL") \
  && [[ "$out" == OK* ]] || fail "sigstore-js rejects the stack's keyless bundle: $out"
# Refused: another identity, another issuer, another artifact.
sjs blob.json artifact.txt stack/trusted_root.json --identity https://github.com/acme/other/.github/workflows/release.yml@refs/tags/v1.2.3 \
  --issuer "$VOUCH_OIDC_URL" | grep -q '^OK' && fail "sigstore-js accepts the bundle under another identity"
sjs blob.json artifact.txt stack/trusted_root.json --identity "$identity" --issuer https://token.actions.githubusercontent.com \
  | grep -q '^OK' && fail "sigstore-js accepts the bundle under another issuer"
expect 1 "" -- "$vouch" verify-blob --bundle blob.json --certificate-identity "$identity" \
  --certificate-oidc-issuer https://token.actions.githubusercontent.com artifact.txt
echo "something else" > other.txt
expect 1 "" -- "$vouch" verify-blob --bundle blob.json --certificate-identity "$identity" \
  --certificate-oidc-issuer "$VOUCH_OIDC_URL" other.txt
# The SCT is checked: with another CT log key in the trusted root, both refuse the certificate.
python3 - <<'PY'
import base64, json, subprocess
r = json.load(open("stack/trusted_root.json"))
key = subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout"], capture_output=True, check=True).stdout
der = subprocess.run(["openssl", "ec", "-pubout", "-outform", "DER"], input=key, capture_output=True, check=True).stdout
r["ctlogs"][0]["publicKey"]["rawBytes"] = base64.b64encode(der).decode()
json.dump(r, open("wrong_ct_root.json", "w"))
PY
sjs blob.json artifact.txt wrong_ct_root.json --identity "$identity" --issuer "$VOUCH_OIDC_URL" | grep -q '^OK' \
  && fail "sigstore-js accepts a certificate whose SCT no trusted CT log signed"
expect 1 "" -- "$vouch" verify-blob --bundle blob.json --trusted-root wrong_ct_root.json --certificate-identity "$identity" \
  --certificate-oidc-issuer "$VOUCH_OIDC_URL" artifact.txt
# Without a log entry or a timestamp, nothing shows the signature was made in the certificate's
# ten minutes: refused.
python3 -c '
import json; b = json.load(open("blob.json"))
b["verificationMaterial"]["tlogEntries"] = []; b["verificationMaterial"].pop("timestampVerificationData", None)
json.dump(b, open("timeless.json", "w"))'
sjs timeless.json artifact.txt stack/trusted_root.json --identity "$identity" --issuer "$VOUCH_OIDC_URL" | grep -q '^OK' \
  && fail "sigstore-js accepts a keyless bundle with no time source"
expect 1 "" -- "$vouch" verify-blob --bundle timeless.json --certificate-identity "$identity" \
  --certificate-oidc-issuer "$VOUCH_OIDC_URL" artifact.txt

# Another client of the same services: sigstore-js's signer (@sigstore/sign) takes the signing
# config and GitHub Actions' token request from the environment, and gets its certificate, log
# entry and timestamp from the stack; vouch and sigstore-js verify what it made.
node "$root/tests/integration/sigstore_js_sign.js" stack/signing_config.json artifact.txt sjs_blob.json >/dev/null 2>sjs.err \
  || fail "sigstore-js cannot sign through the stack: $(cat sjs.err)"
"$vouch" verify-blob --bundle sjs_blob.json --certificate-identity "$identity" --certificate-oidc-issuer "$VOUCH_OIDC_URL" \
  artifact.txt 2>verify.err || fail "vouch rejects sigstore-js's bundle from the stack: $(cat verify.err)"
out=$(sjs sjs_blob.json artifact.txt stack/trusted_root.json --identity "$identity" --issuer "$VOUCH_OIDC_URL") \
  && [[ "$out" == OK* ]] || fail "sigstore-js rejects its own bundle from the stack: $out"
python3 -c '
import hashlib, json
d = hashlib.sha256(open("artifact.txt", "rb").read()).hexdigest()
print(json.dumps({"_type": "https://in-toto.io/Statement/v1", "subject": [{"name": "artifact.txt", "digest": {"sha256": d}}],
                  "predicateType": "https://example.com/predicate/v1", "predicate": {}}))' > statement.json
node "$root/tests/integration/sigstore_js_sign.js" stack/signing_config.json statement.json sjs_dsse.json dsseEnvelope \
  >/dev/null 2>sjs.err || fail "sigstore-js cannot sign a DSSE statement through the stack: $(cat sjs.err)"
"$vouch" verify-blob --bundle sjs_dsse.json --certificate-identity "$identity" --certificate-oidc-issuer "$VOUCH_OIDC_URL" \
  artifact.txt 2>verify.err || fail "vouch rejects sigstore-js's DSSE bundle from the stack: $(cat verify.err)"

# An image, keyless in both layouts; sigstore-js verifies the bundle layout's DSSE statement
# against the image manifest.
command -v umoci >/dev/null || fail "umoci is missing (scripts/install-deps.sh installs it)"
umoci init --layout L && umoci new --image L:v1 >/dev/null || fail "umoci: making an image"
"$vouch" sign --signing-config stack/signing_config.json --yes oci:L:v1 2>img.err || fail "keyless sign (bundle): $(cat img.err)"
"$vouch" sign --signing-config stack/signing_config.json --yes --new-bundle-format=false oci:L:v1 2>img2.err \
  || fail "keyless sign (classic): $(cat img2.err)"
"$vouch" verify --certificate-identity "$identity" --certificate-oidc-issuer "$VOUCH_OIDC_URL" -o text oci:L:v1 \
  >verified.txt 2>img3.err || fail "vouch verify rejects the keyless image signatures: $(cat img3.err)"
grep -q '^bundle ' verified.txt || fail "the bundle-layout signature did not verify: $(cat verified.txt)"
expect 12 "no valid signatures" -- "$vouch" verify --certificate-identity https://github.com/acme/other/.github/workflows/release.yml@refs/tags/v1.2.3 \
  --certificate-oidc-issuer "$VOUCH_OIDC_URL" oci:L:v1
python3 - <<'PY' || fail "cannot find the image bundle in the layout"
import json, os
def blob(d): return open(os.path.join("L", "blobs", *d.split(":")), "rb").read()
idx = json.load(open("L/index.json"))
image = next(m for m in idx["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == "v1")
open("image_manifest.json", "wb").write(blob(image["digest"]))
def manifests():
    for m in idx["manifests"]:
        yield m
        if m.get("mediaType", "").endswith("index.v1+json"):
            yield from json.loads(blob(m["digest"])).get("manifests", [])
for m in manifests():
    body = json.loads(blob(m["digest"]))
    if body.get("artifactType", "").startswith("application/vnd.dev.sigstore.bundle") and body.get("subject", {}).get("digest") == image["digest"]:
        open("image_bundle.json", "wb").write(blob(body["layers"][0]["digest"]))
        break
else:
    raise SystemExit("no bundle referrer")
PY
out=$(sjs image_bundle.json image_manifest.json stack/trusted_root.json --identity "$identity" --issuer "$VOUCH_OIDC_URL") \
  && [[ "$out" == OK* ]] || fail "sigstore-js rejects the keyless image bundle: $out"

# The CA refuses bad tokens with the check named, and issues nothing.
curl_ca() { curl -s -o ca.out -w '%{http_code}' -X POST -H 'Content-Type: application/json' "$VOUCH_FULCIO_URL/api/v2/signingCert" --data "$1"; }
code=$(curl_ca '{"credentials":{"oidcIdentityToken":"e30.e30.e30"},"publicKeyRequest":{"publicKey":{"content":"x"},"proofOfPossession":"AA=="}}')
[ "$code" = 400 ] && grep -q 'There was an error processing the identity token' ca.out || fail "a garbage token: HTTP $code $(cat ca.out)"
b64url() { python3 -c 'import base64,sys; print(base64.urlsafe_b64encode(sys.stdin.buffer.read()).decode().rstrip("="))'; }
none_token="$(printf '{"alg":"none"}' | b64url).$(printf '{"iss":"%s","sub":"x","aud":"sigstore","exp":9999999999}' "$VOUCH_OIDC_URL" | b64url)."
code=$(curl_ca "{\"credentials\":{\"oidcIdentityToken\":\"$none_token\"},\"publicKeyRequest\":{\"publicKey\":{\"content\":\"x\"},\"proofOfPossession\":\"AA==\"}}")
[ "$code" = 400 ] && grep -q 'none is not accepted' ca.out || fail "alg none: HTTP $code $(cat ca.out)"
# A token of the stack's issuer for another audience.
gh_token=$(curl -s -H "Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=other" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["value"])')
code=$(curl_ca "{\"credentials\":{\"oidcIdentityToken\":\"$gh_token\"},\"publicKeyRequest\":{\"publicKey\":{\"content\":\"x\"},\"proofOfPossession\":\"AA==\"}}")
[ "$code" = 400 ] && grep -q 'does not contain sigstore' ca.out || fail "wrong audience: HTTP $code $(cat ca.out)"
# The request token guards GitHub Actions' endpoint.
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer wrong" "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=sigstore")
[ "$code" = 401 ] || fail "a wrong request token got HTTP $code"
curl -s "$VOUCH_FULCIO_URL/metrics" | grep -q '^vouch_ca_certificates_issued_total 5$' \
  || fail "the CA's metrics do not count five certificates: $(curl -s "$VOUCH_FULCIO_URL/metrics")"

# A restart keeps the CA, the CT log and the Rekor log: the same trusted root, old bundles verify.
cp stack/trusted_root.json root_before.json
stop_stack
grep -q '"msg":"private Sigstore stack stopped"' stack.log || fail "the stack did not stop gracefully on SIGTERM"
start_stack
# shellcheck disable=SC1091
source stack/env
python3 - <<'PY' || fail "a restart changed the CA or a log key"
import json
a = json.load(open("root_before.json")); b = json.load(open("stack/trusted_root.json"))
for k in ("certificateAuthorities", "ctlogs", "tlogs", "timestampAuthorities"):
    ka = [x.get("certChain", x.get("publicKey")) for x in a[k]]
    kb = [x.get("certChain", x.get("publicKey")) for x in b[k]]
    assert ka == kb, k
PY
"$vouch" verify-blob --bundle blob.json --certificate-identity "$identity" --certificate-oidc-issuer "$VOUCH_OIDC_URL" \
  artifact.txt 2>verify.err || fail "the bundle signed before the restart does not verify: $(cat verify.err)"
"$vouch" sign-blob --signing-config stack/signing_config.json --bundle blob2.json artifact.txt --yes 2>sign2.err \
  || fail "keyless signing after a restart: $(cat sign2.err)"
python3 -c 'import json; b=json.load(open("blob2.json")); assert b["verificationMaterial"]["tlogEntries"][0]["logIndex"] == "5", b["verificationMaterial"]["tlogEntries"][0]["logIndex"]' \
  || fail "the Rekor log did not continue after the restart"

# The sigstore-conformance client protocol: sign-bundle with a token, then verify-bundle.
token=$(curl -s -H "Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=sigstore" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["value"])')
conformance() { VOUCH_BIN=$vouch "$root/tools/sigstore-conformance" "$@"; }
conformance sign-bundle --identity-token "$token" --bundle conf.json --signing-config stack/signing_config.json \
  --trusted-root stack/trusted_root.json artifact.txt 2>conf.err || fail "conformance sign-bundle: $(cat conf.err)"
conformance verify-bundle --bundle conf.json --certificate-identity "$identity" --certificate-oidc-issuer "$VOUCH_OIDC_URL" \
  --trusted-root stack/trusted_root.json artifact.txt 2>conf.err || fail "conformance verify-bundle of sign-bundle's bundle: $(cat conf.err)"
expect 2 "in-toto" -- conformance sign-bundle --in-toto --identity-token "$token" --bundle x.json artifact.txt
stop_stack
[ "$fails" -eq 0 ] && echo "keyless through vouch stack up: all checks passed"
[ "$fails" -eq 0 ]
