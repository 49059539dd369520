#!/usr/bin/env bash
# `vouch ui serve` in a real browser. A report store filled by a real `vouch admission serve`
# (AdmissionReviews over HTTPS: a few Pods three weeks ago and today, then 5,000 Pods, over
# 10,000 results), an inventory made by `vouch inventory add sbom:FILE` against the shared OSV
# records (`vouch db import`) with one finding suppressed, and a `vouch log serve` holding two
# entries; then Debian's chromium, headless, driven by puppeteer-core (tests/ui/dashboard.js):
# every page renders without a console or JavaScript error, a filter changes the table, the
# ladder shows GO and NO-GO namespaces, the first rows' render time with the whole store is printed
# (held to a budget only by bench/ui_render.sh, which sets UI_RENDER_BUDGET_MS),
# and screenshots of each page are kept in .cache/ui-screenshots/ for review. Also: the server
# refuses to expose the stores without credentials, is read-only, and asks for its token.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/assert.sh"
vouch=${VOUCH_BIN:?VOUCH_BIN must point at the vouch binary}
vouch=$(cd "$(dirname "$vouch")" && pwd)/$(basename "$vouch")
root=$(cd "$(dirname "$0")/../.." && pwd)
data=${VOUCH_TESTDATA:-$root/../shared/testdata}
for tool in chromium node npm openssl curl jq python3; do
  command -v "$tool" >/dev/null || { echo "FAIL: missing $tool (scripts/install-deps.sh)"; exit 1; }
done
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
unset VOUCH_REPORTS VOUCH_INVENTORY
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() {  # wait_http URL [curl options…]
  local url=$1; shift
  for _ in $(seq 200); do curl -s -o /dev/null "$@" "$url" && return 0; sleep 0.05; done
  return 1
}

modules=$(bash "$root/scripts/ui-browser.sh" "$root/.cache/ui-browser" 2>npm.log) || { echo "FAIL: installing puppeteer-core: $(cat npm.log)"; exit 1; }

# ---------------------------------------------------------------- the report store, through the webhook
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt -days 2 \
  -subj /CN=test-ca -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign >/dev/null 2>&1
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tls.key -out tls.csr -subj /CN=vouch >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > ext.cnf
openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -extfile ext.cnf -out tls.crt >/dev/null 2>&1 ||
  { echo "FAIL: serving certificate"; exit 1; }

mkdir policies
cat > policies/hygiene.yaml <<'EOF'
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: image-hygiene
spec:
  validationFailureAction: Audit
  background: true
  rules:
    - name: no-latest-tag
      match:
        any:
          - resources:
              kinds: [Pod]
      validate:
        message: "The :latest tag is not allowed."
        pattern:
          spec:
            containers:
              - image: "!*:latest"
    - name: require-app-label
      reportProperties:
        category: labels
      match:
        any:
          - resources:
              kinds: [Pod]
      validate:
        message: "Pods need an app label."
        pattern:
          metadata:
            labels:
              app: "?*"
EOF
wport=$(free_port)
W=https://127.0.0.1:$wport
"$vouch" admission serve --policies policies --tls-cert tls.crt --tls-key tls.key --listen "127.0.0.1:$wport" \
  --reports "$work/reports.db" > webhook.log 2>&1 &
pids+=($!)
wait_http "$W/healthz" --cacert ca.crt || { echo "FAIL: the webhook did not start: $(cat webhook.log)"; exit 1; }

results() { "$vouch" report get -A -o json --reports reports.db | jq '[.items[].results[]] | length'; }
wait_results() {  # wait_results N: the webhook writes off the request path
  for _ in $(seq 300); do [ "$(results 2>/dev/null)" = "$1" ] && return 0; sleep 0.1; done
  fail "the report store holds $(results) results, not $1"
}
fill() { node "$root/tests/ui/fill_reports.js" "$W" ca.crt "$1" || fail "reviews of $1"; }

