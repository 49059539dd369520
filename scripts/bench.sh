#!/usr/bin/env bash
# Benchmarks, each reported as a ratio against a limit or a peer measured in the same run.
#  1. Sigstore bundle verification: vouch in process vs the limit the signatures set
#     (openssl speed: one P-384 and about three P-256 verifications per public-good bundle)
#     vs sigstore-js verifying the same bundles offline.
#  2. Vulnerability database: import rate (records/s) of the real OSV data and of a synthetic
#     100,000-record all.zip; a 1,000-package SBOM scanned against it, with the DB size and
#     peak memory (bench/vuln_bench.py).
#  3. Image signature verification with a key: `vouch verify --key` vs skopeo's sigstoreSigned
#     policy check on the same image and signature (bench/cosign_verify.sh).
#  4. SBOM: `vouch sbom` against cdxgen and against gzip -dc of the layers, on one image, with
#     peak memory (bench/sbom_bench.sh).
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
shared=$root/../shared
export VOUCH_TESTDATA=$shared/testdata
cache=$root/.cache
cd "$root"

echo "== Sigstore bundle verification"
"$build/vouch_bench" --benchmark_filter=BM_VerifyBundle --benchmark_format=json --benchmark_out="$cache/bench-verify.json" \
  --benchmark_out_format=json >/dev/null
vouch_rate=$(python3 -c "import json,sys; b=json.load(open('$cache/bench-verify.json'))['benchmarks'][0]; print(round(b['items_per_second']))")

speed=$(openssl speed -seconds 2 ecdsap256 ecdsap384 2>/dev/null)
p256=$(echo "$speed" | awk '/256 bits ecdsa \(nistp256\)/ {print $NF}')
p384=$(echo "$speed" | awk '/384 bits ecdsa \(nistp384\)/ {print $NF}')
limit=$(python3 -c "print(round(1/(1/$p384 + 3/$p256)))")

js_rate=""
if bash scripts/npm-peer.sh sigstore-js "$cache/sigstore-js" >/dev/null 2>&1; then
  base=$shared/testdata/sigstore-conformance/bundle-verify
  args=()
  for c in happy-path-v0.1 happy-path-v0.2 happy-path-v0.3 happy-path-intoto-in-dsse-v3; do
    art=$base/$c/artifact; [ -f "$art" ] || art=$base/a.txt
    args+=("$base/$c/bundle.sigstore.json" "$art")
  done
  js_rate=$(NODE_PATH="$cache/sigstore-js/node_modules" node bench/sigstore-js-verify.js 5 \
    "$shared/testdata/sigstore-trust/trusted_root.production.json" \
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main" \
    "https://token.actions.githubusercontent.com" "${args[@]}" | awk '{print $2}')
fi

printf '%-44s %12s\n' "vouch verify (distinct bundles, 1 core)" "$vouch_rate/s"
printf '%-44s %12s\n' "openssl speed: ecdsa P-256 verify" "$p256/s"
printf '%-44s %12s\n' "openssl speed: ecdsa P-384 verify" "$p384/s"
printf '%-44s %12s\n' "signature limit: 1 P-384 + 3 P-256" "$limit/s"
[ -n "$js_rate" ] && printf '%-44s %12s\n' "sigstore-js (@sigstore/verify, offline)" "$js_rate/s"
python3 - "$vouch_rate" "$limit" "${js_rate:-0}" <<'PY'
import sys
v, limit, js = (float(x) for x in sys.argv[1:])
print(f"ratio vouch / signature limit: {v/limit:.2f}")
if js: print(f"ratio vouch / sigstore-js:      {v/js:.1f}x")
PY

#  2. Transparency log on loopback: durable appends per second with 1, 8 and 32 concurrent
#     clients (each answer only after its batch is committed and fsync'd), and proof requests
#     per second, on SQLite and on a PostgreSQL server started here.
echo "== Transparency log (vouch log serve pieces, HTTP on 127.0.0.1)"
pg=$(mktemp -d)
trap 'bash "$root/scripts/pg-cluster.sh" stop "$pg"; rm -rf "$pg"' EXIT
pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
if pg_url=$(bash scripts/pg-cluster.sh start "$pg" "$pg_port"); then export VOUCH_BENCH_POSTGRES_URL=$pg_url; fi
"$build/vouch_bench" --benchmark_filter=BM_Tlog --benchmark_format=json --benchmark_out="$cache/bench-tlog.json" \
  --benchmark_out_format=json >/dev/null 2>&1 || true
python3 - "$cache/bench-tlog.json" <<'PY'
import json, sys
names = {"0": "SQLite", "1": "PostgreSQL"}
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    parts = b["name"].split("/")
    store, clients = names[parts[1]], parts[2]
    if "error_message" in b:
        print(f"{parts[0][3:]:<24} {store:<11} {clients:>3} clients  skipped: {b['error_message']}"); continue
    if "appends_per_s" in b:
        print(f"durable appends          {store:<11} {clients:>3} clients  {b['appends_per_s']:8.0f}/s  ({int(b['batches'])} batches)")
    else:
        print(f"proof requests           {store:<11} {clients:>3} clients  {b['proofs_per_s']:8.0f}/s")
PY

echo "== Vulnerability database and scan"
python3 bench/vuln_bench.py "$build/vouch" "$shared/testdata" "$cache/bench-vuln" "${VULN_RECORDS:-100000}" "${VULN_RUNS:-20}"

echo "== Image signature verification: vouch verify --key vs skopeo's sigstoreSigned policy check"
bash bench/cosign_verify.sh "$build/vouch" "${COSIGN_RUNS:-30}"
echo "== SBOM: vouch sbom vs cdxgen vs gzip -dc of the layers (same image)"
bash bench/sbom_bench.sh "$build/vouch" "$cache" "${SBOM_RUNS:-3}"
echo
echo "== OCI: reading and squashing an image"
bash bench/oci_squash.sh "$build/vouch" "$cache"
echo
echo "== Policy evaluation (examples/policies, in process, 1 core) and JMESPath"
"$build/vouch_bench" --benchmark_filter='BM_PolicyEvaluate|BM_Jmespath' --benchmark_format=json \
  --benchmark_out="$cache/bench-policy.json" --benchmark_out_format=json >/dev/null
python3 - "$cache/bench-policy.json" <<'PY'
import json, sys
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    name = {"BM_PolicyEvaluatePod": "policy evaluations/s, Pod (3 policies)",
            "BM_PolicyEvaluateDeployment": "policy evaluations/s, Deployment (autogen)",
            "BM_JmespathEvaluate": "JMESPath evaluations/s (compiled)"}.get(b["name"], b["name"])
    print(f"{name:<44} {round(b['items_per_second']):>12}/s")
PY
echo
echo "== SBOM: Go executables and Java archives of /usr against go version -m and pom.properties"
bash bench/sbom_ground_truth.sh "$build/vouch" /usr
