import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { GetCallbackSigningToken } from '@maskline/contracts';
import { AccountPrivacy } from '@maskline/messaging';
import {
  TestNatsClient,
  startHttpApp,
  startTestNats,
  testKey,
  testKeyring,
  testServiceConfig,
  testStoreUrl,
  uniqueDbName,
  type HttpTestApp,
  type RunningProcess,
} from '@maskline/testing';
import { gatewayConfigSchema } from '../config/gateway.config';
import { GatewayModule } from '../gateway.module';
import { configureHttp } from '../http/configure-http';

const OPERATOR_KEY = 'o'.repeat(40);
/** This suite's bound on a main account's subaccounts (the other tests make fewer each). */
const SUBACCOUNTS_MAX = 3;

describe('accounts and authentication (real NATS + store)', () => {
  let nats: RunningProcess;
  let gateway: HttpTestApp;
  let client: TestNatsClient;

  beforeAll(async () => {
    nats = await startTestNats();
    const config = gatewayConfigSchema.parse({
      ...testServiceConfig(nats.url),
      MONGO_URL: testStoreUrl(),
      MONGO_DB: uniqueDbName('accounts'),
      OPERATOR_KEY,
      ACCOUNT_TOKEN_KEYS: testKeyring(),
      ACCOUNT_TOKEN_PEPPER: testKey(),
      CALL_CONTEXT_KEYS: testKeyring(),
      RECORDING_URL_KEYS: testKeyring(),
      RATE_LIMIT_PER_SECOND: 1,
      RATE_LIMIT_BURST: 20,
      SUBACCOUNTS_MAX: SUBACCOUNTS_MAX,
    });
    gateway = await startHttpApp(GatewayModule.forRoot(config), configureHttp);
    client = await TestNatsClient.connect(nats.url);
  });

  afterAll(async () => {
    await client?.close();
    await gateway?.close();
    await nats?.stop();
  });

  const admin = (path: string, body?: unknown) =>
    fetch(`${gateway.baseUrl}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json', 'x-operator-key': OPERATOR_KEY },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const basic = (id: string, token: string) => `Basic ${Buffer.from(`${id}:${token}`).toString('base64')}`;
  const createAccount = async (name: string) =>
    (await (await admin('/admin/v1/accounts', { name })).json()) as { auth_id: string; auth_token: string };
  const createSub = (id: string, token: string, name: string) =>
    fetch(`${gateway.baseUrl}/v1/Account/${id}/Subaccount/`, {
      method: 'POST',
      headers: { authorization: basic(id, token), 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    });

  it('issues Plivo-shaped credentials once, and stores neither the token nor anything that reveals it', async () => {
    const res = await admin('/admin/v1/accounts', { name: 'Acme Rides' });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { auth_id: string; auth_token: string; kind: string };
    expect(body.auth_id).toMatch(/^MA[A-Z0-9]{18}$/);
    expect(body.auth_token).toMatch(/^[A-Za-z0-9]{40}$/);
    const shown = (await (await admin(`/admin/v1/accounts/${body.auth_id}`)).json()) as Record<
      string,
      unknown
    >;
    expect(shown).not.toHaveProperty('auth_token');
    const db = gateway.app.get<Connection>(getConnectionToken());
    const dump = JSON.stringify(await db.collection('accounts').find({}).toArray());
    expect(dump).not.toContain(body.auth_token);
    expect(dump).not.toContain(Buffer.from(body.auth_token).toString('base64'));
  });

  it('authenticates with HTTP Basic and answers 401 in Plivo shape otherwise', async () => {
    const acct = await createAccount('Basic test');
    expect((await createSub(acct.auth_id, acct.auth_token, 'ops')).status).toBe(201);

    const cases: Array<[string, Record<string, string>]> = [
      ['no credentials', {}],
      ['wrong token', { authorization: basic(acct.auth_id, 'x'.repeat(40)) }],
      ['unknown account', { authorization: basic('MA000000000000000000', acct.auth_token) }],
      ['not basic', { authorization: `Bearer ${acct.auth_token}` }],
    ];
    for (const [, headers] of cases) {
      const res = await fetch(`${gateway.baseUrl}/v1/Account/${acct.auth_id}/Subaccount/`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'x' }),
      });
      expect(res.status).toBe(401);
      const body = (await res.json()) as { api_id: string; error: string };
      expect(Object.keys(body).sort()).toEqual(['api_id', 'error']);
      expect(body.error).toMatch(/^authentication failed/);
      expect(body.error).not.toContain(acct.auth_token);
    }
  });

  it('refuses credentials of one account on another account’s URL', async () => {
    const a = await createAccount('A');
    const b = await createAccount('B');
    const res = await createSub(b.auth_id, a.auth_token, 'sneaky');
    expect(res.status).toBe(401);
    const cross = await fetch(`${gateway.baseUrl}/v1/Account/${b.auth_id}/Subaccount/`, {
      method: 'POST',
      headers: { authorization: basic(a.auth_id, a.auth_token), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'sneaky' }),
    });
    expect(cross.status).toBe(401);
    expect(((await cross.json()) as { error: string }).error).toContain('does not match');
  });

  it('holds a main account to SUBACCOUNTS_MAX subaccounts (409 naming the bound); another account is not held by it', async () => {
    const hoarder = await createAccount('Hoarder');
    for (let i = 0; i < SUBACCOUNTS_MAX; i++) {
      expect((await createSub(hoarder.auth_id, hoarder.auth_token, `sub-${i}`)).status).toBe(201);
    }
    const refused = await createSub(hoarder.auth_id, hoarder.auth_token, 'one-too-many');
    expect(refused.status).toBe(409);
    expect(JSON.stringify(await refused.json())).toContain(`${SUBACCOUNTS_MAX} subaccounts`);
    // Nothing written for the one refused.
    const db = gateway.app.get<Connection>(getConnectionToken());
    expect(await db.collection('accounts').countDocuments({ accountId: hoarder.auth_id, kind: 'sub' })).toBe(
      SUBACCOUNTS_MAX,
    );
    const other = await createAccount('Neighbour');
    expect((await createSub(other.auth_id, other.auth_token, 'theirs')).status).toBe(201);
  });

  it('lets only main accounts create subaccounts', async () => {
    const main = await createAccount('Parent');
    const sub = (await (await createSub(main.auth_id, main.auth_token, 'child')).json()) as {
      auth_id: string;
      auth_token: string;
    };
    expect(sub.auth_id).toMatch(/^SA[A-Z0-9]{18}$/);
    const res = await createSub(sub.auth_id, sub.auth_token, 'grandchild');
    expect(res.status).toBe(403);
  });

  it('rotates a token: the old one stops working, the new one works', async () => {
    const acct = await createAccount('Rotate');
    const rotated = (await (await admin(`/admin/v1/accounts/${acct.auth_id}/token`, {})).json()) as {
      auth_token: string;
    };
    expect((await createSub(acct.auth_id, acct.auth_token, 'old')).status).toBe(401);
    expect((await createSub(acct.auth_id, rotated.auth_token, 'new')).status).toBe(201);
  });

  it('gives the callback dispatcher the token to sign with, over NATS', async () => {
    const acct = await createAccount('Signer');
    const reply = await client.request(GetCallbackSigningToken, { accountId: acct.auth_id });
    expect(reply).toEqual({ authId: acct.auth_id, authToken: acct.auth_token });
  });

  it('lets an operator opt a main account out of party-number redaction, and back in', async () => {
    const acct = await createAccount('Keeps numbers');
    const put = (id: string, body: unknown) =>
      fetch(`${gateway.baseUrl}/admin/v1/accounts/${id}/privacy`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', 'x-operator-key': OPERATOR_KEY },
        body: JSON.stringify(body),
      });
    const shown = async () =>
      ((await (await admin(`/admin/v1/accounts/${acct.auth_id}`)).json()) as { keep_party_numbers: boolean })
        .keep_party_numbers;
    const privacy = gateway.app.get(AccountPrivacy);

    expect(await shown()).toBe(false);
    expect(await (await put(acct.auth_id, { keep_party_numbers: true })).json()).toEqual({
      auth_id: acct.auth_id,
      keep_party_numbers: true,
    });
    expect(await shown()).toBe(true);
    expect(await privacy.accountsKeepingNumbers()).toContain(acct.auth_id);

    await put(acct.auth_id, { keep_party_numbers: false });
    expect(await shown()).toBe(false);
    expect(await privacy.accountsKeepingNumbers()).not.toContain(acct.auth_id);

    const bad = await put(acct.auth_id, { keep_party_numbers: 'maybe' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain('keep_party_numbers');

    const sub = (await (await createSub(acct.auth_id, acct.auth_token, 'child')).json()) as {
      auth_id: string;
    };
    const onSub = await put(sub.auth_id, { keep_party_numbers: true });
    expect(onSub.status).toBe(400);
    expect(((await onSub.json()) as { error: string }).error).toContain('main account');

    // Only an operator sets it: an account's own credentials are not an operator key.
    const asTenant = await fetch(`${gateway.baseUrl}/admin/v1/accounts/${acct.auth_id}/privacy`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: basic(acct.auth_id, acct.auth_token) },
      body: JSON.stringify({ keep_party_numbers: true }),
    });
    expect(asTenant.status).toBe(401);
    expect(await shown()).toBe(false);
  });

  it('validates admin input with a 400 that names the field', async () => {
    const res = await admin('/admin/v1/accounts', { name: '' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('name must be 1 to 100 characters');
  });

  it('answers 429 in Plivo shape, with Retry-After, past the account’s rate limit, and only for that account', async () => {
    const busy = await createAccount('Busy');
    const calm = await createAccount('Calm');
    const statuses: number[] = [];
    let limited: Response | undefined;
    // Until refused (burst 20, then 1 a second): on a slow machine the bucket refills meanwhile.
    for (let i = 0; i < 200 && !limited; i++) {
      const res = await fetch(`${gateway.baseUrl}/v1/Account/${busy.auth_id}/`, {
        headers: { authorization: basic(busy.auth_id, busy.auth_token) },
      });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(20);
    expect(limited).toBeDefined();
    expect(limited?.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await limited?.json()) as { error: string }).error).toMatch(/too many requests/);
    const other = await fetch(`${gateway.baseUrl}/v1/Account/${calm.auth_id}/`, {
      headers: { authorization: basic(calm.auth_id, calm.auth_token) },
    });
    expect(other.status).toBe(200);
  });
  it('refuses a subaccount past its share of its main account’s limit, and leaves the rest to the main account', async () => {
    const main = await createAccount('Reseller');
    const sub = (await (await createSub(main.auth_id, main.auth_token, 'customer')).json()) as {
      auth_id: string;
      auth_token: string;
    };
    const statuses: number[] = [];
    let limited: Response | undefined;
    // The main account's burst is 20; the subaccount's share of it (50 %), 10.
    for (let i = 0; i < 200 && !limited; i++) {
      const res = await fetch(`${gateway.baseUrl}/v1/Account/${sub.auth_id}/`, {
        headers: { authorization: basic(sub.auth_id, sub.auth_token) },
      });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    const admitted = statuses.filter((s) => s === 200).length;
    expect(admitted).toBeGreaterThanOrEqual(10);
    expect(admitted).toBeLessThan(20);
    expect(((await limited?.json()) as { error: string }).error).toMatch(
      /this subaccount may make 1 requests per second/,
    );
    // The main account has what its subaccount could not take.
    for (let i = 0; i < 5; i++) {
      const own = await fetch(`${gateway.baseUrl}/v1/Account/${main.auth_id}/`, {
        headers: { authorization: basic(main.auth_id, main.auth_token) },
      });
      expect(own.status).toBe(200);
    }
  });
});
