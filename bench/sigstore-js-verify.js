#!/usr/bin/env node
// sigstore-js (@sigstore/verify, offline) verifying the same bundles as bench/verify_bench.cc,
// in one process, for a fixed time. Prints "sigstore-js: N verifications/s".
// usage: node sigstore-js-verify.js SECONDS TRUSTED_ROOT IDENTITY ISSUER (BUNDLE ARTIFACT)...
const fs = require('fs'), crypto = require('crypto');
const { bundleFromJSON } = require('@sigstore/bundle');
const { TrustedRoot } = require('@sigstore/protobuf-specs');
const { toTrustMaterial, toSignedEntity, Verifier } = require('@sigstore/verify');
const [seconds, rootPath, identity, issuer, ...pairs] = process.argv.slice(2);
const trust = toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(fs.readFileSync(rootPath, 'utf8'))));
const cases = [];
for (let i = 0; i < pairs.length; i += 2)
  cases.push({ text: fs.readFileSync(pairs[i], 'utf8'), artifact: fs.readFileSync(pairs[i + 1]) });
const policy = { subjectAlternativeName: identity, extensions: { issuer } };
let n = 0;
const end = process.hrtime.bigint() + BigInt(Math.round(Number(seconds) * 1e9));
const start = process.hrtime.bigint();
while (process.hrtime.bigint() < end) {
  const c = cases[n % cases.length];
  const bundle = bundleFromJSON(JSON.parse(c.text));
  const dsse = bundle.content.$case === 'dsseEnvelope';
  const verifier = new Verifier(trust, { tlogThreshold: 1, ctlogThreshold: 1 });
  verifier.verify(toSignedEntity(bundle, dsse ? undefined : c.artifact), policy);
  if (dsse) {
    const st = JSON.parse(bundle.content.dsseEnvelope.payload.toString());
    const h = crypto.createHash('sha256').update(c.artifact).digest('hex');
    if (!st.subject.some(s => s.digest && s.digest.sha256 === h)) throw new Error('subject mismatch');
  }
  n++;
}
const secs = Number(process.hrtime.bigint() - start) / 1e9;
console.log(`sigstore-js: ${(n / secs).toFixed(0)} verifications/s`);
