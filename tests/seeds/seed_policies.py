#!/usr/bin/env python3
"""Finds the Kyverno policies in a seed chapter and writes each, placeholders filled, as a file.

    seed_policies.py SEED_FILE OUT_DIR [--key PUB.pem] [--cert CERT.pem] [--chain CHAIN.pem]
                     [--replace OLD=NEW]...

A policy starts at a line `apiVersion: kyverno.io/...`. Two shapes occur in the seeds:
- indented YAML, taken line for line up to the first blank line (or the first unindented line
  that is not one of a policy's top-level keys);
- YAML whose indentation was lost when the chapter was turned into text (every line flush left).
  Its nesting is rebuilt from the ClusterPolicy schema below: each key goes under the innermost
  open mapping that may hold it, each `- ` item under the innermost open list whose items may start
  with it. The first line that fits nowhere (the chapter's prose) ends the policy.
Nothing else is changed: comments stay, values are kept as written. Then placeholders are filled:
each --replace OLD=NEW in order, and PEM blocks whose body is a run of x's (the seeds' stand-ins
for a real key or certificate) get the files given (--key for PUBLIC KEY; --cert, then --chain, for
CERTIFICATE in order).

Prints one line per policy: LINE NAME FILE (FILE is OUT_DIR/NNN-LLINE-NAME.yaml)."""
import argparse
import os
import re
import sys

import yaml

S = None  # a scalar
ANNOTATIONS = "annotations"  # any key with a '/' (policies.kyverno.io/title)
RES = {"kinds": [S], "namespaces": [S], "names": [S], "selector": {}}
MATCH = {"any": [{"resources": RES}], "all": [{"resources": RES}], "resources": RES}
REKOR = {"url": S, "ignoreTlog": S}
ENTRY = {"keys": {"publicKeys": S, "rekor": REKOR, "ctlog": {}},
         "keyless": {"subject": S, "issuer": S, "subjectRegExp": S, "issuerRegExp": S, "rekor": REKOR, "roots": S},
         "certificates": {"cert": S, "certChain": S, "rekor": REKOR}}
ATTESTOR = {"count": S, "entries": [ENTRY]}
COND = {"key": S, "operator": S, "value": S, "message": S}
ATTESTATION = {"type": S, "predicateType": S, "attestors": [ATTESTOR], "conditions": [{"all": [COND], "any": [COND]}]}
VERIFY = {"imageReferences": [S], "type": S, "attestors": [ATTESTOR], "attestations": [ATTESTATION],
          "mutateDigest": S, "verifyDigest": S, "required": S}
CONTAINER = {"image": S, "name": S}
RULE = {"name": S, "match": MATCH, "exclude": MATCH, "verifyImages": [VERIFY],
        "validate": {"message": S, "pattern": {"spec": {"containers": [CONTAINER], "initContainers": [CONTAINER]}}},
        "validationFailureAction": S}
POLICY = {"apiVersion": S, "kind": S,
          "metadata": {"name": S, "namespace": S, "annotations": ANNOTATIONS},
          "spec": {"validationFailureAction": S, "background": S, "webhookTimeoutSeconds": S, "failurePolicy": S,
                   "webhookConfiguration": {"failurePolicy": S, "timeoutSeconds": S}, "rules": [RULE]}}
TOP_LEVEL = ("apiVersion", "kind", "metadata", "spec")
KEY_LINE = re.compile(r"^([A-Za-z][\w./-]*):(?:\s+(.*))?$")


def allows(node, key):
    if node == ANNOTATIONS:
        return "/" in key
    return isinstance(node, dict) and key in node


