#!/usr/bin/env python3
"""Runs Kyverno's own CLI test directories (test/cli of kyverno/kyverno) with `vouch policy test`.

Usage: run.py VOUCH KYVERNO_TEST_CLI_DIR [--kinds classic|all] [-v]

Selects every directory holding a kyverno-test.yaml whose policies are ClusterPolicy/Policy
with only validate, verifyImages or mutate rules (--kinds classic, the default), runs
`VOUCH policy test DIR` in each and prints one line per directory (pass/fail and the first
failure) and the totals. The directories are not part of this repository: fetch kyverno/kyverno
and point this at its test/cli.
"""
import os
import subprocess
import sys

import yaml


def documents(path):
    try:
        with open(path) as f:
            return [d for d in yaml.safe_load_all(f) if isinstance(d, dict)]
    except Exception:
        return []


def policy_files(test_dir, test):
    out = []
    for p in test.get("policies") or []:
        full = os.path.normpath(os.path.join(test_dir, p))
        if os.path.isdir(full):
            for root, _, files in os.walk(full):
                out += [os.path.join(root, f) for f in files if f.endswith((".yaml", ".yml"))]
        elif os.path.exists(full):
            out.append(full)
    return out


def classic_only(test_dir, test):
    files = policy_files(test_dir, test)
    if not files:
        return False
    seen = False
    for f in files:
        for d in documents(f):
            if d.get("kind") not in ("ClusterPolicy", "Policy"):
                if str(d.get("apiVersion", "")).startswith(("kyverno.io", "policies.kyverno.io", "admissionregistration")):
                    return False
                continue
            seen = True
            for r in (d.get("spec") or {}).get("rules") or []:
                if not any(k in r for k in ("validate", "verifyImages", "mutate")) or "generate" in r:
                    return False
    return seen


def main():
    vouch, root = sys.argv[1], sys.argv[2]
    verbose = "-v" in sys.argv
    kinds = "all" if "all" in sys.argv[3:] else "classic"
    dirs = []
    for base, _, files in os.walk(root):
        if "kyverno-test.yaml" in files:
            tests = documents(os.path.join(base, "kyverno-test.yaml"))
            if kinds == "all" or (tests and all(classic_only(base, t) for t in tests)):
                dirs.append(base)
    dirs.sort()
    passed = 0
    for d in dirs:
        p = subprocess.run([vouch, "policy", "test", d, "--fail-only"], capture_output=True, text=True, timeout=120)
        # test-fail/ holds tests written to fail: `kyverno test` must exit non-zero there.
        expect_failure = "test-fail" in os.path.relpath(d, root).split(os.sep)
        ok = (p.returncode != 0) if expect_failure else (p.returncode == 0)
        passed += ok
        reason = ""
        if not ok:
            lines = [l for l in (p.stdout + p.stderr).splitlines() if l.strip()]
            reason = next((l for l in lines if "fail" in l.lower() or "error" in l.lower() or "vouch:" in l), lines[-1] if lines else "")
        print(f"{'pass' if ok else 'FAIL'} {os.path.relpath(d, root)}" + (f"  [{p.returncode}] {reason[:220]}" if reason and verbose else ""))
    print(f"total: {passed} of {len(dirs)} directories pass")


if __name__ == "__main__":
    main()
