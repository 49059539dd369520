#!/usr/bin/env bash
# vouch db update / changes / build / serve end to end: the real OSV records of the shared
# testdata as per-ecosystem all.zip exports behind a local web server with SHA256SUMS; only
# newer records applied and the changed ids recorded; a truncated archive, a tampered archive,
# a zip bomb, a tampered snapshot: refused in one line with the previous database unchanged;
# records with absurd ranges skipped; a snapshot built, served and taken over HTTP.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/assert.sh"
vouch=${VOUCH_BIN:?VOUCH_BIN must point at the vouch binary}
data=${VOUCH_TESTDATA:-$(cd "$(dirname "$0")/../.." && pwd)/../shared/testdata}
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.05; done; return 1; }

# The mirror: OSV's layout, served over HTTP.
m=$work/mirror
mkdir -p "$m/PyPI" "$m/crates.io"
(cd "$data/osv/pypi" && zip -q -r "$m/PyPI/all.zip" . -i '*.json')
(cd "$data/osv/crates.io" && zip -q -r "$m/crates.io/all.zip" . -i '*.json')
printf 'PyPI\ncrates.io\n' > "$m/ecosystems.txt"
(cd "$m" && sha256sum PyPI/all.zip crates.io/all.zip > SHA256SUMS)
port=$(free_port)
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$m" >/dev/null 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$port/ecosystems.txt" || fail "mirror did not start"
url=http://127.0.0.1:$port
records=$(( $(ls "$data/osv/pypi" | grep -c '\.json$') + $(ls "$data/osv/crates.io" | grep -c '\.json$') ))

db=$work/db
out=$("$vouch" db update --db "$db" --source "$url" -o json) || fail "first update exited $?"
python3 -c '
import json,sys
d=json.loads(sys.argv[1])["updates"][0]
assert d["update"]==1 and d["added"]==int(sys.argv[2]) and d["verified"]==2 and d["unverified"]==0, d' "$out" "$records" \
  || fail "first update: $out"
out=$("$vouch" db update --db "$db" --source "$url") || fail "second update exited $?"
[[ "$out" == *"no change"*"0 added, 0 modified"*"$records unchanged"* ]] || fail "unchanged update: $out"

