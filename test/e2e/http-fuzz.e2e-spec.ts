import { randomBytes, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import * as fc from 'fast-check';
import * as twilio from 'twilio';
import { VOICE_STAGES } from '@maskline/contracts';
import { plivoV3Signature } from '@maskline/webhook-signatures';
import { createAccount, type TestAccount } from './support/accounts';
import { E2eSystem } from './support/e2e-system';

/**
 * A reproducible fuzz of the whole public HTTP surface: generated methods, paths, queries,
 * headers and bodies, across every route (the Plivo API, the admin API, telephony webhooks, some
 * signed so they reach routing). It passes when no answer is a 5xx, none hangs, and every 4xx is
 * Plivo's error body `{api_id, error}`. Set FUZZ_SEED / FUZZ_RUNS to replay or widen a run.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261128);
const RUNS = Number(process.env.FUZZ_RUNS ?? 2500);
const TIMEOUT_MS = 10_000;

describe(`fuzzing the public HTTP surface (seed ${SEED}, ${RUNS} requests)`, () => {
  let system: E2eSystem;
  let acme: TestAccount;
  let rival: TestAccount;
  let sessionId = '';
  const plivoCreds = {
    accountId: `MA${randomBytes(9).toString('hex').toUpperCase()}`,
    authToken: 'p'.repeat(32),
  };
  const twilioCreds = { accountId: `AC${randomBytes(16).toString('hex')}`, authToken: 't'.repeat(32) };
  const NUMBERS = { plivo: '+14155550801', twilio: '+14155550802' };

  beforeAll(async () => {
    system = await E2eSystem.start({ RATE_LIMIT_PER_SECOND: '100000', RATE_LIMIT_BURST: '100000' });
    acme = await createAccount(system, 'acme');
    rival = await createAccount(system, 'rival');
    for (const [provider, creds] of [
      ['plivo', plivoCreds],
      ['twilio', twilioCreds],
    ] as const) {
      const res = await acme.api('/Number/', {
        body: {
          numbers: NUMBERS[provider],
          provider,
          provider_auth_id: creds.accountId,
          provider_auth_token: creds.authToken,
        },
      });
      expect(res.status).toBe(202);
    }
    const s = await acme.api('/Masking/Session/', {
      body: {
        first_party: '+16285559001',
        second_party: '+16285559002',
        is_pin_authentication_required: true,
        generate_pin: true,
      },
    });
    sessionId = String(((await s.json()) as { session_uuid: string }).session_uuid);
  });

  afterAll(async () => {
    await system?.stop();
  });

  it('never answers 5xx, never hangs, and every 4xx is in Plivo’s error shape', async () => {
    const text = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'grapheme', maxLength: 20 }),
      fc.constantFrom(
        '',
        ' ',
        '..',
        '%00',
        '%zz',
        '\u0000',
        '+14155550801',
        '14155550801',
        'null',
        '[]',
        '{}',
        'true',
        '-1',
        '1e309',
        '0x10',
      ),
    );
    const authId = fc.constantFrom('acme', 'rival', 'MA00000000000000000X', 'garbage', '');
    const segment = {
      session: fc.oneof(fc.constant('SESSION'), fc.uuid().map(String), text),
      number: fc.oneof(fc.constantFrom('14155550801', '14155550802', '+14155550801', '442071838750'), text),
    };
    const path = fc.oneof(
      fc
        .tuple(
          authId,
          fc.constantFrom(
            '',
            '/',
            '/Masking/Session',
            '/Masking/Session/',
            '/Number/',
            '/Masking/Utilization/',
            '/Masking/Callbacks/DeadLetters/',
            '/Masking/Callbacks/DeadLetters/Replay/',
            '/Subaccount/',
          ),
        )
        .map(([a, p]) => ({ auth: a, path: `/v1/Account/${a}${p}` })),
      fc
        .tuple(authId, segment.session, fc.constantFrom('/', '', '/Callbacks/', '/Callbacks', '/x/'))
        .map(([a, s, tail]) => ({
          auth: a,
          path: `/v1/Account/${a}/Masking/Session/${encodeURIComponent(s)}${tail}`,
        })),
      fc
        .tuple(authId, segment.number)
        .map(([a, n]) => ({ auth: a, path: `/v1/Account/${a}/Number/${encodeURIComponent(n)}/` })),
      fc
        .tuple(
          fc.constantFrom('plivo', 'twilio', 'vonage', ''),
          fc.constantFrom<string>(...VOICE_STAGES, 'nope'),
        )
        .map(([p, s]) => ({ auth: 'voice', path: `/voice/${p}/${s}` })),
      fc
        .constantFrom(
          '/admin/v1/accounts',
          '/admin/v1/accounts/acme',
          '/admin/v1/accounts/acme/subaccounts',
          '/admin/v1/accounts/acme/token',
          '/admin/v1/self-test',
          '/health',
          '/docs',
          '/nowhere',
          '/v1/',
          '//v1//Account',
        )
        .map((p) => ({ auth: 'admin', path: p })),
    );
    const known = [
      'first_party',
      'second_party',
      'session_expiry',
      'call_time_limit',
      'ring_timeout',
      'callback_url',
      'callback_method',
      'record',
      'record_file_format',
      'recording_callback_url',
      'is_pin_authentication_required',
      'generate_pin',
      'generate_pin_length',
      'first_party_pin',
      'second_party_pin',
      'pin_retry',
      'pin_retry_wait',
      'subaccount',
      'geomatch',
      'limit',
      'offset',
      'status',
      'numbers',
      'provider',
      'provider_auth_id',
      'provider_auth_token',
      'alias',
      'fallback_answer_url',
      'event_id',
      'name',
      'created_time__gt',
      'duration',
      'session_uuid',
      'From',
      'To',
      'CallUUID',
      'CallSid',
      'Digits',
      'DialStatus',
      'ctx',
      'vn',
    ];
    const key = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...known) },
      { weight: 1, arbitrary: text },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          'limit[]',
          'first_party[$ne]',
          '$where',
          '__proto__',
          'constructor',
          'a.b',
          'a[b][c]',
        ),
      },
    );
    const value = fc.oneof(
      text,
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.constantFrom(
        'http://127.0.0.1:9/cb',
        'http://2130706433/',
        'http://[::1]/',
        'ftp://x',
        'https://hooks.fuzz.test/cb',
        '+16285559003',
        '4821',
        '2026-13-01',
        '2026-02-30 10:00',
        '2026-01-01 24:00',
      ),
      fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
    );
    const jsonBody = fc.oneof(
      fc.dictionary(key, value, { maxKeys: 8 }).map((o) => JSON.stringify(o)),
      fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v)),
      fc.integer({ min: 20, max: 3000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
      text,
    );
    const formBody = fc.dictionary(key, text, { maxKeys: 8 }).map((o) => new URLSearchParams(o).toString());
    const request = fc.record({
      method: fc.constantFrom('GET', 'POST', 'POST', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'HEAD'),
      target: path,
      query: fc.array(fc.tuple(key, text), { maxLength: 4 }),
      rawQuery: fc.constantFrom('', '', '', '&%zz', '&a[b]=c', '&limit=1&limit=2', '&ctx=k1.x.y'),
      credentials: fc.constantFrom('own', 'own', 'rival', 'wrong', 'malformed', 'none'),
      contentType: fc.constantFrom(
        'application/json',
        'application/json',
        'application/x-www-form-urlencoded',
        'text/plain',
        'application/json; charset=latin1',
        undefined,
      ),
      encoding: fc.constantFrom(undefined, undefined, undefined, 'gzip', 'gzip-broken', 'br', 'zstd'),
      json: jsonBody,
      form: formBody,
      sign: fc.constantFrom('none', 'plivo', 'twilio'),
      correlation: fc.option(text),
      idempotency: fc.option(text),
    });

    const statuses = new Map<number, number>();
    type Generated = typeof request extends fc.Arbitrary<infer T> ? T : never;
    const check = async (r: Generated) => {
      const accountFor = (a: string) => (a === 'acme' ? acme.authId : a === 'rival' ? rival.authId : a);
      let p = r.target.path
        .replace('/Account/acme', `/Account/${acme.authId}`)
        .replace('/Account/rival', `/Account/${rival.authId}`)
        .replace('/accounts/acme', `/accounts/${acme.authId}`)
        .replace('SESSION', sessionId);
      const qs = new URLSearchParams(r.query).toString();
      p = `${p}${qs ? `?${qs}` : r.rawQuery ? '?' : ''}${r.rawQuery}`;
      const headers: Record<string, string> = {};
      if (r.contentType) headers['content-type'] = r.contentType;
      const who = r.credentials === 'rival' ? rival : acme;
      if (r.credentials === 'own' || r.credentials === 'rival') {
        headers.authorization = `Basic ${Buffer.from(`${accountFor(r.target.auth === 'rival' ? 'rival' : who === rival ? 'rival' : 'acme')}:${who.authToken}`).toString('base64')}`;
        headers['x-operator-key'] = system.operatorKey;
      } else if (r.credentials === 'wrong') {
        headers.authorization = `Basic ${Buffer.from(`${acme.authId}:nope`).toString('base64')}`;
        headers['x-operator-key'] = 'x'.repeat(40);
      } else if (r.credentials === 'malformed') {
        headers.authorization = 'Basic %%%';
      }
      if (r.correlation !== null) headers['x-request-id'] = encodeURIComponent(r.correlation).slice(0, 200);
      if (r.idempotency !== null)
        headers['idempotency-key'] = encodeURIComponent(r.idempotency).slice(0, 300);
      let body: string | Buffer | undefined =
        r.method === 'GET' || r.method === 'HEAD'
          ? undefined
          : r.contentType === 'application/x-www-form-urlencoded'
            ? r.form
            : r.json;
      if (body !== undefined && r.target.path.startsWith('/voice/') && r.sign !== 'none') {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        const params = Object.fromEntries(new URLSearchParams(r.form));
        params[r.sign === 'plivo' ? 'To' : 'To'] =
          r.sign === 'plivo' ? NUMBERS.plivo.slice(1) : NUMBERS.twilio;
        if (r.sign === 'twilio') params.AccountSid = twilioCreds.accountId;
        body = new URLSearchParams(params).toString();
        const url = `${system.baseUrl}${p}`;
        if (r.sign === 'plivo') {
          const nonce = randomUUID();
          headers['x-plivo-signature-v3'] = plivoV3Signature(
            'POST',
            url,
            params,
            nonce,
            plivoCreds.authToken,
          );
          headers['x-plivo-signature-v3-nonce'] = nonce;
        } else {
          headers['x-twilio-signature'] = twilio.getExpectedTwilioSignature(
            twilioCreds.authToken,
            url,
            params,
          );
        }
      }
      if (body !== undefined && r.encoding) {
        if (r.encoding === 'gzip') body = gzipSync(body);
        headers['content-encoding'] = r.encoding === 'gzip-broken' ? 'gzip' : r.encoding;
      }
      const res = await fetch(`${system.baseUrl}${p}`, {
        method: r.method,
        headers,
        body,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      const answer = await res.text();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const where = `${r.method} ${p} → ${res.status} ${answer.slice(0, 200)}`;
      if (res.status >= 500) throw new Error(`5xx: ${where}`);
      if (res.status >= 400 && r.method !== 'HEAD') {
        let parsed: unknown;
        try {
          parsed = JSON.parse(answer);
        } catch {
          throw new Error(`4xx not in Plivo's shape: ${where}`);
        }
        const keys = Object.keys(parsed as object)
          .sort()
          .join(',');
        if (keys !== 'api_id,error' || typeof (parsed as { error: unknown }).error !== 'string') {
          throw new Error(`4xx not in Plivo's shape: ${where}`);
        }
      }
    };
    await fc.assert(fc.asyncProperty(request, check), { seed: SEED, numRuns: RUNS, endOnFailure: true });
    // The run reached past authentication into validation, routing and success, not just the door.
    process.stdout.write(
      `fuzz statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}\n`,
    );
    for (const status of [200, 400, 401, 403, 404, 405, 415])
      expect([status, statuses.has(status)]).toEqual([status, true]);
    // Still healthy afterwards.
    expect((await fetch(`${system.baseUrl}/health`)).status).toBe(200);
  }, 600_000);
});
