#!/usr/bin/env bash
# Resource exhaustion: commands run under `ulimit -v` (1 GiB) and `timeout` against generated
# hostile inputs (expression bombs, a huge foreach, deep nesting, FIFOs and devices as inputs
# and outputs, endless standard input, malformed databases and storage). Each check wants
# bounded time, the documented exit code and, for an error, one line on stderr with no raw
# control characters.
set -uo pipefail
vouch=${VOUCH_BIN:-build/vouch}
vouch=$(cd "$(dirname "$vouch")" && pwd)/$(basename "$vouch")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# AddressSanitizer reserves terabytes of address space for its shadow memory, so an
# instrumented binary cannot start under `ulimit -v`; it runs with the time bounds only.
mem_kib=1048576
# (ldd's output is taken whole: `ldd | grep -q` under pipefail fails when grep stops reading early.)
libs=$(ldd "$vouch" 2>/dev/null || true)
if [[ $libs == *libasan* ]]; then mem_kib=unlimited; fi
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# check NAME WANT_RC SECONDS CMD...: runs CMD under the memory limit, stdout to $work/out,
# stderr to $work/err; WANT_RC 1 or 2 also wants exactly one line on stderr.
check() {
  local name=$1 want=$2 secs=$3; shift 3
  local start end rc
  start=$(date +%s%N)
  (ulimit -v $mem_kib; timeout -k 5 "$secs" "$@") > "$work/out" 2> "$work/err"
  rc=$?
  end=$(date +%s%N)
  local ms=$(( (end - start) / 1000000 ))
  if [ "$rc" -ne "$want" ]; then
    fail "$name: exit $rc, want $want ($ms ms): $(head -c 300 "$work/err")"
    return
  fi
  if [ "$want" -ne 0 ]; then
    local lines
    lines=$(wc -l < "$work/err")
    if [ "$lines" -ne 1 ]; then
      fail "$name: $lines lines on stderr, want 1: $(head -c 300 "$work/err")"
      return
    fi
  fi
  if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$work/err"; then
    fail "$name: raw control characters on stderr"
    return
  fi
  echo "ok: $name (exit $rc, $ms ms)"
}

# ---- JMESPath bombs (before the evaluation budget: std::bad_alloc, exit 134, or minutes)
doubling=$(python3 -c "print('[s,s]' + ' | [@,@]'*30)")
echo '{"s":"abc"}' > "$work/small.json"
check "jp query: doubling multi-select" 2 30 "$vouch" jp query -i "$work/small.json" -c "length($doubling)"
grep -q "exceeded its budget" "$work/err" || fail "jp query: doubling: no budget error"
python3 -c "print('{\"s\":\"' + 'a'*100000 + '\"}')" > "$work/100k.json"
check "jp query: nested replace_all on 100 kB" 2 30 "$vouch" jp query -i "$work/100k.json" \
  "length(replace_all(replace_all(s, 'a', s), 'a', s))"
grep -q "exceeded its budget" "$work/err" || fail "jp query: nested replace_all on 100 kB: no budget error"
check "jp query: regex_replace_all growth" 2 30 "$vouch" jp query -i "$work/100k.json" "length(regex_replace_all('', s, s))"
grep -q "exceeded its budget" "$work/err" || fail "jp query: regex_replace_all growth: no budget error"
check "jp query: join of a split" 2 30 "$vouch" jp query -i "$work/100k.json" "length(join(s, split(s, '')))"
grep -q "exceeded its budget" "$work/err" || fail "jp query: join of a split: no budget error"

# ---- the same bomb in a policy's context variable: an error result (exit 1), not a crash
cat > "$work/pod.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: default}
spec:
  containers: [{name: a, image: nginx}]
EOF
cat > "$work/bomb-policy.yaml" <<EOF
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: bomb}
spec:
  validationFailureAction: Enforce
  rules:
    - name: grow
      match: {any: [{resources: {kinds: [Pod]}}]}
      context:
        - name: big
          variable:
            jmesPath: "length(${doubling//s,s/request.object.metadata.name,request.object.metadata.name})"
      validate:
        deny:
          conditions:
            any: [{key: "{{ big }}", operator: GreaterThan, value: 0}]
EOF
(ulimit -v $mem_kib; timeout -k 5 60 "$vouch" policy apply "$work/bomb-policy.yaml" -r "$work/pod.yaml") > "$work/out" 2> "$work/err"
rc=$?
if [ "$rc" -ne 1 ] || ! grep -q "exceeded its budget" "$work/out"; then
  fail "policy apply: context bomb: exit $rc, want 1 with an error result: $(head -c 300 "$work/out" "$work/err")"
else
  echo "ok: policy apply: context bomb (error result, exit 1)"
fi

