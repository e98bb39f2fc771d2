import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
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
import { connect } from 'nats';
import { kvToken } from '@maskline/messaging';
import { ACCOUNT_RATE_BUCKET, SUBACCOUNT_RATE_BUCKET } from '../auth/account-rate-limiter';
import { gatewayConfigSchema } from '../config/gateway.config';
import { GatewayModule } from '../gateway.module';
import { configureHttp } from '../http/configure-http';

const OPERATOR_KEY = 'k'.repeat(40);

interface SignedIn {
  cookie: string;
  csrf: string;
  body: Record<string, unknown>;
  setCookie: string;
}

describe('console sign-in and cookie sessions (real NATS + store)', () => {
  let nats: RunningProcess;
  let gateway: HttpTestApp;
  const assets = mkdtempSync(path.join(tmpdir(), 'console-assets-'));

  beforeAll(async () => {
    writeFileSync(path.join(assets, 'index.html'), '<!doctype html><title>Maskline console</title>');
    writeFileSync(path.join(assets, 'app.js'), 'void 0;');
    nats = await startTestNats();
    const config = gatewayConfigSchema.parse({
      ...testServiceConfig(nats.url),
      MONGO_URL: testStoreUrl(),
      MONGO_DB: uniqueDbName('console'),
      OPERATOR_KEY,
      ACCOUNT_TOKEN_KEYS: testKeyring(),
      ACCOUNT_TOKEN_PEPPER: testKey(),
      CALL_CONTEXT_KEYS: testKeyring(),
      RECORDING_URL_KEYS: testKeyring(),
      CONSOLE_ASSETS_DIR: assets,
      AUTH_CACHE_TTL_MS: 0,
    });
    gateway = await startHttpApp(GatewayModule.forRoot(config), configureHttp);
  });

  afterAll(async () => {
    await gateway?.close();
    await nats?.stop();
  });

  const url = (p: string) => `${gateway.baseUrl}${p}`;
  const admin = async (p: string, body?: unknown) =>
    fetch(url(p), {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json', 'x-operator-key': OPERATOR_KEY },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const newAccount = async (name: string) =>
    (await (await admin('/admin/v1/accounts', { name })).json()) as { auth_id: string; auth_token: string };

  async function signIn(body: unknown, headers: Record<string, string> = {}): Promise<SignedIn> {
    const res = await fetch(url('/console/api/session'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    const setCookie = res.headers.get('set-cookie') ?? '';
    const json = (await res.json()) as Record<string, unknown>;
    return { cookie: setCookie.split(';')[0], csrf: String(json.csrf_token), body: json, setCookie };
  }
  const withSession = (s: SignedIn, p: string, init: RequestInit = {}, csrf: string | null = s.csrf) =>
    fetch(url(p), {
      ...init,
      headers: {
        cookie: s.cookie,
        ...(csrf === null ? {} : { 'x-csrf-token': csrf }),
        ...((init.headers as Record<string, string>) ?? {}),
      },
    });

  it('signs an account in with an HttpOnly, SameSite=Strict cookie that is Secure behind TLS', async () => {
    const acct = await newAccount('Console Co');
    const s = await signIn({ auth_id: acct.auth_id, auth_token: acct.auth_token });
    expect(s.setCookie).toMatch(/HttpOnly/);
    expect(s.setCookie).toMatch(/SameSite=Strict/);
    expect(s.setCookie).not.toMatch(/Secure/);
    expect(s.body).toMatchObject({ kind: 'account', auth_id: acct.auth_id, subaccount: false });
    expect(s.body.idle_timeout_seconds).toBe(900);
    // The cookie is opaque: neither the Auth Token nor the Auth ID is in it.
    expect(s.cookie).not.toContain(acct.auth_token);
    expect(s.cookie).not.toContain(acct.auth_id);
    const tls = await signIn(
      { auth_id: acct.auth_id, auth_token: acct.auth_token },
      { 'x-forwarded-proto': 'https' },
    );
    // Behind TLS: Secure, and a __Host- name no sibling subdomain can shadow.
    expect(tls.setCookie).toMatch(/^__Host-maskline_console=.*; Secure/);
    const overTls = await fetch(url(`/v1/Account/${acct.auth_id}/`), {
      headers: { cookie: tls.cookie, 'x-csrf-token': tls.csrf, 'x-forwarded-proto': 'https' },
    });
    expect(overTls.status).toBe(200);
    // A plain-named cookie is not read over TLS.
    const plainOverTls = await fetch(url(`/v1/Account/${acct.auth_id}/`), {
      headers: {
        cookie: tls.cookie.replace('__Host-', ''),
        'x-csrf-token': tls.csrf,
        'x-forwarded-proto': 'https',
      },
    });
    expect(plainOverTls.status).toBe(401);

    const who = await withSession(s, '/console/api/session', {}, null);
    expect(who.status).toBe(200);
    expect(await who.json()).toMatchObject({ kind: 'account', auth_id: acct.auth_id, csrf_token: s.csrf });
  });

  it('lets the cookie stand in for Basic credentials on the public API only with the CSRF header', async () => {
    const acct = await newAccount('Csrf Co');
    const other = await newAccount('Other Co');
    const s = await signIn({ auth_id: acct.auth_id, auth_token: acct.auth_token });
    const ok = await withSession(s, `/v1/Account/${acct.auth_id}/`);
    expect(ok.status).toBe(200);
    // No cache keeps an answer given to a cookie.
    expect(ok.headers.get('cache-control')).toBe('no-store');
    expect(ok.headers.get('vary')).toMatch(/Cookie/);
    const noCsrf = await withSession(s, `/v1/Account/${acct.auth_id}/`, {}, null);
    expect(noCsrf.status).toBe(401);
    expect(((await noCsrf.json()) as { error: string }).error).toMatch(/X-CSRF-Token/);
    expect((await withSession(s, `/v1/Account/${acct.auth_id}/`, {}, 'forged')).status).toBe(401);
    // Another account's path is refused, as with Basic credentials.
    expect((await withSession(s, `/v1/Account/${other.auth_id}/`)).status).toBe(401);
    // An account session is not the operator.
    expect((await withSession(s, '/admin/v1/accounts')).status).toBe(401);
  });

  it('refuses wrong credentials and malformed sign-ins with the API error shape, setting no cookie', async () => {
    const acct = await newAccount('Wrong Co');
    const wrong = await fetch(url('/console/api/session'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ auth_id: acct.auth_id, auth_token: 'x'.repeat(40) }),
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    expect(await wrong.json()).toMatchObject({ error: expect.stringMatching(/Auth ID or Auth Token/) });
    for (const [body, field] of [
      [{}, 'auth_id'],
      [{ auth_id: acct.auth_id }, 'auth_token'],
      [{ auth_id: 7, auth_token: 'x' }, 'auth_id'],
      [{ operator_key: OPERATOR_KEY, auth_id: acct.auth_id }, 'operator_key'],
    ] as const) {
      const res = await fetch(url('/console/api/session'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toContain(field);
    }
    // Only the console's own page signs in: not a form, not another site.
    const form = await fetch(url('/console/api/session'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ auth_id: acct.auth_id, auth_token: acct.auth_token }).toString(),
    });
    expect(form.status).toBe(415);
    expect(form.headers.get('set-cookie')).toBeNull();
    const foreign: Record<string, string>[] = [
      { origin: 'https://evil.test' },
      { 'sec-fetch-site': 'cross-site' },
    ];
    for (const headers of foreign) {
      const res = await fetch(url('/console/api/session'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ auth_id: acct.auth_id, auth_token: acct.auth_token }),
      });
      expect(res.status).toBe(403);
      expect(res.headers.get('set-cookie')).toBeNull();
    }
    // Wrong guesses cost the server no shared state: only a proven identity is counted.
    const nc = await connect({ servers: nats.url });
    const rateKeys = async () => {
      const kv = await nc.jetstream().views.kv(ACCOUNT_RATE_BUCKET);
      const keys: string[] = [];
      for await (const k of await kv.keys()) keys.push(k);
      return keys.length;
    };
    const before = await rateKeys();
    for (let i = 0; i < 5; i++)
      await fetch(url('/console/api/session'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ auth_id: `MA${i}NOSUCHACCOUNT${i}`, auth_token: 'x'.repeat(40) }),
      });
    expect(await rateKeys()).toBe(before);
    await nc.close();
    const badKey = await fetch(url('/console/api/session'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ operator_key: 'not-the-key' }),
    });
    expect(badKey.status).toBe(401);
  });

  it('counts a subaccount’s sign-ins to its main account’s sign-in allowance, within its share, not to one of its own', async () => {
    const main = await newAccount('Reseller Co');
    const made = await fetch(url(`/v1/Account/${main.auth_id}/Subaccount/`), {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${main.auth_id}:${main.auth_token}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ name: 'customer' }),
    });
    expect(made.status).toBe(201);
    const sub = (await made.json()) as { auth_id: string; auth_token: string };
    await signIn({ auth_id: sub.auth_id, auth_token: sub.auth_token });
    const nc = await connect({ servers: nats.url });
    try {
      const keysOf = async (bucket: string) => {
        const keys: string[] = [];
        for await (const k of await (await nc.jetstream().views.kv(bucket)).keys()) keys.push(k);
        return keys;
      };
      expect(await keysOf(ACCOUNT_RATE_BUCKET)).toContain(kvToken(`console-sign-in.${main.auth_id}`));
      expect(await keysOf(ACCOUNT_RATE_BUCKET)).not.toContain(kvToken(`console-sign-in.${sub.auth_id}`));
      expect(await keysOf(SUBACCOUNT_RATE_BUCKET)).toContain(kvToken(`console-sign-in.${sub.auth_id}`));
    } finally {
      await nc.close();
    }
  });

  it('gives the operator the operator API, and not an account API', async () => {
    const acct = await newAccount('Listed Co');
    const op = await signIn({ operator_key: OPERATOR_KEY });
    expect(op.body).toMatchObject({ kind: 'operator', auth_id: null });
    const list = await withSession(op, '/admin/v1/accounts?limit=20');
    expect(list.status).toBe(200);
    const page = (await list.json()) as {
      meta: { total_count: number };
      objects: Array<{ auth_id: string }>;
    };
    expect(page.meta.total_count).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(page)).not.toContain('auth_token');
    expect((await withSession(op, '/admin/v1/accounts', {}, null)).status).toBe(401);
    expect((await withSession(op, `/v1/Account/${acct.auth_id}/`)).status).toBe(401);
    const system = await withSession(op, '/admin/v1/system');
    expect(system.status).toBe(200);
    expect(await system.json()).toMatchObject({ breakers: expect.any(Array), consumers: expect.any(Array) });
  });

  it('ends every console session of an account when its Auth Token is rotated', async () => {
    const acct = await newAccount('Rotate Co');
    const s = await signIn({ auth_id: acct.auth_id, auth_token: acct.auth_token });
    expect((await withSession(s, `/v1/Account/${acct.auth_id}/`)).status).toBe(200);
    expect((await admin(`/admin/v1/accounts/${acct.auth_id}/token`, {})).status).toBe(200);
    expect((await withSession(s, `/v1/Account/${acct.auth_id}/`)).status).toBe(401);
    expect((await withSession(s, '/console/api/session', {}, null)).status).toBe(401);
  });

  it('signs out only with the CSRF header, and then the cookie opens nothing', async () => {
    const acct = await newAccount('Bye Co');
    const s = await signIn({ auth_id: acct.auth_id, auth_token: acct.auth_token });
    expect((await withSession(s, '/console/api/session', { method: 'DELETE' }, null)).status).toBe(401);
    expect((await withSession(s, `/v1/Account/${acct.auth_id}/`)).status).toBe(200);
    const out = await withSession(s, '/console/api/session', { method: 'DELETE' });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/Max-Age=0/);
    expect((await withSession(s, `/v1/Account/${acct.auth_id}/`)).status).toBe(401);
    expect((await withSession(s, '/console/api/session', {}, null)).status).toBe(401);
  });

  it('documents the console sign-in and every read endpoint it uses in the OpenAPI document', async () => {
    const doc = (await (await fetch(url('/docs-json'))).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = (path: string, method: string) => [path, method, Boolean(doc.paths[path]?.[method])];
    for (const [path, method] of [
      ['/console/api/session', 'post'],
      ['/console/api/session', 'get'],
      ['/console/api/session', 'delete'],
      ['/v1/Account/{auth_id}/Masking/Session/{session_uuid}/PinAttempts', 'get'],
      ['/v1/Account/{auth_id}/Masking/PinSecurity', 'get'],
      ['/v1/Account/{auth_id}/Masking/Callbacks/Stats', 'get'],
      ['/v1/Account/{auth_id}/Masking/Utilization/History', 'get'],
      ['/admin/v1/system', 'get'],
      ['/admin/v1/accounts', 'get'],
    ])
      expect(documented(path, method)).toEqual([path, method, true]);
  });

  it('serves the built console with a strict content security policy', async () => {
    const page = await fetch(url('/console/'));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Maskline console');
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'self'.*frame-ancestors 'none'/);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const script = await fetch(url('/console/app.js'));
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    const missing = await fetch(url('/console/nope.js'));
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'resource not found' });
    expect((await fetch(url('/console/../package.json'))).status).not.toBe(200);
    for (const bad of ['/console/%2e%2e/%2e%2e/package.json', '/console/app.js%00', '/console/%E0%A4%A']) {
      const res = await fetch(url(bad));
      expect([bad, res.status >= 400 && res.status < 500]).toEqual([bad, true]);
      expect(await res.json()).toMatchObject({ error: expect.any(String) });
    }
    expect((await fetch(url('/console/'), { method: 'POST' })).status).toBe(405);
  });
});
