#!/usr/bin/env bash
# The trust chain end to end on embedded defaults, all on 127.0.0.1: build an image
# (examples/demo-image) and push it to a local registry; inventory it (SBOM) and scan it
# against real OSV advisories; sign and attest it with a cosign-format key, each signature
# logged in vouch's own transparency log; publish the log's trust over TUF and verify with it;
# then admit it with the seeds' Kyverno
# policy, which pins its tag to the digest, and refuse an unsigned image; finally sign it keyless
# as a GitHub Actions workflow through a private Sigstore stack (vouch stack up) and admit it with
# the seeds' keyless policy (issuer + subjectRegExp), which denies another identity; and run
# the same policies as a Kubernetes admission webhook (vouch admission serve) fed AdmissionReviews.
# Each step says in one line what it shows; the refusals it demonstrates are marked as
# expected, and any other failure stops the demo with a non-zero exit.
set -euo pipefail
vouch=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=$repo/../shared/testdata
for tool in docker-registry umoci skopeo curl python3 openssl; do
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
if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold="" plain=""; fi
n=0
# step "what this step shows" COMMAND…: the story line, then the command as typed.
step() { n=$((n + 1)); printf '\n%s%d. %s%s\n$ %s\n' "$bold" "$n" "$1" "$plain" "${*:2}"; }
say() { printf '# %s\n' "$*"; }
# expect_refusal COMMAND…: a refusal the demo is showing; passing would be the failure.
expect_refusal() {
  local rc=0
  "$@" > refusal.out 2> refusal.err || rc=$?
  [ $rc -ne 0 ] || { echo "demo: this should have been refused and was not: $*" >&2; exit 1; }
  if [ -s refusal.err ]; then sed 's/^/  /' refusal.err; else sed '/^ *$/d; s/^/  /' refusal.out; fi
  say "refused with exit $rc, as expected"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 100); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done; echo "demo: $1 did not answer" >&2; exit 1; }

# --- a registry and a transparency log on loopback
reg_port=$(free_port)
printf 'version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s/registry}}\nhttp: {addr: 127.0.0.1:%s}\n' \
  "$work" "$reg_port" > registry.yml
docker-registry serve registry.yml > registry.log 2>&1 & pids+=($!)
REG=127.0.0.1:$reg_port
wait_for "http://$REG/v2/"
say "a docker-registry is listening on $REG"
log_port=$(free_port)
LOG=http://127.0.0.1:$log_port
step "A Rekor-compatible transparency log of our own: every signature below is recorded in it" \
  vouch log serve --listen 127.0.0.1:$log_port --storage sqlite:log.db
"$vouch" log serve --listen "127.0.0.1:$log_port" --storage "sqlite:$work/log.db" --hostname "127.0.0.1:$log_port" \
  2> log-server.log & pids+=($!)
wait_for "$LOG/readyz"
say "listening on $LOG"

# --- build: the demo image, and an unsigned one beside it
say "building $REG/demo/app:1.0 from examples/demo-image with umoci, pushing with skopeo (and demo/other:1.0, never signed)"
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
step "Is it exactly what we built? The digest names the bytes; a tag can move" vouch inspect -o json $IMAGE
DIGEST=$("$vouch" inspect -o json "$IMAGE" | python3 -c 'import json,sys; print(json.load(sys.stdin)["digest"])')
say "digest: $DIGEST (everything below signs this digest, not the tag)"
PINNED=$REG/demo/app@$DIGEST

# --- what is in it
step "What is in it? An SBOM of every package the image holds" vouch sbom $IMAGE -o table
"$vouch" sbom "$IMAGE" -o table
"$vouch" sbom "$IMAGE" -o spdx-json --file sbom.spdx.json
packages=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1])).get("packages", [])))' sbom.spdx.json)
say "$packages packages, written as SPDX 2.3 to sbom.spdx.json for the attestation below"

