#!/usr/bin/env bash
# Installs cdxgen (npm @cyclonedx/cdxgen, the SBOM peer the bench measures against) into DEST once.
set -euo pipefail
dest=${1:?usage: cdxgen.sh DEST}
version=${CDXGEN_VERSION:-11.11.0}
if [ -f "$dest/.installed" ] && [ "$(cat "$dest/.installed")" = "$version" ]; then exit 0; fi
mkdir -p "$dest"
(cd "$dest" && [ -f package.json ] || echo '{"private": true}' > package.json
 npm install --no-audit --no-fund --loglevel=error "@cyclonedx/cdxgen@$version" >/dev/null)
echo "$version" > "$dest/.installed"
