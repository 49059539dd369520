#!/usr/bin/env bash
# Installs the JSON Schema validator (ajv, pinned in tools/json-schema/package.json) into DEST
# once, and prints the command that runs it.
set -euo pipefail
dest=${1:?usage: json-schema.sh DEST}
root=$(cd "$(dirname "$0")/.." && pwd)
src=$root/tools/json-schema
if ! { [ -f "$dest/.installed" ] && cmp -s "$src/package.json" "$dest/package.json"; }; then
  mkdir -p "$dest"
  cp "$src/package.json" "$dest/"
  (cd "$dest" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$dest/.installed"
fi
cp "$src/validate.js" "$dest/"
echo "node $dest/validate.js"
