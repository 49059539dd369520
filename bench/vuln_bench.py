#!/usr/bin/env python3
"""Vulnerability database and scan benchmark.

1. Import rate: `vouch db import` of the real OSV data in ../shared/testdata/osv (Go, PyPI,
   crates.io) and of a synthetic all.zip of RECORDS records (default 100,000), records/s.
2. Scan: `vouch scan sbom:FILE` of a synthetic 1,000-package CycloneDX SBOM against that
   database: cold (first run) and warm (median and best of RUNS), peak memory, DB size.
The synthetic data is deterministic (seeded) and spread over npm, PyPI, Go, crates.io,
Maven and Debian:12 with several records per package name, as real feeds are.

usage: vuln_bench.py VOUCH_BIN TESTDATA WORKDIR [RECORDS] [RUNS]
"""
import json, os, random, resource, shutil, statistics, subprocess, sys, time, zipfile

vouch, testdata, work = sys.argv[1:4]
records = int(sys.argv[4]) if len(sys.argv) > 4 else 100000
runs = int(sys.argv[5]) if len(sys.argv) > 5 else 20
os.makedirs(work, exist_ok=True)
rng = random.Random(20240601)

ECOS = [("npm", "npm"), ("PyPI", "pypi"), ("Go", "golang"), ("crates.io", "cargo"), ("Maven", "maven"), ("Debian:12", "deb")]
NAMES_PER_ECO = 5000

def name_for(eco, i):
    if eco == "Go": return f"github.com/example{i % 97}/module{i}"
    if eco == "Maven": return f"org.example{i % 89}:artifact{i}"
    return f"package-{i}"

def version(i):
    return f"{i % 7}.{(i * 3) % 13}.{(i * 5) % 17}"

def record(n):
    eco, _ = ECOS[n % len(ECOS)]
    i = rng.randrange(NAMES_PER_ECO)
    major = rng.randrange(5)
    fixed = f"{major}.{rng.randrange(20)}.{rng.randrange(20)}"
    if eco == "Debian:12": fixed += "-1"
    events = [{"introduced": "0" if rng.random() < 0.5 else f"{max(major - 1, 0)}.0.0"}, {"fixed": fixed}]
    sev = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:%s/I:%s/A:%s" % tuple(rng.choice("NLH") for _ in range(3))
    return {
        "schema_version": "1.6.0",
        "id": f"SYN-{n:07d}",
        "modified": "2024-01-01T00:00:00Z",
        "published": "2024-01-01T00:00:00Z",
        "aliases": [f"CVE-2024-{n:07d}"],
        "summary": f"synthetic advisory {n}",
        "details": "x" * rng.randrange(200, 1200),
        "severity": [{"type": "CVSS_V3", "score": sev}],
        "affected": [{"package": {"ecosystem": eco, "name": name_for(eco, i)},
                      "ranges": [{"type": "SEMVER" if eco in ("npm", "Go", "crates.io") else "ECOSYSTEM", "events": events}],
                      "versions": [f"{major}.0.{k}" for k in range(rng.randrange(0, 30))]}],
        "references": [{"type": "ADVISORY", "url": f"https://example.com/advisories/{n}"}],
    }

def purl(eco, ptype, name, ver):
    if eco == "Go": return f"pkg:golang/{name}@v{ver}"
    if eco == "Maven":
        g, a = name.split(":")
        return f"pkg:maven/{g}/{a}@{ver}"
    if eco == "Debian:12": return f"pkg:deb/debian/{name}@{ver}-1?arch=amd64&distro=debian-12"
    return f"pkg:{ptype}/{name}@{ver}"

last_cpu = [0.0]

