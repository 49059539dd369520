#!/usr/bin/env bash
# Keyless image signatures in a real registry (Debian's docker-registry on 127.0.0.1), made
# through vouch's own services started one by one: `vouch oidc serve` (an email identity),
# `vouch ca serve --issuer-type email` (CA + CT log) and `vouch log serve` (Rekor v1).
#  - Debian 13's skopeo (containers/image) verifies the classic-layout signature under a
#    sigstoreSigned policy naming the CA's root (fulcio.caPath; the intermediate comes from the
#    signature's chain annotation), the OIDC issuer, the email and the log's key (rekorPublicKeyPath:
#    the Rekor SET is required, the SCT is not checked), and refuses it under another email,
#    another issuer, another CA root or another log key;
#  - vouch verify --certificate-identity/--certificate-oidc-issuer accepts both layouts and
#    refuses another identity or issuer;
#  - vouch policy apply --registry: Kyverno keyless attestors (subject + issuer, subjectRegExp +
#    issuerRegExp, with rekor.url) pass the signed Pods and fail (exit 1) under another subject
#    or issuer.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/assert.sh"
V=${VOUCH_BIN:?set VOUCH_BIN}
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/tests/lib/scratch.sh"
require_tools docker-registry umoci curl /usr/bin/python3
SKOPEO=$(bash "$root/scripts/get-skopeo.sh" 2>/dev/null | tail -n1)
[ -x "$SKOPEO" ] || { echo "FAIL: could not fetch Debian 13's skopeo (scripts/get-skopeo.sh)"; exit 1; }
export DOCKER_CONFIG=$T/docker HOME=$T/home
mkdir -p "$HOME"
cd "$T" || exit 1
# The OIDC issuer and the CA run beside the registry and the log; scratch.sh's trap stops those.
oidc_pid="" ca_pid=""
trap 'for p in $oidc_pid $ca_pid; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; cleanup' EXIT
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() {  # wait_for URL WHAT LOG: poll until URL answers 2xx, else stop the script
  for _ in $(seq 100); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "FAIL: $2 did not start: $(cat "$3")"; exit 1
}

# --- the services: registry, OIDC issuer (email identities), CA with its CT log, Rekor log
REG=127.0.0.1:$(free_port)
printf 'version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s/data}}\nhttp: {addr: %s}\n' "$T" "$REG" > reg.yml
docker-registry serve reg.yml > reg.log 2>&1 &
reg_pid=$!
OIDC=http://127.0.0.1:$(free_port)
"$V" oidc serve --listen "${OIDC#http://}" 2>oidc.log &
oidc_pid=$!
CA=http://127.0.0.1:$(free_port)
REKOR=http://127.0.0.1:$(free_port)
"$V" log serve --listen "${REKOR#http://}" --storage "sqlite:$T/log.db" --hostname "${REKOR#http://}" 2>log.log &
log_pid=$!
wait_for "$OIDC/.well-known/openid-configuration" "vouch oidc serve" oidc.log
"$V" ca serve --dir ca --listen "${CA#http://}" --oidc-issuer "$OIDC" --issuer-type email 2>ca.log &
ca_pid=$!
wait_for "http://$REG/v2/" docker-registry reg.log
wait_for "$REKOR/readyz" "vouch log serve" log.log
wait_for "$CA/readyz" "vouch ca serve" ca.log

token() {  # token EMAIL -> an identity token for that verified email
  curl -sf -X POST "$OIDC/token" -H 'Content-Type: application/json' \
    -d "{\"sub\":\"dev\",\"email\":\"$1\",\"email_verified\":true}" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["id_token"])'
}
TOKEN=$(token dev@example.com) && [ -n "$TOKEN" ] || { echo "FAIL: no token from vouch oidc serve: $(cat oidc.log)"; exit 1; }

# The verifiers' trust: skopeo takes the CA's root and the log's key as PEM files; vouch a
# trusted root naming the CA (its trust bundle), the CT log and the Rekor log.
curl -sf "$REKOR/api/v1/log/publicKey" > rekor.pub || fail "the log's public key: $(cat log.log)"
"$V" trusted-root create --fulcio "url=$CA" --rekor "url=$REKOR" \
  --ctfe "url=$CA,public-key=$T/ca/ct/ct_public.pem,start-time=2020-01-01T00:00:00Z" \
  --out trusted_root.json 2>tr.err || fail "vouch trusted-root create: $(cat tr.err)"

