#!/usr/bin/env bash
# vouch db import / db status / scan end to end: the real OSV data plus the distro fixtures,
# the fixture SBOMs, exit codes for --fail-on, every output format (SARIF validated against
# the official SARIF 2.1.0 schema with ajv), VEX suppression and one-line input errors.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/assert.sh"
vouch=${VOUCH_BIN:?VOUCH_BIN must point at the vouch binary}
data=${VOUCH_TESTDATA:?VOUCH_TESTDATA must point at the shared testdata}
root=$(cd "$(dirname "$0")/../.." && pwd)
fixtures=$root/tests/unit/vuln/testdata
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
db=$work/db

# Scanning before any import: exit 2, told what to do.
expect 2 "run \`vouch db import\` first" -- "$vouch" scan --db "$db" "sbom:$fixtures/debian-11.spdx.json"

out=$("$vouch" db import --db "$db" -o json "$data/osv/go" "$data/osv/pypi" "$data/osv/crates.io" "$fixtures/osv-distro" 2>/dev/null) \
  || fail "db import exited $?"
python3 -c '
import json,sys
d=json.load(sys.stdin)
assert d["records"] == 8163 and d["added"] == 8163 and d["malformed"] == 0, d
assert len(d["warnings"]) == 7, d["warnings"]' <<<"$out" || fail "db import counts: $out"
out=$("$vouch" db import --db "$db" "$data/osv/crates.io" 2>/dev/null)
[[ "$out" == *"1206 records read"*"0 added, 0 updated, 1206 unchanged, 0 malformed"* ]] || fail "re-import: $out"
out=$("$vouch" db status --db "$db" -o json)
python3 -c '
import json,sys
d=json.load(sys.stdin)
assert d["records"] == 8163 and not d["stale"], d
assert d["ecosystems"]["Go"] == 4291 and d["ecosystems"]["Debian:11"] == 3 and d["ecosystems"]["Alpine:v3.11"] == 2, d' <<<"$out" \
  || fail "db status: $out"
"$vouch" db status --db "$db" | grep -q "^Records: *8163" || fail "db status text"

deb="sbom:$fixtures/debian-11.spdx.json"
alp="sbom:$fixtures/alpine-3.11.cdx.json"
# Table: sorted by severity, the critical one first.
table=$("$vouch" scan --db "$db" "$deb") || fail "scan table exited $?"
first=$(sed -n 2p <<<"$table")
[[ "$first" == smallvec*1.6.0*1.6.1*CVE-2021-25900*Critical ]] || fail "table first row: $first"
[[ "$table" == *"informational advisories"*"RUSTSEC-2016-0005: unmaintained"* ]] || fail "table informational: $table"

# --fail-on gates: exit 1 with one line when a finding reaches the threshold.
expect 1 "severity Critical or higher" -- "$vouch" scan --db "$db" --fail-on critical "$deb"
expect 1 "severity High or higher" -- "$vouch" scan --db "$db" --fail-on high "$deb"
cat > "$work/vex.json" <<'VEX'
{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/alpine", "author": "Security Team",
 "timestamp": "2024-01-01T00:00:00Z", "version": 1,
 "statements": [{"vulnerability": {"name": "CVE-2021-25900"}, "products": [{"@id": "pkg:cargo/smallvec@1.6.0"}],
   "status": "not_affected", "justification": "vulnerable_code_not_present"}]}
VEX
expect 1 "severity Critical or higher" -- "$vouch" scan --db "$db" --fail-on critical "$alp"
expect 0 "" -- "$vouch" scan --db "$db" --fail-on critical --vex "$work/vex.json" "$alp"
table=$("$vouch" scan --db "$db" --vex "$work/vex.json" "$alp")
[[ "$table" == *"1 suppressed by VEX"*"smallvec 1.6.0 CVE-2021-25900: not_affected (vulnerable_code_not_present)"* ]] \
  || fail "VEX reason in table: $table"

# JSON.
"$vouch" scan --db "$db" -o json --file "$work/scan.json" "$deb" || fail "scan -o json exited $?"
python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
ids=sorted(m["vulnerability"]["id"] for m in d["matches"])
assert ids == sorted(["DSA-5343-1","CVE-2023-1393","CVE-2020-14343","CVE-2021-42343","CVE-2022-42969","CVE-2021-25900",
  "CVE-2022-24713","GHSA-jp3w-3q88-34cf","CVE-2022-32149","CVE-2026-56852"]), ids
