#!/usr/bin/env bash
# Runs each libFuzzer target in $1 for $FUZZ_SECONDS (default 60), seeded from ../shared/testdata.
# With FUZZ_RUNS=N it runs N inputs per target from a fixed seed instead (repeatable, for CI).
set -euo pipefail
build=${1:-build-asan}
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${FUZZ_SECONDS:-60}
limit=(-max_total_time="$seconds")
[ -n "${FUZZ_RUNS:-}" ] && limit=(-runs="$FUZZ_RUNS" -seed=1)
data=$root/../shared/testdata
seed() {  # seed CORPUS FILES... (named by content, so the corpus, and a FUZZ_RUNS pass, is the same on any checkout)
  local dir=$1; shift; mkdir -p "$dir"
  for f in "$@"; do cp "$f" "$dir/$(md5sum < "$f" | cut -c1-16)"; done
}
seed "$root/.cache/fuzz/bundle" "$data"/sigstore-conformance/bundle-verify/*/bundle.sigstore.json "$data"/sigstore-trust/trusted_root.*.json
mkdir -p "$root/.cache/fuzz/checkpoint"
python3 - "$data" "$root/.cache/fuzz/checkpoint" <<'PY'
import glob, json, os, sys, hashlib
for f in glob.glob(os.path.join(sys.argv[1], "sigstore-conformance/bundle-verify/*/bundle.sigstore.json")):
    try: b = json.load(open(f))
    except Exception: continue
    for e in b.get("verificationMaterial", {}).get("tlogEntries", []):
        cp = e.get("inclusionProof", {}).get("checkpoint", {}).get("envelope")
        if cp: open(os.path.join(sys.argv[2], hashlib.md5(cp.encode()).hexdigest()), "w").write(cp)
PY
seed "$root/.cache/fuzz/vuln" "$data"/osv/crates.io/RUSTSEC-2016-000*.json "$data"/osv/pypi/PYSEC-2017-27.json \
  "$data"/osv/go/GO-2020-0001.json "$data"/schemas/spdx-examples/*.json "$data"/schemas/cyclonedx-tests/1.6/valid-*.json \
  "$root"/tests/unit/vuln/testdata/*.json
"$build/fuzz_bundle" "${limit[@]}" -max_len=65536 -rss_limit_mb=2048 "$root/.cache/fuzz/bundle"
"$build/fuzz_tlog_checkpoint" "${limit[@]}" -max_len=8192 -rss_limit_mb=2048 "$root/.cache/fuzz/checkpoint"
# SLSA provenance: the in-toto statements of slsa-github-generator's published bundles.
mkdir -p "$root/.cache/fuzz/slsa"
python3 - "$data/slsa" "$root/.cache/fuzz/slsa" <<'PY'
import base64, glob, hashlib, json, os, sys
for f in glob.glob(os.path.join(sys.argv[1], "*", "*", "*.intoto.*")):
    payload = base64.b64decode(json.load(open(f))["dsseEnvelope"]["payload"])
    open(os.path.join(sys.argv[2], hashlib.md5(payload).hexdigest()), "wb").write(payload)
PY
"$build/fuzz_slsa_provenance" "${limit[@]}" -max_len=65536 -rss_limit_mb=2048 "$root/.cache/fuzz/slsa"
"$build/fuzz_vuln_inputs" "${limit[@]}" -max_len=65536 -rss_limit_mb=2048 "$root/.cache/fuzz/vuln"
mkdir -p "$root/.cache/fuzz/tlog-entry"
python3 - "$data" "$root/.cache/fuzz/tlog-entry" <<'PY'
import base64, glob, json, os, sys, hashlib
for f in glob.glob(os.path.join(sys.argv[1], "sigstore-conformance/bundle-verify/*/bundle.sigstore.json")):
    try: b = json.load(open(f))
    except Exception: continue
    for e in b.get("verificationMaterial", {}).get("tlogEntries", []):
        body = e.get("canonicalizedBody")
        if body:
            raw = base64.b64decode(body)
            open(os.path.join(sys.argv[2], hashlib.md5(raw).hexdigest()), "wb").write(raw)
