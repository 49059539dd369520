#!/usr/bin/env bash
# Image signatures and attestations against real peers: Debian's docker-registry on 127.0.0.1
# (no referrers API, so the sha256-<hex> referrers tag is exercised), Debian 13's skopeo
# (sigstore signing and policy verification; fetched into .cache/ by scripts/get-skopeo.sh)
# and python3-securesystemslib as an independent DSSE implementation.
#  - skopeo signs, vouch verifies; vouch signs (classic layout), skopeo's sigstoreSigned policy
#    accepts; a changed payload, the wrong key and a moved tag are rejected by both;
#  - the default bundle layout round-trips through the fallback tag;
#  - a multi-platform index: platform manifests verify only after --recursive;
#  - attestations of every predicate type round-trip in both layouts; envelopes cross-verify
#    with securesystemslib both ways;
#  - --rekor-url against `vouch log serve`: log entries checked offline in both layouts.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/assert.sh"
V=${VOUCH_BIN:?set VOUCH_BIN}
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/tests/lib/scratch.sh"
require_tools docker-registry umoci curl /usr/bin/python3
SKOPEO=$(bash "$root/scripts/get-skopeo.sh" 2>/dev/null | tail -n1)
[ -x "$SKOPEO" ] || { echo "FAIL: could not fetch Debian 13's skopeo (scripts/get-skopeo.sh)"; exit 1; }
export DOCKER_CONFIG=$T/docker HOME=$T/home
mkdir -p "$HOME"
cd "$T"
py() { /usr/bin/python3 "$@"; }
port=$(py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
REG=127.0.0.1:$port
cat > config.yml <<CFG
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $T/data}, delete: {enabled: true}}
http: {addr: $REG}
CFG
docker-registry serve config.yml > registry.log 2>&1 &
reg_pid=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://$REG/v2/" && break; sleep 0.1; done

# A tiny registry client for the tamper cases and for reading what was stored.
cat > reg.py <<'PY'
import hashlib, json, sys, urllib.request
REG = sys.argv[1]
ACCEPT = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json"
def req(method, path, data=None, headers=None):
    r = urllib.request.Request(f"http://{REG}{path}", data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(r) as resp:
            return resp.status, resp.read(), resp.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers
def manifest(repo, ref):
    st, body, _ = req("GET", f"/v2/{repo}/manifests/{ref}", headers={"Accept": ACCEPT})
    if st != 200: sys.exit(f"manifest {repo}:{ref}: HTTP {st}")
    return body
def blob(repo, digest):
    st, body, _ = req("GET", f"/v2/{repo}/blobs/{digest}")
    if st != 200: sys.exit(f"blob {digest}: HTTP {st}")
    return body
def put_blob(repo, data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    st, _, h = req("POST", f"/v2/{repo}/blobs/uploads/")
    loc = h["Location"]; loc = loc if loc.startswith("/") else "/" + loc.split("/", 3)[3]
    st, _, _ = req("PUT", loc + ("&" if "?" in loc else "?") + "digest=" + d, data=data,
                   headers={"Content-Type": "application/octet-stream"})
    if st != 201: sys.exit(f"blob upload: HTTP {st}")
    return d
def put_manifest(repo, ref, data):
    st, body, _ = req("PUT", f"/v2/{repo}/manifests/{ref}", data=data,
                      headers={"Content-Type": json.loads(data)["mediaType"]})
    if st != 201: sys.exit(f"manifest put: HTTP {st} {body!r}")
cmd, repo = sys.argv[2], sys.argv[3]
if cmd == "manifest":            # manifest REPO REF -> stdout
    sys.stdout.buffer.write(manifest(repo, sys.argv[4]))
elif cmd == "status":            # status REPO PATH -> HTTP status of GET /v2/REPO/PATH
    print(req("GET", f"/v2/{repo}/{sys.argv[4]}", headers={"Accept": ACCEPT})[0])
elif cmd == "tamper-sig":        # tamper-sig REPO TAG: change the payload, keep the signature
    m = json.loads(manifest(repo, sys.argv[4]))
    layer = m["layers"][0]
    payload = blob(repo, layer["digest"]).replace(b"cosign container image signature", b"cosign container image signaturE")
    layer["digest"] = put_blob(repo, payload); layer["size"] = len(payload)
    put_manifest(repo, sys.argv[4], json.dumps(m).encode())
elif cmd == "sig-layer":         # sig-layer REPO TAG N -> {"mediaType","annotations","payload"} of layer N
    m = json.loads(manifest(repo, sys.argv[4]))
    l = m["layers"][int(sys.argv[5])]
    print(json.dumps({"mediaType": l["mediaType"], "annotations": l.get("annotations", {}),
                      "payload": blob(repo, l["digest"]).decode()}))
elif cmd == "att-envelope":      # att-envelope REPO TAG -> the first .att layer's DSSE envelope
    m = json.loads(manifest(repo, sys.argv[4]))
    sys.stdout.buffer.write(blob(repo, m["layers"][0]["digest"]))
elif cmd == "bundle-envelope":   # bundle-envelope REPO SUBJECT_DIGEST -> the first referrer bundle's dsseEnvelope
    idx = json.loads(manifest(repo, "sha256-" + sys.argv[4].split(":")[1]))
    m = json.loads(manifest(repo, idx["manifests"][0]["digest"]))
    print(json.dumps(json.loads(blob(repo, m["layers"][0]["digest"]))["dsseEnvelope"]))
elif cmd == "push-att":          # push-att REPO SUBJECT_DIGEST ENVELOPE PREDICATE_TYPE: a classic .att manifest
    env = open(sys.argv[5], "rb").read()
    d = put_blob(repo, env)
    cfg = json.dumps({"architecture": "", "os": "", "rootfs": {"type": "layers", "diff_ids": [d]}, "config": {}}).encode()
    cd = put_blob(repo, cfg)
    m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
         "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": len(cfg)},
         "layers": [{"mediaType": "application/vnd.dsse.envelope.v1+json", "digest": d, "size": len(env),
                     "annotations": {"predicateType": sys.argv[6], "dev.cosignproject.cosign/signature": ""}}]}
    put_manifest(repo, "sha256-" + sys.argv[4].split(":")[1] + ".att", json.dumps(m).encode())
