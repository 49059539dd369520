#!/usr/bin/env bash
# vouch verify-provenance on slsa-github-generator's published provenance (../shared/testdata/slsa),
# offline with its trusted root: the cases slsa-verifier's regression tests assert pass, and the
# ones they fail, fail (exit 1) on the same check in one line. Bad input is exit 2; provenance
# generate writes what verify-provenance reads.
set -uo pipefail
V=${VOUCH_BIN:?set VOUCH_BIN}
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/tests/lib/assert.sh"
source "$root/tests/lib/scratch.sh"
[ -n "${KEEP:-}" ] && trap - EXIT
D=${VOUCH_TESTDATA:-$root/../shared/testdata}/slsa
G=https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml
C=https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_container-based_slsa3.yml
SRC=github.com/slsa-framework/example-package

generic() {  # generic CASE ARGS...: verify the generic generator's CASE provenance
  local case=$1; shift
  "$V" verify-provenance --trusted-root "$D/trusted_root.public-good.json" \
    --artifact "$D/gha_generic/v2.1.0/binary-linux-amd64-workflow_dispatch" \
    --provenance-path "$D/gha_generic/v2.1.0/binary-linux-amd64-$case.intoto.jsonl" "$@"
}
container() {  # container ARGS...: the container-based builder's workflow_dispatch provenance
  "$V" verify-provenance --trusted-root "$D/trusted_root.public-good.json" \
    --artifact "$D/gha_container-based/v2.1.0/binary-linux-amd64-workflow_dispatch" \
    --provenance-path "$D/gha_container-based/v2.1.0/binary-linux-amd64-workflow_dispatch.intoto.build.slsa" "$@"
}

# A pass prints what slsa-verifier prints.
out=$(generic workflow_dispatch --source-uri $SRC 2>&1); rc=$?
[[ $rc -eq 0 && $out == *"Verified build using builder \"$G@refs/tags/v2.1.0\" at commit "* \
   && $out == *"PASSED: SLSA verification passed"* ]] || fail "generic pass: $rc $out"
out=$(generic workflow_dispatch --source-uri $SRC --print-provenance 2>/dev/null)
[[ $out == *'"predicateType":"https://slsa.dev/provenance/v0.2"'* ]] || fail "--print-provenance: $out"

# Each --builder-id form slsa-verifier accepts (the unit tests run every case with each of them).
for b in "--builder-id=$G" "--builder-id=$G@v2.1.0" "--builder-id=$G@refs/tags/v2.1.0"; do
  expect 0 "" -- generic workflow_dispatch --source-uri $SRC $b
  expect 1 "versioned tag: " -- generic push-v14.2 --source-uri $SRC --source-versioned-tag v14.1 $b
done
for b in ""; do
  expect 0 "" -- generic workflow_dispatch --source-uri $SRC $b
  expect 0 "" -- generic workflow_dispatch --source-uri $SRC --source-branch main $b
  expect 1 "branch: " -- generic workflow_dispatch --source-uri $SRC --source-branch master $b
  expect 1 "source: " -- generic workflow_dispatch --source-uri github.com/laurentsimon/slsa-verifier-test-gen $b
  expect 1 "source: " -- generic workflow_dispatch --source-uri github.com/Alaurentsimon/slsa-verifier-test-gen $b
  expect 1 "tag: invalid ref" -- generic workflow_dispatch --source-uri $SRC --source-tag v1.2.3 $b
  expect 1 "versioned tag: invalid ref" -- generic workflow_dispatch --source-uri $SRC --source-versioned-tag v1 $b
  for t in v13.0.29 v13.0 v13; do expect 1 "tag: " -- generic push-v13.0.30 --source-uri $SRC --source-tag $t $b; done
  for t in v13.0.30 v13.0 v13; do expect 0 "" -- generic push-v13.0.30 --source-uri $SRC --source-versioned-tag $t $b; done
  for t in v2 v0 v13.1 v12.9 v13.0.29 v13.0.31; do
    expect 1 "versioned tag: " -- generic push-v13.0.30 --source-uri $SRC --source-versioned-tag $t $b
  done
  for t in v14 v14.0; do expect 0 "" -- generic push-v14 --source-uri $SRC --source-versioned-tag $t $b; done
  for t in v14.1 v13 v15 v13.2 v0; do expect 1 "versioned tag: " -- generic push-v14 --source-uri $SRC --source-versioned-tag $t $b; done
  for t in v14.2 v14; do expect 0 "" -- generic push-v14.2 --source-uri $SRC --source-versioned-tag $t $b; done
  for t in v14.2.1 v14.2.3 v14.1 v14.1.1 v14.3.1 v13 v15 v15.1; do
    expect 1 "versioned tag: " -- generic push-v14.2 --source-uri $SRC --source-versioned-tag $t $b
  done
