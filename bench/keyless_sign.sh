#!/usr/bin/env bash
# Keyless signing end to end against a private stack on loopback: `vouch stack up` (OIDC issuer
# answering GitHub Actions' token request, CA + CT log, Rekor-compatible log, TSA), then the whole
# `vouch sign-blob --signing-config DIR/signing_config.json --bundle OUT FILE --yes` command each
# time (token request, key generation, certificate, log entry, timestamp, bundle), with nothing
# but DIR/env sourced. The floor it is set against, in the same run: `vouch sign-blob --key K`
# with a P-256 key file (unencrypted PKCS#8, the key type keyless signing generates) and no log;
# and, for reference, the same with a cosign key file (scrypt-encrypted, as cosign writes it),
# whose key derivation alone costs more than the floor. Runs interleaved, so that a shared
# machine's load falls on all alike; one keyless bundle is verified first.
# Usage: bench/keyless_sign.sh VOUCH_BIN [RUNS]
set -euo pipefail
V=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); runs=${2:-20}
T=$(mktemp -d); stack_pid=
cleanup() { [ -n "$stack_pid" ] && { kill -TERM "$stack_pid" 2>/dev/null; wait "$stack_pid" 2>/dev/null; }; rm -rf "$T"; }
trap cleanup EXIT
cd "$T"; export HOME=$T

"$V" stack up --dir stack 2>stack.log &
stack_pid=$!
for _ in $(seq 100); do [ -s stack/env ] && break; sleep 0.1; done
[ -s stack/env ] || { echo "vouch stack up did not start: $(cat stack.log)"; exit 1; }
# shellcheck disable=SC1091
source stack/env

head -c 65536 /dev/urandom > artifact.bin
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out plain.key
export COSIGN_PASSWORD=bench
"$V" generate-key-pair --output-key-prefix cosign >/dev/null 2>&1

keyless_once() {
  "$V" sign-blob --signing-config stack/signing_config.json --bundle keyless.json artifact.bin --yes >/dev/null 2>keyless.err
}
key_once() { "$V" sign-blob --key "$1" --tlog-upload=false --bundle key.json artifact.bin >/dev/null 2>key.err; }

keyless_once || { echo "keyless sign-blob failed: $(cat keyless.err)"; exit 1; }
for k in plain.key cosign.key; do key_once $k || { echo "sign-blob --key $k failed: $(cat key.err)"; exit 1; }; done
identity=https://github.com/example/app/.github/workflows/release.yml@refs/heads/main
"$V" verify-blob --bundle keyless.json --certificate-identity "$identity" --certificate-oidc-issuer "$VOUCH_OIDC_URL" \
  artifact.bin >/dev/null 2>verify.err || { echo "the keyless bundle does not verify: $(cat verify.err)"; exit 1; }
python3 - <<'PY' || { echo "the keyless bundle lacks its certificate, log entry or timestamp"; exit 1; }
import json
vm = json.load(open("keyless.json"))["verificationMaterial"]
assert "certificate" in vm and len(vm["tlogEntries"]) == 1 and vm["timestampVerificationData"]["rfc3161Timestamps"]
PY

: > times.txt
for _ in $(seq "$runs"); do
  a=$(date +%s%N); keyless_once || { echo "keyless sign-blob failed: $(cat keyless.err)"; exit 1; }
  b=$(date +%s%N); key_once plain.key || { echo "sign-blob --key failed: $(cat key.err)"; exit 1; }
  c=$(date +%s%N); key_once cosign.key || { echo "sign-blob --key (cosign key) failed: $(cat key.err)"; exit 1; }
  d=$(date +%s%N)
  echo "$(( (b - a) / 1000 )) $(( (c - b) / 1000 )) $(( (d - c) / 1000 ))" >> times.txt
done
python3 - times.txt "$runs" <<'PY'
import statistics, sys
rows = [tuple(map(int, l.split())) for l in open(sys.argv[1])]
keyless, plain, cosign = ([r[i] / 1000 for r in rows] for i in range(3))
n = sys.argv[2]
def line(what, t):
    print(f"{what + ' (' + n + ' runs)':<60} mean {statistics.mean(t):7.1f} ms  median {statistics.median(t):7.1f} ms")
line("keyless sign-blob via vouch stack up", keyless)
line("sign-blob --key, P-256 PEM key, no log (the floor)", plain)
line("sign-blob --key, cosign key (scrypt), no log", cosign)
med = statistics.median
print(f"ratio keyless / local signing floor (medians):  {med(keyless) / med(plain):.1f}x")
print(f"ratio keyless / cosign-key signing (medians):   {med(keyless) / med(cosign):.2f}x")
PY
