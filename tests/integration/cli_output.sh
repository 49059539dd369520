#!/usr/bin/env bash
# Standard output as command-line tools treat it: a reader that stops reading (`vouch … | head`)
# ends the output quietly and keeps the command's own exit code; any other write error
# (/dev/full) fails the command with one line on stderr and exit 2.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/assert.sh"
vouch=${VOUCH_BIN:?VOUCH_BIN must point at the vouch binary}
command -v umoci >/dev/null || { echo "FAIL: umoci is missing (scripts/install-deps.sh)"; exit 1; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
export COSIGN_PASSWORD=output-test

# An image in an OCI layout with a signed SBOM attestation whose statement is larger than a pipe
# buffer, so that verify-attestation's output cannot all be written before the reader goes.
umoci init --layout layout >/dev/null
umoci new --image layout:app >/dev/null
image=oci:$work/layout:app
python3 - > sbom.json <<'PY'
import json
pkgs = [{"SPDXID": f"SPDXRef-p{i}", "name": f"package-{i}", "versionInfo": "1.0.0", "downloadLocation": "NOASSERTION"}
        for i in range(3000)]
print(json.dumps({"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "big", "packages": pkgs}))
PY
"$vouch" generate-key-pair >/dev/null 2>&1 || fail "generate-key-pair"
"$vouch" attest --key cosign.key --type spdxjson --predicate sbom.json "$image" >/dev/null 2>&1 || fail "attest"
verify_att=("$vouch" verify-attestation --insecure-ignore-tlog --key cosign.pub --type spdxjson "$image")
"${verify_att[@]}" > full.out 2>/dev/null || fail "verify-attestation to a file"
[ "$(stat -c %s full.out)" -gt 200000 ] || fail "the attestation output is too small to fill a pipe: $(stat -c %s full.out) bytes"

# `| head -c 10` under pipefail: no error message, exit 0, the first bytes as usual.
first=$("${verify_att[@]}" 2>err.txt | head -c 10); rc=$?
[ "$rc" -eq 0 ] || fail "verify-attestation | head -c 10: pipeline exit $rc (SIGPIPE is 141)"
grep -q . err.txt && grep -v -e '^Verification for' -e '^The following checks' -e '^  - ' -e '^$' err.txt | grep -q . \
  && fail "verify-attestation | head -c 10 printed an error: $(cat err.txt)"
[ "$first" = "$(head -c 10 full.out)" ] || fail "head -c 10 got '$first'"

# A reader that is gone before the first byte, without timing: the read end is closed before
# vouch starts. The command's own verdict is kept: 0 when verified, 1 with the wrong key.
closed_pipe() {  # closed_pipe COMMAND… -> prints "EXIT<TAB>STDERR"
  python3 - "$@" <<'PY'
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
p = subprocess.run(sys.argv[1:], stdout=w, stderr=subprocess.PIPE)
print(f"{p.returncode}\t{p.stderr.decode(errors='replace')}")
PY
}
got=$(closed_pipe "${verify_att[@]}")
[ "${got%%$'\t'*}" = 0 ] || fail "verify-attestation into a closed pipe: exit ${got%%$'\t'*} (-13 is death by SIGPIPE)"
[[ "$got" != *"vouch:"* ]] || fail "verify-attestation into a closed pipe printed an error: $got"
"$vouch" generate-key-pair --output-key-prefix other >/dev/null 2>&1
got=$(closed_pipe "$vouch" verify-attestation --insecure-ignore-tlog --key other.pub --type spdxjson "$image")
[ "${got%%$'\t'*}" = 1 ] || fail "a failed verification into a closed pipe must still exit 1: got ${got%%$'\t'*}"
got=$(closed_pipe "$vouch" sbom dir:"$work" -o spdx-json)
[ "${got%%$'\t'*}" = 0 ] && [[ "$got" != *"vouch:"* ]] || fail "sbom into a closed pipe: $got"

# A full device is an error: one line, exit 2, whatever the command.
expect 2 "writing standard output: No space left on device" -- sh -c '"$0" sbom "dir:$1" -o spdx-json > /dev/full' "$vouch" "$work"
# (verify-attestation reports its checks on stderr first, as cosign does; the error is the last line.)
"${verify_att[@]}" > /dev/full 2> err.txt; rc=$?
[ "$rc" -eq 2 ] && [ "$(tail -n 1 err.txt)" = "vouch: writing standard output: No space left on device" ] \
  || fail "verify-attestation > /dev/full: exit $rc: $(cat err.txt)"
expect 2 "writing standard output" -- sh -c '"$0" --version > /dev/full' "$vouch"
expect 2 "writing standard output" -- sh -c '"$0" sign --help > /dev/full' "$vouch"

[ "$fails" -eq 0 ] && echo "cli_output: all checks passed"
[ "$fails" -eq 0 ]
