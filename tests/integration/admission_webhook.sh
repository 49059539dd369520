#!/usr/bin/env bash
# The admission webhook for real: `vouch admission serve` over TLS (its certificate checked by
# the client), Kyverno-format verifyImages policies, images in a real docker-registry signed in
# both cosign layouts, attested and unsigned, and AdmissionReviews shaped as the API server sends
# them. Enforce denies with Kyverno's message, Audit admits with a warning and a fail report,
# tags are pinned by patch, one namespace enforces while others audit, /fail and /ignore differ
# when the registry is gone or too slow, 1,000 reviews of a new image verify it once, conditions
# are judged on cache hits, policy reloads lose no request, SIGTERM drains, bad bodies get
# 400/413/415/417.
set -uo pipefail
V=${VOUCH_BIN:?set VOUCH_BIN}
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/tests/lib/assert.sh"
source "$root/tests/lib/scratch.sh"
require_tools docker-registry umoci skopeo python3 curl openssl
[ -n "${KEEP:-}" ] && trap - EXIT
export DOCKER_CONFIG=$T/docker COSIGN_PASSWORD=pw
cd "$T"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_registry

umoci init --layout L
for name in signed classic unsigned fresh attested forged optional; do
  umoci new --image "L:$name"
  umoci unpack --rootless --image "L:$name" "b-$name" >/dev/null
  echo "$name" > "b-$name/rootfs/content"
  umoci repack --image "L:$name" "b-$name" >/dev/null
done
for name in signed classic unsigned fresh attested forged; do
  skopeo copy -q --dest-tls-verify=false "oci:L:$name" "docker://$REG/demo/$name:v1" || fail "push $name"
done
skopeo copy -q --dest-tls-verify=false "oci:L:optional" "docker://$REG/opt/optional:v1" || fail "push optional"

"$V" generate-key-pair >/dev/null 2>&1 || fail "generate-key-pair"
mkdir attacker && (cd attacker && "$V" generate-key-pair >/dev/null 2>&1) || fail "attacker key"
for name in signed fresh attested forged; do
  "$V" sign --key cosign.key "$REG/demo/$name:v1" >/dev/null 2>&1 || fail "sign $name"
done
"$V" sign --key cosign.key --new-bundle-format=false "$REG/demo/classic:v1" >/dev/null 2>&1 || fail "sign classic"
"$V" sign --key cosign.key "$REG/opt/optional:v1" >/dev/null 2>&1 || fail "sign optional"
printf '{"buildDefinition":{"buildType":"https://example.com/build@v1"},"runDetails":{"builder":{"id":"https://example.com/ci"}}}' > prov.json
"$V" attest --key cosign.key --type slsaprovenance1 --predicate prov.json "$REG/demo/attested:v1" >/dev/null 2>&1 || fail "attest"
# An attestation signed by someone else, on an image properly signed by us.
"$V" attest --key attacker/cosign.key --type slsaprovenance1 --predicate prov.json "$REG/demo/forged:v1" >/dev/null 2>&1 || fail "forged attest"
digest_of() { "$V" inspect -o json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["digest"])'; }
signed_digest=$(digest_of "$REG/demo/signed:v1")
classic_digest=$(digest_of "$REG/demo/classic:v1")

# A registry that accepts connections and never answers: the slow case.
slow_port=$(free_port)
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64); conns = []
while True:
    c, _ = s.accept(); conns.append(c)
' "$slow_port" > /dev/null 2>&1 &
slow_pid=$!
SLOW=127.0.0.1:$slow_port

# The serving certificate, from a throwaway CA, for 127.0.0.1.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt -days 2 \
  -subj /CN=test-ca -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign >/dev/null 2>&1
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tls.key -out tls.csr -subj /CN=vouch-admission >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > ext.cnf
openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -extfile ext.cnf -out tls.crt >/dev/null 2>&1 ||
  fail "serving certificate"

