#!/usr/bin/env bash
# Installs sigstore-js (the versions pinned in ../shared/peers/sigstore-js) into DEST once.
set -euo pipefail
dest=${1:?usage: sigstore-js.sh DEST}
root=$(cd "$(dirname "$0")/.." && pwd)
src=$root/../shared/peers/sigstore-js
if [ -f "$dest/.installed" ] && cmp -s "$src/package.json" "$dest/package.json"; then exit 0; fi
mkdir -p "$dest"
cp "$src/package.json" "$dest/"
cp "$src"/*.js "$dest/"
(cd "$dest" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
touch "$dest/.installed"