def run(cmd):
    """Runs cmd; returns its wall time and result, and leaves its CPU time in last_cpu."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    last_cpu[0] = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return wall, p

# Synthetic all.zip and SBOM (cached between runs).
zpath = os.path.join(work, f"synthetic-{records}.zip")
if not os.path.exists(zpath):
    tmp = zpath + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for n in range(records):
            z.writestr(f"SYN-{n:07d}.json", json.dumps(record(n)))
    os.replace(tmp, zpath)
comps = []
for k in range(1000):
    eco, ptype = ECOS[k % len(ECOS)]
    i = rng.randrange(NAMES_PER_ECO)
    name = name_for(eco, i)
    ver = version(k)
    c = {"bom-ref": f"c{k}", "type": "library", "name": name, "version": ver + ("-1" if eco == "Debian:12" else ""),
         "purl": purl(eco, ptype, name, ver)}
    comps.append(c)
sbom = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
        "metadata": {"component": {"type": "container", "name": "synthetic:1000"}},
        "components": [{"type": "operating-system", "name": "debian", "version": "12"}] + comps}
sbom_path = os.path.join(work, "sbom-1000.cdx.json")
json.dump(sbom, open(sbom_path, "w"))

# 1. Import rates.
real_db = os.path.join(work, "db-real")
shutil.rmtree(real_db, ignore_errors=True)
osv = os.path.join(testdata, "osv")
t_real, p = run([vouch, "db", "import", "--db", real_db, "-o", "json"] + [os.path.join(osv, d) for d in ("go", "pypi", "crates.io")])
if p.returncode: sys.exit(f"import failed: {p.stderr}")
real = json.loads(p.stdout)
syn_db = os.path.join(work, "db-synthetic")
shutil.rmtree(syn_db, ignore_errors=True)
t_syn, p = run([vouch, "db", "import", "--db", syn_db, "-o", "json", zpath])
if p.returncode: sys.exit(f"import failed: {p.stderr}")
syn = json.loads(p.stdout)
import_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
t_re, p = run([vouch, "db", "import", "--db", syn_db, "-o", "json", zpath])
re = json.loads(p.stdout)
status = json.loads(subprocess.check_output([vouch, "db", "status", "--db", syn_db, "-o", "json"]))

# 2. Scans.
scan = [vouch, "scan", "--db", syn_db, "-o", "json", "sbom:" + sbom_path]
cold, p = run(scan)
if p.returncode: sys.exit(f"scan failed: {p.stderr}")
result = json.loads(p.stdout)
times, cpus = [], []
for _ in range(runs):
    t, p = run(scan)
    times.append(t)
    cpus.append(last_cpu[0])
scan_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # max over every child so far

print(f"{'import real OSV (Go, PyPI, crates.io)':48} {real['records']:>8} records {t_real:7.2f} s {real['records']/t_real:>9.0f} records/s")
print(f"{'import synthetic all.zip':48} {syn['records']:>8} records {t_syn:7.2f} s {syn['records']/t_syn:>9.0f} records/s")
print(f"{'re-import (all unchanged)':48} {re['unchanged']:>8} records {t_re:7.2f} s {re['records']/t_re:>9.0f} records/s")
print(f"{'database':48} {status['records']:>8} records {status['sizeBytes']/1e6:7.1f} MB")
print(f"{'scan 1,000 packages: cold (first run)':48} {cold*1000:8.1f} ms")
print(f"{'scan 1,000 packages: warm median of %d' % runs:48} {statistics.median(times)*1000:8.1f} ms")
print(f"{'scan 1,000 packages: warm best':48} {min(times)*1000:8.1f} ms")
print(f"{'scan 1,000 packages: warm CPU time (user+sys), median':48} {statistics.median(cpus)*1000:8.1f} ms")
print(f"{'load average (1 min) during the run':48} {os.getloadavg()[0]:8.2f}")
print(f"{'findings':48} {len(result['matches']):>8} ({result['summary']['packagesMatched']} packages matched)")
print(f"{'peak memory (max RSS of any vouch process)':48} {max(import_rss, scan_rss)/1024:8.1f} MB")
print(f"ratio warm scan / 100 ms limit: {statistics.median(times)*1000/100:.2f} wall, {statistics.median(cpus)*1000/100:.2f} CPU")