PY
reg() { py reg.py "$REG" "$@"; }

make_image() {  # make_image TAG ARCH CONTENT
  [ -d L ] || umoci init --layout L
  umoci new --image "L:$1"
  umoci unpack --rootless --image "L:$1" "b-$1" >/dev/null
  echo "$3" > "b-$1/rootfs/content"
  umoci repack --image "L:$1" "b-$1" >/dev/null
  umoci config --image "L:$1" --os linux --architecture "$2" >/dev/null
  rm -rf "b-$1"
}
make_image amd amd64 "amd64 image"
make_image arm arm64 "arm64 image"
make_image other amd64 "other bytes"
umoci gc --layout L
digest_of() { "$V" inspect -o json "$1" | py -c 'import json,sys; print(json.load(sys.stdin)["digest"])'; }
push() { "$SKOPEO" copy -q --dest-tls-verify=false "oci:L:$1" "docker://$REG/$2" >/dev/null || fail "push $1 -> $2"; }

# Keys: skopeo's (cosign's encrypted format) and vouch's.
printf 'skopeo-pass' > pass.txt
"$SKOPEO" generate-sigstore-key --output-prefix sk --passphrase-file pass.txt >/dev/null || fail "skopeo generate-sigstore-key"
export COSIGN_PASSWORD=vouch-pass
"$V" generate-key-pair --output-key-prefix vk >/dev/null 2>&1 || fail "vouch generate-key-pair"
mkdir rd
printf 'docker:\n  %s:\n    use-sigstore-attachments: true\n' "$REG" > rd/local.yaml
policy() {  # policy FILE PUBKEY
  cat > "$1" <<POL
{"default":[{"type":"reject"}],
 "transports":{"docker":{"$REG":[{"type":"sigstoreSigned","keyPath":"$T/$2","signedIdentity":{"type":"matchRepository"}}]},
               "dir":{"":[{"type":"insecureAcceptAnything"}]}}}
POL
}
policy vk-policy.json vk.pub
policy sk-policy.json sk.pub
skopeo_accepts() {  # skopeo_accepts POLICY IMAGE
  rm -rf out; "$SKOPEO" --policy "$1" --registries.d rd copy -q --src-tls-verify=false "docker://$REG/$2" dir:out >/dev/null 2>skopeo.err
}
vverify() { "$V" verify --insecure-ignore-tlog "$@"; }

# --- skopeo signs, vouch verifies
"$SKOPEO" --registries.d rd copy -q --dest-tls-verify=false --sign-by-sigstore-private-key sk.private \
  --sign-passphrase-file pass.txt oci:L:amd "docker://$REG/demo/app:v2" >/dev/null || fail "skopeo sign"
