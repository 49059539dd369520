// Sends AdmissionReviews of Pods to a running `vouch admission serve` (its /validate/fail path),
// as the API server would, over HTTPS with keep-alive and a few requests in flight, and checks
// every answer is an admission review that allows the Pod (the policies audit).
//   node fill_reports.js URL CA_FILE SPEC.json
// SPEC: {"pods": [{"namespace", "name", "image", "labels"?}], "bulk": {"namespace", "count"}}
// Bulk Pods are named load-00000…; every 50th runs a :latest image, every 7th has no app label.
'use strict';
const fs = require('fs');
const https = require('https');
const crypto = require('crypto');

const [url, caFile, specFile] = process.argv.slice(2);
const spec = JSON.parse(fs.readFileSync(specFile, 'utf8'));
const agent = new https.Agent({ keepAlive: true, maxSockets: 8, ca: fs.readFileSync(caFile) });

const pods = [...(spec.pods || [])];
if (spec.bulk) {
  for (let i = 0; i < spec.bulk.count; i++) {
    const name = 'load-' + String(i).padStart(5, '0');
    pods.push({
      namespace: spec.bulk.namespace, name,
      image: `registry.example/load/app:${i % 50 === 0 ? 'latest' : '1.' + (i % 10)}`,
      labels: i % 7 === 0 ? {} : { app: name },
    });
  }
}

function review(p) {
  const pod = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: p.name, namespace: p.namespace, uid: crypto.randomUUID(), labels: p.labels || { app: p.name } },
    spec: { containers: [{ name: 'app', image: p.image }] },
  };
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: {
      uid: crypto.randomUUID(), kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      requestResource: { group: '', version: 'v1', resource: 'pods' },
      name: p.name, namespace: p.namespace, operation: 'CREATE',
      userInfo: { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] },
      object: pod, oldObject: null, dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    },
  });
}

function post(body) {
  return new Promise((resolve, reject) => {
    const req = https.request(url + '/validate/fail?timeout=10s', {
      method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
    }, res => {
      let data = '';
      res.on('data', c => { data += c; });
      res.on('end', () => resolve({ status: res.statusCode, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

(async () => {
  let next = 0, denied = 0;
  const worker = async () => {
    while (next < pods.length) {
      const p = pods[next++];
      const r = await post(review(p));
      if (r.status !== 200) throw new Error(`${p.namespace}/${p.name}: HTTP ${r.status}: ${r.body}`);
      const answer = JSON.parse(r.body);
      if (!answer.response || answer.response.allowed !== true) denied++;
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: 8 }, worker));
  agent.destroy();
  if (denied) throw new Error(`${denied} Pod(s) denied; the policies audit, so every Pod should be admitted`);
  console.log(`${pods.length} review(s) answered in ${Date.now() - started} ms`);
})().catch(e => { console.error('fill_reports: ' + e.message); process.exit(1); });
