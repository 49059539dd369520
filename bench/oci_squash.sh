#!/usr/bin/env bash
# Reading and squashing an image of a few hundred MB from a local registry:
#   vouch inspect --files (pull every layer, check digests, apply layers, hash every file)
#   vs skopeo copy (registry -> OCI layout) + umoci unpack (the same image onto disk)
#   vs gzip -dc of the layers alone (the decompression floor).
# Usage: bench/oci_squash.sh VOUCH_BIN CACHE_DIR
set -euo pipefail
V=$1; cache=$2
img=$cache/bench-oci-image
T=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT

if [ ! -f "$img/done" ]; then
  # About 300 MB of real files (libraries, text, binaries) in three layers.
  rm -rf "$img"; mkdir -p "$img"
  umoci init --layout "$img/L" >/dev/null; umoci new --image "$img/L:bench" >/dev/null
  B=$T/bundle
  for part in /usr/lib/x86_64-linux-gnu /usr/share/doc:/usr/share/locale /usr/bin:/usr/lib/python3; do
    umoci unpack --rootless --image "$img/L:bench" "$B" >/dev/null
    python3 - "$B/rootfs" "$part" <<'PY'
import os, shutil, sys
root, dirs = sys.argv[1], sys.argv[2].split(":")
budget = 110 << 20
for d in dirs:
    for dirpath, _, names in os.walk(d):
        for n in sorted(names):
            src = os.path.join(dirpath, n)
            if os.path.islink(src) or not os.path.isfile(src): continue
            size = os.path.getsize(src)
            if size > budget or size > 20 << 20: continue
            dst = os.path.join(root, src.lstrip("/"))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            try: shutil.copy2(src, dst)
            except OSError: continue
            budget -= size
            if budget < 1 << 20: sys.exit(0)
PY
    umoci repack --image "$img/L:bench" "$B" >/dev/null; rm -rf "$B"
  done
  umoci config --image "$img/L:bench" --os linux --architecture amd64 >/dev/null; umoci gc --layout "$img/L"
  touch "$img/done"
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: 127.0.0.1:%s}\n' "$T/reg" "$port" > "$T/config.yml"
docker-registry serve "$T/config.yml" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && break; sleep 0.1; done
REF=127.0.0.1:$port/bench/image:v1
skopeo copy -q --dest-tls-verify=false "oci:$img/L:bench" "docker://$REF"

layers=$("$V" inspect -o json "oci:$img/L:bench" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(" ".join(l["digest"][7:] for l in d["manifest"]["layers"]))')
compressed=0; for l in $layers; do compressed=$((compressed + $(stat -c %s "$img/L/blobs/sha256/$l"))); done
uncompressed=$(for l in $layers; do gzip -dc "$img/L/blobs/sha256/$l"; done | wc -c)

now() { date +%s.%N; }
best() {  # best of 3 runs of "$@", seconds
  local b=""; for _ in 1 2 3; do local s; s=$(now); "$@" >/dev/null 2>&1; local e; e=$(now)
    b=$(python3 -c "b='$b'; t=$e-$s; print(t if not b or t < float(b) else b)"); done; echo "$b"; }
peer() { rm -rf "$T/pulled" "$T/unpacked"
  skopeo copy -q --src-tls-verify=false "docker://$REF" "oci:$T/pulled:x" && umoci unpack --rootless --image "$T/pulled:x" "$T/unpacked"; }
gz() { for l in $layers; do gzip -dc "$img/L/blobs/sha256/$l"; done > /dev/null; }
vouch_files() { "$V" inspect --files -o json "$REF" > "$T/files.json"; }

t_vouch=$(best vouch_files)
files=$(python3 -c "import json; print(len(json.load(open('$T/files.json'))['files']))")
t_peer=$(best peer)
t_gz=$(best gz)
python3 - "$compressed" "$uncompressed" "$files" "$t_vouch" "$t_peer" "$t_gz" <<'PY'
import sys
c, u, files = (int(x) for x in sys.argv[1:4]); tv, tp, tg = (float(x) for x in sys.argv[4:])
print(f"image: {c/1e6:.0f} MB compressed, {u/1e6:.0f} MB of tar, {files} entries in the squashed view")
print(f"{'vouch inspect --files (pull, verify, squash, hash)':<52} {tv:7.2f} s  {u/1e6/tv:7.0f} MB/s")
print(f"{'skopeo copy + umoci unpack':<52} {tp:7.2f} s  {u/1e6/tp:7.0f} MB/s")
print(f"{'gzip -dc of the layers':<52} {tg:7.2f} s  {u/1e6/tg:7.0f} MB/s")
print(f"ratio vouch / (skopeo + umoci): {tv/tp:.2f} (below 1: vouch is faster)")
print(f"ratio vouch / gzip -dc:         {tv/tg:.2f}")
PY
