import { DEFAULT_SESSION_SETTINGS } from '@maskline/contracts';
import type { ExpiryScheduler } from '../expiry/expiry-scheduler';
import type { SessionAnnouncer } from '../sessions/session-announcer';
import type { SessionRepository } from '../sessions/session.repository';
import type { ProxySessionFacts, SessionDocument } from '../sessions/session.schema';
import type { SessionWriteTurns } from '../sessions/session-write-turns';
import { ProxyInteractionClock } from './proxy-interaction-clock';

const ACCOUNT = 'MA000000000000000001';
const CREATED = new Date('2026-12-02T10:00:00Z');
const TTL_SECONDS = 600;

/** A live Proxy session with a sliding TTL and its number, as the store holds it (one copy, changed in place). */
function world() {
  const doc = {
    _id: '00000000-0000-4000-8000-000000000001',
    accountId: ACCOUNT,
    subaccountId: null,
    firstParty: '+16285550001',
    secondParty: '+16285550002',
    virtualNumber: '+14155550100',
    allocationId: 'alloc-1',
    proxy: { ttl: TTL_SECONDS, dateExpiry: null, lastInteractionAt: null } as unknown as ProxySessionFacts,
    status: 'active',
    settings: DEFAULT_SESSION_SETTINGS,
    createdAt: CREATED,
    modifiedAt: CREATED,
    expiresAt: new Date(CREATED.getTime() + TTL_SECONDS * 1000),
    durationSeconds: TTL_SECONDS,
  } as unknown as SessionDocument & { proxy: ProxySessionFacts };
  /** Written by another writer right after the clock's read (one that does not take the turn). */
  let afterRead: Record<string, unknown> | null = null;
  let reads = 0;
  const sessions = {
    getLiveSystemWide: async () => {
      const read = { ...doc, proxy: { ...doc.proxy } };
      // After the read in the session's turn (the clock reads once before it asks for the turn).
      if (afterRead && ++reads === 2) Object.assign(doc, afterRead);
      return read;
    },
    setProxyFields: async (
      _scope: unknown,
      _id: string,
      proxy: Partial<ProxySessionFacts>,
      engine: Partial<SessionDocument>,
      guard: Record<string, unknown> = {},
    ) => {
      // As the store matches: a null in the guard matches a field unset.
      const stored = (path: string) =>
        path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], doc);
      if (Object.entries(guard).some(([path, want]) => (stored(path) ?? null) !== want)) return false;
      Object.assign(doc.proxy, proxy);
      Object.assign(doc, engine);
      return true;
    },
  } as unknown as SessionRepository;
  const expiry = { schedule: () => undefined } as unknown as ExpiryScheduler;
  /** Each announcement as the stream would take it: its message id's time, and the expiry it says. */
  const announced: Array<{ at: number; expiresAt: number }> = [];
  let failNext = 0;
  const announcer = {
    updated: async (d: SessionDocument, at: Date) => {
      if (failNext > 0) {
        failNext--;
        throw new Error('event stream is not available');
      }
      announced.push({ at: at.getTime(), expiresAt: d.expiresAt.getTime() });
    },
  } as unknown as SessionAnnouncer;
  const turns = {
    during: async <T>(_a: string, _s: string, work: () => Promise<T>) => work(),
  } as unknown as SessionWriteTurns;
  return {
    doc,
    endAskedAfterRead: (asked: Record<string, unknown>) =>
      (afterRead = { ...asked, expiresAt: new Date(CREATED.getTime() + 1000) }),
    announced,
    failAnnouncements: (n: number) => (failNext = n),
    clock: new ProxyInteractionClock(sessions, expiry, announcer, turns),
  };
}

