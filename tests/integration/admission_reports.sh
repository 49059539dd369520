#!/usr/bin/env bash
# The report store as users read it: `vouch admission scan` records a background scan of existing
# resources, `vouch report get` prints Kyverno's PolicyReports (the seeds' jq triage works on
# them), and `vouch rollout status|plan` walks the audit -> enforce ladder after three weeks of
# audit (simulated by moving the recorded history back in time). Results keep the rule's
# reportProperties and a failure of an unscored policy is reported as warn, from a scan and from
# `vouch admission serve`; a store of the first schema opens.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/assert.sh"
vouch=${VOUCH_BIN:?VOUCH_BIN must point at the vouch binary}
for tool in jq openssl curl; do command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing"; exit 1; }; done
work=$(mktemp -d); wh_pid=
trap '[ -n "$wh_pid" ] && kill "$wh_pid" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
unset VOUCH_REPORTS

cat > policy.yaml <<'EOF'
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
---
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: admission-only
spec:
  background: false
  rules:
    - name: anything
      match:
        any:
          - resources:
              kinds: [Pod]
      validate:
        message: "never evaluated by a scan"
        deny: {}
EOF
pod() {  # pod NAMESPACE NAME IMAGE
  printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s","namespace":"%s","uid":"uid-%s"},"spec":{"containers":[{"name":"c","image":"%s"}]}}' "$2" "$1" "$2" "$3"
}
# As `kubectl get pods,deployments -A -o json` prints them.
cat > cluster.json <<EOF
{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"items":[
$(pod shop web nginx:latest),
$(pod shop api ghcr.io/example/api@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef),
$(pod dev tool busybox:latest),
{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"frontend","namespace":"shop","uid":"uid-frontend"},
 "spec":{"template":{"spec":{"containers":[{"name":"c","image":"nginx:latest"}]}}}}
]}
EOF

# Read commands never create a store.
expect 2 "report store reports.db: no such file" -- "$vouch" report get --reports reports.db
expect 2 "report store reports.db: no such file" -- "$vouch" rollout status --reports reports.db
[ -e reports.db ] && fail "report get created reports.db"
expect 2 "" -- "$vouch" report get -n shop -A --reports reports.db

out=$("$vouch" admission scan -p policy.yaml -r cluster.json --reports reports.db 2>scan.err) || fail "admission scan: $(cat scan.err)"
[[ "$out" == *"4 result(s) recorded"* ]] || fail "admission scan printed: $out"
grep -q "skipped policy admission-only: background: false" scan.err || fail "admission scan did not say it skipped the background: false policy: $(cat scan.err)"

# The seeds' triage, unchanged.
failing=$("$vouch" report get -A -o json --reports reports.db | jq -r '.items[].results[] | select(.result=="fail") | .resources[0].name' | sort | tr '\n' ' ')
[ "$failing" = "frontend tool web " ] || fail "failing resources: '$failing'"
VOUCH_REPORTS=reports.db "$vouch" report get > all.json || fail "report get with \$VOUCH_REPORTS"
summaries=$(jq -c '[.items[] | {kind, name: .metadata.name, ns: .metadata.namespace, fail: .summary.fail, pass: .summary.pass}]' all.json)
[ "$summaries" = '[{"kind":"PolicyReport","name":"polr-ns-dev","ns":"dev","fail":1,"pass":0},{"kind":"PolicyReport","name":"polr-ns-shop","ns":"shop","fail":2,"pass":1}]' ] \
  || fail "reports: $summaries"
jq -e '.kind == "List" and .apiVersion == "v1" and .items[0].apiVersion == "wgpolicyk8s.io/v1alpha2"' all.json >/dev/null || fail "not a v1 List of PolicyReports"
jq -e '[.items[].results[] | .properties.process == "background scan" and (.resources[0].uid | startswith("uid-"))] | all' all.json >/dev/null \
  || fail "results lack properties.process or the resource uid"
