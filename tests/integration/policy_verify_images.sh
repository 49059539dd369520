#!/usr/bin/env bash
# verifyImages for real: Kyverno-format policies applied with `vouch policy apply --registry`
# to Pods naming images in a real docker-registry on 127.0.0.1, signed (both cosign layouts),
# attested and unsigned. Enforce denies the unsigned image naming it, Audit lets it through
# with a warning, mutateDigest pins the signed tag to its digest, attestation conditions are
# evaluated over the verified predicate.
set -uo pipefail
V=${VOUCH_BIN:?set VOUCH_BIN}
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/tests/lib/assert.sh"
source "$root/tests/lib/scratch.sh"
require_tools docker-registry umoci skopeo python3 curl
[ -n "${KEEP:-}" ] && trap - EXIT
export DOCKER_CONFIG=$T/docker COSIGN_PASSWORD=pw
cd "$T"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s/data}}\nhttp: {addr: 127.0.0.1:%s}\n' "$T" "$port" > reg.yml
docker-registry serve reg.yml > reg.log 2>&1 &
reg_pid=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && break; sleep 0.1; done
REG=127.0.0.1:$port

# Three one-layer images with different content.
umoci init --layout L
for name in signed classic unsigned logged elsewhere; do
  umoci new --image "L:$name"
  umoci unpack --rootless --image "L:$name" "b-$name" >/dev/null
  echo "$name" > "b-$name/rootfs/content"
  umoci repack --image "L:$name" "b-$name" >/dev/null
  skopeo copy -q --dest-tls-verify=false "oci:L:$name" "docker://$REG/demo/$name:v1" || fail "push $name"
done

"$V" generate-key-pair >/dev/null 2>&1 || fail "generate-key-pair"
"$V" sign --key cosign.key "$REG/demo/signed:v1" >/dev/null 2>&1 || fail "sign (bundle layout)"
"$V" sign --key cosign.key --new-bundle-format=false "$REG/demo/classic:v1" >/dev/null 2>&1 || fail "sign (classic layout)"
digest=$("$V" inspect -o json "$REG/demo/signed:v1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["digest"])')
[[ $digest == sha256:* ]] || fail "inspect digest: $digest"

policy() {  # policy ACTION MUTATE [REKOR [REPOSITORY]] > file
  cat <<YAML
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: verify-image-signature}
spec:
  validationFailureAction: $1
  rules:
    - name: verify-cosign-signature
      match: {any: [{resources: {kinds: [Pod]}}]}
      verifyImages:
        - imageReferences: ["$REG/demo/*"]
          mutateDigest: $2
          repository: "${4:-}"
          attestors:
            - count: 1
              entries:
                - keys:
                    publicKeys: |-
$(sed 's/^/                      /' cosign.pub)
                    rekor: ${3:-{ignoreTlog: true\}}
YAML
}
pod() {  # pod NAME IMAGE
  printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: default}\nspec:\n  containers: [{name: app, image: "%s"}]\n' "$1" "$2"
}
policy Enforce true > enforce.yaml
policy Audit true > audit.yaml
pod signed "$REG/demo/signed:v1" > signed.yaml
pod classic "$REG/demo/classic:v1" > classic.yaml
pod unsigned "$REG/demo/unsigned:v1" > unsigned.yaml

# Signed, bundle layout: passes, the tag is pinned to the digest that verified.
out=$("$V" policy apply --registry -p enforce.yaml -r signed.yaml -o json); rc=$?
[ $rc -eq 0 ] || fail "signed pod under Enforce: exit $rc: $out"
patches=$(printf '%s' "$out" | python3 -c 'import json,sys; r=json.load(sys.stdin)["items"][0]["results"][0]; print(r["result"], r.get("properties",{}).get("patches",""))')
want="pass [{\"op\":\"replace\",\"path\":\"/spec/containers/0/image\",\"value\":\"$REG/demo/signed:v1@$digest\"}]"
[ "$patches" = "$want" ] || fail "mutateDigest patch: got '$patches', want '$want'"
text=$("$V" policy apply --registry -p enforce.yaml -r signed.yaml)
[[ $text == *"mutated resource Pod/default/signed"* && $text == *"$REG/demo/signed:v1@$digest"* ]] ||
  fail "text output shows the mutated resource: $text"

# Signed, classic layout (what Kyverno and skopeo read): passes too.
"$V" policy apply --registry -p enforce.yaml -r classic.yaml >/dev/null || fail "classic-layout signature under Enforce"

# Unsigned under Enforce: denied, naming the image.
out=$("$V" policy apply --registry -p enforce.yaml -r unsigned.yaml 2>&1); rc=$?
[ $rc -eq 1 ] || fail "unsigned pod under Enforce: want exit 1, got $rc"
[[ $out == *"failed to verify image $REG/demo/unsigned:v1"* ]] || fail "Enforce message names the image: $out"
[[ $out != *"mutated resource"* ]] || fail "a failed verification mutates nothing: $out"

# Unsigned under Audit: admitted with a warning.
out=$("$V" policy apply --registry --audit-warn -p audit.yaml -r unsigned.yaml 2>&1); rc=$?
[ $rc -eq 0 ] || fail "unsigned pod under Audit: want exit 0, got $rc: $out"
[[ $out == *"warned"* && $out == *"$REG/demo/unsigned:v1"* && $out == *"warn: 1"* ]] || fail "Audit warning: $out"

