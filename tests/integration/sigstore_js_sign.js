// Signs a file with sigstore-js (@sigstore/sign) through the services a SigningConfig names, with the
// identity token from GitHub Actions' token request (ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN): another
// client of vouch's CA, log and timestamp authority.
// usage: node sigstore_js_sign.js SIGNING_CONFIG FILE OUT_BUNDLE [messageSignature|dsseEnvelope]
const fs = require('fs');
const { bundleBuilderFromSigningConfig, CIContextProvider } = require('@sigstore/sign');
const { SigningConfig } = require('@sigstore/protobuf-specs');
const { bundleToJSON } = require('@sigstore/bundle');
const [configPath, artifactPath, outPath, type] = process.argv.slice(2);
(async () => {
  const signingConfig = SigningConfig.fromJSON(JSON.parse(fs.readFileSync(configPath, 'utf8')));
  const builder = bundleBuilderFromSigningConfig({ signingConfig, identityProvider: new CIContextProvider('sigstore'),
    bundleType: type || 'messageSignature' });
  const data = fs.readFileSync(artifactPath);
  const bundle = await builder.create({ data, type: 'application/vnd.in-toto+json' });
  fs.writeFileSync(outPath, JSON.stringify(bundleToJSON(bundle)));
  console.log('signed');
})().catch(e => { console.error('sigstore-js sign: ' + (e.stack || e)); process.exit(1); });