# A newer export: two records modified (one now names another package), one new, one absurd.
v2=$work/v2; mkdir -p "$v2/PyPI"
cp "$data"/osv/pypi/*.json "$v2/PyPI/" 2>/dev/null
python3 - "$v2/PyPI" <<'EOF'
import json, sys, os
d = sys.argv[1]
def edit(name, f):
    p = os.path.join(d, name); r = json.load(open(p)); f(r); r["modified"] = "2030-01-01T00:00:00Z"
    json.dump(r, open(p, "w"))
edit("PYSEC-2021-66.json", lambda r: None)
def rename(r):
    r["affected"][0]["package"]["name"] = "vouch-renamed"
edit("PYSEC-2012-4.json", rename)
new = {"id": "VOUCH-2030-1", "modified": "2030-01-01T00:00:00Z", "summary": "test",
       "affected": [{"package": {"ecosystem": "PyPI", "name": "vouchdemo"},
                     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}]}]}
json.dump(new, open(os.path.join(d, "VOUCH-2030-1.json"), "w"))
absurd = dict(new, id="VOUCH-2030-2")
absurd["affected"] = [{"package": {"ecosystem": "PyPI", "name": "vouchdemo"},
                       "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": str(i)} for i in range(5000)]}]}]
json.dump(absurd, open(os.path.join(d, "VOUCH-2030-2.json"), "w"))
EOF
old_pkg=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["affected"][0]["package"]["name"].lower())' "$data/osv/pypi/PYSEC-2012-4.json")
(cd "$v2/PyPI" && zip -q -r ../all.zip . -i '*.json' && mv ../all.zip all.zip && rm -f ./*.json)
(cd "$v2" && sha256sum PyPI/all.zip > SHA256SUMS)
out=$("$vouch" db update --db "$db" --source "$v2" 2>"$work/err") || fail "v2 update exited $?"
[[ "$out" == *"update 2"*"1 added, 2 modified"*"1 skipped"* ]] || fail "v2 update: $out"
grep -q "VOUCH-2030-2: affected\[0\].ranges\[0\]: 5000 events" "$work/err" || fail "absurd record not named: $(cat "$work/err")"
out=$("$vouch" db changes --db "$db" --since 1 -o json) || fail "db changes exited $?"
python3 -c '
import json,sys
d=json.loads(sys.argv[1])
assert d["ids"]==["PYSEC-2012-4","PYSEC-2021-66","VOUCH-2030-1"], d["ids"]
p=[tuple(x) for x in d["packages"]]
for want in [("PyPI","jinja2"),("PyPI","vouch-renamed"),("PyPI",sys.argv[2]),("PyPI","vouchdemo")]:
    assert want in p, (want, p)
assert len(p)==4, p
assert d["last"]==2 and len(d["updates"])==1, d' "$out" "$old_pkg" || fail "db changes: $out"

# Hostile updates: each refused in one line, the database byte for byte as it was.
before=$(sha256sum < "$db/vulnerabilities.db")
bad=$work/bad; mkdir -p "$bad/PyPI"
head -c 300000 "$m/PyPI/all.zip" > "$bad/PyPI/all.zip"
(cd "$bad" && sha256sum PyPI/all.zip > SHA256SUMS)
expect 2 "truncated zip archive" -- "$vouch" db update --db "$db" --source "$bad"
cp "$m/PyPI/all.zip" "$bad/PyPI/all.zip"; printf 'x' >> "$bad/PyPI/all.zip"
expect 1 "checksum mismatch" -- "$vouch" db update --db "$db" --source "$bad"
python3 -c '
import zipfile,sys
z=zipfile.ZipFile(sys.argv[1],"w",zipfile.ZIP_DEFLATED); z.writestr("bomb.json", b" "*(200<<20)); z.close()' "$work/bomb.zip"
expect 2 "decompression bomb" -- "$vouch" db update --db "$db" --source "$work/bomb.zip"
expect 2 "previous database is unchanged" -- "$vouch" db update --db "$db" --source "$work/bomb.zip"
[ "$(sha256sum < "$db/vulnerabilities.db")" = "$before" ] || fail "a refused update changed the database"
ls -a "$db" | grep -q '\.update-\|\.fetch-' && fail "scratch files left behind: $(ls -a "$db")"

# A snapshot: built, served, taken by a fresh site over HTTP; a tampered one refused.
"$vouch" db build --db "$db" -o "$work/snap/vulns.db" >/dev/null || fail "db build exited $?"
python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
assert d["schemaVersion"]==1 and d["path"]=="vulns.db" and d["checksum"].startswith("sha256:") and d["built"], d' \
  "$work/snap/latest.json" || fail "latest.json: $(cat "$work/snap/latest.json")"
sport=$(free_port)
"$vouch" db serve --listen "127.0.0.1:$sport" --db "$work/snap/vulns.db" 2>"$work/serve.log" &
pids+=($!)
wait_http "http://127.0.0.1:$sport/latest.json" || fail "db serve did not start"
out=$("$vouch" db update --db "$work/site" --source "http://127.0.0.1:$sport/latest.json") || fail "snapshot update exited $?"
[[ "$out" == *"update 1"*"$((records + 1)) added"*"1 file(s) checksum-verified"* ]] || fail "snapshot update: $out"
out=$("$vouch" db update --db "$work/site" --source "http://127.0.0.1:$sport/latest.json") || fail "snapshot again exited $?"
[[ "$out" == *"no change"* ]] || fail "same snapshot again: $out"
a=$("$vouch" db status --db "$db" -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["records"])')
b=$("$vouch" db status --db "$work/site" -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["records"])')
[ "$a" = "$b" ] || fail "snapshot holds $b records, the source $a"
site_before=$(sha256sum < "$work/site/vulnerabilities.db")
cp "$work/snap/latest.json" "$m/latest.json"; cp "$work/snap/vulns.db" "$m/vulns.db"
printf 'tampered' | dd of="$m/vulns.db" bs=1 seek=5000 conv=notrunc 2>/dev/null
expect 1 "checksum mismatch" -- "$vouch" db update --db "$work/site" --source "$url/latest.json"
[ "$(sha256sum < "$work/site/vulnerabilities.db")" = "$site_before" ] || fail "a tampered snapshot changed the database"

[ "$fails" -eq 0 ] && echo "db update: all checks passed"
exit "$fails"
