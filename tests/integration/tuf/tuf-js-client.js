// tuf-js's client against a repository: refresh, then download one target.
// node tuf-js-client.js METADATA_URL TARGETS_URL METADATA_DIR TARGET OUT
// METADATA_DIR must hold the trusted root.json; prints {"rootVersion": N} on success.
const fs = require('fs');
const path = require('path');
const { Updater } = require('tuf-js');

async function main() {
  const [metadataBaseUrl, targetBaseUrl, metadataDir, target, out] = process.argv.slice(2);
  const targetDir = path.join(metadataDir, 'targets');
  fs.mkdirSync(targetDir, { recursive: true });
  const updater = new Updater({ metadataBaseUrl, targetBaseUrl, metadataDir, targetDir });
  await updater.refresh();
  const info = await updater.getTargetInfo(target);
  if (!info) throw new Error(`no target ${target}`);
  const file = await updater.downloadTarget(info, out);
  const root = JSON.parse(fs.readFileSync(path.join(metadataDir, 'root.json'), 'utf8'));
  console.log(JSON.stringify({ rootVersion: root.signed.version, file }));
}

main().catch((e) => { console.error(`tuf-js: ${e.message}`); process.exit(1); });
