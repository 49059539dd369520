#!/usr/bin/env bash
# Runs each libFuzzer target in $1 for $FUZZ_SECONDS (default 60), seeded from ../shared/testdata.
set -euo pipefail
build=${1:-build-fuzz}
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${FUZZ_SECONDS:-60}
corpus=$root/.cache/fuzz/bundle
mkdir -p "$corpus"
for f in "$root"/../shared/testdata/sigstore-conformance/bundle-verify/*/bundle.sigstore.json \
         "$root"/../shared/testdata/sigstore-trust/trusted_root.*.json; do
  cp "$f" "$corpus/$(echo "$f" | md5sum | cut -c1-16)"
done
"$build/fuzz_bundle" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 "$corpus"
