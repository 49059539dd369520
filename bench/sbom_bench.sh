#!/usr/bin/env bash
# `vouch sbom` on one image against cdxgen (npm @cyclonedx/cdxgen, with its bundled trivy)
# on the same docker-archive, and against gzip -dc of the image's layers (the floor any tool
# that reads the layers pays), in one run: best wall time of N runs and peak memory
# (/usr/bin/time -v, maximum resident set size, children included) of each, packages found.
# The image is built from this machine's files by bench/sbom_image.py (cached).
# Usage: bench/sbom_bench.sh VOUCH_BIN CACHE_DIR [RUNS]
set -euo pipefail
V=$1; cache=$2; runs=${3:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
img=$cache/bench-sbom/image.docker.tar
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

if [ ! -f "$img" ]; then
  mkdir -p "$(dirname "$img")"
  python3 "$root/bench/sbom_image.py" "$img" >/dev/null
fi
cdx_dir=$cache/cdxgen
cdx_ok=1
bash "$root/scripts/cdxgen.sh" "$cdx_dir" >"$T/cdxgen-install.log" 2>&1 || cdx_ok=0

# The layers, as the manifest lists them, extracted once for the decompression baseline.
mkdir -p "$T/layers"
tar -xf "$img" -C "$T/layers"
mapfile -t layers < <(python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))[0]["Layers"]))' "$T/layers/manifest.json")

# measure NAME CMD...: best wall seconds over $runs runs and the peak RSS (kB) of those runs.
measure() {
  local name=$1; shift
  local best="" peak=0
  for _ in $(seq "$runs"); do
    /usr/bin/time -v -o "$T/time.txt" "$@" >/dev/null 2>"$T/$name.err" || { echo "$name failed: $(tail -3 "$T/$name.err")" >&2; return 1; }
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$T/time.txt")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$T/time.txt")
    best=$(python3 -c "b='$best'; print($wall if not b or $wall < float(b) else b)")
    [ "$rss" -gt "$peak" ] && peak=$rss
  done
  echo "$best $peak"
}

gunzip_layers() { for l in "${layers[@]}"; do gzip -dc "$T/layers/$l"; done >/dev/null; }
export -f gunzip_layers; export T
layer_args=$(printf '%q ' "${layers[@]}")
read -r t_gz m_gz < <(measure gzip bash -c "cd '$T/layers' && for l in $layer_args; do gzip -dc \"\$l\"; done >/dev/null")
read -r t_v m_v < <(measure vouch "$V" sbom "docker-archive:$img" -o cyclonedx-json --file "$T/vouch.cdx.json")
t_c=""; m_c=""
if [ "$cdx_ok" = 1 ]; then
  mkdir -p "$T/cdx-home"
  cdxgen_run() {
    rm -rf "$T/cdx-home"/*
    TMPDIR="$T/cdx-home" HOME="$T/cdx-home" FETCH_LICENSE=false \
      CDXGEN_PLUGINS_DIR="$cdx_dir/node_modules/@cyclonedx/cdxgen-plugins-bin-linux-amd64/plugins" \
      node "$cdx_dir/node_modules/.bin/cdxgen" -t docker "$img" -o "$T/cdxgen.cdx.json"
  }
  export -f cdxgen_run; export cdx_dir img
  read -r t_c m_c < <(measure cdxgen bash -c cdxgen_run) || t_c=""
fi

python3 - "$img" "$T" "$t_v" "$m_v" "$t_gz" "$m_gz" "${t_c:-0}" "${m_c:-0}" "${layers[@]}" <<'PY'
import json, os, sys
img, T = sys.argv[1], sys.argv[2]
tv, mv, tg, mg, tc, mc = (float(x) for x in sys.argv[3:9])
layers = sys.argv[9:]
comp = sum(os.path.getsize(os.path.join(T, "layers", l)) for l in layers)
def count(path, want):
    try: d = json.load(open(path))
    except Exception: return None
    return sum(1 for c in d.get("components", []) if (c.get("purl") or "").startswith(want))
print(f"image: {comp/1e6:.0f} MB of gzip layers ({len(layers)}), built from this machine's files (dpkg database, libraries, programs)")
print(f"{'tool':<34} {'wall s':>8} {'peak MB':>8}  deb packages")
print(f"{'gzip -dc of the layers':<34} {tg:8.2f} {mg/1024:8.0f}")
print(f"{'vouch sbom (cyclonedx-json)':<34} {tv:8.2f} {mv/1024:8.0f}  {count(os.path.join(T, 'vouch.cdx.json'), 'pkg:deb/')}")
if tc:
    print(f"{'cdxgen -t docker (with trivy)':<34} {tc:8.2f} {mc/1024:8.0f}  {count(os.path.join(T, 'cdxgen.cdx.json'), 'pkg:deb/')}")
    print(f"ratio cdxgen / vouch (time):     {tc/tv:6.1f}x   (aim: at least 20x)")
    print(f"ratio cdxgen / vouch (memory):   {mc/mv:6.1f}x")
else:
    print("cdxgen: not measured (install failed; see scripts/cdxgen.sh)")
print(f"ratio vouch / gzip -dc (time):   {tv/tg:6.2f}    (aim: within 1.5)")
PY