assert d["summary"]["critical"] == 1 and d["summary"]["high"] == 1 and d["summary"]["informational"] == 1, d["summary"]
assert d["source"]["distro"] == {"id": "debian", "versionId": "11"}, d["source"]' "$work/scan.json" || fail "scan -o json content"

# SARIF, validated against the official schema.
"$vouch" scan --db "$db" -o sarif --file "$work/deb.sarif" "$deb" || fail "scan -o sarif exited $?"
"$vouch" scan --db "$db" -o sarif --file "$work/alp.sarif" --vex "$work/vex.json" "$alp" || fail "scan -o sarif exited $?"
cat > "$work/empty.spdx.json" <<'SPDX'
{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "empty", "packages": []}
SPDX
"$vouch" scan --db "$db" -o sarif --file "$work/empty.sarif" "sbom:$work/empty.spdx.json" || fail "empty scan exited $?"
if validator=$(bash "$root/scripts/json-schema.sh" "$root/.cache/ajv" 2>"$work/npm.log"); then
  $validator sarif "$data/schemas" "$work/deb.sarif" "$work/alp.sarif" "$work/empty.sarif" >"$work/ajv.log" 2>&1 \
    || fail "SARIF does not validate: $(cat "$work/ajv.log")"
  # The validator itself rejects a broken document.
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["runs"][0]["results"][0]["level"]="fatal"; json.dump(d,open(sys.argv[2],"w"))' \
    "$work/deb.sarif" "$work/broken.sarif"
  $validator sarif "$data/schemas" "$work/broken.sarif" >/dev/null 2>&1 && fail "a broken SARIF document validated"
else
  fail "could not install ajv: $(cat "$work/npm.log")"
fi
python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
r=d["runs"][0]
assert r["tool"]["driver"]["name"] == "vouch" and len(r["results"]) == 10, len(r["results"])
rule={x["id"]: x for x in r["tool"]["driver"]["rules"]}
assert rule["CVE-2021-25900"]["properties"]["security-severity"] == "9.8"' "$work/deb.sarif" || fail "SARIF content"

# cosign vulnerability predicate, as trivy --format cosign-vuln shapes it.
"$vouch" scan --db "$db" -o cosign-vuln "$alp" >"$work/vuln.json" || fail "scan -o cosign-vuln exited $?"
python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
assert set(d) == {"invocation","scanner","metadata"}, d.keys()
assert d["invocation"] == {"parameters": None, "uri": "", "event_id": "", "builder.id": ""}
res=d["scanner"]["result"]
assert res["summary"]["criticalCount"] == 1 and res["summary"]["unknownCount"] == 1, res["summary"]
v=[x for r in res["Results"] for x in r["Vulnerabilities"]]
ids=sorted(x["VulnerabilityID"] for x in v)
assert ids == ["CVE-2019-1551","CVE-2021-25900"], ids
o=[x for x in v if x["VulnerabilityID"]=="CVE-2019-1551"][0]
assert o["PkgName"] == "openssl" and o["InstalledVersion"] == "1.1.1d-r2" and o["FixedVersion"] == "1.1.1d-r3", o
assert res["Metadata"]["OS"] == {"Family": "alpine", "Name": "3.11.6"}, res["Metadata"]
assert d["metadata"]["scanStartedOn"].endswith("Z")' "$work/vuln.json" || fail "cosign-vuln content: $(head -c 600 "$work/vuln.json")"

# Bad input: exit 2, one line naming what and where.
expect 2 "--fail-on: severe not in" -- "$vouch" scan --db "$db" --fail-on severe "$deb"
echo '{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"type": "library"}]}' > "$work/bad.cdx.json"
expect 2 "bad.cdx.json: components[0].name: missing" -- "$vouch" scan --db "$db" "sbom:$work/bad.cdx.json"
expect 2 "image reference 'Not/A:Reference:'" -- "$vouch" scan --db "$db" "Not/A:Reference:"
expect 2 "not a directory" -- "$vouch" scan --db "$db" "dir:$work/missing-root"
echo '{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{"vulnerability": {"name": "X"}, "status": "maybe"}]}' > "$work/bad-vex.json"
expect 2 "bad-vex.json: statements[0].status" -- "$vouch" scan --db "$db" --vex "$work/bad-vex.json" "$deb"
expect 2 "no such file" -- "$vouch" db import --db "$db" "$work/missing.zip"

