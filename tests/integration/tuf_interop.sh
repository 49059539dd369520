#!/usr/bin/env bash
# vouch's TUF repository and client against independent implementations (npm, pinned in
# ../shared/peers/tuf-js):
# - `vouch tuf init|add-target|serve` publishes Sigstore's trusted_root.json and signing config;
#   tuf-js's client updates from it and downloads them, before and after root and timestamp key
#   rotations (holding only the first root); @sigstore/tuf (sigstore-js's client) fetches the
#   trusted root from it, and sigstore-js verifies a conformance bundle with that root;
# - a repository built and signed with @tufjs/models is read by `vouch initialize` and used by
#   `vouch verify-blob` with no trust flags;
# - with the repository stopped, `vouch verify-blob` uses the cache and says how old it is;
# - a repository serving a rolled-back timestamp is refused, not bypassed through the cache.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/assert.sh"
vouch=${VOUCH_BIN:?VOUCH_BIN must point at the vouch binary}
root=$(cd "$(dirname "$0")/../.." && pwd)
shared=$root/../shared
here=$root/tests/integration/tuf
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

bash "$root/scripts/npm-peer.sh" tuf-js "$root/.cache/tuf-js" || { echo "FAIL: installing the TUF peers"; exit 1; }
bash "$root/scripts/npm-peer.sh" sigstore-js "$root/.cache/sigstore-js" || { echo "FAIL: installing sigstore-js"; exit 1; }
tuf_js_modules=$root/.cache/tuf-js/node_modules
sigstore_js=$root/.cache/sigstore-js

conformance=$shared/testdata/sigstore-conformance/bundle-verify
trusted_root=$shared/testdata/sigstore-trust/trusted_root.production.json
identity="https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
issuer="https://token.actions.githubusercontent.com"
verify_blob() {  # verify_blob [vouch flags...]: the conformance happy path, no trust flags
  "$vouch" verify-blob --bundle "$conformance/happy-path-v0.3/bundle.sigstore.json" \
    --certificate-identity "$identity" --certificate-oidc-issuer "$issuer" "$@" "$conformance/a.txt"
}

cd "$work"
# --- a vouch repository
"$vouch" tuf init --dir repo >/dev/null 2>&1 || fail "tuf init"
"$vouch" tuf add-target --dir repo "$trusted_root" --name trusted_root.json >/dev/null 2>&1 || fail "add-target trusted_root.json"
"$vouch" tuf add-target --dir repo "$shared/testdata/sigstore-trust/signing_config.production.json" \
  --name signing_config.v0.2.json >/dev/null 2>&1 || fail "add-target signing_config"
[ "$(stat -c %a repo/keys/root.pem)" = 600 ] || fail "keys are not 0600"
cp repo/repository/1.root.json first-root.json

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
start_server() {
  "$vouch" tuf serve --dir repo --listen 127.0.0.1:$port 2>>server.log &
  pid=$!
  for _ in $(seq 50); do curl -sf "$url/readyz" >/dev/null && return 0; sleep 0.1; done
  echo "FAIL: tuf serve did not start: $(cat server.log)"; exit 1
}
stop_server() { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=""; }
start_server
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/1.root.json")" = 200 ] || fail "serve: 1.root.json is not served"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/1.root.json")" = 405 ] || fail "serve: POST was not refused"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/.hidden")" = 404 ] || fail "serve: a hidden name was served"
[ "$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "$url/../keys/root.pem")" = 404 ] || fail "serve: a path outside the repository was served"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/%2E%2E/keys/root.pem")" = 404 ] || fail "serve: an encoded .. was served"
curl -sf "$url/metrics" | grep '^vouch_tuf_files_served_total' >/dev/null || fail "serve: no /metrics"

# tuf-js updates from it (it starts from the first root) and downloads the trusted root.
mkdir -p tufjs
cp first-root.json tufjs/root.json
out=$(NODE_PATH=$tuf_js_modules node "$here/tuf-js-client.js" "$url" "$url/targets" tufjs trusted_root.json tufjs-trusted_root.json 2>&1) \
  || fail "tuf-js refresh from the vouch repository: $out"
cmp -s tufjs-trusted_root.json "$trusted_root" || fail "tuf-js downloaded another trusted_root.json"
echo "ok: tuf-js updates from a vouch repository ($out)"

# Root and timestamp keys rotated: tuf-js, still holding root version 1 in its first cache, follows.
"$vouch" tuf rotate-key --dir repo --role root >/dev/null 2>&1 || fail "rotate-key root"
"$vouch" tuf rotate-key --dir repo --role timestamp >/dev/null 2>&1 || fail "rotate-key timestamp"
mkdir -p tufjs-old && cp first-root.json tufjs-old/root.json
out=$(NODE_PATH=$tuf_js_modules node "$here/tuf-js-client.js" "$url" "$url/targets" tufjs-old signing_config.v0.2.json sc.json 2>&1) \
  || fail "tuf-js after key rotations: $out"
