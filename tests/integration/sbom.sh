#!/usr/bin/env bash
# vouch sbom end to end on a directory tree and an OCI image layout built here: the packages
# found (the squashed view and --scope all-layers), SPDX 2.3 and CycloneDX 1.6 output validated
# against the official schemas with ajv, byte-identical output given SOURCE_DATE_EPOCH, --file,
# one-line input errors; and, on a Debian machine, this machine's dpkg database against
# dpkg-query -W (misses and extras listed) with licenses from every machine-readable copyright file.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/assert.sh"
vouch=${VOUCH_BIN:?VOUCH_BIN must point at the vouch binary}
data=${VOUCH_TESTDATA:?VOUCH_TESTDATA must point at the shared testdata}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

# A small Debian root: os-release, a dpkg status with a source package and a removed one,
# file lists, a machine-readable copyright file, and a symlink out of the tree.
fx=$work/root
mkdir -p "$fx/etc" "$fx/usr/lib" "$fx/var/lib/dpkg/info" "$fx/usr/share/doc/bash" "$work/outside"
printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n' > "$fx/usr/lib/os-release"
ln -s ../usr/lib/os-release "$fx/etc/os-release"
cat > "$fx/var/lib/dpkg/status" <<'STATUS'
Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl
Version: 3.0.15-1~deb12u1
Description: Secure Sockets Layer toolkit
 shared libraries

Package: bash
Status: install ok installed
Architecture: amd64
Version: 5.2.15-2+b7
Source: bash (5.2.15-2)

Package: gone
Status: deinstall ok config-files
Architecture: amd64
Version: 1
STATUS
printf '/.\n/bin\n/bin/bash\n' > "$fx/var/lib/dpkg/info/bash.list"
printf 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nCopyright: FSF\nLicense: GPL-3+\n' \
  > "$fx/usr/share/doc/bash/copyright"
printf 'Package: intruder\nVersion: 6\n' > "$work/outside/status"
mkdir -p "$fx/var/lib/dpkg/status.d"; ln -s "$work/outside/status" "$fx/var/lib/dpkg/status.d/intruder"

export SOURCE_DATE_EPOCH=1700000000
"$vouch" sbom "dir:$fx" -o spdx-json --file "$work/dir.spdx.json" || fail "sbom -o spdx-json exited $?"
"$vouch" sbom "dir:$fx" -o cyclonedx-json --file "$work/dir.cdx.json" || fail "sbom -o cyclonedx-json exited $?"
"$vouch" sbom "dir:$fx" -o spdx-json > "$work/dir2.spdx.json" || fail "sbom to stdout exited $?"
cmp -s "$work/dir.spdx.json" "$work/dir2.spdx.json" || fail "two runs with SOURCE_DATE_EPOCH differ"
table=$("$vouch" sbom "dir:$fx") || fail "sbom -o table exited $?"
[[ "$table" == *"libssl3  "*"3.0.15-1~deb12u1"*"deb"* ]] || fail "table: $table"
[[ "$table" != *intruder* && "$table" != *gone* ]] || fail "table lists what it must not: $table"

python3 - "$work/dir.spdx.json" "$work/dir.cdx.json" <<'PY' || fail "document content"
import json, sys
spdx = json.load(open(sys.argv[1])); cdx = json.load(open(sys.argv[2]))
purls = sorted(r["referenceLocator"] for p in spdx["packages"] for r in p.get("externalRefs", []) if r["referenceType"] == "purl")
want = ["pkg:deb/debian/bash@5.2.15-2%2Bb7?arch=amd64&distro=debian-12&upstream=bash%405.2.15-2",
        "pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=amd64&distro=debian-12&upstream=openssl"]
assert purls == want, purls
assert spdx["creationInfo"]["created"] == "2023-11-14T22:13:20Z", spdx["creationInfo"]
bash = [p for p in spdx["packages"] if p["name"] == "bash"][0]
assert bash["licenseDeclared"] == "GPL-3.0-or-later", bash
comps = {c["name"]: c for c in cdx["components"]}
assert comps["debian"]["type"] == "operating-system" and comps["debian"]["version"] == "12", comps.keys()
assert sorted(c.get("purl", "") for c in cdx["components"] if c["type"] == "library") == want
# CPEs as syft generates them: SPDX SECURITY cpe23Type refs, CycloneDX cpe.
cpes = [r["referenceLocator"] for r in bash["externalRefs"] if r["referenceType"] == "cpe23Type"]
assert cpes == ["cpe:2.3:a:bash:bash:5.2.15-2\\+b7:*:*:*:*:*:*:*"], cpes
assert all(r["referenceCategory"] == "SECURITY" for r in bash["externalRefs"] if r["referenceType"] == "cpe23Type")
assert comps["libssl3"]["cpe"] == "cpe:2.3:a:libssl3:libssl3:3.0.15-1\\~deb12u1:*:*:*:*:*:*:*", comps["libssl3"]
props = {p["name"]: p["value"] for p in comps["libssl3"]["properties"]}
assert props["syft:location:0:path"] == "/var/lib/dpkg/status", props
PY

