'use strict';
/** Writes deploy/compose/secrets.env (git-ignored) with fresh random keys, once. */
const fs = require('node:fs');
const path = require('node:path');
const { generateSecrets } = require('../local/dev-secrets.cjs');

const file = path.join(__dirname, 'secrets.env');
if (fs.existsSync(file)) {
  console.log(`${file} exists; keeping it`);
} else {
  const lines = Object.entries(generateSecrets()).map(([k, v]) => `${k}=${v}`);
  fs.writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  console.log(`wrote ${file}`);
}
