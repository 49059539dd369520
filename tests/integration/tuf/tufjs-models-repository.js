// A TUF repository built and signed with @tufjs/models (Ed25519 keys, consistent snapshots):
// node tufjs-models-repository.js DIR TARGET_FILE TARGET_NAME
// Writes DIR/1.root.json, root.json, 1.targets.json, 1.snapshot.json, timestamp.json and
// DIR/targets/<sha256>.<name>.
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { canonicalize } = require('@tufjs/canonical-json');
const { Metadata, Root, Targets, Snapshot, Timestamp, Key, MetaFile, TargetFile, Signature } = require('@tufjs/models');

const [dir, targetFile, targetName] = process.argv.slice(2);
const expires = new Date(Date.now() + 7 * 86400 * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
const common = { version: 1, specVersion: '1.0.31', expires };

function newKey() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('hex');
  const body = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: raw } };
  const keyID = crypto.createHash('sha256').update(canonicalize(body)).digest('hex');
  const key = new Key({ keyID, keyType: 'ed25519', scheme: 'ed25519', keyVal: { public: raw } });
  const signer = (data) => new Signature({ keyID, sig: crypto.sign(null, data, privateKey).toString('hex') });
  return { key, signer };
}

function write(name, metadata) {
  const text = JSON.stringify(metadata.toJSON(), null, 1);
  fs.writeFileSync(path.join(dir, name), text);
  return Buffer.from(text);
}

const keys = { root: newKey(), targets: newKey(), snapshot: newKey(), timestamp: newKey() };
const root = new Root({ ...common, consistentSnapshot: true });
for (const [role, k] of Object.entries(keys)) root.addKey(k.key, role);
const rootMd = new Metadata(root);
rootMd.sign(keys.root.signer);
fs.mkdirSync(path.join(dir, 'targets'), { recursive: true });
write('1.root.json', rootMd);
write('root.json', rootMd);

const data = fs.readFileSync(targetFile);
const sha = crypto.createHash('sha256').update(data).digest('hex');
fs.copyFileSync(targetFile, path.join(dir, 'targets', `${sha}.${targetName}`));
const targets = new Targets({ ...common });
targets.addTarget(new TargetFile({ path: targetName, length: data.length, hashes: { sha256: sha } }));
const targetsMd = new Metadata(targets);
targetsMd.sign(keys.targets.signer);
write('1.targets.json', targetsMd);

const snapshotMd = new Metadata(new Snapshot({ ...common, meta: { 'targets.json': new MetaFile({ version: 1 }) } }));
snapshotMd.sign(keys.snapshot.signer);
const snapshotBytes = write('1.snapshot.json', snapshotMd);

const snapshotMeta = new MetaFile({ version: 1, length: snapshotBytes.length,
  hashes: { sha256: crypto.createHash('sha256').update(snapshotBytes).digest('hex') } });
const timestampMd = new Metadata(new Timestamp({ ...common, snapshotMeta }));
timestampMd.sign(keys.timestamp.signer);
write('timestamp.json', timestampMd);
