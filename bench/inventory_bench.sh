#!/usr/bin/env bash
# Inventory at scale: IMAGES images × PACKAGES packages (real PyPI, Go and crates.io names and
# versions drawn from the shared OSV records), then a database update that changes UPDATED
# records; measures `vouch inventory rescan` (time and peak memory) after it and after a second
# such update, and `vouch inventory query` latency (for the most held package and for one held
# about once per image) beside the process start alone. The images are written straight into
# the store's tables (adding 10,000 SBOMs one process at a time would measure process start-up,
# not the inventory).
# Each image holds PACKAGES distinct packages (names drawn uniformly from those the records
# name); VULNERABLE is the share whose version is one a record lists as affected, the rest
# taking a version a record names as fixed (which later records may still affect). With 1.0
# every package is vulnerable: the worst case, not an inventory anyone runs.
#   VOUCH_BIN=build/vouch bash bench/inventory_bench.sh [IMAGES] [PACKAGES] [UPDATED] [VULNERABLE]
set -euo pipefail
vouch=${VOUCH_BIN:?VOUCH_BIN must point at the vouch binary}
data=${VOUCH_TESTDATA:-$(cd "$(dirname "$0")/.." && pwd)/../shared/testdata}
images=${1:-10000} packages=${2:-300} updated=${3:-1000} vulnerable=${4:-0.1}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