done
expect 1 "builder: untrusted reusable workflow" -- generic workflow_dispatch --source-uri $SRC \
  --builder-id https://github.com/slsa-framework/slsa-github-generator/.github/workflows/not-trusted.yml

for b in "--builder-id=$C" "--builder-id=$C@v2.1.0" "--builder-id=$C@refs/tags/v2.1.0"; do
  expect 0 "" -- container --source-uri $SRC $b
done
for b in ""; do
  expect 0 "" -- container --source-uri $SRC $b
  expect 0 "" -- container --source-uri $SRC --source-branch main $b
  expect 1 "branch: " -- container --source-uri $SRC --source-branch master $b
  expect 1 "versioned tag: invalid ref" -- container --source-uri $SRC --source-versioned-tag v1 $b
  expect 1 "tag: invalid ref" -- container --source-uri $SRC --source-tag v1.2.3 $b
  for s in github.com/slsa-framework/example-packageA Agithub.com/slsa-framework/example-package \
           github.com/Aslsa-framework/example-package; do
    expect 1 "source: " -- container --source-uri $s $b
  done
done
expect 1 "builder: untrusted reusable workflow" -- container --source-uri $SRC \
  --builder-id https://github.com/slsa-framework/slsa-github-generator/.github/workflows/not-trusted.yml

# The wrong artifact fails on the subject digest; a tampered payload fails the attestation.
echo other > "$T/other"
expect 1 "subject digest: " -- "$V" verify-provenance --trusted-root "$D/trusted_root.public-good.json" \
  --artifact "$T/other" --provenance-path "$D/gha_generic/v2.1.0/binary-linux-amd64-workflow_dispatch.intoto.jsonl" \
  --source-uri $SRC
python3 - "$D/gha_generic/v2.1.0/binary-linux-amd64-workflow_dispatch.intoto.jsonl" "$T/tampered.jsonl" <<'PY'
import base64, json, sys
b = json.load(open(sys.argv[1]))
p = base64.b64decode(b["dsseEnvelope"]["payload"]).replace(b"refs/heads/main", b"refs/heads/evil")
b["dsseEnvelope"]["payload"] = base64.b64encode(p).decode()
json.dump(b, open(sys.argv[2], "w"))
PY
expect 1 "attestation: " -- "$V" verify-provenance --trusted-root "$D/trusted_root.public-good.json" \
  --artifact "$D/gha_generic/v2.1.0/binary-linux-amd64-workflow_dispatch" --provenance-path "$T/tampered.jsonl" \
  --source-uri $SRC
# A private issuer is trusted only when asked for.
expect 1 "issuer: invalid OIDC issuer" -- generic workflow_dispatch --source-uri $SRC \
  --certificate-oidc-issuer https://issuer.example

# Input errors: exit 2.
expect 2 "mutable" -- "$V" verify-provenance --trusted-root "$D/trusted_root.public-good.json" \
  --source-uri $SRC ghcr.io/slsa-framework/example:latest