PY
"$build/fuzz_tlog_entry" "${limit[@]}" -max_len=65536 -rss_limit_mb=2048 "$root/.cache/fuzz/tlog-entry"
# OCI: references, manifests, layer tars.
mkdir -p "$root/.cache/fuzz/oci-reference" "$root/.cache/fuzz/oci-manifest" "$root/.cache/fuzz/oci-tar"
i=0
for r in alpine alpine:3.19 docker.io/library/alpine:latest localhost:5000/a/b@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 \
         "[::1]:5000/x:y" oci:/tmp/l:tag docker-archive:a.tar:demo/app:v1 dir:/x; do
  printf '%s' "$r" > "$root/.cache/fuzz/oci-reference/seed$i"; i=$((i + 1))
done
python3 - "$root/.cache/fuzz" <<'PY'
import io, json, os, sys, tarfile
out = sys.argv[1]
h = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
d = {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + h, "size": 0}
docs = [
  {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": dict(d, mediaType="application/vnd.oci.image.config.v1+json"), "layers": [d]},
  {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [dict(d, platform={"os": "linux", "architecture": "arm64", "variant": "v8"})]},
  {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "artifactType": "application/spdx+json",
   "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "size": 2, "data": "e30="},
   "layers": [d], "subject": d, "annotations": {"a": "b"}},
  {"schemaVersion": 1, "name": "x"}]
for i, doc in enumerate(docs):
    open(os.path.join(out, "oci-manifest", f"seed{i}"), "w").write(json.dumps(doc))
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as t:
    for name, typ, data in [("etc/", tarfile.DIRTYPE, b""), ("etc/a", tarfile.REGTYPE, b"hello"), ("etc/.wh.b", tarfile.REGTYPE, b""),
                            ("d/.wh..wh..opq", tarfile.REGTYPE, b""), ("l", tarfile.SYMTYPE, b"../etc/a"), ("h", tarfile.LNKTYPE, b"etc/a")]:
        ti = tarfile.TarInfo(name); ti.type = typ
        if typ == tarfile.SYMTYPE or typ == tarfile.LNKTYPE: ti.linkname = data.decode(); data = b""
        ti.size = len(data); t.addfile(ti, io.BytesIO(data))
open(os.path.join(out, "oci-tar", "seed0"), "wb").write(buf.getvalue())
PY
"$build/fuzz_oci_reference" "${limit[@]}" -max_len=512 -rss_limit_mb=2048 "$root/.cache/fuzz/oci-reference"
"$build/fuzz_oci_manifest" "${limit[@]}" -max_len=65536 -rss_limit_mb=2048 "$root/.cache/fuzz/oci-manifest"
"$build/fuzz_oci_tar" "${limit[@]}" -max_len=65536 -rss_limit_mb=2048 "$root/.cache/fuzz/oci-tar"
# SBOM language catalogers: lock files, core metadata, manifests, license strings.
mkdir -p "$root/.cache/fuzz/sbom-lang"
printf '%s' '{"name":"p","version":"1","lockfileVersion":3,"packages":{"":{"name":"p"},"node_modules/@s/a":{"version":"1.0.0","license":"MIT"}}}' > "$root/.cache/fuzz/sbom-lang/lock3"
printf '%s' '{"lockfileVersion":1,"dependencies":{"a":{"version":"1","dependencies":{"b":{"version":"2"}}}}}' > "$root/.cache/fuzz/sbom-lang/lock1"
printf 'Metadata-Version: 2.1\nName: PyYAML\nVersion: 6.0\nLicense: MIT\nClassifier: License :: OSI Approved :: MIT License\n\nbody\n' > "$root/.cache/fuzz/sbom-lang/metadata"
printf '  s.name = "rake".freeze\n  s.version = "13.0.6"\n  s.licenses = ["MIT".freeze]\n' > "$root/.cache/fuzz/sbom-lang/gemspec"
printf '%s' '{"packages":[{"name":"a/b","version":"1","license":["MIT"]}],"libraries":{"A/1":{"type":"package"}}}' > "$root/.cache/fuzz/sbom-lang/composer"
printf '%s' 'GPL-2+ or (Artistic, and BSD-3-clause) with Classpath-exception-2.0' > "$root/.cache/fuzz/sbom-lang/license"
"$build/fuzz_sbom_lang" "${limit[@]}" -max_len=16384 -rss_limit_mb=2048 "$root/.cache/fuzz/sbom-lang"
# cosign: simple-signing payloads and legacy Rekor bundle annotations.
mkdir -p "$root/.cache/fuzz/cosign-payload"
printf '%s' '{"critical":{"identity":{"docker-reference":"r/a"},"image":{"docker-manifest-digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},"type":"cosign container image signature"},"optional":{"a":"b"}}' \
  > "$root/.cache/fuzz/cosign-payload/seed0"
printf '%s' '{"SignedEntryTimestamp":"AQID","Payload":{"body":"e30=","integratedTime":1,"logIndex":2,"logID":"abcd"}}' \
  > "$root/.cache/fuzz/cosign-payload/seed1"
"$build/fuzz_cosign_payload" "${limit[@]}" -max_len=16384 -rss_limit_mb=2048 "$root/.cache/fuzz/cosign-payload"
# SBOM parsers of binaries and databases: Go build info, cargo-auditable data, rpm headers.
mkdir -p "$root/.cache/fuzz/sbom-go" "$root/.cache/fuzz/sbom-cargo" "$root/.cache/fuzz/sbom-rpm" "$root/.cache/fuzz/sbom-java"
python3 - "$root/.cache/fuzz" <<'PY'
import os, struct, sys, zlib
out = sys.argv[1]
mod = "path\texample.com/a\nmod\texample.com/a\tv1.0.0\th1:x=\ndep\tgithub.com/b/c\tv0.1.0\th1:y=\n=>\t../c\nbuild\tGOOS=linux\n"
def uv(n):
    b = b""
    while n >= 0x80: b += bytes([n & 0x7f | 0x80]); n >>= 7
    return b + bytes([n])
blob = b"\xff Go buildinf:" + bytes([8, 2]) + b"\0" * 16 + uv(8) + b"go1.21.5" + uv(len(mod)) + mod.encode()
open(os.path.join(out, "sbom-go", "seed0"), "wb").write(blob)
open(os.path.join(out, "sbom-go", "seed1"), "wb").write(mod.encode())
js = b'{"packages":[{"name":"a","version":"0.1.0","source":"local","dependencies":[1],"root":true},{"name":"b","version":"1.0.0","kind":"build"}]}'
open(os.path.join(out, "sbom-cargo", "seed0"), "wb").write(zlib.compress(js))
open(os.path.join(out, "sbom-cargo", "seed1"), "wb").write(js)
open(os.path.join(out, "sbom-cargo", "seed2"), "wb").write(b'[[package]]\nname = "a"\nversion = "1.0.0"\n')
tags = [(1000, 6, [b"bash"]), (1001, 6, [b"5.1"]), (1002, 6, [b"1"]), (1003, 4, [1]), (1116, 4, [0, 0]),
        (1117, 8, [b"bash", b"sh"]), (1118, 8, [b"/usr/bin/"])]
index, data = b"", b""
for tag, typ, vals in tags:
    if typ == 4:
        data += b"\0" * (-len(data) % 4)
        off = len(data); data += b"".join(struct.pack(">i", v) for v in vals)
    else:
        off = len(data); data += b"".join(v + b"\0" for v in vals)
    index += struct.pack(">IIII", tag, typ, off, len(vals))
open(os.path.join(out, "sbom-rpm", "seed0"), "wb").write(struct.pack(">II", len(tags), len(data)) + index + data)
import io, zipfile
def jar(files):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        for n, c in files: z.writestr(n, c)
    return b.getvalue()
inner = jar([("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nImplementation-Title: inner\nImplementation-Version: 2\n")])
open(os.path.join(out, "sbom-java", "seed0"), "wb").write(jar([
    ("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n"),
    ("META-INF/maven/g/a/pom.properties", "groupId=g\nartifactId=a\nversion=1.0\n"),
    ("WEB-INF/lib/inner-2.jar", inner)]))
PY
"$build/fuzz_sbom_go_buildinfo" "${limit[@]}" -max_len=16384 -rss_limit_mb=2048 "$root/.cache/fuzz/sbom-go"
"$build/fuzz_sbom_cargo_auditable" "${limit[@]}" -max_len=16384 -rss_limit_mb=2048 "$root/.cache/fuzz/sbom-cargo"
"$build/fuzz_sbom_rpm_header" "${limit[@]}" -max_len=16384 -rss_limit_mb=2048 "$root/.cache/fuzz/sbom-rpm"
"$build/fuzz_sbom_java_archive" "${limit[@]}" -max_len=16384 -rss_limit_mb=2048 "$root/.cache/fuzz/sbom-java"
# Policies: the example policies and the Kyverno-format test directories (policies of every
# kind, exceptions, values, kyverno-test.yaml).
seed "$root/.cache/fuzz/policy" "$root"/examples/policies/*.yaml "$root"/tests/policy/*/*.yaml
cat > "$root/.cache/fuzz/policy/cel-kinds" <<'YAML'
apiVersion: policies.kyverno.io/v1
kind: ValidatingPolicy
metadata: {name: labels}
spec:
  validationActions: [Deny]
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [pods]}]
  matchConditions: [{name: named, expression: "has(object.metadata.name)"}]
  variables: [{name: app, expression: "object.metadata.?labels.app.orValue('')"}]
  validations:
  - expression: "variables.app != ''"
    messageExpression: "'missing app on ' + object.metadata.name"
