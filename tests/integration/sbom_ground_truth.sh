#!/usr/bin/env bash
# Accuracy of vouch sbom against ground truth on real content (scripts/sbom-fixtures.sh builds
# it once under .cache/fixtures): a Debian 12 root made by debootstrap plus packages bringing
# Python distributions, a Go binary and Java jars, and an npm project installed from the
# registry. Each check_* function compares one ecosystem with what an independent tool reports
# (dpkg-query, importlib.metadata, npm ls, go version -m, the jars' pom.properties read with
# zipfile) and prints every miss and extra; a new ecosystem is one more function in `checks`.
# The SBOMs are also validated against the SPDX 2.3 and CycloneDX 1.6 schemas, and the Python
# distributions that Debian packages ship must be related to their owning package.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/assert.sh"
vouch=${VOUCH_BIN:?VOUCH_BIN must point at the vouch binary}
data=${VOUCH_TESTDATA:?VOUCH_TESTDATA must point at the shared testdata}
root=$(cd "$(dirname "$0")/../.." && pwd)
fixtures=${VOUCH_FIXTURES:-$root/.cache/fixtures}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

if ! bash "$root/scripts/sbom-fixtures.sh" "$fixtures"; then
  fail "could not build the fixtures under $fixtures"
  exit 1
fi
deb=$fixtures/debian12
npmp=$fixtures/npm-project
export SOURCE_DATE_EPOCH=1700000000

for t in deb:"$deb" npm:"$npmp"; do
  name=${t%%:*} dir=${t#*:}
  for fmt in spdx-json cyclonedx-json; do
    "$vouch" sbom "dir:$dir" -o "$fmt" --file "$work/$name.$fmt" 2>"$work/$name.$fmt.err" \
      || fail "vouch sbom dir:$dir -o $fmt exited $?: $(head -c 400 "$work/$name.$fmt.err")"
  done
done

# TYPE (a package type as vouch names it) -> "name<TAB>version[<TAB>arch]" lines, from the
# CycloneDX document with nested (owned) components flattened.
vouch_list() {
  python3 - "$1" "$2" "${3:-}" <<'PY'
import json, sys
doc, kind, with_arch = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3] == "arch"
def walk(cs):
    for c in cs:
        props = {p["name"]: p["value"] for p in c.get("properties", [])}
        if props.get("syft:package:type") == kind:
            row = [c["name"], c.get("version", "")]
            if with_arch: row.append(props.get("syft:metadata:architecture", ""))
            print("\t".join(row))
        walk(c.get("components", []))
walk(doc.get("components", []))
PY
}

# compare WHAT WANT GOT: one line per miss (in WANT only) and extra (in GOT only).
compare() {
  local what=$1 want=$2 got=$3
  sort -u "$want" -o "$want"; sort -u "$got" -o "$got"
  [ -s "$want" ] || fail "$what: the ground truth lists nothing"
  while IFS= read -r l; do fail "$what: vouch misses $l"; done < <(comm -23 "$want" "$got")
  while IFS= read -r l; do fail "$what: vouch reports extra $l"; done < <(comm -13 "$want" "$got")
  echo "$what: $(wc -l < "$want") expected, $(comm -12 "$want" "$got" | wc -l) matched"
}

# Debian packages: dpkg-query on the root's database (packages removed but for their
# configuration files are not installed).
check_dpkg() {
  dpkg-query --admindir="$deb/var/lib/dpkg" -W -f='${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\n' \
    | awk -F'\t' '$1 !~ /^.[cn]/ { print $2 "\t" $3 "\t" $4 }' > "$work/dpkg.want"
  vouch_list "$work/deb.cyclonedx-json" deb arch > "$work/dpkg.got"
  compare dpkg "$work/dpkg.want" "$work/dpkg.got"
}

# Python distributions: what importlib.metadata finds in the root's site directories.
check_python() {
  python3 - "$deb" > "$work/python.want" <<'PY'
import glob, importlib.metadata as md, os, sys
root = sys.argv[1]
dirs = [d for pat in ("usr/lib/python3*/dist-packages", "usr/lib/python3*/site-packages",
                      "usr/local/lib/python3*/dist-packages", "usr/local/lib/python3*/site-packages",
                      "usr/lib/python3/dist-packages")
        for d in glob.glob(os.path.join(root, pat))]
for d in md.distributions(path=sorted(set(dirs))):
    print(f"{d.metadata['Name']}\t{d.version}")
PY
  vouch_list "$work/deb.cyclonedx-json" python > "$work/python.got"
  compare python "$work/python.want" "$work/python.got"
  # Every distribution Debian ships is related to the package that installed it.
  python3 - "$work/deb.cyclonedx-json" "$work/deb.spdx-json" <<'PY' || fail "python: ownership"
import json, sys
cdx, spdx = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
top = [c for c in cdx["components"] if any(p["value"] == "python" for p in c.get("properties", []))]
assert not top, "python distributions not nested under their Debian package: %s" % [c["name"] for c in top]
owners = {c["name"]: [n["name"] for n in c.get("components", [])] for c in cdx["components"]}
assert "PyYAML" in owners.get("python3-yaml", []), "python3-yaml does not own PyYAML: %s" % owners.get("python3-yaml")
assert "requests" in owners.get("python3-requests", []), owners.get("python3-requests")
ids = {p["SPDXID"]: p["name"] for p in spdx["packages"]}
other = {(ids[r["spdxElementId"]], ids[r["relatedSpdxElement"]]) for r in spdx["relationships"] if r["relationshipType"] == "OTHER"}
assert ("python3-yaml", "PyYAML") in other, "no SPDX relationship python3-yaml -> PyYAML"
PY
}

