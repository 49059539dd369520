#!/usr/bin/env bash
# Kyverno verifyImages `type: Notary` attestations on a real docker-registry: CycloneDX SBOMs
# attached to images as OCI referrers (`vouch attach artifact`, as `oras attach`), the referrers
# signed with `vouch notation sign IMAGE@DIGEST`, and a policy whose attestation condition reads
# the SBOM. An SBOM signed by the named CA whose condition holds passes; one whose condition fails,
# an unsigned one, one signed by another CA and a missing one fail, in `vouch policy apply
# --registry` and in `vouch admission serve`.
set -uo pipefail
V=${VOUCH_BIN:?set VOUCH_BIN}
case $V in /*) ;; */*) V=$PWD/$V ;; esac  # the script works in a scratch directory
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/tests/lib/assert.sh"
source "$root/tests/lib/scratch.sh"
require_tools docker-registry umoci skopeo python3 curl openssl
[ -n "${KEEP:-}" ] && trap - EXIT
export DOCKER_CONFIG=$T/docker XDG_CONFIG_HOME=$T/config
cd "$T"

start_registry

umoci init --layout L >/dev/null
umoci new --image L:img >/dev/null
umoci unpack --rootless --image L:img b >/dev/null
echo attestations > b/rootfs/content
umoci repack --image L:img b >/dev/null

# ---- PKI: two root CAs, a code-signing leaf under each ----
new_leaf() {  # new_leaf CA NAME: CA/root.pem, NAME.key, NAME.chain.pem (leaf, root)
  local ca=$1 name=$2
  if [ ! -f "$ca/root.pem" ]; then
    mkdir -p "$ca"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$ca/root.key" -out "$ca/root.pem" \
      -days 30 -subj "/C=US/ST=WA/O=Acme/CN=$ca Root" -addext basicConstraints=critical,CA:TRUE \
      -addext keyUsage=critical,keyCertSign,cRLSign >/dev/null 2>&1 || fail "root $ca"
  fi
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$name.key" -out "$name.csr" \
    -subj "/C=US/ST=WA/O=Acme/CN=$name" >/dev/null 2>&1
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' > leaf.cnf
  openssl x509 -req -in "$name.csr" -CA "$ca/root.pem" -CAkey "$ca/root.key" -CAcreateserial -days 7 \
    -extfile leaf.cnf -out "$name.pem" >/dev/null 2>&1 || fail "leaf $name"
  cat "$name.pem" "$ca/root.pem" > "$name.chain.pem"
}
new_leaf acme signer
new_leaf other rogue

# ---- images and their SBOMs ----
push() { skopeo copy -q --dest-tls-verify=false oci:L:img "docker://$REG/$1:v1" || { echo "FAIL: push $1"; return 1; }; }
pushes=()
for repo in att-pass att-fail att-unsigned att-otherca att-missing; do
  push "$repo" &
  pushes+=($!)
done
for p in "${pushes[@]}"; do wait "$p" || fail "a push failed"; done

sbom() {  # sbom LICENSE > file: a CycloneDX 1.5 document with one component under LICENSE
  printf '{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"components":[{"type":"library","name":"readline","version":"8.2","licenses":[{"expression":"%s"}]}]}\n' "$1"
}
TYPE=application/vnd.cyclonedx+json
# attach REPO LICENSE [SIGNER]: the SBOM as a referrer of REPO:v1, signed by SIGNER when given.
attach() {
  local repo=$1 license=$2 signer=${3:-} digest
  sbom "$license" > "sbom-$repo.json"
  digest=$("$V" attach artifact --artifact-type "$TYPE" --media-type "$TYPE" --file "sbom-$repo.json" "$REG/$repo:v1" 2>attach.err) ||
    { fail "attach $repo: $(cat attach.err)"; return; }
  case $digest in sha256:*) ;; *) fail "attach $repo printed '$digest'"; return ;; esac
  [ -z "$signer" ] && return
  "$V" notation sign --key "$signer.key" --cert "$signer.chain.pem" "$REG/$repo@$digest" >/dev/null 2>sign.err ||
    fail "sign the SBOM of $repo: $(cat sign.err)"
}
attach att-pass GPL-3.0 signer
attach att-fail MIT signer
attach att-unsigned GPL-3.0
attach att-otherca GPL-3.0 rogue

# The referrer is what `vouch tree` and the referrers list show, and its signature verifies under a
# notation trust policy too.
"$V" tree "$REG/att-pass:v1" | grep -q "$TYPE" || fail "tree shows the SBOM referrer"
mkdir -p config/notation/truststore/x509/ca/acme
cp acme/root.pem config/notation/truststore/x509/ca/acme/
cat > config/notation/trustpolicy.oci.json <<JSON
{"version":"1.0","trustPolicies":[{"name":"sbom","registryScopes":["*"],
 "signatureVerification":{"level":"strict"},"trustStores":["ca:acme"],"trustedIdentities":["*"]}]}