---
apiVersion: policies.kyverno.io/v1
kind: ImageValidatingPolicy
metadata: {name: signed}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}]
  matchImageReferences: [{glob: "ghcr.io/*"}]
  attestors:
  - name: cosign
    cosign: {key: {data: "-----BEGIN PUBLIC KEY-----\nAA==\n-----END PUBLIC KEY-----"}}
  validationConfigurations: {required: true, mutateDigest: false}
  validations:
  - expression: "images.containers.map(i, verifyImageSignatures(i, [attestors.cosign])).all(e, e > 0)"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: replicas}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules: [{apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}]
  validations: [{expression: "object.spec.replicas <= 5", message: too many}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: replicas}
spec: {policyName: replicas, validationActions: [Deny, Audit]}
YAML
# CEL libraries that read the stand-in cluster, and parameters.
cat > "$root/.cache/fuzz/policy/cel-libraries" <<'YAML'
apiVersion: policies.kyverno.io/v1
kind: ValidatingPolicy
metadata: {name: libraries}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}]
  variables:
  - {name: cm, expression: "resource.get('v1', 'configmaps', 'ns', 'limits')"}
  - {name: g, expression: "globalContext.Get('entry', 'items')"}
  validations:
  - expression: "image.GetMetadata(object.spec.containers[0].image).config != null && size(variables.g) > 0"
  - expression: "json.unmarshal(json.marshal(variables.cm.data)).max == yaml.parse('max: \"3\"').max"
  - expression: "sha256(object.metadata.name) != md5('x') && math.round(2.5, 0) == 3.0"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: params}