jq -e '.items[].metadata.labels["app.kubernetes.io/managed-by"] == "vouch"' all.json >/dev/null || fail "managed-by label"
rule=$(jq -r '[.items[].results[] | select(.resources[0].name=="frontend") | .rule][0]' all.json)
[ "$rule" = "autogen-no-latest-tag" ] || fail "the Deployment's result is from rule '$rule'"
# One namespace, in YAML: the same document.
"$vouch" report get -n shop -o yaml --reports reports.db > shop.yaml || fail "report get -n shop -o yaml"
"$vouch" report get -n shop -o json --reports reports.db > shop.json || fail "report get -n shop -o json"
python3 - shop.yaml shop.json <<'PY' || fail "the YAML report differs from the JSON one"
import json, sys, yaml
assert yaml.safe_load(open(sys.argv[1])) == json.load(open(sys.argv[2]))
PY
[ "$(jq '.items | length' shop.json)" = 1 ] || fail "-n shop printed $(jq '.items | length' shop.json) reports"

# Just installed: nothing is GO, for want of history.
"$vouch" rollout status -o json --reports reports.db > status.json || fail "rollout status"
[ "$(jq -r '.rules[0].namespaces[] | select(.namespace=="shop") | .reason' status.json)" = "2 fail results in 14 days (the last at $(jq -r '.rules[0].namespaces[0].lastFailure' status.json)); less than a day of reports (needs 14)" ] \
  || fail "shop's reason: $(jq -c '.rules[0].namespaces' status.json)"

# Three weeks of audit: the scan above happened 20 days ago; shop fixed its images since, dev did not.
python3 - reports.db <<'PY' || fail "moving the history back"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE admission_history SET recorded_at = recorded_at - 20 * 86400")
db.execute("UPDATE admission_rules SET first_recorded = first_recorded - 20 * 86400, last_recorded = last_recorded - 20 * 86400")
db.commit()
PY
cat > fixed.json <<EOF
{"apiVersion":"v1","kind":"List","items":[
$(pod shop web nginx:1.27.0),
$(pod dev tool busybox:latest),
{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"frontend","namespace":"shop","uid":"uid-frontend"},
 "spec":{"template":{"spec":{"containers":[{"name":"c","image":"nginx:1.27.0"}]}}}}
]}
EOF
"$vouch" admission scan -p policy.yaml -r fixed.json --reports reports.db >/dev/null 2>&1 || fail "second scan"
failing=$("$vouch" report get -A -o json --reports reports.db | jq -r '.items[].results[] | select(.result=="fail") | .resources[0].name')
[ "$failing" = "tool" ] || fail "after the fix, failing: '$failing'"

"$vouch" rollout status -o json --reports reports.db > status.json || fail "rollout status"
verdicts=$(jq -c '[.rules[] | {rule, stage, full: .fullEnforce.verdict, ns: [.namespaces[] | {namespace, verdict, fail: .results.fail}]}]' status.json)
[ "$verdicts" = '[{"rule":"no-latest-tag","stage":"audit","full":"NO-GO","ns":[{"namespace":"dev","verdict":"NO-GO","fail":1},{"namespace":"shop","verdict":"GO","fail":0}]}]' ] \
  || fail "verdicts: $verdicts"
table=$("$vouch" rollout status --reports reports.db) || fail "rollout status (table)"
grep -qE '^  shop +Audit +2 +0 +0 +GO +no fail or error result in 14 days$' <<<"$table" || fail "rollout status table: $table"
grep -q 'fail Pod/tool (1x' <<<"$table" || fail "the table does not name the failing pod: $table"
[ "$("$vouch" rollout status -n dev -o json --reports reports.db | jq -c '[.rules[].namespaces[].namespace]')" = '["dev"]' ] || fail "rollout status -n dev"
# A shorter window forgets dev's old history too: only the new failure counts.
[ "$("$vouch" rollout status --days 30 -o json --reports reports.db | jq -r '.rules[0].namespaces[] | select(.namespace=="shop") | .verdict')" = "NO-GO" ] \
  || fail "over 30 days, shop's failures of 20 days ago count"

