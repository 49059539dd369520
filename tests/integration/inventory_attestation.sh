#!/usr/bin/env bash
# `vouch inventory add IMAGE` takes the image's own SBOM attestation when it verifies, on a real
# docker-registry: an image holding Jinja2 2.10 carries a signed CycloneDX attestation that lists
# flask 0.12 (which the image does not contain); with the signer's key the inventory holds flask
# and its findings, and records the attestation and its signer; with another key, or no key, the
# image is catalogued (Jinja2) and the inventory says why. An SPDX JSON attestation in the classic
# layout is found with --type spdxjson; of several that verify, the newest (by the log's time) is
# taken; a bad key file is refused with one line.
set -uo pipefail
V=$(realpath "${VOUCH_BIN:?set VOUCH_BIN}")
data=${VOUCH_TESTDATA:-$(cd "$(dirname "$0")/../.." && pwd)/../shared/testdata}
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/tests/lib/assert.sh"
source "$root/tests/lib/scratch.sh"
require_tools docker-registry umoci skopeo python3 curl jq openssl
export DOCKER_CONFIG=$T/docker COSIGN_PASSWORD=pw
cd "$T"

"$V" db import --db db "$data/osv/pypi/PYSEC-2019-217.json" "$data/osv/pypi/PYSEC-2018-66.json" \
  "$data/osv/pypi/PYSEC-2019-179.json" >/dev/null 2>&1 || fail "db import"
start_registry

umoci init --layout L >/dev/null
image() {  # image NAME: Jinja2 2.10 in site-packages
  umoci new --image "L:$1" && umoci unpack --rootless --image "L:$1" "b-$1" >/dev/null || return 1
  local d="b-$1/rootfs/usr/lib/python3/site-packages/Jinja2-2.10.dist-info"
  mkdir -p "$d" && printf 'Metadata-Version: 2.1\nName: Jinja2\nVersion: 2.10\n' > "$d/METADATA"
  echo "$1" > "b-$1/rootfs/name"
  umoci repack --image "L:$1" "b-$1" >/dev/null
}
image web && image spdx || fail "images"
skopeo copy -q --dest-tls-verify=false oci:L:web "docker://$REG/apps/web:v1" || fail "push web"
skopeo copy -q --dest-tls-verify=false oci:L:spdx "docker://$REG/apps/spdx:v1" || fail "push spdx"

# The SBOMs the attestations carry: flask 0.12 only.
cat > cdx.json <<'JSON'
{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
 "components": [{"type": "library", "bom-ref": "flask", "name": "flask", "version": "0.12", "purl": "pkg:pypi/flask@0.12"}]}
JSON
cat > spdx.json <<'JSON'
{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "spdx", "dataLicense": "CC0-1.0",
 "documentNamespace": "https://example.com/spdx", "creationInfo": {"created": "2026-01-01T00:00:00Z", "creators": ["Tool: test"]},
 "packages": [{"SPDXID": "SPDXRef-flask", "name": "flask", "versionInfo": "0.12", "downloadLocation": "NOASSERTION",
   "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:pypi/flask@0.12"}]}]}
JSON
"$V" generate-key-pair >/dev/null 2>&1 || fail "generate-key-pair"
mkdir other && (cd other && "$V" generate-key-pair >/dev/null 2>&1) || fail "second key"
"$V" attest --key cosign.key --type cyclonedx --predicate cdx.json "$REG/apps/web:v1" >/dev/null 2>&1 || fail "attest cyclonedx"
"$V" attest --key cosign.key --type spdxjson --predicate spdx.json --new-bundle-format=false "$REG/apps/spdx:v1" \
  >/dev/null 2>&1 || fail "attest spdxjson"
web=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG/apps/web:v1")
fingerprint=$(openssl pkey -pubin -in cosign.pub -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1)

add() {  # add STORE IMAGE FLAGS… -> the JSON of inventory add
  local store=$1 img=$2; shift 2
  "$V" inventory add --store "$store" --db db "$@" -o json "$img" 2>add.err
}
vulns() { jq -r '[.opened[].records[]] | unique | join(" ")' <<<"$1"; }
packages() {  # STORE DIGEST
  "$V" inventory query --store "$1" --purl pkg:pypi/flask -o json | jq -r --arg d "$2" '[.matches[] | select(.image.digest == $d)] | length'
}