spec:
  paramKind: {apiVersion: v1, kind: ConfigMap}
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}]
  validations: [{expression: "int(params.data.max) >= 1"}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: params}
spec:
  policyName: params
  validationActions: [Deny]
  paramRef: {selector: {matchLabels: {tier: a}}, parameterNotFoundAction: Deny}
YAML
# Kyverno's small CEL libraries, whose arguments (patterns, PEM text, gzip bytes) come from
# the policy.
cat > "$root/.cache/fuzz/policy/kyverno-libraries" <<'YAML'
apiVersion: policies.kyverno.io/v1
kind: ValidatingPolicy
metadata: {name: libraries}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}]
  validations:
  - expression: "random('[a-f]{2,4}(x|yz)+\\\\d?[^a-c]*').size() > 0 && random().matches('^[0-9a-z]{8}$')"
  - expression: "gzip.decompress(gzip.compress(object.metadata.name)) == object.metadata.name"
  - expression: "time.toCron(time.truncate(timestamp('2024-06-18T07:21:07Z'), duration('7m'))) != ''"
  - expression: "listObjToMap([{'k': 'a'}], [{'v': 1}], 'k', 'v').a == 1"
  - expression: "x509.decode('-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----') == {}"
YAML
# The payload modes: an Envoy policy with the request it judges, and an apiCall answered by a mock.
cat > "$root/.cache/fuzz/policy/payload-modes" <<'YAML'
apiVersion: policies.kyverno.io/v1
kind: ValidatingPolicy
metadata: {name: envoy}
spec:
  evaluation: {mode: Envoy}
  variables:
  - {name: auth, expression: "object.attributes.request.http.headers[?'authorization'].orValue('').split(' ')"}
  validations:
  - expression: "size(variables.auth) == 2 && jwt.Decode(variables.auth[1], 'secret').Valid ? null : envoy.Denied(401).Response()"
  - expression: "envoy.Allowed().WithHeader('x', 'y').WithoutHeader('z').Response().WithMessage('ok')"
