'use strict';
/**
 * Seeds what `npm start` promises: a demo account and a few demo virtual numbers. Idempotent: the
 * account's credentials are kept in .infra/demo-account.json (mode 600) and reused while they work.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');

const DEMO_NUMBERS = ['+14155550100', '+14155550101', '+14155550102', '+442071838750', '+442071838751'];

async function seedDemo({ baseUrl, operatorKey, stateFile, sandboxUrl = null }) {
  let account = readState(stateFile);
  if (!account || !(await works(baseUrl, account))) {
    const res = await fetch(`${baseUrl}/admin/v1/accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-operator-key': operatorKey },
      body: JSON.stringify({ name: 'Maskline demo' }),
    });
    if (res.status !== 201)
      throw new Error(`could not create the demo account: ${res.status} ${await res.text()}`);
    const body = await res.json();
    account = { auth_id: body.auth_id, auth_token: body.auth_token };
  }
  if (!account.provider) {
    // The demo's "Plivo account": the numbers' webhooks are signed with it (`npm run demo` plays Plivo).
    account.provider = {
      auth_id: `MA${crypto.randomBytes(9).toString('hex').toUpperCase()}`,
      auth_token: crypto.randomBytes(20).toString('hex'),
    };
  }
  // Where `npm run demo` sees the texts it relays arrive (the provider sandbox of this start).
  account.sandbox_url = sandboxUrl;
  fs.writeFileSync(stateFile, JSON.stringify(account, null, 2), { mode: 0o600 });
  const auth = `Basic ${Buffer.from(`${account.auth_id}:${account.auth_token}`).toString('base64')}`;
  const res = await fetch(`${baseUrl}/v1/Account/${account.auth_id}/Number/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: auth },
    body: JSON.stringify({
      numbers: DEMO_NUMBERS.join(','),
      provider: 'plivo',
      region: 'demo',
      provider_auth_id: account.provider.auth_id,
      provider_auth_token: account.provider.auth_token,
    }),
  });
  if (res.status !== 202) throw new Error(`could not add demo numbers: ${res.status} ${await res.text()}`);
  const api = `${baseUrl}/v1/Account/${account.auth_id}`;
  const user = `${account.auth_id}:${account.auth_token}`;
  return {
    account,
    instructions: [
      `Demo account (credentials in .infra/demo-account.json):`,
      `  Auth ID:    ${account.auth_id}`,
      `  Auth Token: ${account.auth_token}`,
      `  numbers:    ${DEMO_NUMBERS.join(', ')}`,
      '',
      `  list numbers:   curl -u ${user} ${api}/Number/`,
      `  create session: curl -u ${user} -H 'content-type: application/json' \\`,
      `                    -d '{"first_party":"+14155551234","second_party":"+14155555678","is_pin_authentication_required":true,"generate_pin":true}' \\`,
      `                    ${api}/Masking/Session/`,
      `  list sessions:  curl -u ${user} ${api}/Masking/Session/`,
      `  utilization:    curl -u ${user} ${api}/Masking/Utilization/`,
      '',
      `  a PIN call, end to end (in another terminal): npm run demo`,
    ],
  };
}

function readState(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

async function works(baseUrl, account) {
  const auth = `Basic ${Buffer.from(`${account.auth_id}:${account.auth_token}`).toString('base64')}`;
  const res = await fetch(`${baseUrl}/v1/Account/${account.auth_id}/Number/?limit=1`, {
    headers: { authorization: auth },
  });
  return res.status === 200;
}

module.exports = { seedDemo, DEMO_NUMBERS };