mkdir -p "$work/osv"
cp "$data"/osv/pypi/*.json "$data"/osv/go/*.json "$data"/osv/crates.io/*.json "$work/osv/" 2>/dev/null
"$vouch" db update --db "$work/db" --source "$work/osv" >/dev/null
# An empty store with its schema, then the images written in bulk.
"$vouch" inventory images --store "$work/inv.db" >/dev/null
python3 - "$work/osv" "$work/inv.db" "$images" "$packages" "$vulnerable" <<'EOF'
import json, os, random, re, sqlite3, sys, time
src, db, n_images, n_packages, share = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
purl_type = {"PyPI": "pypi", "Go": "golang", "crates.io": "cargo"}
syft_type = {"PyPI": "python", "Go": "go-module", "crates.io": "rust-crate"}
affected, fixed = {}, {}
for f in os.listdir(src):
    r = json.load(open(os.path.join(src, f)))
    for a in r.get("affected", []):
        p = a.get("package", {})
        eco, name = p.get("ecosystem"), p.get("name")
        if eco in purl_type and name:
            affected.setdefault((eco, name), set()).update(a.get("versions", [])[:20])
            for rng in a.get("ranges", []):
                for e in rng.get("events", []):
                    if "fixed" in e:
                        fixed.setdefault((eco, name), set()).add(e["fixed"])
names = sorted(k for k in set(affected) | set(fixed) if affected.get(k) or fixed.get(k))
affected = {k: sorted(v) for k, v in affected.items()}
fixed = {k: sorted(v - set(affected.get(k, []))) for k, v in fixed.items()}
random.seed(7)
def norm(eco, n): return re.sub(r"[-_.]+", "-", n).lower() if eco == "PyPI" else n
c = sqlite3.connect(db)
c.execute("PRAGMA journal_mode=WAL"); c.execute("PRAGMA synchronous=OFF")
start = time.time()
now = int(time.time())
for i in range(n_images):
    digest = "sha256:%064x" % i
    c.execute("INSERT INTO inv_images(digest, repository, tags, platform, pushed, first_seen, last_seen, active, "
              "distro_id, distro_version, sbom_name, sbom_format) VALUES(?,?,?,?,NULL,?,?,1,'','','bench','cyclonedx')",
              (digest, "bench.test/app%d" % (i % 500), '["latest"]', "linux/amd64", now, now))
    rows = []
    drawn = []
    for key in random.sample(names, n_packages):
        vulnerable = random.random() < share
        choices = (affected.get(key) if vulnerable else fixed.get(key)) or affected.get(key) or fixed.get(key)
        drawn.append((key[0], key[1], random.choice(choices)))
    for k, (eco, name, v) in enumerate(drawn):
        pt = purl_type[eco]
        pname = norm(eco, name) if eco == "PyPI" else name
        rows.append((digest, "p%d" % k, name, v, syft_type[eco], "pkg:%s/%s@%s" % (pt, pname, v), pt, pname, "", "", 1,
                     eco, norm(eco, name), norm(eco, name)))
    c.executemany("INSERT OR IGNORE INTO inv_packages VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
# The inventory is current with the first update; its findings are left to the rescan below.
c.execute("INSERT INTO inv_meta(key, value) VALUES('rescanned_through', '1')")
c.commit()
print("wrote %d images x %d packages (of %d names), %.0f%% of them at affected versions, in %.1f s"
      % (n_images, n_packages, len(names), share * 100, time.time() - start))
EOF
# An update that changes UPDATED records (their `modified` moved on), then the rescan it causes.
mkdir -p "$work/upd"
python3 - "$work/osv" "$work/upd" "$updated" <<'EOF'
import json, os, random, sys
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
random.seed(11)
for f in random.sample(sorted(os.listdir(src)), n):
    r = json.load(open(os.path.join(src, f))); r["modified"] = "2031-01-01T00:00:00Z"
    json.dump(r, open(os.path.join(out, f), "w"))
EOF
"$vouch" db update --db "$work/db" --source "$work/upd"
/usr/bin/time -f "rescan after a $updated-record update: %e s, peak %M KB" \
  "$vouch" inventory rescan --store "$work/inv.db" --db "$work/db"
# A second update of as many other records, now that the findings exist: most packages matched
# again keep their findings (only last seen moves); the rest open.
python3 - "$work/osv" "$work/upd2" "$updated" <<'EOF2'
import json, os, random, sys
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(out, exist_ok=True)
random.seed(13)
for f in random.sample(sorted(os.listdir(src)), n):
    r = json.load(open(os.path.join(src, f))); r["modified"] = "2032-01-01T00:00:00Z"
    json.dump(r, open(os.path.join(out, f), "w"))
EOF2
"$vouch" db update --db "$work/db" --source "$work/upd2"
/usr/bin/time -f "rescan of the same inventory after a second $updated-record update: %e s, peak %M KB" \
  "$vouch" inventory rescan --store "$work/inv.db" --db "$work/db"

# Query latency: the command's own time for a package most images hold, best of five.
name=$(sqlite3 "$work/inv.db" "SELECT purl_type || '/' || purl_name FROM inv_packages GROUP BY 1 ORDER BY COUNT(*) DESC LIMIT 1")
for _ in 1 2 3 4 5; do
  s=$(date +%s%N); "$vouch" inventory query --store "$work/inv.db" --purl "pkg:$name" --version '>=0.0.1' -o json >/dev/null
  echo $(( ($(date +%s%N) - s) / 1000000 ))
done | sort -n | head -1 | xargs -I{} echo "inventory query pkg:$name --version '>=0.0.1': {} ms (process included, best of 5)"
for _ in 1 2 3 4 5; do
  s=$(date +%s%N); "$vouch" --version >/dev/null; echo $(( ($(date +%s%N) - s) / 1000000 ))
done | sort -n | head -1 | xargs -I{} echo "process start alone: {} ms (best of 5)"
# A package held about once per image, as log4j-core would be after the next log4j.
name=$(sqlite3 "$work/inv.db" "SELECT purl_type || '/' || purl_name FROM inv_packages GROUP BY 1 HAVING COUNT(*) <= $images ORDER BY COUNT(*) DESC LIMIT 1")
for _ in 1 2 3 4 5; do
  s=$(date +%s%N); "$vouch" inventory query --store "$work/inv.db" --purl "pkg:$name" --version '>=0' -o json >/dev/null
  echo $(( ($(date +%s%N) - s) / 1000000 ))
done | sort -n | head -1 | xargs -I{} echo "inventory query pkg:$name ($(sqlite3 "$work/inv.db" "SELECT COUNT(*) FROM inv_packages WHERE purl_type || '/' || purl_name = '$name'") packages): {} ms (process included, best of 5)"