JSON
ref=$(curl -s -H 'Accept: application/vnd.oci.image.index.v1+json' \
  "http://$REG/v2/att-pass/manifests/$("$V" inspect -o json "$REG/att-pass:v1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["digest"].replace(":","-"))')" |
  python3 -c 'import json,sys; print([m["digest"] for m in json.load(sys.stdin)["manifests"] if m.get("artifactType")==sys.argv[1]][0])' "$TYPE")
expect 0 "" -- "$V" notation verify "$REG/att-pass@$ref"

# A referrer's artifact type must be a media type.
expect 2 "is not a media type" -- "$V" attach artifact --artifact-type sbom --file sbom-att-pass.json "$REG/att-missing:v1"

# ---- the policy: the SBOM must be Notary-signed by acme and list only GPL-3.0 licences ----
indent() { sed "s/^/$1/" "$2"; }
mkdir -p policies
cat > policies/notary-sbom.yaml <<YAML
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: notary-sbom}
spec:
  validationFailureAction: Enforce
  webhookTimeoutSeconds: 10
  rules:
    - name: sbom-licences
      match: {any: [{resources: {kinds: [Pod]}}]}
      verifyImages:
        - imageReferences: ["$REG/*"]
          type: Notary
          attestations:
            - type: $TYPE
              attestors:
                - entries:
                    - certificates:
                        cert: |-
$(indent '                          ' acme/root.pem)
              conditions:
                - all:
                    - key: "{{ components[].licenses[].expression }}"
                      operator: AllIn
                      value: ["GPL-3.0"]
YAML
pod() { printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: default}\nspec:\n  containers: [{name: app, image: "%s"}]\n' "$1" "$2"; }
results() { python3 -c 'import json,sys; print(" ".join(r["result"] for r in [r for i in json.load(sys.stdin)["items"] for r in i["results"]]))'; }
while read -r name want want_rc reason; do
  pod "$name" "$REG/$name:v1" > "pod-$name.yaml"
  out=$("$V" policy apply --registry -p policies/notary-sbom.yaml -r "pod-$name.yaml" -o json 2>&1); rc=$?
  got=$(printf '%s' "$out" | results 2>/dev/null)
  [ "$rc" = "$want_rc" ] && [ "$got" = "$want" ] || fail "policy apply on $name: want $want (exit $want_rc), got '$got' (exit $rc): $out"
  [ "$reason" = "-" ] || [[ "$out" == *"$reason"* ]] || fail "policy apply on $name: the result does not say '$reason': $out"
done <<'CASES'
att-pass pass 0 -
att-fail fail 1 attestation checks failed
att-unsigned fail 1 no Notary Project signature is associated with
att-otherca fail 1 does not contain any trusted certificate
att-missing fail 1 no attestation of type
CASES

# ---- the same policy in the admission server ----
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tls-ca.key -out tls-ca.crt -days 2 \
  -subj /CN=test-ca -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign >/dev/null 2>&1
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tls.key -out tls.csr -subj /CN=vouch-admission >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > ext.cnf
openssl x509 -req -in tls.csr -CA tls-ca.crt -CAkey tls-ca.key -CAcreateserial -days 1 -extfile ext.cnf -out tls.crt >/dev/null 2>&1 ||
  fail "serving certificate"
wport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$V" admission serve --policies policies --tls-cert tls.crt --tls-key tls.key --listen "127.0.0.1:$wport" > webhook.log 2>&1 &
log_pid=$!
for _ in $(seq 100); do curl -s --cacert tls-ca.crt -o /dev/null "https://127.0.0.1:$wport/healthz" && break; sleep 0.1; done
review() {  # review NAME IMAGE > body
  python3 - "$@" <<'PY'
import json, sys, uuid
name, image = sys.argv[1:3]
pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default", "uid": str(uuid.uuid4())},
       "spec": {"containers": [{"name": "app", "image": image}]}}
print(json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
  "uid": str(uuid.uuid4()), "kind": {"group": "", "version": "v1", "kind": "Pod"},
  "resource": {"group": "", "version": "v1", "resource": "pods"}, "name": name, "namespace": "default",
  "operation": "CREATE", "userInfo": {"username": "admin"}, "object": pod, "dryRun": False}}))
PY
}
while read -r name want reason; do
  review "$name" "$REG/$name:v1" > "review-$name.json"
  resp=$(curl -s --cacert tls-ca.crt -H 'Content-Type: application/json' --data-binary "@review-$name.json" \
    "https://127.0.0.1:$wport/mutate/fail?timeout=10s")
  got=$(printf '%s' "$resp" | python3 -c 'import json,sys; print(json.load(sys.stdin)["response"]["allowed"])' 2>/dev/null)
  [ "$got" = "$want" ] || fail "admission of $name: want allowed=$want, got '$got' ($resp; $(tail -3 webhook.log))"
  [ "$reason" = "-" ] || [[ "$resp" == *"$reason"* ]] || fail "admission of $name: the answer does not say '$reason': $resp"
done <<'CASES'
att-pass True -
att-fail False attestation checks failed
att-unsigned False no Notary Project signature is associated with
att-otherca False does not contain any trusted certificate
att-missing False no attestation of type
CASES

[ "$fails" -eq 0 ] && echo "PASS: notation_attestations" || { echo "FAILED: $fails"; exit 1; }