# ---- foreach over one Pod of 8,000 containers (before linear foreach: over 60 s)
python3 - "$work/big-pod.json" <<'PY'
import json, sys
pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "big", "namespace": "default"},
       "spec": {"containers": [{"name": "c%d" % i, "image": "registry.example/app:%d" % i} for i in range(8000)]}}
json.dump(pod, open(sys.argv[1], "w"))
PY
cat > "$work/foreach-policy.yaml" <<'EOF'
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: no-latest}
spec:
  validationFailureAction: Enforce
  rules:
    - name: tags
      match: {any: [{resources: {kinds: [Pod]}}]}
      validate:
        message: "no latest tag"
        foreach:
          - list: "request.object.spec.containers"
            deny:
              conditions:
                any: [{key: "{{ element.image }}", operator: Equals, value: "*:latest"}]
EOF
check "policy apply: foreach over 8,000 containers" 0 60 "$vouch" policy apply "$work/foreach-policy.yaml" -r "$work/big-pod.json"

# ---- deep nesting (parsers bound depth: one line, exit 2)
python3 -c "print('[' * 100000 + ']' * 100000)" > "$work/deep.json"
python3 -c "print('- ' * 20000 + 'x')" > "$work/deep.yaml"
check "jp query: deeply nested JSON" 2 30 "$vouch" jp query -i "$work/deep.json" "@"
check "jp query: deeply nested YAML" 2 30 "$vouch" jp query -i "$work/deep.yaml" "@"
check "policy apply: deeply nested resource" 2 30 "$vouch" policy apply "$work/foreach-policy.yaml" -r "$work/deep.json"

# ---- outputs: --file refuses FIFOs, devices and directories, and leaves them alone
# (before: the FIFO was replaced by a regular file)
mkdir -p "$work/tree"
python3 -c "
import json
print(json.dumps({'name': 'big', 'version': '1.0.0', 'lockfileVersion': 3,
  'packages': {'': {'name': 'big'}, **{'node_modules/p%d' % i: {'version': '1.0.%d' % i} for i in range(20000)}}}))
" > "$work/tree/package-lock.json"
mkfifo "$work/out.fifo"
ln -s /dev/null "$work/out.null"
check "sbom --file FIFO" 2 60 "$vouch" sbom "dir:$work/tree" --file "$work/out.fifo"
[ -p "$work/out.fifo" ] || fail "sbom --file FIFO: the FIFO was replaced"
check "sbom --file symlink to /dev/null" 2 60 "$vouch" sbom "dir:$work/tree" --file "$work/out.null"
[ -L "$work/out.null" ] || fail "sbom --file /dev/null link: the link was replaced"
check "sbom --file directory" 2 60 "$vouch" sbom "dir:$work/tree" --file "$work"
check "sbom --file regular file" 0 60 "$vouch" sbom "dir:$work/tree" --file "$work/sbom.json"

# ---- inputs: a FIFO with no writer or a device is refused at once (before: blocked forever)
mkfifo "$work/in.fifo"
check "jp query -i FIFO" 2 10 "$vouch" jp query -i "$work/in.fifo" "@"
check "jp query -i /dev/zero" 2 10 "$vouch" jp query -i /dev/zero "@"
check "policy apply -r FIFO" 2 10 "$vouch" policy apply "$work/foreach-policy.yaml" -r "$work/in.fifo"

# ---- oversized and endless standard input (before: read until memory ran out)
check "jp query: endless stdin" 2 30 bash -c "yes '\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",' | \"$vouch\" jp query @"
grep -q "larger than 64 MiB" "$work/err" || fail "jp query: endless stdin: no size error"

# ---- control characters from input never reach the terminal raw
check "jp query: control bytes in the expression" 2 10 "$vouch" jp query -i "$work/small.json" $'\x1b[31mfoo[\x07'

# ---- log serve on a garbage storage file: exit 2, no signing key left behind
head -c 4096 /dev/urandom > "$work/garbage.db"
check "log serve: garbage storage" 2 30 "$vouch" log serve --listen 127.0.0.1:0 --storage "sqlite:$work/garbage.db"
[ -e "$work/garbage.db.signing-key.pem" ] && fail "log serve: garbage storage: a signing key was left behind"
# A start that fails after creating a new storage (the address is taken) removes it again.
mkdir -p "$work/serve"
python3 - "$vouch" "$work/serve" <<'PY' || fail "log serve: failed start on a new storage left files behind"
import os, socket, subprocess, sys
taken = socket.socket(); taken.bind(("127.0.0.1", 0)); taken.listen()
r = subprocess.run([sys.argv[1], "log", "serve", "--listen", "127.0.0.1:%d" % taken.getsockname()[1],
                    "--storage", "sqlite:" + os.path.join(sys.argv[2], "new.db")], capture_output=True, timeout=30)