# The signer's key: the attestation's packages.
out=$(add a.db "$REG/apps/web:v1" --key cosign.pub --insecure-ignore-tlog) || fail "add with the key: $(cat add.err)"
jq -e --arg fp "key sha256:$fingerprint" '.image.sbomSource.kind == "attestation"
    and .image.sbomSource.predicateType == "https://cyclonedx.org/bom"
    and (.image.sbomSource.digest | startswith("sha256:")) and .image.sbomSource.signer == $fp
    and (.image.sbomSource.location | contains("(referrer)")) and .image.packages == 1' <<<"$out" >/dev/null ||
  fail "attested SBOM not used: $out"
[ "$(vulns "$out")" = "PYSEC-2018-66 PYSEC-2019-179" ] || fail "findings from the attestation: $(vulns "$out")"
[ "$(packages a.db "$web")" = 1 ] || fail "flask not in the inventory's package index"
"$V" inventory images --store a.db -o json | jq -e '.[0].sbomSource.kind == "attestation"' >/dev/null ||
  fail "inventory images does not say the SBOM came from the attestation"
text=$("$V" inventory add --store a.db --db db --key cosign.pub --insecure-ignore-tlog "$REG/apps/web:v1" 2>&1)
[[ "$text" == *"SBOM from the attestation sha256:"*"signed by key sha256:$fingerprint"* ]] || fail "add text: $text"

# Another key: nothing verifies, the image is catalogued and the reason kept.
out=$(add b.db "$REG/apps/web:v1" --key other/cosign.pub --insecure-ignore-tlog) || fail "add with another key: $(cat add.err)"
jq -e '.image.sbomSource.kind == "catalogued" and (.image.sbomSource.note | contains("no SBOM attestation verified"))
    and .image.packages >= 1' <<<"$out" >/dev/null || fail "wrong key did not fall back to cataloguing: $out"
[ "$(vulns "$out")" = "PYSEC-2019-217" ] || fail "findings after cataloguing: $(vulns "$out")"
[ "$(packages b.db "$web")" = 0 ] || fail "flask from an unverified attestation reached the inventory"
text=$("$V" inventory add --store b.db --db db --key other/cosign.pub --insecure-ignore-tlog "$REG/apps/web:v1" 2>&1)
[[ "$text" == *"SBOM catalogued by vouch: no SBOM attestation verified"* ]] || fail "add text on fallback: $text"

# No verification flags: catalogued, and said so.
out=$(add c.db "$REG/apps/web:v1") || fail "add without flags: $(cat add.err)"
jq -e '.image.sbomSource.kind == "catalogued" and (.image.sbomSource.note | contains("no --key"))' <<<"$out" >/dev/null ||
  fail "add without flags: $out"

# SPDX JSON in the classic layout, asked for by type; asking for CycloneDX only finds nothing.
out=$(add d.db "$REG/apps/spdx:v1" --key cosign.pub --insecure-ignore-tlog --type spdxjson) || fail "add spdx: $(cat add.err)"
jq -e '.image.sbomSource.kind == "attestation" and .image.sbomSource.predicateType == "https://spdx.dev/Document"
    and (.image.sbomSource.location | contains(".att"))' <<<"$out" >/dev/null || fail "spdx attestation: $out"
[ "$(vulns "$out")" = "PYSEC-2018-66 PYSEC-2019-179" ] || fail "findings from the SPDX attestation: $(vulns "$out")"
out=$(add e.db "$REG/apps/spdx:v1" --key cosign.pub --insecure-ignore-tlog --type cyclonedx) || fail "add spdx as cdx"
jq -e '.image.sbomSource.kind == "catalogued"' <<<"$out" >/dev/null || fail "--type cyclonedx took an SPDX attestation: $out"

# Several verifying SBOM attestations: the newest by its verified signing time (log integration)
# is the image's, whichever the registry lists first. Two images get the same two SBOMs in
# opposite orders.
lport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'); lurl=http://127.0.0.1:$lport
"$V" log serve --listen "127.0.0.1:$lport" --storage "sqlite:$T/log.db" --hostname "127.0.0.1:$lport" 2>log.err &
log_pid=$!
for _ in $(seq 50); do curl -sf "$lurl/readyz" >/dev/null && break; sleep 0.1; done
"$V" log trusted-root --rekor-url "$lurl" > trusted_root.json 2>/dev/null || fail "log trusted-root: $(cat log.err)"
sed 's/"flask", "name": "flask", "version": "0.12", "purl": "pkg:pypi\/flask@0.12"/"werkzeug", "name": "werkzeug", "version": "0.15.0", "purl": "pkg:pypi\/werkzeug@0.15.0"/' \
  cdx.json > cdx-werkzeug.json
grep -q werkzeug cdx-werkzeug.json || fail "second SBOM"
image first && image second || fail "images for the newest attestation"
for name in first second; do
  skopeo copy -q --dest-tls-verify=false oci:L:$name "docker://$REG/apps/$name:v1" || fail "push $name"
