#!/usr/bin/env bash
# Notary Project signatures on a real docker-registry: `vouch notation sign` with RSA 2048/3072/4096
# (PS256/384/512) and P-256/384/521 (ES256/384/512) keys in both envelope formats (JWS, COSE),
# each verified under a strict trust policy; then a changed payload, a certificate outside its
# validity, an untrusted root, a wrong identity, a wrong registry scope and an expired signature,
# each failing strict and passing or failing under permissive and audit as the specification's
# table of verification levels says. Trust policy and trust store live where notation keeps them
# ($XDG_CONFIG_HOME/notation).
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
echo notation > b/rootfs/content
umoci repack --image L:img b >/dev/null

# ---- PKI: a root CA and code-signing leaves under it (openssl ca, so validity can be set) ----
cat > ca.cnf <<'CNF'
[ca]
default_ca = CA_default
[CA_default]
dir = .
database = ./index.txt
new_certs_dir = ./newcerts
serial = ./serial
default_md = sha256
policy = policy_any
copy_extensions = none
unique_subject = no
[policy_any]
countryName = optional
stateOrProvinceName = optional
organizationName = optional
commonName = supplied
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = codeSigning
CNF
new_root() {  # new_root NAME
  mkdir -p "$1/newcerts" && touch "$1/index.txt" && echo 1000 > "$1/serial" && cp ca.cnf "$1/"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1/root.key" -out "$1/root.pem" \
    -days 30 -subj "/C=US/ST=WA/O=Acme/CN=$1 Root" -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign >/dev/null 2>&1 || fail "root $1"
}
# new_leaf CA NAME KEYSPEC ORG [STARTDATE ENDDATE]: NAME.key and NAME.chain.pem (leaf, root)
new_leaf() {
  local ca=$1 name=$2 spec=$3 org=$4
  case $spec in
    # The unit tests' openssl-made RSA keys: making 3072- and 4096-bit keys takes seconds.
    rsa*) cp "$root/tests/unit/notation/testdata/$spec.pem" "$name.key" ;;
    *) openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$spec" -out "$name.key" 2>/dev/null ;;
  esac
  openssl req -new -key "$name.key" -subj "/C=US/ST=WA/O=$org/CN=$name" -out "$name.csr" 2>/dev/null
  local validity=(-days 7)
  [ $# -ge 6 ] && validity=(-startdate "$5" -enddate "$6")
  (cd "$ca" && openssl ca -batch -config ca.cnf -cert root.pem -keyfile root.key -in "../$name.csr" \
     -out "../$name.pem" -extensions leaf "${validity[@]}" -notext >/dev/null 2>&1) || fail "leaf $name"
  cat "$name.pem" "$ca/root.pem" > "$name.chain.pem"
}
new_root acme
new_root other

mkdir -p config/notation/truststore/x509/ca/acme
cp acme/root.pem config/notation/truststore/x509/ca/acme/
policy() {  # policy LEVEL [IDENTITY] [SCOPE]
  local identity=${2:-x509.subject:C=US,ST=WA,O=Acme} scope=${3:-$REG/demo}
  cat > config/notation/trustpolicy.oci.json <<JSON
{"version":"1.0","trustPolicies":[{"name":"demo","registryScopes":["$scope"],
 "signatureVerification":{"level":"$1"},"trustStores":["ca:acme"],"trustedIdentities":["$identity"]}]}
JSON
}
push() { skopeo copy -q --dest-tls-verify=false oci:L:img "docker://$REG/$1:v1" || { echo "FAIL: push $1"; return 1; }; }
pushes=()

# ---- every key size and curve, both envelope formats, verified strict ----
policy strict
# Every repository the script uses, pushed at once.
for repo in demo demo-rogue demo-old demo-exp demo-ts-jws demo-ts-cose unsigned \
    algs/{rsa2048,rsa3072,rsa4096,prime256v1,secp384r1,secp521r1}-{jws,cose}; do
  push "$repo" &
  pushes+=($!)
