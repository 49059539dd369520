#!/usr/bin/env bash
# vouch sbom over a whole directory tree of this machine (default /usr): wall time and peak
# memory, and every Go executable and Java archive in it against ground truth:
#   Go: `go version -m` of each executable (symbolic links left out: the walk does not follow
#   them); a "(devel)" main module compared as the version syft derives for it (from -ldflags,
#   else the VCS pseudo-version);
#   Java: the pom.properties inside each archive (nested archives included) must all be listed.
# Usage: bench/sbom_ground_truth.sh VOUCH_BIN [DIR]
set -euo pipefail
V=$1; dir=${2:-/usr}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
/usr/bin/time -f '%e %M' -o "$T/time" "$V" sbom "dir:$dir" -o cyclonedx-json --file "$T/sbom.json" 2>"$T/err" || {
  echo "vouch sbom failed: $(cat "$T/err")"; exit 1; }
read -r secs kb < "$T/time"
echo "vouch sbom dir:$dir: ${secs}s, peak RSS $((kb / 1024)) MB, $(find "$dir" -xdev -type f -perm /111 2>/dev/null | wc -l) executable files"
python3 - "$T/sbom.json" "$dir" <<'PY'
import collections, datetime, io, json, os, re, subprocess, sys, zipfile
d, prefix = json.load(open(sys.argv[1])), sys.argv[2].rstrip("/")
go, java = collections.defaultdict(set), collections.defaultdict(set)
for c in d["components"]:
    p = {x["name"]: x["value"] for x in c.get("properties", [])}
    path = prefix + p.get("syft:location:0:path", "")
    if p.get("syft:package:type") == "go-module": go[path].add(c["name"] + "@" + c["version"])
    if p.get("syft:package:type") == "java-archive": java[path].add(c.get("purl"))
# Go
out = subprocess.run(["go", "version", "-m", prefix], capture_output=True, text=True).stdout
want, cur, last = {}, None, None
for l in out.splitlines():
    if not l.startswith("\t"):
        path, gv = l.rsplit(": ", 1)
        cur = {"gv": gv.strip(), "path": "", "main": None, "deps": [], "set": {}}; want[path] = cur; continue
    f = l.split("\t")[1:]
    while f and f[-1] == "": f.pop()
    if not f: continue
    if f[0] == "path": cur["path"] = f[1]
    elif f[0] == "mod": cur["main"] = [f[1], f[2]]; last = cur["main"]
    elif f[0] == "dep": cur["deps"].append([f[1], f[2] if len(f) > 2 else ""]); last = cur["deps"][-1]
    elif f[0] == "=>": last[0], last[1] = f[1], (f[2] if len(f) > 2 else "")
    elif f[0] == "build" and "=" in f[1]: k, v = f[1].split("=", 1); cur["set"][k] = v
links = [p for p in want if os.path.islink(p)]
for p in links: del want[p]
differ, modules = [], 0
for path, w in want.items():
    s = {"@".join(m) for m in w["deps"]}
    main = w["main"] or ([w["path"], "(devel)"] if w["path"] else None)
    if main and main[1] == "(devel)":
        # As syft: a version given at link time, else the VCS pseudo-version.
        for pat in (r"\.(?:[gG]it)?(?:[bB]uild)?[vV]er(?:sion)?=(?:\S+/)*(v?\d+.\d+.\d+[-\w]*)", r"\.[tT]ag=(?:\S+/)*(v?\d+.\d+.\d+[-\w]*)"):
            m = re.search(pat, w["set"].get("-ldflags", ""))
            if m:
                main = [main[0], m.group(1) if m.group(1).startswith("v") else "v" + m.group(1)]; break
        else:
            rev, t = w["set"].get("vcs.revision"), w["set"].get("vcs.time")
            if rev and t:
                ts = datetime.datetime.fromisoformat(t.replace("Z", "+00:00")).astimezone(datetime.timezone.utc)
                main = [main[0], f"v0.0.0-{ts.strftime('%Y%m%d%H%M%S')}-{rev[:12]}"]
    if main: s.add("@".join(main))
    if s and w["gv"].startswith("go"): s.add("stdlib@" + w["gv"].split(" ")[0])  # experiments left out
    modules += len(s)
    if s != go.get(path, set()):
        differ.append(f"{path}: missed {sorted(s - go.get(path, set()))[:3]} extra {sorted(go.get(path, set()) - s)[:3]}")
only = sorted(set(go) - set(want))
print(f"go: {len(want)} executables ({len(links)} symlinks left out), {modules} modules per go version -m; "
      f"{len(differ)} differ; {len(only)} executables only vouch lists")
for x in differ[:10] + only[:10]: print("  " + x)
# Java
def poms(z, out, depth=0):
    for n in z.namelist():
        if n.startswith("META-INF/maven/") and n.endswith("/pom.properties"):
            kv = {}
            for l in z.read(n).decode("utf-8", "replace").splitlines():
                l = l.strip()
                if not l or l[0] in "#!": continue
                i = min([k for k in (l.find("="), l.find(":")) if k >= 0], default=-1)
                if i >= 0: kv[l[:i].strip()] = l[i + 1:].strip()
            if kv.get("artifactId") and kv.get("version"):
                out.add(f"pkg:maven/{kv.get('groupId') or kv['artifactId']}/{kv['artifactId']}@{kv['version']}")
        elif depth < 4 and n.endswith((".jar", ".war", ".ear")):
            try: poms(zipfile.ZipFile(io.BytesIO(z.read(n))), out, depth + 1)
            except zipfile.BadZipFile: pass
    return out
archives = npoms = extra = 0
missed = []
for dirpath, _, files in os.walk(prefix):
    for f in files:
        full = os.path.join(dirpath, f)
        if os.path.islink(full) or not f.endswith((".jar", ".war", ".ear")): continue
        try: want_j = poms(zipfile.ZipFile(full), set())
        except Exception: continue
        archives += 1; npoms += len(want_j)
        have = java.get(full, set())
        if want_j - have: missed.append(f"{full}: {sorted(want_j - have)[:3]}")
        extra += len(have - want_j)
print(f"java: {archives} archives, {npoms} packages per pom.properties; {len(missed)} archives with misses; "
      f"{extra} more packages from MANIFEST.MF and file names")
for x in missed[:10]: print("  " + x)
PY