pubkey=$(sed 's/^/                      /' cosign.pub)
mkdir policies
key_policy() {  # NAME RULE PATTERNS SPEC-LINES…: a verifyImages ClusterPolicy with our key
  cat <<YAML
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: $1}
spec:
$(printf '  %s\n' "${@:4}")
  rules:
    - name: $2
      match: {any: [{resources: {kinds: [Pod]}}]}
      verifyImages:
        - imageReferences: $3
          attestors:
            - entries:
                - keys:
                    publicKeys: |-
$pubkey
                    rekor: {ignoreTlog: true}
YAML
}
# Audit everywhere, Enforce in prod: the seeds' partial-enforce stage.
key_policy verify-image-signature verify-cosign-signature "[\"$REG/demo/*\", \"$SLOW/demo/*\"]" \
  "validationFailureAction: Audit" "validationFailureActionOverrides: [{action: Enforce, namespaces: [prod]}]" \
  "webhookTimeoutSeconds: 10" > policies/verify.yaml
provenance_policy() {  # BUILD_TYPE
  cat <<YAML
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: require-provenance}
spec:
  validationFailureAction: Enforce
  rules:
    - name: built-by-our-ci
      match: {any: [{resources: {kinds: [Pod], namespaces: [prov]}}]}
      verifyImages:
        - imageReferences: ["$REG/demo/*"]
          attestations:
            - type: https://slsa.dev/provenance/v1
              attestors:
                - entries:
                    - keys:
                        publicKeys: |-
$(sed 's/^/                          /' cosign.pub)
                        rekor: {ignoreTlog: true}
              conditions:
                - all:
                    - key: "{{ buildDefinition.buildType }}"
                      operator: Equals
                      value: "$1"
YAML
}
provenance_policy https://example.com/build@v1 > policies/provenance.yaml
# failurePolicy Ignore: served on the /ignore paths.
key_policy optional-signature verify-optional "[\"$REG/opt/*\", \"$SLOW/opt/*\"]" \
  "validationFailureAction: Enforce" "failurePolicy: Ignore" > policies/optional.yaml
# A subresource rule: `kubectl exec` into Pods of namespace locked.
cat > policies/no-exec.yaml <<'YAML'
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: no-exec}
spec:
  validationFailureAction: Enforce
  rules:
    - name: deny-exec
      match: {any: [{resources: {kinds: [Pod/exec], namespaces: [locked], operations: [CONNECT]}}]}
      validate:
        message: "no {{ request.subResource }} into {{ request.name }}"
        deny: {conditions: {all: [{key: "{{ request.kind.kind }}", operator: Equals, value: PodExecOptions}]}}
YAML

wport=$(free_port)
W=https://127.0.0.1:$wport
"$V" admission serve --policies policies --tls-cert tls.crt --tls-key tls.key --listen "127.0.0.1:$wport" \
  --reports "$T/reports.db" --reload-interval 200ms --registry-timeout 20s --tag-cache-ttl 30m > webhook.log 2>&1 &
wh_pid=$!
for _ in $(seq 100); do curl -s --cacert ca.crt -o /dev/null "$W/healthz" && break; sleep 0.1; done
curl -sf --cacert ca.crt "$W/healthz" > /dev/null || fail "webhook did not start: $(cat webhook.log)"
# Plain HTTP is not served, and an unknown CA is refused by the client.
curl -s --max-time 5 "http://127.0.0.1:$wport/healthz" > /dev/null 2>&1 && fail "plain HTTP answered"
curl -s --max-time 5 "$W/healthz" > /dev/null 2>&1 && fail "the server certificate verified without its CA"

