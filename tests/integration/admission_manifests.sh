#!/usr/bin/env bash
# vouch admission manifests against real readers: the YAML stream parsed by PyYAML (YAML 1.1, as
# kubectl's reader), every object checked for what the API server's validation refuses (names,
# selectors matching the pod template, probe and Service ports, volumes, webhook paths, side
# effects, timeouts, rules), the serving certificate checked with the openssl CLI (chain,
# serverAuth, the service's DNS names, the key), --tls-dir reuse and refusals, --no-secret
# output without any private key, -o json, and deploy/vouch-admission.yaml kept current.
# (No Kubernetes OpenAPI schema is among the shared test data, so the checks are written here.)
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/assert.sh"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
vouch=${VOUCH_BIN:?VOUCH_BIN must point at the vouch binary}
python3 -c 'import yaml' 2>/dev/null || { echo "FAIL: python3 has no yaml module (python3-yaml)"; exit 1; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
policies=$root/examples/policies

# ---- a full install: Secret included, certificate kept in tls/
"$vouch" admission manifests --policies "$policies" --tls-dir tls > full.yaml 2> err.txt \
  || fail "manifests --tls-dir: exit $?: $(cat err.txt)"
[ -s err.txt ] && fail "manifests printed on stderr: $(cat err.txt)"
for f in ca.crt tls.crt tls.key; do [ -f "tls/$f" ] || fail "tls/$f was not written"; done
[ "$(stat -c %a tls/tls.key)" = 600 ] || fail "tls.key has mode $(stat -c %a tls/tls.key), want 600"
[ "$(stat -c %a tls)" = 700 ] || fail "tls/ has mode $(stat -c %a tls), want 700"

# The manifests as the API server would take them. Prints one line per problem.
check_objects() {  # check_objects FILE NAMESPACE WANT_SECRET(yes|no) CA_FILE
  python3 - "$@" <<'PY'
import base64, os, re, sys, yaml
path, ns, want_secret, ca_file = sys.argv[1:5]
tls_dir = os.path.dirname(ca_file)
docs = [d for d in yaml.safe_load_all(open(path)) if d is not None]
problems = []
def bad(msg): problems.append(msg)
dns1123_label = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')
dns1123_sub = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')
qualified = re.compile(r'^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$')
namespaced = {"ServiceAccount", "ConfigMap", "Secret", "Service", "Deployment", "PodDisruptionBudget"}
by_kind = {}
for d in docs:
    kind = d.get("kind")
    if not d.get("apiVersion") or not kind: bad(f"object without apiVersion or kind: {d}"); continue
    by_kind.setdefault(kind, []).append(d)
    meta = d.get("metadata") or {}
    name = meta.get("name", "")
    if not dns1123_sub.match(name) or len(name) > 253: bad(f"{kind}: bad name {name!r}")
    if kind in namespaced and meta.get("namespace") != ns: bad(f"{kind} {name}: namespace {meta.get('namespace')!r}")
    if kind not in namespaced and "namespace" in meta: bad(f"{kind} {name}: cluster-scoped with a namespace")
    for k, v in (meta.get("labels") or {}).items():
        if not qualified.match(k) or not isinstance(v, str) or len(v) > 63: bad(f"{kind} {name}: label {k}={v!r}")
want = ["Namespace", "ServiceAccount", "ConfigMap"] + (["Secret"] if want_secret == "yes" else []) + \
       ["Service", "Deployment", "PodDisruptionBudget", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"]
got = [d["kind"] for d in docs]
if got != want: bad(f"objects {got}, want {want}")
text = open(path).read()
if want_secret == "no" and "PRIVATE KEY" in text: bad("a private key in the output")
if want_secret == "no" and "LS0tLS1CRUdJTiBQUklWQVRF" in text: bad("a base64 private key in the output")

sa = by_kind["ServiceAccount"][0]
if sa.get("automountServiceAccountToken") is not False: bad("ServiceAccount mounts a token")
for k in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"):
    if k in by_kind: bad(f"{k} granted")
cm = by_kind["ConfigMap"][0]
for key, value in cm["data"].items():
    if not re.match(r'^[-._a-zA-Z0-9]+$', key): bad(f"ConfigMap key {key!r}")
    if not isinstance(value, str): bad(f"ConfigMap {key}: not a string")
    if "ClusterPolicy" not in value: bad(f"ConfigMap {key}: holds no ClusterPolicy")
if want_secret == "yes":
    s = by_kind["Secret"][0]
    if s.get("type") != "kubernetes.io/tls": bad(f"Secret type {s.get('type')}")
    for key in ("tls.crt", "tls.key", "ca.crt"):
        file = os.path.join(tls_dir, key)
        if base64.b64decode(s["data"][key]).decode() != open(file).read(): bad(f"Secret {key} is not {file}")

dep = by_kind["Deployment"][0]
spec = dep["spec"]; tpl = spec["template"]; pod = tpl["spec"]
if spec["replicas"] != 3: bad(f"replicas {spec['replicas']}")
for k, v in spec["selector"]["matchLabels"].items():
    if tpl["metadata"]["labels"].get(k) != v: bad(f"Deployment selector {k}={v} does not match its template")
c = pod["containers"][0]
ports = {p["name"]: p["containerPort"] for p in c["ports"]}
for p in ports:
    if len(p) > 15 or not dns1123_label.match(p): bad(f"port name {p!r}")
for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
    g = c[probe]["httpGet"]
    if g["path"] != path or g["scheme"] != "HTTPS" or g["port"] not in ports: bad(f"{probe}: {g}")
vols = {v["name"]: v for v in pod["volumes"]}
for m in c["volumeMounts"]:
    if m["name"] not in vols: bad(f"mount {m['name']} has no volume")
if vols["policies"]["configMap"]["name"] != cm["metadata"]["name"]: bad("policies volume names another ConfigMap")
if vols["tls"]["secret"]["secretName"] != "vouch-admission-tls": bad("tls volume names another Secret")
if "emptyDir" not in vols["data"]: bad("data volume is not an emptyDir")
args = c["command"] + c["args"]
if args[:3] != ["vouch", "admission", "serve"]: bad(f"command {args}")
for flag, value in (("--policies", "/etc/vouch/policies"), ("--tls-cert", "/etc/vouch/tls/tls.crt"),
                    ("--tls-key", "/etc/vouch/tls/tls.key"), ("--listen", "0.0.0.0:9443"),
                    ("--reports", "/var/lib/vouch/reports.db")):
    if flag not in args or args[args.index(flag) + 1] != value: bad(f"{flag} is not {value}")
mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
for path in ("/etc/vouch/policies", "/etc/vouch/tls", "/var/lib/vouch"):
    if path not in mounts: bad(f"nothing mounted at {path}")
sc = c["securityContext"]
if not (sc.get("runAsNonRoot") and sc.get("readOnlyRootFilesystem") and sc.get("allowPrivilegeEscalation") is False
        and sc["capabilities"]["drop"] == ["ALL"] and sc["seccompProfile"]["type"] == "RuntimeDefault"):
    bad(f"container securityContext not restricted: {sc}")
if "memory" not in c["resources"]["limits"] or "cpu" not in c["resources"]["requests"]: bad("resources")
aff = pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]["podAffinityTerm"]
if aff["topologyKey"] != "kubernetes.io/hostname": bad("anti-affinity topology")
if "priorityClassName" in pod: bad("priorityClassName set")
svc = by_kind["Service"][0]["spec"]
if svc["ports"][0]["port"] != 443 or svc["ports"][0]["targetPort"] not in ports: bad(f"Service ports {svc['ports']}")
if svc["selector"] != spec["selector"]["matchLabels"]: bad("Service selects other pods")
pdb = by_kind["PodDisruptionBudget"][0]["spec"]
if pdb.get("maxUnavailable") != 1 or pdb["selector"]["matchLabels"] != spec["selector"]["matchLabels"]: bad(f"PDB {pdb}")

ca = open(ca_file).read()
names = []
for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
    for w in by_kind[kind][0]["webhooks"]:
        names.append(w["name"])
        if len(w["name"].split(".")) < 3 or not dns1123_sub.match(w["name"]): bad(f"webhook name {w['name']}")
        svcref = w["clientConfig"]["service"]
        if (svcref["name"], svcref["namespace"], svcref["port"]) != ("vouch-admission", ns, 443): bad(f"{w['name']}: {svcref}")
        segs = svcref["path"].lstrip("/").split("/")
        if not all(dns1123_sub.match(s) for s in segs): bad(f"{w['name']}: path {svcref['path']} is not valid")
        kind_word = "validate" if kind.startswith("Validating") else "mutate"
        fp = w["name"].rsplit("-", 1)[1]
        if svcref["path"] != f"/{kind_word}/{fp}" or w["failurePolicy"] != fp.capitalize(): bad(f"{w['name']}: {svcref['path']} {w['failurePolicy']}")
        if base64.b64decode(w["clientConfig"]["caBundle"]).decode() != ca: bad(f"{w['name']}: caBundle is not {ca_file}")
        if w["sideEffects"] not in ("None", "NoneOnDryRun"): bad(f"{w['name']}: sideEffects {w['sideEffects']}")
        if not 1 <= w["timeoutSeconds"] <= 30: bad(f"{w['name']}: timeout {w['timeoutSeconds']}")
        if w["admissionReviewVersions"] != ["v1"] or w["matchPolicy"] != "Equivalent": bad(f"{w['name']}: versions/matchPolicy")
        if (kind_word == "mutate") != ("reinvocationPolicy" in w): bad(f"{w['name']}: reinvocationPolicy")
        expr = w["namespaceSelector"]["matchExpressions"][0]
        if expr != {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": [ns, "kube-system"]}: bad(f"{w['name']}: {expr}")
        for r in w["rules"]:
            if not set(r["operations"]) <= {"CREATE", "UPDATE", "DELETE", "CONNECT"} or r["scope"] not in ("*", "Namespaced", "Cluster"):
                bad(f"{w['name']}: rule {r}")
        resources = {(r["apiGroups"][0], res) for r in w["rules"] for res in r["resources"]}
        for gr in (("", "pods"), ("apps", "deployments"), ("batch", "cronjobs")):
            if gr not in resources: bad(f"{w['name']}: no rule for {gr}")
# require-signed-images (verifyImages, Fail) and restrict-registries (validate, Fail): -fail webhooks only.
if sorted(names) != ["mutate.vouch.svc-fail", "validate.vouch.svc-fail"]: bad(f"webhooks {names}")
print("\n".join(problems))
PY
}
problems=$(check_objects full.yaml vouch yes tls/ca.crt) || fail "check_objects crashed"
[ -z "$problems" ] || fail "full.yaml: $problems"
timeouts=$(python3 -c 'import sys,yaml; print(" ".join(str(w["timeoutSeconds"]) for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"].endswith("WebhookConfiguration") for w in d["webhooks"]))' full.yaml)
[ "$timeouts" = "30 30" ] || fail "webhook timeouts '$timeouts', want 30 (require-signed-images' webhookTimeoutSeconds) on both"

# ---- the serving certificate, as openssl sees it
out=$(openssl verify -x509_strict -purpose sslserver -CAfile tls/ca.crt tls/tls.crt 2>&1) || fail "openssl verify: $out"
for host in vouch-admission.vouch.svc vouch-admission.vouch.svc.cluster.local; do
  out=$(openssl verify -purpose sslserver -verify_hostname "$host" -CAfile tls/ca.crt tls/tls.crt 2>&1) \
    || fail "tls.crt does not verify for $host: $out"
done
out=$(openssl verify -verify_hostname vouch-admission.other.svc -CAfile tls/ca.crt tls/tls.crt 2>&1) \
  && fail "tls.crt verifies for another namespace's service"
sans=$(openssl x509 -in tls/tls.crt -noout -ext subjectAltName 2>&1)
[[ $sans == *"DNS:vouch-admission.vouch.svc, DNS:vouch-admission.vouch.svc.cluster.local"* ]] || fail "SANs: $sans"
text=$(openssl x509 -in tls/tls.crt -noout -text)
[[ $text == *"TLS Web Server Authentication"* ]] || fail "no serverAuth EKU: $text"
[[ $text == *"id-ecPublicKey"*"prime256v1"* ]] || fail "not a P-256 key: $text"
days=$(( ($(date -d "$(openssl x509 -in tls/tls.crt -noout -enddate | cut -d= -f2)" +%s) - $(date +%s)) / 86400 ))
[ "$days" -ge 364 ] && [ "$days" -le 366 ] || fail "tls.crt lasts $days days, want a year"
ca_text=$(openssl x509 -in tls/ca.crt -noout -text)
[[ $ca_text == *"CA:TRUE, pathlen:0"* ]] || fail "ca.crt is not a CA with path length 0: $ca_text"
ca_days=$(( ($(date -d "$(openssl x509 -in tls/ca.crt -noout -enddate | cut -d= -f2)" +%s) - $(date +%s)) / 86400 ))
[ "$ca_days" -ge 3640 ] || fail "ca.crt lasts $ca_days days, want ten years"
[ "$(openssl x509 -in tls/tls.crt -noout -pubkey)" = "$(openssl pkey -in tls/tls.key -pubout)" ] \
  || fail "tls.key is not the key of tls.crt"

# ---- --tls-dir again: the same certificate, the same caBundle
cp tls/tls.crt first.crt
"$vouch" admission manifests --policies "$policies" --tls-dir tls > again.yaml 2> err.txt || fail "rerun: $(cat err.txt)"
cmp -s first.crt tls/tls.crt || fail "the rerun replaced tls.crt"
cmp -s full.yaml again.yaml || fail "the rerun printed other manifests: $(diff full.yaml again.yaml | head -5)"

# ---- refusals: one line, exit 2
mkdir partial && cp tls/ca.crt tls/tls.crt partial/
expect 2 "--tls-dir partial: has ca.crt, tls.crt but not tls.key" -- "$vouch" admission manifests --policies "$policies" --tls-dir partial
mkdir other && cp tls/* other/
expect 2 "tls.crt does not name vouch-admission.shop.svc" -- "$vouch" admission manifests --policies "$policies" --tls-dir other --namespace shop
# A certificate with 10 days to go, made by openssl itself.
mkdir expiring
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout expiring/ca.key -out expiring/ca.crt \
  -days 3650 -subj /CN=ca -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout expiring/tls.key -out expiring/tls.csr \
  -subj /CN=vouch-admission.vouch.svc 2>/dev/null
printf 'subjectAltName=DNS:vouch-admission.vouch.svc,DNS:vouch-admission.vouch.svc.cluster.local\nextendedKeyUsage=serverAuth\n' > expiring/ext
openssl x509 -req -in expiring/tls.csr -CA expiring/ca.crt -CAkey expiring/ca.key -CAcreateserial -days 10 \
  -extfile expiring/ext -out expiring/tls.crt 2>/dev/null
expect 2 "within 30 days" -- "$vouch" admission manifests --policies "$policies" --tls-dir expiring
# The same, valid for a year: openssl's certificate is taken as it is.
openssl x509 -req -in expiring/tls.csr -CA expiring/ca.crt -CAkey expiring/ca.key -CAcreateserial -days 365 \
  -extfile expiring/ext -out expiring/tls.crt 2>/dev/null
"$vouch" admission manifests --policies "$policies" --tls-dir expiring > own.yaml 2> err.txt || fail "an openssl-made certificate: $(cat err.txt)"
problems=$(check_objects own.yaml vouch yes expiring/ca.crt) && [ -z "$problems" ] || fail "own.yaml: $problems"
expect 2 "--no-secret needs --ca-file" -- "$vouch" admission manifests --policies "$policies" --no-secret
expect 2 "namespace 'kube-system': install the webhook in a namespace of its own" -- "$vouch" admission manifests --policies "$policies" --namespace kube-system
expect 2 "is not a CA" -- "$vouch" admission manifests --policies "$policies" --no-secret --ca-file tls/tls.crt
cat > widget.yaml <<'EOF'
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: no-widgets
spec:
  rules:
    - name: check
      match:
        any:
          - resources:
              kinds: [Widget]
      validate:
        message: widgets are not allowed
        deny: {}
EOF
expect 2 "widget.yaml: ClusterPolicy no-widgets: rule check: match.any[0].resources.kinds: unknown kind 'Widget'" \
  -- "$vouch" admission manifests --policies widget.yaml
echo 'kind: ConfigMap' > not-a-policy.yaml
expect 2 "not-a-policy.yaml: holds no ClusterPolicy or Policy" -- "$vouch" admission manifests --policies not-a-policy.yaml

# ---- --no-secret: no private key anywhere in the output; the caBundle from --ca-file
"$vouch" admission manifests --policies "$policies" --no-secret --ca-file tls/ca.crt --namespace supply-chain \
  > nosecret.yaml 2> err.txt || fail "--no-secret: $(cat err.txt)"
grep -q "kubectl -n supply-chain create secret tls vouch-admission-tls --cert=tls.crt --key=tls.key" err.txt \
  || fail "--no-secret does not say how to make the Secret: $(cat err.txt)"
problems=$(check_objects nosecret.yaml supply-chain no tls/ca.crt) && [ -z "$problems" ] || fail "nosecret.yaml: $problems"

# ---- -o json: a v1 List of the same objects
"$vouch" admission manifests --policies "$policies" --tls-dir tls -o json > list.json 2> err.txt || fail "-o json: $(cat err.txt)"
python3 - list.json full.yaml <<'PY' || fail "-o json differs from the YAML"
import json, sys, yaml
lst = json.load(open(sys.argv[1]))
docs = [d for d in yaml.safe_load_all(open(sys.argv[2])) if d is not None]
assert lst["apiVersion"] == "v1" and lst["kind"] == "List", lst.keys()
assert lst["items"] == docs, "items differ"
PY

# ---- deploy/vouch-admission.yaml is what the command prints today (caBundle aside: its CA is thrown away)
normalize() { sed -n '/^---$/,$p' "$1" | sed -E 's/^( *caBundle:) .*/\1 CA/'; }
"$vouch" admission manifests --policies "$root/examples/policies/require-signed-images.yaml" --no-secret \
  --ca-file tls/ca.crt > deploy.yaml 2>/dev/null || fail "the deploy/ example cannot be made"
diff <(normalize "$root/deploy/vouch-admission.yaml") <(normalize deploy.yaml) > deploy.diff \
  || fail "deploy/vouch-admission.yaml is out of date (regenerate it as deploy/README.md says): $(head -20 deploy.diff)"
grep -q "PRIVATE KEY" "$root/deploy/vouch-admission.yaml" && fail "deploy/vouch-admission.yaml holds a private key"

[ "$fails" -eq 0 ] && echo "admission_manifests: all checks passed"
[ "$fails" -eq 0 ]