# Three weeks ago: shop's Pods are fine, dev runs a :latest image.
cat > early.json <<'EOF'
{"pods": [{"namespace": "shop", "name": "web", "image": "nginx:1.27.0"},
          {"namespace": "shop", "name": "api", "image": "ghcr.io/example/api@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
          {"namespace": "dev", "name": "tool", "image": "busybox:latest"}]}
EOF
fill early.json
wait_results 6
python3 - reports.db <<'PY' || fail "moving the history back"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=30)
db.execute("UPDATE admission_history SET recorded_at = recorded_at - 21 * 86400")
db.execute("UPDATE admission_rules SET first_recorded = first_recorded - 21 * 86400, last_recorded = last_recorded - 21 * 86400")
db.execute("UPDATE admission_latest SET recorded_at = recorded_at - 21 * 86400")
db.commit()
PY
# Today: the same again, then 5,000 Pods in namespace load (10,000 results).
cat > today.json <<'EOF'
{"pods": [{"namespace": "shop", "name": "web", "image": "nginx:1.27.0"},
          {"namespace": "dev", "name": "tool", "image": "busybox:latest"}],
 "bulk": {"namespace": "load", "count": 5000}}
EOF
fill today.json
total=10006
wait_results "$total"

# What the ladder must show, from the command line's own reading of the store.
"$vouch" rollout status -o json --reports reports.db > status.json || fail "rollout status"
verdict() { jq -r --arg r "$1" --arg n "$2" '.rules[] | select(.rule == $r) | .namespaces[] | select(.namespace == $n) | .verdict' status.json; }
[ "$(verdict no-latest-tag shop)" = GO ] && [ "$(verdict no-latest-tag dev)" = NO-GO ] && [ "$(verdict require-app-label dev)" = GO ] ||
  fail "rollout status: $(jq -c '[.rules[] | {rule, ns: [.namespaces[] | {namespace, verdict}]}]' status.json)"

# ---------------------------------------------------------------- the inventory
"$vouch" db import --db "$work/vulndb" "$data/osv/pypi" >/dev/null 2>db.log || fail "db import: $(tail -1 db.log)"
sbom() {  # sbom FILE name@version…
  local out=$1; shift
  python3 - "$out" "$@" <<'PY'
import json, sys
out, specs = sys.argv[1], sys.argv[2:]
comps = [{"type": "library", "bom-ref": f"pkg-{i}", "name": s.split("@")[0], "version": s.split("@")[1],
          "purl": f"pkg:pypi/{s.split('@')[0]}@{s.split('@')[1]}"} for i, s in enumerate(specs)]
json.dump({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": comps}, open(out, "w"))
PY
}
sbom old.json jinja2@2.10 requests@2.19.0 flask@0.12 urllib3@1.23
sbom new.json jinja2@3.1.4 requests@2.32.3
for img in old new; do
  "$vouch" inventory add --store "$work/inventory.db" --db "$work/vulndb" --repository "reg.test/shop/$img" --tag v1 \
    "sbom:$work/$img.json" >/dev/null 2>add.log || fail "inventory add $img: $(tail -1 add.log)"
done
old_digest="sha256:$(sha256sum < old.json | cut -d' ' -f1)"
vuln=$("$vouch" inventory findings --store "$work/inventory.db" --image "$old_digest" --status active -o json | jq -r '.[0].vulnerability')
[ -n "$vuln" ] && [ "$vuln" != null ] || fail "the old image has no active finding"
"$vouch" inventory suppress "$vuln" --image "$old_digest" --reason "not reachable in this image" --store "$work/inventory.db" >/dev/null ||
  fail "inventory suppress $vuln"
# What `inventory add --key` records of an image from a registry (tests/integration/
# inventory_attestation.sh makes these from real signatures): written into the store as it
# keeps them, for the page to show.
python3 - "$work/inventory.db" "$old_digest" <<'PY' || fail "recording verifications"
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=30)
checks = [{"kind": "signature", "verified": True, "signer": "key sha256:ab12", "signedAt": "2026-12-01T10:00:00Z",
           "logIndexes": [41], "location": "reg.test/shop/old@sha256:aa (referrer)"},
          {"kind": "provenance", "predicateType": "https://slsa.dev/provenance/v1", "verified": False,
           "reason": "no signatures found"}]
db.execute("UPDATE inv_images SET verifications = ? WHERE digest = ?", (json.dumps(checks), sys.argv[2]))
db.commit()
PY

# ---------------------------------------------------------------- the log
lport=$(free_port)
L=http://127.0.0.1:$lport
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out log.key 2>/dev/null
"$vouch" log serve --listen "127.0.0.1:$lport" --storage "sqlite:$work/log.db" --signing-key log.key --hostname "127.0.0.1:$lport" 2>log.log &
pids+=($!)
wait_http "$L/readyz" || { echo "FAIL: the log did not start: $(cat log.log)"; exit 1; }
submit() {  # submit N EMAIL: a hashedrekord entry over artifact aN, signed by a certificate for EMAIL
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "k$1.pem" -out "c$1.pem" \
    -days 1 -subj "/CN=test" -addext "subjectAltName=email:$2" 2>/dev/null
  echo "artifact $1" > "a$1"
  openssl dgst -sha256 -sign "k$1.pem" -out "s$1" "a$1"
  python3 - "$1" > "p$1.json" <<'PY'
import base64, hashlib, json, sys
n = sys.argv[1]
print(json.dumps({"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
  "data": {"hash": {"algorithm": "sha256", "value": hashlib.sha256(open("a" + n, "rb").read()).hexdigest()}},
  "signature": {"content": base64.b64encode(open("s" + n, "rb").read()).decode(),
                "publicKey": {"content": base64.b64encode(open("c" + n + ".pem", "rb").read()).decode()}}}}))
PY
  [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary "@p$1.json" "$L/api/v1/log/entries")" = 201 ] ||
    fail "log entry $1"
}
submit 1 builder@example.com
submit 2 release@example.com
log_digest="sha256:$(sha256sum < a1 | cut -d' ' -f1)"