left = os.listdir(sys.argv[2])
print("ok: log serve: address taken (exit %d, left %s)" % (r.returncode, left))
sys.exit(0 if r.returncode == 2 and not left else 1)
PY

# ---- db import: every input malformed is bad input (before: exit 0)
mkdir -p "$work/osv"
printf '{"id": 1, "modified": []}' > "$work/osv/bad1.json"
printf 'not json at all' > "$work/osv/bad2.json"
(ulimit -v $mem_kib; timeout -k 5 30 "$vouch" db import --db "$work/db" "$work/osv") > "$work/out" 2> "$work/err"
rc=$?
if [ "$rc" -ne 2 ] || ! tail -n 1 "$work/err" | grep -q "^vouch: db import: all 2 records were malformed"; then
  fail "db import: all malformed: exit $rc, want 2 and a closing error line: $(tail -n 1 "$work/err")"
else
  echo "ok: db import: all malformed (exit 2; one 'skipped' line per record, then the error)"
fi
printf '{"id": "GHSA-xxxx-xxxx-xxxx", "modified": "2024-01-01T00:00:00Z"}' > "$work/osv/good.json"
check "db import: some malformed" 0 30 "$vouch" db import --db "$work/db" "$work/osv"

# ---- malformed package databases: an OS database fails the SBOM (an SBOM without the OS
# packages would be wrong); a malformed language package file is skipped with a warning
mkdir -p "$work/os/var/lib/dpkg" "$work/lang/node_modules/x"
printf 'Package: ok\nVersion: 1\n\n not a field\n' > "$work/os/var/lib/dpkg/status"
check "sbom: malformed dpkg status" 2 30 "$vouch" sbom "dir:$work/os"
mkdir -p "$work/apk/lib/apk/db" "$work/rpm/var/lib/rpm"
printf 'P:x\nnot a field\n' > "$work/apk/lib/apk/db/installed"
check "sbom: malformed apk installed" 2 30 "$vouch" sbom "dir:$work/apk"
head -c 8192 /dev/urandom > "$work/rpm/var/lib/rpm/rpmdb.sqlite"
check "sbom: malformed rpmdb.sqlite" 2 30 "$vouch" sbom "dir:$work/rpm"
printf '{"name": "x", "version": ' > "$work/lang/node_modules/x/package.json"
check "sbom: malformed package.json" 0 30 "$vouch" sbom "dir:$work/lang"
grep -q "warning: skipped /node_modules/x/package.json" "$work/err" || fail "sbom: malformed package.json: no warning"

# ---- a registry that accepts connections and never answers: every command that reads a
# registry ends at its -t/--timeout with one line (without it, the 5-minute default)
port_file="$work/silent.port"
python3 - "$port_file" <<'PY' &
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
held = []
while True:
    c, _ = s.accept(); held.append(c)  # read nothing, answer nothing
PY
silent_pid=$!
for _ in $(seq 50); do [ -s "$port_file" ] && break; sleep 0.1; done
silent="127.0.0.1:$(cat "$port_file")/app:1"
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl ec -pubout -out "$work/silent.pub" 2>/dev/null
for cmd in "inspect $silent" "tree $silent" "sbom $silent" "scan $silent --db $work/db" \
           "verify $silent --key $work/silent.pub --insecure-ignore-tlog"; do
  # shellcheck disable=SC2086
  check "silent registry: ${cmd%% *} -t 2s" 2 20 "$vouch" $cmd -t 2s
  grep -q "timeout" "$work/err" || fail "silent registry: ${cmd%% *}: the error does not name the timeout: $(head -c 200 "$work/err")"
done
# The same server as a transparency log: log queries and uploads end at -t too.
log_url="http://127.0.0.1:$(cat "$port_file")"
(cd "$work" && COSIGN_PASSWORD=pw "$vouch" generate-key-pair --output-key-prefix silentlog >/dev/null 2>&1) || fail "generate-key-pair"
echo artifact > "$work/artifact"
for cmd in "log info" "log get --log-index 0" "log search --sha sha256:$(printf '0%.0s' $(seq 64))" \
           "sign-blob --key $work/silentlog.key --bundle $work/silent.bundle $work/artifact"; do
  # shellcheck disable=SC2086
  COSIGN_PASSWORD=pw check "silent log: ${cmd%% --*} -t 2s" 2 20 "$vouch" $cmd --rekor-url "$log_url" -t 2s
  grep -qi "timed out\|timeout" "$work/err" || fail "silent log: ${cmd%% --*}: the error does not name the timeout: $(head -c 200 "$work/err")"
done
[ -e "$work/silent.bundle" ] && fail "sign-blob wrote a bundle although the log upload failed"
kill "$silent_pid" 2>/dev/null

if [ "$failures" -ne 0 ]; then
  echo "limits: $failures check(s) failed"
  exit 1
fi
echo "limits: all checks passed"
