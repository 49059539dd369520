#!/usr/bin/env bash
# Kyverno ImageValidatingPolicy against a real docker-registry on 127.0.0.1, in
# `vouch policy apply --registry` and in `vouch admission serve`:
#  - a cosign key attestor: the image signed with `vouch sign --key` passes, the unsigned one
#    fails with the validation's message (denied in the webhook with Kyverno's
#    "Policy <name> failed: <message>");
#  - a keyless attestor (`vouch oidc serve`, `vouch ca serve`, `vouch log serve`): the signer's
#    identity matches, another subject does not;
#  - an in-toto attestation (`vouch attest`) with a condition over its payload (extractPayload),
#    a passing and a failing predicate;
#  - a Notary attestor (`vouch notation sign`), and a Notary-signed OCI 1.1 referrer read with
#    extractPayload;
#  - getImageData and image() over the registry's manifest;
#  - mutateDigest: the mutating webhook pins the tag by JSON patch, `policy apply` prints the
#    pinned resource; verifyDigest fails a tag that was not pinned; `required` fails an image
#    no attestor checked.
set -uo pipefail
V=${VOUCH_BIN:?set VOUCH_BIN}
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/tests/lib/assert.sh"
source "$root/tests/lib/scratch.sh"
require_tools docker-registry umoci skopeo python3 curl openssl
[ -n "${KEEP:-}" ] && trap - EXIT
export DOCKER_CONFIG=$T/docker COSIGN_PASSWORD=pw HOME=$T/home XDG_CONFIG_HOME=$T/config
mkdir -p "$HOME"
cd "$T" || exit 1
oidc_pid="" ca_pid="" wh_pid=""
trap 'for p in $oidc_pid $ca_pid $wh_pid; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; [ -n "${KEEP:-}" ] && echo "kept $T" || cleanup' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() {  # wait_for URL WHAT LOG [CURL-ARGS…]
  local url=$1 what=$2 log=$3; shift 3
  for _ in $(seq 100); do curl -sf "$@" -o /dev/null "$url" && return 0; sleep 0.1; done
  echo "FAIL: $what did not start: $(cat "$log")"; exit 1
}

# --- services: registry, OIDC issuer, CA with its CT log, Rekor-compatible log
REG=127.0.0.1:$(free_port)
printf 'version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s/data}}\nhttp: {addr: %s}\n' "$T" "$REG" > reg.yml
docker-registry serve reg.yml > reg.log 2>&1 &
reg_pid=$!
OIDC=http://127.0.0.1:$(free_port)
"$V" oidc serve --listen "${OIDC#http://}" 2>oidc.log &
oidc_pid=$!
CA=http://127.0.0.1:$(free_port)
REKOR=http://127.0.0.1:$(free_port)
"$V" log serve --listen "${REKOR#http://}" --storage "sqlite:$T/log.db" --hostname "${REKOR#http://}" 2>log.log &
log_pid=$!
wait_for "$OIDC/.well-known/openid-configuration" "vouch oidc serve" oidc.log
"$V" ca serve --dir ca --listen "${CA#http://}" --oidc-issuer "$OIDC" --issuer-type email 2>ca.log &
ca_pid=$!
wait_for "http://$REG/v2/" docker-registry reg.log
wait_for "$REKOR/readyz" "vouch log serve" log.log
wait_for "$CA/readyz" "vouch ca serve" ca.log
"$V" trusted-root create --fulcio "url=$CA" --rekor "url=$REKOR" \
  --ctfe "url=$CA,public-key=$T/ca/ct/ct_public.pem,start-time=2020-01-01T00:00:00Z" \
  --out trusted_root.json 2>tr.err || fail "vouch trusted-root create: $(cat tr.err)"
TOKEN=$(curl -sf -X POST "$OIDC/token" -H 'Content-Type: application/json' \
  -d '{"sub":"dev","email":"dev@example.com","email_verified":true}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id_token"])')
[ -n "$TOKEN" ] || { echo "FAIL: no token from vouch oidc serve: $(cat oidc.log)"; exit 1; }