review() {  # review NAMESPACE NAME IMAGE [OPERATION [DRYRUN]] > body
  python3 - "$@" <<'PY'
import json, sys, uuid
ns, name, image = sys.argv[1:4]
op = sys.argv[4] if len(sys.argv) > 4 else "CREATE"
dry = len(sys.argv) > 5 and sys.argv[5] == "dry"
pod = {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": name, "namespace": ns, "uid": str(uuid.uuid4()), "labels": {"app": name}},
       "spec": {"containers": [{"name": "app", "image": image}]}}
print(json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
  "uid": str(uuid.uuid4()), "kind": {"group": "", "version": "v1", "kind": "Pod"},
  "resource": {"group": "", "version": "v1", "resource": "pods"},
  "requestKind": {"group": "", "version": "v1", "kind": "Pod"},
  "requestResource": {"group": "", "version": "v1", "resource": "pods"},
  "name": name, "namespace": ns, "operation": op,
  "userInfo": {"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]},
  "object": pod, "oldObject": pod if op == "UPDATE" else None, "dryRun": dry,
  "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}}}))
PY
}
post() {  # post PATH BODY_FILE > response
  curl -s --cacert ca.crt -H 'Content-Type: application/json' --data-binary "@$2" "$W$1"
}
field() {  # field EXPR < response   (EXPR over r = response)
  python3 -c "import json,sys,base64; r=json.load(sys.stdin)['response']; print($1)"
}

# Enforce (prod) denies the unsigned image with Kyverno's message.
review prod unsigned "$REG/demo/unsigned:v1" > r1.json
out=$(post "/mutate/fail?timeout=10s" r1.json)
[ "$(field 'r["allowed"]' <<<"$out")" = False ] || fail "unsigned in prod admitted: $out"
msg=$(field 'r["status"]["message"]' <<<"$out")
[[ $msg == *"resource Pod/prod/unsigned was blocked due to the following policies"* &&
   $msg == *"verify-image-signature:"* && $msg == *"verify-cosign-signature: 'failed to verify image $REG/demo/unsigned:v1"* ]] ||
  fail "deny message: $msg"
[ "$(field 'r["uid"]' <<<"$out")" = "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["request"]["uid"])' r1.json)" ] ||
  fail "uid not echoed"

# Audit (dev) admits with a warning; the report says fail.
review dev unsigned "$REG/demo/unsigned:v1" > r2.json
out=$(post "/mutate/fail?timeout=10s" r2.json)
[ "$(field 'r["allowed"]' <<<"$out")" = True ] || fail "unsigned in dev denied: $out"
[[ $(field 'r["warnings"][0]' <<<"$out") == "policy verify-image-signature.verify-cosign-signature: failed to verify image"* ]] ||
  fail "audit warning: $out"

# A signed tag is pinned to its digest by patch, both layouts, with Kyverno's annotation.
for case in "signed $signed_digest" "classic $classic_digest"; do
  set -- $case
  review prod "$1" "$REG/demo/$1:v1" > r3.json
  out=$(post "/mutate/fail?timeout=10s" r3.json)
  [ "$(field 'r["allowed"]' <<<"$out")" = True ] || fail "$1 denied: $out"
  [ "$(field 'r.get("patchType")' <<<"$out")" = JSONPatch ] || fail "$1: no patch: $out"
  patch=$(field 'base64.b64decode(r["patch"]).decode()' <<<"$out")
  python3 - "$patch" "$REG/demo/$1:v1@$2" <<'PY' || fail "$1 patch: $patch"
import json, sys
ops = json.loads(sys.argv[1]); want = sys.argv[2]
assert ops[0] == {"op": "replace", "path": "/spec/containers/0/image", "value": want}, ops
ann = [o for o in ops if o["path"] == "/metadata/annotations/kyverno.io~1verify-images"]
assert ann and json.loads(ann[0]["value"]) == {want: "pass"}, ops
PY
  # The pinned Pod passes the validating webhook too (from the cache).
  python3 - r3.json "$REG/demo/$1:v1@$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d["request"]["object"]["spec"]["containers"][0]["image"] = sys.argv[2]
json.dump(d, open(sys.argv[1], "w"))
PY
  out=$(post "/validate/fail?timeout=10s" r3.json)
  [ "$(field 'r["allowed"]' <<<"$out")" = True ] || fail "$1 pinned, validate: $out"
done

# Pod controllers (autogen rules): the tag is pinned inside the Pod template.
for kind in Deployment CronJob; do
  python3 - "$kind" "$REG/demo/signed:v1" > ctl.json <<'PY'
import json, sys
kind, image = sys.argv[1:3]
spec = {"containers": [{"name": "app", "image": image}]}
if kind == "Deployment":
    obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "prod"},
           "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}}, "spec": spec}}}
    group, resource = "apps", "deployments"
else:
    obj = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "web", "namespace": "prod"},
           "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": spec}}}}}
    group, resource = "batch", "cronjobs"