# The wrong key fails; a digest reference of the signed image passes without a patch.
"$V" generate-key-pair --output-key-prefix other >/dev/null 2>&1 || fail "second key pair"
cp cosign.pub cosign.pub.good; cp other.pub cosign.pub; policy Enforce true > wrongkey.yaml; cp cosign.pub.good cosign.pub
out=$("$V" policy apply --registry -p wrongkey.yaml -r signed.yaml 2>&1); rc=$?
[ $rc -eq 1 ] || fail "wrong key: want exit 1, got $rc: $out"
pod pinned "$REG/demo/signed@$digest" > pinned.yaml
out=$("$V" policy apply --registry -p enforce.yaml -r pinned.yaml 2>&1) || fail "digest reference: $out"
[[ $out != *"mutated resource"* ]] || fail "a digest reference is not patched: $out"

# mutateDigest: false keeps the resource and, with verifyDigest, requires the digest.
policy Enforce false > nomutate.yaml
out=$("$V" policy apply --registry -p nomutate.yaml -r signed.yaml 2>&1); rc=$?
[[ $rc -eq 1 && $out == *"missing digest for $REG/demo/signed:v1"* ]] || fail "verifyDigest without mutateDigest: $rc $out"

# Without --registry nothing is verified: error, never a pass.
out=$("$V" policy apply -p enforce.yaml -r signed.yaml 2>&1); rc=$?
[ $rc -eq 1 ] || fail "offline apply must not pass verifyImages: $rc $out"

# An SBOM attestation with a condition over the predicate (the seeds' require-sbom-attestation).
cat > sbom.spdx.json <<'JSON'
{"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT", "name": "demo",
 "documentNamespace": "https://example.com/demo", "creationInfo": {"created": "2026-01-01T00:00:00Z", "creators": ["Tool: demo"]}}
JSON
"$V" attest --key cosign.key --type spdxjson --predicate sbom.spdx.json "$REG/demo/signed:v1" >/dev/null 2>&1 || fail "attest"
attest_policy() {  # attest_policy WANT_VERSION
  cat <<YAML
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: require-sbom-attestation}
spec:
  validationFailureAction: Enforce
  rules:
    - name: check-sbom-exists
      match: {any: [{resources: {kinds: [Pod]}}]}
      verifyImages:
        - imageReferences: ["$REG/demo/*"]
          attestations:
            - type: https://spdx.dev/Document
              attestors:
                - entries:
                    - keys:
                        publicKeys: |-
$(sed 's/^/                          /' cosign.pub)
                        rekor: {ignoreTlog: true}
              conditions:
                - all:
                    - key: "{{ spdxVersion }}"
                      operator: Equals
                      value: "$1"
YAML
}
attest_policy SPDX-2.3 > sbom-ok.yaml
attest_policy SPDX-2.2 > sbom-bad.yaml
out=$("$V" policy apply --registry -p sbom-ok.yaml -r signed.yaml 2>&1) || fail "SBOM attestation condition holds: $out"
out=$("$V" policy apply --registry -p sbom-bad.yaml -r signed.yaml 2>&1); rc=$?
[ $rc -eq 1 ] || fail "SBOM attestation condition fails: want exit 1, got $rc: $out"
out=$("$V" policy apply --registry -p sbom-ok.yaml -r classic.yaml 2>&1); rc=$?
[ $rc -eq 1 ] || fail "an image without the attestation fails: want exit 1, got $rc: $out"

# Signatures kept in another repository (COSIGN_REPOSITORY when signing, `repository` in the rule).
COSIGN_REPOSITORY=$REG/demo/signatures "$V" sign --key cosign.key "$REG/demo/elsewhere:v1" >/dev/null 2>&1 || fail "sign into another repository"
pod elsewhere "$REG/demo/elsewhere:v1" > elsewhere.yaml
policy Enforce true "{ignoreTlog: true}" "$REG/demo/signatures" > repository.yaml
out=$("$V" policy apply --registry -p repository.yaml -r elsewhere.yaml 2>&1) || fail "repository: signatures found there: $out"
out=$("$V" policy apply --registry -p enforce.yaml -r elsewhere.yaml 2>&1); rc=$?
[ $rc -eq 1 ] || fail "without repository the signature is not found: $rc $out"

# Kyverno's default for keys: the signature must be in the transparency log. Entries in vouch's
# own Rekor-compatible log, its trusted root from `vouch log trusted-root`.
lport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$V" log serve --listen "127.0.0.1:$lport" --storage "sqlite:$T/log.db" --hostname "127.0.0.1:$lport" 2>log.err &
log_pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$lport/readyz" >/dev/null && break; sleep 0.1; done
"$V" sign --key cosign.key --rekor-url "http://127.0.0.1:$lport" "$REG/demo/logged:v1" >/dev/null 2>&1 || fail "sign --rekor-url"
"$V" log trusted-root --rekor-url "http://127.0.0.1:$lport" > trusted_root.json || fail "log trusted-root"
policy Enforce true "{url: http://127.0.0.1:$lport}" > logged.yaml
pod logged "$REG/demo/logged:v1" > logged-pod.yaml
out=$("$V" policy apply --registry --trusted-root trusted_root.json -p logged.yaml -r logged-pod.yaml 2>&1) ||
  fail "a logged signature passes the log check: $out"
out=$("$V" policy apply --registry --trusted-root trusted_root.json -p logged.yaml -r signed.yaml 2>&1); rc=$?
[[ $rc -eq 1 && $out == *"transparency log"* ]] || fail "a signature that was never logged fails the log check: $rc $out"
out=$("$V" policy apply --registry -p logged.yaml -r logged-pod.yaml 2>&1); rc=$?
[[ $rc -eq 1 && $out == *"needs a trusted root"* ]] || fail "no trusted root: an error, not a pass: $rc $out"

[ $fails -eq 0 ] && echo "policy_verify_images: ok"
exit $((fails > 0))