# The same tree as an OCI image layout of two layers; the second replaces the status file
# and deletes bash's copyright with a whiteout.
python3 - "$fx" "$work/layout" <<'PY' || fail "building the test image"
import hashlib, io, json, os, sys, tarfile
src, out = sys.argv[1], sys.argv[2]
os.makedirs(out + "/blobs/sha256")
def blob(data):
    d = hashlib.sha256(data).hexdigest()
    open(f"{out}/blobs/sha256/{d}", "wb").write(data)
    return {"digest": "sha256:" + d, "size": len(data)}
def layer(files):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in files:
            i = tarfile.TarInfo(name); i.size = len(data); i.mtime = 0
            t.addfile(i, io.BytesIO(data))
    return b.getvalue()
read = lambda p: open(os.path.join(src, p), "rb").read()
l1 = layer([("usr/lib/os-release", read("usr/lib/os-release")), ("var/lib/dpkg/status", b"Package: old\nVersion: 0\n"),
            ("usr/share/doc/bash/copyright", read("usr/share/doc/bash/copyright"))])
l2 = layer([("var/lib/dpkg/status", read("var/lib/dpkg/status")), ("var/lib/dpkg/info/bash.list", read("var/lib/dpkg/info/bash.list")),
            ("usr/share/doc/bash/.wh.copyright", b"")])
d1, d2 = blob(l1), blob(l2)
cfg = blob(json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers",
      "diff_ids": [d1["digest"], d2["digest"]]}}).encode())