version = obj["apiVersion"].split("/")[1]
print(json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
  "uid": "c0ffee00-0000-4000-8000-00000000000" + str(len(kind) % 10), "kind": {"group": group, "version": version, "kind": kind},
  "resource": {"group": group, "version": version, "resource": resource}, "name": "web", "namespace": "prod",
  "operation": "CREATE", "userInfo": {"username": "kubernetes-admin"}, "object": obj, "dryRun": False}}))
PY
  out=$(post "/mutate/fail?timeout=10s" ctl.json)
  [ "$(field 'r["allowed"]' <<<"$out")" = True ] || fail "$kind denied: $out"
  first=$(field 'json.loads(base64.b64decode(r["patch"]))[0]' <<<"$out")
  case $kind in
    Deployment) want_path=/spec/template/spec/containers/0/image ;;
    CronJob) want_path=/spec/jobTemplate/spec/template/spec/containers/0/image ;;
  esac
  [[ $first == *"'path': '$want_path'"* && $first == *"$REG/demo/signed:v1@$signed_digest"* ]] || fail "$kind patch: $first"
done
# A dry run is judged but not reported.
review dev dryrun-pod "$REG/demo/unsigned:v1" CREATE dry > r4.json
out=$(post "/mutate/fail?timeout=10s" r4.json)
[ "$(field 'r["allowed"]' <<<"$out")" = True ] || fail "dry run: $out"

# Subresources as the API server sends them: `kubectl exec` is a CONNECT of pods/exec carrying
# PodExecOptions, matched by the rule of kind Pod/exec; a custom resource's subresource cannot be
# matched without discovery, an error that follows the failure policy.
subresource_review() {  # subresource_review GROUP RESOURCE SUBRESOURCE KIND-GROUP KIND NAMESPACE NAME OPERATION > body
  python3 - "$@" <<'PY'
import json, sys, uuid
group, resource, sub, kgroup, kind, ns, name, op = sys.argv[1:9]
api = (kgroup + "/v1") if kgroup else "v1"
obj = ({"apiVersion": "v1", "kind": "PodExecOptions", "stdin": True, "tty": True, "container": "app", "command": ["sh"]}
       if kind == "PodExecOptions" else
       {"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": ns, "uid": str(uuid.uuid4())}})
gvk = {"group": kgroup, "version": "v1", "kind": kind}
gvr = {"group": group, "version": "v1", "resource": resource}
print(json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
  "uid": str(uuid.uuid4()), "kind": gvk, "resource": gvr, "subResource": sub,
  "requestKind": gvk, "requestResource": gvr, "requestSubResource": sub,
  "name": name, "namespace": ns, "operation": op,
  "userInfo": {"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]},
  "object": obj, "oldObject": obj if op == "UPDATE" else None, "dryRun": False,
  "options": None}}))