# ---------------------------------------------------------------- the dashboard refuses what it should
expect 2 "not a loopback address, so the dashboard needs credentials" -- "$vouch" ui serve --listen 0.0.0.0:0 --reports reports.db
head -c 24 /dev/urandom | base64 > token
expect 2 "needs --tls-cert and --tls-key" -- "$vouch" ui serve --listen 0.0.0.0:0 --reports reports.db --token token
expect 2 "no such file" -- "$vouch" ui serve --reports missing.db
[ -e missing.db ] && fail "ui serve created a report store"
expect 2 "give --reports, --inventory or --log" -- "$vouch" ui serve

# With a token (on any address): the pages load, the API needs the token. Over TLS.
tport=$(free_port)
"$vouch" ui serve --listen "0.0.0.0:$tport" --reports reports.db --token token --tls-cert tls.crt --tls-key tls.key > ui-token.log 2>&1 &
pids+=($!)
T=https://127.0.0.1:$tport
wait_http "$T/healthz" --cacert ca.crt || fail "ui serve with a token did not start: $(cat ui-token.log)"
[ "$(curl -s --cacert ca.crt -o /dev/null -w '%{http_code}' "$T/api/overview")" = 401 ] || fail "the API answered without the token"
[ "$(curl -s --cacert ca.crt -o /dev/null -w '%{http_code}' -H "Authorization: Bearer wrong-token-wrong-token" "$T/api/overview")" = 401 ] ||
  fail "the API answered a wrong token"
[ "$(curl -s --cacert ca.crt -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat token)" "$T/api/overview")" = 200 ] ||
  fail "the API refused the token"
[ "$(curl -s --cacert ca.crt -o /dev/null -w '%{http_code}' "$T/")" = 200 ] || fail "the page needs the token (it holds no data)"

# With client certificates (mutual TLS): no certificate, no session; one from the CA: served.
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout client.key -out client.csr -subj /CN=ops >/dev/null 2>&1
printf 'extendedKeyUsage=clientAuth\n' > client.cnf
openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -extfile client.cnf -out client.crt >/dev/null 2>&1 ||
  fail "client certificate"
