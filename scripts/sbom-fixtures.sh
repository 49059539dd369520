#!/usr/bin/env bash
# Builds the ground-truth fixtures of tests/integration/sbom_ground_truth.sh once, under DEST
# (default .cache/fixtures), and reuses them while the recipe below is unchanged:
#   DEST/debian12     Debian 12 minbase (debootstrap) plus packages that bring Python
#                     distributions, a Go binary and Java jars;
#   DEST/npm-project  a real npm project installed from the registry (package-lock.json v3 and
#                     node_modules).
# Each is built in a temporary directory and renamed into place, so a failed build leaves none.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$root/.cache/fixtures}
mkdir -p "$dest"

deb_packages=python3-yaml,python3-requests,fzf,libcommons-lang3-java
deb_recipe="bookworm minbase $deb_packages"
if [ "$(cat "$dest/debian12/.recipe" 2>/dev/null)" != "$deb_recipe" ]; then
  command -v debootstrap >/dev/null || { echo "sbom-fixtures: debootstrap is missing (scripts/install-deps.sh)"; exit 2; }
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo -n true 2>/dev/null || { echo "sbom-fixtures: debootstrap needs root (or password-less sudo)"; exit 2; }
    SUDO="sudo -n"
  fi
  tmp=$(mktemp -d "$dest/.debian12.XXXXXX")
  trap '$SUDO rm -rf "$tmp"' EXIT
  echo "sbom-fixtures: debootstrap $deb_recipe (a few minutes, once)"
  $SUDO debootstrap --variant=minbase --include="$deb_packages" bookworm "$tmp" http://deb.debian.org/debian \
    > "$dest/debootstrap.log" 2>&1 || { echo "sbom-fixtures: debootstrap failed, see $dest/debootstrap.log"; exit 1; }
  $SUDO rm -rf "$tmp/var/cache/apt/archives/"*.deb "$tmp/dev/"* 2>/dev/null || true
  echo "$deb_recipe" | $SUDO tee "$tmp/.recipe" >/dev/null
  $SUDO rm -rf "$dest/debian12"
  $SUDO mv "$tmp" "$dest/debian12"
  trap - EXIT
fi

npm_manifest='{"name":"vouch-fixture","version":"1.0.0","private":true,"dependencies":{"express":"4.21.2","@babel/code-frame":"7.26.2","chalk":"4.1.2"}}'
if [ "$(cat "$dest/npm-project/.recipe" 2>/dev/null)" != "$npm_manifest" ]; then
  tmp=$(mktemp -d "$dest/.npm-project.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  echo "$npm_manifest" > "$tmp/package.json"
  (cd "$tmp" && npm install --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null)
  echo "$npm_manifest" > "$tmp/.recipe"
  rm -rf "$dest/npm-project"
  mv "$tmp" "$dest/npm-project"
  trap - EXIT
fi
