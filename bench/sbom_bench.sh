#!/usr/bin/env bash
# `vouch sbom` on one image against its floors and a peer, in one run:
#   - gzip -dc of the image's layers one after another (what reading the layers costs one stream),
#   - gzip -dc of all layers at once (the true floor on this machine's cores),
#   - cdxgen (npm @cyclonedx/cdxgen, with its bundled trivy) on the same docker-archive;
#   - when isa-l's igzip is installed (Debian's isal), igzip -dc of all layers at once: the floor
#     for the inflater vouch uses.
# Each is run RUNS times: the median wall time and CPU time (user + system) and the peak memory
# (/usr/bin/time -v, maximum resident set size, children included) of those runs. Ratios are
# printed next to their floors and limits, and everything is written as JSON to OUT (default
# CACHE_DIR/bench/sbom.json) so that runs can be compared. The load average before the runs is
# recorded: the machine may be shared.
# The image is built from this machine's files by bench/sbom_image.py (cached).
# Usage: bench/sbom_bench.sh VOUCH_BIN CACHE_DIR [RUNS] [OUT]   (SBOM_CDXGEN=0 skips cdxgen)
set -euo pipefail
V=$1; cache=$2; runs=${3:-5}; out=${4:-$cache/bench/sbom.json}
root=$(cd "$(dirname "$0")/.." && pwd)
img=$cache/bench-sbom/image.docker.tar
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

if [ ! -f "$img" ]; then
  mkdir -p "$(dirname "$img")"
  python3 "$root/bench/sbom_image.py" "$img" >/dev/null
fi
cdx_dir=$cache/cdxgen
cdx_ok=0
if [ "${SBOM_CDXGEN:-1}" != 0 ]; then
  cdx_ok=1
  bash "$root/scripts/cdxgen.sh" "$cdx_dir" >"$T/cdxgen-install.log" 2>&1 || cdx_ok=0
fi

# The layers, as the manifest lists them, extracted once for the decompression floors.
mkdir -p "$T/layers"
tar -xf "$img" -C "$T/layers"
mapfile -t layers < <(python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))[0]["Layers"]))' "$T/layers/manifest.json")
load=$(cut -d' ' -f1-3 /proc/loadavg)

# measure NAME N CMD...: N runs; prints "median-wall median-cpu peak-rss-kB".
measure() {
  local name=$1 n=$2; shift 2
  : >"$T/$name.runs"
  for _ in $(seq "$n"); do
    /usr/bin/time -v -o "$T/time.txt" "$@" >/dev/null 2>"$T/$name.err" || { echo "$name failed: $(tail -3 "$T/$name.err")" >&2; return 1; }
    awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; wall=s}
      /User time \(seconds\)/ {u=$2} /System time \(seconds\)/ {sy=$2} /Maximum resident set size/ {rss=$2}
      END {print wall, u+sy, rss}' "$T/time.txt" >>"$T/$name.runs"
  done
  python3 - "$T/$name.runs" <<'PY'
import statistics, sys
rows = [tuple(float(x) for x in line.split()) for line in open(sys.argv[1]) if line.strip()]
print(statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows), int(max(r[2] for r in rows)))
PY
}

layer_args=$(printf '%q ' "${layers[@]}")
read -r t_gz c_gz m_gz < <(measure gzip "$runs" bash -c "cd '$T/layers' && for l in $layer_args; do gzip -dc \"\$l\"; done >/dev/null")
read -r t_gp c_gp m_gp < <(measure gzip-parallel "$runs" bash -c "cd '$T/layers' && for l in $layer_args; do gzip -dc \"\$l\" >/dev/null & done; wait")
t_ig=0; c_ig=0; m_ig=0
if command -v igzip >/dev/null 2>&1; then
  read -r t_ig c_ig m_ig < <(measure igzip-parallel "$runs" bash -c "cd '$T/layers' && for l in $layer_args; do igzip -dc \"\$l\" >/dev/null & done; wait")