findings="not scanned (no OSV data at ../shared/testdata/osv)"
if [ -d "$shared/osv/pypi" ]; then
  step "Known vulnerabilities need advisories: import real OSV records (PyPI)" \
    vouch db import --db vulndb ../shared/testdata/osv/pypi
  "$vouch" db import --db vulndb "$shared/osv/pypi"
  step "Scan the image against them; --fail-on is the CI gate (exit 1 when a finding reaches it)" \
    vouch scan --db vulndb --fail-on critical $IMAGE
  set +e; "$vouch" scan --db vulndb --fail-on critical "$IMAGE"; rc=$?; set -e
  [ $rc -le 1 ] || { echo "demo: vouch scan failed (exit $rc)" >&2; exit 1; }
  say "exit $rc: the --fail-on critical gate $([ $rc -eq 1 ] && echo "stops this build in CI" || echo "passes: no finding is rated critical")"
  "$vouch" scan --db vulndb -o json "$IMAGE" > scan.json
  findings=$(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
total = sum(s[k] for k in ("critical", "high", "medium", "low", "negligible", "unknown"))
parts = ", ".join(f"{s[k]} {k}" for k in ("critical", "high", "medium", "low", "unknown") if s[k])
print(f"{total} ({parts})" if parts else "0")' scan.json)
  "$vouch" scan --db vulndb -o cosign-vuln "$IMAGE" > vuln.json
else
  say "no OSV data at ../shared/testdata/osv: skipping the scan"
  echo '{"scanner": {"uri": "https://github.com/vouch", "result": {"summary": {"criticalCount": 0}}}}' > vuln.json
fi

# --- who vouches for it
step "Who vouches for it? A cosign-format key pair (cosign.key encrypted with COSIGN_PASSWORD)" vouch generate-key-pair
"$vouch" generate-key-pair
step "Sign the digest; the signature goes beside the image and into the log" \
  vouch sign --key cosign.key --rekor-url $LOG $PINNED
"$vouch" sign --key cosign.key --rekor-url "$LOG" "$PINNED"
step "Attest the SBOM (an in-toto statement in a DSSE envelope), logged too" \
  vouch attest --key cosign.key --type spdxjson --predicate sbom.spdx.json --rekor-url $LOG $PINNED
"$vouch" attest --key cosign.key --type spdxjson --predicate sbom.spdx.json --rekor-url "$LOG" "$PINNED"
step "Attest the scan result the same way" \
  vouch attest --key cosign.key --type vuln --predicate vuln.json --rekor-url $LOG $PINNED
"$vouch" attest --key cosign.key --type vuln --predicate vuln.json --rekor-url "$LOG" "$PINNED"
step "What now hangs off the image in the registry" vouch tree $IMAGE
"$vouch" tree "$IMAGE"
step "The log has recorded each of them" vouch log info --rekor-url $LOG
"$vouch" log info --rekor-url "$LOG"
logged=$("$vouch" log info -o json --rekor-url "$LOG" | python3 -c 'import json,sys; print(json.load(sys.stdin)["treeSize"])')
"$vouch" log trusted-root --rekor-url "$LOG" > trusted_root.json
say "trusted_root.json now names this log and its key, so verifiers can check the log entries"
step "Distribute that trust as Sigstore does, over TUF: a repository of our own, served on loopback" \
  vouch tuf init --dir tuf "&&" vouch tuf add-target --dir tuf trusted_root.json "&&" vouch tuf serve --dir tuf
"$vouch" tuf init --dir tuf
"$vouch" tuf add-target --dir tuf trusted_root.json
tuf_port=$(free_port)
"$vouch" tuf serve --dir tuf --listen "127.0.0.1:$tuf_port" 2> tuf-server.log & pids+=($!)
wait_for "http://127.0.0.1:$tuf_port/readyz"
export TUF_ROOT=$work/tuf-cache
step "Trust the repository's first root, as cosign initialize does" \
  vouch initialize --mirror http://127.0.0.1:$tuf_port --root tuf/repository/1.root.json
"$vouch" initialize --mirror "http://127.0.0.1:$tuf_port" --root tuf/repository/1.root.json
step "Verify the signature and its log entry, as cosign verify does: no trust flags, the trusted root came over TUF" \
  vouch verify --key cosign.pub $IMAGE
"$vouch" verify --key cosign.pub "$IMAGE"
step "Verify the SBOM attestation (the statement is saved; its first bytes shown)" \
  vouch verify-attestation --key cosign.pub --trusted-root trusted_root.json --type spdxjson $IMAGE "> attestation.json"
"$vouch" verify-attestation --key cosign.pub --trusted-root trusted_root.json --type spdxjson "$IMAGE" > attestation.json
head -c 300 attestation.json; echo " …"
"$vouch" generate-key-pair --output-key-prefix other >/dev/null 2>&1
step "A key that did not sign it is refused (expected to fail)" \
  vouch verify --key other.pub --trusted-root trusted_root.json $IMAGE
expect_refusal "$vouch" verify --key other.pub --trusted-root trusted_root.json "$IMAGE"

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
say "policy.yaml: the seeds' Kyverno ClusterPolicy: images of $REG/demo/* must be signed with cosign.pub, logged, and carry an SPDX 2.3 SBOM attestation"
step "Will the cluster admit it? The signed Pod passes, its tag pinned to the digest (mutateDigest)" \
  vouch policy apply --registry --trusted-root trusted_root.json -p policy.yaml -r signed-pod.yaml
"$vouch" policy apply --registry --trusted-root trusted_root.json -p policy.yaml -r signed-pod.yaml
step "And refuse the rest: a Pod with the unsigned image is denied (expected to fail)" \
  vouch policy apply --registry --trusted-root trusted_root.json -p policy.yaml -r unsigned-pod.yaml
expect_refusal "$vouch" policy apply --registry --trusted-root trusted_root.json -p policy.yaml -r unsigned-pod.yaml

# --- keyless, as CI signs: a private Sigstore stack and the seeds' keyless policy
step "Keyless, as the seeds' CI signs: a private Sigstore stack (an OIDC issuer speaking GitHub Actions' token protocol, a Fulcio-compatible CA with its CT log, a Rekor-compatible log, a timestamp authority)" \
  vouch stack up --dir stack --github-repository example/app --github-workflow .github/workflows/release.yml --github-ref refs/heads/main
"$vouch" stack up --dir "$work/stack" --github-repository example/app --github-workflow .github/workflows/release.yml \
  --github-ref refs/heads/main 2> stack.log & pids+=($!)
for _ in $(seq 100); do [ -s stack/env ] && break; sleep 0.1; done
[ -s stack/env ] || { echo "demo: vouch stack up did not start: $(cat stack.log)" >&2; exit 1; }
# shellcheck disable=SC1091
. stack/env
say "stack/env exports ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN as a GitHub Actions job has them, and SIGSTORE_ROOT_FILE"
step "Sign keyless: a token for the workflow, a ten-minute certificate for an ephemeral key, the signature logged and timestamped" \
  vouch sign --signing-config stack/signing_config.json --yes $PINNED
"$vouch" sign --signing-config stack/signing_config.json --yes "$PINNED"
workflow=https://github.com/example/app/.github/workflows/release.yml@refs/heads/main
step "Verify who signed it: the workflow identity and its issuer, trusted through stack/trusted_root.json" \
  vouch verify --certificate-identity $workflow --certificate-oidc-issuer \$VOUCH_OIDC_URL -o text $IMAGE
"$vouch" verify --certificate-identity "$workflow" --certificate-oidc-issuer "$VOUCH_OIDC_URL" -o text "$IMAGE"
keyless_policy() {  # NAME SUBJECT-REGEXP
  cat <<YAML
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: $1}
spec:
  validationFailureAction: Enforce
  rules:
    - name: verify-keyless
      match: {any: [{resources: {kinds: [Pod]}}]}
      verifyImages:
        - imageReferences: ["$REG/demo/*"]
          mutateDigest: true
          verifyDigest: true
          required: true
          attestors:
            - entries:
                - keyless:
                    issuer: "$VOUCH_OIDC_URL"
                    subjectRegExp: '$2'
                    rekor: {url: "$VOUCH_REKOR_URL"}
YAML
}
keyless_policy verify-keyless-main 'https://github.com/example/app/\.github/workflows/.+\.yml@refs/heads/main' > keyless-policy.yaml
keyless_policy verify-keyless-release 'https://github.com/example/app/\.github/workflows/.+\.yml@refs/heads/release' > release-policy.yaml
say "keyless-policy.yaml: the seeds' keyless rule: issuer pinned, subjectRegExp on the workflow file and main"
step "Admitted: the Pod's image was signed by example/app's release workflow on main" \
  vouch policy apply --registry --trusted-root stack/trusted_root.json -p keyless-policy.yaml -r signed-pod.yaml