PY
}
subresource_review "" pods exec "" PodExecOptions locked exec-target CONNECT > exec.json
out=$(post "/validate/fail?timeout=10s" exec.json)
[ "$(field 'r["allowed"]' <<<"$out")" = False ] || fail "pods/exec CONNECT admitted: $out"
[[ $(field 'r["status"]["message"]' <<<"$out") == *"deny-exec: no exec into exec-target"* ]] || fail "pods/exec message: $out"
subresource_review "" pods exec "" PodExecOptions dev exec-target CONNECT > exec-dev.json
out=$(post "/validate/fail?timeout=10s" exec-dev.json)
[ "$(field 'r["allowed"]' <<<"$out")" = True ] || fail "pods/exec outside the namespace denied: $out"
subresource_review example.com widgets status example.com Widget dev w1 UPDATE > widget.json
out=$(post "/validate/fail?timeout=10s" widget.json)
[ "$(field 'r["allowed"]' <<<"$out")" = False ] || fail "unknown subresource admitted on /fail: $out"
[[ $(field 'r["status"]["message"]' <<<"$out") == *"widgets.example.com is not a built-in Kubernetes resource"* ]] ||
  fail "unknown subresource message: $out"
out=$(post "/validate/ignore?timeout=10s" widget.json)
[ "$(field 'r["allowed"]' <<<"$out")" = True ] || fail "unknown subresource denied on /ignore: $out"
[[ $(field 'r["warnings"][0]' <<<"$out") == *"allowed because failurePolicy is Ignore"* ]] || fail "unknown subresource warning: $out"

# Attestation conditions hold on the first request and on cache hits; a forged attestation
# is refused, then refused again from the cache.
review prov attested "$REG/demo/attested:v1" > r5.json
out=$(post "/mutate/fail?timeout=10s" r5.json)
[ "$(field 'r["allowed"]' <<<"$out")" = True ] || fail "attested image denied: $out"
review prov forged "$REG/demo/forged:v1" > r6.json
for i in 1 2; do
  out=$(post "/mutate/fail?timeout=10s" r6.json)
  [ "$(field 'r["allowed"]' <<<"$out")" = False ] || fail "forged attestation admitted (request $i): $out"
done
metric() { curl -s --cacert ca.crt "$W/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
misses_before=$(metric vouch_admission_verify_cache_misses_total)
# The policy now wants another build type: the cached predicate is judged again and refused.
provenance_policy https://example.com/other@v1 > policies/provenance.yaml.new && mv policies/provenance.yaml.new policies/provenance.yaml
for _ in $(seq 50); do grep -q '"policies reloaded"' webhook.log && break; sleep 0.1; done
out=$(post "/mutate/fail?timeout=10s" r5.json)
[ "$(field 'r["allowed"]' <<<"$out")" = False ] || fail "changed condition not applied on a cache hit: $out"
[ "$(metric vouch_admission_verify_cache_misses_total)" = "$misses_before" ] || fail "the condition change caused a registry verification"
provenance_policy https://example.com/build@v1 > policies/provenance.yaml

# 1,000 reviews of a new image: one verification, one tag lookup.
misses_before=$(metric vouch_admission_verify_cache_misses_total)
tags_before=$(metric vouch_admission_tag_cache_misses_total)
review prod fresh "$REG/demo/fresh:v1" > fresh.json
python3 - "$W/mutate/fail?timeout=10s" fresh.json ca.crt <<'PY' || fail "1,000 concurrent reviews"
import json, ssl, sys, http.client, urllib.parse
from concurrent.futures import ThreadPoolExecutor
url, body, ca = urllib.parse.urlparse(sys.argv[1]), open(sys.argv[2], "rb").read(), sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
def worker(n):
    c = http.client.HTTPSConnection(url.hostname, url.port, context=ctx, timeout=30)
    ok = 0
    for _ in range(n):
        c.request("POST", url.path + "?" + url.query, body, {"Content-Type": "application/json"})
        r = c.getresponse(); data = r.read()
        ok += r.status == 200 and json.loads(data)["response"]["allowed"] is True
    return ok
with ThreadPoolExecutor(40) as ex:
    total = sum(ex.map(worker, [25] * 40))
assert total == 1000, total
PY
[ $(( $(metric vouch_admission_verify_cache_misses_total) - misses_before )) -eq 1 ] ||
  fail "1,000 reviews of one image: $(( $(metric vouch_admission_verify_cache_misses_total) - misses_before )) verifications"
[ $(( $(metric vouch_admission_tag_cache_misses_total) - tags_before )) -eq 1 ] || fail "1,000 reviews: more than one tag lookup"

# A policy reload under load loses no request.
python3 - "$W/validate/fail?timeout=10s" fresh.json ca.crt policies <<'PY' || fail "reload under load"
import json, os, ssl, sys, threading, http.client, urllib.parse, time
url, body, ca, pol = urllib.parse.urlparse(sys.argv[1]), open(sys.argv[2], "rb").read(), sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)
stop, bad, count = False, [], [0]
def flip():
    i = 0
    while not stop:
        path = os.path.join(pol, "extra.yaml")
        with open(path + ".tmp", "w") as f:
            f.write("apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: extra}\nspec:\n  rules:\n"
                    "    - name: r%d\n      match: {any: [{resources: {kinds: [ConfigMap]}}]}\n"
                    "      validate: {message: m, pattern: {data: {k: v}}}\n" % i)
        os.replace(path + ".tmp", path); i += 1; time.sleep(0.05)
