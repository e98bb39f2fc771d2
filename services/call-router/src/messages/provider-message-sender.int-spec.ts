import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { MetricsService } from '@maskline/observability';
import { BreakerRegistry, DEFAULT_BREAKER_SETTINGS } from '@maskline/resilience';
import type { CallRouterConfig } from '../config/call-router.config';
import { ProviderMessageSender, type OutboundMessage } from './provider-message-sender';
import { RELAY_SLOTS_PER_ACCOUNT, RELAY_SLOTS_PER_SUBACCOUNT } from './relay-slots';

/** A provider API on loopback that holds every request until the test answers it. */
async function heldProvider() {
  const waiting: ServerResponse[] = [];
  let arrived: () => void = () => undefined;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      waiting.push(res);
      arrived();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** Resolves once `n` requests are being held. */
    holding: (n: number) =>
      new Promise<void>((resolve) => {
        const check = () => (waiting.length >= n ? resolve() : (arrived = check));
        check();
      }),
    answerAll: () => {
      for (const res of waiting.splice(0)) {
        res.writeHead(202, { 'content-type': 'application/json' }).end('{"message_uuid":["sent-1"]}');
      }
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A provider API on loopback that answers every send with `status.now` at once. */
async function answeringProvider() {
  const status = { now: 503 };
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(status.now, { 'content-type': 'application/json' }).end('{"message_uuid":["sent-2"]}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    status,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * The breakers' log, read for the moment one half-opens (BreakerRegistry logs it): `halfOpen()`,
 * asked before what opens it, resolves when it next does.
 */
function breakerLog() {
  let halfOpened: () => void = () => undefined;
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => void (line.includes('half-open') && halfOpened()) },
  );
  return { logger, halfOpen: () => new Promise<void>((resolve) => (halfOpened = resolve)) };
}

describe('how long a provider account has been held back (HeldBackSince), as its sends show it', () => {
  let now = 1_000_000;
  const message = (): OutboundMessage => ({
    accountId: 'acct-held',
    subaccountId: null,
    provider: 'plivo',
    credentials: { accountId: 'MAHELD00000000000000', authToken: 'token' },
    from: '+14155550100',
    to: '+14155550101',
    text: 'hi',
    mediaUrls: [],
  });

  /** Breakers that open after two failures and half-open `resetTimeoutMs` later, logging to `logger`. */
  const openingAfterTwo = (logger: pino.Logger, resetTimeoutMs: number) =>
    new BreakerRegistry(logger, new MetricsService('test'), {
      ...DEFAULT_BREAKER_SETTINGS,
      volumeThreshold: 2,
      resetTimeoutMs,
    });

  /** A sender through `url`, two sends at once per provider account, on the test's clock. */
  const senderOf = (breakers: BreakerRegistry, url: string, timeoutMs: number) =>
    new ProviderMessageSender(
      breakers,
      {
        PLIVO_API_BASE_URL: url,
        MESSAGE_SENDS_PER_PROVIDER_ACCOUNT: 2,
        OUTBOUND_TIMEOUT_MS: timeoutMs,
      } as CallRouterConfig,
      () => now,
    );

  it('lasts through the breaker’s failed trials, from the first look that found it held back, until its provider answers', async () => {
    const api = await answeringProvider();
    // A breaker that opens after two failures and half-opens a tenth of a second later.
    const log = breakerLog();
    const breakers = openingAfterTwo(log.logger, 100);
    const sender = senderOf(breakers, api.url, 2000);
    try {
      const a = message();
      // Its API fails: two sends, and its breaker opens.
      let halfOpen = log.halfOpen();
      for (let i = 0; i < 2; i++)
        expect(await sender.send(a)).toMatchObject({ kind: 'retry', attempted: true });
      expect(sender.holdOf(a)).toBe('held-back');
      expect(sender.heldBackForMs(a)).toBe(0);
      now += 20_000;
      // Half open, its trial not yet out: not refused, but the hold goes on.
      await halfOpen;
      expect(sender.holdOf(a)).toBeNull();
      expect(sender.heldBackForMs(a)).toBe(20_000);
      // The trial fails: open again, the same hold.
      halfOpen = log.halfOpen();
      expect(await sender.send(a)).toMatchObject({ kind: 'retry', attempted: true });
      now += 10_000;
      expect(sender.holdOf(a)).toBe('held-back');
      expect(sender.heldBackForMs(a)).toBe(30_000);
      // Its API answers the next trial: the hold is over.
      api.status.now = 202;
      await halfOpen;
      expect(sender.holdOf(a)).toBeNull();
      expect(await sender.send(a)).toEqual({ kind: 'sent', providerMessageId: 'sent-2' });
      expect(sender.heldBackForMs(a)).toBe(0);
    } finally {
      sender.onApplicationShutdown();
      breakers.shutdown();
      await api.close();
    }
  });

  it('starts at a send its open breaker refused, when no look came first', async () => {
    const api = await answeringProvider();
    const breakers = openingAfterTwo(pino({ level: 'silent' }), 60_000);
    const sender = senderOf(breakers, api.url, 2000);
    try {
      const a = message();
      for (let i = 0; i < 2; i++)
        expect(await sender.send(a)).toMatchObject({ kind: 'retry', attempted: true });
      // Straight to a send (another text's first delivery raced the look): its breaker refuses it.
      expect(await sender.send(a)).toMatchObject({ kind: 'retry', attempted: false, hold: 'held-back' });
      now += 5_000;
      expect(sender.heldBackForMs(a)).toBe(5_000);
    } finally {
      sender.onApplicationShutdown();
      breakers.shutdown();
      await api.close();
    }
  });

  it('ends once its sends no longer hang and its breaker is closed, though none was answered', async () => {
    const api = await heldProvider();
    const sender = senderOf(
      new BreakerRegistry(pino({ level: 'silent' }), new MetricsService('test')),
      api.url,
      200,
    );
    try {
      const a = message();
      const hanging = [sender.send(a), sender.send(a)];
      await api.holding(2);
      // Out for half their timeout (by the sender's clock): held back, since now.
      now += 100;
      expect(sender.holdOf(a)).toBe('held-back');
      now += 5_000;
      expect(sender.heldBackForMs(a)).toBe(5_000);
      // They time out unanswered (too few for the breaker to open): nothing hangs, the hold is over.
      expect(await Promise.all(hanging)).toMatchObject([{ reason: 'timeout' }, { reason: 'timeout' }]);
      expect(sender.holdOf(a)).toBeNull();
      expect(sender.heldBackForMs(a)).toBe(0);
    } finally {
      sender.onApplicationShutdown();
      api.answerAll();
      await api.close();
    }
  });
});

describe('a provider account whose sends are full', () => {
  let now = 1_000_000;
  let api: Awaited<ReturnType<typeof heldProvider>>;
  let sender: ProviderMessageSender;
  let config: CallRouterConfig;
  const message = (accountId: string): OutboundMessage => ({
    accountId,
    subaccountId: null,
    provider: 'plivo',
    credentials: { accountId: `MA${accountId.toUpperCase().padEnd(18, '0')}`, authToken: 'token' },
    from: '+14155550100',
    to: '+14155550101',
    text: 'hi',
    mediaUrls: [],
  });

  beforeAll(async () => {
    api = await heldProvider();
    config = {
      PLIVO_API_BASE_URL: api.url,
      TWILIO_API_BASE_URL: api.url,
      MESSAGE_SENDS_PER_PROVIDER_ACCOUNT: 2,
      OUTBOUND_TIMEOUT_MS: 10_000,
    } as CallRouterConfig;
    const breakers = new BreakerRegistry(pino({ level: 'silent' }), new MetricsService('test'));
    sender = new ProviderMessageSender(breakers, config, () => now);
  });
  afterAll(async () => {
    sender.onApplicationShutdown();
    await api.close();
  });

  it('makes a message wait for a turn while the account answers, and holds it back once its sends hang', async () => {
    const a = message('acct-a');
    const sent = { kind: 'sent', providerMessageId: 'sent-1' };
    const first = [sender.send(a), sender.send(a)];
    await api.holding(2);
    // A burst filled it: not failing, so the next messages may wait for a turn.
    expect(sender.holdOf(a)).toBeNull();
    const waiting = [sender.send(a), sender.send(a)];
    // As many wait as may send at once: the account is busy, and the next one is not even tried.
    expect(sender.holdOf(a)).toBe('busy');
    // Another account is not held by this one's sends.
    expect(sender.holdOf({ ...message('acct-b'), credentials: a.credentials })).toBeNull();
    expect(await sender.send(a)).toEqual({
      kind: 'retry',
      reason: 'provider account busy',
      retryAfterMs: null,
      attempted: false,
      hold: 'busy',
    });
    api.answerAll();
    expect(await Promise.all(first)).toEqual([sent, sent]);
    // The waiting ones had their turns.
    await api.holding(2);
    // Out for half their timeout: the account is not answering, and nobody waits for it.
    now += 5_000;
    expect(sender.holdOf(a)).toBe('held-back');
    expect(await sender.send(a)).toMatchObject({ attempted: false, hold: 'held-back' });
    // Held back since that look, for as long as its sends hang.
    now += 30_000;
    expect(sender.holdOf(a)).toBe('held-back');
    expect(sender.heldBackForMs(a)).toBe(30_000);
    expect(sender.heldBackForMs({ ...message('acct-b'), credentials: a.credentials })).toBe(0);
    api.answerAll();
    expect(await Promise.all(waiting)).toEqual([sent, sent]);
    expect(sender.holdOf(a)).toBeNull();
    // Its provider answered: the hold is over.
    expect(sender.heldBackForMs(a)).toBe(0);
  });

  it('lets one Maskline account hold no more than its share of the relay, whatever number of provider accounts it uses', async () => {
    const sharing = new ProviderMessageSender(
      new BreakerRegistry(pino({ level: 'silent' }), new MetricsService('test')),
      { ...config, MESSAGE_SENDS_PER_PROVIDER_ACCOUNT: RELAY_SLOTS_PER_ACCOUNT / 2 },
      () => now,
    );
    const through = (accountId: string, providerAccount: string): OutboundMessage => ({
      ...message(accountId),
      credentials: { accountId: providerAccount, authToken: 'token' },
    });
    const tenant = ['MATENANTPROVIDER00001', 'MATENANTPROVIDER00002', 'MATENANTPROVIDER00003'];
    const sends = Array.from({ length: RELAY_SLOTS_PER_ACCOUNT }, (_, i) =>
      sharing.send(through('acct-t', tenant[i % 2])),
    );
    await api.holding(RELAY_SLOTS_PER_ACCOUNT);
    // Its third provider account is idle, yet the account holds its share: not even tried.
    expect(sharing.holdOf(through('acct-t', tenant[2]))).toBe('busy');
    expect(await sharing.send(through('acct-t', tenant[2]))).toMatchObject({
      attempted: false,
      hold: 'busy',
    });
    // Another account is not held by it, on the very same provider account.
    expect(sharing.holdOf(through('acct-u', tenant[2]))).toBeNull();
    const other = sharing.send(through('acct-u', tenant[2]));
    await api.holding(RELAY_SLOTS_PER_ACCOUNT + 1);
    api.answerAll();
    expect(await other).toEqual({ kind: 'sent', providerMessageId: 'sent-1' });
    expect(new Set((await Promise.all(sends)).map((sent) => sent.kind))).toEqual(new Set(['sent']));
    expect(sharing.holdOf(through('acct-t', tenant[2]))).toBeNull();
    sharing.onApplicationShutdown();
  });

  it('lets one subaccount hold no more than half its account’s share, leaving the rest to the account and its other subaccounts', async () => {
    const sharing = new ProviderMessageSender(
      new BreakerRegistry(pino({ level: 'silent' }), new MetricsService('test')),
      { ...config, MESSAGE_SENDS_PER_PROVIDER_ACCOUNT: RELAY_SLOTS_PER_ACCOUNT / 2 },
      () => now,
    );
    const through = (subaccountId: string | null, providerAccount: string): OutboundMessage => ({
      ...message('acct-s'),
      subaccountId,
      credentials: { accountId: providerAccount, authToken: 'token' },
    });
    // A subaccount whose numbers use two provider accounts of its own, both hanging: together they
    // could fill its whole account's share; it holds half of it.
    const own = ['SAHANGINGPROVIDER0001', 'SAHANGINGPROVIDER0002', 'SAHANGINGPROVIDER0003'];
    const sends = Array.from({ length: RELAY_SLOTS_PER_ACCOUNT }, (_, i) =>
      sharing.send(through('SASUBACCOUNTSHARE0001', own[i % 2])),
    );
    await api.holding(RELAY_SLOTS_PER_SUBACCOUNT);
    // Its sibling and its main account still send, through provider accounts of their own.
    expect(sharing.holdOf(through('SASUBACCOUNTSHARE0002', 'SASIBLINGPROVIDER0001'))).toBeNull();
    expect(sharing.holdOf(through(null, 'MAMAINPROVIDERACCT001'))).toBeNull();
    // The rest of its sends were not even tried; nor is one through its third, idle, provider account.
    const outcomes = await Promise.all(sends.slice(RELAY_SLOTS_PER_SUBACCOUNT));
    expect(outcomes.every((o) => o.kind === 'retry' && !o.attempted && o.hold === 'busy')).toBe(true);
    expect(sharing.holdOf(through('SASUBACCOUNTSHARE0001', own[2]))).toBe('busy');
    const others = [
      sharing.send(through('SASUBACCOUNTSHARE0002', 'SASIBLINGPROVIDER0001')),
      sharing.send(through(null, 'MAMAINPROVIDERACCT001')),
    ];
    await api.holding(RELAY_SLOTS_PER_SUBACCOUNT + 2);
    api.answerAll();
    const sent = { kind: 'sent', providerMessageId: 'sent-1' };
    expect(await Promise.all(others)).toEqual([sent, sent]);
    expect(await Promise.all(sends.slice(0, RELAY_SLOTS_PER_SUBACCOUNT))).toEqual(
      Array(RELAY_SLOTS_PER_SUBACCOUNT).fill(sent),
    );
    expect(sharing.holdOf(through('SASUBACCOUNTSHARE0001', own[2]))).toBeNull();
    sharing.onApplicationShutdown();
  });

  it('tells the messages waiting for a turn that none came when the service stops, so they are retried', async () => {
    const stopping = new ProviderMessageSender(
      new BreakerRegistry(pino({ level: 'silent' }), new MetricsService('test')),
      config,
      () => now,
    );
    const c = message('acct-c');
    const running = [stopping.send(c), stopping.send(c)];
    await api.holding(2);
    const waiting = stopping.send(c);
    stopping.beforeApplicationShutdown();
    expect(await waiting).toMatchObject({ kind: 'retry', attempted: false, hold: 'busy' });
    api.answerAll();
    expect(await Promise.all(running)).toEqual([
      { kind: 'sent', providerMessageId: 'sent-1' },
      { kind: 'sent', providerMessageId: 'sent-1' },
    ]);
    stopping.onApplicationShutdown();
  });
});
