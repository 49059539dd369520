#!/usr/bin/env bash
# The report store as users read it: `vouch admission scan` records a background scan of existing
# resources, `vouch report get` prints Kyverno's PolicyReports (the seeds' jq triage works on
# them), and `vouch rollout status|plan` walks the audit -> enforce ladder after three weeks of
# audit (simulated by moving the recorded history back in time).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/assert.sh"
vouch=${VOUCH_BIN:?VOUCH_BIN must point at the vouch binary}
command -v jq >/dev/null || { echo "FAIL: jq is missing"; exit 1; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
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

expect 2 "--days" -- "$vouch" rollout status --days 0 --reports reports.db
expect 2 "no such file" -- "$vouch" rollout plan -p missing.yaml --reports reports.db

[ "$fails" -eq 0 ] && echo "admission reports: all checks passed"
[ "$fails" -eq 0 ]