def rebuild_flat(lines, start):
    """Re-indents a flush-left policy starting at lines[start]; returns (text lines, end index)."""
    out = []
    # Frames: ("map", schema, indent) or ("list", item schema, indent of the '- ').
    stack = [("map", POLICY, 0)]
    i = start
    while i < len(lines):
        line = lines[i].strip()
        if not line:
            break
        if line.startswith("#"):
            out.append(" " * stack[-1][2] + line)
            i += 1
            continue
        if line.startswith("- "):
            item = line[2:]
            m = KEY_LINE.match(item)
            first_key = m.group(1) if m else None
            depth = len(stack) - 1
            while depth >= 0:
                kind, node, _ = stack[depth]
                if kind == "list" and (node is S if first_key is None else allows(node, first_key)):
                    break
                depth -= 1
            if depth < 0:
                break
            del stack[depth + 1:]
            _, node, indent = stack[-1]
            if first_key is None:
                out.append(" " * indent + line)
            else:
                stack.append(("map", node, indent + 2))
                i = emit_key(lines, i, first_key, m.group(2), stack, out, indent, "- ")
                continue
            i += 1
            continue
        m = KEY_LINE.match(line)
        if not m:
            break
        key = m.group(1)
        depth = len(stack) - 1
        while depth >= 0 and not (stack[depth][0] == "map" and allows(stack[depth][1], key)):
            depth -= 1
        if depth < 0:
            break
        del stack[depth + 1:]
        i = emit_key(lines, i, key, m.group(2), stack, out, stack[-1][2], "")
    return out, i


def emit_key(lines, i, key, value, stack, out, indent, prefix):
    """Writes `key: value` (after PREFIX) and opens what the key's value holds; returns the next index."""
    parent = stack[-1][1]
    child = None if parent == ANNOTATIONS else parent[key]
    out.append(" " * indent + prefix + lines[i].strip()[len(prefix):])
    i += 1
    inner = indent + len(prefix)
    value = (value or "").split(" #")[0].strip()
    if value in ("|", "|-", "|+", ">", ">-"):
        # A block scalar: the seeds' are PEM blocks, which end at their END line.
        while i < len(lines):
            text = lines[i].strip()
            out.append(" " * (inner + 2) + text)
            i += 1
            if text.startswith("-----END "):
                break
    elif value == "":
        if isinstance(child, list):
            stack.append(("list", child[0], inner + 2))
        elif isinstance(child, dict) or child == ANNOTATIONS:
            stack.append(("map", child, inner + 2))
    return i


def take_indented(lines, start):
    end = start + 1
    while end < len(lines):
        line = lines[end]
        if not line.strip():
            break
        if not line[0].isspace() and not line.startswith("#"):
            m = KEY_LINE.match(line.strip())
            if not m or m.group(1) not in TOP_LEVEL:
                break
        end += 1
    return lines[start:end], end


def fill_pem(text, kind, files):
    pattern = re.compile(r"^([ \t]*)-----BEGIN " + kind + r"-----\n(?:[ \t]*[A-Za-z0-9+/=]*x{4,}[A-Za-z0-9+/=]*\n)+"
                         r"[ \t]*-----END " + kind + r"-----$", re.M)
    queue = list(files)

    def sub(m):
        if not queue:
            return m.group(0)
        pem = open(queue.pop(0)).read().strip().splitlines()
        return "\n".join(m.group(1) + p for p in pem)
    return pattern.sub(sub, text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("seed")
    ap.add_argument("out")
    ap.add_argument("--key", action="append", default=[])
    ap.add_argument("--cert", action="append", default=[])
    ap.add_argument("--chain", action="append", default=[])
    ap.add_argument("--replace", action="append", default=[])
    a = ap.parse_args()
    lines = open(a.seed, encoding="utf-8").read().split("\n")
    prefix = os.path.basename(a.seed)[:3]
    os.makedirs(a.out, exist_ok=True)
    i = 0
    while i < len(lines):
        if not lines[i].startswith("apiVersion: kyverno.io/"):
            i += 1
            continue
        flat = i + 3 < len(lines) and lines[i + 2].strip() == "metadata:" and not lines[i + 3][:1].isspace()
        body, end = rebuild_flat(lines, i) if flat else take_indented(lines, i)
        text = "\n".join(body) + "\n"
        for pair in a.replace:
            old, new = pair.split("=", 1)
            text = text.replace(old, new)
        text = fill_pem(text, "PUBLIC KEY", a.key)
        text = fill_pem(text, "CERTIFICATE", a.cert + a.chain)
        name = yaml.safe_load(text)["metadata"]["name"]
        path = os.path.join(a.out, f"{prefix}-L{i + 1}-{name}.yaml")
        with open(path, "w") as f:
            f.write(text)
        print(i + 1, name, path)
        i = max(end, i + 1)


if __name__ == "__main__":
    sys.exit(main())