# A directory tree is catalogued on the way: the same finding as from the fixture SBOM.
mkdir -p "$work/root/etc" "$work/root/var/lib/dpkg"
printf 'ID=debian\nVERSION_ID="11"\n' > "$work/root/etc/os-release"
printf 'Package: libssl1.1\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\nVersion: 1.1.1n-0+deb11u3\n' \
  > "$work/root/var/lib/dpkg/status"
table=$("$vouch" scan --db "$db" "dir:$work/root" 2>/dev/null) || fail "scan dir: exited $?"
[[ "$table" == *"libssl1.1"*"1.1.1n-0+deb11u3"*"1.1.1n-0+deb11u4"*"DSA-5343-1"* ]] || fail "scan dir: table: $table"


# Stale data: the warning appears once the database is older than the limit and not before.
err=$("$vouch" scan --db "$db" "$deb" 2>&1 >/dev/null) || fail "scan for staleness exited $?"
[[ "$err" != *"warning: "* ]] || fail "fresh database warned: $err"
sleep 2
err=$("$vouch" scan --db "$db" --max-db-age 1s "$deb" 2>&1 >/dev/null) || fail "scan --max-db-age exited $?"
[[ "$err" == *"warning: the vulnerability database was last imported "*" ago ("*"), more than the 1 second allowed"* ]] \
  || fail "stale database (--max-db-age 1s) did not warn: $err"
err=$(VOUCH_DB_MAX_AGE=1s "$vouch" scan --db "$db" "$deb" 2>&1 >/dev/null) || fail "scan VOUCH_DB_MAX_AGE exited $?"
[[ "$err" == *"more than the 1 second allowed"* ]] || fail "VOUCH_DB_MAX_AGE=1s did not warn: $err"
err=$(VOUCH_DB_MAX_AGE=1s "$vouch" scan --db "$db" --max-db-age 1h "$deb" 2>&1 >/dev/null) || fail "scan exited $?"
[[ "$err" != *"warning: "* ]] || fail "--max-db-age 1h (over VOUCH_DB_MAX_AGE) warned: $err"
expect 2 "maximum database age '5 weeks'" -- "$vouch" scan --db "$db" --max-db-age "5 weeks" "$deb"

# Progress: drawn on a terminal (script(1) gives the command one), never into a pipe or file.
# VOUCH_PROGRESS_AFTER_MS=0 shows it from the start instead of after a second.
"$vouch" db import --db "$work/db2" "$data/osv/go" 2>"$work/import.err" >/dev/null || fail "db import (no tty) exited $?"
grep -q $'\r' "$work/import.err" && fail "progress written to a non-terminal: $(head -c 200 "$work/import.err")"
if command -v script >/dev/null; then
  VOUCH_PROGRESS_AFTER_MS=0 script -qefc "'$vouch' db import --db '$work/db3' '$data/osv/go' '$data/osv/pypi' >/dev/null" \
    "$work/typescript" >/dev/null 2>&1 || fail "db import on a terminal exited $?"
  grep -aq 'importing OSV records' "$work/typescript" || fail "no progress line on a terminal: $(head -c 300 "$work/typescript" | cat -v)"
  VOUCH_PROGRESS_AFTER_MS=0 script -qefc "'$vouch' scan --db '$db' '$deb' >/dev/null" "$work/typescript2" >/dev/null 2>&1 \
    || fail "scan on a terminal exited $?"
  grep -aq 'matching packages \[' "$work/typescript2" || fail "no progress bar for scan on a terminal: $(cat -v "$work/typescript2" | head -c 300)"
  VOUCH_NO_PROGRESS=1 VOUCH_PROGRESS_AFTER_MS=0 script -qefc "'$vouch' scan --db '$db' '$deb' >/dev/null" "$work/typescript3" \
    >/dev/null 2>&1 || fail "scan with VOUCH_NO_PROGRESS exited $?"
  grep -aq 'matching packages' "$work/typescript3" && fail "VOUCH_NO_PROGRESS=1 still drew progress"
fi
[ "$fails" -eq 0 ]