def load():
    c = http.client.HTTPSConnection(url.hostname, url.port, context=ctx, timeout=30)
    for _ in range(100):
        c.request("POST", url.path + "?" + url.query, body, {"Content-Type": "application/json"})
        r = c.getresponse(); data = r.read()
        if r.status != 200 or json.loads(data)["response"]["allowed"] is not True: bad.append((r.status, data[:200]))
        count[0] += 1
t = threading.Thread(target=flip); t.start()
ws = [threading.Thread(target=load) for _ in range(8)]
[w.start() for w in ws]; [w.join() for w in ws]
stop = True; t.join(); os.remove(os.path.join(pol, "extra.yaml"))
assert not bad and count[0] == 800, (count[0], bad[:3])
PY
grep -q '"policies reloaded"' webhook.log || fail "no reload logged"

# A broken policy file: reported, the last good set keeps serving.
printf 'apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: broken}\nspec: {rules: [{name: r, bogus: 1}]}\n' > policies/broken.yaml
for _ in $(seq 50); do curl -s --cacert ca.crt "$W/readyz" | grep -q policyError && break; sleep 0.1; done
ready=$(curl -s --cacert ca.crt -w ' %{http_code}' "$W/readyz")
[[ $ready == *'"policyError":'*broken.yaml*' 200' ]] || fail "readyz after a broken file: $ready"
out=$(post "/mutate/fail?timeout=10s" r1.json)
[ "$(field 'r["allowed"]' <<<"$out")" = False ] || fail "the last good set stopped serving: $out"
[ "$(metric vouch_admission_policy_reload_error)" = 1 ] || fail "reload error metric"
rm policies/broken.yaml

# Bad bodies: Kyverno's statuses, one-line messages.
status_of() { curl -s --cacert ca.crt -o /dev/null -w '%{http_code}' -H "Content-Type: ${2:-application/json}" --data-binary "@$1" "$W/validate/fail"; }
printf '{"not json' > bad1; [ "$(status_of bad1)" = 417 ] || fail "undecodable body: $(status_of bad1)"
printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}' > bad2; [ "$(status_of bad2)" = 400 ] || fail "no request"
[ "$(status_of r1.json text/plain)" = 415 ] || fail "wrong content type"
python3 -c 'print("{\"a\":" * 500 + "1" + "}" * 500)' > bad3; [ "$(status_of bad3)" = 400 ] || fail "deep nesting: $(status_of bad3)"
head -c $((3 * 1024 * 1024 + 100000)) /dev/zero | tr '\0' ' ' > bad4; [ "$(status_of bad4)" = 413 ] || fail "oversized: $(status_of bad4)"