# The plan: partial enforce in shop, dev stays in Audit.
"$vouch" rollout plan -p policy.yaml --reports reports.db > plan.yaml || fail "rollout plan"
grep -q '^# change: image-hygiene/no-latest-tag: Enforce in shop (validate.failureActionOverrides)$' plan.yaml || fail "plan comments: $(cat plan.yaml)"
[ "$(grep -c '^kind: ClusterPolicy' plan.yaml)" = 1 ] || fail "the plan should hold only the changed policy: $(cat plan.yaml)"
cat > probe.json <<EOF
{"apiVersion":"v1","kind":"List","items":[$(pod shop probe nginx:latest),$(pod dev probe nginx:latest)]}
EOF
"$vouch" policy apply -p plan.yaml -r probe.json -o json > applied.json 2>/dev/null
actions=$(jq -c '[.items[].results[] | {ns: .resources[0].namespace, action: .properties.failureAction}] | sort_by(.ns)' applied.json)
[ "$actions" = '[{"ns":"dev","action":"Audit"},{"ns":"shop","action":"Enforce"}]' ] || fail "the planned policy enforces: $actions"
"$vouch" rollout plan -p policy.yaml -o json --reports reports.db 2>plan.err > plan.json || fail "rollout plan -o json"
[ "$(jq -c '.items[0].spec.rules[0].validate.failureActionOverrides' plan.json)" = '[{"action":"Enforce","namespaces":["shop"]}]' ] \
  || fail "plan.json: $(cat plan.json)"
grep -q "change: image-hygiene/no-latest-tag" plan.err || fail "rollout plan -o json said nothing on stderr"
# Planned again on the applied plan: nothing left to change.
"$vouch" rollout plan -p plan.yaml -o json --reports reports.db 2>plan.err > again.json || fail "plan on the plan"
[ "$(jq '.items | length' again.json)" = 0 ] || fail "planning again changed: $(cat again.json)"
grep -q "nothing to change" plan.err || fail "no 'nothing to change' note: $(cat plan.err)"

# What Kyverno puts in a result besides its status: the rule's reportProperties, and for a policy
# annotated policies.kyverno.io/scored: "false" a failure reported as warn (scored: false).
cat > unscored.yaml <<'EOF'
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: advisory
  annotations:
    policies.kyverno.io/scored: "false"
spec:
  background: true
  rules:
    - name: no-latest-tag
      reportProperties:
        category: Best Practices
        severity: medium
      match:
        any:
          - resources:
              kinds: [Pod]
      validate:
        message: "Pin a version."
        pattern:
          spec:
            containers:
              - image: "!*:latest"
EOF
"$vouch" admission scan -p unscored.yaml -r cluster.json --reports advisory.db >/dev/null 2>&1 || fail "scan of the unscored policy"
"$vouch" report get -A -o json --reports advisory.db > advisory.json || fail "report get (advisory)"
got=$(jq -c '[.items[].results[] | {name: .resources[0].name, result, scored, category: .properties.category, severity: .properties.severity}] | sort_by(.name)' advisory.json)
[ "$got" = '[{"name":"api","result":"pass","scored":false,"category":"Best Practices","severity":"medium"},{"name":"frontend","result":"warn","scored":false,"category":"Best Practices","severity":"medium"},{"name":"tool","result":"warn","scored":false,"category":"Best Practices","severity":"medium"},{"name":"web","result":"warn","scored":false,"category":"Best Practices","severity":"medium"}]' ] \
  || fail "unscored results: $got"
[ "$(jq -c '[.items[] | {ns: .metadata.namespace, fail: .summary.fail, warn: .summary.warn}]' advisory.json)" = '[{"ns":"dev","fail":0,"warn":1},{"ns":"shop","fail":0,"warn":2}]' ] \
  || fail "unscored summaries: $(jq -c '[.items[].summary]' advisory.json)"

# The same through the webhook: `vouch admission serve` records the review's results, SIGTERM
# writes what is queued, and `vouch report get` shows the warning and the properties.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt -days 2 \
  -subj /CN=test-ca -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign >/dev/null 2>&1
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tls.key -out tls.csr -subj /CN=vouch-admission >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > ext.cnf
openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -extfile ext.cnf -out tls.crt >/dev/null 2>&1 ||
  fail "serving certificate"
mkdir served && cp unscored.yaml served/
wport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$vouch" admission serve --policies served --tls-cert tls.crt --tls-key tls.key --listen "127.0.0.1:$wport" \
  --reports served.db > webhook.log 2>&1 &
wh_pid=$!
for _ in $(seq 100); do curl -s --cacert ca.crt -o /dev/null "https://127.0.0.1:$wport/healthz" && break; sleep 0.1; done
python3 - > review.json <<'PY'
import json
pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "shop", "uid": "uid-web"},
       "spec": {"containers": [{"name": "c", "image": "nginx:latest"}]}}