# npm packages: npm ls --all --json of the project (its own name and version included).
check_npm() {
  (cd "$npmp" && npm ls --all --json 2>/dev/null) > "$work/npm-ls.json" || fail "npm ls --all --json exited $?"
  python3 - "$work/npm-ls.json" > "$work/npm.want" <<'PY' || fail "npm ls output unreadable"
import json, sys
tree = json.load(open(sys.argv[1]))
print(f"{tree['name']}\t{tree['version']}")
def walk(deps):
    for name, d in (deps or {}).items():
        print(f"{name}\t{d['version']}")
        walk(d.get("dependencies"))
walk(tree.get("dependencies"))
PY
  vouch_list "$work/npm.cyclonedx-json" npm > "$work/npm.got"
  compare npm "$work/npm.want" "$work/npm.got"
}

# Go modules: `go version -m` (Debian's golang-go) on every executable of the root it reads.
check_go() {
  command -v go >/dev/null || { fail "go: golang-go is not installed (scripts/install-deps.sh)"; return; }
  : > "$work/go.want"
  while IFS= read -r -d '' f; do
    go version -m "$f" > "$work/go.m" 2>/dev/null && [ -s "$work/go.m" ] || continue
    python3 - "$work/go.m" >> "$work/go.want" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
print("stdlib\t" + lines[0].split(": ", 1)[1].split(" ")[0])
path, main, deps, last = "", None, [], None
for l in lines[1:]:
    f = [x for x in l.split("\t")[1:] if x != ""]
    if not f: continue
    if f[0] == "path": path = f[1]
    elif f[0] == "mod": main = [f[1], f[2]]; last = main
    elif f[0] == "dep": deps.append([f[1], f[2] if len(f) > 2 else ""]); last = deps[-1]
    elif f[0] == "=>": last[0], last[1] = f[1], f[2] if len(f) > 2 else ""
if main is None and path: main = [path, "(devel)"]
for m in ([main] if main else []) + deps: print("\t".join(m))
PY
  done < <(find "$deb" -type f -perm /111 -size +52c -print0)
  vouch_list "$work/deb.cyclonedx-json" go-module > "$work/go.got"
  compare go "$work/go.want" "$work/go.got"
}

# Java: the pom.properties inside every jar of the root, read with Python's zipfile.
check_java() {
  python3 - "$deb" > "$work/java.want" <<'PY'
import os, sys, zipfile
for dirpath, dirs, files in os.walk(sys.argv[1]):
    for n in files:
        p = os.path.join(dirpath, n)
        if not n.endswith((".jar", ".war", ".ear")) or os.path.islink(p): continue
        with zipfile.ZipFile(p) as z:
            for e in z.namelist():
                if e.startswith("META-INF/maven/") and e.endswith("/pom.properties"):
                    props = dict(l.split("=", 1) for l in z.read(e).decode().splitlines() if "=" in l and not l.startswith("#"))
                    print(f"{props['artifactId'].strip()}\t{props['version'].strip()}")
PY
  vouch_list "$work/deb.cyclonedx-json" java-archive > "$work/java.got"
  compare java "$work/java.want" "$work/java.got"
}

checks=(check_dpkg check_python check_npm check_go check_java)
for c in "${checks[@]}"; do "$c"; done

if validator=$(bash "$root/scripts/json-schema.sh" "$root/.cache/ajv" 2>"$work/ajv-install.log"); then
  $validator spdx "$data/schemas" "$work/deb.spdx-json" "$work/npm.spdx-json" >"$work/ajv.log" 2>&1 \
    || fail "SPDX does not validate: $(head -c 600 "$work/ajv.log")"
  $validator cyclonedx "$data/schemas" "$work/deb.cyclonedx-json" "$work/npm.cyclonedx-json" >"$work/ajv.log" 2>&1 \
    || fail "CycloneDX does not validate: $(head -c 600 "$work/ajv.log")"
else
  fail "could not install ajv: $(cat "$work/ajv-install.log")"
fi

[ "$fails" -eq 0 ]
