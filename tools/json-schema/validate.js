// Validates JSON documents against the official schemas, compiled as
// ../shared/testdata/schemas/README.md prescribes:
//   node validate.js sarif SCHEMA_DIR FILE...      (draft-04: ajv-draft-04 + ajv-formats)
//   node validate.js spdx SCHEMA_DIR FILE...       (draft-07: Ajv + ajv-formats)
//   node validate.js cyclonedx SCHEMA_DIR FILE...  (draft-07, strict: false, spdx + jsf schemas added)
// Prints "valid FILE" or "invalid FILE: errors" per file; exits 1 if any is invalid.
'use strict';
const fs = require('fs');
const path = require('path');
const addFormats = require('ajv-formats');

const [kind, dir, ...files] = process.argv.slice(2);
const load = (name) => JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
let validate;
if (kind === 'sarif') {
  const Ajv04 = require('ajv-draft-04');
  const ajv = new Ajv04();
  addFormats(ajv);
  validate = ajv.compile(load('sarif-2.1.0.schema.json'));
} else if (kind === 'spdx') {
  const Ajv = require('ajv');
  const ajv = new Ajv();
  addFormats(ajv);
  validate = ajv.compile(load('spdx-2.3.schema.json'));
} else if (kind === 'cyclonedx') {
  const Ajv = require('ajv');
  const ajv = new Ajv({ strict: false });
  addFormats(ajv);
  ajv.addSchema(load('spdx.schema.json'));
  ajv.addSchema(load('jsf-0.82.schema.json'));
  validate = ajv.compile(load('bom-1.6.schema.json'));
} else {
  console.error(`unknown schema kind '${kind}'`);
  process.exit(2);
}
let bad = 0;
for (const f of files) {
  const ok = validate(JSON.parse(fs.readFileSync(f, 'utf8')));
  if (ok) console.log(`valid ${f}`);
  else {
    bad++;
    console.log(`invalid ${f}: ${JSON.stringify(validate.errors)}`);
  }
}
process.exit(bad ? 1 : 0);
