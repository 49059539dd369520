#!/usr/bin/env bash
# The seed chapters' commands and policies, run on vouch (tests/seeds/README.md says what is mapped,
# what is not and why). Each row below pairs a command as a chapter writes it (checked, when the test
# runs, to occur verbatim in that chapter, so the table cannot drift from the seeds) with the same
# command on vouch: the tool's name mapped, the placeholders filled, Sigstore's public services
# replaced by a private stack. Every mapped command must exit as expected and print what the peer
# prints; where the chapter's own command is wrong for the real peer too, the row expects vouch's
# refusal and says why. The policies are cut out of the chapters when the test runs
# (seed_policies.py), filled and applied with `vouch policy apply` as written.
# One docker-registry and one `vouch stack up` (OIDC issuer, CA, log, TSA) serve every row.
set -uo pipefail
V=${VOUCH_BIN:?set VOUCH_BIN}
case $V in /*) ;; */*) V=$PWD/$V ;; esac
root=$(cd "$(dirname "$0")/../.." && pwd)
seeds=$root/../shared/seeds
data=${VOUCH_TESTDATA:-$root/../shared/testdata}
[ -d "$seeds" ] || { echo "FAIL: $seeds is missing (the shared folder must sit beside the repository)"; exit 1; }
source "$root/tests/lib/assert.sh"
source "$root/tests/lib/scratch.sh"
require_tools docker-registry umoci skopeo python3 curl jq base64 openssl script
[ -n "${KEEP:-}" ] && echo "scratch: $T"
export HOME=$T/home DOCKER_CONFIG=$T/docker XDG_CONFIG_HOME=$T/config XDG_CACHE_HOME=$T/cache COSIGN_PASSWORD=seed-pass
unset SIGSTORE_ID_TOKEN SIGSTORE_ROOT_FILE SIGSTORE_REKOR_PUBLIC_KEY REKOR_SERVER TUF_ROOT VOUCH_REPORTS
mkdir -p "$HOME" "$T/rows"
cd "$T" || exit 1
stack_pid=
trap 'kill "$stack_pid" 2>/dev/null; wait "$stack_pid" 2>/dev/null; cleanup' EXIT
# KEEP=1: the services stop, the scratch directory stays.
[ -n "${KEEP:-}" ] && trap 'kill $stack_pid $reg_pid 2>/dev/null' EXIT

# The tool name every mapped command uses (exported for the commands run at a terminal).
vouch() { "$V" "$@"; }
export V
export -f vouch

# ---------------------------------------------------------------------------------------------
# The table's machinery.
#   seed NNN <<'SEED'   the command as chapter NNN writes it (must occur in it verbatim)
#   mapped WANT CHECK [ARG…] <<'RUN'   the command on vouch, run by bash in the chapter's
#                       directory; it must exit WANT, and CHECK OUT ERR [ARG…] must hold
rows=0 passed=0 gaps=0 seed_id= seed_line= seed_text=
seed_file() { local f=("$seeds/$1"_*.txt); echo "${f[0]}"; }
seed() {
  seed_id=$1 seed_text=$(cat)
  # The line where the command occurs as whole lines; else anywhere (in a sentence, or in a YAML
  # step's run:); 0 when it does not occur.
  seed_line=$(SEED_TEXT=$seed_text awk '{ text = text "\n" $0 } END {
      text = text "\n"; cmd = ENVIRON["SEED_TEXT"]; whole = 1
      at = index(text, "\n" cmd "\n"); if (!at) { at = index(text, cmd); whole = 0 }
      if (!at) { print 0; exit }
      prefix = substr(text, 1, at - 1); print gsub(/\n/, "", prefix) + whole }' "$(seed_file "$1")")
  [ "$seed_line" != 0 ] || fail "seed $1 does not contain: $seed_text"
}
#   answer=y mapped …   the same at a terminal, answering y to the question it asks
mapped() {
  local want=$1 check=$2; shift 2
  local cmd; cmd=$(cat)
  rows=$((rows + 1))
  local out=$T/rows/$rows.out err=$T/rows/$rows.err label="$seed_id:$seed_line $(head -n1 <<<"$seed_text")"
  if [ -n "${answer:-}" ]; then
    # script(1) gives the command a terminal (stdin, stdout and stderr) and types the answer.
    printf '%s\n' "$answer" | (cd "$T/$seed_id" && SHELL=/bin/bash script -qefc "$cmd" /dev/null) >"$out" 2>"$err"
  else
    (cd "$T/$seed_id" && eval "$cmd") >"$out" 2>"$err" </dev/null
  fi
  local rc=$?
  local problem=
  if [ "$rc" -ne "$want" ]; then
    problem="exit $rc, want $want"$'\n'"  ran: $cmd"$'\n'"  stderr: $(tail -n 5 "$err")"
  elif ! "$check" "$out" "$err" "$@"; then
    problem="unexpected output"$'\n'"  ran: $cmd"$'\n'"  stdout: $(head -c 600 "$out")"$'\n'"  stderr: $(tail -n 5 "$err")"
  fi
  if [ -n "${gap:-}" ]; then
    # A known gap in vouch (README.md lists it): the row must still fail, so that closing the
    # gap is noticed and the mark removed.
    if [ -n "$problem" ]; then gaps=$((gaps + 1)); echo "gap   $label: $gap"; else fail "$label passes now: remove its gap mark"; fi
  elif [ -n "$problem" ]; then
    fail "$label: $problem"
  else
    passed=$((passed + 1))
    echo "ok    $label"
  fi
}

# Output checks: OUT ERR [ARG…]. (jq rather than python: a check runs for every row.)
anything() { :; }
json_file() {  # json_file OUT ERR FILE JQ-EXPR: FILE (in the chapter's directory) is JSON and EXPR holds
  jq -e "$4" "$T/$seed_id/$3" >/dev/null
}
json_out() {  # json_out OUT ERR JQ-EXPR: stdout is JSON and EXPR holds
  jq -e "$3" "$1" >/dev/null
}
out_is() { [ "$(cat "$1")" = "$3" ]; }
out_has() { grep -qF -- "$3" "$1"; }
err_has() { grep -qF -- "$3" "$2"; }
refused() {  # refused OUT ERR SUBSTRING: one line on stderr naming it, nothing on stdout
  [ ! -s "$1" ] && [ "$(grep -c '' "$2")" -eq 1 ] && grep -qF -- "$3" "$2"
}
# uuids OUT ERR N: N entry UUIDs, one a line, as rekor-cli search prints them.
uuids() { [ "$(grep -cE '^[0-9a-f]{64}([0-9a-f]{16})?$' "$1")" -eq "$3" ] && [ "$(grep -c '' "$1")" -eq "$3" ]; }
# logged OUT ERR N: N signatures or attestations were logged (cosign's "tlog entry created" lines).
logged() { [ "$(cat "$1" "$2" | grep -c '^tlog entry created with index: [0-9]')" -eq "$3" ]; }
# verified OUT ERR DIGEST: cosign verify's answer, a JSON array of the verified payloads, each for DIGEST.
verified() {
  jq -e --arg d "$3" 'type == "array" and length > 0 and all(.[]; .critical.image["docker-manifest-digest"] == $d)' "$1" >/dev/null
}
# attested OUT ERR TYPE DIGEST: cosign verify-attestation's answer, one DSSE envelope a line; one
# holds a statement of that predicate type about DIGEST.
attested() {
  jq -e -s --arg t "$3" --arg d "$4" \
    'any(.[]; .payload | @base64d | fromjson | .predicateType == $t and any(.subject[]; "sha256:" + .digest.sha256 == $d))' \
    "$1" >/dev/null
}

# ---------------------------------------------------------------------------------------------
# The services: a docker-registry and a private Sigstore stack whose OIDC issuer plays GitHub
# Actions for acme/bookstore's build workflow on main (the identity of chapters 000 and 001).
start_registry
"$V" stack up --dir "$T/stack" --github-repository acme/bookstore --github-workflow .github/workflows/build.yml \
  --github-ref refs/heads/main 2>stack.log &