# --- one image, pushed twice so each layout has its own repository
umoci init --layout L >/dev/null && umoci new --image L:app >/dev/null || fail "umoci: making an image"
for layout in classic bundle; do
  "$SKOPEO" copy -q --dest-tls-verify=false oci:L:app "docker://$REG/demo/$layout:v1" >/dev/null || fail "push demo/$layout"
done
"$V" sign --yes --identity-token "$TOKEN" --fulcio-url "$CA" --rekor-url "$REKOR" --new-bundle-format=false \
  "$REG/demo/classic:v1" 2>sign-classic.err || fail "keyless sign (classic layout): $(cat sign-classic.err)"
"$V" sign --yes --identity-token "$TOKEN" --fulcio-url "$CA" --rekor-url "$REKOR" \
  "$REG/demo/bundle:v1" 2>sign-bundle.err || fail "keyless sign (bundle layout): $(cat sign-bundle.err)"

# --- skopeo: a sigstoreSigned requirement with Fulcio and Rekor
mkdir rd
printf 'docker:\n  %s:\n    use-sigstore-attachments: true\n' "$REG" > rd/local.yaml
skopeo_policy() {  # skopeo_policy FILE EMAIL ISSUER
  cat > "$1" <<POL
{"default":[{"type":"reject"}],
 "transports":{"docker":{"$REG":[{"type":"sigstoreSigned",
    "fulcio":{"caPath":"$T/ca/root.pem","oidcIssuer":"$3","subjectEmail":"$2"},
    "rekorPublicKeyPath":"$T/rekor.pub",
    "signedIdentity":{"type":"matchRepository"}}]},
   "dir":{"":[{"type":"insecureAcceptAnything"}]}}}
POL
}
skopeo_accepts() {  # skopeo_accepts POLICY IMAGE
  rm -rf out; "$SKOPEO" --policy "$1" --registries.d rd copy -q --src-tls-verify=false "docker://$REG/$2" dir:out >/dev/null 2>skopeo.err
}
skopeo_policy good.json dev@example.com "$OIDC"
skopeo_policy other-email.json ops@example.com "$OIDC"
skopeo_policy other-issuer.json dev@example.com https://token.actions.githubusercontent.com
skopeo_accepts good.json demo/classic:v1 || fail "skopeo rejects vouch's keyless signature: $(cat skopeo.err)"
skopeo_accepts other-email.json demo/classic:v1 && fail "skopeo accepts the signature under another subjectEmail"
grep -q 'Required email .*ops@example.com.* not found' skopeo.err || fail "skopeo's refusal does not name the email: $(cat skopeo.err)"
skopeo_accepts other-issuer.json demo/classic:v1 && fail "skopeo accepts the signature under another oidcIssuer"
grep -q 'Unexpected Fulcio OIDC issuer' skopeo.err || fail "skopeo's refusal does not name the issuer: $(cat skopeo.err)"
skopeo_accepts good.json demo/bundle:v1 && fail "skopeo accepts an image with no classic signature"
# The CA root and the log key in the policy are what the checks rest on: with another CA's root,
# or another log's key, skopeo refuses the same signature.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout other-ca.key -out other-ca.pem \
  -subj /CN=other -days 1 2>/dev/null || fail "openssl: another CA"
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl ec -pubout -out other-rekor.pub 2>/dev/null || fail "openssl: another log key"
sed "s|$T/ca/root.pem|$T/other-ca.pem|" good.json > other-ca.json
sed "s|$T/rekor.pub|$T/other-rekor.pub|" good.json > other-rekor.json
skopeo_accepts other-ca.json demo/classic:v1 && fail "skopeo accepts the certificate under another CA root"
grep -q 'certificate signed by unknown authority' skopeo.err || fail "skopeo's refusal of another CA: $(cat skopeo.err)"
skopeo_accepts other-rekor.json demo/classic:v1 && fail "skopeo accepts the Rekor SET under another log key"
grep -q 'verification of Rekor SET failed' skopeo.err || fail "skopeo's refusal of another log key: $(cat skopeo.err)"

