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
# start_registry: a docker-registry on a free loopback port, storing under $T; sets REG
# (127.0.0.1:PORT) and reg_pid (stopped on exit).
start_registry() {
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  printf 'version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s/data}, delete: {enabled: true}}\nhttp: {addr: 127.0.0.1:%s}\n' \
    "$T" "$port" > "$T/reg.yml"
  docker-registry serve "$T/reg.yml" > "$T/reg.log" 2>&1 &
  reg_pid=$!
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && break; sleep 0.1; done
  REG=127.0.0.1:$port
}