stack_pid=$!
for _ in $(seq 150); do [ -s stack/env ] && break; sleep 0.1; done
[ -s stack/env ] || { echo "FAIL: vouch stack up did not start: $(cat stack.log)"; exit 1; }
# SIGSTORE_ROOT_FILE, VOUCH_SIGNING_CONFIG, ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN, VOUCH_*_URL: a
# GitHub Actions job's environment, with the stack's trust and services as the defaults.
# shellcheck disable=SC1091
source stack/env
ISSUER=$VOUCH_OIDC_URL REKOR=$VOUCH_REKOR_URL
export REKOR_SERVER=$REKOR  # rekor-cli's own variable for its server, which `vouch log` reads

# ci_token REPO WORKFLOW REF SHA [JOB_WORKFLOW_REF]: an identity token as GitHub Actions mints it for
# a job of that workflow (JOB_WORKFLOW_REF: the reusable workflow the job runs, as slsa-github-
# generator's), from the stack's issuer: its own token's claims, with the job's changed.
ci_token() {
  local repo=$1 wf=$2 ref=$3 sha=$4 job=${5:-$1/$2@$3} jwt claims
  jwt=$(curl -sf -H "Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=sigstore" |
    jq -r .value) || return 1
  claims=$(cut -d. -f2 <<<"$jwt" | tr '_-' '/+')
  while [ $((${#claims} % 4)) -ne 0 ]; do claims+="="; done
  base64 -d <<<"$claims" | jq -c --arg repo "$repo" --arg wf "$wf" --arg ref "$ref" --arg sha "$sha" --arg job "$job" '
    del(.iss, .iat, .nbf, .exp, .jti) + {
      sub: "repo:\($repo):ref:\($ref)", ref: $ref, sha: $sha, repository: $repo, repository_owner: ($repo | split("/")[0]),
      workflow: ($wf | split("/")[-1] | sub("\\.[^.]*$"; "")), workflow_ref: "\($repo)/\($wf)@\($ref)", workflow_sha: $sha,
      job_workflow_ref: $job, job_workflow_sha: $sha, ref_type: (if ($ref | startswith("refs/tags/")) then "tag" else "branch" end)}' |
    curl -sf -H 'Content-Type: application/json' --data-binary @- "$VOUCH_OIDC_URL/token" | jq -r .id_token
}
GENERATOR=slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v2.0.0
SHA_BOOKSTORE=0b5fd7fb4a2b9d8c1e0f3a6b7c8d9e0f1a2b3c4d SHA_API=4d329c7577efa6cbdc5dba0ab1ee33ac2b3bc1c9

# ---------------------------------------------------------------------------------------------
# Images: Debian 12 with two Python packages, each with its own content; a two-platform index for
# the multi-arch chapter. The vulnerability database holds PyPI's records for those packages (at
# versions none of them affects).
umoci init --layout L >/dev/null
make_image() {  # make_image TAG CONTENT [ARCH]
  umoci new --image "L:$1" >/dev/null
  umoci unpack --rootless --image "L:$1" "b-$1" >/dev/null
  local r=b-$1/rootfs
  mkdir -p "$r/usr/lib" "$r/var/lib/dpkg" "$r/usr/lib/python3/dist-packages/requests-2.32.3.dist-info" \
    "$r/usr/lib/python3/dist-packages/Jinja2-3.1.4.dist-info"
  printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' > "$r/usr/lib/os-release"
  printf 'Package: base-files\nStatus: install ok installed\nArchitecture: amd64\nVersion: 12.4+deb12u5\n\n' > "$r/var/lib/dpkg/status"
  printf 'Metadata-Version: 2.1\nName: requests\nVersion: 2.32.3\nLicense: Apache-2.0\n' \
    > "$r/usr/lib/python3/dist-packages/requests-2.32.3.dist-info/METADATA"
  printf 'Metadata-Version: 2.1\nName: Jinja2\nVersion: 3.1.4\nLicense: BSD-3-Clause\n' \
    > "$r/usr/lib/python3/dist-packages/Jinja2-3.1.4.dist-info/METADATA"
  echo "$2" > "$r/content"
  umoci repack --image "L:$1" "b-$1" >/dev/null
  [ -z "${3:-}" ] || umoci config --image "L:$1" --os linux --architecture "$3" >/dev/null
  rm -rf "b-$1"
}
push() { skopeo copy -q --dest-tls-verify=false "oci:L:$1" "docker://$REG/$2" >/dev/null || fail "push $1 to $2"; }
digest_of() { "$V" inspect -o json "$1" | jq -r .digest; }
for t in amd64 arm64 catalog test-image cosign myapp-latest myapp-v1 api unsigned; do
  case $t in amd64 | arm64) make_image "$t" "bookstore-catalog $t" "$t" ;; *) make_image "$t" "$t" ;; esac
done
python3 "$root/tests/lib/multi_platform_index.py" L "$(digest_of oci:L:amd64)" "$(digest_of oci:L:arm64)"
"$V" copy oci:L:multi "$REG/bookstore-catalog:v1.2.3" >/dev/null 2>&1 || fail "push the index"
push catalog bookstore/catalog:latest
push test-image your-org/test-image:latest
push cosign sigstore/cosign/cosign:latest
push myapp-latest myorg/myapp:latest
push myapp-v1 myorg/myapp:v1.2.3
push unsigned myorg/unsigned:1.0
push unsigned bookstore/unsigned:1.0
push unsigned acme/unsigned:latest
D000=$(digest_of "$REG/bookstore-catalog:v1.2.3") D001=$(digest_of "$REG/bookstore/catalog:latest")
D_TEST=$(digest_of "$REG/your-org/test-image:latest") D_COSIGN=$(digest_of "$REG/sigstore/cosign/cosign:latest")
D002=$(digest_of "$REG/myorg/myapp:latest") D003=$(digest_of "$REG/myorg/myapp:v1.2.3")
D_AMD=$(digest_of oci:L:amd64) D_ARM=$(digest_of oci:L:arm64)
for d in "$D000" "$D001" "$D002" "$D003" "$D_AMD"; do [[ $d == sha256:* ]] || { echo "FAIL: image setup: '$d'"; exit 1; }; done
grep -liE '"name": "(requests|jinja2)"' "$data"/osv/pypi/*.json > records.txt
xargs "$V" db import < records.txt >/dev/null 2>db.err || fail "db import: $(cat db.err)"

mkdir -p 000 001 002 003 004

# =============================================================================================
# 000 — Supply chain security in production: syft, cosign keyless in GitHub Actions, multi-arch.
# Filled: <ACCOUNT-ID>.dkr.ecr.<REGION>.amazonaws.com → $REG; <ECR-URI> and <IMAGE> →
# $REG/bookstore-catalog (a two-platform index, tagged v1.2.3 and latest); <TAG> → v1.2.3;
# <DIGEST> and <MANIFEST-LIST-DIGEST> → the index's digest; <ORG>/<REPO> → acme/bookstore. The
# signer is the job the stack plays (acme/bookstore, .github/workflows/build.yml, main), reached
# as cosign reaches GitHub Actions' token (ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN).
export REG H000=${D000#sha256:}
"$V" copy "$REG/bookstore-catalog:v1.2.3" "$REG/bookstore-catalog:latest" >/dev/null 2>&1 || fail "tag latest"
ID_BOOKSTORE=https://github.com/acme/bookstore/.github/workflows/build.yml@refs/heads/main

seed 000 <<'SEED'
syft <IMAGE> -o spdx-json > sbom.spdx.json
SEED
mapped 0 json_file sbom.spdx.json '.spdxVersion == "SPDX-2.3" and (["requests", "jinja2"] - [.packages[].name | ascii_downcase] == [])' <<'RUN'
vouch sbom $REG/bookstore-catalog -o spdx-json > sbom.spdx.json
RUN

seed 000 <<'SEED'
cosign sign --yes <ECR-URI>:<TAG>@sha256:<DIGEST>
SEED
mapped 0 logged 1 <<'RUN'
vouch sign --yes $REG/bookstore-catalog:v1.2.3@sha256:$H000
RUN

# Without --yes, keyless signing asks first (as cosign does): answered at a terminal.
seed 000 <<'SEED'
cosign sign <IMAGE>:<TAG>@sha256:<MANIFEST-LIST-DIGEST>
SEED
answer=y mapped 0 out_has "Are you sure you would like to continue? [y/N]" <<'RUN'
vouch sign $REG/bookstore-catalog:v1.2.3@sha256:$H000
RUN
# …and refused, naming --yes, where nobody can answer (cosign stops there too).
mapped 2 refused "Confirm with -y/--yes" <<'RUN'
vouch sign $REG/bookstore-catalog:v1.2.3@sha256:$H000
RUN

seed 000 <<'SEED'
cosign sign --recursive <IMAGE>:<TAG>
SEED
answer=y mapped 0 logged 3 <<'RUN'
vouch sign --recursive $REG/bookstore-catalog:v1.2.3
RUN

seed 000 <<'SEED'
cosign sign --yes --recursive <IMAGE>@sha256:<DIGEST>
SEED
mapped 0 logged 3 <<'RUN'
vouch sign --yes --recursive $REG/bookstore-catalog@sha256:$H000
RUN

# The GitHub Actions step's commands, its env giving IMAGE: <ECR-URI>@${{ steps.build.outputs.digest }}.
IMAGE=$REG/bookstore-catalog@$D000
seed 000 <<'SEED'
cosign sign --yes --recursive "$IMAGE"
SEED
mapped 0 logged 3 <<'RUN'
vouch sign --yes --recursive "$IMAGE"
RUN

seed 000 <<'SEED'
          cosign attest --yes --type spdxjson \
            --predicate sbom.spdx.json \
            "$IMAGE"
SEED
mapped 0 logged 1 <<'RUN'
          vouch attest --yes --type spdxjson \
            --predicate sbom.spdx.json \
            "$IMAGE"
RUN

seed 000 <<'SEED'
cosign attest --yes --type spdxjson \
  --predicate sbom.spdx.json <IMAGE>@sha256:<DIGEST>
SEED
mapped 0 logged 1 <<'RUN'
vouch attest --yes --type spdxjson \
  --predicate sbom.spdx.json $REG/bookstore-catalog@sha256:$H000
RUN

# --recursive signed every platform's manifest: the one an arm64 node pulls verifies.
seed 000 <<'SEED'
cosign verify \
  --certificate-identity-regexp="https://github.com/<ORG>/<REPO>/.+" \
  --certificate-oidc-issuer="https://token.actions.githubusercontent.com" \
  <IMAGE>
SEED
mapped 0 verified "$D000" <<'RUN'
vouch verify \
  --certificate-identity-regexp="https://github.com/acme/bookstore/.+" \
  --certificate-oidc-issuer="$ISSUER" \
  $REG/bookstore-catalog
RUN
mapped 0 verified "$D_ARM" <<'RUN'
vouch verify \
  --certificate-identity-regexp="https://github.com/acme/bookstore/.+" \
  --certificate-oidc-issuer="$ISSUER" \
  $REG/bookstore-catalog@$D_ARM
RUN

# The hands-on's IMAGE=<ACCOUNT-ID>.dkr.ecr.<REGION>.amazonaws.com/bookstore-catalog:<TAG>
IMAGE=$REG/bookstore-catalog:v1.2.3
seed 000 <<'SEED'
cosign verify \
  --certificate-identity-regexp="https://github.com/<ORG>/<REPO>/.+" \
  --certificate-oidc-issuer="https://token.actions.githubusercontent.com" \
  "$IMAGE"
SEED
mapped 0 verified "$D000" <<'RUN'
vouch verify \
  --certificate-identity-regexp="https://github.com/acme/bookstore/.+" \
  --certificate-oidc-issuer="$ISSUER" \
  "$IMAGE"
RUN

# slsa-github-generator's provenance for the index: attested (as the generator's reusable workflow
# does) under the generator's identity, for a job of acme/bookstore.
cat > 000/provenance.json <<JSON
{"builder": {"id": "https://github.com/$GENERATOR"},
 "buildType": "https://github.com/slsa-framework/slsa-github-generator/container@v1",
 "invocation": {"configSource": {"uri": "git+https://github.com/acme/bookstore@refs/heads/main",
                                 "digest": {"sha1": "$SHA_BOOKSTORE"}, "entryPoint": ".github/workflows/build.yml"},
                "parameters": {}, "environment": {"github_event_name": "push", "github_ref": "refs/heads/main"}},
 "metadata": {"buildInvocationID": "1-1", "completeness": {"parameters": true, "environment": false, "materials": false},
              "reproducible": false},
 "materials": [{"uri": "git+https://github.com/acme/bookstore@refs/heads/main", "digest": {"sha1": "$SHA_BOOKSTORE"}}]}
JSON
(cd 000 && SIGSTORE_ID_TOKEN=$(ci_token acme/bookstore .github/workflows/build.yml refs/heads/main "$SHA_BOOKSTORE" "$GENERATOR") \
  "$V" attest --yes --type slsaprovenance --predicate provenance.json "$REG/bookstore-catalog@$D000" >/dev/null 2>attest.err) \
  || fail "attest the generator's provenance: $(cat 000/attest.err)"
seed 000 <<'SEED'
cosign verify-attestation \
  --type slsaprovenance \
  --certificate-identity-regexp="https://github.com/slsa-framework/slsa-github-generator/.+" \
  --certificate-oidc-issuer="https://token.actions.githubusercontent.com" \
  <IMAGE>
SEED
mapped 0 attested https://slsa.dev/provenance/v0.2 "$D000" <<'RUN'
vouch verify-attestation \
  --type slsaprovenance \
  --certificate-identity-regexp="https://github.com/slsa-framework/slsa-github-generator/.+" \
  --certificate-oidc-issuer="$ISSUER" \
  $REG/bookstore-catalog
RUN

# =============================================================================================
# 001 — Image signing and provenance in CI: keyless sign, SBOM attestation, verify, tree.
# Filled: AWS_ACCOUNT_ID.dkr.ecr.AWS_REGION.amazonaws.com → $REG; <IMAGE> → $REG/bookstore/catalog;
# GITHUB_ORG → acme; DIGEST-HEX → the image's digest; ghcr.io/your-org/test-image and
# ghcr.io/sigstore/cosign/cosign ("any signed image") → copies in $REG. The signer is the stack's
# job, acme/bookstore's build.yml on main, which the chapter's subject regexp describes.
export H001=${D001#sha256:} H_TEST=${D_TEST#sha256:} H_COSIGN=${D_COSIGN#sha256:}

seed 001 <<'SEED'
cosign version
SEED
mapped 0 out_has "vouch " <<'RUN'
vouch version
RUN

seed 001 <<'SEED'
cosign sign --yes ghcr.io/your-org/test-image@sha256:DIGEST-HEX 2>&1 | head -20
SEED
mapped 0 out_has "$ID_BOOKSTORE" <<'RUN'
vouch sign --yes $REG/your-org/test-image@sha256:$H_TEST 2>&1 | head -20
RUN

# "any signed image": signed here by another job, sigstore/cosign's release workflow at a tag.
(cd 001 && SIGSTORE_ID_TOKEN=$(ci_token sigstore/cosign .github/workflows/release.yaml refs/tags/v2.4.1 "$SHA_API") \
  "$V" sign --yes "$REG/sigstore/cosign/cosign@$D_COSIGN" >/dev/null 2>sign.err) || fail "sign the cosign image: $(cat 001/sign.err)"
seed 001 <<'SEED'
cosign verify \
  --certificate-identity-regexp '.*' \
  --certificate-oidc-issuer-regexp '.*' \
  ghcr.io/sigstore/cosign/cosign@sha256:DIGEST-HEX   # any signed image
SEED
mapped 0 verified "$D_COSIGN" <<'RUN'
vouch verify \
  --certificate-identity-regexp '.*' \
  --certificate-oidc-issuer-regexp '.*' \
  $REG/sigstore/cosign/cosign@sha256:$H_COSIGN   # any signed image
RUN

seed 001 <<'SEED'
cosign tree ghcr.io/sigstore/cosign/cosign@sha256:DIGEST-HEX
SEED
mapped 0 out_has "application/vnd.dev.sigstore.bundle.v0.3+json artifacts via OCI referrer" <<'RUN'
vouch tree $REG/sigstore/cosign/cosign@sha256:$H_COSIGN
RUN

seed 001 <<'SEED'
cosign sign --yes 'AWS_ACCOUNT_ID.dkr.ecr.AWS_REGION.amazonaws.com/bookstore/catalog@sha256:DIGEST-HEX'
SEED
mapped 0 logged 1 <<'RUN'
vouch sign --yes "$REG/bookstore/catalog@sha256:$H001"
RUN

seed 001 <<'SEED'
syft '<IMAGE>@sha256:DIGEST-HEX' -o spdx-json > catalog.spdx.json
SEED
mapped 0 json_file catalog.spdx.json '.spdxVersion == "SPDX-2.3" and (.name | length > 0)' <<'RUN'
vouch sbom "$REG/bookstore/catalog@sha256:$H001" -o spdx-json > catalog.spdx.json
RUN

seed 001 <<'SEED'
cosign attest --yes --type spdxjson \
  --predicate catalog.spdx.json \
  '<IMAGE>@sha256:DIGEST-HEX'
SEED
mapped 0 logged 1 <<'RUN'
vouch attest --yes --type spdxjson \
  --predicate catalog.spdx.json \
  "$REG/bookstore/catalog@sha256:$H001"
RUN

seed 001 <<'SEED'
cosign verify \
  --certificate-identity-regexp 'https://github.com/GITHUB_ORG/bookstore/\.github/workflows/.+\.yml@refs/heads/main' \
  --certificate-oidc-issuer 'https://token.actions.githubusercontent.com' \
  '<IMAGE>@sha256:DIGEST-HEX'
SEED
mapped 0 verified "$D001" <<'RUN'
vouch verify \
  --certificate-identity-regexp 'https://github.com/acme/bookstore/\.github/workflows/.+\.yml@refs/heads/main' \
  --certificate-oidc-issuer "$ISSUER" \
  "$REG/bookstore/catalog@sha256:$H001"
RUN

seed 001 <<'SEED'
cosign verify \
  --certificate-identity-regexp 'https://github.com/GITHUB_ORG/bookstore/\.github/workflows/.+\.yml@refs/heads/main' \
  --certificate-oidc-issuer 'https://token.actions.githubusercontent.com' \
  --rekor-url 'https://rekor.sigstore.dev' \
  'AWS_ACCOUNT_ID.dkr.ecr.AWS_REGION.amazonaws.com/bookstore/catalog@sha256:DIGEST-HEX'
SEED
mapped 0 verified "$D001" <<'RUN'
vouch verify \
  --certificate-identity-regexp 'https://github.com/acme/bookstore/\.github/workflows/.+\.yml@refs/heads/main' \
  --certificate-oidc-issuer "$ISSUER" \
  --rekor-url "$REKOR" \
  "$REG/bookstore/catalog@sha256:$H001"
RUN
# "If the subject doesn't match (e.g. signed by a different workflow), cosign exits 1": vouch
# exits with cosign's documented code for signatures of which none verifies, 12, naming why.
mapped 12 err_has "does not match the expected identity regexp" <<'RUN'
vouch verify \
  --certificate-identity-regexp 'https://github.com/acme/bookstore/\.github/workflows/release\.yml@refs/heads/main' \
  --certificate-oidc-issuer "$ISSUER" \
  --rekor-url "$REKOR" \
  "$REG/bookstore/catalog@sha256:$H001"
RUN

seed 001 <<'SEED'
cosign verify-attestation --type spdxjson \
  --certificate-identity-regexp 'https://github.com/GITHUB_ORG/bookstore/\.github/workflows/.+\.yml@refs/heads/main' \
  --certificate-oidc-issuer 'https://token.actions.githubusercontent.com' \
  'AWS_ACCOUNT_ID.dkr.ecr.AWS_REGION.amazonaws.com/bookstore/catalog@sha256:DIGEST-HEX' \
  | jq -r '.payload' | base64 -d | jq .predicate.name
SEED
sbom_name=$(jq -c .name 001/catalog.spdx.json 2>/dev/null)
mapped 0 out_is "$sbom_name" <<'RUN'
vouch verify-attestation --type spdxjson \
  --certificate-identity-regexp 'https://github.com/acme/bookstore/\.github/workflows/.+\.yml@refs/heads/main' \
  --certificate-oidc-issuer "$ISSUER" \
  "$REG/bookstore/catalog@sha256:$H001" \
  | jq -r '.payload' | base64 -d | jq .predicate.name
RUN

# The build's own provenance (as buildx writes it with provenance: true), attested by the same job.
cat > 001/buildx-provenance.json <<JSON
{"builder": {"id": "https://github.com/acme/bookstore/actions/runs/1"},
 "buildType": "https://mobyproject.org/buildkit@v1",
 "invocation": {"configSource": {"uri": "https://github.com/acme/bookstore.git#refs/heads/main",
                                 "digest": {"sha1": "$SHA_BOOKSTORE"}, "entryPoint": "Dockerfile"}},
 "materials": [{"uri": "pkg:docker/debian@12", "digest": {"sha256": "${D001#sha256:}"}}]}
JSON
(cd 001 && "$V" attest --yes --type slsaprovenance --predicate buildx-provenance.json "$REG/bookstore/catalog@$D001" \
  >/dev/null 2>attest.err) || fail "attest the build's provenance: $(cat 001/attest.err)"
seed 001 <<'SEED'
cosign verify-attestation --type slsaprovenance \
  --certificate-identity-regexp 'https://github.com/GITHUB_ORG/bookstore/\.github/workflows/.+\.yml@refs/heads/main' \
  --certificate-oidc-issuer 'https://token.actions.githubusercontent.com' \
  'AWS_ACCOUNT_ID.dkr.ecr.AWS_REGION.amazonaws.com/bookstore/catalog@sha256:DIGEST-HEX' \
  | jq -r '.payload' | base64 -d | jq '.predicate'
SEED
mapped 0 json_out '(.builder.id | length > 0) and (.invocation.configSource.uri | length > 0) and (.materials | length > 0)' <<'RUN'
vouch verify-attestation --type slsaprovenance \
  --certificate-identity-regexp 'https://github.com/acme/bookstore/\.github/workflows/.+\.yml@refs/heads/main' \
  --certificate-oidc-issuer "$ISSUER" \
  "$REG/bookstore/catalog@sha256:$H001" \
  | jq -r '.payload' | base64 -d | jq '.predicate'
RUN

# =============================================================================================
# 002 — Supply chain security overview: cosign keyless and with a key pair, SBOMs with trivy and
# syft, cosign attach sbom. Filled: ghcr.io → $REG; abc123... → the digest of myorg/myapp:latest.
# The keyless signer is myorg/myapp's build.yml on main, the identity the chapter verifies.
export H002=${D002#sha256:}
export SIGSTORE_ID_TOKEN
SIGSTORE_ID_TOKEN=$(ci_token myorg/myapp .github/workflows/build.yml refs/heads/main "$SHA_API") || fail "token for myorg/myapp"

# "Sign an image (keyless, in CI)" without --yes: at a terminal cosign asks, and so does vouch.
seed 002 <<'SEED'
cosign sign ghcr.io/myorg/myapp@sha256:abc123...
SEED
answer=y mapped 0 out_has "Are you sure you would like to continue? [y/N]" <<'RUN'
vouch sign $REG/myorg/myapp@sha256:$H002
RUN

seed 002 <<'SEED'
cosign verify \
--certificate-identity=https://github.com/myorg/myapp/.github/workflows/build.yml@refs/heads/main \
--certificate-oidc-issuer=https://token.actions.githubusercontent.com \
ghcr.io/myorg/myapp@sha256:abc123...
SEED
mapped 0 verified "$D002" <<'RUN'
vouch verify \
--certificate-identity=https://github.com/myorg/myapp/.github/workflows/build.yml@refs/heads/main \
--certificate-oidc-issuer=$ISSUER \
$REG/myorg/myapp@sha256:$H002
RUN

seed 002 <<'SEED'
cosign generate-key-pair
SEED
mapped 0 anything <<'RUN'
vouch generate-key-pair
RUN
[ -s 002/cosign.key ] && [ -s 002/cosign.pub ] || fail "002: generate-key-pair wrote no cosign.key/cosign.pub"

# With a key, and the stack's signing config in the environment, the signature is logged there
# (cosign 3 logs key signatures too), so verify checks the log entry as cosign does.
seed 002 <<'SEED'
cosign sign --key cosign.key ghcr.io/myorg/myapp@sha256:abc123...
SEED
mapped 0 logged 1 <<'RUN'
vouch sign --key cosign.key $REG/myorg/myapp@sha256:$H002
RUN

seed 002 <<'SEED'
cosign verify --key cosign.pub ghcr.io/myorg/myapp@sha256:abc123...
SEED
mapped 0 verified "$D002" <<'RUN'
vouch verify --key cosign.pub $REG/myorg/myapp@sha256:$H002
RUN

seed 002 <<'SEED'
trivy image --format cyclonedx --output sbom.json ghcr.io/myorg/myapp:latest
SEED
mapped 0 json_file sbom.json '.bomFormat == "CycloneDX" and (["requests", "jinja2"] - [.components[].name | ascii_downcase] == [])' <<'RUN'
vouch scan image --format cyclonedx --output sbom.json $REG/myorg/myapp:latest
RUN

seed 002 <<'SEED'
syft ghcr.io/myorg/myapp:latest -o spdx-json > sbom.spdx.json
SEED
mapped 0 json_file sbom.spdx.json '.spdxVersion == "SPDX-2.3"' <<'RUN'
vouch sbom $REG/myorg/myapp:latest -o spdx-json > sbom.spdx.json
RUN

seed 002 <<'SEED'
cosign attach sbom --sbom sbom.json ghcr.io/myorg/myapp@sha256:abc123...
SEED
mapped 0 anything <<'RUN'
vouch attach sbom --sbom sbom.json $REG/myorg/myapp@sha256:$H002
RUN
"$V" download sbom "$REG/myorg/myapp@$D002" 2>/dev/null | jq -e --slurpfile attached 002/sbom.json '. == $attached[0]' >/dev/null ||
  fail "002: vouch download sbom does not give back the attached sbom.json"
unset SIGSTORE_ID_TOKEN

# =============================================================================================
# 003 — Kyverno verifyImages in depth: a key pair, SBOM and vulnerability-scan attestations,
# Notation, and the GitHub Actions workflow's keyless steps. Filled: ghcr.io → $REG;
# ${{ github.ref_name }} → v1.2.3 (the workflow runs on a tag push); my-signing-key → a Notation
# signing key of that name in notation's own configuration ($XDG_CONFIG_HOME/notation).
seed 003 <<'SEED'
cosign generate-key-pair
SEED
mapped 0 anything <<'RUN'
vouch generate-key-pair
RUN

seed 003 <<'SEED'
cosign sign --key cosign.key ghcr.io/myorg/myapp:v1.2.3
SEED
mapped 0 logged 1 <<'RUN'
vouch sign --key cosign.key $REG/myorg/myapp:v1.2.3
RUN

seed 003 <<'SEED'
cosign verify --key cosign.pub ghcr.io/myorg/myapp:v1.2.3
SEED
mapped 0 verified "$D003" <<'RUN'
vouch verify --key cosign.pub $REG/myorg/myapp:v1.2.3
RUN

seed 003 <<'SEED'
syft ghcr.io/myorg/myapp:v1.2.3 -o spdx-json > sbom.spdx.json
SEED
mapped 0 json_file sbom.spdx.json '.spdxVersion == "SPDX-2.3"' <<'RUN'
vouch sbom $REG/myorg/myapp:v1.2.3 -o spdx-json > sbom.spdx.json
RUN

seed 003 <<'SEED'
cosign attest --key cosign.key \
--predicate sbom.spdx.json \
--type spdxjson \
ghcr.io/myorg/myapp:v1.2.3
SEED
mapped 0 logged 1 <<'RUN'
vouch attest --key cosign.key \
--predicate sbom.spdx.json \
--type spdxjson \
$REG/myorg/myapp:v1.2.3
RUN

seed 003 <<'SEED'
trivy image --format cosign-vuln ghcr.io/myorg/myapp:v1.2.3 > vuln-report.json
SEED
mapped 0 json_file vuln-report.json '.scanner.result != null and (.scanner.uri | length > 0)' <<'RUN'
vouch scan image --format cosign-vuln $REG/myorg/myapp:v1.2.3 > vuln-report.json
RUN

seed 003 <<'SEED'
cosign attest --key cosign.key \
--predicate vuln-report.json \
--type vuln \
ghcr.io/myorg/myapp:v1.2.3
SEED
mapped 0 logged 1 <<'RUN'
vouch attest --key cosign.key \
--predicate vuln-report.json \
--type vuln \
$REG/myorg/myapp:v1.2.3
RUN

# Notation's PKI: a root CA in notation's trust store and a code-signing key under it, configured
# as notation configures a key (signingkeys.json), under the name the chapter uses.
nk=$XDG_CONFIG_HOME/notation
mkdir -p "$nk/localkeys" "$nk/truststore/x509/ca/myorg"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout 003/root.key -out 003/root.pem -days 2 \
  -subj "/C=US/ST=WA/O=MyOrg/CN=MyOrg Root" -addext basicConstraints=critical,CA:TRUE \
  -addext keyUsage=critical,keyCertSign,cRLSign >/dev/null 2>&1 || fail "notation root CA"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$nk/localkeys/my-signing-key.key" \
  -subj "/C=US/ST=WA/O=MyOrg/CN=my-signing-key" -out 003/leaf.csr >/dev/null 2>&1 &&
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' > 003/leaf.ext &&
  openssl x509 -req -in 003/leaf.csr -CA 003/root.pem -CAkey 003/root.key -CAcreateserial -days 1 -extfile 003/leaf.ext \
    -out 003/leaf.pem >/dev/null 2>&1 || fail "notation signing certificate"
cat 003/leaf.pem 003/root.pem > "$nk/localkeys/my-signing-key.crt"
cp 003/root.pem "$nk/truststore/x509/ca/myorg/"
printf '{"default": "my-signing-key", "keys": [{"name": "my-signing-key", "keyPath": "%s", "certPath": "%s"}]}\n' \
  "$nk/localkeys/my-signing-key.key" "$nk/localkeys/my-signing-key.crt" > "$nk/signingkeys.json"
cat > 003/trustpolicy.json <<JSON
{"version": "1.0", "trustPolicies": [{"name": "myorg", "registryScopes": ["$REG/myorg/myapp"],
  "signatureVerification": {"level": "strict"}, "trustStores": ["ca:myorg"], "trustedIdentities": ["*"]}]}
JSON

seed 003 <<'SEED'
notation sign ghcr.io/myorg/myapp:v1.2.3 \
--key my-signing-key \
--signature-format cose
SEED
mapped 0 anything <<'RUN'
vouch notation sign $REG/myorg/myapp:v1.2.3 \
--key my-signing-key \
--signature-format cose
RUN
# The same key named by its files, and the default key of signingkeys.json.
(cd 003 && "$V" notation sign --key "$nk/localkeys/my-signing-key.key" --cert "$nk/localkeys/my-signing-key.crt" \
  --signature-format cose "$REG/myorg/myapp:v1.2.3" >/dev/null 2>notation.err) || fail "notation sign: $(cat 003/notation.err)"
(cd 003 && "$V" notation sign "$REG/myorg/myapp:v1.2.3" >/dev/null 2>notation.err) || fail "notation sign (default key): $(cat 003/notation.err)"
(cd 003 && ! "$V" notation sign --key no-such-key "$REG/myorg/myapp:v1.2.3" >/dev/null 2>notation.err) &&
  grep -q "no signing key named no-such-key" 003/notation.err || fail "notation sign with an unknown key name: $(cat 003/notation.err)"

# notation itself has no --trust-policy flag (it reads trustpolicy.json from its configuration
# directory; `notation policy import` puts it there); vouch takes both.
seed 003 <<'SEED'
notation verify ghcr.io/myorg/myapp:v1.2.3 \
--trust-policy trustpolicy.json
SEED
mapped 0 out_has "Successfully verified" <<'RUN'
vouch notation verify $REG/myorg/myapp:v1.2.3 \
--trust-policy trustpolicy.json
RUN

# The workflow's run: steps, in a job for the tag v1.2.3 of myorg/myapp's build-sign.yaml.
export SIGSTORE_ID_TOKEN
SIGSTORE_ID_TOKEN=$(ci_token myorg/myapp .github/workflows/build-sign.yaml refs/tags/v1.2.3 "$SHA_API") || fail "token for build-sign.yaml"
seed 003 <<'SEED'
cosign sign --yes ghcr.io/myorg/myapp:${{ github.ref_name }}
SEED
mapped 0 logged 1 <<'RUN'
vouch sign --yes $REG/myorg/myapp:v1.2.3
RUN

seed 003 <<'SEED'
cosign attest --yes \
--predicate sbom.spdx.json \
--type spdxjson \
ghcr.io/myorg/myapp:${{ github.ref_name }}
SEED
mapped 0 logged 1 <<'RUN'
vouch attest --yes \
--predicate sbom.spdx.json \
--type spdxjson \
$REG/myorg/myapp:v1.2.3
RUN

seed 003 <<'SEED'
cosign attest --yes \
--predicate vuln-report.json \
--type vuln \
ghcr.io/myorg/myapp:${{ github.ref_name }}
SEED
mapped 0 logged 1 <<'RUN'
vouch attest --yes \
--predicate vuln-report.json \
--type vuln \
$REG/myorg/myapp:v1.2.3
RUN
unset SIGSTORE_ID_TOKEN

# =============================================================================================
# 004 — End-to-end guide: SBOM and scan gate, keyless sign and attest, SLSA provenance from
# slsa-github-generator, Rekor audit. The image is built and pushed with umoci and skopeo (not
# docker), so IMAGE and DIGEST are set here as the chapter's docker buildx imagetools line sets
# them. The signer is acme/api's release.yml at the tag v1.4.2; the provenance is signed by
# slsa-github-generator's container workflow (v2.0.0) running for that job.
push api acme/api:"$SHA_API"
DIGEST=$(digest_of "$REG/acme/api:$SHA_API")
IMAGE="$REG/acme/api@${DIGEST}"
export SIGSTORE_ID_TOKEN
SIGSTORE_ID_TOKEN=$(ci_token acme/api .github/workflows/release.yml refs/tags/v1.4.2 "$SHA_API") || fail "token for acme/api"
ID_API=https://github.com/acme/api/.github/workflows/release.yml@refs/tags/v1.4.2

seed 004 <<'SEED'
syft "$IMAGE" -o cyclonedx-json=sbom.cdx.json
SEED
mapped 0 json_file sbom.cdx.json '.bomFormat == "CycloneDX" and (["requests", "jinja2"] - [.components[].name | ascii_downcase] == [])' <<'RUN'
vouch sbom "$IMAGE" -o cyclonedx-json=sbom.cdx.json
RUN

seed 004 <<'SEED'
grype sbom:sbom.cdx.json --fail-on high
SEED
mapped 0 out_is "No vulnerabilities found" <<'RUN'
vouch scan sbom:sbom.cdx.json --fail-on high
RUN

seed 004 <<'SEED'
trivy image --severity HIGH,CRITICAL --exit-code 1 "$IMAGE"
SEED
mapped 0 out_is "No vulnerabilities found" <<'RUN'
vouch scan image --severity HIGH,CRITICAL --exit-code 1 "$IMAGE"
RUN

seed 004 <<'SEED'
cosign sign --yes "$IMAGE"
SEED
mapped 0 logged 1 <<'RUN'
vouch sign --yes "$IMAGE"
RUN

seed 004 <<'SEED'
cosign verify \
  --certificate-identity-regexp "https://github.com/acme/api/.github/workflows/release.yml@.*" \
  --certificate-oidc-issuer "https://token.actions.githubusercontent.com" \
  "$IMAGE"
SEED
mapped 0 verified "$DIGEST" <<'RUN'
vouch verify \
  --certificate-identity-regexp "https://github.com/acme/api/.github/workflows/release.yml@.*" \
  --certificate-oidc-issuer "$ISSUER" \
  "$IMAGE"
RUN

seed 004 <<'SEED'
cosign attest --yes \
  --predicate sbom.cdx.json \
  --type cyclonedx \
  "$IMAGE"
SEED
mapped 0 logged 1 <<'RUN'
vouch attest --yes \
  --predicate sbom.cdx.json \
  --type cyclonedx \
  "$IMAGE"
RUN

seed 004 <<'SEED'
trivy image --format cosign-vuln -o vuln.json "$IMAGE"
SEED
mapped 0 json_file vuln.json '.scanner.result != null' <<'RUN'
vouch scan image --format cosign-vuln -o vuln.json "$IMAGE"
RUN

seed 004 <<'SEED'
cosign attest --yes \
  --predicate vuln.json \
  --type vuln \
  "$IMAGE"
SEED
mapped 0 logged 1 <<'RUN'
vouch attest --yes \
  --predicate vuln.json \
  --type vuln \
  "$IMAGE"
RUN

# What the generator's reusable workflow attaches: SLSA v0.2 provenance for the container
# generator, signed under the generator's identity for acme/api's job at v1.4.2 (and a v1
# statement for the chapter's admission rule, which names https://slsa.dev/provenance/v1).
cat > 004/provenance.json <<JSON
{"builder": {"id": "https://github.com/$GENERATOR"},
 "buildType": "https://github.com/slsa-framework/slsa-github-generator/container@v1",
 "invocation": {"configSource": {"uri": "git+https://github.com/acme/api@refs/tags/v1.4.2",
                                 "digest": {"sha1": "$SHA_API"}, "entryPoint": ".github/workflows/release.yml"},
                "parameters": {}, "environment": {"github_event_name": "push", "github_ref": "refs/tags/v1.4.2",
                                                  "github_ref_type": "tag", "github_base_ref": "", "github_head_ref": "",
                                                  "github_sha1": "$SHA_API", "github_repository_owner": "acme",
                                                  "github_run_attempt": "1", "github_run_id": "4242", "github_run_number": "1",
                                                  "github_workflow_ref": "acme/api/.github/workflows/release.yml@refs/tags/v1.4.2",
                                                  "github_event_payload": {}}},
 "metadata": {"buildInvocationID": "4242-1", "completeness": {"parameters": true, "environment": false, "materials": false},
              "reproducible": false},
 "materials": [{"uri": "git+https://github.com/acme/api@refs/tags/v1.4.2", "digest": {"sha1": "$SHA_API"}}]}
JSON
cat > 004/provenance-v1.json <<JSON
{"buildDefinition": {"buildType": "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
   "externalParameters": {"source": {"uri": "git+https://github.com/acme/api", "ref": "refs/tags/v1.4.2"},
                          "workflow": {"ref": "refs/tags/v1.4.2", "repository": "https://github.com/acme/api",
                                       "path": ".github/workflows/release.yml"}},
   "resolvedDependencies": [{"uri": "git+https://github.com/acme/api@refs/tags/v1.4.2", "digest": {"gitCommit": "$SHA_API"}}]},
 "runDetails": {"builder": {"id": "https://github.com/$GENERATOR"}, "metadata": {"invocationId": "4242-1"}}}
JSON
gen_token=$(ci_token acme/api .github/workflows/release.yml refs/tags/v1.4.2 "$SHA_API" "$GENERATOR")
for t in slsaprovenance:provenance.json slsaprovenance1:provenance-v1.json; do
  (cd 004 && SIGSTORE_ID_TOKEN=$gen_token "$V" attest --yes --type "${t%%:*}" --predicate "${t#*:}" "$IMAGE" \
    >/dev/null 2>attest.err) || fail "attest the generator's ${t%%:*}: $(cat 004/attest.err)"
done

seed 004 <<'SEED'
cosign verify \
  --certificate-identity-regexp "https://github.com/acme/api/.*" \
  --certificate-oidc-issuer "https://token.actions.githubusercontent.com" \
  "$IMAGE"
SEED
mapped 0 verified "$DIGEST" <<'RUN'
vouch verify \
  --certificate-identity-regexp "https://github.com/acme/api/.*" \
  --certificate-oidc-issuer "$ISSUER" \
  "$IMAGE"
RUN

seed 004 <<'SEED'
cosign verify-attestation \
  --type cyclonedx \
  --certificate-identity-regexp "https://github.com/acme/api/.*" \
  --certificate-oidc-issuer "https://token.actions.githubusercontent.com" \
  "$IMAGE"
SEED
mapped 0 attested https://cyclonedx.org/bom "$DIGEST" <<'RUN'
vouch verify-attestation \
  --type cyclonedx \
  --certificate-identity-regexp "https://github.com/acme/api/.*" \
  --certificate-oidc-issuer "$ISSUER" \
  "$IMAGE"
RUN

seed 004 <<'SEED'
cosign verify-attestation \
  --type slsaprovenance \
  --certificate-identity-regexp "https://github.com/slsa-framework/.*" \
  --certificate-oidc-issuer "https://token.actions.githubusercontent.com" \
  "$IMAGE"
SEED
mapped 0 attested https://slsa.dev/provenance/v0.2 "$DIGEST" <<'RUN'
vouch verify-attestation \
  --type slsaprovenance \
  --certificate-identity-regexp "https://github.com/slsa-framework/.*" \
  --certificate-oidc-issuer "$ISSUER" \
  "$IMAGE"
RUN

# slsa-verifier trusts only GitHub's issuer for GitHub builders; the stack's issuer is named.
seed 004 <<'SEED'
slsa-verifier verify-image "$IMAGE" \
  --source-uri github.com/acme/api \
  --source-tag v1.4.2
SEED
mapped 0 err_has "PASSED: SLSA verification passed" <<'RUN'
vouch verify-provenance "$IMAGE" \
  --source-uri github.com/acme/api \
  --source-tag v1.4.2 --certificate-oidc-issuer "$ISSUER"
RUN

# rekor-cli search --artifact hashes the file it is given: here the downloaded signature (a
# bundle), which is not what the log indexes, so nothing is found and the fallback line is
# printed, with rekor-cli as with vouch.
seed 004 <<'SEED'
rekor-cli search --artifact <(cosign download signature "$IMAGE" 2>/dev/null) || \
  echo "use: rekor-cli search --sha ${DIGEST#sha256:}"
SEED
nothing_found() { out_is "$1" "$2" "use: vouch log search --sha ${DIGEST#sha256:}" && refused /dev/null "$2" "no matching entries found"; }
mapped 0 nothing_found <<'RUN'
vouch log search --artifact <(vouch download signature "$IMAGE" 2>/dev/null) || \
  echo "use: vouch log search --sha ${DIGEST#sha256:}"
RUN

# The image's five entries: its signature, the CycloneDX and vulnerability attestations and the
# two provenance statements (the log indexes the subjects of in-toto statements, as Rekor's dsse type).
seed 004 <<'SEED'
rekor-cli search --sha "${DIGEST#sha256:}"
SEED
mapped 0 uuids 5 <<'RUN'
vouch log search --sha "${DIGEST#sha256:}"
RUN
UUID=$(head -n1 "$T/rows/$rows.out")

seed 004 <<'SEED'
rekor-cli get --uuid <entry-uuid> --format json | jq '.Body'
SEED
mapped 0 json_out 'type == "object" and length == 1 and (keys[0] | endswith("Obj"))' <<'RUN'
vouch log get --uuid "$UUID" --format json | jq '.Body'
RUN
unset SIGSTORE_ID_TOKEN

# =============================================================================================
# The chapters' Kyverno policies, cut out of the chapters now (seed_policies.py), their
# placeholders filled as above (and the same service substitutions), applied with
# `vouch policy apply --registry` to Pods naming the images signed above. Trust: the stack's
# trusted root ($SIGSTORE_ROOT_FILE), as Kyverno trusts Sigstore's.
mkdir -p policies pods
services=(--replace "https://token.actions.githubusercontent.com=$ISSUER" --replace "https://rekor.sigstore.dev=$REKOR")
extract() {  # extract NNN [ARG…]: that chapter's policies into policies/, one "LINE NAME FILE" line each
  python3 "$root/tests/seeds/seed_policies.py" "$(seed_file "$1")" policies "${services[@]}" "${@:2}"
}
{
  extract 000 --replace "<ORG>=acme" --replace "<REPO>=bookstore"
  extract 001 --replace "AWS_ACCOUNT_ID.dkr.ecr.AWS_REGION.amazonaws.com=$REG" --replace "GITHUB_ORG=acme"
  extract 002 --replace "ghcr.io=$REG"
  extract 003 --replace "ghcr.io=$REG" --key 003/cosign.pub --cert 003/root.pem --chain 003/root.pem
  extract 004 --replace "ghcr.io=$REG"
} > policies.txt || fail "seed_policies.py: $(cat policies.txt)"
# Every policy the chapters hold, found: eleven ClusterPolicies.
want_policies="000:501:require-signed-images 001:151:verify-bookstore-images 001:381:verify-bookstore-images
002:105:require-signed-images 002:156:restrict-registries 003:18:verify-image-signature
003:51:verify-keyless-signature 003:85:require-sbom-attestation 003:124:require-vuln-scan
003:164:verify-notation-signature 004:114:require-signed-images"
got_policies=$(awk '{ split($3, p, "/"); print substr(p[2], 1, 3) ":" $1 ":" $2 }' policies.txt | tr '\n' ' ')
[ "$got_policies" = "$(echo $want_policies) " ] || fail "policies found in the seeds: $got_policies"
policy_file() { awk -v k="$1" '{ split($3, p, "/"); if (substr(p[2], 1, 3) ":" $1 == k) print $3 }' policies.txt; }

pod() {  # pod NAME NAMESPACE IMAGE [INIT-IMAGE]: pods/NAME.yaml
  { printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: %s}\nspec:\n  containers: [{name: app, image: "%s"}]\n' "$1" "$2" "$3"
    [ -z "${4:-}" ] || printf '  initContainers: [{name: init, image: "%s"}]\n' "$4"; } > "pods/$1.yaml"
}
# Each Pod's name is its file's, so that results can be told apart when several are applied at once.
pod catalog default "$REG/bookstore-catalog:v1.2.3"
pod catalog-kube-system kube-system "$REG/bookstore-catalog:v1.2.3"
pod bookstore-catalog bookstore "$REG/bookstore/catalog:latest"
pod myapp-latest default "$REG/myorg/myapp:latest"
pod myapp-v1 default "$REG/myorg/myapp:v1.2.3"
pod myorg-unsigned default "$REG/myorg/unsigned:1.0"
pod myapp-init default "$REG/myorg/myapp:latest" "$REG/myorg/myapp:v1.2.3"
pod nginx default docker.io/library/nginx:1.27 "$REG/myorg/myapp:v1.2.3"
pod api default "$REG/acme/api:$SHA_API"
pod rogue default "$REG/acme/unsigned:latest"
pod rogue-kube-system kube-system "$REG/acme/unsigned:latest"

# applied KEY|FILE "POD…" WANT-EXIT "POD=RESULT…" [MESSAGE…]: `vouch policy apply` of that policy to
# those Pods at once exits WANT-EXIT with exactly these rule results (a Pod the policy does not
# apply to has none), and each MESSAGE is in its output.
applied() {
  local key=$1 pods=$2 want=$3 results=$4
  shift 4
  local file=$key out rc got args=() p m missing=
  [ -f "$file" ] || file=$(policy_file "$key")
  for p in $pods; do args+=(-r "pods/$p.yaml"); done
  out=$("$V" policy apply --registry -p "$file" "${args[@]}" -o json 2>"$T/apply.err"); rc=$?
  got=$(jq -r '[(if type == "object" and has("items") then .items[] else . end) | .results[]?
      | "\(.resources[0].name)=\(.result)"] | sort | join(" ")' <<<"$out" 2>/dev/null)
  for m in "$@"; do grep -qF -- "$m" <(printf '%s\n' "$out"; cat "$T/apply.err") || missing+=" '$m'"; done
  rows=$((rows + 1))
  if [ "$rc" != "$want" ] || [ "$got" != "$results" ] || [ -n "$missing" ]; then
    fail "policy $key on $pods: want '$results' (exit $want)${missing:+ with$missing}, got '$got' (exit $rc): $(head -c 800 <<<"$out") $(cat "$T/apply.err")"
  else
    passed=$((passed + 1))
    local what=${results:-no result}
    [ "$want" = 2 ] && what=refused
    local said=; for m in "$@"; do said+="${said:+; }$m"; done
    echo "ok    policy $(basename "$file" .yaml) on $pods: $what${said:+ ($said)}"
  fi
}
# variant KEY NAME FILTER…: policies/NAME.yaml, that policy through a filter (the edit is said
# where it is used); prints the file's name.
variant() {
  local key=$1 name=$2
  shift 2
  "$@" < "$(policy_file "$key")" > "policies/$name.yaml" || fail "variant $name"
  echo "policies/$name.yaml"
}

# --- 000 require-signed-images: Audit, keyless, subject "https://github.com/acme/.+".
# Kyverno compares `subject` literally (wildcards only), so the regexp written there matches no
# certificate: the signed image fails (Audit: reported, exit 1 as kyverno apply), and vouch says
# why in its lint warning. The same policy with the field Kyverno has for a regexp
# (subjectRegExp) passes and pins the digest; Pods in the excluded namespaces have no result.
applied 000:501 "catalog catalog-kube-system" 1 "catalog=fail" "keyless.subject: 'https://github.com/acme/.+' looks like a regular expression" \
  "use subjectRegExp" "imageReferences[0]: '*' selects every image"
fixed=$(variant 000:501 000-subject-regexp sed 's/subject:/subjectRegExp:/')
applied "$fixed" "catalog catalog-kube-system" 0 "catalog=pass" "$D000"

# --- 001 verify-bookstore-images (both versions, L151 and L381): Audit, subject with regexp
# syntax (fails as above), rekor pinned, webhookConfiguration.failurePolicy.
for key in 001:151 001:381; do
  applied "$key" bookstore-catalog 1 "bookstore-catalog=fail" "use subjectRegExp"
  fixed=$(variant "$key" "001-${key#*:}-subject-regexp" sed 's/subject:/subjectRegExp:/')
  applied "$fixed" bookstore-catalog 0 "bookstore-catalog=pass" "$D001"
  # The chapter's stage 2 ("uncomment once GO-NO-GO clears"): a per-rule validationFailureAction.
  # Kyverno's rule has no such field, and the API server's strict field validation refuses it (a
  # verifyImages entry takes failureAction since Kyverno 1.13, and failureActionOverrides select
  # namespaces): refused, naming the field, never quietly left in Audit.
  staged=$(variant "$key" "001-${key#*:}-stage2" sed -E 's/# (validationFailureAction: Enforce)\b/\1/')
  [ "$(grep -c '^ *validationFailureAction: Enforce' "$staged")" = 1 ] || fail "$staged: the stage-2 line was not uncommented"
  applied "$staged" bookstore-catalog 2 "" "spec.rules[0].validationFailureAction: not a field of a verifyImages rule"
done

# --- 002 require-signed-images: Enforce, keyless subject "https://github.com/myorg/*".
applied 002:105 "myapp-latest myorg-unsigned" 1 "myapp-latest=pass myorg-unsigned=fail"
# --- 002 restrict-registries: images from the approved registries only. The pattern names
# initContainers without an anchor, so (as in Kyverno) a Pod without init containers fails it too.
applied 002:156 "myapp-init nginx myapp-latest" 1 "myapp-init=pass myapp-latest=fail nginx=fail"

# --- 003: the key (cosign.pub of the chapter's generate-key-pair), keyless, SBOM and vulnerability
# attestations with conditions, Notation.
applied 003:18 "myapp-v1 myorg-unsigned" 1 "myapp-v1=pass myorg-unsigned=fail"
applied 003:51 "myapp-v1 myorg-unsigned" 1 "myapp-v1=pass myorg-unsigned=fail"
applied 003:85 myapp-v1 0 "myapp-v1=pass"
applied 003:124 myapp-v1 0 "myapp-v1=pass"
applied 003:164 "myapp-v1 myorg-unsigned" 1 "myapp-v1=pass myorg-unsigned=fail"

# --- 004 require-signed-images: Enforce, subject ".../release.yml@refs/tags/*". The chapter's
# `kubectl run rogue --image=ghcr.io/acme/unsigned:latest` is denied.
applied 004:114 "api rogue" 1 "api=pass rogue=fail"
# The chapter's fragments, cut out of it now and put where it says: the break-glass exclude block
# into the rule, the provenance requirement "under the same entry" (with the service
# substitutions), and the two-registry verifyImages list in place of the rule's own.
fragment() {  # fragment LINE: from the chapter's line that is exactly LINE to the next blank line
  awk -v line="$1" '$0 == line { on = 1 } on && $0 == "" { exit } on' "$(seed_file 004)" |
    sed -e "s|https://token.actions.githubusercontent.com|$ISSUER|g" -e "s|https://rekor.sigstore.dev|$REKOR|g" -e "s|ghcr.io|$REG|g"
}
fragment "      exclude:" > exclude.yaml
fragment "          attestations:" > attestations.yaml
fragment "verifyImages:" > verify-images.yaml
[ "$(wc -l < exclude.yaml) $(wc -l < attestations.yaml) $(wc -l < verify-images.yaml)" = "4 12 5" ] ||
  fail "004's fragments: $(wc -l exclude.yaml attestations.yaml verify-images.yaml)"
excluded=$(variant 004:114 004-exclude awk 'BEGIN { while ((getline l < "exclude.yaml") > 0) block = block l "\n" }
  /^      verifyImages:$/ && !done { printf "%s", block; done = 1 } 1')
applied "$excluded" "rogue-kube-system rogue" 1 "rogue=fail"
with_provenance=$(variant 004:114 004-provenance cat - attestations.yaml)
# Its condition reads element.predicate…, but in an attestation condition the predicate's fields
# are the root (element exists only in foreach): the path is null, regex_match refuses it, and
# the rule is an error (Kyverno: the same JMESPath error). Written as Kyverno reads it
# ({{ regex_match('^refs/tags/.*', buildDefinition.externalParameters.source.ref) }}), it passes.
applied "$with_provenance" api 1 "api=error" "element.predicate.buildDefinition"
fixed=$(variant 004:114 004-provenance-root sh -c 'cat - && sed "s/element\.predicate\.//" attestations.yaml')
applied "$fixed" api 0 "api=pass"
# Two entries whose flow mappings close with '}}}' where '}}]' is due: not YAML. Refused with
# the line, as kubectl refuses it.
two_registries=$(variant 004:114 004-two-registries sh -c 'sed "/^      verifyImages:$/,\$d" && sed "s/^/      /" verify-images.yaml')
applied "$two_registries" api 2 "" "004-two-registries.yaml: line 16: illegal flow end"

# --- 001's audit-mode triage: the PolicyReports of a background scan over the cluster's Pods,
# read with the chapter's jq. kubectl get policyreport → vouch report get (the reports it reads
# are $VOUCH_REPORTS, written by `vouch admission scan`). The policy is 001's skeleton with its
# subject as a subjectRegExp (as written it fails every image, above); unsigned-test is the
# chapter's Pod, its image in the policy's registry path (the chapter's nginx:1.27.0 is outside
# imageReferences, so Kyverno would not check it at all).
export VOUCH_REPORTS=$T/reports.db
jq -n --arg reg "$REG" '{apiVersion: "v1", kind: "List", items: [
  ["catalog", "/bookstore/catalog:latest"], ["unsigned-test", "/bookstore/unsigned:1.0"] | {apiVersion: "v1", kind: "Pod",
    metadata: {name: .[0], namespace: "bookstore"}, spec: {containers: [{name: "app", image: ($reg + .[1])}]}}]}' > cluster.json
"$V" admission scan --registry -p policies/001-381-subject-regexp.yaml -r cluster.json >scan.out 2>scan.err ||
  fail "admission scan: $(cat scan.err)"

seed 001 <<'SEED'
kubectl get policyreport -A -o json | \
  jq -r '.items[].results[] | select(.result=="fail") | .resources[0].name'
SEED
mapped 0 out_is unsigned-test <<'RUN'
vouch report get -A -o json | \
  jq -r '.items[].results[] | select(.result=="fail") | .resources[0].name'
RUN

# kubectl prints a table by default; vouch report get the same List as JSON.
seed 001 <<'SEED'
kubectl get policyreport -A
SEED
mapped 0 json_out '.kind == "List" and [.items[] | select(.kind == "PolicyReport") | [.metadata.namespace, .summary.pass, .summary.fail]] == [["bookstore", 1, 1]]' <<'RUN'
vouch report get -A
RUN

seed 000 <<'SEED'
kubectl get policyreport --all-namespaces
SEED
mapped 0 json_out '[.items[] | select(.kind == "PolicyReport") | .metadata.namespace] == ["bookstore"]' <<'RUN'
vouch report get --all-namespaces
RUN

seed 001 <<'SEED'
kubectl get policyreport -n bookstore
SEED
mapped 0 json_out '[.items[].metadata.namespace] == ["bookstore"]' <<'RUN'
vouch report get -n bookstore
RUN

echo "seeds: $rows rows: $passed passed, $gaps known gap(s) (tests/seeds/README.md), $fails failure(s)"
[ "$fails" -eq 0 ]
