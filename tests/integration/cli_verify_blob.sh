#!/usr/bin/env bash
# The vouch command line on real and broken input: exit codes (0 verified, 1 failed check,
# 2 bad input), one-line errors naming the problem, no partial files, and the key round trip.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/assert.sh"
vouch=${VOUCH_BIN:?VOUCH_BIN must point at the vouch binary}
data=${VOUCH_TESTDATA:?VOUCH_TESTDATA must point at the shared testdata}
cases=$data/sigstore-conformance/bundle-verify
root=$data/sigstore-trust/trusted_root.production.json
id="https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
iss=https://token.actions.githubusercontent.com
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
verify() { "$vouch" verify-blob --certificate-identity "$id" --certificate-oidc-issuer "$iss" --trusted-root "$root" "$@"; }

# Real bundles: by file, by digest, with a regexp identity, as JSON.
expect 0 "" -- verify --bundle "$cases/happy-path-v0.3/bundle.sigstore.json" "$cases/a.txt"
expect 0 "" -- verify --bundle "$cases/happy-path-v0.1/bundle.sigstore.json" sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf
json=$("$vouch" verify-blob --bundle "$cases/happy-path-v0.2/bundle.sigstore.json" --certificate-identity-regexp '^https://github\.com/sigstore-conformance/' \
  --certificate-oidc-issuer "$iss" --trusted-root "$root" -o json "$cases/a.txt")
python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["verified"] and d["signer"]["issuer"]=="https://token.actions.githubusercontent.com", d' <<<"$json" \
  || { echo "FAIL: -o json output: $json"; fails=$((fails + 1)); }

# Failed checks: exit 1, the check named.
echo "not the artifact" > "$work/other.txt"
expect 1 "transparency log" -- verify --bundle "$cases/happy-path-v0.3/bundle.sigstore.json" "$work/other.txt"
expect 1 "identity:" -- "$vouch" verify-blob --bundle "$cases/happy-path-v0.3/bundle.sigstore.json" --certificate-identity-regexp evil \
  --certificate-oidc-issuer "$iss" --trusted-root "$root" "$cases/a.txt"
expect 1 "checkpoint" -- verify --bundle "$cases/invalid-checkpoint-signature_fail/bundle.sigstore.json" "$cases/a.txt"

# Bad input: exit 2, one line naming what and where.
head -c 300 "$cases/happy-path-v0.3/bundle.sigstore.json" > "$work/truncated.json"
python3 -c "print('[' * 100000 + ']' * 100000)" > "$work/deep.json"
head -c 40000000 /dev/zero | tr '\0' ' ' > "$work/huge.json"
printf '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"certificate":{"rawBytes":"AAAA"}},"messageSignature":{"signature":"AAAA"}}' > "$work/badcert.json"
printf '{"mediaType":7}' > "$work/wrongtype.json"
expect 2 "malformed JSON" -- verify --bundle "$work/truncated.json" "$cases/a.txt"
expect 2 "too deep" -- verify --bundle "$work/deep.json" "$cases/a.txt"
expect 2 "larger than the limit" -- verify --bundle "$work/huge.json" "$cases/a.txt"
expect 2 "verificationMaterial.certificate: not a DER X.509 certificate" -- verify --bundle "$work/badcert.json" "$cases/a.txt"
expect 2 "mediaType: expected a string" -- verify --bundle "$work/wrongtype.json" "$cases/a.txt"
expect 2 "unsupported bundle media type" -- verify --bundle "$cases/bundle-unknown-version_fail/bundle.sigstore.json" "$cases/a.txt"
expect 2 "trusted root: malformed JSON" -- "$vouch" verify-blob --bundle "$cases/happy-path-v0.3/bundle.sigstore.json" \
  --certificate-identity "$id" --certificate-oidc-issuer "$iss" --trusted-root "$work/truncated.json" "$cases/a.txt"
expect 2 "validFor.start: missing" -- "$vouch" verify-blob --bundle "$cases/happy-path-v0.3/bundle.sigstore.json" \
  --certificate-identity "$id" --certificate-oidc-issuer "$iss" \
  --trusted-root "$cases/trust-root-tlog-missing-validity-start_fail/trusted_root.json" "$cases/a.txt"