out=$(vverify --key sk.pub "$REG/demo/app:v2" 2>/dev/null) || fail "vouch verify of skopeo's signature"
py -c 'import json,sys; d=json.loads(sys.argv[1]); c=d[0]["critical"]; assert c["identity"]["docker-reference"].endswith("/demo/app:v2") and c["type"]=="cosign container image signature", d' "$out" \
  || fail "verified payload: $out"
expect 12 "no valid signatures" -- vverify --key vk.pub "$REG/demo/app:v2"
skopeo_accepts sk-policy.json demo/app:v2 || fail "skopeo's own check of its signature: $(cat skopeo.err)"
# skopeo (containers/image, Go) orders the payload's critical members as vouch writes them.
app=$(digest_of "$REG/demo/app:v2")
reg sig-layer demo/app "sha256-${app#sha256:}.sig" 0 > skopeo-layer.json || fail "read skopeo's signature layer"
py - skopeo-layer.json "$REG" "$app" <<'PY2' || fail "skopeo's signature layer has another shape than vouch's"
import json, sys
l = json.load(open(sys.argv[1])); reg, digest = sys.argv[2], sys.argv[3]
assert l["mediaType"] == "application/vnd.dev.cosign.simplesigning.v1+json", l
assert "dev.cosignproject.cosign/signature" in l["annotations"], l
want = ('{"critical":{"identity":{"docker-reference":"%s/demo/app:v2"},"image":{"docker-manifest-digest":"%s"},'
        '"type":"cosign container image signature"},"optional":' % (reg, digest))
assert l["payload"].startswith(want), l["payload"]
PY2

# --- vouch signs (classic), skopeo accepts; wrong key rejected by skopeo
push amd demo/signed:v1
"$V" sign --key vk.key --new-bundle-format=false "$REG/demo/signed:v1" 2>sign.err || fail "vouch sign classic: $(cat sign.err)"
grep -q "WARNING" sign.err || fail "signing by tag must warn"
amd=$(digest_of "$REG/demo/signed:v1")
reg sig-layer demo/signed "sha256-${amd#sha256:}.sig" 0 > vouch-layer.json || fail "read vouch's signature layer"
py - vouch-layer.json "$REG" "$amd" <<'PY2' || fail "vouch's classic signature layer is not cosign's"
import json, sys
l = json.load(open(sys.argv[1])); reg, digest = sys.argv[2], sys.argv[3]
assert l["mediaType"] == "application/vnd.dev.cosign.simplesigning.v1+json", l
assert list(l["annotations"]) == ["dev.cosignproject.cosign/signature"], l
assert l["payload"] == ('{"critical":{"identity":{"docker-reference":"%s/demo/signed"},"image":{"docker-manifest-digest":"%s"},'
                        '"type":"cosign container image signature"},"optional":null}' % (reg, digest)), l["payload"]
PY2
[ "$(reg status demo/signed manifests/sha256-${amd#sha256:}.sig)" = 200 ] || fail "no sha256-<hex>.sig tag"
skopeo_accepts vk-policy.json demo/signed:v1 || fail "skopeo rejects vouch's signature: $(cat skopeo.err)"
skopeo_accepts sk-policy.json demo/signed:v1 && fail "skopeo accepts vouch's signature under the wrong key"
expect 0 "" -- vverify --key vk.pub "$REG/demo/signed:v1"
expect 0 "" -- vverify --key vk.pub "$REG/demo/signed@$amd"
expect 12 "no valid signatures" -- vverify --key sk.pub "$REG/demo/signed:v1"
# Appending: a second signature (skopeo's) on the same image keeps vouch's.
"$SKOPEO" --registries.d rd copy -q --src-tls-verify=false --dest-tls-verify=false --sign-by-sigstore-private-key sk.private \
  --sign-passphrase-file pass.txt "docker://$REG/demo/signed:v1" "docker://$REG/demo/signed:v1" >/dev/null 2>&1 || fail "skopeo re-sign"
expect 0 "" -- vverify --key vk.pub "$REG/demo/signed:v1"
"$V" sign --key vk.key --new-bundle-format=false -a team=blue "$REG/demo/signed@$amd" 2>/dev/null || fail "append with -a"
n=$(reg manifest demo/signed "sha256-${amd#sha256:}.sig" | py -c 'import json,sys; print(len(json.load(sys.stdin)["layers"]))')
[ "$n" -ge 2 ] || fail "signatures not appended: $n layers"
expect 0 "" -- vverify --key vk.pub -a team=blue "$REG/demo/signed:v1"
expect 12 "annotation 'team'" -- vverify --key vk.pub -a team=red "$REG/demo/signed:v1"