"$vouch" policy apply --registry --trusted-root stack/trusted_root.json -p keyless-policy.yaml -r signed-pod.yaml
step "Denied: a policy that trusts only builds of the release branch refuses the same image (expected to fail)" \
  vouch policy apply --registry --trusted-root stack/trusted_root.json -p release-policy.yaml -r signed-pod.yaml
expect_refusal "$vouch" policy apply --registry --trusted-root stack/trusted_root.json -p release-policy.yaml -r signed-pod.yaml

# --- the cluster gate: the same policies in the admission webhook
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout webhook.key -out webhook.crt -days 1 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1
mkdir gate && cp policy.yaml keyless-policy.yaml gate/
gate_port=$(free_port)
GATE=https://127.0.0.1:$gate_port
step "The cluster gate: the same two policies in vouch admission serve, Kyverno's admission webhook, over HTTPS" \
  vouch admission serve --policies gate --tls-cert webhook.crt --tls-key webhook.key --trusted-root stack/trusted_root.json
"$vouch" admission serve --policies gate --tls-cert webhook.crt --tls-key webhook.key --listen "127.0.0.1:$gate_port" \
  --trusted-root trusted_root.json --trusted-root stack/trusted_root.json --reports "$work/reports.db" 2> gate.log & pids+=($!)
