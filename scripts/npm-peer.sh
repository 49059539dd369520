#!/usr/bin/env bash
# Installs an npm peer of ../shared/peers (sigstore-js, tuf-js: the versions pinned in its
# package.json, with its helper scripts) into DEST once: npm-peer.sh PEER DEST.
set -euo pipefail
peer=${1:?usage: npm-peer.sh PEER DEST}
dest=${2:?usage: npm-peer.sh PEER DEST}
root=$(cd "$(dirname "$0")/.." && pwd)
src=$root/../shared/peers/$peer
[ -f "$src/package.json" ] || { echo "npm-peer: no peer $peer in $src" >&2; exit 2; }
if [ -f "$dest/.installed" ] && cmp -s "$src/package.json" "$dest/package.json"; then exit 0; fi
mkdir -p "$dest"
cp "$src/package.json" "$dest/"
for f in "$src"/*.js; do [ -f "$f" ] && cp "$f" "$dest/"; done
(cd "$dest" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
touch "$dest/.installed"
