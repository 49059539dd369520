#!/usr/bin/env bash
# The admission webhook with CEL policies: `vouch admission serve` over TLS judging Pods with
# Kyverno ValidatingPolicies and a Kubernetes ValidatingAdmissionPolicy. Deny denies with
# Kyverno's "Policy <name> failed: <message>" (a ValidatingAdmissionPolicy with the API server's
# words, reason and code), Warn admits with that text as a warning, Audit admits silently, and
# the reports record the fails under Kyverno's sources for these kinds.
set -uo pipefail
V=${VOUCH_BIN:?set VOUCH_BIN}
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/tests/lib/assert.sh"
source "$root/tests/lib/scratch.sh"
require_tools python3 curl openssl
[ -n "${KEEP:-}" ] && trap - EXIT
cd "$T"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt -days 2 \
  -subj /CN=test-ca -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign >/dev/null 2>&1
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tls.key -out tls.csr -subj /CN=vouch-admission >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > ext.cnf
openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -extfile ext.cnf -out tls.crt >/dev/null 2>&1 ||
  fail "serving certificate"

mkdir policies
vpol() {  # NAME ACTION NAMESPACE: a ValidatingPolicy for Pods in NAMESPACE that must not run as root
  cat <<YAML
apiVersion: policies.kyverno.io/v1
kind: ValidatingPolicy
metadata: {name: $1}
spec:
  validationActions: [$2]
  matchConstraints:
    resourceRules:
      - {apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [pods]}
  matchConditions:
    - {name: in-namespace, expression: "request.namespace == '$3'"}
  validations:
    - expression: "object.spec.containers.all(c, has(c.securityContext) && c.securityContext.runAsNonRoot == true)"
      message: "containers must set runAsNonRoot"
YAML
}
vpol deny-root Deny prod > policies/deny.yaml
vpol warn-root Warn staging > policies/warn.yaml
vpol audit-root Audit dev > policies/audit.yaml
cat > policies/vap.yaml <<'YAML'
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: no-latest}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
      - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}
  validations:
    - expression: "object.spec.containers.all(c, !c.image.endsWith(':latest'))"
      messageExpression: "'image of ' + object.metadata.name + ' uses :latest'"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: no-latest-binding}
spec:
  policyName: no-latest
  validationActions: [Deny]
YAML

wport=$(free_port)
W=https://127.0.0.1:$wport
"$V" admission serve --policies policies --tls-cert tls.crt --tls-key tls.key --listen "127.0.0.1:$wport" \
  --reports "$T/reports.db" > webhook.log 2>&1 &
wh_pid=$!
for _ in $(seq 100); do curl -s --cacert ca.crt -o /dev/null "$W/healthz" && break; sleep 0.1; done
curl -sf --cacert ca.crt "$W/healthz" > /dev/null || fail "webhook did not start: $(cat webhook.log)"

review() {  # review NAMESPACE NAME IMAGE ROOT(yes|no) > body
  python3 - "$@" <<'PY'
import json, sys, uuid
ns, name, image, root = sys.argv[1:5]
pod = {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": name, "namespace": ns, "uid": str(uuid.uuid4())},
       "spec": {"containers": [{"name": "app", "image": image,
                                "securityContext": {"runAsNonRoot": root == "no"}}]}}
print(json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
  "uid": str(uuid.uuid4()), "kind": {"group": "", "version": "v1", "kind": "Pod"},
  "resource": {"group": "", "version": "v1", "resource": "pods"},
  "name": name, "namespace": ns, "operation": "CREATE",
  "userInfo": {"username": "kubernetes-admin", "groups": ["system:masters"]},
  "object": pod, "oldObject": None, "dryRun": False}}))
PY
}
judge() {  # judge NAMESPACE NAME IMAGE ROOT > response (from the validating webhook)
  review "$@" > body.json
  curl -s --cacert ca.crt -H 'Content-Type: application/json' --data-binary @body.json "$W/validate/fail?timeout=10s"
}
field() {  # field EXPR < response   (EXPR over r = response)
  python3 -c "import json,sys; r=json.load(sys.stdin)['response']; print($1)"
}

