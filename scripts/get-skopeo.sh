#!/usr/bin/env bash
# skopeo with sigstore support for the cosign interop tests. Debian 12's skopeo is built with
# sigstore signing and verification removed, so this downloads Debian 13's skopeo and libc6
# packages (with apt, from the mirror this machine already uses) into DEST, default
# .cache/skopeo, unpacks them there and writes DEST/skopeo: a wrapper that runs that skopeo
# through Debian 13's own dynamic loader. Nothing is installed system-wide.
# Prints the wrapper's path. Usage: scripts/get-skopeo.sh [DEST]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$root/.cache/skopeo}
mkdir -p "$dest"; dest=$(cd "$dest" && pwd)
if [ -x "$dest/skopeo" ] && "$dest/skopeo" --version >/dev/null 2>&1; then echo "$dest/skopeo"; exit 0; fi
apt_dir=$dest/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$dest/root"
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || { echo "get-skopeo: no Debian mirror configured in /etc/apt" >&2; exit 1; }
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" > "$apt_dir/sources.list"
opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o Dir::State::status=/var/lib/dpkg/status)
apt-get "${opts[@]}" update -qq
(cd "$apt_dir" && apt-get "${opts[@]}" download skopeo libc6 >/dev/null 2>&1)
for deb in "$apt_dir"/skopeo_*.deb "$apt_dir"/libc6_*.deb; do dpkg-deb -x "$deb" "$dest/root"; done
lib=$dest/root/usr/lib/x86_64-linux-gnu
cat > "$dest/skopeo" <<WRAP
#!/bin/sh
exec "$lib/ld-linux-x86-64.so.2" --library-path "$lib:/usr/lib/x86_64-linux-gnu" "$dest/root/usr/bin/skopeo" "\$@"
WRAP
chmod +x "$dest/skopeo"
"$dest/skopeo" --version >/dev/null
echo "$dest/skopeo"
