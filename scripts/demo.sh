#!/usr/bin/env bash
# The trust chain end to end on embedded defaults: make a cosign-format key pair, sign a
# file into a Sigstore bundle, verify it, then tamper with the file and show the rejection.
set -euo pipefail
vouch=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/vouch-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
export COSIGN_PASSWORD=demo-password
if [ -t 1 ]; then step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }; else step() { printf '\n$ %s\n' "$*"; }; fi

step vouch generate-key-pair
"$vouch" generate-key-pair

echo "release 1.0: sha256 of the image we built" > release.txt
step vouch sign-blob --key cosign.key --bundle release.sigstore.json release.txt
"$vouch" sign-blob --key cosign.key --bundle release.sigstore.json release.txt
head -c 400 release.sigstore.json; echo " …"

step vouch verify-blob --key cosign.pub --bundle release.sigstore.json --insecure-ignore-tlog -o json release.txt
"$vouch" verify-blob --key cosign.pub --bundle release.sigstore.json --insecure-ignore-tlog -o json release.txt

echo "release 1.0: something else" > release.txt
step "vouch verify-blob ... release.txt   # after tampering with release.txt"
if "$vouch" verify-blob --key cosign.pub --bundle release.sigstore.json --insecure-ignore-tlog release.txt; then
  echo "demo: tampered file verified, which must not happen" >&2; exit 1
else
  echo "rejected (exit $?), as it must be"
fi

step "vouch verify-blob --key other.pub ...   # a key that did not sign it"
"$vouch" generate-key-pair --output-key-prefix other >/dev/null 2>&1
echo "release 1.0: sha256 of the image we built" > release.txt
if "$vouch" verify-blob --key other.pub --bundle release.sigstore.json --insecure-ignore-tlog release.txt; then
  echo "demo: wrong key verified, which must not happen" >&2; exit 1
else
  echo "rejected (exit $?), as it must be"
fi

# Keyless: a real bundle from the Sigstore public-good instance (Fulcio certificate, Rekor
# entry, SCT), verified offline against the public-good trusted root.
shared=$repo/../shared/testdata
if [ -d "$shared/sigstore-conformance" ]; then
  case_dir=$shared/sigstore-conformance/bundle-verify/happy-path-v0.3
  step "vouch verify-blob --bundle happy-path-v0.3.sigstore.json --certificate-identity-regexp '^https://github.com/sigstore-conformance/' --certificate-oidc-issuer https://token.actions.githubusercontent.com --trusted-root trusted_root.production.json -o json a.txt"
  "$vouch" verify-blob --bundle "$case_dir/bundle.sigstore.json" \
    --certificate-identity-regexp '^https://github.com/sigstore-conformance/' \
    --certificate-oidc-issuer https://token.actions.githubusercontent.com \
    --trusted-root "$shared/sigstore-trust/trusted_root.production.json" -o json "$case_dir/../a.txt"
fi
echo; echo "demo: done"