describe("a Proxy session's sliding expiry", () => {
  it('is announced when an interaction moves it', async () => {
    const w = world();
    const at = new Date(CREATED.getTime() + 60_000);
    await (
      await w.clock.interacted(ACCOUNT, w.doc._id, at)
    ).slid;
    expect(w.doc.expiresAt.getTime()).toBe(at.getTime() + TTL_SECONDS * 1000);
    expect(w.announced).toEqual([{ at: w.doc.modifiedAt.getTime(), expiresAt: w.doc.expiresAt.getTime() }]);
  });

  it.each<[string, { proxy?: { closedReason: string }; endReason?: string; failedCreation?: boolean }]>([
    ['closed by its owner', { proxy: { closedReason: 'api' } }],
    ['brought forward to end now', { endReason: 'api' }],
    ['a failed creation’s', { failedCreation: true }],
  ])(
    'never moves once its end was asked for (%s): the interaction is recorded, the end stays',
    async (_what, asked) => {
      const w = world();
      const endsAt = w.doc.expiresAt.getTime();
      Object.assign(w.doc, { ...asked, proxy: { ...w.doc.proxy, ...(asked.proxy ?? {}) } });
      const at = new Date(CREATED.getTime() + 60_000);
      await (
        await w.clock.interacted(ACCOUNT, w.doc._id, at)
      ).slid;
      expect(w.doc.expiresAt.getTime()).toBe(endsAt);
      expect(w.doc.proxy.lastInteractionAt).toEqual(at);
    },
  );

  it.each<[string, Record<string, unknown>]>([
    ['brought forward to end now', { endReason: 'api' }],
    ['a failed creation’s', { failedCreation: true }],
    ['closed by its owner', { proxy: { ttl: TTL_SECONDS, dateExpiry: null, closedReason: 'api' } }],
  ])(
    'never moves once an end is asked for between its read and its write (%s: an end that does not wait for the session’s turn)',
    async (_what, asked) => {
      const w = world();
      w.endAskedAfterRead(asked);
      const at = new Date(CREATED.getTime() + 60_000);
      await (
        await w.clock.interacted(ACCOUNT, w.doc._id, at)
      ).slid;
      expect(w.doc.expiresAt.getTime()).toBe(CREATED.getTime() + 1000);
      expect(w.announced).toEqual([]);
    },
  );

  it('is announced on the redelivery of an interaction whose move was stored and not announced, under the same change time', async () => {
    const w = world();
    const at = new Date(CREATED.getTime() + 60_000);
    w.failAnnouncements(1);
    await expect((await w.clock.interacted(ACCOUNT, w.doc._id, at)).slid).rejects.toThrow('not available');
    // Stored, not announced: the routers would drop the session at its old expiry.
    expect(w.doc.expiresAt.getTime()).toBe(at.getTime() + TTL_SECONDS * 1000);
    expect(w.announced).toEqual([]);

    // The interaction's event, delivered again: its move is stored already, and announced now.
    await (
      await w.clock.interacted(ACCOUNT, w.doc._id, at)
    ).slid;
    expect(w.announced).toEqual([{ at: w.doc.modifiedAt.getTime(), expiresAt: w.doc.expiresAt.getTime() }]);
  });

  it('is not announced again for an interaction older than the last one recorded', async () => {
    const w = world();
    const later = new Date(CREATED.getTime() + 120_000);
    await (
      await w.clock.interacted(ACCOUNT, w.doc._id, later)
    ).slid;
    await (
      await w.clock.interacted(ACCOUNT, w.doc._id, new Date(CREATED.getTime() + 60_000))
    ).slid;
    expect(w.announced).toHaveLength(1);
  });

  it('a redelivery whose announcement fails while its caller still writes leaves no unhandled rejection (the process would exit)', async () => {
    const w = world();
    const at = new Date(CREATED.getTime() + 60_000);
    await (
      await w.clock.interacted(ACCOUNT, w.doc._id, at)
    ).slid;
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', listener);
    try {
      w.failAnnouncements(1);
      const { slid } = await w.clock.interacted(ACCOUNT, w.doc._id, at);
      // The caller stores the interaction first: a macrotask passes before it awaits the move.
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
      await expect(slid).rejects.toThrow('not available');
    } finally {
      process.off('unhandledRejection', listener);
    }
  });
});
