import { createHash, randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { CallProgressed, SESSION_FIELDS, SessionExpired, SessionUpdated } from '@maskline/contracts';
import { encodeJson } from '@maskline/messaging';
import { expectEventually } from '@maskline/testing';
import { createAccount, type TestAccount } from './support/accounts';
import { E2eSystem } from './support/e2e-system';
import { eventsOn } from './support/stream-events';
import { plivoClient } from './support/plivo-sdk';

interface SdkSessions {
  createMaskingSession(first: string, second: string, params?: object): Promise<Record<string, unknown>>;
  getMaskingSession(id: string): Promise<{ response: Record<string, unknown> }>;
  listMaskingSession(
    params: object,
  ): Promise<{ response: { meta: Record<string, unknown>; objects: Array<Record<string, unknown>> } }>;
  updateMaskingSession(
    id: string,
    params: object,
  ): Promise<{ message: string; session: Record<string, unknown> }>;
  deleteMaskingSession(id: string): Promise<{ message: string }>;
}

type Json = Record<string, unknown>;
const PLIVO_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \+0000 UTC$/;
const party = (i: number) => `+1415556${String(1000 + i)}`;

describe('Masking Session API (Plivo-compatible) through the gateway', () => {
  let system: E2eSystem;
  let acme: TestAccount;
  let rival: TestAccount;
  let nc: NatsConnection;

  beforeAll(async () => {
    system = await E2eSystem.start();
    acme = await createAccount(system, 'acme');
    rival = await createAccount(system, 'rival');
    await acme.api('/Number/', { body: { numbers: '14155550100,14155550101,14155550102,442071838750' } });
    nc = await connect({ servers: system.natsUrl });
  });

  afterAll(async () => {
    await nc?.close();
    await system?.stop();
  });

  const create = async (body: Json, headers: Record<string, string> = {}) => {
    const res = await fetch(`${system.baseUrl}/v1/Account/${acme.authId}/Masking/Session/`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${acme.authId}:${acme.authToken}`).toString('base64')}`,
        'content-type': 'application/json',
        ...headers,
      },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Json };
  };

  it('works with Plivo’s own Node SDK: create, get, list, update, expire', async () => {
    const sdk = (
      plivoClient(system.baseUrl, acme.authId, acme.authToken) as unknown as { maskingSession: SdkSessions }
    ).maskingSession;
    const created = await sdk.createMaskingSession(party(1), party(2), {
      isPinAuthenticationRequired: true,
      firstPartyPin: '48291',
      secondPartyPin: '73162',
      pinRetry: 2,
      callbackUrl: 'http://127.0.0.1:9/cb',
    });
    expect(created.message).toBe('Session created');
    expect(created.virtualNumber).toBe('+14155550100');
    const sessionUuid = created.sessionUuid as string;
    const session = created.session as Json;
    expect(session).toMatchObject({
      firstParty: '14155561001',
      secondParty: '14155561002',
      virtualNumber: '14155550100',
      status: 'active',
      firstPartyPin: '48291',
      secondPartyPin: '73162',
      pinRetry: 2,
      isPinAuthenticationRequired: true,
      callbackMethod: 'POST',
      interaction: null,
      totalCallCount: 0,
      lastInteractionTime: '',
    });
    expect(session.createdTime).toMatch(PLIVO_TIME);
    expect(session.duration).toBe(3600);

    const got = await sdk.getMaskingSession(sessionUuid);
    expect(got.response).toMatchObject({ sessionUuid, firstPartyPin: '48291', status: 'active' });

    const listed = await sdk.listMaskingSession({ firstParty: '14155561001', status: 'active' });
    expect(listed.response.meta).toMatchObject({ totalCount: 1, limit: 20, offset: 0 });
    expect(listed.response.objects[0]).toMatchObject({
      sessionUuid,
      resourceUri: `/v1/Account/${acme.authId}/Masking/Session/${sessionUuid}/`,
    });

    const updated = await sdk.updateMaskingSession(sessionUuid, { sessionExpiry: 600, ringTimeout: 30 });
    expect(updated.message).toBe('Session updated');
    expect(updated.session).toMatchObject({ ringTimeout: 30 });
    const expiry = Date.parse(
      (updated.session.expiryTime as string).replace(' +0000 UTC', 'Z').replace(' ', 'T'),
    );
    const modified = Date.parse(
      (updated.session.modifiedTime as string).replace(' +0000 UTC', 'Z').replace(' ', 'T'),
    );
    expect(expiry - modified).toBe(600_000);

    expect((await sdk.deleteMaskingSession(sessionUuid)).message).toBe('Session expired');
    await expect(sdk.deleteMaskingSession(sessionUuid)).rejects.toThrow('Session already expired');
  });

  it('documents every session setting of the field table in OpenAPI, and only the updatable ones for update', async () => {
    const doc = (await (await fetch(`${system.baseUrl}/docs-json`)).json()) as {
      components: { schemas: Record<string, { properties: Record<string, { default?: unknown }> }> };
    };
    const create = doc.components.schemas.CreateSessionDto.properties;
    const update = doc.components.schemas.UpdateSessionDto.properties;
    for (const field of Object.values(SESSION_FIELDS)) {
      expect([field.plivo, create[field.plivo]?.default]).toEqual([field.plivo, field.default ?? undefined]);
      expect([field.plivo, field.plivo in update]).toEqual([
        field.plivo,
        field.updatable || 'ignoredOnUpdate' in field,
      ]);
    }
  });

  it('takes form-encoded bodies too, and generates PINs (default length 4)', async () => {
    const res = await acme.api('/Masking/Session', {
      form: {
        first_party: '14155561003',
        second_party: '14155561004',
        is_pin_authentication_required: 'true',
        generate_pin: 'true',
      },
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { session: Json };
    expect(body.session.first_party_pin).toMatch(/^\d{4}$/);
    expect(body.session.second_party_pin).toMatch(/^\d{4}$/);
    expect(body.session.first_party_pin).not.toBe(body.session.second_party_pin);
    expect(body.session.generate_pin_length).toBe(4);
  });

  it('never shows one account’s sessions to another: 404', async () => {
    const { body } = await create({ first_party: party(5), second_party: party(6) });
    const res = await rival.api(`/Masking/Session/${body.session_uuid as string}/`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as Json).error).toMatch(/not found/);
    const del = await rival.api(`/Masking/Session/${body.session_uuid as string}/`, { method: 'DELETE' });
    expect(del.status).toBe(404);
    const list = (await (await rival.api('/Masking/Session/')).json()) as { response: { meta: Json } };
    expect(list.response.meta.total_count).toBe(0);
  });

  it('makes creation safe to retry with an Idempotency-Key', async () => {
    const key = randomUUID();
    const body = { first_party: party(7), second_party: party(8) };
    const a = await create(body, { 'idempotency-key': key });
    const b = await create(body, { 'idempotency-key': key });
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.body.session_uuid).toBe(a.body.session_uuid);
    const c = await create({ ...body, ring_timeout: 30 }, { 'idempotency-key': key });
    expect(c.status).toBe(422);
    expect(c.body.error).toMatch(/Idempotency-Key was already used with a different request body/);
    // What the key's claim keeps of a request is a keyed digest: a body's PINs cannot be found from it
    // by hashing candidate bodies (a plain SHA-256 of the body gave them back in 10^8 tries).
    const pinned = {
      first_party: party(60),
      second_party: party(61),
      is_pin_authentication_required: true,
      first_party_pin: '4821',
      second_party_pin: '7390',
    };
    expect((await create(pinned, { 'idempotency-key': randomUUID() })).status).toBe(201);
    const plain = createHash('sha256')
      .update(JSON.stringify(pinned, Object.keys(pinned).sort()))
      .digest('hex');
    const kept = await system.withStore('session-service', (db) =>
      db.collection('idempotency_keys').find({}).toArray(),
    );
    expect(kept.length).toBeGreaterThanOrEqual(2);
    expect(kept.map((k) => k.requestHash)).not.toContain(plain);
  });

  it('gives a second PIN session with a clashing PIN another number', async () => {
    const pins = {
      is_pin_authentication_required: true,
      first_party_pin: '55501',
      second_party_pin: '55502',
    };
    const first = await create({ first_party: party(9), second_party: party(10), ...pins });
    const second = await create({ first_party: party(11), second_party: party(12), ...pins });
    expect(first.status).toBe(201);
    expect(second.body).toMatchObject({ message: 'Session created' });
    expect(second.status).toBe(201);
    expect(second.body.virtual_number).not.toBe(first.body.virtual_number);
  });

  it('lets a single-party session gain its second party by update', async () => {
    const { body } = await create({ first_party: party(13), create_session_with_single_party: true });
    expect((body.session as Json).second_party).toBe('');
    const id = body.session_uuid as string;
    const res = await acme.api(`/Masking/Session/${id}`, { body: { second_party: party(14) } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { session: Json }).session.second_party).toBe('14155561014');
    const again = await acme.api(`/Masking/Session/${id}`, { body: { second_party: party(15) } });
    expect(again.status).toBe(400);
  });

  it('takes updates of one session sent at once in turn: each keeps the others’ changes, announced in order', async () => {
    const changes: Json[] = [{ ring_timeout: 45 }, { call_time_limit: 1200 }, { record: true }];
    // An account's requests that read history (an update answers with its calls) are at most 4 at once.
    const ids: string[] = [];
    for (const i of [30, 32]) {
      const { status, body } = await create({ first_party: party(i), second_party: party(i + 1) });
      expect(status).toBe(201);
      const id = body.session_uuid as string;
      ids.push(id);
      const answers = await Promise.all(changes.map((body) => acme.api(`/Masking/Session/${id}/`, { body })));
      expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    }
    const settled = { ringTimeoutSeconds: 45, callTimeLimitSeconds: 1200, record: true };
    for (const id of ids) {
      const got = (await (await acme.api(`/Masking/Session/${id}`)).json()) as { response: Json };
      expect(got.response).toMatchObject({ ring_timeout: 45, call_time_limit: 1200, record: true });
      // The routers and dispatchers keep the latest view by modifiedAt: that one is the store's.
      await expectEventually(async () => {
        const updates = (await eventsOn(nc, SessionUpdated)).filter((e) => e.sessionId === id);
        expect(updates).toHaveLength(3);
        const times = updates.map((e) => Date.parse(e.routing!.modifiedAt!));
        expect([...times].sort((a, b) => a - b)).toEqual(times);
        expect(new Set(times).size).toBe(3);
        expect(updates[2]!.routing!.settings).toMatchObject(settled);
      });
    }

    // Two updates racing to give a single-party session its second party: one wins, one is told why.
    const { body } = await create({ first_party: party(36), create_session_with_single_party: true });
    const single = body.session_uuid as string;
    const racing = await Promise.all(
      [37, 38].map((i) => acme.api(`/Masking/Session/${single}`, { body: { second_party: party(i) } })),
    );
    expect(racing.map((r) => r.status).sort()).toEqual([200, 400]);
    const won = racing.find((r) => r.status === 200)!;
    const winner = ((await won.json()) as { session: Json }).session.second_party;
    const stored = (await (await acme.api(`/Masking/Session/${single}`)).json()) as { response: Json };
    expect(stored.response.second_party).toBe(winner);

    // Another tenant naming the session gets 404 and changes nothing.
    const foreign = await rival.api(`/Masking/Session/${ids[0]}/`, { body: { ring_timeout: 5 } });
    expect(foreign.status).toBe(404);
    const after = (await (await acme.api(`/Masking/Session/${ids[0]}`)).json()) as { response: Json };
    expect(after.response.ring_timeout).toBe(45);
  });

  it('expires a session at its expiry time: status, number released, one SessionTimeout event', async () => {
    const { body } = await create({ first_party: party(16), second_party: party(17), session_expiry: 2 });
    const id = body.session_uuid as string;
    await expectEventually(
      async () => {
        const got = (await (await acme.api(`/Masking/Session/${id}`)).json()) as { response: Json };
        expect(got.response.status).toBe('expired');
      },
      { timeoutMs: 6000 },
    );
    // The number is free again for these parties at once (no cool-off).
    const again = await create({ first_party: party(16), second_party: party(17) });
    expect(again.body.virtual_number).toBe(body.virtual_number);
    const events = await eventsOn(nc, SessionExpired);
    expect(events.filter((e) => e.sessionId === id)).toEqual([
      expect.objectContaining({ reason: 'timeout' }),
    ]);
  });

  it('builds interactions and totals from call events, and shows in-progress during a call', async () => {
    const { body } = await create({ first_party: party(18), second_party: party(19) });
    const id = body.session_uuid as string;
    const js = nc.jetstream();
    const publish = (step: string, extra: Json = {}) =>
      js.publish(
        CallProgressed.subject,
        encodeJson({
          accountId: acme.authId,
          sessionId: id,
          callId: 'call-1',
          step,
          at: new Date().toISOString(),
          ...extra,
        }),
        { msgID: `test:${id}:${step}` },
      );
    await publish('first-party-answered', { firstPartyCallUuid: 'A-1', status: 'answered' });
    await publish('second-party-answered', { secondPartyCallUuid: 'B-1', status: 'answered' });
    await expectEventually(async () => {
      const got = (await (await acme.api(`/Masking/Session/${id}`)).json()) as { response: Json };
      expect(got.response.status).toBe('in-progress');
    });
    await publish('parties-hangup', { durationSeconds: 48, billedDurationSeconds: 60 });
    await expectEventually(async () => {
      const got = (await (await acme.api(`/Masking/Session/${id}`)).json()) as { response: Json };
      expect(got.response).toMatchObject({
        status: 'active',
        total_call_count: 2,
        total_call_billed_duration: 60,
      });
      expect(got.response.last_interaction_time).toMatch(PLIVO_TIME);
      expect(got.response.interaction).toEqual([
        expect.objectContaining({
          type: 'call',
          duration: 48,
          call_billed_duration: 60,
          total_call_count: 2,
          first_party_resource_url: `/v1/Account/${acme.authId}/Call/A-1/`,
        }),
      ]);
    });
    // An update answers with the session as stored, its calls included (read while it is written).
    const updated = await acme.api(`/Masking/Session/${id}/`, { body: { session_expiry: 600 } });
    expect(updated.status).toBe(200);
    const { session } = (await updated.json()) as { session: Json };
    expect(session).toMatchObject({ total_call_count: 2, total_call_billed_duration: 60 });
    expect(session.interaction).toEqual([expect.objectContaining({ type: 'call', duration: 48 })]);
    // A list page reads the calls of all its sessions at once: each gets its own, no one else's.
    const other = await create({ first_party: party(18), second_party: party(20) });
    const listed = (await (
      await acme.api(`/Masking/Session/?first_party=${party(18).slice(1)}&status=active`)
    ).json()) as { response: { objects: Json[] } };
    const byId = new Map(listed.response.objects.map((o) => [o.session_uuid, o]));
    expect(byId.get(id)).toMatchObject({ total_call_count: 2, total_call_billed_duration: 60 });
    expect(byId.get(other.body.session_uuid)).toMatchObject({ total_call_count: 0, interaction: null });
  });

  it('answers 405 for a method the path does not take, 413 for an oversized body', async () => {
    const put = await acme.api('/Masking/Session/', { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(((await put.json()) as Json).error).toMatch(/not allowed/);
    const big = await acme.api('/Masking/Session/', {
      body: { first_party: party(1), padding: 'x'.repeat(70_000) },
    });
    expect(big.status).toBe(413);
  });

  describe('bad input is a 4xx in Plivo’s shape that names the field and the rule', () => {
    const ok = { first_party: party(30), second_party: party(31) };
    // The gateway's validation alone is unit-tested (create-session.dto.spec.ts); here, what needs
    // the services, and two of those to show the HTTP answer's shape.
    const cases: Array<[string, Json | string, number, RegExp]> = [
      ['missing first_party', { second_party: party(31) }, 400, /first_party is required/],
      ['missing second_party', { first_party: party(30) }, 400, /second_party is required/],
      [
        'invalid number',
        { ...ok, first_party: '+19999999999' },
        400,
        /first_party is not a valid phone number/,
      ],
      [
        'same number twice',
        { first_party: party(30), second_party: party(30) },
        400,
        /must be different numbers/,
      ],
      [
        'same number, + and no +',
        { first_party: party(30), second_party: party(30).slice(1) },
        400,
        /different numbers/,
      ],
      ['session_expiry 0', { ...ok, session_expiry: 0 }, 400, /session_expiry must be between 1 and 7776000/],
      [
        'equal PINs',
        { ...ok, is_pin_authentication_required: true, first_party_pin: '4829', second_party_pin: '4829' },
        400,
        /must differ/,
      ],
      [
        'PIN missing',
        { ...ok, is_pin_authentication_required: true, first_party_pin: '4829' },
        400,
        /second_party_pin is required/,
      ],
      [
        'callback_url not http',
        { ...ok, callback_url: 'ftp://127.0.0.1/cb' },
        400,
        /callback_url must be an http or https URL/,
      ],
      [
        'callback_url to a private network',
        { ...ok, callback_url: 'http://10.1.2.3/cb' },
        400,
        /callback_url must not point at a private or reserved address/,
      ],
      [
        'callback_url to cloud metadata',
        { ...ok, recording_callback_url: 'http://169.254.169.254/latest/meta-data' },
        400,
        /recording_callback_url must not point at a private or reserved address/,
      ],
      ['unknown subaccount', { ...ok, subaccount: 'SA000000000000000000' }, 400, /subaccount/],
      ['invalid JSON', '{"first_party": ', 400, /request body is not valid JSON/],
      [
        'no number in that country',
        { first_party: '+819012345678', second_party: party(31) },
        409,
        /no virtual number in JP/,
      ],
    ];
    it.each(cases)('%s', async (_name, body, status, message) => {
      const res = await acme.api('/Masking/Session/', { body });
      expect(res.status).toBe(status);
      const json = (await res.json()) as Json;
      expect(Object.keys(json).sort()).toEqual(['api_id', 'error']);
      expect(json.error).toMatch(message);
    });

    const other: Array<[string, string, string, Json | undefined, number, RegExp]> = [
      ['unknown session id', 'GET', `/Masking/Session/${randomUUID()}`, undefined, 404, /not found/],
      ['malformed session id', 'GET', '/Masking/Session/not-a-uuid', undefined, 404, /not found/],
      [
        'list limit 21',
        'GET',
        '/Masking/Session/?limit=21',
        undefined,
        400,
        /limit must be between 1 and 20/,
      ],
      ['list limit 0', 'GET', '/Masking/Session/?limit=0', undefined, 400, /limit must be between 1 and 20/],
      [
        'list negative offset',
        'GET',
        '/Masking/Session/?offset=-1',
        undefined,
        400,
        /offset must be between 0 and 10000/,
      ],
      [
        'list offset past the cap',
        'GET',
        '/Masking/Session/?offset=10001',
        undefined,
        400,
        /offset must be between 0 and 10000: narrow the search/,
      ],
      [
        'list bad status',
        'GET',
        '/Masking/Session/?status=gone',
        undefined,
        400,
        /status must be active, expired or all/,
      ],
      [
        'list bad time',
        'GET',
        '/Masking/Session/?created_time__gt=yesterday',
        undefined,
        400,
        /created_time__gt must be a time/,
      ],
      [
        'list a month that does not exist',
        'GET',
        '/Masking/Session/?created_time__gt=2026-13-01',
        undefined,
        400,
        /created_time__gt must be a time .* that exist/,
      ],
      [
        'list an hour that does not exist',
        'GET',
        '/Masking/Session/?expiry_time__lt=2026-01-01%2099:99',
        undefined,
        400,
        /expiry_time__lt must be a time/,
      ],
      [
        'list 30 February (plivo-node spelling)',
        'GET',
        '/Masking/Session/?created_times=2026-02-30',
        undefined,
        400,
        /created_times must be a time/,
      ],
      [
        'list bad duration',
        'GET',
        '/Masking/Session/?duration__lt=abc',
        undefined,
        400,
        /duration__lt must be an integer/,
      ],
    ];
    it.each(other)('%s', async (_name, method, path, body, status, message) => {
      const res = await acme.api(path, { method, body });
      expect(res.status).toBe(status);
      expect(((await res.json()) as Json).error).toMatch(message);
    });

    it('refuses to update a parameter Plivo does not allow to change, naming it', async () => {
      const { body } = await create({ first_party: party(40), second_party: party(41) });
      const res = await acme.api(`/Masking/Session/${body.session_uuid as string}/`, {
        body: { pin_retry: 3 },
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as Json).error).toBe('pin_retry cannot be updated on an existing session');
      const parties = await acme.api(`/Masking/Session/${body.session_uuid as string}/`, {
        body: { first_party: party(42) },
      });
      expect(parties.status).toBe(400);
      expect(((await parties.json()) as Json).error).toMatch(
        /first_party can only be set on a single-party session/,
      );
    });

    it('refuses null for an update’s setting that nothing unsets, naming it; a URL’s null unsets it', async () => {
      const { body } = await create({ first_party: party(43), second_party: party(44) });
      const at = `/Masking/Session/${body.session_uuid as string}/`;
      for (const name of ['session_expiry', 'record', 'callback_method']) {
        const res = await acme.api(at, { body: { [name]: null } });
        expect(res.status).toBe(400);
        const answer = (await res.json()) as Json;
        expect(answer.error).toBe(`${name} cannot be null: leave it out to keep its value`);
        expect(JSON.stringify(answer)).not.toContain('changes.');
      }
      const unset = await acme.api(at, { body: { callback_url: null } });
      expect(unset.status).toBe(200);
    });

    it('leaves no half-created session behind after a refused request', async () => {
      const before = (await (await acme.api('/Masking/Utilization/')).json()) as Json;
      await acme.api('/Masking/Session/', { body: { first_party: party(50), second_party: party(50) } });
      await acme.api('/Masking/Session/', {
        body: { first_party: '+819012345678', second_party: party(51) },
      });
      const after = (await (await acme.api('/Masking/Utilization/')).json()) as Json;
      expect(after.live_sessions).toBe(before.live_sessions);
    });
  });
});
