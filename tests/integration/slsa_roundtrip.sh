#!/usr/bin/env bash
# SLSA provenance round trip on a private Sigstore stack: `vouch stack up` mints GitHub Actions
# tokens for example/app's release workflow at tag v1.0.0; under that job's environment
# `vouch provenance generate --attest` signs the provenance keyless and attaches it to the image;
# `vouch verify-provenance` accepts it with the right source, tag and builder and refuses a wrong
# one on the check that differs; a verifyImages policy with a provenance condition admits it in
# `vouch policy apply` and in the admission webhook.
set -uo pipefail
V=${VOUCH_BIN:?set VOUCH_BIN}
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/tests/lib/assert.sh"
source "$root/tests/lib/scratch.sh"
require_tools docker-registry umoci skopeo python3 curl openssl
[ -n "${KEEP:-}" ] && trap - EXIT
export DOCKER_CONFIG=$T/docker HOME=$T
cd "$T"
stack_pid= wh_pid=
trap 'for p in $stack_pid $wh_pid; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; cleanup' EXIT

start_registry
umoci init --layout L && umoci new --image L:web && umoci unpack --rootless --image L:web b >/dev/null
echo web > b/rootfs/content && umoci repack --image L:web b >/dev/null
skopeo copy -q --dest-tls-verify=false oci:L:web "docker://$REG/app/web:v1.0.0" || fail "push"
digest=$("$V" inspect -o json "$REG/app/web:v1.0.0" | python3 -c 'import json,sys; print(json.load(sys.stdin)["digest"])')
IMAGE=$REG/app/web@$digest

sha=4d329c7577efa6cbdc5dba0ab1ee33ac2b3bc1c9
"$V" stack up --dir stack --github-repository example/app --github-workflow .github/workflows/release.yml \
  --github-ref refs/tags/v1.0.0 --github-sha "$sha" 2> stack.log &
stack_pid=$!
for _ in $(seq 100); do [ -s stack/env ] && break; sleep 0.1; done
[ -s stack/env ] || { fail "vouch stack up did not start: $(cat stack.log)"; exit 1; }
# shellcheck disable=SC1091
source stack/env

# The job's environment, as GitHub Actions sets it for a push of tag v1.0.0.
export GITHUB_ACTIONS=true GITHUB_SERVER_URL=https://github.com GITHUB_REPOSITORY=example/app \
  GITHUB_REF=refs/tags/v1.0.0 GITHUB_SHA=$sha GITHUB_WORKFLOW_REF=example/app/.github/workflows/release.yml@refs/tags/v1.0.0 \
  GITHUB_RUN_ID=4242 GITHUB_RUN_ATTEMPT=1 GITHUB_EVENT_NAME=push RUNNER_ENVIRONMENT=github-hosted
"$V" provenance generate --attest "$IMAGE" --signing-config stack/signing_config.json --yes > generate.out 2>&1 ||
  fail "provenance generate --attest: $(cat generate.out)"

builder=https://github.com/example/app/.github/workflows/release.yml@refs/tags/v1.0.0
verify() {  # verify EXTRA-FLAGS… → stdout+stderr, exit code
  "$V" verify-provenance "$IMAGE" --trusted-root stack/trusted_root.json --certificate-oidc-issuer "$VOUCH_OIDC_URL" \
    --source-uri github.com/example/app --builder-id "$builder" "$@" 2>&1
}
out=$(verify --source-tag v1.0.0); rc=$?
[ $rc -eq 0 ] && [[ $out == *"PASSED: SLSA verification passed"* && $out == *"$sha"* ]] || fail "right source/tag/builder: exit $rc: $out"
out=$(verify --source-versioned-tag v1); rc=$?
[ $rc -eq 0 ] || fail "versioned tag v1: exit $rc: $out"
out=$(verify --source-tag v1.0.1); rc=$?
[ $rc -eq 1 ] && [[ $out == *"tag:"* ]] || fail "wrong tag: exit $rc: $out"
out=$("$V" verify-provenance "$IMAGE" --trusted-root stack/trusted_root.json --certificate-oidc-issuer "$VOUCH_OIDC_URL" \
  --source-uri github.com/example/other --builder-id "$builder" 2>&1); rc=$?
