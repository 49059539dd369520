// The JOSE peer of jose_test.cc, on Node's built-in crypto only (no npm package).
//   node jose_interop.js DIR
// Verifies the tokens vouch wrote to DIR/vouch.json ([{alg, jwk, token}]) with the JWKs vouch
// exported, and each again with one payload byte changed; writes tokens of its own, signed with
// fresh keys whose public JWKs it exports, to DIR/node.json; prints
// {"verified": {alg: bool}, "tampered_verified": {alg: bool}}.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const HASH = {
  RS256: 'sha256', RS384: 'sha384', RS512: 'sha512',
  PS256: 'sha256', PS384: 'sha384', PS512: 'sha512',
  ES256: 'sha256', ES384: 'sha384', ES512: 'sha512',
  EdDSA: null,
};

// Signing and verification options: r||s for ECDSA (RFC 7518 §3.4), PSS with a hash-long salt.
function options(alg, key) {
  if (alg.startsWith('ES')) return { key, dsaEncoding: 'ieee-p1363' };
  if (alg.startsWith('PS')) {
    return { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: crypto.constants.RSA_PSS_SALTLEN_DIGEST };
  }
  return { key };
}

function b64url(data) {
  return Buffer.from(data).toString('base64url');
}

function verify(alg, jwk, token) {
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
  const parts = token.split('.');
  if (parts.length !== 3) return false;
  const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString());
  if (header.alg !== alg) return false;
  const input = Buffer.from(parts[0] + '.' + parts[1]);
  return crypto.verify(HASH[alg], input, options(alg, key), Buffer.from(parts[2], 'base64url'));
}

function tamper(token) {
  const parts = token.split('.');
  const payload = Buffer.from(parts[1], 'base64url');
  payload[0] ^= 1;
  return [parts[0], b64url(payload), parts[2]].join('.');
}

function keyPair(alg) {
  if (alg === 'ES256') return crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  if (alg === 'ES384') return crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' });
  if (alg === 'ES512') return crypto.generateKeyPairSync('ec', { namedCurve: 'P-521' });
  if (alg === 'EdDSA') return crypto.generateKeyPairSync('ed25519');
  return crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
}

function sign(alg, privateKey, kid, claims) {
  const header = b64url(JSON.stringify({ alg, typ: 'JWT', kid }));
  const payload = b64url(JSON.stringify(claims));
  const input = Buffer.from(header + '.' + payload);
  return header + '.' + payload + '.' + b64url(crypto.sign(HASH[alg], input, options(alg, privateKey)));
}

const dir = process.argv[2];
const fromVouch = JSON.parse(fs.readFileSync(path.join(dir, 'vouch.json'), 'utf8'));
const result = { verified: {}, tampered_verified: {} };
for (const { alg, jwk, token } of fromVouch) {
  result.verified[alg] = verify(alg, jwk, token);
  result.tampered_verified[alg] = verify(alg, jwk, tamper(token));
}

const rsa = keyPair('RS256');
const fromNode = [];
for (const alg of ['ES256', 'ES384', 'ES512', 'RS256', 'PS256', 'EdDSA']) {
  const { publicKey, privateKey } = alg.startsWith('RS') || alg.startsWith('PS') ? rsa : keyPair(alg);
  const kid = 'node-' + alg;
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg };
  const claims = { iss: 'https://node.example', sub: 'interop', aud: 'sigstore', exp: 2000000000 };
  fromNode.push({ alg, jwk, token: sign(alg, privateKey, kid, claims) });
}
fs.writeFileSync(path.join(dir, 'node.json'), JSON.stringify(fromNode));
process.stdout.write(JSON.stringify(result));