[[ $out == *'"rootVersion":3'* ]] || fail "tuf-js did not reach root version 3: $out"
out=$(NODE_PATH=$tuf_js_modules node "$here/tuf-js-client.js" "$url" "$url/targets" tufjs trusted_root.json tufjs-trusted_root2.json 2>&1) \
  || fail "tuf-js (cache from before the rotations): $out"
echo "ok: tuf-js follows root and timestamp key rotations"

# @sigstore/tuf fetches the trusted root; sigstore-js verifies a bundle with it.
out=$(NODE_PATH=$tuf_js_modules node "$here/sigstore-tuf-trusted-root.js" "$url" first-root.json sigstore-tuf-cache sigstore-tuf-root.json 2>&1) \
  || fail "@sigstore/tuf from the vouch repository: $out"
out=$(NODE_PATH=$sigstore_js/node_modules node "$sigstore_js/verify-bundle.js" "$conformance/happy-path-v0.3/bundle.sigstore.json" \
      "$conformance/a.txt" sigstore-tuf-root.json --identity "$identity" --issuer "$issuer" 2>&1) \
  || fail "sigstore-js with the trusted root from @sigstore/tuf: $out"
echo "ok: @sigstore/tuf gets the trusted root from a vouch repository and sigstore-js verifies with it"

# vouch's own client: initialize against the repository, then verify with no trust flags.
export TUF_ROOT=$work/tuf-root
expect 0 "" -- "$vouch" initialize --mirror "$url" --root first-root.json
expect 1 "--root-checksum says" -- "$vouch" initialize --mirror "$url" --root first-root.json --root-checksum "$(printf '0%.0s' $(seq 64))"
verify_blob > verify.out 2> verify.err || fail "verify-blob from the TUF cache: $(cat verify.err)"
grep -q "Verified OK" verify.err verify.out || fail "verify-blob: no verdict: $(cat verify.out verify.err)"
grep -q "cached" verify.err && fail "verify-blob used the cache although the repository is up: $(cat verify.err)"
echo "ok: vouch verify-blob with no trust flags (trusted root from the vouch repository over TUF)"

# Network gone: the cache serves, and says how old it is.
stop_server
verify_blob > verify.out 2> verify.err || fail "verify-blob offline: $(cat verify.err)"
grep -q "using the cached trusted root from $url (refreshed [0-9]* s ago)" verify.err \
  || fail "verify-blob offline does not say it used the cache and its age: $(cat verify.err)"
echo "ok: offline, the cached trusted root is used and its age reported"

# A rolled-back timestamp is refused, not bypassed through the cache.
cp repo/repository/timestamp.json old-timestamp.json
"$vouch" tuf refresh --dir repo >/dev/null 2>&1 || fail "tuf refresh"
start_server
verify_blob >/dev/null 2>&1 || fail "verify-blob after a repository refresh"
cp old-timestamp.json repo/repository/timestamp.json
expect 1 "below the trusted version" -- verify_blob
stop_server

# A repository made with @tufjs/models, read by vouch (from a directory, as an air-gapped copy).
NODE_PATH=$tuf_js_modules node "$here/tufjs-models-repository.js" "$work/tufjs-repo" "$trusted_root" trusted_root.json \
  || fail "@tufjs/models repository"
export TUF_ROOT=$work/tuf-root-2
expect 0 "" -- "$vouch" initialize --mirror "file://$work/tufjs-repo" --root "$work/tufjs-repo/1.root.json"
verify_blob > verify.out 2> verify.err || fail "verify-blob from the @tufjs/models repository: $(cat verify.err)"
echo "ok: vouch reads a repository signed with @tufjs/models (Ed25519)"

# Without a root for the repository: no flags and no TUF cache is an error naming the ways out.
export TUF_ROOT=$work/none
"$vouch" verify-blob --bundle "$conformance/happy-path-v0.3/bundle.sigstore.json" --certificate-identity "$identity" \
  --certificate-oidc-issuer "$issuer" "$conformance/a.txt" > /dev/null 2> err.txt && fail "verified with no trust at all"
grep -q "no trusted root: pass --trusted-root FILE, set SIGSTORE_ROOT_FILE or run vouch initialize" err.txt \
  || fail "no trust: $(cat err.txt)"

if [ "$fails" -ne 0 ]; then echo "tuf_interop: $fails failure(s)"; exit 1; fi
echo "tuf_interop: all checks passed"
