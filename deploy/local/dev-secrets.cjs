'use strict';
/**
 * Keys the services need, for local runs and tests only. Production sets them from a secret store
 * (see README, "Configuration"). Generated with a CSPRNG; never committed.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');

const key = () => crypto.randomBytes(32).toString('base64');

function generateSecrets() {
  return {
    OPERATOR_KEY: crypto.randomBytes(24).toString('hex'),
    ACCOUNT_TOKEN_KEYS: `k1:${key()}`,
    ACCOUNT_TOKEN_PEPPER: key(),
    PROVIDER_CREDENTIAL_KEYS: `k1:${key()}`,
    PIN_ENCRYPTION_KEYS: `k1:${key()}`,
    PIN_DIGEST_KEY: key(),
    CALL_CONTEXT_KEYS: `k1:${key()}`,
    RECORDING_URL_KEYS: `k1:${key()}`,
    PARTY_REDACTION_KEY: key(),
  };
}

/** Reads the secrets file, adding any key a newer version needs; creates it (mode 600) if missing. */
function loadOrCreateSecrets(file) {
  let existing = {};
  try {
    existing = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    // First start: there is no file yet. Anything else (unreadable, not JSON) is the operator's to fix.
    if (err.code !== 'ENOENT') throw err;
  }
  const merged = { ...generateSecrets(), ...existing };
  if (JSON.stringify(merged) !== JSON.stringify(existing)) {
    fs.writeFileSync(file, JSON.stringify(merged, null, 2), { mode: 0o600 });
  }
  return merged;
}

module.exports = { generateSecrets, loadOrCreateSecrets };
