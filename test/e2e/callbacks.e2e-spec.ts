import { connect, type NatsConnection } from 'nats';
import * as plivo from 'plivo';
import { CallProgressed } from '@maskline/contracts';
import { encodeJson } from '@maskline/messaging';
import { expectEventually } from '@maskline/testing';
import { createAccount, type TestAccount } from './support/accounts';
import { CallbackReceiver, type ReceivedCallback } from './support/callback-receiver';
import { E2eSystem } from './support/e2e-system';

type Json = Record<string, unknown>;
const party = (i: number) => `+1415558${String(1000 + i)}`;
const DISPATCHER_ENV = {
  CALLBACK_RETRY_SCHEDULE_SECONDS: '1,1,1',
  // Long enough that a receiver in this busy process is never timed out (a retry would then be a
  // second delivery, rightly, and the exact counts below would fail); the hanging one hangs longer.
  CALLBACK_TIMEOUT_MS: '5000',
  CALLBACK_CONNECT_TIMEOUT_MS: '500',
  HOST_BREAKER_RESET_MS: '1500',
  HOST_BREAKER_VOLUME: '3',
};

/** Verifies a received callback with Plivo's own SDK helper, as a customer would. */
function validPlivoSignature(r: ReceivedCallback, authToken: string): boolean {
  const nonce = String(r.headers['x-plivo-signature-v3-nonce']);
  const signature = String(r.headers['x-plivo-signature-v3']);
  return !!plivo.validateV3Signature(
    r.method,
    r.url,
    nonce,
    authToken,
    signature,
    r.method === 'POST' ? r.params : {},
  );
}