fi
read -r t_v c_v m_v < <(measure vouch "$runs" "$V" sbom "docker-archive:$img" -o cyclonedx-json --file "$T/vouch.cdx.json")
t_c=""; c_c=""; m_c=""
if [ "$cdx_ok" = 1 ]; then
  mkdir -p "$T/cdx-home"
  cdxgen_run() {
    rm -rf "$T/cdx-home"/*
    TMPDIR="$T/cdx-home" HOME="$T/cdx-home" FETCH_LICENSE=false \
      CDXGEN_PLUGINS_DIR="$cdx_dir/node_modules/@cyclonedx/cdxgen-plugins-bin-linux-amd64/plugins" \
      node "$cdx_dir/node_modules/.bin/cdxgen" -t docker "$img" -o "$T/cdxgen.cdx.json"
  }
  export -f cdxgen_run; export T cdx_dir img
  # cdxgen takes some 20 s a run: three runs at most.
  read -r t_c c_c m_c < <(measure cdxgen "$(( runs < 3 ? runs : 3 ))" bash -c cdxgen_run) || t_c=""
fi

mkdir -p "$(dirname "$out")"
python3 - "$img" "$T" "$out" "$runs" "$load" "$t_v" "$c_v" "$m_v" "$t_gz" "$c_gz" "$m_gz" "$t_gp" "$c_gp" "$m_gp" \
  "${t_c:-0}" "${c_c:-0}" "${m_c:-0}" "$t_ig" "$c_ig" "$m_ig" "${layers[@]}" <<'PY'
import json, os, sys
img, T, out, runs, load = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
tv, cv, mv, tg, cg, mg, tp, cp, mp, tc, cc, mc, ti, ci, mi = (float(x) for x in sys.argv[6:21])
layers = sys.argv[21:]
LIMIT_MB = 64
comp = sum(os.path.getsize(os.path.join(T, "layers", l)) for l in layers)
def count(path, want):
    try: d = json.load(open(path))
    except Exception: return None
    return sum(1 for c in d.get("components", []) if (c.get("purl") or "").startswith(want))
debs = count(os.path.join(T, "vouch.cdx.json"), "pkg:deb/")
print(f"image: {comp/1e6:.0f} MB of gzip layers ({len(layers)}), built from this machine's files (dpkg database, libraries, programs)")
print(f"median of {runs} runs; load average before: {load} ({os.cpu_count()} cores, shared with whatever else runs)")
print(f"{'':<36} {'wall s':>7} {'CPU s':>7} {'peak MB':>8}  deb packages")
print(f"{'gzip -dc of the layers, in turn':<36} {tg:7.2f} {cg:7.2f} {mg/1024:8.0f}")
print(f"{'gzip -dc of the layers, all at once':<36} {tp:7.2f} {cp:7.2f} {mp/1024:8.0f}")
if ti:
    print(f"{'igzip -dc of the layers, all at once':<36} {ti:7.2f} {ci:7.2f} {mi/1024:8.0f}")
print(f"{'vouch sbom (cyclonedx-json)':<36} {tv:7.2f} {cv:7.2f} {mv/1024:8.0f}  {debs}")
doc = {"image": {"layers": len(layers), "compressed_bytes": comp}, "runs": runs, "load_average": [float(x) for x in load.split()],
       "cores": os.cpu_count(),
       "gzip_in_turn": {"wall_s": tg, "cpu_s": cg, "peak_mb": mg / 1024},
       "gzip_all_at_once": {"wall_s": tp, "cpu_s": cp, "peak_mb": mp / 1024},
       "vouch": {"wall_s": tv, "cpu_s": cv, "peak_mb": mv / 1024, "deb_packages": debs},
       "ratios": {"vouch_over_gzip_in_turn": tv / tg, "vouch_over_gzip_all_at_once": tv / tp,
                  "vouch_peak_over_limit": mv / 1024 / LIMIT_MB}}
if ti:
    doc["igzip_all_at_once"] = {"wall_s": ti, "cpu_s": ci, "peak_mb": mi / 1024}
    doc["ratios"]["vouch_over_igzip_all_at_once"] = tv / ti
if tc:
    print(f"{'cdxgen -t docker (with trivy)':<36} {tc:7.2f} {cc:7.2f} {mc/1024:8.0f}  {count(os.path.join(T, 'cdxgen.cdx.json'), 'pkg:deb/')}")
    doc["cdxgen"] = {"wall_s": tc, "cpu_s": cc, "peak_mb": mc / 1024}
    doc["ratios"]["cdxgen_over_vouch_time"] = tc / tv
    doc["ratios"]["cdxgen_over_vouch_memory"] = mc / mv
    print(f"ratio cdxgen / vouch (time):                 {tc/tv:6.1f}x  (aim: at least 20x)")
    print(f"ratio cdxgen / vouch (memory):               {mc/mv:6.1f}x")
else:
    print("cdxgen: not measured (SBOM_CDXGEN=0, or the install failed; see scripts/cdxgen.sh)")
print(f"ratio vouch / gzip -dc in turn (time):        {tv/tg:6.2f}   (aim: at most 1.0)")
print(f"ratio vouch / gzip -dc all at once (time):    {tv/tp:6.2f}   (the floor: 1.0)")
print(f"ratio vouch / gzip -dc in turn (CPU):         {cv/cg:6.2f}")
if ti:
    print(f"ratio vouch / igzip -dc all at once (time):   {tv/ti:6.2f}   (vouch's own inflater, nothing else done)")
print(f"ratio vouch peak / {LIMIT_MB} MB (memory):            {mv/1024/LIMIT_MB:6.2f}   (aim: below 1.0)")
json.dump(doc, open(out, "w"), indent=2)
print(f"written: {out}")
PY