# --- images, each with its own content
umoci init --layout L >/dev/null
for name in keyed unsigned keyless attested failing notary nosbom; do
  umoci new --image "L:$name" >/dev/null
  umoci unpack --rootless --image "L:$name" "b-$name" >/dev/null
  echo "$name" > "b-$name/rootfs/content"
  umoci repack --image "L:$name" "b-$name" >/dev/null
  skopeo copy -q --dest-tls-verify=false "oci:L:$name" "docker://$REG/demo/$name:v1" || fail "push $name"
done
digest_of() { "$V" inspect -o json "$REG/demo/$1:v1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["digest"])'; }
"$V" generate-key-pair >/dev/null 2>&1 || fail "generate-key-pair"
"$V" sign --key cosign.key "$REG/demo/keyed:v1" >/dev/null 2>&1 || fail "sign keyed"
"$V" sign --yes --identity-token "$TOKEN" --fulcio-url "$CA" --rekor-url "$REKOR" "$REG/demo/keyless:v1" \
  >/dev/null 2>sign-keyless.err || fail "keyless sign: $(cat sign-keyless.err)"
echo '{"result":"PASS","scanner":"demo"}' > pass.json
echo '{"result":"FAIL","scanner":"demo"}' > fail.json
"$V" attest --key cosign.key --type https://example.com/scan/v1 --predicate pass.json "$REG/demo/attested:v1" \
  >/dev/null 2>&1 || fail "attest attested"
"$V" attest --key cosign.key --type https://example.com/scan/v1 --predicate fail.json "$REG/demo/failing:v1" \
  >/dev/null 2>&1 || fail "attest failing"

# Notary: a root and a code-signing leaf; the image signed, and an SBOM pushed as an OCI 1.1
# referrer (through the referrers tag schema, which this registry needs) and signed too.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout nroot.key -out nroot.pem -days 2 \
  -subj "/C=US/ST=WA/O=Acme/CN=Acme Root" -addext basicConstraints=critical,CA:TRUE \
  -addext keyUsage=critical,keyCertSign,cRLSign >/dev/null 2>&1 || fail "notary root"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out nleaf.key 2>/dev/null
openssl req -new -key nleaf.key -subj "/C=US/ST=WA/O=Acme/CN=signer" -out nleaf.csr 2>/dev/null
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' > leaf.cnf
openssl x509 -req -in nleaf.csr -CA nroot.pem -CAkey nroot.key -CAcreateserial -days 1 -extfile leaf.cnf \
  -out nleaf.pem >/dev/null 2>&1 || fail "notary leaf"
cat nleaf.pem nroot.pem > nleaf.chain.pem
"$V" notation sign --key nleaf.key --cert nleaf.chain.pem "$REG/demo/notary:v1" >/dev/null 2>nsign.err ||
  fail "notation sign: $(cat nsign.err)"
notary_digest=$(digest_of notary)
cat > push_referrer.py <<'PY'
# push_referrer.py REGISTRY REPOSITORY SUBJECT: a CycloneDX SBOM as an OCI 1.1 referrer of SUBJECT,
# listed in the referrers tag schema's index (this registry has no referrers API).
import hashlib, json, sys, urllib.request
reg, repo, subject = sys.argv[1:4]
base = f"http://{reg}/v2/{repo}"
def put_blob(data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    loc = urllib.request.urlopen(urllib.request.Request(base + "/blobs/uploads/", method="POST")).headers["Location"]
    if loc.startswith("/"): loc = f"http://{reg}{loc}"
    sep = "&" if "?" in loc else "?"
    urllib.request.urlopen(urllib.request.Request(f"{loc}{sep}digest={d}", data=data, method="PUT",
                                                  headers={"Content-Type": "application/octet-stream"}))
    return {"digest": d, "size": len(data)}
def put_manifest(ref, body, media):
    data = json.dumps(body).encode()
    urllib.request.urlopen(urllib.request.Request(f"{base}/manifests/{ref}", data=data, method="PUT",
                                                  headers={"Content-Type": media}))
    return {"mediaType": media, "digest": "sha256:" + hashlib.sha256(data).hexdigest(), "size": len(data)}
subject_desc = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": subject,
                "size": len(urllib.request.urlopen(urllib.request.Request(f"{base}/manifests/{subject}",
                       headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})).read())}
