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
"$build/fuzz_bundle" "${limit[@]}" -max_len=65536 -rss_limit_mb=2048 "$root/.cache/fuzz/bundle"
"$build/fuzz_tlog_checkpoint" "${limit[@]}" -max_len=8192 -rss_limit_mb=2048 "$root/.cache/fuzz/checkpoint"
# Policies: the example policies and the Kyverno-format test policies.
seed "$root/.cache/fuzz/policy" "$root"/examples/policies/*.yaml "$root"/tests/policy/*/policy.yaml
"$build/fuzz_policy" "${limit[@]}" -max_len=16384 -rss_limit_mb=2048 "$root/.cache/fuzz/policy"
# JMESPath: the compliance suite's expressions, one per file.
mkdir -p "$root/.cache/fuzz/jmespath"
python3 - "$data" "$root/.cache/fuzz/jmespath" <<'PY'
import glob, json, os, sys, hashlib
for f in glob.glob(os.path.join(sys.argv[1], "jmespath/tests/*.json")):
    for group in json.load(open(f, encoding="utf-8")):
        for case in group["cases"]:
            e = case["expression"]
            open(os.path.join(sys.argv[2], hashlib.md5(e.encode()).hexdigest()), "w").write(e + "\n" + json.dumps(group["given"]))
PY
"$build/fuzz_jmespath" "${limit[@]}" -max_len=4096 -rss_limit_mb=2048 "$root/.cache/fuzz/jmespath"