[ $rc -eq 1 ] && [[ $out == *"source"* ]] || fail "wrong source: exit $rc: $out"
out=$("$V" verify-provenance "$IMAGE" --trusted-root stack/trusted_root.json --certificate-oidc-issuer "$VOUCH_OIDC_URL" \
  --source-uri github.com/example/app --builder-id https://github.com/example/app/.github/workflows/other.yml@refs/tags/v1.0.0 2>&1); rc=$?
[ $rc -eq 1 ] && [[ $out == *"builder"* ]] || fail "wrong builder: exit $rc: $out"
out=$("$V" verify-provenance "$IMAGE" --trusted-root stack/trusted_root.json --source-uri github.com/example/app \
  --builder-id "$builder" 2>&1); rc=$?
[ $rc -eq 1 ] && [[ $out == *"issuer"* ]] || fail "GitHub's issuer expected: exit $rc: $out"

# Admission with the provenance condition (the seeds' stage-3 rule, keyless on this stack).
policy() {  # BUILD_TYPE
  cat <<YAML
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: require-provenance}
spec:
  validationFailureAction: Enforce
  rules:
    - name: slsa-provenance
      match: {any: [{resources: {kinds: [Pod]}}]}
      verifyImages:
        - imageReferences: ["$REG/app/*"]
          attestations:
            - type: https://slsa.dev/provenance/v1
              attestors:
                - entries:
                    - keyless:
                        issuer: "$VOUCH_OIDC_URL"
                        subjectRegExp: '^https://github\.com/example/app/\.github/workflows/release\.yml@refs/tags/v.*$'
                        rekor: {url: "$VOUCH_REKOR_URL"}
              conditions:
                - all:
                    - key: "{{ buildDefinition.buildType }}"
                      operator: Equals
                      value: "$1"
YAML
}
build_type=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["buildDefinition"]["buildType"])' \
  <("$V" provenance generate))
[ -n "$build_type" ] || fail "no build type"
policy "$build_type" > good.yaml
policy https://example.com/other-build@v1 > bad.yaml
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: default}\nspec:\n  containers: [{name: app, image: "%s"}]\n' \
  "$REG/app/web:v1.0.0" > pod.yaml
out=$("$V" policy apply --registry --trusted-root stack/trusted_root.json -p good.yaml -r pod.yaml 2>&1); rc=$?
[ $rc -eq 0 ] || fail "policy apply with the provenance condition: exit $rc: $out"
out=$("$V" policy apply --registry --trusted-root stack/trusted_root.json -p bad.yaml -r pod.yaml 2>&1); rc=$?
[ $rc -eq 1 ] || fail "policy apply with another build type: exit $rc: $out"

# The same in the admission webhook.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tls.key -out tls.crt -days 1 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1
mkdir gate && cp good.yaml gate/
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$V" admission serve --policies gate --tls-cert tls.crt --tls-key tls.key --listen "127.0.0.1:$port" --no-reports \
  --trusted-root stack/trusted_root.json > webhook.log 2>&1 &
wh_pid=$!
for _ in $(seq 100); do curl -sf --cacert tls.crt -o /dev/null "https://127.0.0.1:$port/healthz" && break; sleep 0.1; done
python3 - "$REG/app/web:v1.0.0" > review.json <<'PY'
import json, sys
pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "default"},
       "spec": {"containers": [{"name": "app", "image": sys.argv[1]}]}}
print(json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
  "uid": "6a1b0c2d-0000-4000-8000-000000000001", "kind": {"group": "", "version": "v1", "kind": "Pod"},
  "resource": {"group": "", "version": "v1", "resource": "pods"}, "name": "web", "namespace": "default",
  "operation": "CREATE", "userInfo": {"username": "ci"}, "object": pod}}))
PY
out=$(curl -s --cacert tls.crt -H 'Content-Type: application/json' --data-binary @review.json \
  "https://127.0.0.1:$port/mutate/fail?timeout=10s")
allowed=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["response"]["allowed"])' "$out" 2>/dev/null)
[ "$allowed" = True ] || fail "admission with the provenance condition: $out"

[ $fails -eq 0 ] && echo "slsa_roundtrip: ok" || { echo "slsa_roundtrip: $fails failure(s)"; exit 1; }