# Deny: denied with Kyverno's message for a ValidatingPolicy.
out=$(judge prod root-prod nginx:1.27 yes)
[ "$(field 'r["allowed"]' <<<"$out")" = False ] || fail "Deny admitted: $out"
[ "$(field 'r["status"]["message"]' <<<"$out")" = "Policy deny-root failed: containers must set runAsNonRoot" ] ||
  fail "Deny message: $out"
[ "$(field 'r.get("warnings")' <<<"$out")" = None ] || fail "Deny also warned: $out"
out=$(judge prod nonroot-prod nginx:1.27 no)
[ "$(field 'r["allowed"]' <<<"$out")" = True ] || fail "a passing Pod denied: $out"

# Warn: admitted, with the same text as a warning.
out=$(judge staging root-staging nginx:1.27 yes)
[ "$(field 'r["allowed"]' <<<"$out")" = True ] || fail "Warn denied: $out"
[ "$(field 'r["warnings"]' <<<"$out")" = "['Policy warn-root failed: containers must set runAsNonRoot']" ] ||
  fail "Warn warning: $out"

# Audit: admitted without a word; only the report knows.
out=$(judge dev root-dev nginx:1.27 yes)
[ "$(field 'r["allowed"]' <<<"$out")" = True ] || fail "Audit denied: $out"
[ "$(field 'r.get("warnings")' <<<"$out")" = None ] || fail "Audit warned: $out"

# A ValidatingAdmissionPolicy with a Deny binding, its message from messageExpression.
out=$(judge dev latest-dev nginx:latest no)
[ "$(field 'r["allowed"]' <<<"$out")" = False ] || fail "VAP admitted: $out"
[ "$(field 'r["status"]["message"]' <<<"$out")" = \
  "ValidatingAdmissionPolicy 'no-latest' with binding 'no-latest-binding' denied request: image of latest-dev uses :latest" ] ||
  fail "VAP message: $out"
[ "$(field 'r["status"]["code"]' <<<"$out")" = 422 ] || fail "VAP code: $out"
[ "$(field 'r["status"]["reason"]' <<<"$out")" = Invalid ] || fail "VAP reason: $out"

# Reports: each kind under its Kyverno source; Audit's and Warn's fails are recorded.
kill -TERM "$wh_pid"; wait "$wh_pid" || fail "webhook exit $? after SIGTERM: $(tail -3 webhook.log)"
VOUCH_REPORTS=$T/reports.db "$V" report get -A -o json > reports.json || fail "report get"
python3 - reports.json <<'PY' || fail "reports: $(cat reports.json)"
import json, sys
d = json.load(open(sys.argv[1]))
got = {(r["resources"][0]["name"], r["policy"]): (r["result"], r["source"], r["properties"]["type"], r["message"])
       for i in d["items"] for r in i["results"]}
msg = "containers must set runAsNonRoot"
want = {
    ("root-dev", "audit-root"): ("fail", "KyvernoValidatingPolicy", "Validation", msg),
    ("root-staging", "warn-root"): ("fail", "KyvernoValidatingPolicy", "Validation", msg),
    ("root-prod", "deny-root"): ("fail", "KyvernoValidatingPolicy", "Validation", msg),
    ("nonroot-prod", "deny-root"): ("pass", "KyvernoValidatingPolicy", "Validation", ""),
    ("latest-dev", "no-latest"): ("fail", "ValidatingAdmissionPolicy", "Validation", "image of latest-dev uses :latest"),
}
for key, value in want.items():
    assert got.get(key) == value, (key, got.get(key), value)
# audit-root and warn-root match only their own namespaces.
assert ("root-prod", "audit-root") not in got and ("root-dev", "warn-root") not in got, got
PY

[ $fails -eq 0 ] && echo "PASS admission_cel" || { echo "admission_cel: $fails failure(s)"; exit 1; }
