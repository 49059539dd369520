#!/usr/bin/env bash
# BuildKit's provenance: an image index laid out as `docker buildx build --provenance` pushes it
# (a linux/amd64 image and an attestation manifest, platform unknown/unknown, annotated
# vnd.docker.reference.type/digest, holding an in-toto provenance layer), pushed by skopeo to a
# real docker-registry. vouch inspect and vouch tree show the attestation manifest as unsigned;
# verify-provenance reads it only with --buildkit, says it is unsigned, and fails on the wrong
# repository, builder or platform, on an index without provenance, and on flags BuildKit has no
# claim for.
set -uo pipefail
V=${VOUCH_BIN:?set VOUCH_BIN}
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/tests/lib/assert.sh"
source "$root/tests/lib/scratch.sh"
require_tools docker-registry umoci skopeo python3 curl
[ -n "${KEEP:-}" ] && trap - EXIT
export DOCKER_CONFIG=$T/docker
cd "$T"

start_registry
umoci init --layout L
umoci new --image L:base
umoci unpack --rootless --image L:base b >/dev/null
echo app > b/rootfs/app
umoci repack --image L:base b >/dev/null

# Wrap the image in an index with a BuildKit attestation manifest ("bk"), and another index
# without one ("plain").
python3 - L <<'PY' || fail "building the BuildKit layout"
import hashlib, json, os, sys
layout = sys.argv[1]
def put(data, media_type, **extra):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(layout, "blobs", "sha256", digest), "wb") as f:
        f.write(data)
    return dict(mediaType=media_type, digest="sha256:" + digest, size=len(data), **extra)
index = json.load(open(os.path.join(layout, "index.json")))
image = next(m for m in index["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == "base")
image = {k: image[k] for k in ("mediaType", "digest", "size")}
image["platform"] = {"architecture": "amd64", "os": "linux"}
statement = {
    "_type": "https://in-toto.io/Statement/v0.1", "predicateType": "https://slsa.dev/provenance/v0.2",
    "subject": [{"name": "pkg:docker/bk/app@v1?platform=linux%2Famd64", "digest": {"sha256": image["digest"][7:]}}],
    "predicate": {
        "builder": {"id": "https://github.com/acme/app/actions/runs/42/attempts/1"},
        "buildType": "https://mobyproject.org/buildkit@v1",
        "materials": [],
        "invocation": {"configSource": {"entryPoint": "Dockerfile"}, "parameters": {"frontend": "dockerfile.v0"},
                       "environment": {"platform": "linux/amd64"}},
        "metadata": {"buildInvocationID": "bk1", "completeness": {"parameters": True}, "reproducible": False,
                     "https://mobyproject.org/buildkit@v1#metadata": {
                         "vcs": {"source": "https://github.com/acme/app.git", "revision": "3f1c2a9"}}}}}
layer = put(json.dumps(statement).encode(), "application/vnd.in-toto+json",
            annotations={"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"})
config = put(json.dumps({"architecture": "unknown", "os": "unknown", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": ["sha256:" + layer["digest"][7:]]}}).encode(),
             "application/vnd.oci.image.config.v1+json")
attestation = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                              "config": config, "layers": [layer]}).encode(),
                  "application/vnd.oci.image.manifest.v1+json",
                  annotations={"vnd.docker.reference.digest": image["digest"],
                               "vnd.docker.reference.type": "attestation-manifest"},
                  platform={"architecture": "unknown", "os": "unknown"})
for name, manifests in (("bk", [image, attestation]), ("plain", [image])):
    idx = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                          "manifests": manifests}).encode(), "application/vnd.oci.image.index.v1+json")
    idx["annotations"] = {"org.opencontainers.image.ref.name": name}
    index["manifests"].append(idx)
json.dump(index, open(os.path.join(layout, "index.json"), "w"))
open("image-digest", "w").write(image["digest"])
open("attestation-digest", "w").write(attestation["digest"])
PY
for name in bk plain; do
  skopeo copy -q --all --preserve-digests --dest-tls-verify=false "oci:L:$name" "docker://$REG/bk/$name:v1" ||
    fail "skopeo push $name"
