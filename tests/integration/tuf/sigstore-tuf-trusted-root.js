// @sigstore/tuf (sigstore-js's TUF client) fetching trusted_root.json from a repository:
// node sigstore-tuf-trusted-root.js MIRROR_URL ROOT_JSON CACHE_DIR OUT
const fs = require('fs');
const { getTrustedRoot } = require('@sigstore/tuf');
const { TrustedRoot } = require('@sigstore/protobuf-specs');

async function main() {
  const [mirrorURL, rootPath, cachePath, out] = process.argv.slice(2);
  const root = await getTrustedRoot({ mirrorURL, rootPath, cachePath, retry: false, timeout: 5000 });
  fs.writeFileSync(out, JSON.stringify(TrustedRoot.toJSON(root)));
  console.log(JSON.stringify({ tlogs: root.tlogs.length, certificateAuthorities: root.certificateAuthorities.length }));
}

main().catch((e) => { console.error(`@sigstore/tuf: ${e.message}`); process.exit(1); });
