#!/usr/bin/env bash
# A private stack's trust distributed over TUF: `vouch stack up` signs an image and a blob keyless;
# its trusted_root.json and signing config are published by `vouch tuf` and served. Then:
# - `vouch verify` of the keyless image with no trust flags takes the trusted root over TUF, and
#   with the repository stopped still verifies from the cache, saying how old it is;
# - @sigstore/tuf (sigstore-js's client), initialised from the same repository, fetches the
#   trusted root, and sigstore-js verifies the stack's bundle with it.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/assert.sh"
vouch=${VOUCH_BIN:?VOUCH_BIN must point at the vouch binary}
root=$(cd "$(dirname "$0")/../.." && pwd)
shared=$root/../shared
here=$root/tests/integration/tuf
work=$(mktemp -d)
stack_pid="" tuf_pid=""
cleanup() {
  for p in $tuf_pid $stack_pid; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
command -v umoci >/dev/null || { echo "FAIL: umoci is missing (scripts/install-deps.sh installs it)"; exit 1; }
bash "$root/scripts/npm-peer.sh" tuf-js "$root/.cache/tuf-js" || { echo "FAIL: installing the TUF peers"; exit 1; }
bash "$root/scripts/npm-peer.sh" sigstore-js "$root/.cache/sigstore-js" || { echo "FAIL: installing sigstore-js"; exit 1; }
cd "$work"

"$vouch" stack up --dir stack 2>stack.log &
stack_pid=$!
for _ in $(seq 100); do [ -s stack/env ] && break; sleep 0.1; done
[ -s stack/env ] || { echo "FAIL: vouch stack up did not start: $(cat stack.log)"; exit 1; }
# shellcheck disable=SC1091
source stack/env
identity=https://github.com/example/app/.github/workflows/release.yml@refs/heads/main
umoci init --layout L && umoci new --image L:v1 >/dev/null || { echo "FAIL: umoci: making an image"; exit 1; }
"$vouch" sign --signing-config stack/signing_config.json --yes oci:L:v1 2>sign.err || fail "keyless sign: $(cat sign.err)"
echo "an artifact" > artifact.txt
"$vouch" sign-blob --signing-config stack/signing_config.json --bundle blob.json --yes artifact.txt 2>sign.err \
  || fail "keyless sign-blob: $(cat sign.err)"

# The stack's trust, published over TUF under the names Sigstore uses.
"$vouch" tuf init --dir repo >/dev/null 2>&1 || fail "tuf init"
"$vouch" tuf add-target --dir repo stack/trusted_root.json --name trusted_root.json >/dev/null 2>&1 || fail "add-target trusted_root.json"
"$vouch" tuf add-target --dir repo stack/signing_config.json --name signing_config.v0.2.json >/dev/null 2>&1 \
  || fail "add-target signing_config.v0.2.json"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
"$vouch" tuf serve --dir repo --listen "127.0.0.1:$port" 2>tuf.log &
tuf_pid=$!
for _ in $(seq 50); do curl -sf "$url/readyz" >/dev/null && break; sleep 0.1; done

# vouch: no trust flags, no SIGSTORE_ROOT_FILE; the root comes over TUF.
unset SIGSTORE_ROOT_FILE
export TUF_ROOT=$work/tuf-root
"$vouch" initialize --mirror "$url" --root repo/repository/1.root.json >/dev/null 2>init.err || fail "initialize: $(cat init.err)"
verify_image() {
  "$vouch" verify --certificate-identity "$identity" --certificate-oidc-issuer "$VOUCH_OIDC_URL" -o text oci:L:v1
}
verify_image >verify.out 2>verify.err || fail "keyless verify with the trusted root over TUF: $(cat verify.err)"
grep -q "^bundle " verify.out || fail "verify: the keyless signature is not reported: $(cat verify.out)"
grep -q "cached" verify.err && fail "verify used the cache although the repository is up: $(cat verify.err)"
expect 12 "no valid signatures" -- "$vouch" verify --certificate-identity https://github.com/example/other/.github/workflows/release.yml@refs/heads/main \
  --certificate-oidc-issuer "$VOUCH_OIDC_URL" oci:L:v1

# The repository gone: the cache serves, and says how old it is.
kill "$tuf_pid" && wait "$tuf_pid" 2>/dev/null
tuf_pid=""
verify_image >verify.out 2>verify.err || fail "keyless verify offline: $(cat verify.err)"
grep -q "using the cached trusted root from $url (refreshed [0-9]* s ago)" verify.err \
  || fail "verify offline does not say it used the cache and its age: $(cat verify.err)"
grep -q "^bundle " verify.out || fail "verify offline: the keyless signature is not reported: $(cat verify.out)"

# sigstore-js's TUF client from the same repository (served again), then sigstore-js's verifier.
"$vouch" tuf serve --dir repo --listen "127.0.0.1:$port" 2>>tuf.log &
tuf_pid=$!
for _ in $(seq 50); do curl -sf "$url/readyz" >/dev/null && break; sleep 0.1; done
out=$(NODE_PATH=$root/.cache/tuf-js/node_modules node "$here/sigstore-tuf-trusted-root.js" "$url" repo/repository/1.root.json \
      sigstore-tuf-cache sigstore-tuf-root.json 2>&1) || fail "@sigstore/tuf from the vouch repository: $out"
out=$(NODE_PATH=$root/.cache/sigstore-js/node_modules node "$shared/peers/sigstore-js/verify-bundle.js" blob.json artifact.txt \
      sigstore-tuf-root.json --identity "$identity" --issuer "$VOUCH_OIDC_URL" 2>&1) && [[ "$out" == OK* ]] \
  || fail "sigstore-js, with the trusted root from @sigstore/tuf, rejects the stack's bundle: $out"

[ "$fails" -eq 0 ] && echo "a private stack's trust over TUF: all checks passed"
[ "$fails" -eq 0 ]
