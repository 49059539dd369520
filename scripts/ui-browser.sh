#!/usr/bin/env bash
# Installs puppeteer-core (pinned in tools/ui-browser/package.json; it drives Debian's chromium,
# and downloads no browser of its own) into DEST once, and prints its node_modules directory.
set -euo pipefail
dest=${1:?usage: ui-browser.sh DEST}
root=$(cd "$(dirname "$0")/.." && pwd)
src=$root/tools/ui-browser
if ! { [ -f "$dest/.installed" ] && cmp -s "$src/package.json" "$dest/package.json"; }; then
  mkdir -p "$dest"
  cp "$src/package.json" "$dest/"
  (cd "$dest" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$dest/.installed"
fi
echo "$dest/node_modules"
