import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import {
  CodedError,
  DEFAULT_SESSION_SETTINGS,
  ErrorCodes,
  FirstPartyCallFailed,
  GetNumberRouting,
  GetRoutingSession,
  SessionCreated,
  type RoutingSession,
} from '@maskline/contracts';
import { RetryLater, type EventPublisher, type RpcClient } from '@maskline/messaging';
import type { BreakerRegistry } from '@maskline/resilience';
import { parseKeyring } from '@maskline/crypto';
import { freePort, testKeyring } from '@maskline/testing';
import type { CallState, OutboundParty, OutboundRecord } from '../calls/call-state';
import type { CallRouterConfig } from '../config/call-router.config';
import { OutboundCaller, sentNothing } from './outbound-caller';

const SESSION_ID = '0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b';

/** The session as its creation announced it, or as it is now (`now`). */
function view(over: Partial<RoutingSession> = {}): RoutingSession {
  return {
    sessionId: SESSION_ID,
    accountId: 'MAAAAAAAAAAAAAAAAAAA',
    subaccountId: null,
    virtualNumber: '+14155550100',
    firstParty: '+16285550001',
    secondParty: '+16285550002',
    status: 'active',
    expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    createdAt: new Date().toISOString(),
    settings: { ...DEFAULT_SESSION_SETTINGS, initiateCallToFirstParty: true },
    ...over,
  };
}

/** The provider's call API every caller places through unless told otherwise (a local fake answering 201). */
let answering: Awaited<ReturnType<typeof providerApi>>;
beforeAll(async () => {
  answering = await providerApi(201, false);
});
afterAll(() => answering.close());

/**
 * The caller, with the session as it is now (`now`, null: gone); `claimed` tells whether it went on
 * to call the first party (it claims the call just before placing it). Its claims are kept as KV
 * keeps them (`CallState`, compare-and-set on a revision): `record()` is the claim as it stands.
 */