print(json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
  "uid": "0b3f1c8e-5f4e-4d2a-9c1b-1f2e3d4c5b6a", "kind": {"group": "", "version": "v1", "kind": "Pod"},
  "resource": {"group": "", "version": "v1", "resource": "pods"}, "name": "web", "namespace": "shop",
  "operation": "CREATE", "userInfo": {"username": "kubernetes-admin", "groups": ["system:masters"]},
  "object": pod, "oldObject": None, "dryRun": False}}))
PY
allowed=$(curl -s --cacert ca.crt -H 'Content-Type: application/json' --data-binary @review.json \
  "https://127.0.0.1:$wport/validate/fail?timeout=10s" | jq -r '.response.allowed')
[ "$allowed" = true ] || fail "the webhook did not admit the Pod (audit): $allowed $(tail -3 webhook.log)"
kill -TERM "$wh_pid"; wait "$wh_pid" || fail "webhook exit $? after SIGTERM: $(tail -3 webhook.log)"
wh_pid=
got=$("$vouch" report get -n shop -o json --reports served.db |
  jq -c '[.items[].results[] | {result, scored, category: .properties.category, process: .properties.process}]')
[ "$got" = '[{"result":"warn","scored":false,"category":"Best Practices","process":"admission review"}]' ] \
  || fail "served results: $got"

# A store an earlier vouch wrote (schema version 1: no properties, no scored) opens and reads.
python3 - old.db <<'PY' || fail "writing a store of the first schema"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript("""
CREATE TABLE admission_latest (
  ns TEXT NOT NULL, kind TEXT NOT NULL, api_group TEXT NOT NULL, name TEXT NOT NULL,
  policy TEXT NOT NULL, rule TEXT NOT NULL,
  api_version TEXT NOT NULL, uid TEXT NOT NULL, origin_rule TEXT NOT NULL, autogen INTEGER NOT NULL,
  type TEXT NOT NULL, status TEXT NOT NULL, action TEXT NOT NULL, message TEXT NOT NULL, patches TEXT NOT NULL,
  process TEXT NOT NULL, recorded_at INTEGER NOT NULL,
  PRIMARY KEY (ns, kind, api_group, name, policy, rule)) WITHOUT ROWID;
CREATE TABLE admission_history (
  id INTEGER PRIMARY KEY,
  recorded_at INTEGER NOT NULL,
  ns TEXT NOT NULL, policy TEXT NOT NULL, rule TEXT NOT NULL, reported_rule TEXT NOT NULL,
  status TEXT NOT NULL, action TEXT NOT NULL,
  api_version TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, uid TEXT NOT NULL,
  process TEXT NOT NULL, message TEXT NOT NULL);
CREATE INDEX admission_history_time ON admission_history(recorded_at);
CREATE TABLE admission_rules (
  ns TEXT NOT NULL, policy TEXT NOT NULL, rule TEXT NOT NULL,
  first_recorded INTEGER NOT NULL, last_recorded INTEGER NOT NULL, action TEXT NOT NULL,
  PRIMARY KEY (ns, policy, rule)) WITHOUT ROWID;
INSERT INTO admission_latest VALUES ('shop', 'Pod', '', 'web', 'image-hygiene', 'no-latest-tag', 'v1', 'uid-web', '', 0,
  'Validation', 'fail', 'Audit', 'an old failure', '[]', 'admission review', 1700000000);
PRAGMA user_version = 1;
""")
db.commit()
PY
got=$("$vouch" report get -A -o json --reports old.db | jq -c '[.items[].results[] | {result, scored, message, keys: (.properties | keys)}]')
[ "$got" = '[{"result":"fail","scored":true,"message":"an old failure","keys":["failureAction","process","type"]}]' ] \
  || fail "the old store reads: $got"
[ "$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA user_version").fetchone()[0])' old.db)" = 2 ] \
  || fail "the old store was not migrated"

expect 2 "--days" -- "$vouch" rollout status --days 0 --reports reports.db
expect 2 "no such file" -- "$vouch" rollout plan -p missing.yaml --reports reports.db

[ "$fails" -eq 0 ] && echo "admission reports: all checks passed"
[ "$fails" -eq 0 ]