cfg["mediaType"] = "application/vnd.oci.image.config.v1+json"
for d in (d1, d2): d["mediaType"] = "application/vnd.oci.image.layer.v1.tar"
m = blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                     "config": cfg, "layers": [d1, d2]}).encode())
m["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
m["annotations"] = {"org.opencontainers.image.ref.name": "test"}
json.dump({"schemaVersion": 2, "manifests": [m]}, open(out + "/index.json", "w"))
json.dump({"imageLayoutVersion": "1.0.0"}, open(out + "/oci-layout", "w"))
print(d2["digest"], file=open(out + "/../layer2", "w"))
print(d1["digest"], file=open(out + "/../layer1", "w"))
PY
"$vouch" sbom "oci:$work/layout:test" -o cyclonedx-json --file "$work/img.cdx.json" || fail "sbom of an image exited $?"
"$vouch" sbom "oci:$work/layout:test" -o spdx-json --file "$work/img.spdx.json" || fail "sbom -o spdx-json of an image exited $?"
python3 - "$work/img.cdx.json" "$(cat "$work/layer2" 2>/dev/null)" <<'PY' || fail "image SBOM content"
import json, sys
cdx = json.load(open(sys.argv[1]))
libs = {c["name"]: c for c in cdx["components"] if c["type"] == "library"}
assert sorted(libs) == ["bash", "libssl3"], sorted(libs)
assert "licenses" not in libs["bash"], libs["bash"]  # its copyright file is whited out
props = {p["name"]: p["value"] for p in libs["bash"]["properties"]}
assert props["syft:location:0:layerID"] == sys.argv[2], props
PY

# --scope all-layers: the view after each layer is searched too, so the package of the first
# layer's status (replaced by the second's) is listed with its layer, the others once each.
for fmt in syft-json spdx-json cyclonedx-json; do
  "$vouch" sbom scan "oci:$work/layout:test" --scope all-layers -o "$fmt=$work/all.$fmt.json" \
    || fail "sbom --scope all-layers -o $fmt exited $?"
done
"$vouch" sbom "oci:$work/layout:test" -o syft-json --file "$work/squashed.syft.json" || fail "sbom -o syft-json exited $?"
python3 - "$work" "$(cat "$work/layer1" 2>/dev/null)" "$(cat "$work/layer2" 2>/dev/null)" <<'PY' || fail "all-layers SBOM content"
import json, sys
work, l1, l2 = sys.argv[1], sys.argv[2], sys.argv[3]
def layers(doc):
    return sorted((a["name"], a["version"], l.get("layerID")) for a in doc["artifacts"] for l in a["locations"])
squashed = layers(json.load(open(work + "/squashed.syft.json")))
every = layers(json.load(open(work + "/all.syft-json.json")))
assert squashed == [("bash", "5.2.15-2+b7", l2), ("libssl3", "3.0.15-1~deb12u1", l2)], squashed
assert every == sorted(squashed + [("old", "0", l1)]), every
print(f"squashed: {len(squashed)} packages, all-layers: {len(every)}")
arts = json.load(open(work + "/all.syft-json.json"))["artifacts"]
ids = [a["id"] for a in arts]
assert len(ids) == len(set(ids)), ids
# syft's annotation: whether the final filesystem still shows the file.
visible = sorted((a["name"], l["annotations"]["visible"]) for a in arts for l in a["locations"])
assert visible == [("bash", "true"), ("libssl3", "true"), ("old", "false")], visible
cdx = json.load(open(work + "/all.cyclonedx-json.json"))
libs = sorted((c["name"], {p["name"]: p["value"] for p in c["properties"]}["syft:location:0:layerID"])
              for c in cdx["components"] if c["type"] == "library")
assert libs == [("bash", l2), ("libssl3", l2), ("old", l1)], libs
spdx = json.load(open(work + "/all.spdx-json.json"))
names = sorted(p["name"] for p in spdx["packages"] if p.get("versionInfo"))
assert names == ["bash", "libssl3", "old"], names
PY
expect 2 "has no layers" -- "$vouch" sbom "dir:$fx" --scope all-layers
expect 2 "has no layers" -- "$vouch" sbom scan "dir:$fx" --scope all-layers -o syft-json

if validator=$(bash "$root/scripts/json-schema.sh" "$root/.cache/ajv" 2>"$work/npm.log"); then
  $validator spdx "$data/schemas" "$work/dir.spdx.json" "$work/img.spdx.json" "$work/all.spdx-json.json" >"$work/ajv.log" 2>&1 \
    || fail "SPDX does not validate: $(cat "$work/ajv.log")"
  $validator cyclonedx "$data/schemas" "$work/dir.cdx.json" "$work/img.cdx.json" "$work/all.cyclonedx-json.json" >"$work/ajv.log" 2>&1 \
    || fail "CycloneDX does not validate: $(cat "$work/ajv.log")"
  # The validator itself rejects a broken document.
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["packages"][0]["filesAnalyzed"]="yes"; json.dump(d,open(sys.argv[2],"w"))' \
    "$work/dir.spdx.json" "$work/broken.spdx.json"
  $validator spdx "$data/schemas" "$work/broken.spdx.json" >/dev/null 2>&1 && fail "a broken SPDX document validated"
else
  fail "could not install ajv: $(cat "$work/npm.log")"
fi

# A malformed language manifest is skipped with one warning line naming it; the rest is listed.
lx=$work/lang
mkdir -p "$lx/app/node_modules/ok" "$lx/sp/x-1.dist-info"
printf '{"lockfileVersion":3,"packages":{' > "$lx/app/package-lock.json"
printf '{"name":"ok","version":"1.2.3","license":"Expat"}' > "$lx/app/node_modules/ok/package.json"
printf 'Name: x\nVersion: 1\nLicense: GPL-2+ or Artistic\n' > "$lx/sp/x-1.dist-info/METADATA"
"$vouch" sbom "dir:$lx" -o spdx-json --file "$work/lang.spdx.json" 2>"$work/lang.err" || fail "sbom with a malformed lock file exited $?"
[ "$(grep -c '' "$work/lang.err")" -eq 1 ] && grep -q "^warning: skipped /app/package-lock.json: " "$work/lang.err" \
  || fail "want one warning naming /app/package-lock.json, got: $(cat "$work/lang.err")"
python3 - "$work/lang.spdx.json" <<'PY' || fail "language packages in SPDX"
import json, sys
d = json.load(open(sys.argv[1]))
got = {p["name"]: (p["licenseDeclared"], [r["referenceLocator"] for r in p.get("externalRefs", []) if r["referenceType"] == "purl"])
       for p in d["packages"]}
assert got == {"ok": ("MIT", ["pkg:npm/ok@1.2.3"]), "x": ("GPL-2.0-or-later OR Artistic-1.0", ["pkg:pypi/x@1"])}, got
PY

# Real content: this machine's dpkg database, copied into a root, against dpkg-query.
if command -v dpkg-query >/dev/null && [ -f /var/lib/dpkg/status ]; then
  host=$work/host
  mkdir -p "$host/etc" "$host/var/lib/dpkg/info"
  cp -L /etc/os-release "$host/etc/os-release" 2>/dev/null
  cp /var/lib/dpkg/status "$host/var/lib/dpkg/status"
  cp /var/lib/dpkg/info/*.list "$host/var/lib/dpkg/info/" 2>/dev/null
  for f in /usr/share/doc/*/copyright; do
    [ -f "$f" ] && [ ! -L "$f" ] || continue
    d=${f#/usr/share/doc/}; d=${d%/copyright}
    mkdir -p "$host/usr/share/doc/$d" && cp "$f" "$host/usr/share/doc/$d/"
  done
  "$vouch" sbom "dir:$host" -o cyclonedx-json --file "$work/host.cdx.json" || fail "sbom of the host's dpkg database exited $?"
  dpkg-query -W -f '${db:Status-Status} ${Package} ${Version} ${Architecture}\n' \
    | awk '$1 != "not-installed" && $1 != "config-files" {print $2, $3, $4}' | sort > "$work/host.want"
  python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for c in d["components"]:
    if c["type"] != "library": continue
    p = {x["name"]: x["value"] for x in c.get("properties", [])}
    print(c["name"], c["version"], p.get("syft:metadata:architecture", ""))' "$work/host.cdx.json" | sort > "$work/host.got"
  if ! cmp -s "$work/host.want" "$work/host.got"; then
    fail "dpkg packages differ from dpkg-query -W (< missed, > extra): $(diff "$work/host.want" "$work/host.got" | grep '^[<>]' | head -20 | tr '\n' ';')"
  fi
  [ -s "$work/host.want" ] || fail "dpkg-query listed nothing"
  # Every package whose copyright file is machine-readable (DEP-5) has its licenses.
  python3 - "$work/host.cdx.json" "$host" <<'PY' || fail "licenses from DEP-5 copyright files"
import json, os, sys
d = json.load(open(sys.argv[1]))
missing, dep5 = [], 0
for c in d["components"]:
    if c["type"] != "library": continue
    f = os.path.join(sys.argv[2], "usr/share/doc", c["name"], "copyright")
    if not os.path.isfile(f): continue
    head = open(f, "rb").read(200).decode("utf-8", "replace")
    if head.startswith("Format:") and "copyright-format" in head.split("\n")[0]:
        dep5 += 1
        if not c.get("licenses"): missing.append(c["name"])
assert not missing, missing[:10]
print(f"host: {dep5} packages with DEP-5 copyright files, all with licenses", file=sys.stderr)
PY
  "$vouch" sbom "dir:$host" -o spdx-json --file "$work/host.spdx.json" || fail "spdx-json of the host's dpkg database exited $?"
  if validator=$(bash "$root/scripts/json-schema.sh" "$root/.cache/ajv" 2>/dev/null); then
    $validator spdx "$data/schemas" "$work/host.spdx.json" >"$work/ajv.log" 2>&1 \
      || fail "host SPDX does not validate: $(head -c 600 "$work/ajv.log")"
    $validator cyclonedx "$data/schemas" "$work/host.cdx.json" >"$work/ajv.log" 2>&1 \
      || fail "host CycloneDX does not validate: $(grep -v '^unknown format' "$work/ajv.log" | head -c 600)"
  fi
fi

# Bad input: exit 2, one line.
expect 2 "not a directory" -- "$vouch" sbom "dir:$work/missing"
expect 2 "SOURCE_DATE_EPOCH" -- env SOURCE_DATE_EPOCH=soon "$vouch" sbom "dir:$fx"
printf 'Package: a\nno colon here\n' > "$work/bad-status"
mkdir -p "$work/bad/var/lib/dpkg"; cp "$work/bad-status" "$work/bad/var/lib/dpkg/status"
expect 2 "/var/lib/dpkg/status:2" -- "$vouch" sbom "dir:$work/bad" -o spdx-json --file "$work/bad.json"
[ -e "$work/bad.json" ] && fail "a failed run left $work/bad.json behind"

# Progress: on a terminal (script(1) gives one) a line counts the files walked; into a file,
# nothing. VOUCH_PROGRESS_AFTER_MS=0 shows it at once instead of after a second.
VOUCH_PROGRESS_AFTER_MS=0 "$vouch" sbom "dir:$fx" -o spdx-json --file "$work/p.json" 2>"$work/p.err" || fail "sbom (no tty) exited $?"
[ -s "$work/p.err" ] && fail "sbom wrote to a non-terminal stderr: $(head -c 200 "$work/p.err" | cat -v)"
if command -v script >/dev/null; then
  VOUCH_PROGRESS_AFTER_MS=0 script -qefc "'$vouch' sbom 'dir:$fx' -o spdx-json --file '$work/p2.json'" "$work/ts" >/dev/null 2>&1 \
    || fail "sbom on a terminal exited $?"
  grep -aq 'cataloging: files' "$work/ts" || fail "no progress line on a terminal: $(cat -v "$work/ts" | head -c 300)"
  cmp -s "$work/p.json" "$work/p2.json" || fail "the progress line changed the document"
fi

[ "$fails" -eq 0 ]
