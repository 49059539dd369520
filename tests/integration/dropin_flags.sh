#!/usr/bin/env bash
# The peers' command lines on vouch: cosign's -y/--yes, verify --rekor-url, the one
# transparency-log rule for both signature layouts, verify's exit codes, download and attach sbom,
# attach signature|attestation, save, load and clean; rekor-cli's --rekor_server, $REKOR_SERVER
# and --format json (Body decoded under its type's name, UUIDs); syft's `sbom scan`, repeated
# -o FORMAT=FILE, syft-json, --exclude, --scope; grype's and trivy's flags on `vouch scan`
# (--severity, --only-fixed/--ignore-unfixed, --exit-code, --format with -o FILE, CycloneDX with
# VEX analysis); and a mistyped command or flag answered with the nearest one. Against a real
# docker-registry and `vouch log serve` on loopback.
set -uo pipefail
V=${VOUCH_BIN:?set VOUCH_BIN}
[[ $V == /* ]] || V=$PWD/$V
root=$(cd "$(dirname "$0")/../.." && pwd)
data=${VOUCH_TESTDATA:-$root/../shared/testdata}
fixtures=$root/tests/unit/vuln/testdata
source "$root/tests/lib/assert.sh"
source "$root/tests/lib/scratch.sh"
require_tools docker-registry umoci skopeo python3 curl
[ -n "${KEEP:-}" ] && trap - EXIT
# No TUF cache or trusted root from the environment: what each command trusts is what it is given.
export HOME=$T/home DOCKER_CONFIG=$T/docker COSIGN_PASSWORD=pw SOURCE_DATE_EPOCH=1700000000
unset SIGSTORE_ROOT_FILE SIGSTORE_REKOR_PUBLIC_KEY REKOR_SERVER TUF_ROOT
mkdir -p "$HOME"
cd "$T"
py() { python3 "$@"; }
free_port() { py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_registry
umoci init --layout L
for name in yes nolog-classic nolog-bundle logged attest unsigned; do
  umoci new --image "L:$name"
  umoci unpack --rootless --image "L:$name" "b-$name" >/dev/null
  echo "$name" > "b-$name/rootfs/content"
  umoci repack --image "L:$name" "b-$name" >/dev/null
  skopeo copy -q --dest-tls-verify=false "oci:L:$name" "docker://$REG/demo/$name:v1" || fail "push $name"
done
"$V" generate-key-pair >/dev/null 2>&1 || fail "generate-key-pair"

# --- cosign -y/--yes on sign and attest (the seeds' `cosign sign --yes`, `cosign attest --yes`)
expect 0 "" -- "$V" sign --yes --key cosign.key "$REG/demo/yes:v1"
printf '{"k":"v"}' > pred.json
expect 0 "" -- "$V" attest -y --key cosign.key --type custom --predicate pred.json "$REG/demo/attest:v1"
expect 0 "" -- "$V" verify-attestation --insecure-ignore-tlog --key cosign.pub --type custom "$REG/demo/attest:v1"

# --- cosign verify's exit codes: 10 no signature, 11 no such tag, 12 none of the signatures verifies
mkdir other && (cd other && "$V" generate-key-pair >/dev/null 2>&1) || fail "second key"
expect 10 "no signatures found" -- "$V" verify --insecure-ignore-tlog --key cosign.pub "$REG/demo/unsigned:v1"
expect 11 "manifest unknown" -- "$V" verify --insecure-ignore-tlog --key cosign.pub "$REG/demo/unsigned:nosuchtag"
expect 12 "no valid signatures" -- "$V" verify --insecure-ignore-tlog --key other/cosign.pub "$REG/demo/yes:v1"
expect 1 "no valid attestations" -- "$V" verify-attestation --insecure-ignore-tlog --key other/cosign.pub "$REG/demo/attest:v1"

# --- a log, and a trusted root that names it
lport=$(free_port); lurl=http://127.0.0.1:$lport
"$V" log serve --listen "127.0.0.1:$lport" --storage "sqlite:$T/log.db" --hostname "127.0.0.1:$lport" 2>log.err &
log_pid=$!
for _ in $(seq 50); do curl -sf "$lurl/readyz" >/dev/null && break; sleep 0.1; done
"$V" log trusted-root --rekor-url "$lurl" > trusted_root.json 2>/dev/null || fail "log trusted-root: $(cat log.err)"
curl -sf "$lurl/api/v1/log/publicKey" > log.pub || fail "log public key"

# --- the same tlog rule for both layouts: no log entry, no verification, unless
# --insecure-ignore-tlog
for layout in classic bundle; do
  flag=$([ $layout = classic ] && echo false || echo true)
  "$V" sign --key cosign.key --new-bundle-format=$flag "$REG/demo/nolog-$layout:v1" 2>/dev/null || fail "sign $layout"
  expect 12 "transparency log" -- "$V" verify --key cosign.pub --trusted-root trusted_root.json "$REG/demo/nolog-$layout:v1"
  expect 0 "" -- "$V" verify --key cosign.pub --insecure-ignore-tlog "$REG/demo/nolog-$layout:v1"
  SIGSTORE_REKOR_PUBLIC_KEY=log.pub expect 12 "transparency log" -- "$V" verify --key cosign.pub --rekor-url "$lurl" "$REG/demo/nolog-$layout:v1"
done

# --- cosign download: bundles as stored, classic layers as cosign's SignedPayload
"$V" download signature "$REG/demo/yes:v1" | py -c '
import json,sys
lines = sys.stdin.read().splitlines(); assert len(lines) == 1, lines
b = json.loads(lines[0]); assert b["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json", b' \
  || fail "download signature (bundle layout)"
"$V" download signature "$REG/demo/nolog-classic:v1" | py -c '
import base64,json,sys
s = json.loads(sys.stdin.read())
payload = json.loads(base64.b64decode(s["Payload"]))
assert payload["critical"]["type"] == "cosign container image signature" and s["Base64Signature"], s
assert s["Bundle"] is None and s["Cert"] is None, s' || fail "download signature (classic layout)"
"$V" download attestation "$REG/demo/attest:v1" | py -c '
import json,sys; b=json.loads(sys.stdin.read()); assert "dsseEnvelope" in b, b' || fail "download attestation"
expect 2 "no signatures found" -- "$V" download signature "$REG/demo/unsigned:v1"
expect 2 "no SBOM found" -- "$V" download sbom "$REG/demo/unsigned:v1"
# cosign attach sbom, then download sbom and skopeo see it at sha256-<hex>.sbom
printf '{"spdxVersion":"SPDX-2.3","name":"x"}' > attached.spdx.json
"$V" attach sbom --sbom attached.spdx.json "$REG/demo/unsigned:v1" 2>attach.err || fail "attach sbom: $(cat attach.err)"
[ "$("$V" download sbom "$REG/demo/unsigned:v1")" = '{"spdxVersion":"SPDX-2.3","name":"x"}' ] || fail "download sbom after attach"
udigest=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG/demo/unsigned:v1")
skopeo inspect --raw --tls-verify=false "docker://$REG/demo/unsigned:sha256-${udigest#sha256:}.sbom" | py -c '
import json,sys; m=json.load(sys.stdin); assert [l["mediaType"] for l in m["layers"]] == ["text/spdx+json"], m' \
  || fail "attach sbom: the .sbom manifest"
expect 2 "--type cyclonedx --input-format text" -- "$V" attach sbom --sbom attached.spdx.json --type cyclonedx --input-format text "$REG/demo/unsigned:v1"

# --- cosign save / load: the layout marks the image and its .sig/.att by `kind`, as cosign's
# pkg/oci/layout writes it; loading it elsewhere keeps the signature and attestation verifiable
# (classic layout, what cosign's layout carries; vouch's also carries bundle referrers)
expect 0 "" -- "$V" attest -y --key cosign.key --new-bundle-format=false --type custom --predicate pred.json "$REG/demo/nolog-classic:v1"
expect 0 "" -- "$V" save --dir saved "$REG/demo/nolog-classic:v1"
cdigest=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG/demo/nolog-classic:v1")
py - "$cdigest" <<'PY' || fail "save: index.json kinds"
import json, sys
idx = json.load(open("saved/index.json"))
kinds = {m.get("annotations", {}).get("kind"): m["digest"] for m in idx["manifests"]}
assert kinds.get("dev.cosignproject.cosign/image") == sys.argv[1], idx
assert "dev.cosignproject.cosign/sigs" in kinds and "dev.cosignproject.cosign/atts" in kinds, idx
PY
expect 2 "exists and is not empty" -- "$V" save --dir saved "$REG/demo/nolog-classic:v1"
# A layout as cosign writes it (kind annotations only, no tag names) loads the same way.
py - <<'PY' || fail "a cosign-style copy of the layout"
import json, shutil
shutil.copytree("saved", "cosign-saved")
idx = json.load(open("cosign-saved/index.json"))
idx["manifests"] = [m for m in idx["manifests"] if "kind" in m.get("annotations", {})]
for m in idx["manifests"]:
    m["annotations"].pop("org.opencontainers.image.ref.name", None)
json.dump(idx, open("cosign-saved/index.json", "w"))
PY
for d in saved cosign-saved; do
  expect 0 "" -- "$V" load --dir "$d" "$REG/loaded/$d:v1"
  expect 0 "" -- "$V" verify --insecure-ignore-tlog --key cosign.pub "$REG/loaded/$d:v1"
  expect 0 "" -- "$V" verify-attestation --insecure-ignore-tlog --key cosign.pub --type custom "$REG/loaded/$d:v1"
done
expect 0 "" -- "$V" save --dir saved-bundle "$REG/demo/yes:v1"
expect 0 "" -- "$V" load --dir saved-bundle "$REG/loaded/bundle:v1"
expect 0 "" -- "$V" verify --insecure-ignore-tlog --key cosign.pub "$REG/loaded/bundle:v1"
expect 2 "load writes to a registry" -- "$V" load --dir saved oci:elsewhere

# --- cosign attach signature / attestation: made elsewhere, stored in the classic layout, then
# verified as any other; a payload or statement about another image is refused
umoci new --image L:detached && umoci unpack --rootless --image L:detached b-detached >/dev/null &&
  echo detached > b-detached/rootfs/content && umoci repack --image L:detached b-detached >/dev/null &&
  skopeo copy -q --dest-tls-verify=false oci:L:detached "docker://$REG/demo/detached:v1" || fail "push detached"
ddigest=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG/demo/detached:v1")
printf '{"critical":{"identity":{"docker-reference":"%s"},"image":{"docker-manifest-digest":"%s"},"type":"cosign container image signature"},"optional":null}' \
  "$REG/demo/detached" "$ddigest" > detached.payload
"$V" sign-blob --key cosign.key --tlog-upload=false --bundle detached.bundle detached.payload >/dev/null 2>&1 || fail "sign-blob the payload"
py -c 'import json; print(json.load(open("detached.bundle"))["messageSignature"]["signature"])' > detached.sig
expect 0 "" -- "$V" attach signature --payload detached.payload --signature detached.sig "$REG/demo/detached@$ddigest"
expect 0 "" -- "$V" verify --insecure-ignore-tlog --key cosign.pub "$REG/demo/detached:v1"
expect 2 "payload: signs $ddigest, not" -- "$V" attach signature --payload detached.payload --signature detached.sig "$REG/demo/unsigned@$udigest"
# --rekor-response: cosign's signed payload file, whose rekorBundle (the log's promise) makes the
# attached signature pass the transparency-log check
"$V" sign-blob --key cosign.key --rekor-url "$lurl" --bundle logged.bundle detached.payload >/dev/null 2>&1 \
  || fail "sign-blob the payload into the log"
py - <<'PY' || fail "writing the signed payload file"
import base64, json
b = json.load(open("logged.bundle"))
e = b["verificationMaterial"]["tlogEntries"][0]
json.dump({"base64Signature": b["messageSignature"]["signature"], "cert": "",
           "rekorBundle": {"SignedEntryTimestamp": e["inclusionPromise"]["signedEntryTimestamp"],
                           "Payload": {"body": e["canonicalizedBody"], "integratedTime": int(e["integratedTime"]),
                                       "logIndex": int(e["logIndex"]),
                                       "logID": base64.b64decode(e["logId"]["keyId"]).hex()}}}, open("signed-payload.json", "w"))
print(b["messageSignature"]["signature"], file=open("logged.sig", "w"))
PY
expect 2 "payload: signs $ddigest, not" -- "$V" attach signature --payload detached.payload --signature logged.sig \
  --rekor-response signed-payload.json "$REG/demo/unsigned@$udigest"
expect 12 "transparency log" -- "$V" verify --key cosign.pub --trusted-root trusted_root.json "$REG/demo/detached:v1"
expect 0 "" -- "$V" attach signature --payload detached.payload --signature logged.sig --rekor-response signed-payload.json \
  "$REG/demo/detached@$ddigest"
expect 0 "" -- "$V" verify --key cosign.pub --trusted-root trusted_root.json "$REG/demo/detached:v1"
expect 2 "no rekorBundle object" -- "$V" attach signature --payload detached.payload --signature logged.sig \
  --rekor-response pred.json "$REG/demo/detached@$ddigest"
expect 2 "excludes" -- "$V" attach signature --payload detached.payload --signature logged.sig \
  --rekor-response signed-payload.json --rekor-bundle pred.json "$REG/demo/detached@$ddigest"
skopeo inspect --raw --tls-verify=false "docker://$REG/demo/detached:v1" > detached.manifest
"$V" attest-blob --key cosign.key --tlog-upload=false --type custom --predicate pred.json --bundle detached-att.bundle \
  detached.manifest >/dev/null 2>&1 || fail "attest-blob the manifest"
py -c 'import json; json.dump(json.load(open("detached-att.bundle"))["dsseEnvelope"], open("detached.intoto.json", "w"))'
expect 0 "" -- "$V" attach attestation --attestation detached.intoto.json "$REG/demo/detached:v1"
expect 0 "" -- "$V" verify-attestation --insecure-ignore-tlog --key cosign.pub --type custom "$REG/demo/detached:v1"
expect 2 "is not about" -- "$V" attach attestation --attestation detached.intoto.json "$REG/demo/unsigned@$udigest"

# --- cosign clean: by type, by digest; -f required without a terminal
expect 2 "confirm with -f/--force" -- "$V" clean "$REG/loaded/saved:v1" </dev/null
expect 0 "" -- "$V" clean -f --type signature "$REG/loaded/saved:v1"
expect 10 "no signatures found" -- "$V" verify --insecure-ignore-tlog --key cosign.pub "$REG/loaded/saved:v1"
expect 0 "" -- "$V" verify-attestation --insecure-ignore-tlog --key cosign.pub --type custom "$REG/loaded/saved:v1"
expect 0 "" -- "$V" clean --force "$REG/loaded/saved:v1"
expect 1 "" -- "$V" verify-attestation --insecure-ignore-tlog --key cosign.pub --type custom "$REG/loaded/saved:v1"
expect 0 "" -- "$V" clean -f --type referrer "$REG/loaded/bundle:v1"
expect 10 "no signatures found" -- "$V" verify --insecure-ignore-tlog --key cosign.pub "$REG/loaded/bundle:v1"
"$V" verify --insecure-ignore-tlog --key cosign.pub "$REG/loaded/cosign-saved:v1" >/dev/null 2>&1 || fail "clean touched another image"

# --- verify --rekor-url: the log's entries checked with its key, from the log or from
# $SIGSTORE_REKOR_PUBLIC_KEY; another key refuses them
"$V" sign --key cosign.key --new-bundle-format=false --rekor-url "$lurl" "$REG/demo/logged:v1" 2>/dev/null || fail "sign logged"
err=$("$V" verify --key cosign.pub --rekor-url "$lurl" "$REG/demo/logged:v1" 2>&1 >/dev/null) || fail "verify --rekor-url: $err"
[[ $err == *"trusting the log at $lurl"* ]] || fail "verify --rekor-url names the key it trusts: $err"
SIGSTORE_REKOR_PUBLIC_KEY=log.pub expect 0 "" -- "$V" verify --key cosign.pub --rekor-url "$lurl" "$REG/demo/logged:v1"
SIGSTORE_REKOR_PUBLIC_KEY=cosign.pub expect 12 "no valid signatures" -- "$V" verify --key cosign.pub --rekor-url "$lurl" "$REG/demo/logged:v1"
expect 2 "no trusted root" -- "$V" verify --key cosign.pub "$REG/demo/logged:v1"

# --- rekor-cli's flags on vouch log
digest=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG/demo/logged:v1")
# the classic payload is what the log entry hashes: find it by the payload's digest
payload_sha=$(py - "$lurl" <<'PY'
import base64, json, sys, urllib.request
e = json.load(urllib.request.urlopen(sys.argv[1] + "/api/v1/log/entries?logIndex=0"))
body = json.loads(base64.b64decode(next(iter(e.values()))["body"]))
print(body["spec"]["data"]["hash"]["value"])
PY
)
uuid=$("$V" log search --rekor_server "$lurl" --sha "$payload_sha" 2>/dev/null)
[ -n "$uuid" ] || fail "log search --rekor_server --sha found nothing"
uuid2=$(REKOR_SERVER=$lurl "$V" log search --sha "sha256:$payload_sha" 2>/dev/null)
[ "$uuid" = "$uuid2" ] || fail "REKOR_SERVER: '$uuid2' vs '$uuid'"
REKOR_SERVER=$lurl "$V" log search --format json --sha "$payload_sha" | py -c '
import json,sys; d=json.load(sys.stdin); assert d["UUIDs"] == [sys.argv[1]], d' "$uuid" || fail "search --format json"
"$V" log get --rekor_server "$lurl" --uuid "$uuid" --format json | py -c '
import json,sys
d=json.load(sys.stdin)
assert set(d) >= {"Body","LogIndex","IntegratedTime","UUID","LogID"}, d
assert d["Body"]["HashedRekordObj"]["data"]["hash"]["algorithm"] == "sha256", d["Body"]
assert d["LogIndex"] == 0 and d["UUID"] == sys.argv[1], d' "$uuid" || fail "get --uuid --format json"
"$V" log get --rekor_server "$lurl" --log-index 0 | grep -q '"HashedRekordObj"' || fail "get --log-index text Body"
expect 2 "format" -- "$V" log get --rekor_server "$lurl" --log-index 0 --format yaml
kill "$log_pid" 2>/dev/null; wait "$log_pid" 2>/dev/null

# --- syft's flags on vouch sbom
fx=$T/root
mkdir -p "$fx/usr/lib" "$fx/var/lib/dpkg" "$fx/app/node_modules/left-pad"
printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n' > "$fx/usr/lib/os-release"
printf 'Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2\n' > "$fx/var/lib/dpkg/status"
printf '{"name":"left-pad","version":"1.3.0","license":"WTFPL"}' > "$fx/app/node_modules/left-pad/package.json"
table=$("$V" sbom scan "dir:$fx" -o spdx-json=s.spdx.json -o syft-json=s.syft.json -o table 2>/dev/null) \
  || fail "sbom scan with three outputs"
[[ $table == *bash*left-pad* || $table == *left-pad*bash* ]] || fail "table on stdout: $table"
py - <<'PY' || fail "spdx-json and syft-json files"
import json
s = json.load(open("s.spdx.json")); assert s["spdxVersion"] == "SPDX-2.3", s
d = json.load(open("s.syft.json"))
names = {a["name"]: a for a in d["artifacts"]}
assert set(names) == {"bash", "left-pad"}, names
assert names["left-pad"]["language"] == "javascript" and names["left-pad"]["purl"] == "pkg:npm/left-pad@1.3.0", names
assert d["distro"]["id"] == "debian" and d["schema"]["version"].startswith("16."), d
assert d["source"]["type"] == "directory", d["source"]
PY
"$V" sbom "dir:$fx" --exclude './app/**' -o syft-json 2>/dev/null | py -c '
import json,sys; d=json.load(sys.stdin); assert [a["name"] for a in d["artifacts"]] == ["bash"], d' || fail "--exclude ./app/**"
"$V" sbom "dir:$fx" --exclude '**/node_modules/**' -o table 2>/dev/null | grep -q left-pad && fail "--exclude **/node_modules/**"
expect 0 "" -- "$V" sbom "dir:$fx" --scope squashed
expect 2 "all-layers" -- "$V" sbom "dir:$fx" --scope all-layers
expect 2 "only one -o may go to stdout" -- "$V" sbom "dir:$fx" -o table -o spdx-json
expect 2 "unknown format 'spdx-tag-value'" -- "$V" sbom "dir:$fx" -o spdx-tag-value
expect 2 "scan TARGET" -- "$V" sbom "dir:$fx" "dir:$fx"

# --- grype's and trivy's flags on vouch scan
db=$T/db
"$V" db import --db "$db" "$data/osv/crates.io" "$fixtures/osv-distro" >/dev/null 2>&1 || fail "db import"
deb="sbom:$fixtures/debian-11.spdx.json"
counts() { py -c '
import json,sys
d=json.load(sys.stdin)
print(len(d["matches"]) if "matches" in d else len(d["vulnerabilities"]))'; }
all=$("$V" scan --db "$db" -o json "$deb" 2>/dev/null | counts)
crit=$("$V" scan --db "$db" -o json --severity CRITICAL "$deb" 2>/dev/null | counts)
hc=$("$V" scan --db "$db" -o json --severity high,critical "$deb" 2>/dev/null | counts)
[ "$all" -gt "$hc" ] && [ "$hc" -gt "$crit" ] && [ "$crit" -ge 1 ] || fail "--severity: all $all, high+critical $hc, critical $crit"
fixed=$("$V" scan --db "$db" -o json --only-fixed "$deb" 2>/dev/null | counts)
unfixed=$("$V" scan --db "$db" -o json --ignore-unfixed "$deb" 2>/dev/null | counts)
[ "$fixed" = "$unfixed" ] && [ "$fixed" -le "$all" ] || fail "--only-fixed $fixed, --ignore-unfixed $unfixed, all $all"
expect 3 "--exit-code 3" -- "$V" scan --db "$db" --exit-code 3 "$deb"
expect 3 "severity Critical" -- "$V" scan --db "$db" --exit-code 3 --fail-on critical "$deb"
expect 0 "" -- "$V" scan --db "$db" --exit-code 0 --fail-on critical "$deb"
expect 2 "--severity" -- "$V" scan --db "$db" --severity SEVERE "$deb"
# trivy: --format FORMAT with -o FILE (the seeds' `--format cosign-vuln -o vuln.json`)
expect 0 "" -- "$V" scan --db "$db" --format cosign-vuln -o vuln.json "$deb"
py -c 'import json; d=json.load(open("vuln.json")); assert d["scanner"]["result"], d' || fail "--format cosign-vuln -o FILE"
expect 0 "" -- "$V" scan --db "$db" --format cyclonedx --output vex.cdx.json "$deb"
cat > vex.json <<'VEX'
{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/1", "author": "Security Team",
 "timestamp": "2024-01-01T00:00:00Z", "version": 1,
 "statements": [{"vulnerability": {"name": "CVE-2021-25900"}, "products": [{"@id": "pkg:cargo/smallvec@1.6.0"}],
   "status": "not_affected", "justification": "vulnerable_code_not_present"}]}
VEX
"$V" scan --db "$db" -o cyclonedx-json --vex vex.json "$deb" 2>/dev/null > vex2.cdx.json || fail "scan -o cyclonedx-json --vex"
py - <<'PY' || fail "CycloneDX VEX output"
import json
d = json.load(open("vex.cdx.json"))
assert d["bomFormat"] == "CycloneDX" and d["specVersion"] == "1.6", d
refs = {c["bom-ref"] for c in d["components"]}
assert d["vulnerabilities"] and all(v["affects"][0]["ref"] in refs for v in d["vulnerabilities"]), d
assert any(r["severity"] == "critical" for v in d["vulnerabilities"] for r in v["ratings"]), d
e = json.load(open("vex2.cdx.json"))
sv = [v for v in e["vulnerabilities"] if v["id"] == "CVE-2021-25900"]
assert sv and sv[0]["analysis"] == {"state": "not_affected", "justification": "code_not_present",
                                    "detail": sv[0]["analysis"].get("detail")} or sv[0]["analysis"]["state"] == "not_affected", sv
PY
expect 2 "with --format, -o names the output file" -- "$V" scan --db "$db" -o vuln.json "$deb"

# --- policy lint, and its findings as warnings in policy apply
mkdir -p policies
cat > policies/sloppy.yaml <<'POL'
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: sloppy}
spec:
  validationFailureAction: Enforce
  failurePolicy: Ignore
  rules:
  - name: signed
    match: {any: [{resources: {kinds: [Pod]}}]}
    verifyImages:
    - imageReferences: ["ghcr.io/acme/*"]
      attestors:
      - entries:
        - keyless:
            subject: "https://github.com/acme/app/.github/workflows/.+\\.yml@refs/heads/main"
            issuer: https://token.actions.githubusercontent.com
POL
out=$("$V" policy lint policies 2>/dev/null); rc=$?
[ $rc -eq 1 ] || fail "policy lint with findings: exit $rc"
[[ $out == *"ClusterPolicy sloppy: spec.failurePolicy: Enforce with failurePolicy Ignore"* ]] || fail "lint failurePolicy: $out"
[[ $out == *"spec.rules[0].verifyImages[0].attestors[0].entries[0].keyless.subject: "*"use subjectRegExp"* ]] \
  || fail "lint subject: $out"
out=$("$V" policy lint -o json policies/sloppy.yaml)
py -c '
import json,sys; d=json.loads(sys.argv[1]); assert d["policies"] == 1 and len(d["findings"]) == 2, d' "$out" || fail "lint -o json"
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default}\nspec: {containers: [{name: a, image: busybox}]}\n' > pod.yaml
err=$("$V" policy apply policies/sloppy.yaml -r pod.yaml 2>&1 >/dev/null)
[[ $err == *"warning: ClusterPolicy sloppy: spec.failurePolicy:"* ]] || fail "policy apply warns: $err"

# --- the nearest command or flag
expect 2 "unknown command 'sgin' for 'vouch'; did you mean 'sign'?" -- "$V" sgin x
expect 2 "unknown flag '--yess' for 'vouch sign'; did you mean '--yes'?" -- "$V" sign --yess --key k x
expect 2 "unknown command 'serach' for 'vouch log'; did you mean 'search'?" -- "$V" log serach

[ $fails -eq 0 ] && echo "PASS dropin_flags" || { echo "dropin_flags: $fails failure(s)"; exit 1; }
