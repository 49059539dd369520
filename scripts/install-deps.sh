#!/usr/bin/env bash
# Installs every Debian package that building and testing vouch needs (Debian 12).
# Idempotent: packages already present are skipped quickly.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache git
  libssl-dev libcurl4-openssl-dev
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libyaml-cpp-dev libre2-dev libarchive-dev libisal-dev libsqlite3-dev libpq-dev libsodium-dev zlib1g-dev
  libcli11-dev libfmt-dev libspdlog-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev
  openssl
  postgresql  # tests start a throwaway PostgreSQL cluster for the log storage
  python3-nacl  # tests/unit/crypto/cosign_key_interop.py (cosign key interop test)
  python3-securesystemslib python3-cryptography  # tests/unit/intoto/dsse_interop.py
  docker-registry umoci skopeo apache2-utils zstd curl  # tests/integration/oci_registry.sh, cosign_skopeo.sh (real registry, image tools)
  hey  # bench/admission_bench.sh (HTTP load over TLS against the admission webhook)
  jq  # tests/integration/admission_reports.sh, inventory_rescan.sh (the seeds' jq triage of reports)
  zip  # tests/integration/db_update.sh, inventory_rescan.sh (OSV's all.zip exports, made from the shared records)
  tzdata  # CEL's timestamp functions read time zones from /usr/share/zoneinfo
  debian-archive-keyring  # scripts/get-skopeo.sh: Debian 13's skopeo (sigstore support) into .cache/
  debootstrap  # scripts/sbom-fixtures.sh (the Debian root of tests/integration/sbom_ground_truth.sh)
  golang-go libcommons-lang3-java rpm  # tests/integration/sbom_binaries.sh (go version -m, real jars, a real rpmdb)
  chromium  # tests/integration/ui_browser.sh (the dashboard in a real browser, headless, driven by puppeteer-core)
)
# Node.js (sigstore-js, ajv): a machine whose nodejs already bundles npm needs nothing more.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
