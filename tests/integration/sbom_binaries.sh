#!/usr/bin/env bash
# vouch sbom against ground truth for packages found in binaries and databases:
# - Go modules of real Go executables (this machine's Debian-built ones and ones built here in
#   module mode, with replacements, for amd64 and for 32-bit big-endian mips) against
#   `go version -m`: main module, every dependency path@version, the Go version;
# - Maven packages of the jars of Debian Java packages against the pom.properties inside them;
# - Rust crates of a Cargo.lock against Python's TOML parser, with their dependencies;
# - RPM packages of a real rpmdb.sqlite (made by rpm --justdb from an rpm built by rpmbuild)
#   against rpm -qa;
# - the SPDX and CycloneDX documents with these packages, for a directory and an image, against
#   the official schemas (ajv).
# Misses and extras are listed.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/assert.sh"
vouch=${VOUCH_BIN:?VOUCH_BIN must point at the vouch binary}
data=${VOUCH_TESTDATA:?VOUCH_TESTDATA must point at the shared testdata}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d); trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=1700000000
fx=$work/root
mkdir -p "$fx/usr/bin" "$fx/opt/app" "$fx/usr/share/java" "$fx/var/lib/rpm" "$fx/etc"
printf 'ID=debian\nVERSION_ID="12"\n' > "$fx/etc/os-release"

# --- Go -----------------------------------------------------------------------------------------
bins=()
for b in /usr/bin/skopeo /usr/bin/umoci /usr/bin/docker-registry; do
  [ -x "$b" ] && cp "$b" "$fx/usr/bin/" && bins+=("/usr/bin/$(basename "$b")")