mport=$(free_port)
"$vouch" ui serve --listen "0.0.0.0:$mport" --reports reports.db --tls-cert tls.crt --tls-key tls.key --tls-client-ca ca.crt > ui-mtls.log 2>&1 &
pids+=($!)
M=https://127.0.0.1:$mport
wait_http "$M/healthz" --cacert ca.crt --cert client.crt --key client.key || fail "ui serve with client certificates did not start: $(cat ui-mtls.log)"
code=$(curl -s --cacert ca.crt -o /dev/null -w '%{http_code}' "$M/api/overview")
[ "$code" = 000 ] || fail "the API answered ($code) a client without a certificate"
[ "$(curl -s --cacert ca.crt --cert client.crt --key client.key -o /dev/null -w '%{http_code}' "$M/api/overview")" = 200 ] ||
  fail "the API refused a client certificate from the CA"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key -out other.crt -days 1 -subj /CN=other >/dev/null 2>&1
code=$(curl -s --cacert ca.crt --cert other.crt --key other.key -o /dev/null -w '%{http_code}' "$M/api/overview")
[ "$code" = 000 ] || fail "the API answered ($code) a certificate from another issuer"

# ---------------------------------------------------------------- the dashboard in the browser
uport=$(free_port)
U=http://127.0.0.1:$uport
"$vouch" ui serve --listen "127.0.0.1:$uport" --reports reports.db --inventory "$work/inventory.db" --log "$L" \
  --policies policies > ui.log 2>&1 &
pids+=($!)
wait_http "$U/healthz" || { echo "FAIL: ui serve did not start: $(cat ui.log)"; exit 1; }
for m in POST PUT DELETE PATCH; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -X "$m" "$U/api/overview")
  [ "$code" = 405 ] || fail "$m answered $code, not 405"
done
curl -s "$U/metrics" | grep -q '^vouch_ui_requests_total{route="/api/overview",status="405"} 4$' || fail "metrics: $(curl -s "$U/metrics" | head -5)"
# The API agrees with the command line.
curl -s "$U/api/reports/results?limit=1" | jq -e ".total == $total" >/dev/null || fail "api results: $(curl -s "$U/api/reports/results?limit=1" | head -c 300)"
curl -s "$U/api/ladder" | jq -e '.plan.changes | length > 0' >/dev/null || fail "api ladder has no plan: $(curl -s "$U/api/ladder" | jq -c .plan)"
plan_cli=$("$vouch" rollout plan -p policies --reports reports.db -o json 2>/dev/null | jq -c '.items')
plan_api=$(curl -s "$U/api/ladder" | jq -c '.plan.documents')
[ "$plan_cli" = "$plan_api" ] || fail "the ladder's plan differs from vouch rollout plan: $plan_api vs $plan_cli"
packages=$(curl -s "$U/api/images/$old_digest" | jq '.packages | length')

cat > expect.json <<EOF
{"results": $total, "firstRenderBudgetMs": ${UI_RENDER_BUDGET_MS:-null},
 "go": [["no-latest-tag", "shop"], ["require-app-label", "shop"], ["require-app-label", "dev"]],
 "nogo": [["no-latest-tag", "dev"], ["no-latest-tag", "load"], ["require-app-label", "load"]],
 "planNamespaces": ["shop", "dev"],
 "images": 2, "imageDigest": "$old_digest", "packages": $packages,
 "logDigest": "$log_digest", "treeSize": 2}
EOF
shots=$root/.cache/ui-screenshots
NODE_PATH=$modules node "$root/tests/ui/dashboard.js" "$U" "$shots" expect.json || fail "the dashboard in chromium (see above)"
for s in reports reports-filtered ladder images image findings log; do
  [ -s "$shots/$s.png" ] || fail "no screenshot $s.png"
done
grep -q '"msg":"request"' ui.log || fail "ui serve logged no request"

# SIGTERM: a graceful stop, exit 0.
kill -TERM "${pids[-1]}"; wait "${pids[-1]}"; rc=$?
[ "$rc" -eq 0 ] || fail "ui serve exited $rc on SIGTERM"
grep -q '"msg":"dashboard stopped"' ui.log || fail "ui serve did not log its stop"
unset 'pids[-1]'

[ "$fails" -eq 0 ] && echo "ui browser: all checks passed (screenshots in $shots)"
exit "$fails"
