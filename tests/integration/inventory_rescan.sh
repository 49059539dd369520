#!/usr/bin/env bash
# vouch inventory end to end, on SQLite and on PostgreSQL: SBOMs added and scanned at once; a
# newer set of the real OSV PyPI records (one record added, one withdrawn) applied with
# `db update --inventory`, which rescans: only the images holding a named package are matched again; opens
# and closes exactly the findings an independent reading of the records predicts; query by purl
# and version range, affected by alias; alerts over HTTP (CloudEvents) delivered once each
# although the sink fails once and the deliverer is restarted; the store's unit tests on PostgreSQL.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/assert.sh"
vouch=${VOUCH_BIN:?VOUCH_BIN must point at the vouch binary}
data=${VOUCH_TESTDATA:-$(cd "$(dirname "$0")/../.." && pwd)/../shared/testdata}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
pg=$(mktemp -d)
sink_pid=
cleanup() {
  [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null && wait "$sink_pid" 2>/dev/null
  bash "$root/scripts/pg-cluster.sh" stop "$pg" >/dev/null 2>&1
  rm -rf "$work" "$pg"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

# One setup step (python starts slowly): two exports of the real PyPI records (the records of the
# SBOMs' packages and every twelfth other one, kept small for CI): v1 without PYSEC-2019-217, v2
# with it and PYSEC-2021-66 withdrawn; three SBOMs; and an independent reading of which records
# affect each image's PyPI packages in v1 and v2 (ECOSYSTEM ranges of plain numeric versions and
# explicit version lists), written to exp<v>-img<n>.
mkdir -p "$work/v1/PyPI" "$work/v2/PyPI" "$work/recs1" "$work/recs2"
python3 - "$data/osv/pypi" "$work" <<'EOF'
import json, os, re, shutil, sys
src, work = sys.argv[1:]
images = {
    1: ["pypi:jinja2@2.10", "pypi:requests@2.19.0", "pypi:flask@0.12"],
    2: ["pypi:jinja2@3.1.4", "pypi:django@3.2.0", "maven:org.apache.logging.log4j/log4j-core@2.17.1"],
    3: ["maven:org.apache.logging.log4j/log4j-core@2.14.1", "maven:org.apache.logging.log4j/log4j-core@2.3"],
}
for n, specs in images.items():
    comps = []
    for i, spec in enumerate(specs):
        t, nv = spec.split(":", 1); name, v = nv.rsplit("@", 1)
        comps.append({"type": "library", "bom-ref": f"pkg-{i}", "name": name.split("/")[-1], "version": v,
                      "purl": f"pkg:{t}/{name}@{v}"})
    json.dump({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": comps},
              open(f"{work}/img{n}.json", "w"))
records = {1: [], 2: []}
for i, f in enumerate(sorted(x for x in os.listdir(src) if x.endswith(".json"))):
    r = json.load(open(os.path.join(src, f)))
    names = {a.get("package", {}).get("name", "").lower() for a in r.get("affected", [])}
    if not (names & {"jinja2", "requests", "flask", "django"} or i % 12 == 0): continue
    if r["id"] != "PYSEC-2019-217": records[1].append(r)
    if r["id"] == "PYSEC-2021-66":
        r = dict(r, withdrawn="2030-01-01T00:00:00Z", modified="2030-01-01T00:00:00Z")
    records[2].append(r)
for v, recs in records.items():
    for r in recs: json.dump(r, open(f"{work}/recs{v}/{r['id']}.json", "w"))
def key(v):
    return tuple(int(x) for x in v.split(".")) if re.fullmatch(r"\d+(\.\d+)*", v) else None
def norm(n): return re.sub(r"[-_.]+", "-", n).lower()
def affects(a, ver):
    if ver in a.get("versions", []): return True
    for rg in a.get("ranges", []):
        if rg["type"] != "ECOSYSTEM": continue
        inside = False
        for e in rg["events"]:
            if "introduced" in e:
                inside = e["introduced"] == "0" or (key(e["introduced"]) is not None and key(ver) >= key(e["introduced"]))
            elif "fixed" in e and inside:
                if key(e["fixed"]) is not None and key(ver) < key(e["fixed"]): return True
                inside = False
            elif "last_affected" in e and inside:
                if key(e["last_affected"]) is not None and key(ver) <= key(e["last_affected"]): return True
                inside = False
        if inside: return True
    return False
for v, recs in records.items():
    for n, specs in images.items():
        pkgs = [(norm(s.split(":", 1)[1].rsplit("@", 1)[0]), s.rsplit("@", 1)[1]) for s in specs if s.startswith("pypi:")]
        hits = sorted({r["id"] for r in recs if not r.get("withdrawn") for a in r.get("affected", [])
                       if a.get("package", {}).get("ecosystem") == "PyPI"
                       for name, ver in pkgs if norm(a["package"].get("name", "")) == name and affects(a, ver)})
        open(f"{work}/exp{v}-img{n}", "w").write(" ".join(hits))
EOF
(cd "$work/recs1" && zip -q -r "$work/v1/PyPI/all.zip" . -i '*.json')
(cd "$work/recs2" && zip -q -r "$work/v2/PyPI/all.zip" . -i '*.json')

# The records behind an image's active findings.
actual() {  # STORE DIGEST
  "$vouch" inventory findings --store "$1" --image "$2" --status active -o json | jq -r '[.[].records[]] | unique | join(" ")'
}
digest_of() { echo "sha256:$(sha256sum < "$1" | cut -d' ' -f1)"; }
check_images() {  # NAME STORE VERSION WHEN
  for i in 1 2 3; do
    local got want; got=$(actual "$2" "$(digest_of "$work/img$i.json")"); want=$(cat "$work/exp$3-img$i")
    [ "$got" = "$want" ] || fail "$1: img$i $4: '$got' != '$want'"
  done
}

run_backend() {  # NAME STORE
  local name=$1 store=$2 db=$work/db-$1
  "$vouch" db update --db "$db" --source "$work/v1" >/dev/null || fail "$name: db update v1"
  local d1 d2 d3
  d1=$(digest_of "$work/img1.json"); d2=$(digest_of "$work/img2.json"); d3=$(digest_of "$work/img3.json")
  for i in 1 2 3; do
    "$vouch" inventory add --store "$store" --db "$db" --repository "reg.test/app$i" --tag v1 \
      "sbom:$work/img$i.json" >/dev/null || fail "$name: inventory add img$i"
  done
  check_images "$name" "$store" 1 "after add"
  [[ " $(actual "$store" "$d1") " == *" PYSEC-2021-66 "* ]] || fail "$name: img1 lacks PYSEC-2021-66"

  # The newer export, rescanned by `db update --inventory` itself: img1 and img2 hold jinja2, img3
  # holds nothing named.
  local out
  out=$("$vouch" db update --db "$db" --source "$work/v2" --inventory "$store" -o json) || fail "$name: db update v2"
  jq -e '.updates[0].update == 2 and .rescan.fromUpdate == 1 and .rescan.toUpdate == 2 and .rescan.changedRecords == 2
         and .rescan.images == 2 and .rescan.opened == 1 and .rescan.closed == 1' <<<"$out" >/dev/null ||
    fail "$name: db update --inventory: $out"
  check_images "$name" "$store" 2 "after rescan"
  out=$("$vouch" inventory findings --store "$store" --image "$d1" --status closed -o json)
  jq -e '[.[].records] == [["PYSEC-2021-66"]] and .[0].reason == "no longer matches" and .[0].closedAt > 0' \
    <<<"$out" >/dev/null || fail "$name: closed finding: $out"
  out=$("$vouch" inventory rescan --store "$store" --db "$db" -o json)
  [[ "$out" == *'"images": 0'* ]] || fail "$name: a second rescan matched again: $out"
  # An update that changes nothing rescans nothing; a store that cannot be opened fails the
  # command after the update, saying the update is in place.
  out=$("$vouch" db update --db "$db" --source "$work/v2" --inventory "$store") || fail "$name: db update v2 again"
  [[ "$out" == *"no change"*"0 images (0 packages) matched again"* ]] || fail "$name: unchanged update: $out"
  expect 2 "the database update is in place" -- "$vouch" db update --db "$db" --source "$work/v2" --inventory "ftp://nowhere"

  # Questions.
  out=$("$vouch" inventory affected --store "$store" CVE-2019-10906 -o json)
  jq -e '.images == 1 and .findings[0].image.repository == "reg.test/app1"' <<<"$out" >/dev/null ||
    fail "$name: affected: $out"
  out=$("$vouch" inventory query --store "$store" --purl pkg:maven/org.apache.logging.log4j/log4j-core --version '<2.17.0' -o json)
  jq -e '[.matches[].package.version] | sort == ["2.14.1", "2.3"]' <<<"$out" >/dev/null || fail "$name: query: $out"
  "$vouch" inventory query --store "$store" --purl pkg:pypi/Jinja2 --version '>=3' | grep -q "reg.test/app2" ||
    fail "$name: query text"
  expect 2 "version constraint" -- "$vouch" inventory query --store "$store" --purl pkg:pypi/jinja2 --version '<'

  # Alerts: the sink fails its second request; a second run delivers the rest, each event once.
  local port; port=$(free_port)
  : > "$work/received-$name"
  python3 - "$port" "$work/received-$name" <<'EOF' &
import http.server, json, sys
port, out = int(sys.argv[1]), sys.argv[2]
count = 0
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global count
        count += 1
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if count == 2:
            self.send_response(500); self.end_headers(); return
        with open(out, "a") as f: f.write(json.dumps(json.loads(body)) + "\n")
        self.send_response(202); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
EOF
  sink_pid=$!
  wait_port "$port" || fail "$name: the alert sink did not start"
  "$vouch" inventory alerts --store "$store" --sink "http://127.0.0.1:$port/" --min-severity any --backoff 0 --once \
    2>"$work/alerts.err" && fail "$name: alerts with a failing sink exited 0"
  "$vouch" inventory alerts --store "$store" --sink "http://127.0.0.1:$port/" --min-severity any --backoff 0 --once \
    2>>"$work/alerts.err" || fail "$name: alerts retry exited $?: $(cat "$work/alerts.err")"
  kill "$sink_pid"; wait "$sink_pid" 2>/dev/null; sink_pid=
  # Each event once (by CloudEvent id), the one closed finding among them, every event well formed.
  jq -se 'length > 1 and (map(.id) | unique | length) == length
          and ([.[] | select(.type == "dev.vouch.inventory.finding.closed") | .data.records] == [["PYSEC-2021-66"]])
          and all(.specversion == "1.0" and .source == "vouch/inventory" and (.data.image.digest | startswith("sha256:")))' \
    "$work/received-$name" >/dev/null || fail "$name: alerts: $(cat "$work/received-$name")"
  out=$("$vouch" inventory alerts --store "$store" --sink stdout --min-severity any --once 2>&1 >/dev/null)
  [[ "$out" == *"0 alerts delivered"*"0 pending"* ]] || fail "$name: outbox not empty: $out"
}

run_backend sqlite "$work/inventory.db"
port=$(free_port)
if url=$(bash "$root/scripts/pg-cluster.sh" start "$pg" "$port" 2>/dev/null); then
  run_backend postgres "$url"
  # The store's unit tests on the same server (they are skipped without one).
  unit=$(dirname "$vouch")/vouch_unit_tests
  if [ -x "$unit" ]; then
    out=$(VOUCH_TEST_POSTGRES_URL=$url "$unit" --gtest_filter='Inventory/InventoryStoreTest.*/postgres' 2>&1)
    if ! grep -q '\[  PASSED  \] 8 tests' <<<"$out" || grep -q SKIPPED <<<"$out"; then
      fail "inventory store unit tests on PostgreSQL: $(grep -E 'FAILED|Failure|SKIPPED' <<<"$out" | head -5 | tr '\n' ' ')"
    fi
  fi
else
  fail "PostgreSQL did not start"
fi

[ "$fails" -eq 0 ] && echo "inventory rescan: all checks passed"
exit "$fails"