config = put_blob(b"{}")
layer = put_blob(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []}).encode())
manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": "sbom/cyclone-dx",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", **config},
            "layers": [{"mediaType": "application/vnd.cyclonedx+json", **layer}],
            "subject": subject_desc}
manifest_bytes = json.dumps(manifest).encode()
manifest_digest = "sha256:" + hashlib.sha256(manifest_bytes).hexdigest()
desc = put_manifest(manifest_digest, manifest, "application/vnd.oci.image.manifest.v1+json")
desc["artifactType"] = "sbom/cyclone-dx"
# The referrers tag schema: an index under sha256-<hex> of the subject, with what is there already.
tag = subject.replace(":", "-")
try:
    index = json.loads(urllib.request.urlopen(urllib.request.Request(f"{base}/manifests/{tag}",
            headers={"Accept": "application/vnd.oci.image.index.v1+json"})).read())
except Exception:
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []}
index["manifests"].append(desc)
put_manifest(tag, index, "application/vnd.oci.image.index.v1+json")
print(desc["digest"])
PY
sbom_digest=$(python3 push_referrer.py "$REG" demo/notary "$notary_digest") || fail "push the SBOM referrer"
"$V" notation sign --key nleaf.key --cert nleaf.chain.pem "$REG/demo/notary@$sbom_digest" >/dev/null 2>nsign2.err ||
  fail "notation sign the SBOM referrer: $(cat nsign2.err)"
# nosbom: the image is signed, its SBOM referrer is not.
"$V" notation sign --key nleaf.key --cert nleaf.chain.pem "$REG/demo/nosbom:v1" >/dev/null 2>nsign3.err ||
  fail "notation sign nosbom: $(cat nsign3.err)"
python3 push_referrer.py "$REG" demo/nosbom "$(digest_of nosbom)" >/dev/null || fail "push the unsigned SBOM referrer"

# --- policies
indent() { sed "s/^/$1/"; }
header() {  # header NAME IMAGES [VERIFY_DIGEST] [REQUIRED]: IMAGES is a glob alternative, {keyed,unsigned}
  cat <<YAML
apiVersion: policies.kyverno.io/v1
kind: ImageValidatingPolicy
metadata: {name: $1}
spec:
  validationActions: [Deny]
  validationConfigurations: {verifyDigest: ${3:-true}, required: ${4:-true}}
  matchConstraints:
    resourceRules:
      - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}
  matchImageReferences:
    - glob: "$REG/demo/$2:*"
