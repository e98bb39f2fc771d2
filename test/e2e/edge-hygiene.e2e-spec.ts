import { randomBytes, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { TelephonySimulator } from '@maskline/telephony-simulator';
import { expectEventually, freePort } from '@maskline/testing';
import { createAccount, createSubaccount, type TestAccount } from './support/accounts';
import { CallbackReceiver } from './support/callback-receiver';
import { E2eSystem } from './support/e2e-system';

type Json = Record<string, unknown>;
let phone = 0;
const nextPhone = () => `+1628666${String(1000 + phone++)}`;
/** `{"a":{"a":…1…}}` (objects) or `[[…1…]]` (arrays), `levels` deep: what overflowed the validation pipe's recursion. */
const deep = (levels: number, open = '{"a":', close = '}') =>
  `${open.repeat(levels)}1${close.repeat(levels)}`;
const deepArray = (levels: number) => deep(levels, '[', ']');

/**
 * Regressions of what hostile testing found at the HTTP edge: every bad input is a 4xx in Plivo's
 * shape that names what is wrong, never a 500; callback URLs are judged on the address they
 * reach; a number's new credentials apply at once; an outage is an outage, not a refusal.
 */
describe('the HTTP edge under hostile input', () => {
  let system: E2eSystem;
  let outside: CallbackReceiver;
  let acme: TestAccount;
  let rival: TestAccount;
  /** Two subaccounts of acme, each with a number of its own. */
  let east: TestAccount;
  let west: TestAccount;
  const provider = {
    accountId: `MA${randomBytes(9).toString('hex').toUpperCase()}`,
    authToken: randomBytes(20).toString('hex'),
  };
  const NUMBER = '+14155550701';

  beforeAll(async () => {
    outside = await CallbackReceiver.start();
    system = await E2eSystem.start(
      { CALLBACK_HOST_ALLOWLIST: '127.0.0.1,localhost,late.customer.test,never.customer.test' },
      (service): Record<string, string> =>
        service === 'callback-dispatcher'
          ? { CALLBACK_RETRY_SCHEDULE_SECONDS: '1,1,1,1,1', CALLBACK_TIMEOUT_MS: '1000' }
          : {},
    );
    acme = await createAccount(system, 'acme');
    rival = await createAccount(system, 'rival');
    const added = await acme.api('/Number/', {
      body: {
        numbers: `${NUMBER},14155550702,14155550703`,
        provider: 'plivo',
        provider_auth_id: provider.accountId,
        provider_auth_token: provider.authToken,
      },
    });
    expect(added.status).toBe(202);
    east = await createSubaccount(system, acme, 'east');
    west = await createSubaccount(system, acme, 'west');
    for (const [sub, number] of [
      [east, '14155550711'],
      [west, '14155550712'],
    ] as const) {
      const res = await acme.api('/Number/', { body: { numbers: number, subaccount: sub.authId } });
      expect(res.status).toBe(202);
    }
  });

  afterAll(async () => {
    await system?.stop();
    await outside?.stop();
  });

  const session = async (body: Json = {}) => {
    const res = await acme.api('/Masking/Session/', {
      body: { first_party: nextPhone(), second_party: nextPhone(), ...body },
    });
    const json = (await res.json()) as Json;
    expect([res.status, json.error]).toEqual([201, undefined]);
    return json;
  };
  const raw = (
    path: string,
    init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
  ) =>
    fetch(`${system.baseUrl}${path}`, {
      method: init.method ?? 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${acme.authId}:${acme.authToken}`).toString('base64')}`,
        ...init.headers,
      },
      body: init.body,
    });
  /** A 4xx in Plivo's shape whose message matches. */
  const expectRejected = async (res: Response, status: number, message: RegExp) => {
    const json = (await res.json()) as Json;
    expect([res.status, Object.keys(json).sort()]).toEqual([status, ['api_id', 'error']]);
    expect(json.error).toMatch(message);
  };

  describe('bodies', () => {
    it('refuses JSON nested thousands of levels deep, on every body, with a 400 naming the body', async () => {
      const s = await session();
      const json = { 'content-type': 'application/json' };
      const sessionPath = `/v1/Account/${acme.authId}/Masking/Session/`;
      await expectRejected(
        await raw(sessionPath, { headers: json, body: `{"first_party":${deepArray(2000)}}` }),
        400,
        /nested more than 32 levels/,
      );
      await expectRejected(
        await raw(`${sessionPath}${String(s.session_uuid)}/`, { headers: json, body: deep(5000) }),
        400,
        /nested/,
      );
      await expectRejected(
        await raw(`/v1/Account/${acme.authId}/Masking/Callbacks/DeadLetters/Replay/`, {
          headers: json,
          body: deepArray(2000),
        }),
        400,
        /nested/,
      );
      await expectRejected(await raw(sessionPath, { headers: json, body: `[${deep(40)}]` }), 400, /nested/);
    });

    it('reads compressed bodies, and refuses ones that cannot be decompressed or use another encoding, signed or not', async () => {
      const body = gzipSync(JSON.stringify({ first_party: nextPhone(), second_party: nextPhone() }));
      const gz = { 'content-type': 'application/json', 'content-encoding': 'gzip' };
      const created = await raw(`/v1/Account/${acme.authId}/Masking/Session/`, { headers: gz, body });
      expect(created.status).toBe(201);
      for (const encoding of ['gzip', 'br', 'deflate']) {
        for (const path of [
          `/v1/Account/${acme.authId}/Masking/Session/`,
          '/voice/plivo/answer',
          '/voice/twilio/answer',
        ]) {
          const res = await raw(path, {
            headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': encoding },
            body: 'this is not compressed',
          });
          await expectRejected(res, 400, /could not be read as its Content-Encoding says/);
        }
      }
      await expectRejected(
        await raw('/voice/plivo/answer', {
          headers: { 'content-type': 'application/json', 'content-encoding': 'zstd' },
          body: '{}',
        }),
        415,
        /Content-Encoding must be/,
      );
    });

    it('reads UTF-8 only: another charset cannot smuggle nesting past the depth check', async () => {
      // In UTF-16, U+0122 is the bytes 0x22 0x01: a byte-level scan would take it for a quote.
      const body = Buffer.from(`{"k":"\u0122","first_party":${deepArray(3000)}}`, 'utf16le');
      for (const charset of ['utf-16le', 'utf-16', 'latin1']) {
        await expectRejected(
          await raw(`/v1/Account/${acme.authId}/Masking/Session/`, {
            headers: { 'content-type': `application/json; charset=${charset}` },
            body,
          }),
          415,
          /charset must be utf-8/,
        );
      }
    });

    it('refuses a body that is not an object of parameters, or reaches for a prototype', async () => {
      const path = `/v1/Account/${acme.authId}/Masking/Session/`;
      for (const body of ['[1,2]', '"text"', '42', 'true']) {
        await expectRejected(
          await raw(path, { headers: { 'content-type': 'application/json' }, body }),
          400,
          /must be an object/,
        );
      }
      await expectRejected(
        await raw(path, {
          headers: { 'content-type': 'application/json' },
          body: '{"__proto__":{"admin":true}}',
        }),
        400,
        /__proto__/,
      );
    });
  });

  describe('parameters', () => {
    it('names a misspelt or unknown key on update and on create', async () => {
      const s = await session();
      const update = await acme.api(`/Masking/Session/${String(s.session_uuid)}/`, {
        body: { sesion_expiry: 60 },
      });
      await expectRejected(update, 400, /unknown parameter: sesion_expiry/);
      const get = (await (await acme.api(`/Masking/Session/${String(s.session_uuid)}/`)).json()) as {
        response: Json;
      };
      expect(get.response.duration).not.toBe(60);
      const create = await acme.api('/Masking/Session/', {
        body: { first_party: nextPhone(), second_party: nextPhone(), ring_timout: 5, colour: 'red' },
      });
      await expectRejected(create, 400, /unknown parameters: ring_timout, colour/);
      // Not updatable is its own message, not "unknown".
      await expectRejected(
        await acme.api(`/Masking/Session/${String(s.session_uuid)}/`, { body: { pin_retry: 2 } }),
        400,
        /pin_retry cannot be updated/,
      );
    });

    it('accepts what Plivo’s SDKs send besides the documented keys', async () => {
      const s = await session({ geo_match: true, sub_account: undefined });
      const update = await acme.api(`/Masking/Session/${String(s.session_uuid)}/`, {
        body: { session_uuid: s.session_uuid, session_expiry: 600, geomatch: true },
      });
      expect(update.status).toBe(200);
      await expectRejected(
        await acme.api(`/Masking/Session/${String(s.session_uuid)}/`, {
          body: { session_uuid: randomUUID() },
        }),
        400,
        /session_uuid must be the session in the URL/,
      );
    });

    it('refuses query parameters shaped as arrays, repeats or operators, naming them', async () => {
      const list = `/Masking/Session/`;
      await expectRejected(
        await acme.api(`${list}?limit[]=1&limit[]=2`),
        400,
        /query parameter limit\[\] is not a plain parameter name/,
      );
      await expectRejected(
        await acme.api(`${list}?limit=1&limit=2`),
        400,
        /query parameter limit must be given once/,
      );
      await expectRejected(await acme.api(`${list}?first_party[$ne]=x`), 400, /first_party\[\$ne\]/);
      await expectRejected(await acme.api(`${list}?$where=1`), 400, /\$where/);
      await expectRejected(await acme.api(`${list}?colour=red`), 400, /unknown parameter: colour/);
      await expectRejected(await acme.api(`/Number/?limit[]=1`), 400, /limit\[\]/);
      expect((await acme.api(`${list}?limit=2`)).status).toBe(200);
    });
  });

  describe('methods and other accounts’ resources', () => {
    it('answers 405 with Allow for an unsupported method on every known path', async () => {
      const s = await session();
      const id = String(s.session_uuid);
      const cases: Array<[string, string, RegExp]> = [
        ['PATCH', `/v1/Account/${acme.authId}/Number/`, /GET, POST/],
        ['PUT', `/v1/Account/${acme.authId}/Number/14155550702/`, /DELETE, GET, POST/],
        ['PATCH', `/v1/Account/${acme.authId}/Number/14155550702/`, /DELETE, GET, POST/],
        ['PUT', `/v1/Account/${acme.authId}/Masking/Session/`, /GET, POST/],
        ['PATCH', `/v1/Account/${acme.authId}/Masking/Session/${id}/`, /DELETE, GET, POST/],
        ['DELETE', `/v1/Account/${acme.authId}/Masking/Session/${id}/Callbacks/`, /GET/],
        ['POST', `/v1/Account/${acme.authId}/Masking/Utilization/`, /GET/],
        ['GET', `/v1/Account/${acme.authId}/Masking/Callbacks/DeadLetters/Replay/`, /POST/],
        ['OPTIONS', `/v1/Account/${acme.authId}/Masking/Callbacks/DeadLetters/`, /GET/],
        ['PUT', '/voice/plivo/answer', /GET, POST/],
        ['DELETE', '/admin/v1/accounts', /POST/],
      ];
      for (const [method, path, allow] of cases) {
        const res = await raw(path, { method });
        expect([method, path, res.status]).toEqual([method, path, 405]);
        expect(res.headers.get('allow')).toMatch(allow);
        expect(Object.keys((await res.json()) as Json).sort()).toEqual(['api_id', 'error']);
      }
      await expectRejected(await raw('/v1/nowhere', { method: 'PUT' }), 404, /not found/);
    });

    it('answers 404, never 500, to a webhook path whose provider is a name every object has (constructor, __proto__)', async () => {
      // Signature headers of both providers, so a dialect found by mistake would go on to check them.
      const headers = {
        'content-type': 'application/x-www-form-urlencoded',
        'x-plivo-signature-v3': 'c2ln',
        'x-plivo-signature-v3-nonce': '12345',
        'x-twilio-signature': 'c2ln',
      };
      const body = 'From=14155550100&To=14155550101&Text=hi&MessageUUID=x';
      const answers: Array<[string, number]> = [];
      for (const provider of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
        for (const path of [`/messaging/${provider}/inbound`, `/voice/${provider}/answer`]) {
          const res = await raw(path, { headers, body });
          answers.push([path, res.status]);
          if (res.status === 404) await expectRejected(res, 404, /no (message|telephony) webhook at/);
        }
      }
      expect(answers).toEqual(answers.map(([path]) => [path, 404]));
    });

    it('tells every cache to keep none of its answers (parties’ numbers, PINs, keys), and the console’s files to revalidate', async () => {
      const created = await acme.api('/Masking/Session/', {
        body: {
          first_party: nextPhone(),
          second_party: nextPhone(),
          is_pin_authentication_required: true,
          generate_pin: true,
        },
      });
      expect(created.status).toBe(201);
      const id = String(((await created.json()) as Json).session_uuid);
      const answers: Array<[string, Response]> = [
        ['a session made, with its PINs', created],
        ['a session read', await acme.api(`/Masking/Session/${id}/`)],
        ['another account’s session, not found', await rival.api(`/Masking/Session/${id}/`)],
        [
          'the accounts, to the operator',
          await fetch(`${system.baseUrl}/admin/v1/accounts`, {
            headers: { 'x-operator-key': system.operatorKey },
          }),
        ],
        ['an unsigned call webhook, refused', await raw('/voice/plivo/answer', { body: 'From=%2B1' })],
        ['an unknown path', await raw('/v1/nowhere', { method: 'GET' })],
      ];
      expect(answers.map(([what, res]) => [what, res.headers.get('cache-control')])).toEqual(
        answers.map(([what]) => [what, 'no-store']),
      );
      const page = await fetch(`${system.baseUrl}/console/`);
      expect([page.status, page.headers.get('cache-control')]).toEqual([200, 'no-cache']);
    });

    it('does not find another account’s session on any sub-resource, nor its dead letters', async () => {
      const s = await session();
      const id = String(s.session_uuid);
      for (const path of [`/Masking/Session/${id}/`, `/Masking/Session/${id}/Callbacks/`]) {
        await expectRejected(await rival.api(path), 404, /not found/);
      }
      await expectRejected(
        await rival.api(`/Masking/Session/${id}/`, { body: { ring_timeout: 5 } }),
        404,
        /not found/,
      );
      await expectRejected(
        await rival.api(`/Masking/Session/${id}/`, { method: 'DELETE' }),
        404,
        /not found/,
      );
      await expectRejected(
        await rival.api('/Masking/Callbacks/DeadLetters/Replay/', { body: { event_id: 'evt-1' } }),
        404,
        /not found/,
      );
      expect((await acme.api(`/Masking/Session/${id}/Callbacks/`)).status).toBe(200);
    });

    it('keeps sibling subaccounts apart: their own sessions, and their own Idempotency-Keys', async () => {
      const key = `order-${randomUUID()}`;
      const second = nextPhone();
      const ids: string[] = [];
      for (const sub of [east, west]) {
        const res = await fetch(`${system.baseUrl}/v1/Account/${sub.authId}/Masking/Session/`, {
          method: 'POST',
          headers: {
            authorization: `Basic ${Buffer.from(`${sub.authId}:${sub.authToken}`).toString('base64')}`,
            'content-type': 'application/json',
            'idempotency-key': key,
          },
          body: JSON.stringify({ first_party: '+16286660999', second_party: second }),
        });
        const json = (await res.json()) as Json;
        expect([res.status, json.error]).toEqual([201, undefined]);
        ids.push(String(json.session_uuid));
      }
      expect(ids[0]).not.toBe(ids[1]);
      await expectRejected(await west.api(`/Masking/Session/${ids[0]}/`), 404, /not found/);
      await expectRejected(await west.api(`/Masking/Session/${ids[0]}/Callbacks/`), 404, /not found/);
      expect((await acme.api(`/Masking/Session/${ids[0]}/`)).status).toBe(200);
    });

    it('does not let a subaccount take over its sibling’s number by adding it again', async () => {
      for (const body of [
        { numbers: '14155550711', fallback_answer_url: 'https://calls.west.test/steal' },
        {
          numbers: '+14155550711',
          provider: 'plivo',
          provider_auth_id: 'MAWEST00000000000001',
          provider_auth_token: 'w'.repeat(32),
        },
      ]) {
        await expectRejected(await west.api('/Number/', { body }), 409, /belongs to another account/);
      }
      const mine = (await (await east.api('/Number/14155550711/')).json()) as Json;
      expect(mine).toMatchObject({ fallback_answer_url: null, webhook_credentials_set: false });
      // The main account owns its subaccounts' numbers, and may.
      expect(
        (await acme.api('/Number/', { body: { numbers: '14155550711', subaccount: east.authId } })).status,
      ).toBe(202);
    });
  });

  describe('callback URLs', () => {
    it('refuses every other spelling of an allowlisted address, and stores what was sent', async () => {
      for (const host of [
        '2130706433',
        '0x7f000001',
        '127.1',
        '0177.0.0.1',
        '127.000.000.001',
        '0x7f.1',
        '[::ffff:127.0.0.1]',
      ]) {
        const res = await acme.api('/Masking/Session/', {
          body: { first_party: nextPhone(), second_party: nextPhone(), callback_url: `http://${host}:9/cb` },
        });
        await expectRejected(res, 400, /callback_url must not point at a private or reserved address/);
      }
      const written = `${outside.baseUrl}/as-written?x=1`;
      const s = await session({ callback_url: written });
      expect((s.session as Json).callback_url).toBe(written);
    });

    it('accepts a host that does not resolve yet, and delivers once it does', async () => {
      const port = new URL(outside.baseUrl).port;
      const s = await session({ callback_url: `http://late.customer.test:${port}/late` });
      const id = String(s.session_uuid);
      expect((await acme.api(`/Masking/Session/${id}/`, { method: 'DELETE' })).status).toBe(200);
      // The first attempt finds no address...
      await expectEventually(async () => {
        const r = (await (await acme.api(`/Masking/Session/${id}/Callbacks/`)).json()) as {
          attempts: Json[];
        };
        expect(r.attempts[0]).toMatchObject({
          outcome: 'retry',
          error: 'host late.customer.test does not resolve to a public address',
        });
      });
      // ...then the name starts resolving, and the retry is delivered.
      system.dns.set('late.customer.test', ['127.0.0.1']);
      await expectEventually(
        () => expect(outside.for('/late').map((r) => r.params.EventName)).toEqual(['SessionTimeout']),
        {
          timeoutMs: 10_000,
        },
      );
    });

    it('takes a name that resolves only inside the network as it takes one that does not resolve: accepted, never called, dead-lettered in the same words', async () => {
      system.dns.set('inside.customer.test', ['10.0.0.7']);
      const created = await acme.api('/Masking/Session/', {
        body: {
          first_party: nextPhone(),
          second_party: nextPhone(),
          callback_url: 'http://inside.customer.test/cb',
        },
      });
      expect(created.status).toBe(201);
      const id = String(((await created.json()) as Json).session_uuid);
      expect((await acme.api(`/Masking/Session/${id}/`, { method: 'DELETE' })).status).toBe(200);
      await expectEventually(
        async () => {
          const r = (await (await acme.api(`/Masking/Session/${id}/Callbacks/`)).json()) as {
            dead_letters: Json[];
          };
          expect(r.dead_letters).toEqual([
            expect.objectContaining({
              reason: 'host inside.customer.test does not resolve to a public address',
              attempts: 6,
            }),
          ]);
        },
        { timeoutMs: 20_000 },
      );
    });

    it('dead-letters a callback whose host never resolves, saying so, to its own subaccount only', async () => {
      const created = await east.api('/Masking/Session/', {
        body: {
          first_party: nextPhone(),
          second_party: nextPhone(),
          callback_url: 'http://never.customer.test/cb',
        },
      });
      expect(created.status).toBe(201);
      const id = String(((await created.json()) as Json).session_uuid);
      expect((await east.api(`/Masking/Session/${id}/`, { method: 'DELETE' })).status).toBe(200);
      await expectEventually(
        async () => {
          const r = (await (await east.api(`/Masking/Session/${id}/Callbacks/`)).json()) as {
            dead_letters: Json[];
          };
          expect(r.dead_letters).toEqual([
            expect.objectContaining({
              reason: 'host never.customer.test does not resolve to a public address',
              attempts: 6,
            }),
          ]);
        },
        { timeoutMs: 20_000 },
      );
      expect(system.dns.asked.filter((n) => n === 'never.customer.test').length).toBeGreaterThanOrEqual(6);
      const letters = async (who: TestAccount) =>
        (
          (await (await who.api('/Masking/Callbacks/DeadLetters/')).json()) as { objects: Json[] }
        ).objects.filter((l) => l.session_uuid === id);
      const [letter] = await letters(east);
      expect(letter).toBeDefined();
      expect(await letters(acme)).toHaveLength(1);
      expect(await letters(west)).toHaveLength(0);
      await expectRejected(
        await west.api('/Masking/Callbacks/DeadLetters/Replay/', { body: { event_id: letter.event_id } }),
        404,
        /not found/,
      );
    });
  });

  describe('provider credentials', () => {
    const sim = (token: string) =>
      new TelephonySimulator(system.baseUrl, 'plivo', { ...provider, authToken: token });

    it('applies a number’s new credentials, and an account’s new token, at once on every gateway replica', async () => {
      const port = await freePort();
      const second = `http://127.0.0.1:${port}`;
      // Behind a balancer both would share one public URL; here each is reached (and signed for) at its own.
      system.startService('gateway', { HTTP_PORT: String(port), PUBLIC_BASE_URL: second }, 'gateway-2');
      await expectEventually(async () => expect((await fetch(`${second}/health`)).status).toBe(200), {
        timeoutMs: 20_000,
      });
      const s = await session();
      const vn = `+${String(s.virtual_number).replace(/^\+/, '')}`;
      const [from] = [String((s.session as Json).first_party)];
      const caller = `+${from.replace(/^\+/, '')}`;
      // Both replicas know the number's credentials (and cache them).
      for (const base of [system.baseUrl, second]) {
        const ok = await new TelephonySimulator(base, 'plivo', provider).call({ from: caller, to: vn });
        expect(ok.refused).toBeUndefined();
      }
      const rotated = randomBytes(20).toString('hex');
      const changed = await acme.api(`/Number/${vn.slice(1)}/`, {
        body: { provider: 'plivo', provider_auth_id: provider.accountId, provider_auth_token: rotated },
      });
      expect(changed.status).toBe(202);
      // Far sooner than the 30 s a cached entry would otherwise live.
      for (const base of [system.baseUrl, second]) {
        await expectEventually(
          async () => {
            const report = await new TelephonySimulator(base, 'plivo', {
              ...provider,
              authToken: rotated,
            }).call({ from: caller, to: vn });
            expect(report.refused).toBeUndefined();
          },
          { timeoutMs: 3000 },
        );
        expect(
          (await new TelephonySimulator(base, 'plivo', provider).call({ from: caller, to: vn })).refused,
        ).toBe(403);
      }
      provider.authToken = rotated;

      // An Auth Token rotated through one replica stops working on the other at once too.
      const tenant = await createAccount(system, 'rotating');
      const get = (base: string, token: string) =>
        fetch(`${base}/v1/Account/${tenant.authId}/`, {
          headers: { authorization: `Basic ${Buffer.from(`${tenant.authId}:${token}`).toString('base64')}` },
        });
      for (const base of [system.baseUrl, second])
        expect((await get(base, tenant.authToken)).status).toBe(200);
      const rotation = await fetch(`${system.baseUrl}/admin/v1/accounts/${tenant.authId}/token`, {
        method: 'POST',
        headers: { 'x-operator-key': system.operatorKey },
      });
      expect(rotation.status).toBe(200);
      const fresh = ((await rotation.json()) as Json).auth_token as string;
      for (const base of [system.baseUrl, second]) {
        await expectEventually(async () => expect((await get(base, tenant.authToken)).status).toBe(401), {
          timeoutMs: 3000,
        });
        expect((await get(base, fresh)).status).toBe(200);
      }
      await system.stopNamed('gateway-2');
    });

    it('answers a webhook during a number-pool outage with "try again later", never 403', async () => {
      // A number this gateway has not looked up yet (nothing cached): the lookup itself fails.
      const res = await acme.api('/Number/', {
        body: {
          numbers: '14155550709',
          provider: 'plivo',
          provider_auth_id: provider.accountId,
          provider_auth_token: provider.authToken,
        },
      });
      expect(res.status).toBe(202);
      await system.stopService('number-pool');
      try {
        const report = await sim(provider.authToken).call({ from: nextPhone(), to: '+14155550709' });
        expect(report.refused).toBeUndefined();
        expect(report.requests[0].status).toBe(200);
        expect(report.heard).toEqual([
          'say:We cannot connect your call right now. Please try again later. Goodbye.',
        ]);
        const logged = system
          .logs('gateway')
          .filter((l) => l.msg === 'routing unavailable: answering with a short message');
        expect(logged.at(-1)).toMatchObject({ code: expect.stringMatching(/^RPC\./) });
      } finally {
        system.startService('number-pool');
        await system.waitHealthy();
      }
    });
  });
});
