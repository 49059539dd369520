#!/usr/bin/env bash
# Runs each libFuzzer target in $1 for $FUZZ_SECONDS (default 60), seeded from ../shared/testdata.
# With FUZZ_RUNS=N it runs N inputs per target from a fixed seed instead (repeatable, for CI).
set -euo pipefail
build=${1:-build-fuzz}
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${FUZZ_SECONDS:-60}
limit=(-max_total_time="$seconds")
[ -n "${FUZZ_RUNS:-}" ] && limit=(-runs="$FUZZ_RUNS" -seed=1)
data=$root/../shared/testdata
seed() {  # seed CORPUS FILES...
  local dir=$1; shift; mkdir -p "$dir"
  for f in "$@"; do cp "$f" "$dir/$(echo "$f" | md5sum | cut -c1-16)"; done
}
seed "$root/.cache/fuzz/bundle" "$data"/sigstore-conformance/bundle-verify/*/bundle.sigstore.json "$data"/sigstore-trust/trusted_root.*.json
mkdir -p "$root/.cache/fuzz/checkpoint"
python3 - "$data" "$root/.cache/fuzz/checkpoint" <<'PY'
import glob, json, os, sys, hashlib
for f in glob.glob(os.path.join(sys.argv[1], "sigstore-conformance/bundle-verify/*/bundle.sigstore.json")):
    try: b = json.load(open(f))
    except Exception: continue
    for e in b.get("verificationMaterial", {}).get("tlogEntries", []):
        cp = e.get("inclusionProof", {}).get("checkpoint", {}).get("envelope")
        if cp: open(os.path.join(sys.argv[2], hashlib.md5(cp.encode()).hexdigest()), "w").write(cp)
PY
seed "$root/.cache/fuzz/vuln" "$data"/osv/crates.io/RUSTSEC-2016-000*.json "$data"/osv/pypi/PYSEC-2017-27.json \
  "$data"/osv/go/GO-2020-0001.json "$data"/schemas/spdx-examples/*.json "$data"/schemas/cyclonedx-tests/1.6/valid-*.json \
  "$root"/tests/unit/vuln/testdata/*.json
"$build/fuzz_bundle" "${limit[@]}" -max_len=65536 -rss_limit_mb=2048 "$root/.cache/fuzz/bundle"
"$build/fuzz_tlog_checkpoint" "${limit[@]}" -max_len=8192 -rss_limit_mb=2048 "$root/.cache/fuzz/checkpoint"
"$build/fuzz_vuln_inputs" "${limit[@]}" -max_len=65536 -rss_limit_mb=2048 "$root/.cache/fuzz/vuln"
mkdir -p "$root/.cache/fuzz/tlog-entry"
python3 - "$data" "$root/.cache/fuzz/tlog-entry" <<'PY'
import base64, glob, json, os, sys, hashlib
for f in glob.glob(os.path.join(sys.argv[1], "sigstore-conformance/bundle-verify/*/bundle.sigstore.json")):
    try: b = json.load(open(f))
    except Exception: continue
    for e in b.get("verificationMaterial", {}).get("tlogEntries", []):
        body = e.get("canonicalizedBody")
        if body:
            raw = base64.b64decode(body)
            open(os.path.join(sys.argv[2], hashlib.md5(raw).hexdigest()), "wb").write(raw)
PY
"$build/fuzz_tlog_entry" "${limit[@]}" -max_len=65536 -rss_limit_mb=2048 "$root/.cache/fuzz/tlog-entry"