expect 2 "go together" -- "$V" verify-provenance --trusted-root "$D/trusted_root.public-good.json" \
  --source-uri $SRC --artifact "$T/other"
expect 2 "semantic version" -- generic workflow_dispatch --source-uri $SRC --source-versioned-tag main
echo '{' > "$T/bad.json"
expect 2 "provenance bundle" -- "$V" verify-provenance --trusted-root "$D/trusted_root.public-good.json" \
  --artifact "$T/other" --provenance-path "$T/bad.json" --source-uri $SRC

# provenance generate under a GitHub Actions environment writes a statement whose predicate and
# source verify-provenance reads; without a CI environment it asks for the explicit flags.
echo artifact > "$T/app.tgz"
GITHUB_ACTIONS=true GITHUB_REPOSITORY=acme/app GITHUB_REF=refs/tags/v1.2.3 \
  GITHUB_SHA=0123456789abcdef0123456789abcdef01234567 \
  GITHUB_WORKFLOW_REF=acme/app/.github/workflows/release.yml@refs/tags/v1.2.3 GITHUB_RUN_ID=42 \
  GITHUB_RUN_ATTEMPT=1 GITHUB_EVENT_NAME=push RUNNER_ENVIRONMENT=github-hosted GITHUB_SERVER_URL=https://github.com \
  "$V" provenance generate --statement "$T/app.tgz" -o "$T/statement.json" || fail "provenance generate"
python3 - "$T/statement.json" "$(sha256sum "$T/app.tgz" | cut -d' ' -f1)" <<'PY' || fail "generated statement"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["_type"] == "https://in-toto.io/Statement/v1" and s["predicateType"] == "https://slsa.dev/provenance/v1"
assert s["subject"] == [{"name": "app.tgz", "digest": {"sha256": sys.argv[2]}}], s["subject"]
d = s["predicate"]["buildDefinition"]
assert d["buildType"] == "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1"
assert d["externalParameters"]["workflow"] == {"ref": "refs/tags/v1.2.3", "repository": "https://github.com/acme/app",
                                               "path": ".github/workflows/release.yml"}
assert d["resolvedDependencies"][0]["uri"] == "git+https://github.com/acme/app@refs/tags/v1.2.3"
assert s["predicate"]["runDetails"]["builder"]["id"] == \
    "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.3"
PY
expect 2 "--builder-id" -- env -u GITHUB_ACTIONS -u GITLAB_CI "$V" provenance generate

# --attest signs and attaches the predicate as vouch attest does; verify-provenance finds it on
# the image and refuses it: a managed key is not a builder's keyless certificate.
if command -v umoci >/dev/null; then
  (cd "$T" && umoci init --layout L && umoci new --image L:x) >/dev/null || fail "umoci"
  COSIGN_PASSWORD=pw "$V" generate-key-pair --output-key-prefix "$T/k" >/dev/null 2>&1 || fail "generate-key-pair"
  COSIGN_PASSWORD=pw "$V" provenance generate --builder-id https://b.example/b@v1 --build-type https://b.example/t \
    --attest "oci:$T/L:x" --key "$T/k.key" --tlog-upload=false >/dev/null 2>&1 || fail "provenance generate --attest"
  "$V" verify-attestation --key "$T/k.pub" --type slsaprovenance1 --insecure-ignore-tlog "oci:$T/L:x" >/dev/null 2>&1 \
    || fail "verify-attestation of the generated provenance"
  img=$(python3 -c 'import json,sys; print([m["digest"] for m in json.load(open(sys.argv[1]))["manifests"]
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == "x"][0])' "$T/L/index.json")
  expect 1 "attestation: no signing certificate" -- "$V" verify-provenance --source-uri github.com/a/b \
    --trusted-root "$D/trusted_root.public-good.json" "oci:$T/L@$img"
fi

[ $fails -eq 0 ] && echo "slsa_verify: ok"
exit $((fails > 0))