# --- vouch verify, both layouts
vverify() { "$V" verify --trusted-root trusted_root.json "$@"; }
for layout in classic bundle; do
  expect 0 "" -- vverify --certificate-identity dev@example.com --certificate-oidc-issuer "$OIDC" "$REG/demo/$layout:v1"
  expect 12 "does not match the expected identity 'ops@example.com'" -- \
    vverify --certificate-identity ops@example.com --certificate-oidc-issuer "$OIDC" "$REG/demo/$layout:v1"
  expect 12 "and issuer 'https://token.actions.githubusercontent.com'" -- vverify --certificate-identity dev@example.com \
    --certificate-oidc-issuer https://token.actions.githubusercontent.com "$REG/demo/$layout:v1"
done
# As cosign, the classic layout's verified payload carries the certificate's subject and issuer.
out=$(vverify --certificate-identity dev@example.com --certificate-oidc-issuer "$OIDC" "$REG/demo/classic:v1" 2>/dev/null)
/usr/bin/python3 -c 'import json,sys; o=json.loads(sys.argv[1])[0]["optional"]; assert (o["Subject"], o["Issuer"]) == ("dev@example.com", sys.argv[2]) and o["Bundle"]["Payload"]["logIndex"] >= 0, o' \
  "$out" "$OIDC" || fail "classic verify output lacks Subject, Issuer or the Rekor bundle: $out"

# --- Kyverno keyless attestors through vouch policy apply --registry
kpolicy() {  # kpolicy KEYLESS_FIELDS > file
  cat <<YAML
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: verify-keyless}
spec:
  validationFailureAction: Enforce
  rules:
    - name: keyless
      match: {any: [{resources: {kinds: [Pod]}}]}
      verifyImages:
        - imageReferences: ["$REG/demo/*"]
          attestors:
            - entries:
                - keyless: {$1, rekor: {url: "$REKOR"}}
YAML
}
pod() {  # pod NAME IMAGE
  printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: default}\nspec:\n  containers: [{name: app, image: "%s"}]\n' "$1" "$2"
}
kpolicy "subject: dev@example.com, issuer: \"$OIDC\"" > exact.yaml
kpolicy "subject: ops@example.com, issuer: \"$OIDC\"" > other-subject.yaml
kpolicy "subjectRegExp: '^[a-z]+@example\\.com\$', issuerRegExp: '^http://127\\.0\\.0\\.1:[0-9]+\$'" > regexp.yaml
kpolicy "subjectRegExp: '^ops@.*', issuerRegExp: '^http://127\\.0\\.0\\.1:[0-9]+\$'" > regexp-other-subject.yaml
kpolicy "subject: dev@example.com, issuerRegExp: '^https://token\\.actions\\..*'" > regexp-other-issuer.yaml
apply() { "$V" policy apply --registry --trusted-root trusted_root.json -p "$1" -r "$2" -o json 2>&1; }
result() { /usr/bin/python3 -c 'import json,sys; print(" ".join(r["result"] for r in [r for i in json.load(sys.stdin)["items"] for r in i["results"]]))'; }
for layout in classic bundle; do
  pod "$layout" "$REG/demo/$layout:v1" > "pod-$layout.yaml"
  while read -r pol want want_rc; do
    out=$(apply "$pol" "pod-$layout.yaml" </dev/null); rc=$?
    got=$(printf '%s' "$out" | result 2>/dev/null)
    [ "$rc" = "$want_rc" ] && [ "$got" = "$want" ] ||
      fail "policy $pol on the $layout-layout Pod: want $want (exit $want_rc), got '$got' (exit $rc): $out"
    [ "$want" = pass ] || [[ $out == *"does not match the expected identity"* ]] ||
      fail "policy $pol on the $layout-layout Pod fails for another reason than the identity: $out"
  done <<'CASES'
exact.yaml pass 0
regexp.yaml pass 0
other-subject.yaml fail 1
regexp-other-subject.yaml fail 1
regexp-other-issuer.yaml fail 1
CASES
done

[ "$fails" -eq 0 ] && echo "keyless signatures in a registry: all checks passed"
[ "$fails" -eq 0 ]