YAML
}
key_attestor() {
  cat <<YAML
    - name: key
      cosign:
        key:
          data: |
$(indent '            ' < cosign.pub)
        ctlog: {insecureIgnoreTlog: true}
YAML
}
mkdir -p policies
{ header check-key "{keyed,unsigned}"; echo "  attestors:"; key_attestor; cat <<'YAML'
  validations:
    - expression: "images.containers.map(i, verifyImageSignatures(i, [attestors.key])).all(n, n > 0)"
      message: "failed to verify image with key"
YAML
} > policies/key.yaml
keyless_policy() {  # keyless_policy NAME SUBJECT
  header "$1" "{keyless,unsigned}"; cat <<YAML
  attestors:
    - name: signer
      cosign:
        keyless:
          identities:
            - {issuer: "$OIDC", subject: "$2"}
        ctlog: {url: "$REKOR"}
  validations:
    - expression: "images.containers.map(i, verifyImageSignatures(i, [attestors.signer])).all(n, n > 0)"
      message: "no signature from $2"
YAML
}
keyless_policy check-keyless dev@example.com > policies/keyless.yaml
keyless_policy check-keyless-other ops@example.com > keyless-other.yaml
{ header check-scan "{attested,failing,unsigned}"; echo "  attestors:"; key_attestor; cat <<'YAML'
  attestations:
    - name: scan
      intoto: {type: https://example.com/scan/v1}
  validations:
    - expression: "images.containers.all(i, verifyAttestationSignatures(i, attestations.scan, [attestors.key]) > 0)"
      message: "no verified scan attestation"
    - expression: "images.containers.all(i, extractPayload(i, attestations.scan).predicate.result == 'PASS')"
      messageExpression: "'scan result is ' + extractPayload(images.containers[0], attestations.scan).predicate.result"
YAML
} > policies/scan.yaml
{ header check-notary "{notary,nosbom,unsigned}"; cat <<YAML
  attestors:
    - name: notary
      notary:
        certs:
          value: |
$(indent '            ' < nroot.pem)
  attestations:
    - name: sbom
      referrer: {type: sbom/cyclone-dx}
  validations:
    - expression: "images.containers.map(i, verifyImageSignatures(i, [attestors.notary])).all(n, n > 0)"
      message: "failed to verify image with notary cert"
    - expression: "images.containers.map(i, verifyAttestationSignatures(i, attestations.sbom, [attestors.notary])).all(n, n > 0)"
      message: "failed to verify attestation with notary cert"
    - expression: "images.containers.all(i, extractPayload(i, attestations.sbom).bomFormat == 'CycloneDX')"
      message: "sbom is not a cyclone dx sbom"
YAML
} > policies/notary.yaml
{ header check-data unsigned false false; echo "  attestors: []"; cat <<'YAML'
  validations:
    - expression: >-
        images.containers.all(i, getImageData(i).config.architecture == 'amd64' &&
          getImageData(i).manifest.schemaVersion == 2 && getImageData(i).resolvedImage.endsWith(getImageData(i).digest) &&
          image(i).registry() == getImageData(i).registry && image(i).repository() == 'demo/unsigned')
      message: "image data differs"
YAML
} > data.yaml

pod() {  # pod NAME IMAGE
  printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: default}\nspec:\n  containers: [{name: app, image: "%s"}]\n' "$1" "$2"
}
for n in keyed unsigned keyless attested failing notary nosbom; do pod "$n" "$REG/demo/$n:v1" > "$n.yaml"; done

# --- policy apply --registry
apply() {  # apply POLICY RESOURCE -> "<exit> <result> <message>" of the policy's result
  "$V" policy apply --registry --trusted-root trusted_root.json -p "$1" -r "$2" -o json 2>apply.err > apply.json
  local rc=$?
  python3 - "$rc" "$(basename "$1" .yaml)" <<'PY'
import json, sys
rc = sys.argv[1]
try:
    doc = json.load(open("apply.json"))
    # A PolicyReport, or a List of them.
    results = [r for i in doc.get("items", [doc]) for r in i.get("results", [])]
except Exception as e:
    print(rc, "unreadable", open("apply.err").read().strip()); sys.exit()
rs = [r for r in results if r.get("rule") != "mutateDigest"]
print(rc, *(f'{r["result"]} {r.get("message","")}' for r in rs))
PY
}
check() {  # check WHAT GOT WANT
  if [ "$2" = "$3" ]; then echo "ok: $1: $2"; else fail "$1: got '$2', want '$3'"; fi
}
check "key, signed" "$(apply policies/key.yaml keyed.yaml)" "0 pass success"
check "key, unsigned" "$(apply policies/key.yaml unsigned.yaml)" "1 fail failed to verify image with key"
# Kyverno's message is the validation's; why the attestor refused is in the result's properties.
"$V" policy apply --registry -p policies/key.yaml -r unsigned.yaml -o json > why.json 2>/dev/null
why=$(python3 -c 'import json; d=json.load(open("why.json")); r=[r for i in d.get("items", [d]) for r in i.get("results", []) if r["rule"] != "mutateDigest"][0]; print(r["properties"].get("imageVerification", ""))')
[[ $why == "$REG/demo/unsigned:v1@sha256:"*": attestor key: "*signature* ]] && echo "ok: why: $why" || fail "the attestor's reason: $why"
check "keyless, matching identity" "$(apply policies/keyless.yaml keyless.yaml)" "0 pass success"
check "keyless, other identity" "$(apply keyless-other.yaml keyless.yaml)" "1 fail no signature from ops@example.com"
check "attestation, PASS" "$(apply policies/scan.yaml attested.yaml)" "0 pass success"
check "attestation, FAIL" "$(apply policies/scan.yaml failing.yaml)" "1 fail scan result is FAIL"
check "attestation, none" "$(apply policies/scan.yaml unsigned.yaml)" "1 fail no verified scan attestation"
check "not selected: no image, nothing to verify" "$(apply policies/scan.yaml keyed.yaml)" "0 pass success"
check "notary, signed with SBOM" "$(apply policies/notary.yaml notary.yaml)" "0 pass success"
check "notary, unsigned" "$(apply policies/notary.yaml unsigned.yaml)" "1 fail failed to verify image with notary cert"
check "notary, unsigned SBOM" "$(apply policies/notary.yaml nosbom.yaml)" "1 fail failed to verify attestation with notary cert"
check "getImageData and image()" "$(apply data.yaml unsigned.yaml)" "0 pass success"
# policy apply pins the tag first and prints the pinned resource.
keyed_digest=$(digest_of keyed)
text=$("$V" policy apply --registry -p policies/key.yaml -r keyed.yaml 2>&1)
[[ $text == *"mutated resource Pod/default/keyed"* && $text == *"$REG/demo/keyed:v1@$keyed_digest"* ]] ||
  fail "policy apply shows the pinned resource: $text"