done
[ ${#bins[@]} -gt 0 ] || fail "none of skopeo, umoci, docker-registry is installed (scripts/install-deps.sh)"
if command -v go >/dev/null; then
  # A module proxy on disk (GOPROXY=file://) serving two versioned modules, so that the build
  # has ordinary dependencies with versions and sums, plus one replaced by another module and
  # two replaced by local directories.
  src=$work/gosrc
  python3 - "$work/goproxy" <<'PY' || fail "building the Go module proxy"
import io, os, sys, zipfile
proxy = sys.argv[1]
for mod, ver, pkg, body in [("example.com/lib", "v1.0.0", "lib", 'func Lib() string { return "lib" }'),
                            ("example.com/fork", "v1.1.0", "fork", 'func Fork() string { return "fork" }'),
                            ("example.com/orig", "v0.9.0", "orig", 'func Orig() string { return "orig" }')]:
    d = os.path.join(proxy, mod, "@v"); os.makedirs(d, exist_ok=True)
    gomod = f"module {mod}\n\ngo 1.19\n"
    open(os.path.join(d, "list"), "w").write(ver + "\n")
    open(os.path.join(d, ver + ".info"), "w").write('{"Version":"%s","Time":"2023-01-01T00:00:00Z"}' % ver)
    open(os.path.join(d, ver + ".mod"), "w").write(gomod)
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr(f"{mod}@{ver}/go.mod", gomod)
        z.writestr(f"{mod}@{ver}/{pkg}.go", f"package {pkg}\n\n{body}\n")
    open(os.path.join(d, ver + ".zip"), "wb").write(b.getvalue())
PY
  mkdir -p "$src/dep" "$src/other"
  printf 'module example.com/vouchtest\n\ngo 1.19\n\nrequire (\n\texample.com/dep v1.2.3\n\texample.com/other v0.4.0\n\texample.com/lib v1.0.0\n\texample.com/orig v0.9.0\n)\n\nreplace example.com/dep v1.2.3 => ./dep\n\nreplace example.com/other => ./other\n\nreplace example.com/orig => example.com/fork v1.1.0\n' > "$src/go.mod"
  printf 'module example.com/dep\n\ngo 1.19\n' > "$src/dep/go.mod"
  printf 'package dep\n\nfunc Hello() string { return "hello" }\n' > "$src/dep/dep.go"
  printf 'module example.com/other\n\ngo 1.19\n' > "$src/other/go.mod"
  printf 'package other\n\nfunc World() string { return "world" }\n' > "$src/other/other.go"
  printf 'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/dep"\n\t"example.com/lib"\n\torig "example.com/orig"\n\t"example.com/other"\n)\n\nfunc main() { fmt.Println(dep.Hello(), other.World(), lib.Lib(), orig.Fork()) }\n' > "$src/main.go"
  export GOCACHE=$work/gocache GOPATH=$work/gopath GOPROXY=file://$work/goproxy GOSUMDB=off GOFLAGS=-mod=mod GO111MODULE=on GOTOOLCHAIN=local
  (cd "$src" && CGO_ENABLED=0 go build -buildvcs=false -o "$fx/opt/app/vouchtest" . ) 2>"$work/go.log" \
    && bins+=(/opt/app/vouchtest) || fail "go build (amd64): $(head -c 400 "$work/go.log")"
  (cd "$src" && CGO_ENABLED=0 GOARCH=mips go build -buildvcs=false -o "$fx/opt/app/vouchtest-mips" . ) 2>"$work/go.log" \
    && bins+=(/opt/app/vouchtest-mips) || fail "go build (mips): $(head -c 400 "$work/go.log")"
  # A main module version given at link time.
  (cd "$src" && CGO_ENABLED=0 go build -buildvcs=false -ldflags "-s -X main.version=2.3.4" -o "$fx/opt/app/vouchtest-ldflags" . ) \
    2>"$work/go.log" && bins+=(/opt/app/vouchtest-ldflags) || fail "go build (ldflags): $(head -c 400 "$work/go.log")"
else
  fail "go is not installed (golang-go, scripts/install-deps.sh)"
fi
# A copy without the execute bit is no executable: not read.
[ -f "$fx/opt/app/vouchtest" ] && cp "$fx/opt/app/vouchtest" "$fx/opt/app/data.bin" && chmod 0644 "$fx/opt/app/data.bin"

# --- Java ---------------------------------------------------------------------------------------
jars=0
for j in $(dpkg -L libcommons-lang3-java 2>/dev/null | grep '\.jar$'); do
  [ -f "$j" ] && [ ! -L "$j" ] && cp "$j" "$fx/usr/share/java/" && jars=$((jars + 1))
done
[ "$jars" -gt 0 ] || fail "no jar of libcommons-lang3-java (scripts/install-deps.sh)"
# And a WAR with that jar nested in it.
python3 - "$fx/usr/share/java" "$fx/opt/app/shop.war" <<'PY' || fail "building the war"
import glob, sys, zipfile
with zipfile.ZipFile(sys.argv[2], "w") as z:
    z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
    z.writestr("META-INF/maven/com.example/shop/pom.properties", "groupId=com.example\nartifactId=shop\nversion=1.0.0\n")
    for j in glob.glob(sys.argv[1] + "/*.jar"):
        z.write(j, "WEB-INF/lib/" + j.rsplit("/", 1)[1])
PY

# --- Rust ---------------------------------------------------------------------------------------
mkdir -p "$fx/srv/tool"
cat > "$fx/srv/tool/Cargo.lock" <<'LOCK'
# This file is automatically @generated by Cargo.
# It is not intended for manual editing.
version = 3

[[package]]
name = "bitflags"
version = "1.3.2"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "bef38d45163c2f1dde094a7dfd33ccf595c92905c8f8f4fdc18d06fb1037718a"

[[package]]
name = "bitflags"
version = "2.4.1"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "327762f6e5a765692301e5bb513e0d9fef63be86bbc14528052b1cd3e6f03e07"

[[package]]
name = "forked"
version = "0.2.0"
source = "git+https://example.com/forked?branch=main#0123456789abcdef"

[[package]]
name = "tool"
version = "0.1.0"
dependencies = [
 "bitflags 1.3.2",
 "bitflags 2.4.1",
 "forked",
]
LOCK
python3 - "$fx/srv/tool/Cargo.lock" > "$work/cargo.want" <<'PY'
import sys, tomllib
print("\n".join(sorted(f"pkg:cargo/{p['name']}@{p['version']}" for p in tomllib.load(open(sys.argv[1], "rb"))["package"])))
PY

# --- rpm ----------------------------------------------------------------------------------------
if command -v rpmbuild >/dev/null && command -v rpm >/dev/null; then
  top=$work/rpmbuild; mkdir -p "$top/SPECS"
  for n in one two; do
    cat > "$top/SPECS/$n.spec" <<SPEC
Name: vouch-$n
Version: 1.2.$([ $n = one ] && echo 3 || echo 4)
Release: 4.el9
$([ $n = one ] && echo "Epoch: 2")
Summary: test package
License: MIT and BSD
BuildArch: noarch
%description
test package
%install
mkdir -p %{buildroot}/usr/share/vouch-$n %{buildroot}/usr/bin
echo hi > %{buildroot}/usr/share/vouch-$n/README
echo hi > %{buildroot}/usr/bin/vouch-$n
%files
/usr/share/vouch-$n/README
/usr/bin/vouch-$n
SPEC
    rpmbuild --define "_topdir $top" -bb "$top/SPECS/$n.spec" >"$work/rpmbuild.log" 2>&1 \
      || fail "rpmbuild $n: $(tail -c 300 "$work/rpmbuild.log")"
  done
  db=$fx/var/lib/rpm
  rpm --initdb --dbpath "$db" 2>/dev/null || fail "rpm --initdb"
  rpm -i --justdb --nodeps --noscripts --ignoreos --ignorearch --dbpath "$db" "$top"/RPMS/noarch/*.rpm 2>/dev/null \
    || fail "rpm -i --justdb"
  [ -f "$db/rpmdb.sqlite" ] || fail "rpm did not make an SQLite database: $(ls "$db")"
  rpm -qa --dbpath "$db" --qf '%{NAME} %|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE} %{ARCH} %{LICENSE}\n' | sort > "$work/rpm.want"
else
  fail "rpm/rpmbuild are not installed (scripts/install-deps.sh)"
fi

# --- the SBOM -----------------------------------------------------------------------------------
"$vouch" sbom "dir:$fx" -o cyclonedx-json --file "$work/dir.cdx.json" 2>"$work/sbom.err" \
  || fail "sbom -o cyclonedx-json exited $?: $(cat "$work/sbom.err")"
"$vouch" sbom "dir:$fx" -o spdx-json --file "$work/dir.spdx.json" 2>/dev/null || fail "sbom -o spdx-json exited $?"

# Go: `go version -m` of every binary against the go-module components located at it.
for b in "${bins[@]}"; do
  go version -m "$fx$b" | python3 -c '
import re, sys
lines = sys.stdin.read().splitlines()
gover = lines[0].split(": ", 1)[1].strip().split(" ")[0]  # experiments left out
path, main, deps, last, ldflags = "", None, [], None, ""
for l in lines[1:]:
    f = l.strip("\n").split("\t")[1:]
    while f and f[-1] == "": f.pop()
    if not f: continue
    if f[0] == "path": path = f[1]
    elif f[0] == "mod": main = [f[1], f[2]]; last = main
    elif f[0] == "dep": deps.append([f[1], f[2] if len(f) > 2 else ""]); last = deps[-1]
    elif f[0] == "=>": last[0], last[1] = f[1], f[2] if len(f) > 2 else ""
    elif f[0] == "build" and f[1].startswith("-ldflags="): ldflags = f[1]
if main is None and path: main = [path, "(devel)"]
# A "(devel)" main module takes the version given at link time, as syft reads it.
if main and main[1] == "(devel)":
    for pat in (r"\.(?:[gG]it)?(?:[bB]uild)?[vV]er(?:sion)?=(?:\S+/)*(v?\d+.\d+.\d+[-\w]*)", r"\.[tT]ag=(?:\S+/)*(v?\d+.\d+.\d+[-\w]*)"):
        m = re.search(pat, ldflags)
        if m: main[1] = m.group(1) if m.group(1).startswith("v") else "v" + m.group(1); break
out = ["main " + "@".join(main)] if main else []
out += ["dep " + "@".join(d) for d in deps]
out.append("stdlib@" + gover)
print("\n".join(sorted(out)))' > "$work/go.want" || { fail "$b: go version -m did not parse"; continue; }
  python3 - "$work/dir.cdx.json" "$b" > "$work/go.got" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
out = []
for c in d["components"]:
    p = {x["name"]: x["value"] for x in c.get("properties", [])}
    if p.get("syft:package:type") != "go-module" or p.get("syft:location:0:path") != sys.argv[2]: continue
    if c["name"] == "stdlib": out.append("stdlib@" + c["version"])
    else: out.append(c["name"] + "@" + c["version"])
print("\n".join(sorted(out)))
PY
  # vouch does not label the main module; compare path@version sets.
  sed 's/^main //; s/^dep //' "$work/go.want" | sort > "$work/go.want2"
  if ! cmp -s "$work/go.want2" "$work/go.got"; then
    fail "$b: Go modules differ from go version -m (< missed, > extra): $(diff "$work/go.want2" "$work/go.got" | grep '^[<>]' | tr '\n' ';')"
  fi
  echo "go: $b: $(wc -l < "$work/go.want2") modules (incl. stdlib) match go version -m" >&2
  [ "$b" = /opt/app/vouchtest ] && cp "$work/go.want2" "$work/go.vouchtest"
done
python3 - "$work/dir.cdx.json" "$work/go.vouchtest" <<'PY' || fail "Go binary purls / non-executable file"
import json, sys
d = json.load(open(sys.argv[1]))
got = {}
for c in d["components"]:
    p = {x["name"]: x["value"] for x in c.get("properties", [])}
    got.setdefault(p.get("syft:location:0:path"), []).append(c.get("purl"))
want = open(sys.argv[2]).read().split()
# The build has ordinary, module-replaced and directory-replaced dependencies.
for m in ["example.com/lib@v1.0.0", "example.com/fork@v1.1.0", "./dep@(devel)", "example.com/vouchtest@(devel)"]:
    assert m in want, (m, want)
assert "/opt/app/data.bin" not in got, "a file without the execute bit was read as an executable"
app = sorted(got.get("/opt/app/vouchtest", []))
assert "pkg:golang/example.com/vouchtest@%28devel%29" in app, app
assert any(p.startswith("pkg:golang/stdlib@") for p in app), app
assert "pkg:golang/example.com/lib@v1.0.0" in app and "pkg:golang/example.com/fork@v1.1.0" in app, app
assert "pkg:golang/example.com/vouchtest@v2.3.4" in got.get("/opt/app/vouchtest-ldflags", []), got.get("/opt/app/vouchtest-ldflags")
PY

# Java: the pom.properties inside each jar against the java-archive components located at it.
python3 - "$work/dir.cdx.json" "$fx" <<'PY' || fail "Java packages differ from the jars' pom.properties"
import glob, io, json, os, sys, zipfile
d, root = json.load(open(sys.argv[1])), sys.argv[2]
got = {}
for c in d["components"]:
    p = {x["name"]: x["value"] for x in c.get("properties", [])}
    if p.get("syft:package:type") == "java-archive":
        got.setdefault(p.get("syft:location:0:path"), set()).add(c.get("purl"))
def poms(z, out):
    for n in z.namelist():
        if n.startswith("META-INF/maven/") and n.endswith("/pom.properties"):
            kv = dict(l.split("=", 1) for l in z.read(n).decode().splitlines() if "=" in l and not l.startswith("#"))
            out.add(f"pkg:maven/{kv['groupId'].strip()}/{kv['artifactId'].strip()}@{kv['version'].strip()}")
        elif n.endswith(".jar"):
            poms(zipfile.ZipFile(io.BytesIO(z.read(n))), out)
    return out
bad, n = [], 0
for f in sorted(glob.glob(root + "/usr/share/java/*.jar") + [root + "/opt/app/shop.war"]):
    want = poms(zipfile.ZipFile(f), set())
    if not want: continue
    rel = f[len(root):]
    have = got.get(rel, set())
    n += len(want)
    if want - have: bad.append(f"{rel}: missed {sorted(want - have)}")
    if have - want: bad.append(f"{rel}: extra {sorted(have - want)}")
assert n > 0, "no pom.properties in any jar"
assert not bad, "; ".join(bad)
print(f"java: {n} Maven packages match the jars' pom.properties", file=sys.stderr)
PY

# Rust: the Cargo.lock as Python's TOML parser reads it.
python3 - "$work/dir.cdx.json" > "$work/cargo.got" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print("\n".join(sorted(c["purl"] for c in d["components"]
      if {x["name"]: x["value"] for x in c.get("properties", [])}.get("syft:location:0:path") == "/srv/tool/Cargo.lock")))
PY
cmp -s "$work/cargo.want" "$work/cargo.got" \
  || fail "Cargo.lock crates differ from tomllib (< missed, > extra): $(diff "$work/cargo.want" "$work/cargo.got" | grep '^[<>]' | tr '\n' ';')"
python3 - "$work/dir.cdx.json" <<'PY' || fail "Cargo.lock dependencies"
import json, sys
d = json.load(open(sys.argv[1]))
ref = {c["bom-ref"]: c["purl"] for c in d["components"] if "purl" in c}
tool = [c["bom-ref"] for c in d["components"] if c.get("purl") == "pkg:cargo/tool@0.1.0"][0]
deps = sorted(ref[x] for e in d.get("dependencies", []) if e["ref"] == tool for x in e.get("dependsOn", []))
assert deps == ["pkg:cargo/bitflags@1.3.2", "pkg:cargo/bitflags@2.4.1", "pkg:cargo/forked@0.2.0"], deps
PY

# rpm: rpm -qa against the rpm components.
if [ -s "$work/rpm.want" ]; then
  python3 - "$work/dir.cdx.json" "$work/rpm.got" <<'PY' || fail "rpm SBOM content"
import json, sys
cdx = json.load(open(sys.argv[1]))
rows = []
for c in cdx["components"]:
    p = {x["name"]: x["value"] for x in c.get("properties", [])}
    if p.get("syft:package:type") != "rpm": continue
    lic = " and ".join(l.get("expression") or l.get("license", {}).get("name") or l.get("license", {}).get("id", "") for l in c.get("licenses", []))
    rows.append(f"{c['name']} {c['version']} {p.get('syft:metadata:architecture', '')} {lic}")
    assert c["purl"].startswith(f"pkg:rpm/debian/{c['name']}@"), c["purl"]
open(sys.argv[2], "w").write("".join(sorted(r + "\n" for r in rows)))
PY
  cmp -s "$work/rpm.want" "$work/rpm.got" \
    || fail "rpm packages differ from rpm -qa (< missed, > extra): $(diff "$work/rpm.want" "$work/rpm.got" | grep '^[<>]' | tr '\n' ';')"
  echo "rpm: $(wc -l < "$work/rpm.want") packages match rpm -qa" >&2
fi

# Berkeley DB rpm databases are reported, not silently skipped.
mkdir -p "$work/bdb/var/lib/rpm"; head -c 8192 /dev/zero > "$work/bdb/var/lib/rpm/Packages"
"$vouch" sbom "dir:$work/bdb" >/dev/null 2>"$work/bdb.err" || fail "sbom of a Berkeley DB rpm database exited $?"
grep -q "/var/lib/rpm/Packages: rpm database in Berkeley DB format is not read" "$work/bdb.err" \
  || fail "no message for a Berkeley DB rpm database: $(cat "$work/bdb.err")"

# The same tree as a one-layer OCI image.
python3 - "$fx" "$work/layout" <<'PY' || fail "building the test image"
import hashlib, io, json, os, sys, tarfile
src, out = sys.argv[1], sys.argv[2]
os.makedirs(out + "/blobs/sha256")
def blob(data):
    d = hashlib.sha256(data).hexdigest()
    open(f"{out}/blobs/sha256/{d}", "wb").write(data)
    return {"digest": "sha256:" + d, "size": len(data)}
b = io.BytesIO()
with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as t:
    for dirpath, dirs, files in sorted(os.walk(src)):
        for f in sorted(files):
            full = os.path.join(dirpath, f)
            if os.path.islink(full): continue
            i = t.gettarinfo(full, os.path.relpath(full, src)); i.mtime = 0
            t.addfile(i, open(full, "rb"))
l1 = blob(b.getvalue()); l1["mediaType"] = "application/vnd.oci.image.layer.v1.tar"
cfg = blob(json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [l1["digest"]]}}).encode())
cfg["mediaType"] = "application/vnd.oci.image.config.v1+json"
m = blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": cfg, "layers": [l1]}).encode())
m["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
m["annotations"] = {"org.opencontainers.image.ref.name": "test"}
json.dump({"schemaVersion": 2, "manifests": [m]}, open(out + "/index.json", "w"))
json.dump({"imageLayoutVersion": "1.0.0"}, open(out + "/oci-layout", "w"))
PY
"$vouch" sbom "oci:$work/layout:test" -o cyclonedx-json --file "$work/img.cdx.json" 2>/dev/null || fail "sbom of the image exited $?"
"$vouch" sbom "oci:$work/layout:test" -o spdx-json --file "$work/img.spdx.json" 2>/dev/null || fail "sbom -o spdx-json of the image exited $?"
python3 - "$work/dir.cdx.json" "$work/img.cdx.json" <<'PY' || fail "the image and the directory give different packages"
import json, sys
def purls(f): return sorted(c.get("purl", "") for c in json.load(open(f))["components"])
a, b = purls(sys.argv[1]), purls(sys.argv[2])
assert a == b, (sorted(set(a) - set(b))[:5], sorted(set(b) - set(a))[:5])
PY

if validator=$(bash "$root/scripts/json-schema.sh" "$root/.cache/ajv" 2>"$work/npm.log"); then
  $validator spdx "$data/schemas" "$work/dir.spdx.json" "$work/img.spdx.json" >"$work/ajv.log" 2>&1 \
    || fail "SPDX does not validate: $(head -c 600 "$work/ajv.log")"
  $validator cyclonedx "$data/schemas" "$work/dir.cdx.json" "$work/img.cdx.json" >"$work/ajv.log" 2>&1 \
    || fail "CycloneDX does not validate: $(grep -v '^unknown format' "$work/ajv.log" | head -c 600)"
else
  fail "could not install ajv: $(cat "$work/npm.log")"
fi

[ "$fails" -eq 0 ]
