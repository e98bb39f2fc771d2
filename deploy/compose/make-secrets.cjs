'use strict';
/**
 * Writes deploy/compose/secrets.env (git-ignored) with fresh random keys, once; run again (an
 * upgrade), adds the keys a newer version needs and keeps every key already there.
 */
const fs = require('node:fs');
const path = require('node:path');
const { generateSecrets } = require('../local/dev-secrets.cjs');

const file = path.join(__dirname, 'secrets.env');
const existing = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
const have = new Set(
  (existing ?? '')
    .split('\n')
    .map((line) => line.split('=')[0].trim())
    .filter(Boolean),
);
const missing = Object.entries(generateSecrets()).filter(([k]) => !have.has(k));
if (missing.length === 0) {
  console.log(`${file} has every key; keeping it`);
} else {
  const lines = missing.map(([k, v]) => `${k}=${v}`);
  const before =
    existing === null ? '' : existing.endsWith('\n') || existing === '' ? existing : `${existing}\n`;
  fs.writeFileSync(file, `${before}${lines.join('\n')}\n`, { mode: 0o600 });
  console.log(existing === null ? `wrote ${file}` : `added ${missing.map(([k]) => k).join(', ')} to ${file}`);
}