echo garbage > "$work/garbage.pub"
expect 2 "not a PEM public key" -- "$vouch" verify-blob --bundle "$cases/managed-key-happy-path/bundle.sigstore.json" --key "$work/garbage.pub" \
  --trusted-root "$root" "$cases/a.txt"
expect 2 "no public key was given" -- verify --bundle "$cases/managed-key-happy-path/bundle.sigstore.json" "$cases/a.txt"
expect 2 "invalid regular expression" -- "$vouch" verify-blob --bundle "$cases/happy-path-v0.3/bundle.sigstore.json" \
  --certificate-identity-regexp '(' --certificate-oidc-issuer "$iss" --trusted-root "$root" "$cases/a.txt"
expect 2 "artifact digest" -- verify --bundle "$cases/happy-path-v0.3/bundle.sigstore.json" sha256:zz
expect 2 "no such file" -- verify --bundle "$work/missing.json" "$cases/a.txt"
expect 2 "give --key" -- "$vouch" verify-blob --bundle "$cases/happy-path-v0.3/bundle.sigstore.json" "$cases/a.txt"

# Several --trusted-root are trusted together (a private root with the public-good one);
# $SIGSTORE_ROOT_FILE when none is given.
custom=$cases/intoto-with-custom-trust-root
expect 0 "" -- verify --trusted-root "$custom/trusted_root.json" --bundle "$cases/happy-path-v0.3/bundle.sigstore.json" "$cases/a.txt"
expect 0 "" -- verify --trusted-root "$custom/trusted_root.json" --bundle "$custom/bundle.sigstore.json" "$custom/artifact"
expect 1 "transparency log" -- "$vouch" verify-blob --certificate-identity "$id" --certificate-oidc-issuer "$iss" \
  --trusted-root "$custom/trusted_root.json" --bundle "$cases/happy-path-v0.3/bundle.sigstore.json" "$cases/a.txt"
SIGSTORE_ROOT_FILE=$root expect 0 "" -- "$vouch" verify-blob --certificate-identity "$id" --certificate-oidc-issuer "$iss" \
  --bundle "$cases/happy-path-v0.3/bundle.sigstore.json" "$cases/a.txt"

# Keys in cosign's format: sign, verify, wrong password, no partial files on failure.
cd "$work"
COSIGN_PASSWORD=pw expect 0 "" -- "$vouch" generate-key-pair
COSIGN_PASSWORD=pw expect 2 "already exists" -- "$vouch" generate-key-pair
grep -q "BEGIN ENCRYPTED SIGSTORE PRIVATE KEY" cosign.key || { echo "FAIL: cosign.key format"; fails=$((fails + 1)); }
[ "$(stat -c %a cosign.key)" = 600 ] || { echo "FAIL: cosign.key mode $(stat -c %a cosign.key)"; fails=$((fails + 1)); }
echo data > blob.txt
COSIGN_PASSWORD=wrong expect 1 "wrong password" -- "$vouch" sign-blob --key cosign.key --bundle out.json blob.txt
[ -e out.json ] && { echo "FAIL: a failed sign-blob left out.json"; fails=$((fails + 1)); }
COSIGN_PASSWORD=pw expect 0 "" -- "$vouch" sign-blob --key cosign.key --bundle out.json blob.txt
expect 0 "" -- "$vouch" verify-blob --key cosign.pub --bundle out.json --insecure-ignore-tlog blob.txt
expect 1 "transparency log" -- "$vouch" verify-blob --key cosign.pub --bundle out.json --trusted-root "$root" blob.txt
COSIGN_PASSWORD=pw "$vouch" public-key --key cosign.key > derived.pub
cmp -s derived.pub cosign.pub || { echo "FAIL: public-key output differs from cosign.pub"; fails=$((fails + 1)); }
ls -a | grep -q '\.tmp-' && { echo "FAIL: temporary files left behind"; fails=$((fails + 1)); }

[ "$fails" -eq 0 ] && echo "cli_verify_blob: all checks passed"
exit $(( fails > 0 ))