---
attributes:
  request: {http: {method: GET, path: /api, headers: {authorization: "Bearer eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA1JJJW8opsbCGfG_HACGpVUMN_a9IV7pAx_Zmeo"}}}
  contextExtensions: {team: shop}
---
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: apicall}
spec:
  rules:
  - name: check
    match: {any: [{resources: {kinds: [Pod]}}]}
    context:
    - name: answer
      apiCall: {service: {url: "https://svc.example/check"}, jmesPath: allowed}
    validate:
      deny: {conditions: {any: [{key: "{{ answer }}", operator: Equals, value: false}]}}
YAML
"$build/fuzz_policy" "${limit[@]}" -max_len=16384 -rss_limit_mb=2048 "$root/.cache/fuzz/policy"
# TUF metadata: Sigstore's published roots and roles, python-tuf's test repository (role byte first).
mkdir -p "$root/.cache/fuzz/tuf"
python3 - "$data/tuf" "$root/.cache/fuzz/tuf" <<'PY'
import glob, hashlib, os, sys
kinds = {"root": 0, "timestamp": 1, "snapshot": 2, "targets": 3}
for f in glob.glob(os.path.join(sys.argv[1], "**", "*.json"), recursive=True):
    body = open(f, "rb").read()
    name = os.path.basename(f)
    kind = next((v for k, v in kinds.items() if k in name), 3)
    open(os.path.join(sys.argv[2], hashlib.md5(body).hexdigest()), "wb").write(bytes([kind]) + body)
PY
"$build/fuzz_tuf_metadata" "${limit[@]}" -max_len=65536 -rss_limit_mb=2048 "$root/.cache/fuzz/tuf"
# JMESPath: the compliance suite's expressions, one per file.
mkdir -p "$root/.cache/fuzz/jmespath"
python3 - "$data" "$root/.cache/fuzz/jmespath" <<'PY'
import glob, json, os, sys, hashlib
for f in glob.glob(os.path.join(sys.argv[1], "jmespath/tests/*.json")):
    for group in json.load(open(f, encoding="utf-8")):
        for case in group["cases"]:
            e = case["expression"]
            open(os.path.join(sys.argv[2], hashlib.md5(e.encode()).hexdigest()), "w").write(e + "\n" + json.dumps(group["given"]))
PY
"$build/fuzz_jmespath" "${limit[@]}" -max_len=4096 -rss_limit_mb=2048 "$root/.cache/fuzz/jmespath"
# CEL: the expressions of cel-spec's conformance files.
mkdir -p "$root/.cache/fuzz/cel"
python3 - "$data/cel/tests/simple/testdata" "$root/.cache/fuzz/cel" <<'PY'
import glob, hashlib, os, re, sys
for f in glob.glob(os.path.join(sys.argv[1], "*.textproto")):
    for m in re.finditer(r'^\s*expr: "((?:[^"\\]|\\.)*)"\s*$', open(f).read(), re.M):
        e = m.group(1).encode().decode("unicode_escape", errors="ignore").encode("utf-8", errors="ignore")
        open(os.path.join(sys.argv[2], hashlib.md5(e).hexdigest()), "wb").write(e)
