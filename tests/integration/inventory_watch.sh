#!/usr/bin/env bash
# vouch watch against a real docker-registry whose notifications endpoint is the watcher: a
# pushed image (Jinja2 2.10 in site-packages) is catalogued and scanned on push; its finding is
# scored High by the GHSA twin of the PYSEC record that matched; a repository outside
# --repository is left alone; a second tag of an image already catalogued adds the tag; an image
# pushed while the watcher is down is found by its tag poll after a restart; a scheduled
# `db update` (--db-update-interval) rescans the inventory; a bad notification gets 400.
set -uo pipefail
V=$(realpath "${VOUCH_BIN:?set VOUCH_BIN}")
data=${VOUCH_TESTDATA:-$(cd "$(dirname "$0")/../.." && pwd)/../shared/testdata}
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/tests/lib/assert.sh"
source "$root/tests/lib/scratch.sh"
require_tools docker-registry umoci skopeo python3 curl
watch_pid=
trap '[ -n "$watch_pid" ] && kill "$watch_pid" 2>/dev/null && wait "$watch_pid" 2>/dev/null; cleanup' EXIT
cd "$T"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$V" db import --db db "$data/osv/pypi/PYSEC-2019-217.json" \
  "$root/tests/unit/vuln/testdata/osv-alias/GHSA-462w-v97r-4m45.json" >/dev/null 2>&1 || fail "db import"

# The registry, its notifications going to the watcher (as start_registry, plus the endpoint).
wport=$(free_port)
rport=$(free_port)
REG=127.0.0.1:$rport
cat > reg.yml <<EOF
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $T/data}}
http: {addr: $REG}
notifications:
  endpoints:
    - name: vouch
      url: http://127.0.0.1:$wport/events
      timeout: 2s
      threshold: 3
      backoff: 300ms
EOF
docker-registry serve reg.yml > reg.log 2>&1 &
reg_pid=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://$REG/v2/" && break; sleep 0.1; done

start_watch() {  # start_watch PORT
  "$V" watch --registry "http://$REG" --repository 'apps/*' --repository apps/polled --listen "127.0.0.1:$1" \
    --poll-interval 1 --store inv.db --db db >> watch.log 2>&1 &
  watch_pid=$! watch_port=$1
  for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && break; sleep 0.05; done
}
stop_watch() { kill "$watch_pid"; wait "$watch_pid" 2>/dev/null; watch_pid=; }

umoci init --layout L >/dev/null
image() {  # image NAME JINJA-VERSION
  umoci new --image "L:$1" && umoci unpack --rootless --image "L:$1" "b-$1" >/dev/null || return 1
  local d="b-$1/rootfs/usr/lib/python3/site-packages/Jinja2-$2.dist-info"
  mkdir -p "$d" && printf 'Metadata-Version: 2.1\nName: Jinja2\nVersion: %s\n' "$2" > "$d/METADATA"
  umoci repack --image "L:$1" "b-$1" >/dev/null
}
push() { skopeo copy -q --dest-tls-verify=false "oci:L:$1" "docker://$REG/$2" || fail "push $2"; }
digest() { skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG/$1"; }
# until_image DIGEST: the inventory lists the image (polls for up to 15 s).
until_image() {
  for _ in $(seq 150); do
    "$V" inventory images --store inv.db --db db -o json 2>/dev/null | grep -q "$1" && return 0
    sleep 0.1
  done
  return 1
}

image web 2.10
image old 2.9.6
image other 2.10
start_watch "$wport"

push web apps/web:v1
web=$(digest apps/web:v1)
until_image "$web" || fail "apps/web:v1 ($web) not catalogued after its push: $(tail -3 watch.log)"
out=$("$V" inventory findings --store inv.db --db db --image "$web" -o json)
python3 - "$out" <<'EOF' || fail "findings of apps/web: $out"
import json, sys
rows = json.loads(sys.argv[1])
rows = rows.get("findings", rows) if isinstance(rows, dict) else rows
assert len(rows) == 1, rows
f = rows[0]
assert f["vulnerability"] == "CVE-2019-10906", f
assert f["severity"] == "High", f
assert f["severitySource"] == "GHSA-462w-v97r-4m45 CVSS_V3", f
EOF

# Outside the watched repositories: not catalogued (the watcher gets the same notification).
push other elsewhere/other:v1
other=$(digest elsewhere/other:v1)
# A second tag of the catalogued image: its tags grow.
push web apps/web:stable
for _ in $(seq 100); do
  "$V" inventory images --store inv.db --db db -o json | grep -q stable && break
  sleep 0.1
done
imgs=$("$V" inventory images --store inv.db --db db -o json)
grep -q stable <<<"$imgs" || fail "tag stable of apps/web not recorded: $imgs"
grep -q "$other" <<<"$imgs" && fail "elsewhere/other catalogued although not watched"

# Pushed while the watcher is down, which then listens where the registry does not notify:
# found by the tag poll of apps/polled (named without wildcards).
stop_watch
push old apps/polled:v1
old=$(digest apps/polled:v1)
start_watch "$(free_port)"
until_image "$old" || fail "apps/polled:v1 ($old) not found by polling: $(tail -3 watch.log)"

# Scheduled updates: a watcher with --db-update-interval updates the database from --db-source
# (a record Jinja2 2.10 is also affected by) and rescans, so apps/web gains that finding.
stop_watch
mkdir -p upd && cp "$data/osv/pypi/PYSEC-2021-66.json" upd/
"$V" watch --registry "http://$REG" --repository apps/none --listen "127.0.0.1:$(free_port)" --poll-interval 60 \
  --db-update-interval 1 --db-source "$T/upd" --store inv.db --db db >> watch.log 2>&1 &
watch_pid=$!
for _ in $(seq 150); do
  "$V" inventory findings --store inv.db --image "$web" -o json 2>/dev/null | grep -q PYSEC-2021-66 && break
  sleep 0.1
done
"$V" inventory findings --store inv.db --image "$web" -o json | grep -q PYSEC-2021-66 ||
  fail "scheduled db update did not rescan apps/web: $(tail -3 watch.log)"
grep -q '"database updated, inventory rescanned"' watch.log || fail "no log line for the scheduled update"
stop_watch
start_watch "$(free_port)"

code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/vnd.docker.distribution.events.v1+json' \
  --data 'not json' "http://127.0.0.1:$watch_port/events")
[ "$code" = 400 ] || fail "bad notification answered $code"

[ $fails -eq 0 ] && echo "PASS inventory_watch" || { echo "inventory_watch: $fails failure(s)"; exit 1; }