# skopeo's private key loads unchanged in vouch (cosign's encrypted format); skopeo checks the result.
push amd demo/skkey:v1
COSIGN_PASSWORD=skopeo-pass "$V" sign --key sk.private --new-bundle-format=false "$REG/demo/skkey@$amd" 2>/dev/null \
  || fail "vouch sign with skopeo's key"
skopeo_accepts sk-policy.json demo/skkey:v1 || fail "skopeo rejects vouch's signature made with skopeo's key: $(cat skopeo.err)"
expect 0 "" -- vverify --key sk.pub "$REG/demo/skkey:v1"

# --- tag moved to other bytes: rejected by both
push other demo/signed:v1
expect 10 "no signatures found" -- vverify --key vk.pub "$REG/demo/signed:v1"
skopeo_accepts vk-policy.json demo/signed:v1 && fail "skopeo accepts a moved tag"

# --- changed payload: rejected by both
push amd demo/tamper:v1
"$V" sign --key vk.key --new-bundle-format=false "$REG/demo/tamper:v1" 2>/dev/null || fail "sign demo/tamper"
reg tamper-sig demo/tamper "sha256-${amd#sha256:}.sig" || fail "tamper"
expect 12 "signature" -- vverify --key vk.pub "$REG/demo/tamper:v1"
skopeo_accepts vk-policy.json demo/tamper:v1 && fail "skopeo accepts a changed payload"

# --- default layout: a bundle referrer through the fallback tag (the registry has no referrers API)
push amd demo/bundle:v1
[ "$(reg status demo/bundle "referrers/$amd")" = 404 ] || fail "expected a registry without the referrers API"
"$V" sign --key vk.key -a env=prod "$REG/demo/bundle:v1" 2>/dev/null || fail "vouch sign (bundle)"
reg manifest demo/bundle "sha256-${amd#sha256:}" | py -c 'import json,sys; d=json.load(sys.stdin); assert d["mediaType"].endswith("index.v1+json") and len(d["manifests"])==1, d' \
  || fail "no fallback tag index"
