#!/usr/bin/env bash
# Verifying an image signature with a key, the whole command each time, against a local
# registry: `vouch verify --key` vs skopeo's policy check (a sigstoreSigned requirement,
# enforced by `skopeo copy` of the same small image to a dir:, which fetches and checks the
# signature before copying one small layer). Same image, same skopeo-made signature, one run.
# Usage: bench/cosign_verify.sh VOUCH_BIN [RUNS]
set -euo pipefail
V=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); runs=${2:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
SKOPEO=$(bash "$root/scripts/get-skopeo.sh" | tail -n1)
T=$(mktemp -d); reg_pid=
cleanup() { [ -n "$reg_pid" ] && { kill "$reg_pid" 2>/dev/null; wait "$reg_pid" 2>/dev/null; }; rm -rf "$T"; }
trap cleanup EXIT
cd "$T"; export HOME=$T DOCKER_CONFIG=$T/docker
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
REG=127.0.0.1:$port
printf 'version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s/data}}\nhttp: {addr: %s}\n' "$T" "$REG" > config.yml
docker-registry serve config.yml > registry.log 2>&1 &
reg_pid=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://$REG/v2/" && break; sleep 0.1; done
umoci init --layout L >/dev/null; umoci new --image L:v1 >/dev/null
umoci unpack --rootless --image L:v1 B >/dev/null; echo bench > B/rootfs/file; umoci repack --image L:v1 B >/dev/null
printf pass > pass.txt
"$SKOPEO" generate-sigstore-key --output-prefix k --passphrase-file pass.txt >/dev/null
mkdir rd; printf 'docker:\n  %s:\n    use-sigstore-attachments: true\n' "$REG" > rd/local.yaml
"$SKOPEO" --registries.d rd copy -q --dest-tls-verify=false --sign-by-sigstore-private-key k.private \
  --sign-passphrase-file pass.txt oci:L:v1 "docker://$REG/bench/app:v1" >/dev/null
cat > policy.json <<POL
{"default":[{"type":"reject"}],
 "transports":{"docker":{"$REG":[{"type":"sigstoreSigned","keyPath":"$T/k.pub","signedIdentity":{"type":"matchRepository"}}]},
               "dir":{"":[{"type":"insecureAcceptAnything"}]}}}
POL
vouch_once() { "$V" verify --insecure-ignore-tlog --key k.pub "$REG/bench/app:v1" >/dev/null 2>&1; }
skopeo_once() { rm -rf out; "$SKOPEO" --policy policy.json --registries.d rd copy -q --src-tls-verify=false "docker://$REG/bench/app:v1" dir:out >/dev/null 2>&1; }
vouch_once || { echo "vouch verify failed"; exit 1; }
skopeo_once || { echo "skopeo policy check failed"; exit 1; }
# Interleaved, so that a shared machine's load falls on both alike; medians of the runs.
: > times.txt
for _ in $(seq "$runs"); do
  a=$(date +%s%N); vouch_once; b=$(date +%s%N); skopeo_once; c=$(date +%s%N)
  echo "$(( (b - a) / 1000 )) $(( (c - b) / 1000 ))" >> times.txt
done
python3 - times.txt "$runs" <<'PY2'
import statistics, sys
rows = [tuple(map(int, l.split())) for l in open(sys.argv[1])]
v = statistics.median(r[0] for r in rows) / 1000; s = statistics.median(r[1] for r in rows) / 1000
print(f"{'vouch verify --key (whole command, median of ' + sys.argv[2] + ')':<56} {v:7.1f} ms")
print(f"{'skopeo copy under a sigstoreSigned policy (median)':<56} {s:7.1f} ms")
print(f"ratio skopeo / vouch: {s / v:.1f}x")
PY2
