// The Notary Project envelope peer of interop_test.cc, on Node's built-in crypto only.
//   node notation_interop.js DIR
// Verifies each envelope vouch wrote to DIR/*.jws and DIR/*.cose with the public key of its own
// x5c/x5chain leaf (JWS over protected.payload; COSE over the Sig_structure rebuilt here from a
// minimal CBOR reader), RSASSA-PSS with a hash-long salt or ECDSA r||s; then writes a JWS
// envelope of its own for each DIR/*.key (PKCS#8) with DIR/*.chain.pem, to DIR/*.node.jws.
// Prints {"verified": {file: bool}}.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const HASH = {PS256: 'sha256', PS384: 'sha384', PS512: 'sha512', ES256: 'sha256', ES384: 'sha384', ES512: 'sha512'};
const COSE_ALG = {'-37': 'PS256', '-38': 'PS384', '-39': 'PS512', '-7': 'ES256', '-35': 'ES384', '-36': 'ES512'};

function keyOptions(alg, key) {
  if (alg.startsWith('PS')) {
    return {key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: crypto.constants.RSA_PSS_SALTLEN_DIGEST};
  }
  return {key, dsaEncoding: 'ieee-p1363'};
}

// Reads one CBOR item at pos; returns [value, end]. Byte strings are Buffers, maps are arrays of
// [key, value], tags are {tag, value}.
function cbor(buf, pos) {
  const ib = buf[pos++];
  const major = ib >> 5;
  let arg = ib & 0x1f;
  if (arg === 24) { arg = buf[pos]; pos += 1; }
  else if (arg === 25) { arg = buf.readUInt16BE(pos); pos += 2; }
  else if (arg === 26) { arg = buf.readUInt32BE(pos); pos += 4; }
  else if (arg === 27) { arg = Number(buf.readBigUInt64BE(pos)); pos += 8; }
  switch (major) {
    case 0: return [arg, pos];
    case 1: return [-1 - arg, pos];
    case 2: return [buf.subarray(pos, pos + arg), pos + arg];
    case 3: return [buf.subarray(pos, pos + arg).toString('utf8'), pos + arg];
    case 4: { const a = []; for (let i = 0; i < arg; i++) { const [v, p] = cbor(buf, pos); a.push(v); pos = p; } return [a, pos]; }
    case 5: { const m = []; for (let i = 0; i < arg; i++) { const [k, p1] = cbor(buf, pos); const [v, p2] = cbor(buf, p1); m.push([k, v]); pos = p2; } return [m, pos]; }
    case 6: { const [v, p] = cbor(buf, pos); return [{tag: arg, value: v}, p]; }
    default: throw new Error('unsupported CBOR item');
  }
}
function head(major, n) {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 256) return Buffer.from([(major << 5) | 24, n]);
  if (n < 65536) { const b = Buffer.alloc(3); b[0] = (major << 5) | 25; b.writeUInt16BE(n, 1); return b; }
  const b = Buffer.alloc(5); b[0] = (major << 5) | 26; b.writeUInt32BE(n, 1); return b;
}
const bstr = (b) => Buffer.concat([head(2, b.length), b]);
const tstr = (s) => Buffer.concat([head(3, Buffer.byteLength(s)), Buffer.from(s)]);
const mapGet = (m, k) => { const e = m.find(([key]) => key === k); return e ? e[1] : undefined; };

function verifyJws(text) {
  const env = JSON.parse(text);
  const header = JSON.parse(Buffer.from(env.protected, 'base64url').toString());
  const leaf = new crypto.X509Certificate(Buffer.from(env.header.x5c[0], 'base64'));
  const alg = header.alg;
  return crypto.verify(HASH[alg], Buffer.from(env.protected + '.' + env.payload), keyOptions(alg, leaf.publicKey),
                       Buffer.from(env.signature, 'base64url'));
}

function verifyCose(buf) {
  const [top] = cbor(buf, 0);
  if (top.tag !== 18) return false;
  const [prot, unprot, payload, sig] = top.value;
  const [header] = cbor(prot, 0);
  const alg = COSE_ALG[String(mapGet(header, 1))];
  let chain = mapGet(unprot, 33);
  if (Buffer.isBuffer(chain)) chain = [chain];
  const leaf = new crypto.X509Certificate(chain[0]);
  const toBeSigned = Buffer.concat([head(4, 4), tstr('Signature1'), bstr(prot), bstr(Buffer.alloc(0)), bstr(payload)]);
  return crypto.verify(HASH[alg], toBeSigned, keyOptions(alg, leaf.publicKey), sig);
}

const dir = process.argv[2];
const verified = {};
for (const f of fs.readdirSync(dir).sort()) {
  const full = path.join(dir, f);
  try {
    if (f.endsWith('.jws') && !f.endsWith('.node.jws')) verified[f] = verifyJws(fs.readFileSync(full, 'utf8'));
    if (f.endsWith('.cose')) verified[f] = verifyCose(fs.readFileSync(full));
  } catch (e) {
    verified[f] = false;
  }
}

// Node signs: a notary.x509 JWS envelope over the payload in DIR/payload.json.
const payload = fs.readFileSync(path.join(dir, 'payload.json'));
for (const f of fs.readdirSync(dir).sort()) {
  if (!f.endsWith('.key')) continue;
  const name = f.slice(0, -4);
  const key = crypto.createPrivateKey(fs.readFileSync(path.join(dir, f)));
  const pems = fs.readFileSync(path.join(dir, name + '.chain.pem'), 'utf8').match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g);
  const chain = pems.map((p) => new crypto.X509Certificate(p).raw.toString('base64'));
  const alg = fs.readFileSync(path.join(dir, name + '.alg'), 'utf8').trim();
  const header = {alg, crit: ['io.cncf.notary.signingScheme'], cty: 'application/vnd.cncf.notary.payload.v1+json',
                  'io.cncf.notary.signingScheme': 'notary.x509', 'io.cncf.notary.signingTime': new Date().toISOString()};
  const prot = Buffer.from(JSON.stringify(header)).toString('base64url');
  const body = payload.toString('base64url');
  const signature = crypto.sign(HASH[alg], Buffer.from(prot + '.' + body), keyOptions(alg, key)).toString('base64url');
  fs.writeFileSync(path.join(dir, name + '.node.jws'),
                   JSON.stringify({payload: body, protected: prot, header: {x5c: chain, 'io.cncf.notary.signingAgent': 'node'}, signature}));
}
process.stdout.write(JSON.stringify({verified}));