# A slow registry: the answer comes before the API server's deadline, as failurePolicy says.
review prod slow "$SLOW/demo/app:v1" > slow1.json
# Timed from the TLS connection being up to the answer, as the API server's clock runs on its
# kept-alive connection.
out=$(curl -s --cacert ca.crt -H 'Content-Type: application/json' --data-binary @slow1.json \
  -w '\n%{time_appconnect} %{time_total}' "$W/mutate/fail?timeout=2s")
ms=$(tail -1 <<<"$out" | awk '{printf "%d", ($2 - $1) * 1000}')
out=$(head -n -1 <<<"$out")
[ "$(field 'r["allowed"]' <<<"$out")" = False ] || fail "slow registry on /fail admitted: $out"
[[ $(field 'r["status"]["message"]' <<<"$out") == *"did not finish within the webhook timeout"* ]] || fail "slow /fail message: $out"
[ "$ms" -lt 2000 ] || fail "slow registry: answered after ${ms} ms, past the 2 s deadline"
review prod slow "$SLOW/opt/app:v1" > slow2.json
out=$(post "/mutate/ignore?timeout=2s" slow2.json)
[ "$(field 'r["allowed"]' <<<"$out")" = True ] || fail "slow registry on /ignore denied: $out"
[[ $(field 'r["warnings"][0]' <<<"$out") == *"allowed because failurePolicy is Ignore"* ]] || fail "slow /ignore warning: $out"

# The registry stopped: a new image is an error, denied on /fail, admitted with a warning on
# /ignore; images verified before still pass from the cache (the tag's digest is kept for
# --tag-cache-ttl, set above so that a slow run does not outlive it).
kill "$reg_pid"; wait "$reg_pid" 2>/dev/null; reg_pid=
review prod gone "$REG/demo/gone:v1" > gone1.json
out=$(post "/mutate/fail?timeout=10s" gone1.json)
[ "$(field 'r["allowed"]' <<<"$out")" = False ] || fail "registry stopped, /fail admitted: $out"
review prod gone "$REG/opt/gone:v1" > gone2.json
out=$(post "/mutate/ignore?timeout=10s" gone2.json)
[ "$(field 'r["allowed"]' <<<"$out")" = True ] || fail "registry stopped, /ignore denied: $out"
[ -n "$(field 'r.get("warnings")' <<<"$out")" ] || fail "registry stopped, /ignore without a warning"
out=$(post "/mutate/fail?timeout=10s" fresh.json)
[ "$(field 'r["allowed"]' <<<"$out")" = True ] || fail "cached image denied while the registry is down: $out"

# Reports: the seeds' triage works on `vouch report get`.
sleep 0.5
names=$(VOUCH_REPORTS=$T/reports.db "$V" report get -A -o json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join(sorted({r["resources"][0]["name"] for i in d["items"] for r in i["results"] if r["result"] == "fail"})))')
[[ " $names " == *" unsigned "* ]] || fail "report get: fail results for: '$names'"
[[ " $names " == *" dryrun-pod "* ]] && fail "a dry run was reported"
exec_kind=$(VOUCH_REPORTS=$T/reports.db "$V" report get -A -o json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join(sorted({r["resources"][0]["kind"] for i in d["items"] for r in i["results"] if r["policy"] == "no-exec"})))')
[ "$exec_kind" = Pod ] || fail "the pods/exec result is not reported against its Pod: '$exec_kind'"

# SIGTERM drains: a request in flight still gets its answer, then the server exits 0.
post "/mutate/fail?timeout=3s" slow1.json > drained.json &
curl_pid=$!
sleep 0.5
kill -TERM "$wh_pid"
wait "$curl_pid"
[ "$(field 'r["allowed"]' < drained.json)" = False ] || fail "in-flight request not answered at SIGTERM: $(cat drained.json)"
wait "$wh_pid"; rc=$?
[ $rc -eq 0 ] || fail "webhook exit $rc after SIGTERM: $(tail -3 webhook.log)"
kill "$slow_pid" 2>/dev/null

[ $fails -eq 0 ] && echo "PASS admission_webhook" || { echo "admission_webhook: $fails failure(s)"; exit 1; }
