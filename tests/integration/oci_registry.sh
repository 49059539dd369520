#!/usr/bin/env bash
# OCI images against real peers: Debian's docker-registry (plain and htpasswd basic auth) on
# 127.0.0.1, images built with umoci from rootfs trees made here, moved with skopeo. vouch must
# read the same digests from the registry, an OCI layout and a docker-archive; its copies must
# keep every digest and carry attachments; a multi-platform index resolves per platform; hostile
# input is refused with a clear error and nothing written.
set -uo pipefail
V=${VOUCH_BIN:?set VOUCH_BIN}
root=$(cd "$(dirname "$0")/../.." && pwd)
for tool in docker-registry umoci skopeo htpasswd python3; do
  command -v $tool >/dev/null || { echo "FAIL missing $tool (scripts/install-deps.sh)"; exit 1; }
done
T=$(mktemp -d)
pids=()
# Registries start inside $(…), so their PIDs come back through files.
cleanup() {
  for f in "$T"/*/pid; do [ -f "$f" ] && pids+=("$(cat "$f")"); done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
check_eq() { [ "$2" = "$3" ] || fail "$1: expected '$3', got '$2'"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
jq_() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
export DOCKER_CONFIG=$T/docker  # never the user's credentials
cd "$T"

start_registry() {  # start_registry NAME [auth-yaml]
  local name=$1 port; port=$(free_port)
  mkdir -p "$T/$name"
  { echo "version: 0.1"; echo "log: {level: error}"
    echo "storage: {filesystem: {rootdirectory: $T/$name/data}, delete: {enabled: true}}"
    echo "http: {addr: 127.0.0.1:$port}"; [ -n "${2:-}" ] && echo "$2"; } > "$T/$name/config.yml"
  docker-registry serve "$T/$name/config.yml" > "$T/$name/log" 2>&1 &
  echo $! > "$T/$name/pid"
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && break; sleep 0.1; done
  echo "127.0.0.1:$port"
}

make_image() {  # make_image LAYOUT TAG ARCH CONTENT
  local L=$1 tag=$2 arch=$3 content=$4 B="$T/bundle-$2"
  [ -d "$L" ] || umoci init --layout "$L"
  umoci new --image "$L:$tag"
  umoci unpack --rootless --image "$L:$tag" "$B" >/dev/null
  mkdir -p "$B/rootfs/etc" "$B/rootfs/usr/bin" "$B/rootfs/opt"
  echo "$content" > "$B/rootfs/etc/release"
  head -c 300000 /dev/urandom > "$B/rootfs/usr/bin/tool"
  ln -s ../etc/release "$B/rootfs/opt/release-link"
  umoci repack --image "$L:$tag" "$B" >/dev/null
  # a second layer that deletes a file
  umoci unpack --rootless --image "$L:$tag" "$B.2" >/dev/null
  rm "$B.2/rootfs/opt/release-link"; echo extra > "$B.2/rootfs/etc/extra"
  umoci repack --image "$L:$tag" "$B.2" >/dev/null
  umoci config --image "$L:$tag" --os linux --architecture "$arch" >/dev/null
  umoci gc --layout "$L"
  rm -rf "$B" "$B.2"
}

field() { "$V" inspect -o json "${@:2}" | jq_ "d$1"; }

REG=$(start_registry plain)
make_image "$T/L" amd amd64 "release amd64"
make_image "$T/L" arm arm64 "release arm64"

# --- the same digests from the registry, an OCI layout and a docker-archive
skopeo copy -q --dest-tls-verify=false oci:"$T/L:amd" "docker://$REG/demo/app:v1" || fail "skopeo push"
skopeo copy -q oci:"$T/L:amd" "docker-archive:$T/app.tar:demo/app:v1" || fail "skopeo docker-archive"
oci_digest=$(field "['digest']" "oci:$T/L:amd")
reg_digest=$(field "['digest']" "$REG/demo/app:v1")
check_eq "registry manifest digest = layout manifest digest" "$reg_digest" "$oci_digest"
oci_cfg=$(field "['configDigest']" "oci:$T/L:amd")
check_eq "registry config digest" "$(field "['configDigest']" "$REG/demo/app:v1")" "$oci_cfg"
check_eq "docker-archive config digest (image ID)" "$(field "['configDigest']" "docker-archive:$T/app.tar")" "$oci_cfg"
check_eq "docker-archive by name" "$(field "['configDigest']" "docker-archive:$T/app.tar:demo/app:v1")" "$oci_cfg"
# docker-archive layers are the uncompressed diff IDs
arch_layers=$(field "['manifest']['layers'][1]['digest']" "docker-archive:$T/app.tar")
diff_id=$(field "['config']['rootfs']['diff_ids'][1]" "oci:$T/L:amd")
check_eq "docker-archive layer = diff ID" "$arch_layers" "$diff_id"
check_eq "by digest" "$(field "['digest']" "$REG/demo/app@$oci_digest")" "$oci_digest"
skopeo_digest=$(skopeo inspect --tls-verify=false "docker://$REG/demo/app:v1" | jq_ "d['Digest']")
check_eq "skopeo sees the same digest" "$skopeo_digest" "$oci_digest"

# --- the squashed file view agrees with umoci unpack of the same image (whiteouts, symlinks)
umoci unpack --rootless --image "$T/L:amd" "$T/unpacked" >/dev/null 2>&1 || fail "umoci unpack"
"$V" inspect --files -o json "$REG/demo/app:v1" > "$T/files.json" || fail "inspect --files"
python3 - "$T/unpacked/rootfs" "$T/files.json" <<'PY' || fail "squashed view differs from umoci unpack"
import hashlib, json, os, sys
root, files = sys.argv[1], json.load(open(sys.argv[2]))["files"]
want = {}
for dirpath, dirs, names in os.walk(root):
    for n in names + [d for d in dirs if os.path.islink(os.path.join(dirpath, d))]:
        p = os.path.join(dirpath, n); rel = "/" + os.path.relpath(p, root)
        if os.path.islink(p): want[rel] = ("symlink", os.readlink(p))
        elif os.path.isfile(p): want[rel] = ("file", "sha256:" + hashlib.sha256(open(p, "rb").read()).hexdigest())
got = {}
for f in files:
    if f["type"] in ("file", "hardlink"): got[f["path"]] = ("file", f["digest"])
    elif f["type"] == "symlink": got[f["path"]] = ("symlink", f["linkTarget"])
if got != want:
    for k in sorted(set(got) | set(want)):
        if got.get(k) != want.get(k): print("  ", k, "vouch:", got.get(k), "umoci:", want.get(k))
    sys.exit(1)
assert "/opt/release-link" not in got and "/etc/extra" in got, "whiteout not applied"
PY

# --- copy round trips keep every digest
"$V" copy "oci:$T/L:amd" "$REG/demo/rt:a" 2>/dev/null || fail "copy oci -> registry"
check_eq "oci -> registry" "$(field "['digest']" "$REG/demo/rt:a")" "$oci_digest"
"$V" copy "$REG/demo/rt:a" "oci:$T/L2:b" 2>/dev/null || fail "copy registry -> oci"
check_eq "registry -> oci" "$(field "['digest']" "oci:$T/L2:b")" "$oci_digest"
"$V" copy "oci:$T/L2:b" "dir:$T/D" 2>/dev/null || fail "copy oci -> dir"
check_eq "oci -> dir" "$(field "['digest']" "dir:$T/D")" "$oci_digest"
"$V" copy --chunk-size 65536 "dir:$T/D" "$REG/demo/rt:chunked" 2>/dev/null || fail "copy dir -> registry (chunked)"
check_eq "dir -> registry (chunked upload)" "$(field "['digest']" "$REG/demo/rt:chunked")" "$oci_digest"
skopeo copy -q --src-tls-verify=false "docker://$REG/demo/rt:chunked" "oci:$T/L3:x" || fail "skopeo pull of vouch's push"
check_eq "skopeo reads vouch's push" "$(field "['digest']" "oci:$T/L3:x")" "$oci_digest"
"$V" copy "docker-archive:$T/app.tar" "$REG/demo/fromarchive:1" 2>/dev/null || fail "copy docker-archive -> registry"
arch_digest=$(field "['digest']" "docker-archive:$T/app.tar")
check_eq "docker-archive -> registry" "$(field "['digest']" "$REG/demo/fromarchive:1")" "$arch_digest"
"$V" copy "oci:$T/L:amd" "docker-archive:$T/out.tar:demo/out:v3" 2>/dev/null || fail "copy oci -> docker-archive"
check_eq "oci -> docker-archive keeps the image ID" "$(field "['configDigest']" "docker-archive:$T/out.tar:demo/out:v3")" "$oci_cfg"
check_eq "skopeo reads vouch's docker-archive" "$(skopeo inspect "docker-archive:$T/out.tar" | jq_ "d['Layers'][1]")" "$diff_id"

# --- a blob already in the destination is reused only if it is a regular file with its digest
cp -r "$T/L2" "$T/L2reuse"
lh2=$(field "['manifest']['layers'][0]['digest']" "oci:$T/L2:b"); lh2=${lh2#sha256:}; ch2=${oci_cfg#sha256:}
printf 'X' | dd of="$T/L2reuse/blobs/sha256/$lh2" bs=1 seek=10 conv=notrunc 2>/dev/null
mv "$T/L2reuse/blobs/sha256/$ch2" "$T/planted-config"; ln -s "$T/planted-config" "$T/L2reuse/blobs/sha256/$ch2"
"$V" copy "$REG/demo/rt:a" "oci:$T/L2reuse:b" 2>"$T/err" || fail "copy over a corrupt and a planted blob: $(cat "$T/err")"
grep -q "2 blobs copied, 1 already present" "$T/err" || fail "corrupt/planted blobs were reused: $(cat "$T/err")"
[ -L "$T/L2reuse/blobs/sha256/$ch2" ] && fail "the planted symlink survived the copy"
"$V" inspect --files "oci:$T/L2reuse:b" >/dev/null 2>"$T/err" || fail "the copy does not verify: $(cat "$T/err")"

# --- multi-platform index
amd_m=$(field "['digest']" "oci:$T/L:amd"); arm_m=$(field "['digest']" "oci:$T/L:arm")
python3 "$root/tests/lib/multi_platform_index.py" "$T/L" "$amd_m" "$arm_m"
check_eq "index -> linux/arm64" "$(field "['manifestDigest']" --platform linux/arm64 "oci:$T/L:multi")" "$arm_m"
check_eq "index -> linux/amd64" "$(field "['manifestDigest']" --platform linux/amd64 "oci:$T/L:multi")" "$amd_m"
check_eq "index -> host (amd64)" "$(field "['manifestDigest']" "oci:$T/L:multi")" "$amd_m"
"$V" inspect --platform linux/s390x "oci:$T/L:multi" >/dev/null 2>"$T/err"; rc=$?
check_eq "missing platform exit code" "$rc" 2
grep -q "available: linux/amd64, linux/arm64/v8" "$T/err" || fail "missing platform message: $(cat "$T/err")"
index_digest=$(field "['digest']" "oci:$T/L:multi")
"$V" copy "oci:$T/L:multi" "$REG/demo/multi:1" 2>/dev/null || fail "copy index -> registry"
check_eq "index digest in the registry" "$(field "['digest']" "$REG/demo/multi:1")" "$index_digest"
check_eq "registry index -> arm64" "$(field "['manifestDigest']" --platform linux/arm64 "$REG/demo/multi:1")" "$arm_m"
skopeo_arm=$(skopeo inspect --raw --tls-verify=false --override-arch arm64 "docker://$REG/demo/multi:1" | sha256sum | cut -c1-64)
check_eq "skopeo agrees on the index bytes" "sha256:$skopeo_arm" "$index_digest"
"$V" copy --platform linux/arm64 "$REG/demo/multi:1" "oci:$T/L4:arm" 2>/dev/null || fail "copy one platform"
check_eq "one platform copied" "$(field "['digest']" "oci:$T/L4:arm")" "$arm_m"

# --- attachments: a cosign-style signature tag and an OCI 1.1 referrer, carried by copy
python3 - "$T/L" "$amd_m" <<'PY'
import json, hashlib, os, sys
L, subject = sys.argv[1:]
def put(b):
    h = hashlib.sha256(b).hexdigest(); open(f"{L}/blobs/sha256/{h}", "wb").write(b); return "sha256:" + h, len(b)
payload = json.dumps({"critical": {"identity": {"docker-reference": "demo/app"}, "image": {"docker-manifest-digest": subject},
                                   "type": "cosign container image signature"}, "optional": None}).encode()
pd, ps = put(payload); cd, cs = put(b"{}")
sig = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
       "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
       "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "digest": pd, "size": ps,
                   "annotations": {"dev.cosignproject.cosign/signature": "MEUCIQ=="}}]}
sd, ss = put(json.dumps(sig).encode())
sbom, sbs = put(b'{"spdxVersion":"SPDX-2.3"}')
ref = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "artifactType": "application/spdx+json",
       "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": cd, "size": cs},
       "layers": [{"mediaType": "application/spdx+json", "digest": sbom, "size": sbs}],
       "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": subject, "size": os.path.getsize(f"{L}/blobs/sha256/{subject[7:]}")}}
rd, rs = put(json.dumps(ref).encode())
top = json.load(open(f"{L}/index.json"))
top["manifests"].append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sd, "size": ss,
                         "annotations": {"org.opencontainers.image.ref.name": "sha256-" + subject[7:] + ".sig"}})
top["manifests"].append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": rd, "size": rs, "artifactType": "application/spdx+json"})
json.dump(top, open(f"{L}/index.json", "w"))

PY
hex=${amd_m#sha256:}
"$V" tree "oci:$T/L:amd" > "$T/tree" 2>&1 || fail "tree on layout"
grep -q "Signatures for an image tag: oci:$T/L:sha256-$hex.sig" "$T/tree" || fail "tree: signature tag missing: $(cat "$T/tree")"
grep -q "application/spdx+json artifacts via OCI referrer" "$T/tree" || fail "tree: referrer missing: $(cat "$T/tree")"
"$V" copy -o json "oci:$T/L:amd" "$REG/demo/signed:v1" > "$T/copy.json" 2>/dev/null || fail "copy with attachments"
check_eq "attachments carried" "$(jq_ "len(d['attachments'])" < "$T/copy.json")" 2
"$V" tree -o json "$REG/demo/signed:v1" > "$T/tree.json" || fail "tree on registry"
check_eq "registry tree (referrers via the sha256-<hex> tag fallback)" \
  "$(jq_ "sorted(a['kind'] for a in d['attachments'])" < "$T/tree.json")" "['referrer', 'signature']"
curl -s -o /dev/null -w '%{http_code}' "http://$REG/v2/demo/signed/referrers/$amd_m" | grep 404 >/dev/null || fail "registry unexpectedly has a referrers API"
"$V" copy "$REG/demo/signed:v1" "oci:$T/L5:v1" 2>/dev/null || fail "copy attachments back"
check_eq "attachments survive two copies" "$("$V" tree -o json "oci:$T/L5:v1" | jq_ "sorted(a['manifest']['digest'] for a in d['attachments'])")" \
  "$(jq_ "sorted(a['manifest']['digest'] for a in d['attachments'])" < "$T/tree.json")"

# --- a registry front that redirects blob reads elsewhere, fails each path once (503) and,
#     on request, serves manifest bytes that do not match the digest asked for
PPORT=$(free_port)
cat > "$T/proxy.py" <<'PY'
import http.server, sys, urllib.request, urllib.error
port, upstream, mode, log = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
seen = set()
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a): return None
opener = urllib.request.build_opener(NoRedirect)
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def reply(self, status, headers, body, head):
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"): self.send_header(k, v)
        self.send_header("Content-Length", str(len(body))); self.end_headers()
        if not head: self.wfile.write(body)
    def handle_one(self, head):
        key = (self.command, self.path)
        if key not in seen:
            seen.add(key); open(log, "a").write(f"503 {self.command} {self.path}\n")
            return self.reply(503, [("Retry-After", "0")], b"try again", head)
        if "/referrers/sha256:" in self.path and mode == "pass":
            # An OCI 1.1 referrers API, answered from the registry's sha256-<hex> tag index.
            repo, digest = self.path[4:].split("/referrers/")
            req = urllib.request.Request(f"{upstream}/v2/{repo}/manifests/sha256-{digest[7:]}", headers={"Accept": "application/vnd.oci.image.index.v1+json"})
            try: body = opener.open(req).read()
            except urllib.error.HTTPError: body = b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}'
            open(log, "a").write(f"API {self.path}\n")
            return self.reply(200, [("Content-Type", "application/vnd.oci.image.index.v1+json")], body, head)
        if "/blobs/sha256:" in self.path and self.command == "GET":
            open(log, "a").write(f"307 {self.path}\n")
            return self.reply(307, [("Location", upstream + self.path)], b"", head)
        req = urllib.request.Request(upstream + self.path, method=self.command, headers={k: v for k, v in self.headers.items() if k.lower() in ("accept", "authorization")})
        try:
            r = opener.open(req); status, headers, body = r.status, r.getheaders(), r.read()
        except urllib.error.HTTPError as e:
            status, headers, body = e.code, e.headers.items(), e.read()
        if mode == "tamper" and "/manifests/sha256:" in self.path and status == 200 and body:
            body = body.replace(b'"schemaVersion":2', b'"schemaVersion":3', 1) if b'"schemaVersion":2' in body else body[:-1] + b" "
        self.reply(status, headers, body, head)
    def do_GET(self): self.handle_one(False)
    def do_HEAD(self): self.handle_one(True)
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
python3 "$T/proxy.py" "$PPORT" "http://$REG" pass "$T/proxy.log" &
pids+=($!)
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PPORT/x" && break; sleep 0.1; done
"$V" copy "127.0.0.1:$PPORT/demo/rt:a" "oci:$T/viaproxy:a" 2>"$T/err" || fail "copy through redirects and 503s: $(cat "$T/err")"
check_eq "digest through redirects and retries" "$(field "['digest']" "oci:$T/viaproxy:a")" "$oci_digest"
grep -q "^307 /v2/demo/rt/blobs/sha256:" "$T/proxy.log" || fail "no blob redirect was exercised"
grep -q "^503 GET /v2/demo/rt/manifests/a" "$T/proxy.log" || fail "no retry was exercised"
# the referrers API where a registry has one
"$V" tree -o json "127.0.0.1:$PPORT/demo/signed:v1" > "$T/tree-api.json" 2>"$T/err" || fail "tree through the referrers API: $(cat "$T/err")"
check_eq "referrers via the API" "$(jq_ "sorted(a['kind'] for a in d['attachments'])" < "$T/tree-api.json")" "['referrer', 'signature']"
grep -q "^API /v2/demo/signed/referrers/$amd_m" "$T/proxy.log" || fail "the referrers API was not asked"
# --- deadlines: a registry front that trickles layers at 2 bytes/s, or declares more bytes
#     than a layer's descriptor says (and then trickles); both end in seconds with one line
cat > "$T/slow.py" <<'PY'
import http.server, sys, time, urllib.request, urllib.error
port, upstream, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        req = urllib.request.Request(upstream + self.path, headers={"Accept": self.headers.get("Accept", "*/*")})
        try:
            r = urllib.request.urlopen(req); status, headers, body = r.status, r.getheaders(), r.read()
        except urllib.error.HTTPError as e:
            status, headers, body = e.code, e.headers.items(), e.read()
        layer = "/blobs/sha256:" in self.path and len(body) > 10000
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"): self.send_header(k, v)
        self.send_header("Content-Length", str(len(body) + (1000 if layer and mode == "lying" else 0))); self.end_headers()
        if not layer: self.wfile.write(body); return
        try:
            for b in body:
                self.wfile.write(bytes([b])); self.wfile.flush(); time.sleep(0.5)
        except OSError: pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
for mode in trickle lying; do
  SPORT=$(free_port)
  python3 "$T/slow.py" "$SPORT" "http://$REG" $mode &
  pids+=($!)
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$SPORT/v2/" && break; sleep 0.1; done
  for cmd in "inspect --files" copy; do
    dst=; [ "$cmd" = copy ] && dst="oci:$T/slow-$mode"
    start=$(date +%s)
    timeout 60 "$V" $cmd -t 3s "127.0.0.1:$SPORT/demo/app:v1" $dst >/dev/null 2>"$T/err"; rc=$?
    took=$(( $(date +%s) - start ))
    check_eq "$mode: $cmd exit code" "$rc" 2
    [ "$took" -le 8 ] || fail "$mode: $cmd took ${took}s with -t 3s"
    check_eq "$mode: $cmd says it in one line" "$(wc -l < "$T/err")" 1
    if [ $mode = trickle ]; then grep -q "not finished within the 3s timeout" "$T/err" || fail "$mode: $cmd message: $(cat "$T/err")"
    else grep -q "the registry declares .* bytes, more than the .* bytes its descriptor says" "$T/err" || fail "$mode: $cmd message: $(cat "$T/err")"; fi
  done
done

# TLS unless localhost or --allow-insecure-registry ("127.1" is 127.0.0.1 under another name)
"$V" inspect "127.1:${REG#*:}/demo/app:v1" >/dev/null 2>"$T/err"; rc=$?
check_eq "plain HTTP refused for a non-localhost name" "$rc" 2
grep -q "allow-insecure-registry" "$T/err" || fail "insecure registry message: $(cat "$T/err")"
check_eq "--allow-insecure-registry" "$(field "['digest']" --allow-insecure-registry "127.1:${REG#*:}/demo/app:v1")" "$oci_digest"
TPPORT=$(free_port)
python3 "$T/proxy.py" "$TPPORT" "http://$REG" tamper "$T/proxy2.log" &
pids+=($!)
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$TPPORT/x" && break; sleep 0.1; done
"$V" inspect "127.0.0.1:$TPPORT/demo/rt@$oci_digest" >/dev/null 2>"$T/err"; rc=$?
check_eq "tampered manifest exit code" "$rc" 1
grep -q "does not match its digest" "$T/err" || fail "tampered manifest message: $(cat "$T/err")"
"$V" copy "127.0.0.1:$TPPORT/demo/multi:1" "oci:$T/tampered2" >/dev/null 2>"$T/err"; rc=$?
check_eq "tampered child manifest exit code" "$rc" 1
[ -e "$T/tampered2" ] && fail "a failed copy left $T/tampered2 behind"

# --- real cosign-format signatures (skopeo 1.18 signs; vouch carries them through an air gap;
#     skopeo verifies them at the new registry)
S13=$root/.cache/skopeo13
if bash "$root/../shared/peers/get-skopeo.sh" "$S13" >/dev/null 2>&1; then
  REG2=$(start_registry second)
  printf 'pw\n' > "$T/P"
  "$S13/skopeo" generate-sigstore-key --output-prefix "$T/K" --passphrase-file "$T/P" >/dev/null || fail "skopeo key"
  mkdir -p "$T/rd"; printf 'docker:\n  %s:\n    use-sigstore-attachments: true\n  %s:\n    use-sigstore-attachments: true\n' "$REG" "$REG2" > "$T/rd/local.yaml"
  "$S13/skopeo" --registries.d "$T/rd" copy -q --dest-tls-verify=false --sign-by-sigstore-private-key "$T/K.private" \
    --sign-passphrase-file "$T/P" "oci:$T/L:amd" "docker://$REG/demo/signed2:v2" || fail "skopeo sign"
  "$V" tree "$REG/demo/signed2:v2" | grep -q "Signatures for an image tag: $REG/demo/signed2:sha256-$hex.sig" || fail "tree misses skopeo's signature"
  "$V" copy "$REG/demo/signed2:v2" "oci:$T/airgap:v2" 2>/dev/null || fail "export with signature"
  "$V" copy "oci:$T/airgap:v2" "$REG2/demo/signed2:v2" 2>/dev/null || fail "import with signature"
  "$V" copy --no-attachments "oci:$T/airgap:v2" "$REG2/demo/unsigned:v2" 2>/dev/null || fail "import without signature"
  for repo in signed2 unsigned; do
    cat > "$T/policy-$repo.json" <<JSON
{"default":[{"type":"reject"}],
 "transports":{"docker":{"$REG2/demo/$repo":[{"type":"sigstoreSigned","keyPath":"$T/K.pub",
   "signedIdentity":{"type":"remapIdentity","prefix":"$REG2/demo/$repo","signedPrefix":"$REG/demo/signed2"}}]},
  "dir":{"":[{"type":"insecureAcceptAnything"}]}}}
JSON
  done
  "$S13/skopeo" --policy "$T/policy-signed2.json" --registries.d "$T/rd" copy -q --src-tls-verify=false \
    "docker://$REG2/demo/signed2:v2" "dir:$T/verified" 2>"$T/err" || fail "skopeo rejects the carried signature: $(cat "$T/err")"
  "$S13/skopeo" --policy "$T/policy-unsigned.json" --registries.d "$T/rd" copy -q --src-tls-verify=false \
    "docker://$REG2/demo/unsigned:v2" "dir:$T/unverified" >/dev/null 2>&1 && fail "skopeo accepted an image without signature"
else
  fail "cannot fetch Debian 13's skopeo (../shared/peers/get-skopeo.sh)"
fi

# --- hostile input: refused with a clear error, nothing written
python3 - "$T" <<'PY'
import io, json, os, sys, tarfile
T = sys.argv[1]
def tar(path, entries):
    with tarfile.open(path, "w") as t:
        for name, data in entries:
            ti = tarfile.TarInfo(name); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
man = json.dumps([{"Config": "c.json", "RepoTags": [], "Layers": ["l.tar"]}]).encode()
tar(f"{T}/dotdot.tar", [("manifest.json", man), ("../evil", b"x")])
tar(f"{T}/abs.tar", [("manifest.json", man), ("/etc/evil", b"x")])
t = tarfile.open(f"{T}/symlink.tar", "w")
ti = tarfile.TarInfo("manifest.json"); ti.size = len(man); t.addfile(ti, io.BytesIO(man))
ti = tarfile.TarInfo("l.tar"); ti.type = tarfile.SYMTYPE; ti.linkname = "../../etc/passwd"; t.addfile(ti); t.close()
PY
for bad in dotdot:"'..' in path refused" abs:"absolute path refused" symlink:"symlink leaves the archive"; do
  f=${bad%%:*}; msg=${bad#*:}
  "$V" copy "docker-archive:$T/$f.tar" "oci:$T/out-$f" >/dev/null 2>"$T/err"; rc=$?
  check_eq "$f.tar exit code" "$rc" 2
  grep -q "$msg" "$T/err" || fail "$f.tar: message: $(cat "$T/err")"
  [ -e "$T/out-$f/index.json" ] && [ -n "$(ls "$T/out-$f/blobs/sha256" 2>/dev/null)" ] && fail "$f.tar: blobs written"
done
# a registry serving bytes that do not match the digest
layer=$(field "['manifest']['layers'][0]['digest']" "$REG/demo/app:v1"); lh=${layer#sha256:}
data=$T/plain/data/docker/registry/v2/blobs/sha256/${lh:0:2}/$lh/data
printf 'X' | dd of="$data" bs=1 seek=100 conv=notrunc 2>/dev/null
"$V" copy "$REG/demo/app:v1" "oci:$T/tampered" >/dev/null 2>"$T/err"; rc=$?
check_eq "tampered blob exit code" "$rc" 1
grep -q "does not match its digest" "$T/err" || fail "tampered blob message: $(cat "$T/err")"
[ -e "$T/tampered/blobs/sha256/$lh" ] && fail "tampered blob was written"
ls "$T/tampered/blobs/sha256/" 2>/dev/null | grep -q tmp && fail "a partial blob was left behind"
# an oversized manifest
python3 - "$T" <<'PY'
import json, hashlib, os, sys
T = sys.argv[1]; L = f"{T}/big"; os.makedirs(f"{L}/blobs/sha256")
open(f"{L}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
b = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": {}, "annotations": {"x": "a" * (5 << 20)}}).encode()
h = hashlib.sha256(b).hexdigest(); open(f"{L}/blobs/sha256/{h}", "wb").write(b)
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + h, "size": len(b)}]}, open(f"{L}/index.json", "w"))
PY
"$V" inspect "oci:$T/big" >/dev/null 2>"$T/err"; rc=$?
check_eq "oversized manifest exit code" "$rc" 2
grep -q "exceeds the limit" "$T/err" || fail "oversized manifest message: $(cat "$T/err")"
# a layout whose manifest bytes were edited
cp -r "$T/L2" "$T/L2bad"; mh=${oci_digest#sha256:}
sed -i "s/\"schemaVersion\":2/\"schemaVersion\":3/" "$T/L2bad/blobs/sha256/$mh"
"$V" inspect "oci:$T/L2bad:b" >/dev/null 2>"$T/err"; rc=$?
check_eq "edited manifest exit code" "$rc" 1
grep -q "does not match its digest" "$T/err" || fail "edited manifest message: $(cat "$T/err")"

# --- basic auth (htpasswd)
htpasswd -Bbn alice s3cret > "$T/htpasswd"
AREG=$(start_registry auth "auth: {htpasswd: {realm: test, path: $T/htpasswd}}")
"$V" copy "oci:$T/L:amd" "$AREG/demo/app:v1" >/dev/null 2>"$T/err"; rc=$?
check_eq "no credentials exit code" "$rc" 1
grep -q "authentication required" "$T/err" || fail "no credentials message: $(cat "$T/err")"
"$V" copy --username alice --password wrong "oci:$T/L:amd" "$AREG/demo/app:v1" >/dev/null 2>&1 && fail "wrong password accepted"
mkdir -p "$DOCKER_CONFIG"
printf '{"auths":{"%s":{"auth":"%s"}}}' "$AREG" "$(printf 'alice:s3cret' | base64)" > "$DOCKER_CONFIG/config.json"
"$V" copy "oci:$T/L:amd" "$AREG/demo/app:v1" 2>/dev/null || fail "push with config.json credentials"
check_eq "basic auth registry digest" "$(field "['digest']" "$AREG/demo/app:v1")" "$oci_digest"
skopeo inspect --tls-verify=false --creds alice:s3cret "docker://$AREG/demo/app:v1" >/dev/null || fail "skopeo reads the authenticated push"

# --- bearer tokens: the registry trusts a token endpoint served here (RS256 JWTs with x5c)
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/token.key" -out "$T/token.crt" -days 1 -subj /CN=vouch-test-token \
  >/dev/null 2>&1 || fail "token certificate"
TPORT=$(free_port)
cat > "$T/token.py" <<'PY'
import base64, http.server, json, subprocess, sys, time, urllib.parse
port, key, crt, log = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
der = subprocess.run(["openssl", "x509", "-in", crt, "-outform", "DER"], capture_output=True, check=True).stdout
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        auth = self.headers.get("Authorization", "")
        open(log, "a").write(json.dumps({"scope": q.get("scope", [""])[0], "service": q.get("service", [""])[0], "auth": auth}) + "\n")
        if auth != "Basic " + base64.b64encode(b"bob:t0ken").decode():
            self.send_response(401); self.end_headers(); return
        access = []
        for s in q.get("scope", []):
            typ, name, actions = s.split(":")
            access.append({"type": typ, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {"alg": "RS256", "typ": "JWT", "x5c": [base64.b64encode(der).decode()]}
        claims = {"iss": "vouch-test-issuer", "sub": "bob", "aud": q.get("service", [""])[0], "exp": now + 300, "nbf": now - 10,
                  "iat": now, "jti": str(now), "access": access}
        signing = (b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())).encode()
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=signing, capture_output=True, check=True).stdout
        body = json.dumps({"token": signing.decode() + "." + b64(sig)}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json"); self.end_headers(); self.wfile.write(body)
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
python3 "$T/token.py" "$TPORT" "$T/token.key" "$T/token.crt" "$T/token.log" &
pids+=($!)
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$TPORT/" && break; sleep 0.1; done
BREG=$(start_registry bearer "auth: {token: {realm: \"http://127.0.0.1:$TPORT/token\", service: vouch-test, issuer: vouch-test-issuer, rootcertbundle: $T/token.crt}}")
curl -s -D - -o /dev/null "http://$BREG/v2/" | grep -i 'www-authenticate: Bearer' >/dev/null || fail "bearer registry does not challenge"
"$V" copy --username bob --password wrong "oci:$T/L:amd" "$BREG/demo/app:v1" >/dev/null 2>"$T/err"; rc=$?
check_eq "bearer: wrong credentials exit code" "$rc" 1
grep -q "token endpoint refused the credentials" "$T/err" || fail "bearer wrong credentials message: $(cat "$T/err")"
"$V" copy --username bob --password t0ken "oci:$T/L:amd" "$BREG/demo/app:v1" 2>"$T/err" || fail "bearer push: $(cat "$T/err")"
check_eq "bearer registry digest" "$(field "['digest']" --username bob --password t0ken "$BREG/demo/app:v1")" "$oci_digest"
grep -q '"scope": "repository:demo/app:pull,push", "service": "vouch-test"' "$T/token.log" || fail "bearer: push scope not asked: $(cat "$T/token.log")"
grep -q '"scope": "repository:demo/app:pull", "service": "vouch-test"' "$T/token.log" || fail "bearer: pull scope not asked"
skopeo inspect --tls-verify=false --creds bob:t0ken "docker://$BREG/demo/app:v1" >/dev/null 2>&1 || fail "skopeo reads through the same token endpoint"

# --- plain HTTP only for localhost
"$V" inspect "example.invalid/demo/app:v1" >/dev/null 2>"$T/err" && fail "resolved a name that cannot exist"

[ "$failures" -eq 0 ] || exit 1
echo "oci_registry: all checks passed"
