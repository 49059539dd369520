#!/usr/bin/env bash
# The JMESPath compliance suite (../shared/testdata/jmespath/tests) through `vouch jp query`:
# every case's expression on its input, the printed JSON compared with the expected result,
# and exit code 2 with a one-line message of the expected error kind for error cases.
# Under the sanitizers (ASAN_OPTIONS set, as `make test-asan` sets it) every 8th case runs here:
# a sanitized process takes about half a second to start, and the whole suite already runs
# in-process under them (tests/unit/policy/jmespath_compliance_test.cc).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
vouch=${VOUCH_BIN:-$root/build/vouch}
suite=${VOUCH_TESTDATA:-$root/../shared/testdata}/jmespath/tests
[ -d "$suite" ] || { echo "jp_compliance: $suite is missing"; exit 1; }
exec python3 - "$vouch" "$suite" <<'PY'
import glob, json, os, subprocess, sys, tempfile
vouch, suite = sys.argv[1], sys.argv[2]
kinds = {"syntax": "syntax error", "invalid-type": "invalid-type", "invalid-value": "invalid-value",
         "invalid-arity": "invalid-arity", "unknown-function": "unknown-function"}
def same(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b if isinstance(a, bool) and isinstance(b, bool) else False
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b
# `vouch jp` evaluates with Kyverno's functions, and where one of them replaces the
# specification's, Kyverno's answer is the expected one: its sum refuses an empty array
# (jpSum in kyverno/kyverno pkg/engine/jmespath/functions.go).
kyverno_answers = {"sum(`[]`)": {"error": "invalid-value"}}
passed = failed = 0
stride = 8 if os.environ.get("ASAN_OPTIONS") else 1
seen = 0
with tempfile.TemporaryDirectory() as tmp:
    for path in sorted(glob.glob(os.path.join(suite, "*.json"))):
        for gi, group in enumerate(json.load(open(path, encoding="utf-8"))):
            given = os.path.join(tmp, "given.json")
            with open(given, "w", encoding="utf-8") as f:
                json.dump(group["given"], f)
            for ci, case in enumerate(group["cases"]):
                seen += 1
                if seen % stride:
                    continue
                if case["expression"] in kyverno_answers:
                    case = {"expression": case["expression"], **kyverno_answers[case["expression"]]}
                name = f"{os.path.basename(path)}[{gi}][{ci}] {case['expression']!r}"
                p = subprocess.run([vouch, "jp", "query", "-c", "-i", given, case["expression"]],
                                   capture_output=True, text=True)
                ok, why = True, ""
                if "error" in case:
                    want = kinds.get(case["error"], case["error"])
                    lines = p.stderr.strip().splitlines()
                    if p.returncode != 2 or len(lines) != 1 or want not in lines[0]:
                        ok, why = False, f"want exit 2 with a one-line {want} error, got exit {p.returncode}: {p.stderr.strip()!r}"
                elif "result" in case:
                    if p.returncode != 0:
                        ok, why = False, f"exit {p.returncode}: {p.stderr.strip()}"
                    else:
                        try:
                            got = json.loads(p.stdout)
                        except ValueError:
                            got = ("unparsable", p.stdout)
                        if not same(got, case["result"]):
                            ok, why = False, f"got {p.stdout.strip()}, want {json.dumps(case['result'])}"
                else:  # benchmark cases: they must evaluate
                    if p.returncode != 0:
                        ok, why = False, f"exit {p.returncode}: {p.stderr.strip()}"
                if ok:
                    passed += 1
                else:
                    failed += 1
                    print(f"FAIL {name}: {why}")
print(f"jp_compliance: {passed} passed, {failed} failed" + (f" (every {stride}th of {seen} cases)" if stride > 1 else ""))
sys.exit(1 if failed or passed < 900 // stride else 0)
PY