# Without the registry the images cannot be read: an error, never a pass.
pod pinned "$REG/demo/keyed:v1@$keyed_digest" > pinned.yaml
"$V" policy apply -p policies/key.yaml -r pinned.yaml -o json > noreg.json 2>&1
[ $? -eq 1 ] && grep -q '"result": "error"' noreg.json && grep -q 'policy apply --registry' noreg.json ||
  fail "policy apply without --registry: $(cat noreg.json)"
# `required`: a policy whose validations check no signature fails the images it selected.
{ header check-required unsigned; echo "  attestors: []"; cat <<'YAML'
  validations:
    - expression: "images.containers.all(i, getImageData(i).config.architecture == 'amd64')"
YAML
} > required.yaml
check "required" "$(apply required.yaml unsigned.yaml)" \
  "1 fail image $REG/demo/unsigned:v1@$(digest_of unsigned) is not verified: no policy performed a signature or attestation check on it"
# `required` counts every policy of the request: a catch-all policy that verifies nothing passes
# the image another policy verified, and fails the one nobody could verify.
{ header catch-all "{keyed,unsigned}"; echo "  attestors: []"; cat <<'YAML'
  validations:
    - expression: "images.containers.all(i, getImageData(i).config.architecture == 'amd64')"
YAML
} > catch-all.yaml
both() {  # both RESOURCE -> the results of check-key and catch-all, sorted
  "$V" policy apply --registry -p policies/key.yaml -p catch-all.yaml -r "$1" -o json 2>/dev/null |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(sorted((r["policy"], r["result"]) for i in d.get("items", [d]) for r in i.get("results", []) if r["rule"] != "mutateDigest"))'
}
check "required across policies, verified" "$(both keyed.yaml)" "[('catch-all', 'pass'), ('check-key', 'pass')]"
check "required across policies, unverified" "$(both unsigned.yaml)" "[('catch-all', 'fail'), ('check-key', 'fail')]"
# A bad attestor is refused when the policy is read, naming the field.
sed 's/data: |/kms: awskms:\/\/\/alias\/k\n          data: |/' policies/key.yaml > kms.yaml
expect 2 "spec.attestors[0].cosign.key.kms: KMS keys are not supported" -- "$V" policy apply -p kms.yaml -r keyed.yaml
sed 's/insecureIgnoreTlog: true/insecureIgnoreTlog: true, bogus: 1/' policies/key.yaml > unknown.yaml
expect 2 "spec.attestors[0].cosign.ctlog.bogus: unknown field" -- "$V" policy apply -p unknown.yaml -r keyed.yaml

# --- the admission webhook
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tca.key -out tca.crt -days 2 \
  -subj /CN=test-ca -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign >/dev/null 2>&1
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tls.key -out tls.csr -subj /CN=vouch-admission >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > ext.cnf
openssl x509 -req -in tls.csr -CA tca.crt -CAkey tca.key -CAcreateserial -days 1 -extfile ext.cnf -out tls.crt >/dev/null 2>&1 ||
  fail "serving certificate"