done
attest_at() {  # IMAGE PREDICATE: logged, then a second passes so the next one is later
  "$V" attest --key cosign.key --type cyclonedx --predicate "$2" --rekor-url "$lurl" "$REG/apps/$1:v1" >/dev/null 2>&1 ||
    fail "attest $2 on $1"
  sleep 1.2
}
attest_at first cdx.json; attest_at first cdx-werkzeug.json
attest_at second cdx-werkzeug.json; attest_at second cdx.json
for pair in "first werkzeug flask" "second flask werkzeug"; do
  set -- $pair
  digest=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG/apps/$1:v1")
  out=$(add g.db "$REG/apps/$1:v1" --key cosign.pub --trusted-root trusted_root.json) || fail "add $1: $(cat add.err)"
  jq -e '.image.sbomSource.kind == "attestation" and (.image.sbomSource.signedAt | test("^20[0-9-]+T"))' <<<"$out" \
    >/dev/null || fail "$1: no signing time recorded: $out"
  n() { "$V" inventory query --store g.db --purl "pkg:pypi/$1" -o json | jq -r --arg d "$digest" '[.matches[] | select(.image.digest == $d)] | length'; }
  [ "$(n "$2")" = 1 ] && [ "$(n "$3")" = 0 ] || fail "$1: the newest attestation ($2) is not the image's SBOM: $2=$(n "$2") $3=$(n "$3")"
done
text=$("$V" inventory add --store g.db --db db --key cosign.pub --trusted-root trusted_root.json "$REG/apps/first:v1" 2>&1)
[[ "$text" == *"signed by key sha256:$fingerprint at 20"* ]] || fail "add text without the signing time: $text"
# What was verified is kept with the image: its signature (logged), the SBOM attestations (both
# verify; the newest is the image's SBOM), and why there is no provenance.
"$V" sign --key cosign.key --rekor-url "$lurl" "$REG/apps/first:v1" >/dev/null 2>&1 || fail "sign first"
out=$(add g.db "$REG/apps/first:v1" --key cosign.pub --trusted-root trusted_root.json) || fail "add signed: $(cat add.err)"
jq -e --arg fp "key sha256:$fingerprint" '
    ([.image.verifications[] | select(.kind == "signature" and .verified and .signer == $fp
       and (.logIndexes | length) == 1 and (.signedAt | test("^20")))] | length) == 1
    and ([.image.verifications[] | select(.kind == "attestation" and .verified
       and .predicateType == "https://cyclonedx.org/bom")] | length) == 2
    and ([.image.verifications[] | select(.kind == "provenance")] | length > 0 and all(.verified == false and (.reason | length) > 0))' \
  <<<"$out" >/dev/null || fail "verifications not recorded: $(jq -c .image.verifications <<<"$out")"
"$V" inventory images --store g.db -o json | jq -e 'any(.[]; (.verifications | length) >= 3)' >/dev/null ||
  fail "inventory images does not list the verifications"
text=$("$V" inventory add --store g.db --db db --key cosign.pub --trusted-root trusted_root.json "$REG/apps/first:v1" 2>&1)
[[ "$text" == *"signature: verified, signed by key sha256:$fingerprint at 20"*", log index "* ]] ||
  fail "add text without the signature: $text"
[[ "$text" == *"provenance https://slsa.dev/provenance/v1: not verified: "* ]] || fail "add text without provenance: $text"
kill "$log_pid" 2>/dev/null; wait "$log_pid" 2>/dev/null

# Bad flags are refused with one line, nothing stored.
echo "not a key" > bad.pub
expect 2 "bad.pub" -- "$V" inventory add --store f.db --db db --key bad.pub "$REG/apps/web:v1"
expect 2 "" -- "$V" inventory add --store f.db --db db --certificate-identity me@example.com "$REG/apps/web:v1"
expect 2 "" -- "$V" inventory add --store f.db --db db --key cosign.pub --type spdx "$REG/apps/web:v1"
expect 2 "need --key" -- "$V" inventory add --store f.db --db db --insecure-ignore-tlog "$REG/apps/web:v1"
expect 2 "need --key" -- "$V" inventory add --store f.db --db db --type cyclonedx "$REG/apps/web:v1"
expect 2 "not to sbom:FILE" -- "$V" inventory add --store f.db --db db --key cosign.pub sbom:cdx.json
[ -e f.db ] && fail "a refused add created the store"

[ "$fails" -eq 0 ] && echo "PASS inventory_attestation" || { echo "inventory_attestation: $fails failure(s)"; exit 1; }
