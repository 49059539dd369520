# Sourced by integration scripts that start servers: requires TOOLS to be on PATH, makes the
# scratch directory $T, and on exit stops the registry and log started as $reg_pid and $log_pid
# and removes $T.
require_tools() {
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "FAIL: missing $tool (scripts/install-deps.sh)"; exit 1; }
  done
}
T=$(mktemp -d)
reg_pid= log_pid=
cleanup() {
  for p in $reg_pid $log_pid; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