for _ in $(seq 100); do curl -sf --cacert webhook.crt -o /dev/null "$GATE/readyz" && break; sleep 0.1; done
review() {  # NAME IMAGE: an AdmissionReview for a Pod, as the API server sends it
  python3 -c 'import json,sys; pod={"apiVersion":"v1","kind":"Pod","metadata":{"name":sys.argv[1],"namespace":"default"},"spec":{"containers":[{"name":"app","image":sys.argv[2]}]}}; print(json.dumps({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"demo-"+sys.argv[1],"kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"name":sys.argv[1],"namespace":"default","operation":"CREATE","userInfo":{"username":"demo"},"object":pod}}))' "$1" "$2"
}
answer() {  # REVIEW-FILE: what the webhook answered, in a few lines
  curl -s --cacert webhook.crt -H 'Content-Type: application/json' --data-binary "@$1" "$GATE/mutate/fail?timeout=10s" |
    python3 -c 'import json,sys,base64; r=json.load(sys.stdin)["response"]; print("  allowed:", r["allowed"]); [print("  patch:", o["op"], o["path"], o.get("value","")) for o in json.loads(base64.b64decode(r["patch"]))] if r.get("patch") else None; print("  message:", r["status"]["message"].strip().replace("\n", "\n  ")) if not r["allowed"] else None; sys.exit(0 if r["allowed"] else 1)'
}
review signed "$IMAGE" > signed-review.json
review unsigned "$REG/demo/other:1.0" > unsigned-review.json
step "POST /mutate/fail: the signed Pod is admitted, its tag pinned to the digest by a JSON patch, with Kyverno's verify-images annotation" \
  curl --cacert webhook.crt --data-binary @signed-review.json $GATE/mutate/fail?timeout=10s
answer signed-review.json
step "POST /mutate/fail: the unsigned Pod is denied with Kyverno's message (expected to fail)" \
  curl --cacert webhook.crt --data-binary @unsigned-review.json $GATE/mutate/fail?timeout=10s
expect_refusal answer unsigned-review.json
sleep 0.3
step "The PolicyReports the webhook kept (wgpolicyk8s.io/v1alpha2), read as the seeds read them with jq" \
  "vouch report get -A -o json | jq -r '.items[].results[] | \"\\(.resources[0].name) \\(.result) \\(.policy)\"'"
"$vouch" report get -A --reports "$work/reports.db" -o json |
  python3 -c 'import json,sys; [print(" ", r["resources"][0]["name"], r["result"], r["policy"]) for i in json.load(sys.stdin)["items"] for r in i["results"]]'

cat <<SUMMARY

${bold}What the demo proved${plain}
  image        $IMAGE
  digest       $DIGEST
  SBOM         $packages packages (SPDX 2.3)
  findings     $findings
  signed       1 signature and 2 attestations (SBOM, vulnerabilities), verified with cosign.pub
  logged       $logged entries in the transparency log at $LOG, each checked against trusted_root.json
  trusted      that trusted root distributed over TUF (a vouch repository) and used with no trust flags
  refused      a key that did not sign the image
  admitted     Pod signed, image pinned to $DIGEST
  denied       Pod unsigned ($REG/demo/other:1.0)
  keyless      signed as $workflow through vouch stack up,
               admitted by the seeds' keyless policy, denied by one that wants another branch
  webhook      the same policies in vouch admission serve over HTTPS: the signed Pod admitted and
               pinned by patch, the unsigned one denied, both in the PolicyReports
demo: done
SUMMARY