PY
"$build/fuzz_cel_parser" "${limit[@]}" -max_len=4096 -rss_limit_mb=2048 "$root/.cache/fuzz/cel"
# The same under a small budget, seeded also with expressions that grow without bound.
mkdir -p "$root/.cache/fuzz/jmespath-budget"
cp "$root"/.cache/fuzz/jmespath/* "$root/.cache/fuzz/jmespath-budget/"
python3 - "$root/.cache/fuzz/jmespath-budget" <<'PY'
import os, sys
seeds = ["length([s,s]" + " | [@,@]" * 30 + ")", "replace_all(replace_all(s, 'a', s), 'b', s)",
         "join(s, split(s, ''))", "regex_replace_all('', s, s)", "a[*].[@, @, @][][]", "sort_by(a[].[@,@][], &to_string(@))"]
for i, e in enumerate(seeds):
    open(os.path.join(sys.argv[1], "bomb%d" % i), "w").write(e + "\n")
PY
"$build/fuzz_jmespath_budget" "${limit[@]}" -max_len=4096 -rss_limit_mb=1024 -timeout=10 "$root/.cache/fuzz/jmespath-budget"
# Keyless signing inputs (a byte picks: signing config, identity token, timestamp reply) and OIDC
# tokens with the issuer's JWK Set (split at the first newline).
mkdir -p "$root/.cache/fuzz/keyless" "$root/.cache/fuzz/jose"
python3 - "$root/.cache/fuzz/keyless" "$root/.cache/fuzz/jose" <<'PY'
import base64, json, os, sys
def b64u(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
config = {"mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
          "caUrls": [{"url": "https://fulcio.example", "majorApiVersion": 1, "validFor": {"start": "2025-01-01T00:00:00Z"}, "operator": "x"}],
          "rekorTlogUrls": [{"url": "https://rekor.example", "majorApiVersion": 1, "validFor": {"start": "2025-01-01T00:00:00Z"}, "operator": "x"}],
          "rekorTlogConfig": {"selector": "ANY"}, "tsaConfig": {"selector": "ANY"}}
claims = {"iss": "https://issuer.example", "sub": "u", "aud": "sigstore", "email": "a@example.com", "email_verified": True,
          "exp": 1767225600, "iat": 1767225000}
token = b64u(json.dumps({"alg": "ES256", "kid": "k1"}).encode()) + "." + b64u(json.dumps(claims).encode()) + "." + b64u(bytes(64))
jwks = {"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "use": "sig", "alg": "ES256",
                  "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
                 {"kty": "OKP", "crv": "Ed25519", "kid": "k2", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}
open(os.path.join(sys.argv[1], "config"), "wb").write(b"\x00" + json.dumps(config).encode())
open(os.path.join(sys.argv[1], "token"), "wb").write(b"\x01" + token.encode())
open(os.path.join(sys.argv[1], "reply"), "wb").write(b"\x02" + bytes.fromhex("3003020100"))
open(os.path.join(sys.argv[2], "es256"), "w").write(token + "\n" + json.dumps(jwks))
open(os.path.join(sys.argv[2], "none"), "w").write(b64u(b'{"alg":"none"}') + "." + b64u(json.dumps(claims).encode()) + ".\n" + json.dumps(jwks))
PY
"$build/fuzz_keyless_inputs" "${limit[@]}" -max_len=16384 -rss_limit_mb=2048 "$root/.cache/fuzz/keyless"
"$build/fuzz_jose" "${limit[@]}" -max_len=16384 -rss_limit_mb=2048 "$root/.cache/fuzz/jose"
# AdmissionReviews as the API server sends them.
mkdir -p "$root/.cache/fuzz/admission"
python3 - "$root/.cache/fuzz/admission" <<'PY'
import json, os, sys
pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "prod"},
       "spec": {"containers": [{"name": "app", "image": "registry.example/app:v1"}]}}
review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
    "uid": "705ab4f5-6393-11e8-b7cc-42010a800002", "kind": {"group": "", "version": "v1", "kind": "Pod"},
    "resource": {"group": "", "version": "v1", "resource": "pods"}, "name": "web", "namespace": "prod",
    "operation": "CREATE", "userInfo": {"username": "admin", "groups": ["system:masters"]}, "object": pod, "dryRun": False}}
open(os.path.join(sys.argv[1], "create"), "w").write(json.dumps(review))
review["request"].update(operation="DELETE", oldObject=pod, object=None)
open(os.path.join(sys.argv[1], "delete"), "w").write(json.dumps(review))
PY
"$build/fuzz_admission_review" "${limit[@]}" -max_len=65536 -rss_limit_mb=2048 "$root/.cache/fuzz/admission"
# The certificate authority's inputs (a byte picks: SCT structures, CT leaves, Fulcio v2 and v1
# requests, an OIDC token request, a Fulcio issuer configuration).
mkdir -p "$root/.cache/fuzz/ca"
python3 - "$root/.cache/fuzz/ca" <<'PY'
import base64, json, os, subprocess, sys
out = sys.argv[1]
key = subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout"], capture_output=True, check=True).stdout
pub = subprocess.run(["openssl", "ec", "-pubout"], input=key, capture_output=True, check=True).stdout.decode()
sct = bytes([0]) + bytes(32) + (1767225600000).to_bytes(8, "big") + bytes(2) + bytes([4, 3, 0, 2, 0x30, 0])
seeds = {
    "sct": b"\x00" + sct,
    "sctlist": b"\x00" + (len(sct) + 2).to_bytes(2, "big") + len(sct).to_bytes(2, "big") + sct,
    "leaf": b"\x01" + bytes([0, 0]) + (1767225600000).to_bytes(8, "big") + bytes([0, 0, 0, 0, 3, 0x30, 0x01, 0x00, 0, 0]),
    "v2": b"\x02" + json.dumps({"credentials": {"oidcIdentityToken": "t"}, "publicKeyRequest": {"publicKey": {"algorithm": "ECDSA", "content": pub},
                                "proofOfPossession": base64.b64encode(b"x" * 70).decode()}}).encode(),
    "v1": b"\x03" + json.dumps({"publicKey": {"algorithm": "ecdsa", "content": base64.b64encode(pub.encode()).decode()},
                                "signedEmailAddress": "AAAA"}).encode(),
    "form": b"\x04" + b"grant_type=client_credentials&sub=a%2Bb&email=a%40example.com&email_verified=true",
    "json": b"\x04" + json.dumps({"sub": "x", "aud": ["sigstore", "other"], "nested": {"a": [1, 2]}}).encode(),
    "config": b"\x05" + json.dumps({"OIDCIssuers": {"https://a.example": {"IssuerURL": "https://a.example", "ClientID": "sigstore",
                                    "Type": "ci-provider", "CIProvider": "github-workflow"}}}).encode(),
}
for name, body in seeds.items():
    open(os.path.join(out, name), "wb").write(body)
PY
"$build/fuzz_ca_inputs" "${limit[@]}" -max_len=16384 -rss_limit_mb=2048 "$root/.cache/fuzz/ca"

# Notary Project envelopes: the published notation-go JWS and COSE signatures.
seed "$root/.cache/fuzz/notation-jws" "$data"/notation/notation-go/internal/testdata/jws_signature.sig \
  "$data"/notation/notation-go/verifier/testdata/timestamp/sigEnv/jws*.sig "$data"/notation/derived-from-go-tests/*.jws.json
"$build/fuzz_notation_jws" "${limit[@]}" -max_len=65536 -rss_limit_mb=2048 "$root/.cache/fuzz/notation-jws"
seed "$root/.cache/fuzz/notation-cose" "$data"/notation/notation-go/internal/testdata/cose_signature.sig \
  "$data"/notation/notation-go/verifier/testdata/timestamp/sigEnv/cose*.sig
"$build/fuzz_notation_cose" "${limit[@]}" -max_len=65536 -rss_limit_mb=2048 "$root/.cache/fuzz/notation-cose"
