#!/usr/bin/env bash
# The trust chain end to end on embedded defaults, all on 127.0.0.1: build an image
# (examples/demo-image) and push it to a local registry; inventory it (SBOM) and scan it
# against real OSV advisories; sign and attest it with a cosign-format key, each signature
# logged in vouch's own transparency log; verify it; then admit it with the seeds' Kyverno
# policy, which pins its tag to the digest, and refuse an unsigned image.
set -euo pipefail
vouch=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=$repo/../shared/testdata
for tool in docker-registry umoci skopeo curl python3; do
  command -v $tool >/dev/null || { echo "demo: $tool is missing (run scripts/install-deps.sh)" >&2; exit 2; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/vouch-demo.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
export COSIGN_PASSWORD=demo-password DOCKER_CONFIG=$work/docker
if [ -t 1 ]; then step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }; else step() { printf '\n$ %s\n' "$*"; }; fi
say() { printf '# %s\n' "$*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 100); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done; echo "demo: $1 did not answer" >&2; exit 1; }

# --- a registry and a transparency log on loopback
reg_port=$(free_port)
printf 'version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s/registry}}\nhttp: {addr: 127.0.0.1:%s}\n' \
  "$work" "$reg_port" > registry.yml
docker-registry serve registry.yml > registry.log 2>&1 & pids+=($!)
REG=127.0.0.1:$reg_port
wait_for "http://$REG/v2/"
log_port=$(free_port)
LOG=http://127.0.0.1:$log_port
step vouch log serve --listen 127.0.0.1:$log_port --storage sqlite:log.db
"$vouch" log serve --listen "127.0.0.1:$log_port" --storage "sqlite:$work/log.db" --hostname "127.0.0.1:$log_port" \
  2> log-server.log & pids+=($!)
wait_for "$LOG/readyz"

# --- build: the demo image, and an unsigned one beside it
say "building $REG/demo/app:1.0 from examples/demo-image with umoci, pushing with skopeo"
umoci init --layout layout >/dev/null
for tag in app other; do
  umoci new --image "layout:$tag" >/dev/null
  umoci unpack --rootless --image "layout:$tag" "bundle-$tag" >/dev/null
  cp -a "$repo/examples/demo-image/rootfs/." "bundle-$tag/rootfs/"
  [ "$tag" = other ] && echo "not signed" > "bundle-$tag/rootfs/etc/motd"
  umoci repack --image "layout:$tag" "bundle-$tag" >/dev/null
  skopeo copy -q --dest-tls-verify=false "oci:layout:$tag" "docker://$REG/demo/$tag:1.0"
done
IMAGE=$REG/demo/app:1.0
step vouch inspect -o json $IMAGE
DIGEST=$("$vouch" inspect -o json "$IMAGE" | python3 -c 'import json,sys; print(json.load(sys.stdin)["digest"])')
say "digest: $DIGEST (sign the digest you built, not a tag that can move)"
PINNED=$REG/demo/app@$DIGEST

# --- what is in it
step vouch sbom $IMAGE -o table
"$vouch" sbom "$IMAGE" -o table
"$vouch" sbom "$IMAGE" -o spdx-json --file sbom.spdx.json

if [ -d "$shared/osv/pypi" ]; then
  step vouch db import --db vulndb ../shared/testdata/osv/pypi
  "$vouch" db import --db vulndb "$shared/osv/pypi"
  step vouch scan --db vulndb --fail-on critical $IMAGE
  set +e; "$vouch" scan --db vulndb --fail-on critical "$IMAGE"; rc=$?; set -e
  say "exit $rc: the --fail-on critical gate $([ $rc -eq 1 ] && echo stops this build in CI || echo passes)"
  "$vouch" scan --db vulndb -o cosign-vuln "$IMAGE" > vuln.json
else
  say "no OSV data at ../shared/testdata/osv: skipping the scan"
  echo '{"scanner": {"uri": "https://github.com/vouch", "result": {"summary": {"criticalCount": 0}}}}' > vuln.json
fi

# --- who vouches for it
step vouch generate-key-pair
"$vouch" generate-key-pair
step vouch sign --key cosign.key --rekor-url $LOG $PINNED
"$vouch" sign --key cosign.key --rekor-url "$LOG" "$PINNED"
step vouch attest --key cosign.key --type spdxjson --predicate sbom.spdx.json --rekor-url $LOG $PINNED
"$vouch" attest --key cosign.key --type spdxjson --predicate sbom.spdx.json --rekor-url "$LOG" "$PINNED"
step vouch attest --key cosign.key --type vuln --predicate vuln.json --rekor-url $LOG $PINNED
"$vouch" attest --key cosign.key --type vuln --predicate vuln.json --rekor-url "$LOG" "$PINNED"
step vouch tree $IMAGE
"$vouch" tree "$IMAGE"
step vouch log info --rekor-url $LOG
"$vouch" log info --rekor-url "$LOG"
"$vouch" log trusted-root --rekor-url "$LOG" > trusted_root.json
step vouch verify --key cosign.pub --trusted-root trusted_root.json $IMAGE
"$vouch" verify --key cosign.pub --trusted-root trusted_root.json "$IMAGE"
step vouch verify-attestation --key cosign.pub --trusted-root trusted_root.json --type spdxjson $IMAGE "| head -c 300"
"$vouch" verify-attestation --key cosign.pub --trusted-root trusted_root.json --type spdxjson "$IMAGE" | head -c 300; echo " …"
step "vouch verify --key other.pub ... $IMAGE   # a key that did not sign it"
"$vouch" generate-key-pair --output-key-prefix other >/dev/null 2>&1
if "$vouch" verify --key other.pub --trusted-root trusted_root.json "$IMAGE" >/dev/null; then
  echo "demo: the wrong key verified, which must not happen" >&2; exit 1
else
  say "rejected (exit $?), as it must be"
fi

# --- will the cluster refuse the rest: the seeds' key-based verifyImages policy
cat > policy.yaml <<YAML
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: verify-image-signature}
spec:
  validationFailureAction: Enforce
  rules:
    - name: verify-cosign-signature
      match: {any: [{resources: {kinds: [Pod]}}]}
      verifyImages:
        - imageReferences: ["$REG/demo/*"]
          mutateDigest: true
          attestors:
            - count: 1
              entries:
                - keys:
                    publicKeys: |-
$(sed 's/^/                      /' cosign.pub)
                    rekor: {url: "$LOG"}
          attestations:
            - type: https://spdx.dev/Document
              conditions:
                - all:
                    - key: "{{ spdxVersion }}"
                      operator: Equals
                      value: SPDX-2.3
YAML
pod() { printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: default}\nspec:\n  containers: [{name: app, image: "%s"}]\n' "$1" "$2"; }
pod signed "$IMAGE" > signed-pod.yaml
pod unsigned "$REG/demo/other:1.0" > unsigned-pod.yaml
step vouch policy apply --registry --trusted-root trusted_root.json -p policy.yaml -r signed-pod.yaml
"$vouch" policy apply --registry --trusted-root trusted_root.json -p policy.yaml -r signed-pod.yaml
step vouch policy apply --registry --trusted-root trusted_root.json -p policy.yaml -r unsigned-pod.yaml
if "$vouch" policy apply --registry --trusted-root trusted_root.json -p policy.yaml -r unsigned-pod.yaml; then
  echo "demo: the unsigned image was admitted, which must not happen" >&2; exit 1
else
  say "denied (exit $?), as it must be"
fi
echo; echo "demo: done"