wport=$(free_port)
W=https://127.0.0.1:$wport
"$V" admission serve --policies policies --tls-cert tls.crt --tls-key tls.key --listen "127.0.0.1:$wport" \
  --trusted-root trusted_root.json --reports "$T/reports.db" > webhook.log 2>&1 &
wh_pid=$!
wait_for "$W/healthz" "vouch admission serve" webhook.log --cacert tca.crt
review() {  # review PATH NAME IMAGE -> the AdmissionReview response
  python3 - "$2" "$3" > body.json <<'PY'
import json, sys, uuid
name, image = sys.argv[1:3]
pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default", "uid": str(uuid.uuid4())},
       "spec": {"containers": [{"name": "app", "image": image}]}}
print(json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
  "uid": str(uuid.uuid4()), "kind": {"group": "", "version": "v1", "kind": "Pod"},
  "resource": {"group": "", "version": "v1", "resource": "pods"}, "name": name, "namespace": "default",
  "operation": "CREATE", "userInfo": {"username": "admin"}, "object": pod, "oldObject": None, "dryRun": False}}))
PY
  curl -s --cacert tca.crt -H 'Content-Type: application/json' --data-binary @body.json "$W/$1?timeout=30s"
}
field() { python3 -c "import base64, json, sys; r=json.load(sys.stdin)['response']; print($1)"; }
# The mutating webhook pins the tag (no verification there) …
out=$(review mutate/fail keyed "$REG/demo/keyed:v1")
[ "$(field 'r["allowed"]' <<<"$out")" = True ] || fail "mutate keyed: $out"
check "mutateDigest patch" "$(field 'json.loads(base64.b64decode(r["patch"]))' <<<"$out")" \
  "[{'op': 'replace', 'path': '/spec/containers/0/image', 'value': '$REG/demo/keyed:v1@$keyed_digest'}]"
# … the validating webhook judges the pinned image.
judge() {  # judge NAME IMAGE -> "allowed message"
  review validate/fail "$1" "$2" | field '(str(r["allowed"]) + " " + r.get("status", {}).get("message", "")).strip()'
}
check "webhook: key-signed" "$(judge keyed "$REG/demo/keyed:v1@$keyed_digest")" "True"
# The unsigned image fails every policy; each denial in Kyverno's words.
msg=$(judge unsigned "$REG/demo/unsigned:v1@$(digest_of unsigned)")
for want in "Policy check-key failed: failed to verify image with key" \
            "Policy check-keyless failed: no signature from dev@example.com" \
            "Policy check-scan failed: no verified scan attestation" \
            "Policy check-notary failed: failed to verify image with notary cert"; do
  [[ $msg == False*"$want"* ]] || fail "webhook: unsigned image: want '$want' in: $msg"
done
check "webhook: tag not pinned" "$(judge keyed "$REG/demo/keyed:v1" | cut -c1-80)" \
  "$(echo "False Policy check-key failed: image $REG/demo/keyed:v1 does not have a digest" | cut -c1-80)"
# Each policy passes its own image (and selects no other but the unsigned one).
for img in keyless attested notary; do
  check "webhook: $img" "$(judge "$img" "$REG/demo/$img:v1@$(digest_of "$img")")" "True"
done
msg=$(judge failing "$REG/demo/failing:v1@$(digest_of failing)")
[[ $msg == *"Policy check-scan failed: scan result is FAIL"* ]] || fail "webhook: failing scan: $msg"
sleep 1.5
"$V" report get -A -o json --reports "$T/reports.db" > reports.json 2>report.err
python3 - <<'PY' || fail "reports: $(head -c 600 reports.json) $(cat report.err)"
import json
items = json.load(open("reports.json"))["items"]
sources = {(r["policy"], r["source"], r["result"]) for i in items for r in i.get("results", [])}
assert ("check-key", "KyvernoImageValidatingPolicy", "fail") in sources, sources
assert ("check-key", "KyvernoImageValidatingPolicy", "pass") in sources, sources
PY

[ "$fails" -eq 0 ] || { echo "ivpol_registry: $fails failure(s)"; exit 1; }
echo "ivpol_registry: ok"