done
image_digest=$(cat image-digest) att_digest=$(cat attestation-digest)
index_digest=$("$V" inspect -o json "$REG/bk/bk:v1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["digest"])')
plain_digest=$("$V" inspect -o json "$REG/bk/plain:v1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["digest"])')
IMG=$REG/bk/bk@$index_digest

# inspect and tree show the attestation manifest, and say it is unsigned.
out=$("$V" inspect "$IMG" 2>&1) || fail "inspect: $out"
[[ $out == *"unknown/unknown"*"$att_digest  (BuildKit attestations of $image_digest, unsigned)"* ]] || fail "inspect table: $out"
"$V" inspect -o json "$IMG" | python3 -c '
import json, sys
p = json.load(sys.stdin)["platforms"]
att = [e for e in p if e.get("attestationFor")]
assert len(att) == 1 and att[0]["attestationFor"] == sys.argv[1] and att[0]["platform"] == "unknown/unknown", p
' "$image_digest" || fail "inspect json"
out=$("$V" tree "$IMG" 2>&1) || fail "tree: $out"
[[ $out == *"BuildKit attestations (unsigned, in the index) for the linux/amd64 image: $REG/bk/bk@$image_digest"* &&
   $out == *"https://slsa.dev/provenance/v0.2"* ]] || fail "tree: $out"
"$V" tree -o json "$IMG" | python3 -c '
import json, sys
a = [x for x in json.load(sys.stdin)["attachments"] if x["kind"] == "buildkit-attestation"]
assert len(a) == 1 and a[0]["signed"] is False and a[0]["subject"] == sys.argv[1] and a[0]["platform"] == "linux/amd64", a
assert a[0]["layers"][0]["annotations"]["in-toto.io/predicate-type"] == "https://slsa.dev/provenance/v0.2", a
' "$image_digest" || fail "tree json"

# --buildkit passes on what the provenance claims, and says it is unsigned.
out=$("$V" verify-provenance --buildkit "$IMG" --source-uri github.com/acme/app 2>&1); rc=$?
[[ $rc -eq 0 && $out == *"WARNING: BuildKit provenance is unsigned"* &&
   $out == *"linux/amd64 image $image_digest: builder \"https://github.com/acme/app/actions/runs/42/attempts/1\", source https://github.com/acme/app.git at commit 3f1c2a9"* &&
   $out == *"PASSED: the unsigned BuildKit provenance"* ]] || fail "buildkit pass: $rc $out"
out=$("$V" verify-provenance --buildkit "$IMG" --source-uri https://github.com/acme/app.git --platform linux/amd64 \
      --builder-id https://github.com/acme/app/actions/runs/42/attempts/1 --print-provenance 2>/dev/null) ||
  fail "buildkit pass with builder and platform"
[[ $out == *'"buildType": "https://mobyproject.org/buildkit@v1"'* ]] || fail "--print-provenance: $out"

# Checks that fail name themselves; exit 1.
expect 1 "(unsigned BuildKit provenance): source: linux/amd64 image $image_digest: the provenance's source 'https://github.com/acme/app.git' is not 'github.com/evil/app'" -- \
  "$V" verify-provenance --buildkit "$IMG" --source-uri github.com/evil/app
expect 1 "): builder: linux/amd64 image" -- "$V" verify-provenance --buildkit "$IMG" --source-uri github.com/acme/app --builder-id https://ci.example/x
expect 1 "for platform linux/arm64" -- "$V" verify-provenance --buildkit "$IMG" --source-uri github.com/acme/app --platform linux/arm64
expect 1 "provenance: linux/amd64 image $image_digest: no BuildKit attestation manifest" -- \
  "$V" verify-provenance --buildkit "$REG/bk/plain@$plain_digest" --source-uri github.com/acme/app
# Without --buildkit, unsigned provenance is not looked at: no signed attestation, no pass.
expect 1 "attestation: " -- "$V" verify-provenance "$IMG" --source-uri github.com/acme/app --trusted-root \
  "${VOUCH_TESTDATA:-$root/../shared/testdata}/slsa/trusted_root.public-good.json"

# Bad input: exit 2, one line.
expect 2 "--buildkit does not take --source-tag" -- "$V" verify-provenance --buildkit "$IMG" --source-uri github.com/acme/app --source-tag v1
expect 2 "--buildkit does not take --trusted-root" -- "$V" verify-provenance --buildkit "$IMG" --source-uri github.com/acme/app --trusted-root x.json
expect 2 "name the index's digest" -- "$V" verify-provenance --buildkit "$REG/bk/bk@$image_digest" --source-uri github.com/acme/app
expect 2 "name it by digest" -- "$V" verify-provenance --buildkit "$REG/bk/bk:v1" --source-uri github.com/acme/app
expect 2 "--platform goes with --buildkit" -- "$V" verify-provenance "$IMG" --source-uri github.com/acme/app --platform linux/amd64

[ "$fails" -eq 0 ] && echo "slsa_buildkit: ok" || { echo "slsa_buildkit: $fails failure(s)"; exit 1; }