[ "$(reg status demo/bundle "manifests/sha256-${amd#sha256:}.sig")" = 404 ] || fail "bundle layout wrote a .sig tag"
out=$(vverify --key vk.pub "$REG/demo/bundle:v1" 2>/dev/null) || fail "verify bundle layout"
py -c 'import json,sys; d=json.loads(sys.argv[1]); c=d[0]["critical"]; assert c["type"]=="https://sigstore.dev/cosign/sign/v1" and d[0]["optional"]["env"]=="prod", d' "$out" \
  || fail "bundle payload: $out"
expect 12 "referrer" -- vverify --key sk.pub "$REG/demo/bundle:v1"
"$V" sign --key vk.key "$REG/demo/bundle@$amd" 2>/dev/null || fail "second bundle signature"
reg manifest demo/bundle "sha256-${amd#sha256:}" | py -c 'import json,sys; assert len(json.load(sys.stdin)["manifests"])==2' \
  || fail "fallback index not read-modify-written"
json=$(vverify -o json --key vk.pub "$REG/demo/bundle:v1" 2>/dev/null)
py -c 'import json,sys; assert len(json.loads(sys.argv[1]))==2' "$json" || fail "two bundle signatures: $json"
push other demo/bundle:v1
expect 10 "no signatures found" -- vverify --key vk.pub "$REG/demo/bundle:v1"

# --- multi-platform index: platform manifests verify only after --recursive
arm=$(digest_of oci:L:arm)
py "$root/tests/lib/multi_platform_index.py" L "$amd" "$arm"
for layout in true false; do
  repo=demo/multi-$layout
  "$V" copy oci:L:multi "$REG/$repo:v1" >/dev/null 2>&1 || fail "push index"
  "$V" sign --key vk.key --new-bundle-format=$layout "$REG/$repo:v1" 2>/dev/null || fail "sign index ($layout)"
  expect 0 "" -- vverify --key vk.pub "$REG/$repo:v1"
  expect 10 "no signatures found" -- vverify --key vk.pub "$REG/$repo@$arm"
  "$V" sign --key vk.key --recursive --new-bundle-format=$layout "$REG/$repo:v1" 2>/dev/null || fail "sign --recursive ($layout)"
  expect 0 "" -- vverify --key vk.pub "$REG/$repo@$arm"
  expect 0 "" -- vverify --key vk.pub "$REG/$repo@$amd"
done

# --- attestations of every predicate type, both layouts
echo '{"name":"predicate","components":[{"name":"a"}]}' > pred.json
echo 'free text for the custom type' > custom.txt
for layout in true false; do
  repo=demo/att-$layout
  push amd "$repo:v1"
  for t in custom slsaprovenance slsaprovenance02 slsaprovenance1 spdx spdxjson cyclonedx link vuln openvex https://example.com/pred/v1; do
    p=pred.json; [ "$t" = custom ] && p=custom.txt
    "$V" attest --key vk.key --type "$t" --predicate "$p" --new-bundle-format=$layout "$REG/$repo@$amd" 2>att.err \
      || fail "attest $t ($layout): $(cat att.err)"
    out=$("$V" verify-attestation --insecure-ignore-tlog --key vk.pub --type "$t" "$REG/$repo:v1" 2>ver.err) \
      || fail "verify-attestation $t ($layout): $(cat ver.err)"
  done
  expect 1 "no valid attestations" -- "$V" verify-attestation --insecure-ignore-tlog --key sk.pub --type openvex "$REG/$repo:v1"
  # vouch's image attestation envelope verifies with securesystemslib
  if [ $layout = false ]; then reg att-envelope "$repo" "sha256-${amd#sha256:}.att" > env.json
  else reg bundle-envelope "$repo" "$amd" > env.json; fi
  "$V" public-key --key vk.key --outfile vk-pub.pem 2>/dev/null || cp vk.pub vk-pub.pem
  py "$root/tests/unit/intoto/dsse_interop.py" verify env.json vk-pub.pem 2>/dev/null || fail "securesystemslib rejects vouch's envelope ($layout)"
  py "$root/tests/unit/intoto/dsse_interop.py" verify env.json sk.pub 2>/dev/null && fail "securesystemslib accepts the wrong key ($layout)"
done
# an attestation custom predicate is {"Data": …, "Timestamp": …}
out=$("$V" verify-attestation --insecure-ignore-tlog --key vk.pub --type custom "$REG/demo/att-false:v1" 2>/dev/null)
py -c 'import base64,json,sys; e=json.loads(sys.argv[1].splitlines()[0]); assert e["payloadType"]=="application/vnd.in-toto+json"; p=json.loads(base64.b64decode(e["payload"]))["predicate"]; assert p["Data"].startswith("free text") and "Timestamp" in p, p' "$out" \
  || fail "custom predicate: $out"

# --- an envelope signed by securesystemslib verifies with vouch
push other demo/py:v1
other=$(digest_of "$REG/demo/py:v1")
printf '{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"%s/demo/py","digest":{"sha256":"%s"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{"buildDefinition":{"buildType":"x"}}}' \
  "$REG" "${other#sha256:}" > stmt.json
py "$root/tests/unit/intoto/dsse_interop.py" sign application/vnd.in-toto+json stmt.json py-env.json py.pem || fail "securesystemslib sign"
reg push-att demo/py "$other" py-env.json https://slsa.dev/provenance/v1 || fail "push python attestation"
expect 0 "" -- "$V" verify-attestation --insecure-ignore-tlog --key py.pem --type slsaprovenance1 "$REG/demo/py:v1"
expect 1 "no valid attestations" -- "$V" verify-attestation --insecure-ignore-tlog --key vk.pub --type slsaprovenance1 "$REG/demo/py:v1"

# --- --rekor-url: entries in vouch's own Rekor-compatible log, checked offline against a
# trusted root naming that log (the legacy bundle annotation in the classic layout, tlogEntries
# in the bundle); without the log entry, verification fails unless --insecure-ignore-tlog.
lport=$(py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
lurl=http://127.0.0.1:$lport
"$V" log serve --listen "127.0.0.1:$lport" --storage "sqlite:$T/log.db" --hostname "127.0.0.1:$lport" 2>log-server.err &
log_pid=$!
for _ in $(seq 50); do curl -sf "$lurl/readyz" >/dev/null && break; sleep 0.1; done
curl -sf "$lurl/api/v1/log/publicKey" > log.pub || fail "log server did not start: $(cat log-server.err)"
py - "$lurl" log.pub > trusted_root.json <<'PY2'
import base64, hashlib, json, sys
pem = open(sys.argv[2]).read()
der = base64.b64decode("".join(l for l in pem.splitlines() if not l.startswith("-----")))
print(json.dumps({"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
  "tlogs": [{"baseUrl": sys.argv[1], "hashAlgorithm": "SHA2_256",
             "publicKey": {"rawBytes": base64.b64encode(der).decode(), "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                           "validFor": {"start": "2020-01-01T00:00:00Z"}},
             "logId": {"keyId": base64.b64encode(hashlib.sha256(der).digest()).decode()}}],
  "certificateAuthorities": [], "ctlogs": [], "timestampAuthorities": []}))
PY2
for layout in true false; do
  repo=demo/tlog-$layout
  push amd "$repo:v1"
  "$V" sign --key vk.key --new-bundle-format=$layout --rekor-url "$lurl" "$REG/$repo@$amd" 2>sign.err || fail "sign --rekor-url ($layout): $(cat sign.err)"
  grep -q "tlog entry created with index" sign.err || fail "no log index reported ($layout)"
  expect 0 "" -- "$V" verify --key vk.pub --trusted-root trusted_root.json "$REG/$repo:v1"
  if [ $layout = false ]; then  # cosign prints the checked Rekor bundle in "optional"
    "$V" verify --key vk.pub --trusted-root trusted_root.json "$REG/$repo:v1" 2>/dev/null \
      | py -c 'import json,sys; d=json.load(sys.stdin); assert d[0]["optional"]["Bundle"]["Payload"]["logIndex"] >= 0, d' \
      || fail "no Rekor bundle in the classic verify output"
  fi
  "$V" attest --key vk.key --type vuln --predicate pred.json --new-bundle-format=$layout --rekor-url "$lurl" "$REG/$repo@$amd" 2>/dev/null \
    || fail "attest --rekor-url ($layout)"
  expect 0 "" -- "$V" verify-attestation --key vk.pub --trusted-root trusted_root.json --type vuln "$REG/$repo:v1"
  # a signature that was never logged is refused when the log is checked
  push amd "demo/nolog-$layout:v1"
  "$V" sign --key vk.key --new-bundle-format=$layout "$REG/demo/nolog-$layout@$amd" 2>/dev/null || fail "sign without log"
  expect 12 "transparency log" -- "$V" verify --key vk.pub --trusted-root trusted_root.json "$REG/demo/nolog-$layout:v1"
done
kill "$log_pid" 2>/dev/null; wait "$log_pid" 2>/dev/null

# --- COSIGN_REPOSITORY: signatures kept in another repository, both layouts
push amd demo/elsewhere:v1
for layout in true false; do
  COSIGN_REPOSITORY=$REG/demo/sigs-$layout "$V" sign --key vk.key --new-bundle-format=$layout "$REG/demo/elsewhere@$amd" 2>/dev/null \
    || fail "sign with COSIGN_REPOSITORY ($layout)"
  COSIGN_REPOSITORY=$REG/demo/sigs-$layout expect 0 "" -- vverify --key vk.pub "$REG/demo/elsewhere:v1"
done
expect 10 "no signatures found" -- vverify --key vk.pub "$REG/demo/elsewhere:v1"
COSIGN_REPOSITORY=$REG/demo/sigs-true:tag expect 2 "COSIGN_REPOSITORY" -- vverify --key vk.pub "$REG/demo/elsewhere:v1"

# --- an OCI layout holds signatures too (tags and referrers in index.json)
cp -r L L2
"$V" sign --key vk.key oci:L2:amd 2>/dev/null || fail "sign an OCI layout (bundle)"
"$V" sign --key vk.key --new-bundle-format=false oci:L2:amd 2>/dev/null || fail "sign an OCI layout (classic)"
n=$("$V" verify --insecure-ignore-tlog --key vk.pub oci:L2:amd 2>/dev/null | py -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" = 2 ] || fail "OCI layout: want 2 verified signatures, got $n"
expect 12 "oci:" -- "$V" verify --insecure-ignore-tlog --key sk.pub oci:L2:amd

# --- usage errors
expect 2 "--key" -- "$V" verify "$REG/demo/py:v1"
expect 2 "trusted root" -- "$V" verify --key vk.pub "$REG/demo/py:v1"
expect 2 "not expected" -- "$V" verify --insecure-ignore-tlog --key vk.pub -a a=1 b=2 "$REG/demo/py:v1"
expect 2 "key=value" -- "$V" verify --insecure-ignore-tlog --key vk.pub -a novalue "$REG/demo/py:v1"
expect 2 "predicate" -- "$V" attest --key vk.key --type nosuchtype --predicate pred.json "$REG/demo/py:v1"

[ "$fails" -eq 0 ]