done
for p in "${pushes[@]}"; do wait "$p" || fail "a push failed"; done
for spec in rsa2048:PS256 rsa3072:PS384 rsa4096:PS512 prime256v1:ES256 secp384r1:ES384 secp521r1:ES512; do
  key=${spec%%:*} alg=${spec##*:}
  new_leaf acme "$key" "$key" Acme
  for fmt in jws cose; do
    repo=$REG/demo
    img=$REG/algs/$key-$fmt
    "$V" notation sign --key "$key.key" --cert "$key.chain.pem" --signature-format "$fmt" "$img:v1" >/dev/null 2>sign.err \
      || fail "sign $alg $fmt: $(cat sign.err)"
    out=$("$V" notation verify --scope "$REG/demo" -o json "$img:v1" 2>&1)
    python3 -c '
import json,sys
d=json.loads(sys.argv[1]); s=d["signatures"][-1]
assert d["verified"] and d["level"]=="strict", d
assert s["signatureAlgorithm"]==sys.argv[2] and s["envelope"]==sys.argv[3], s
' "$out" "$alg" "application/$([ $fmt = jws ] && echo jose+json || echo cose)" || fail "verify $alg $fmt: $out"
  done
done
# The signatures are referrers: list and tree show them.
"$V" notation list "$REG/algs/rsa2048-cose:v1" | grep -q "application/cose" || fail "notation list"
"$V" tree "$REG/algs/rsa2048-jws:v1" | grep -q "application/vnd.cncf.notary.signature" || fail "tree shows the signature"

# expect_levels IMAGE STRICT PERMISSIVE AUDIT MESSAGE [IDENTITY]: exit codes per level; the strict
# failure names MESSAGE.
expect_levels() {
  local img=$1 msg=$5 identity=${6:-}
  policy strict "$identity";     expect "$2" "$msg" -- "$V" notation verify "$img"
  policy permissive "$identity"; expect "$3" "" -- "$V" notation verify "$img"
  policy audit "$identity";      expect "$4" "" -- "$V" notation verify "$img"
}

# ---- signed, then each failure ----
new_leaf acme good prime256v1 Acme
"$V" notation sign --key good.key --cert good.chain.pem "$REG/demo:v1" >/dev/null 2>&1 || fail "sign demo"
expect_levels "$REG/demo:v1" 0 0 0 ""

# A wrong identity: authenticity is enforced by strict and permissive, logged by audit.
expect_levels "$REG/demo:v1" 1 1 0 "authenticity (enforced by level strict)" "x509.subject:C=US,ST=WA,O=Other"

# An untrusted root.
new_leaf other rogue prime256v1 Acme
"$V" notation sign --key rogue.key --cert rogue.chain.pem --signature-format cose "$REG/demo-rogue:v1" >/dev/null 2>&1 || fail "sign rogue"
policy strict "" "$REG/demo-rogue"; expect 1 "does not contain any trusted certificate" -- "$V" notation verify "$REG/demo-rogue:v1"
policy permissive "" "$REG/demo-rogue"; expect 1 "authenticity" -- "$V" notation verify "$REG/demo-rogue:v1"
policy audit "" "$REG/demo-rogue"; expect 0 "" -- "$V" notation verify "$REG/demo-rogue:v1"

# A certificate outside its validity (2020): authenticTimestamp is enforced by strict only.
new_leaf acme old prime256v1 Acme 20200101000000Z 20200201000000Z
"$V" notation sign --key old.key --cert old.chain.pem "$REG/demo-old:v1" >/dev/null 2>&1 || fail "sign old"
policy strict "" "$REG/demo-old"; expect 1 "authenticTimestamp (enforced by level strict): verification time is after certificate" -- "$V" notation verify "$REG/demo-old:v1"
policy permissive "" "$REG/demo-old"; expect 0 "" -- "$V" notation verify "$REG/demo-old:v1"
policy audit "" "$REG/demo-old"; expect 0 "" -- "$V" notation verify "$REG/demo-old:v1"
policy permissive "" "$REG/demo-old"
"$V" notation verify "$REG/demo-old:v1" 2>&1 >/dev/null | grep -q "authenticTimestamp (logged by level permissive)" || fail "permissive logs the validity failure"

# An expired signature: expiry is enforced by strict only.
"$V" notation sign --key good.key --cert good.chain.pem --expiry 1s --signature-format cose "$REG/demo-exp:v1" >/dev/null 2>&1 || fail "sign exp"

# RFC 3161 countersignatures from `vouch tsa serve`: a certificate that expires seconds after
# signing still verifies when the policy trusts the TSA, and not without it. The TSA states an
# accuracy of one second, so genTime + 1 s must still fall within the certificate's validity.
tport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$V" tsa serve --listen "127.0.0.1:$tport" --dir tsa > tsa.log 2>&1 &
tsa_pid=$!
trap 'kill $tsa_pid 2>/dev/null; wait $tsa_pid 2>/dev/null; cleanup' EXIT
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$tport/healthz" && break; sleep 0.1; done
mkdir -p config/notation/truststore/x509/tsa/local
python3 -c '
import re, sys
pems = re.findall(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", open(sys.argv[1]).read(), re.S)
open(sys.argv[2], "w").write(pems[-1] + "\n")' tsa/tsa_chain.pem config/notation/truststore/x509/tsa/local/root.pem
new_leaf acme brief prime256v1 Acme "$(date -u -d '-1 min' +%Y%m%d%H%M%SZ)" "$(date -u -d '+5 sec' +%Y%m%d%H%M%SZ)"
for fmt in jws cose; do
  "$V" notation sign --key brief.key --cert brief.chain.pem --signature-format $fmt \
    --timestamp-url "http://127.0.0.1:$tport/api/v1/timestamp" "$REG/demo-ts-$fmt:v1" >/dev/null 2>sign.err ||
    fail "sign with a timestamp ($fmt): $(cat sign.err)"
done
sleep 6
for fmt in jws cose; do
  cat > config/notation/trustpolicy.oci.json <<JSON
{"version":"1.0","trustPolicies":[{"name":"ts","registryScopes":["$REG/demo-ts-$fmt"],
 "signatureVerification":{"level":"strict"},"trustStores":["ca:acme","tsa:local"],"trustedIdentities":["*"]}]}
JSON
  expect 0 "" -- "$V" notation verify "$REG/demo-ts-$fmt:v1"
  policy strict "" "$REG/demo-ts-$fmt"
  expect 1 "verification time is after certificate" -- "$V" notation verify "$REG/demo-ts-$fmt:v1"
done
policy strict "" "$REG/demo-exp"; expect 1 "expiry (enforced by level strict): digital signature has expired" -- "$V" notation verify "$REG/demo-exp:v1"
policy permissive "" "$REG/demo-exp"; expect 0 "" -- "$V" notation verify "$REG/demo-exp:v1"
policy audit "" "$REG/demo-exp"; expect 0 "" -- "$V" notation verify "$REG/demo-exp:v1"

# A wrong registry scope: no policy applies, whatever the level.
policy strict "" "$REG/elsewhere"; expect 1 "no applicable trust policy" -- "$V" notation verify "$REG/demo:v1"

# An unsigned image.
policy strict "" "$REG/unsigned"; expect 1 "no Notary Project signature" -- "$V" notation verify "$REG/unsigned:v1"

# A changed payload: the envelope from the registry, verified against another digest, and with
# its signed payload altered.
policy strict
digest=$("$V" inspect -o json "$REG/demo:v1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["digest"])')
sig=$("$V" notation list -o json "$REG/demo:v1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["signatures"][0]["digest"])')
layer=$(curl -s -H "Accept: application/vnd.oci.image.manifest.v1+json" "http://$REG/v2/demo/manifests/$sig" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["digest"])')
curl -s "http://$REG/v2/demo/blobs/$layer" > env.jws
expect 0 "" -- "$V" notation verify-envelope env.jws --digest "$digest" --scope "$REG/demo"
expect 1 "integrity (enforced by level strict)" -- "$V" notation verify-envelope env.jws \
  --digest "sha256:$(printf '%064d' 1)" --scope "$REG/demo"
python3 - <<'PY'
import json, base64
e = json.load(open("env.jws"))
p = json.loads(base64.urlsafe_b64decode(e["payload"] + "=" * (-len(e["payload"]) % 4)))
p["targetArtifact"]["size"] += 1
e["payload"] = base64.urlsafe_b64encode(json.dumps(p).encode()).decode().rstrip("=")
json.dump(e, open("changed.jws", "w"))
PY
for level in strict permissive audit; do
  policy $level
  expect 1 "integrity (enforced by level $level)" -- "$V" notation verify-envelope changed.jws --digest "$digest" --scope "$REG/demo"
done
"$V" notation verify-envelope -o json env.jws --digest "$digest" --scope "$REG/demo" |
  python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["verified"] and [c["check"] for c in d["checks"]]==["integrity","authenticity","expiry","authenticTimestamp"], d' ||
  fail "verify-envelope -o json"

# A trust store entry that is a symbolic link is refused.
policy strict
ln -s "$T/acme/root.pem" config/notation/truststore/x509/ca/acme/link.pem
expect 1 "not a regular file" -- "$V" notation verify "$REG/demo:v1"
rm config/notation/truststore/x509/ca/acme/link.pem

# ---- Kyverno verifyImages type: Notary (the seeds' policy), in policy apply and the webhook ----
indent() { sed "s/^/$1/" "$2"; }
mkdir -p policies
cat > policies/notary.yaml <<YAML
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: verify-notary}
spec:
  validationFailureAction: Enforce
  webhookTimeoutSeconds: 10
  rules:
    - name: notary-signature
      match: {any: [{resources: {kinds: [Pod]}}]}
      verifyImages:
        - imageReferences: ["$REG/*"]
          type: Notary
          attestors:
            - count: 1
              entries:
                - certificates:
                    cert: |-
$(indent '                      ' acme/root.pem)
                    certChain: |-
$(indent '                      ' acme/root.pem)
YAML
pod() { printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: default}\nspec:\n  containers: [{name: app, image: "%s"}]\n' "$1" "$2"; }
result() { python3 -c 'import json,sys; print(" ".join(r["result"] for r in [r for i in json.load(sys.stdin)["items"] for r in i["results"]]))'; }
while read -r name image want want_rc; do
  pod "$name" "$image" > "pod-$name.yaml"
  out=$("$V" policy apply --registry -p policies/notary.yaml -r "pod-$name.yaml" -o json 2>&1); rc=$?
  got=$(printf '%s' "$out" | result 2>/dev/null)
  [ "$rc" = "$want_rc" ] && [ "$got" = "$want" ] || fail "policy apply on $name: want $want (exit $want_rc), got '$got' (exit $rc): $out"
done <<CASES
signed $REG/demo:v1 pass 0
cose $REG/algs/secp384r1-cose:v1 pass 0
unsigned $REG/unsigned:v1 fail 1
otherca $REG/demo-rogue:v1 fail 1
CASES

# The same policy in the admission server.
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
while read -r name image want; do
  review "$name" "$image" > "review-$name.json"
  got=$(curl -s --cacert tls-ca.crt -H 'Content-Type: application/json' --data-binary "@review-$name.json" \
    "https://127.0.0.1:$wport/mutate/fail?timeout=10s" | python3 -c 'import json,sys; print(json.load(sys.stdin)["response"]["allowed"])')
  [ "$got" = "$want" ] || fail "admission of $name: want allowed=$want, got $got ($(tail -3 webhook.log))"
done <<CASES
signed $REG/demo:v1 True
unsigned $REG/unsigned:v1 False
otherca $REG/demo-rogue:v1 False
CASES

[ "$fails" -eq 0 ] && echo "PASS: notation_roundtrip" || { echo "FAILED: $fails"; exit 1; }