describe('callback dispatcher: signed, retried, never-lost callbacks', () => {
  let system: E2eSystem;
  let receiver: CallbackReceiver;
  let acme: TestAccount;
  let nc: NatsConnection;
  let partyIndex = 0;

  beforeAll(async () => {
    receiver = await CallbackReceiver.start();
    system = await E2eSystem.start({}, (service) =>
      service === 'callback-dispatcher' ? DISPATCHER_ENV : {},
    );
    acme = await createAccount(system, 'acme');
    await acme.api('/Number/', { body: { numbers: '14155550120,14155550121,14155550122' } });
    nc = await connect({ servers: system.natsUrl });
  });

  afterAll(async () => {
    await nc?.close();
    await system?.stop();
    await receiver?.stop();
  });

  const session = async (path: string, extra: Json = {}) => {
    const res = await acme.api('/Masking/Session/', {
      body: {
        first_party: party(partyIndex++),
        second_party: party(partyIndex++),
        callback_url: `${receiver.baseUrl}${path}`,
        ...extra,
      },
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as Json).session_uuid as string;
  };
  const callEvents = async (sessionId: string, count: number) => {
    const js = nc.jetstream();
    for (let i = 0; i < count; i++) {
      await js.publish(
        CallProgressed.subject,
        encodeJson({
          accountId: acme.authId,
          sessionId,
          callId: `burst-${sessionId}-${i}`,
          step: 'first-party-answered',
          at: new Date().toISOString(),
          from: party(1),
          to: party(2),
        }),
        { msgID: `burst:${sessionId}:${i}` },
      );
    }
  };

  it('delivers SessionTimeout as a signed form POST that Plivo’s SDK verifies, with an event id', async () => {
    const id = await session('/ok', { session_expiry: 1 });
    await expectEventually(
      () => expect(receiver.for('/ok').filter((r) => r.params.SessionUUID === id)).toHaveLength(1),
      {
        timeoutMs: 8000,
      },
    );
    const r = receiver.for('/ok').find((x) => x.params.SessionUUID === id) as ReceivedCallback;
    expect(r.method).toBe('POST');
    expect(r.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(r.params).toMatchObject({
      EventName: 'SessionTimeout',
      SessionUUID: id,
      VirtualNumber: '14155550120',
    });
    expect(r.params.SequenceNumber).toMatch(/^\d+$/);
    expect(r.headers['x-maskline-event-id']).toMatch(/^evt-[0-9a-f]{32}$/);
    expect(validPlivoSignature(r, acme.authToken)).toBe(true);
    expect(validPlivoSignature(r, 'x'.repeat(40))).toBe(false);
  });

  it('numbers a session’s callbacks by when their events were stored, in order, never by their place on the stream every tenant shares', async () => {
    const mine = await session('/seq');
    const other = await session('/seq-other');
    const js = nc.jetstream();
    const step = (sessionId: string, callId: string, name: 'first-party-answered' | 'second-party-ringing') =>
      js.publish(
        CallProgressed.subject,
        encodeJson({
          accountId: acme.authId,
          sessionId,
          callId,
          step: name,
          at: new Date().toISOString(),
          from: party(1),
          to: party(2),
        }),
        { msgID: `seq:${sessionId}:${callId}:${name}` },
      );
    const before = Date.now() * 1000;
    await step(mine, 'c1', 'first-party-answered');
    // Another session's events in between: under the stream's numbering the gap counted them.
    await callEvents(other, 30);
    await step(mine, 'c1', 'second-party-ringing');
    await expectEventually(() => expect(receiver.for('/seq')).toHaveLength(2), { timeoutMs: 8000 });
    const after = Date.now() * 1000;
    const seq = (name: string) =>
      Number(receiver.for('/seq').find((r) => r.params.EventName === name)?.params.SequenceNumber);
    const answered = seq('SessionFirstPartyAnswer');
    const ringing = seq('SessionSecondPartyRing');
    // A time in microseconds (this machine's clock, the stream's too), not a count of events.
    expect(answered).toBeGreaterThanOrEqual(before);
    expect(ringing).toBeLessThanOrEqual(after);
    expect(answered).toBeLessThan(ringing);
  });

  it('uses GET with a query string when callback_method is GET, still signed', async () => {
    const id = await session('/get', { callback_method: 'GET', session_expiry: 1 });
    await expectEventually(() => expect(receiver.for('/get')).toHaveLength(1), { timeoutMs: 8000 });
    const r = receiver.for('/get')[0];
    expect(r.method).toBe('GET');
    expect(r.params).toMatchObject({ EventName: 'SessionTimeout', SessionUUID: id });
    expect(validPlivoSignature(r, acme.authToken)).toBe(true);
  });

  it('sends the events after a callback_url update to the new URL as soon as the dispatcher has heard of it (no stale cached target)', async () => {
    const id = await session('/before');
    const answered = async (callId: string) =>
      nc.jetstream().publish(
        CallProgressed.subject,
        encodeJson({
          accountId: acme.authId,
          sessionId: id,
          callId,
          step: 'first-party-answered',
          at: new Date().toISOString(),
          from: party(1),
          to: party(2),
        }),
        { msgID: `moved:${callId}` },
      );
    await answered(`${id}-1`);
    await expectEventually(() => expect(receiver.for('/before')).toHaveLength(1), { timeoutMs: 8000 });
    const heard = () => system.metric('callback-dispatcher', 'maskline_callback_target_updates_heard_total');
    const heardBefore = await heard();
    const update = await acme.api(`/Masking/Session/${id}`, {
      body: { callback_url: `${receiver.baseUrl}/after` },
    });
    expect(update.status).toBe(200);
    // The dispatcher learns of the update from its event (within moments): wait until it has.
    await expectEventually(async () => expect(await heard()).toBeGreaterThan(heardBefore));
    await answered(`${id}-2`);
    await expectEventually(() => expect(receiver.for('/after')).toHaveLength(1), { timeoutMs: 8000 });
    expect(receiver.for('/after')[0].params).toMatchObject({
      EventName: 'SessionFirstPartyAnswer',
      SessionUUID: id,
    });
    expect(receiver.for('/before')).toHaveLength(1);
  });

  it('retries 5xx with backoff until delivered, and records every attempt', async () => {
    receiver.on('/flaky', (_r, n) => ({ status: n <= 2 ? 503 : 200 }));
    const id = await session('/flaky');
    await callEvents(id, 1);
    await expectEventually(() => expect(receiver.for('/flaky')).toHaveLength(3), { timeoutMs: 10_000 });
    await expectEventually(async () => {
      const res = (await (await acme.api(`/Masking/Session/${id}/Callbacks/`)).json()) as {
        attempts: Json[];
      };
      expect(res.attempts.map((a) => [a.outcome, a.status_code])).toEqual([
        ['retry', 503],
        ['retry', 503],
        ['delivered', 200],
      ]);
    });
  });

  it('dead-letters a callback the receiver refuses (4xx), and replays it on request', async () => {
    let accept = false;
    receiver.on('/refuse', () => ({ status: accept ? 200 : 400 }));
    const id = await session('/refuse');
    await callEvents(id, 1);
    let eventId = '';
    await expectEventually(async () => {
      const res = (await (await acme.api('/Masking/Callbacks/DeadLetters/')).json()) as { objects: Json[] };
      const letter = res.objects.find((o) => o.session_uuid === id);
      expect(letter).toMatchObject({
        reason: 'HTTP 400',
        attempts: 1,
        event_name: 'SessionFirstPartyAnswer',
      });
      eventId = letter?.event_id as string;
    });
    accept = true;
    const replay = await acme.api('/Masking/Callbacks/DeadLetters/Replay/', { body: { event_id: eventId } });
    expect(replay.status).toBe(202);
    expect(((await replay.json()) as Json).replayed).toBe(1);
    await expectEventually(() =>
      expect(receiver.for('/refuse').filter((r) => r.params.SessionUUID === id)).toHaveLength(2),
    );
    const last = receiver.for('/refuse').at(-1) as ReceivedCallback;
    expect(last.headers['x-maskline-event-id']).toBe(eventId);
    expect(validPlivoSignature(last, acme.authToken)).toBe(true);
  });

  it('keeps healthy endpoints fast while another one times out', async () => {
    receiver.on('/hang', () => ({ status: 200, delayMs: 30_000 }));
    // Another host (breakers and in-flight caps are per host), same receiver.
    const slow = await session('/hang', {
      callback_url: `${receiver.baseUrl.replace('127.0.0.1', 'localhost')}/hang`,
    });
    const fast = await session('/fast');
    await callEvents(slow, 20);
    await callEvents(fast, 5);
    // Delivered while the hanging host is still timing out (its breaker opens after 3 failures).
    // Sooner than the hanging host's first timeout (CALLBACK_TIMEOUT_MS, 5 s): not queued behind it.
    await expectEventually(() => expect(receiver.for('/fast')).toHaveLength(5), { timeoutMs: 4000 });
  });

  it('shares work between two replicas without delivering an event twice', async () => {
    system.startService('callback-dispatcher', DISPATCHER_ENV, 'callback-dispatcher-2');
    await system.waitHealthy();
    const id = await session('/shared');
    await callEvents(id, 200);
    await expectEventually(() => expect(receiver.for('/shared')).toHaveLength(200), { timeoutMs: 20_000 });
    const ids = receiver.for('/shared').map((r) => r.headers['x-maskline-event-id']);
    expect(new Set(ids).size).toBe(200);
    await system.stopNamed('callback-dispatcher-2');
  });

  it('loses nothing when the dispatcher is killed (kill -9) in the middle of a burst', async () => {
    receiver.on('/burst', () => ({ status: 200, delayMs: 5 }));
    const id = await session('/burst');
    const total = 1000;
    await callEvents(id, total);
    await expectEventually(() => expect(receiver.for('/burst').length).toBeGreaterThan(100), {
      timeoutMs: 20_000,
    });
    await system.stopNamed('callback-dispatcher', 'SIGKILL');
    const before = new Set(receiver.for('/burst').map((r) => r.headers['x-maskline-event-id'])).size;
    expect(before).toBeLessThan(total);
    system.startService('callback-dispatcher', DISPATCHER_ENV);
    await system.waitHealthy();
    await expectEventually(
      async () => {
        const delivered = new Set(receiver.for('/burst').map((r) => r.headers['x-maskline-event-id'])).size;
        const dead = (await (await acme.api(`/Masking/Session/${id}/Callbacks/`)).json()) as {
          dead_letters: Json[];
        };
        expect(delivered + dead.dead_letters.length).toBe(total);
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
  });

  it('refuses a callback URL into a private network at create', async () => {
    const res = await acme.api('/Masking/Session/', {
      body: { first_party: party(900), second_party: party(901), callback_url: 'http://192.168.1.10/hook' },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).error).toMatch(
      /callback_url must not point at a private or reserved address/,
    );
  });
});