function caller(
  now: RoutingSession | null,
  options: {
    /**
     * The number as number-pool answers it: without credentials, moved to a subaccount, or not at
     * all (it throws this).
     */
    number?: 'no-credentials' | 'moved-to-a-subaccount' | Error;
    /** session-service's answer fails with this. */
    sessionFails?: Error;
    /** The claim fails with this (placing the call failed so). */
    placing?: Error;
    deliveryCount?: number;
    /** What an earlier try left in the call's claim. */
    earlier?: OutboundRecord;
    /** Publishing the announcement fails. */
    publishFails?: boolean;
    /** Another try claims the call between this one's read and its claim, and leaves this. */
    claimedMeanwhile?: OutboundRecord;
    /** Another try changes the claim just before this one first records how the call went. */
    settledMeanwhile?: OutboundRecord;
    /** Another try gives the claim back just before this one first records how the call went. */
    goneMeanwhile?: boolean;
    /** Recording how the call went fails (KV failing). */
    settleFails?: boolean;
    /** The provider's REST API that the call is placed through (default: one answering 201). */
    providerUrl?: string;
  } = {},
) {
  const asked: string[] = [];
  const rpc = {
    request: jest.fn(async (contract: { subject: string }) => {
      asked.push(contract.subject);
      if (contract.subject === GetRoutingSession.subject) {
        if (options.sessionFails) throw options.sessionFails;
        return { session: now };
      }
      if (contract.subject === GetNumberRouting.subject) {
        if (options.number instanceof Error) throw options.number;
        return {
          accountId: 'MAAAAAAAAAAAAAAAAAAA',
          subaccountId: options.number === 'moved-to-a-subaccount' ? 'SAAAAAAAAAAAAAAAAAA1' : null,
          provider: 'plivo',
          credentials:
            options.number === 'no-credentials' ? null : { accountId: 'MAPROVIDER', authToken: 'token' },
        };
      }
      throw new Error(`unexpected ${contract.subject}`);
    }),
  } as unknown as RpcClient;
  let revisions = 1;
  let stored: { record: OutboundRecord; revision: number } | null = options.earlier
    ? { record: options.earlier, revision: revisions }
    : null;
  let released = 0;
  let raced = false;
  const state = {
    // NATS's time of the claim: the record's own, here.
    outbound: jest.fn(async () => stored && { ...stored, storedAt: new Date(Date.parse(stored.record.at)) }),
    claimOutbound: jest.fn(async (whom: OutboundParty) => {
      if (options.placing) throw options.placing;
      if (options.claimedMeanwhile && !raced) {
        raced = true;
        stored = { record: options.claimedMeanwhile, revision: ++revisions };
      }
      if (stored) return null;
      stored = { record: { state: 'placing', at: new Date().toISOString(), whom }, revision: ++revisions };
      return stored.revision;
    }),
    settleOutbound: jest.fn(async (_id: string, record: OutboundRecord, revision: number | null) => {
      if (options.settleFails) throw new Error('KV is not available');
      if (options.settledMeanwhile && !raced) {
        raced = true;
        stored = { record: options.settledMeanwhile, revision: ++revisions };
      }
      if (options.goneMeanwhile && !raced) {
        raced = true;
        stored = null;
      }
      if (revision === null ? stored !== null : stored?.revision !== revision) return null;
      stored = { record, revision: ++revisions };
      return stored.revision;
    }),
    releaseOutbound: jest.fn(async (_id: string, revision: number) => {
      released++;
      if (stored?.revision === revision) stored = null;
    }),
  } as unknown as CallState;
  /** What was announced: the failures' payloads. */
  const announced: Array<Record<string, unknown>> = [];
  /** The reasons of every announcement tried, published or not. */
  const tried: string[] = [];
  const events = {
    publish: jest.fn(async (contract: { subject: string }, payload: Record<string, unknown>) => {
      expect(contract.subject).toBe(FirstPartyCallFailed.subject);
      tried.push(String(payload.reason));
      if (options.publishFails) throw new CodedError(ErrorCodes.RPC_UNAVAILABLE, 'NATS is not available');
      announced.push(payload);
      return { seq: 1, duplicate: false };
    }),
  } as unknown as EventPublisher;
  const subject = new OutboundCaller(
    rpc,
    events,
    { fire: (_breaker: unknown, send: () => Promise<unknown>) => send() } as unknown as BreakerRegistry,
    state,
    {
      OUTBOUND_TIMEOUT_MS: 2000,
      PLIVO_API_BASE_URL: options.providerUrl ?? answering.url,
      TWILIO_API_BASE_URL: options.providerUrl ?? answering.url,
      PUBLIC_BASE_URL: 'http://127.0.0.1:8080',
      CALL_CONTEXT_KEYS: parseKeyring(testKeyring()),
      CALL_CONTEXT_TTL_SECONDS: 3600,
    } as unknown as CallRouterConfig,
    { info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as Logger,
  );
  const created = (routing: RoutingSession, ageMs: number) =>
    subject.onSessionCreated(
      { subject: SessionCreated.subject, payload: { sessionId: SESSION_ID, routing } } as never,
      {
        subject: SessionCreated.subject,
        streamSequence: 1,
        deliveryCount: options.deliveryCount ?? 1,
        publishedAt: new Date(Date.now() - ageMs),
        storedAtMicros: (Date.now() - ageMs) * 1000,
      },
    );
  return {
    created,
    asked,
    announced,
    tried,
    record: () => stored?.record,
    released: () => released,
    claimed: () => (state.claimOutbound as jest.Mock).mock.calls.length > 0,
  };
}

/**
 * A provider's call API (a local fake): answers each call request with `status` and a body it
 * cuts short (the connection closed mid-body) when `cut`; `placed` counts the requests.
 */
async function providerApi(
  status: number,
  cut: boolean | 'before-answering',
): Promise<{ url: string; placed: () => number; close: () => Promise<void> }> {
  let placed = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      placed++;
      if (cut === 'before-answering') return void res.destroy();
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': '100' });
      if (cut) res.write('{"api_id":', () => res.destroy());
      else res.end(JSON.stringify({ api_id: 'x', message: 'call fired' }).padEnd(100));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    placed: () => placed,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('calling the first party of a session just created', () => {
  it('a fresh event: the view it carries is the session, and the call goes ahead without asking', async () => {
    const c = caller(null);
    await c.created(view(), 1000);
    expect(c.asked).not.toContain(GetRoutingSession.subject);
    expect(c.claimed()).toBe(true);
  });

  it('a late event (a backlog after an outage) of a session that has ended since: nobody is called', async () => {
    const c = caller(view({ status: 'expired', expiresAt: new Date(Date.now() - 60_000).toISOString() }));
    await c.created(view(), 3 * 3_600_000);
    expect(c.asked).toContain(GetRoutingSession.subject);
    expect(c.claimed()).toBe(false);
  });

  it('a late event of a session gone from the store, or past its end and not yet expired: nobody is called', async () => {
    const gone = caller(null);
    await gone.created(view(), 3_600_000);
    expect(gone.claimed()).toBe(false);
    const past = caller(view({ expiresAt: new Date(Date.now() - 1000).toISOString() }));
    await past.created(view(), 3_600_000);
    expect(past.claimed()).toBe(false);
  });

  it('a late event of a session still live: the call goes ahead', async () => {
    const c = caller(view());
    await c.created(view(), 3_600_000);
    expect(c.claimed()).toBe(true);
  });
});

describe('a call to the first party that will not be placed', () => {
  const unreachable = () =>
    new CodedError(ErrorCodes.RPC_UNAVAILABLE, 'session-service is not available', { retryable: true });

  it('is announced at once, with why, when the number has no credentials to call with', async () => {
    const c = caller(null, { number: 'no-credentials' });
    await expect(c.created(view(), 1000)).rejects.toMatchObject({ code: 'CALL.NO_PROVIDER_CREDENTIALS' });
    expect(c.announced).toEqual([
      expect.objectContaining({
        sessionId: SESSION_ID,
        accountId: 'MAAAAAAAAAAAAAAAAAAA',
        virtualNumber: '+14155550100',
        firstParty: '+16285550001',
        reason: 'no-credentials',
      }),
    ]);
  });

  it('is announced at once, nothing placed, when the number has moved to another of its account’s holders', async () => {
    const c = caller(null, { number: 'moved-to-a-subaccount' });
    await expect(c.created(view(), 1000)).rejects.toMatchObject({ code: 'CALL.FORBIDDEN' });
    expect(c.claimed()).toBe(false);
    expect(c.announced.map((a) => a.reason)).toEqual(['number-not-held']);
  });

  it('is announced at once when no inventory holds the number any more', async () => {
    const c = caller(null, { number: CodedError.notFound('no such number') });
    await expect(c.created(view(), 1000)).rejects.toMatchObject({ code: ErrorCodes.NOT_FOUND });
    expect(c.announced.map((a) => a.reason)).toEqual(['number-not-held']);
  });

  it('is not announced while tries are left, and is at the last of them', async () => {
    const busy = new RetryLater('plivo answered 503', 2000);
    const early = caller(null, { placing: busy, deliveryCount: 5 });
    await expect(early.created(view(), 1000)).rejects.toBe(busy);
    expect(early.announced).toEqual([]);
    const last = caller(null, { placing: busy, deliveryCount: 6 });
    await expect(last.created(view(), 1000)).rejects.toBe(busy);
    expect(last.announced.map((a) => a.reason)).toEqual(['provider-unavailable']);
  });

  it('at the last try with the session unreadable, is announced from what the event said of it', async () => {
    const c = caller(null, { sessionFails: unreachable(), deliveryCount: 6 });
    // Late: the session is asked for, and cannot be read.
    await expect(c.created(view(), 3_600_000)).rejects.toMatchObject({ code: ErrorCodes.RPC_UNAVAILABLE });
    expect(c.announced.map((a) => a.reason)).toEqual(['unavailable']);
  });

  it('is never announced, nor anything asked, for a session whose first party was not to be called', async () => {
    const c = caller(null, { sessionFails: unreachable(), deliveryCount: 6 });
    const plain = view({ settings: { ...DEFAULT_SESSION_SETTINGS, initiateCallToFirstParty: false } });
    await c.created(plain, 3_600_000);
    expect(c.asked).toEqual([]);
    expect(c.announced).toEqual([]);
    expect(c.record()).toBeUndefined();
  });
});

describe('the call’s claim: how it went, for a later copy of the event', () => {
  const since = (ms: number) => new Date(Date.now() - ms).toISOString();

  it('the provider took the call: it is recorded as placed, even when its answer’s body is cut short', async () => {
    const api = await providerApi(201, true);
    try {
      const c = caller(null, { providerUrl: api.url });
      await c.created(view(), 1000);
      expect(api.placed()).toBe(1);
      expect(c.record()?.state).toBe('placed');
      expect(c.announced).toEqual([]);
    } finally {
      await api.close();
    }
  });

  it('the provider answered 503 with its body cut short: the claim is given back for a retry', async () => {
    const api = await providerApi(503, true);
    try {
      const c = caller(null, { providerUrl: api.url });
      await expect(c.created(view(), 1000)).rejects.toBeInstanceOf(RetryLater);
      expect(c.record()).toBeUndefined();
      expect(c.announced).toEqual([]);
    } finally {
      await api.close();
    }
  });

  it('the provider answered 503 at the last delivery: told as provider-unavailable, and recorded given up', async () => {
    const api = await providerApi(503, false);
    try {
      const c = caller(null, { providerUrl: api.url, deliveryCount: 6 });
      await expect(c.created(view(), 1000)).rejects.toBeInstanceOf(RetryLater);
      expect(c.announced.map((a) => a.reason)).toEqual(['provider-unavailable']);
      expect(c.record()).toMatchObject({
        state: 'given-up',
        reason: 'provider-unavailable',
        announced: true,
      });
    } finally {
      await api.close();
    }
  });

  it('the provider cannot be reached: the claim is given back for a retry', async () => {
    // A port nothing listens on: a provider that cannot be reached.
    const c = caller(null, { providerUrl: `http://127.0.0.1:${await freePort()}` });
    await expect(c.created(view(), 1000)).rejects.toBeInstanceOf(RetryLater);
    expect(c.released()).toBe(1);
    expect(c.record()).toBeUndefined();
  });

  it('the connection is cut after the provider read the request: never placed again, told as outcome-unknown', async () => {
    const api = await providerApi(201, 'before-answering');
    try {
      const c = caller(null, { providerUrl: api.url });
      await expect(c.created(view(), 1000)).rejects.toMatchObject({ code: 'CALL.OUTCOME_UNKNOWN' });
      expect(api.placed()).toBe(1);
      expect(c.released()).toBe(0);
      expect(c.announced.map((a) => a.reason)).toEqual(['outcome-unknown']);
      expect(c.record()).toMatchObject({ state: 'given-up', reason: 'outcome-unknown', announced: true });
    } finally {
      await api.close();
    }
  });

  it('a claim an earlier try left long ago: not placed again, and told as outcome-unknown at once', async () => {
    const c = caller(null, { earlier: { state: 'placing', at: since(60_000) } });
    await expect(c.created(view(), 1000)).rejects.toMatchObject({ code: 'CALL.OUTCOME_UNKNOWN' });
    expect(c.claimed()).toBe(false);
    expect(c.announced.map((a) => a.reason)).toEqual(['outcome-unknown']);
    expect(c.record()).toMatchObject({ state: 'given-up', announced: true });
  });

  it('a claim another try may still be placing: left to it (retried later), and at the last delivery told as unknown', async () => {
    const early = caller(null, { earlier: { state: 'placing', at: since(1000) }, deliveryCount: 2 });
    await expect(early.created(view(), 1000)).rejects.toBeInstanceOf(RetryLater);
    expect(early.announced).toEqual([]);
    expect(early.record()?.state).toBe('placing');
    const last = caller(null, { earlier: { state: 'placing', at: since(1000) }, deliveryCount: 6 });
    await expect(last.created(view(), 1000)).rejects.toMatchObject({ code: 'CALL.OUTCOME_UNKNOWN' });
    expect(last.announced.map((a) => a.reason)).toEqual(['outcome-unknown']);
  });

  it('a call placed already: a later copy ends quietly, even when the number lost its credentials since', async () => {
    const c = caller(null, { earlier: { state: 'placed', at: since(5000) }, number: 'no-credentials' });
    await c.created(view(), 1000);
    expect(c.announced).toEqual([]);
    expect(c.claimed()).toBe(false);
    expect(c.record()?.state).toBe('placed');
  });

  it('a failure that could not be told: retried while deliveries are left, and told by the next copy, once', async () => {
    const refused = caller(null, { number: 'no-credentials', publishFails: true });
    await expect(refused.created(view(), 1000)).rejects.toBeInstanceOf(RetryLater);
    const left = refused.record();
    expect(left).toMatchObject({ state: 'given-up', reason: 'no-credentials', announced: false });
    // The next copy finds it given up and untold: it tells it with its reason, and records that.
    const next = caller(null, { earlier: left, deliveryCount: 2 });
    await next.created(view(), 1000);
    expect(next.announced.map((a) => a.reason)).toEqual(['no-credentials']);
    expect(next.record()).toMatchObject({ state: 'given-up', announced: true });
    expect(next.claimed()).toBe(false);
    // One more copy says nothing.
    const again = caller(null, { earlier: next.record(), deliveryCount: 3 });
    await again.created(view(), 1000);
    expect(again.announced).toEqual([]);
  });
});

describe('after an earlier try: what the claim says decides', () => {
  const since = (ms: number) => new Date(Date.now() - ms).toISOString();
  const whom = {
    accountId: 'MAAAAAAAAAAAAAAAAAAA',
    sessionId: SESSION_ID,
    virtualNumber: '+14155550100',
    firstParty: '+16285550001',
  };
  const untold: OutboundRecord = {
    state: 'given-up',
    at: since(40_000),
    reason: 'provider-refused',
    announced: false,
    whom,
  };

  it('a give-up not told, found by a late copy of a session ended since: told from whom the claim names', async () => {
    const ended = view({ status: 'expired', expiresAt: since(1000) });
    const c = caller(ended, { earlier: untold, deliveryCount: 3 });
    await c.created(view(), 3_600_000);
    expect(c.announced).toEqual([expect.objectContaining({ ...whom, reason: 'provider-refused' })]);
    expect(c.record()).toMatchObject({ state: 'given-up', announced: true });
  });

  it('a call placed, found by a late copy while the session cannot be read: nothing told', async () => {
    const unreachable = new CodedError(ErrorCodes.RPC_UNAVAILABLE, 'down', { retryable: true });
    const c = caller(null, {
      earlier: { state: 'placed', at: since(40_000), whom },
      sessionFails: unreachable,
      deliveryCount: 6,
    });
    await c.created(view(), 3_600_000);
    expect(c.announced).toEqual([]);
    expect(c.asked).toEqual([]);
  });

  it('another try claims the call between this one’s read and its claim: what it left decides (placed: nothing told)', async () => {
    const c = caller(null, { claimedMeanwhile: { state: 'placed', at: since(0), whom }, deliveryCount: 6 });
    await c.created(view(), 1000);
    expect(c.announced).toEqual([]);
    expect(c.record()?.state).toBe('placed');
  });

  it('a give-up that loses its compare-and-set (another try placed the call meanwhile) tells nothing', async () => {
    const api = await providerApi(201, 'before-answering');
    try {
      const c = caller(null, {
        providerUrl: api.url,
        settledMeanwhile: { state: 'placed', at: since(0), whom },
      });
      await expect(c.created(view(), 1000)).rejects.toMatchObject({ code: 'CALL.OUTCOME_UNKNOWN' });
      expect(c.announced).toEqual([]);
      expect(c.record()?.state).toBe('placed');
    } finally {
      await api.close();
    }
  });

  it('a give-up that cannot be recorded (KV failing): not told yet, looked at again while deliveries are left', async () => {
    const early = caller(null, { number: 'no-credentials', settleFails: true, deliveryCount: 2 });
    await expect(early.created(view(), 1000)).rejects.toBeInstanceOf(RetryLater);
    expect(early.announced).toEqual([]);
    // At the last delivery it is told all the same.
    const last = caller(null, { number: 'no-credentials', settleFails: true, deliveryCount: 6 });
    await expect(last.created(view(), 1000)).rejects.toMatchObject({ code: 'CALL.NO_PROVIDER_CREDENTIALS' });
    expect(last.announced.map((a) => a.reason)).toEqual(['no-credentials']);
  });

  it('a give-up whose claim another try gave back meanwhile (a retry of its own): looked at again, nothing told', async () => {
    const api = await providerApi(201, 'before-answering');
    try {
      const c = caller(null, { providerUrl: api.url, goneMeanwhile: true });
      await expect(c.created(view(), 1000)).rejects.toBeInstanceOf(RetryLater);
      expect(c.announced).toEqual([]);
    } finally {
      await api.close();
    }
  });

  it('an untold give-up whose telling fails again at the last delivery: given up, never told with another reason', async () => {
    // KV failing too: nothing can be recorded, and nothing but the recorded reason is tried.
    const c = caller(null, { earlier: untold, publishFails: true, settleFails: true, deliveryCount: 6 });
    await expect(c.created(view(), 1000)).rejects.toBeInstanceOf(RetryLater);
    expect(c.tried).toEqual(['provider-refused']);
    expect(c.record()).toMatchObject({ reason: 'provider-refused', announced: false });
  });

  it('a failure still untold at the last delivery: the event is given up (counted by the consumer), the claim says untold', async () => {
    const c = caller(null, { number: 'no-credentials', publishFails: true, deliveryCount: 6 });
    await expect(c.created(view(), 1000)).rejects.toBeInstanceOf(RetryLater);
    expect(c.record()).toMatchObject({ state: 'given-up', reason: 'no-credentials', announced: false });
  });

  it('a provider answering 500 may have made the call: not retried, told as outcome-unknown', async () => {
    const api = await providerApi(500, false);
    try {
      const c = caller(null, { providerUrl: api.url });
      await expect(c.created(view(), 1000)).rejects.toMatchObject({ code: 'CALL.OUTCOME_UNKNOWN' });
      expect(c.released()).toBe(0);
      expect(c.announced.map((a) => a.reason)).toEqual(['outcome-unknown']);
    } finally {
      await api.close();
    }
  });
});

describe('whether a failed call request cannot have reached the provider', () => {
  const fetchFailed = (cause: unknown) => Object.assign(new TypeError('fetch failed'), { cause });

  it('never sent: an open breaker, a connection refused or never made, a host not found, every address refused', () => {
    expect(sentNothing(new CodedError(ErrorCodes.CIRCUIT_OPEN, 'open', { retryable: true }))).toBe(true);
    expect(sentNothing(fetchFailed({ code: 'ECONNREFUSED', syscall: 'connect' }))).toBe(true);
    expect(sentNothing(fetchFailed({ code: 'ETIMEDOUT', syscall: 'connect' }))).toBe(true);
    expect(sentNothing(fetchFailed({ code: 'ENOTFOUND', syscall: 'getaddrinfo' }))).toBe(true);
    expect(sentNothing(fetchFailed({ code: 'UND_ERR_CONNECT_TIMEOUT' }))).toBe(true);
    // Node 20 tries each of a host's addresses: their errors, together.
    const each = [
      { code: 'ETIMEDOUT', syscall: 'connect' },
      { code: 'ECONNREFUSED', syscall: 'connect' },
    ];
    expect(sentNothing(fetchFailed(Object.assign(new AggregateError(each), { code: 'ETIMEDOUT' })))).toBe(
      true,
    );
  });

  it('may have been sent: a reset, a socket closed mid-answer, a timeout, anything unknown', () => {
    expect(sentNothing(fetchFailed({ code: 'ECONNRESET', syscall: 'read' }))).toBe(false);
    expect(sentNothing(fetchFailed({ code: 'UND_ERR_SOCKET' }))).toBe(false);
    expect(sentNothing(fetchFailed(new AggregateError([{ code: 'ECONNRESET', syscall: 'read' }])))).toBe(
      false,
    );
    expect(sentNothing(new CodedError(ErrorCodes.RPC_TIMEOUT, 'late', { retryable: true }))).toBe(false);
    expect(sentNothing(new Error('odd'))).toBe(false);
  });
});
