import pino from 'pino';
import type { SessionServiceConfig } from '../config/session-service.config';
import type { SessionRepository } from '../sessions/session.repository';
import type { SessionDocument } from '../sessions/session.schema';
import { ExpiryScheduler } from './expiry-scheduler';
import type { ExpiryAttempt, ExpiryReason, SessionExpirer } from './session-expirer';

const EXPIRY_CONCURRENCY = 8;
const POLL_MS = 10_000;
const SCOPE = { accountId: 'MAACCOUNT' };

/** The store as the scheduler sees it: sessions by id, and who got expired. */
function world(claimStaleMs = 5000) {
  const sessions = new Map<string, { status: string; expiresAt: Date; endReason?: ExpiryReason }>();
  const expired: string[] = [];
  let failNext = 0;
  let failWrites = false;
  let gate: Promise<void> | undefined;
  const repo = {
    updateActive: async (_scope: unknown, id: string, set: { expiresAt: Date; endReason?: ExpiryReason }) => {
      if (failWrites) throw new Error('Timed out during socket read');
      const s = sessions.get(id);
      if (!s || s.status !== 'active') return false;
      sessions.set(id, { ...s, expiresAt: set.expiresAt, endReason: set.endReason });
      return true;
    },
    // What the store's read gives: sessions marked ended by an expiry that stopped part-way (here
    // 'marked'; in the store, status 'expired'), then the active ones due.
    dueForExpirySystemWide: async (until: Date) => [
      ...[...sessions]
        .filter(([, s]) => s.status === 'marked')
        .map(([id, s]) => ({ _id: id, ...s, status: 'expired' }) as unknown as SessionDocument),
      ...[...sessions]
        .filter(([, s]) => s.status === 'active' && s.expiresAt <= until)
        .map(([id, s]) => ({ _id: id, ...s }) as unknown as SessionDocument),
    ],
  };
  /** Another replica's fresh claim, per session: until when (epoch ms). */
  const heldElsewhere = new Map<string, number>();
  const attempts: string[] = [];
  const reasons = new Map<string, ExpiryReason>();
  const expirer = {
    expireIfDue: async (
      id: string,
      options: { now?: boolean; reason?: ExpiryReason } = {},
    ): Promise<ExpiryAttempt> => {
      attempts.push(id);
      if (gate) await gate;
      const elsewhere = heldElsewhere.get(id);
      if (elsewhere !== undefined && elsewhere > Date.now()) return { kind: 'busy', untilMs: elsewhere };
      const s = sessions.get(id);
      if (!s || s.status === 'expired') return { kind: 'ended' };
      if (s.status === 'active' && s.expiresAt.getTime() > Date.now() && !options.now)
        return { kind: 'later', expiresAt: s.expiresAt };
      if (failNext > 0) {
        failNext--;
        throw new Error('pool unavailable');
      }
      expired.push(id);
      reasons.set(id, options.reason ?? 'timeout');
      sessions.set(id, { ...s, status: 'expired' });
      return { kind: 'ended' };
    },
  };
  const scheduler = new ExpiryScheduler(
    repo as unknown as SessionRepository,
    expirer as unknown as SessionExpirer,
    {
      EXPIRY_POLL_MS: POLL_MS,
      EXPIRY_CLAIM_STALE_MS: claimStaleMs,
      EXPIRY_CONCURRENCY,
    } as SessionServiceConfig,
    pino({ enabled: false }),
  );
  const put = (id: string, inMs: number) =>
    sessions.set(id, { status: 'active', expiresAt: new Date(Date.now() + inMs) });
  return {
    sessions,
    expired,
    scheduler,
    put,
    attempts,
    reasons,
    heldElsewhere,
    failOnce: () => (failNext = 1),
    fail: (times: number) => (failNext = times),
    failWrites: () => (failWrites = true),
    hold: () => {
      let open = () => {};
      gate = new Promise<void>((r) => (open = r));
      return () => {
        gate = undefined;
        open();
      };
    },
  };
}

/** Lets timers fire and the promises they start settle. */
async function advance(ms: number) {
  await jest.advanceTimersByTimeAsync(ms);
}

describe('ExpiryScheduler', () => {
  beforeEach(() => jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') }));
  afterEach(() => jest.useRealTimers());

  it('ends a session it stored at its expiry time, not before', async () => {
    const w = world();
    w.put('a', 3000);
    w.scheduler.schedule('a', w.sessions.get('a')!.expiresAt);
    await advance(2900);
    expect(w.expired).toEqual([]);
    await advance(200);
    expect(w.expired).toEqual(['a']);
  });

  it('does not end a session whose expiry was moved later elsewhere, and ends it at the new time', async () => {
    const w = world();
    w.put('a', 3000);
    w.scheduler.schedule('a', w.sessions.get('a')!.expiresAt);
    w.put('a', 8000); // another replica's update
    await advance(3100);
    expect(w.expired).toEqual([]);
    await advance(5000);
    expect(w.expired).toEqual(['a']);
  });

  it('finds the sessions other replicas stored, overdue ones too, by reading the store each poll', async () => {
    const w = world();
    w.put('overdue', -5000);
    w.scheduler.onApplicationBootstrap();
    await advance(10);
    expect(w.expired).toEqual(['overdue']);
    w.put('later', 25_000); // beyond the horizon (20 s) at the first scans
    await advance(POLL_MS);
    expect(w.expired).toEqual(['overdue']);
    await advance(15_100);
    expect(w.expired).toEqual(['overdue', 'later']);
    await w.scheduler.onApplicationShutdown();
  });

  it('finishes at the next scan a session an expiry marked ended and stopped on, whatever its stored expiry', async () => {
    const w = world();
    // Ended through the API an hour before its expiry, by a replica that died after the mark.
    w.sessions.set('a', { status: 'marked', expiresAt: new Date(Date.now() + 3_600_000) });
    w.scheduler.onApplicationBootstrap();
    await advance(10);
    expect(w.expired).toEqual(['a']);
    expect(w.sessions.get('a')?.status).toBe('expired');
    await w.scheduler.onApplicationShutdown();
  });

  it('retries an expiry that failed here, backing off (2 s, 4 s, ...), and not at every scan meanwhile', async () => {
    const w = world(60_000);
    w.put('a', 1000);
    w.fail(3);
    w.scheduler.onApplicationBootstrap();
    await advance(1100);
    expect(w.attempts).toEqual(['a']);
    await advance(2000); // the first retry
    expect(w.attempts).toHaveLength(2);
    await advance(4000); // the second
    expect(w.attempts).toHaveLength(3);
    await advance(7800); // a scan came meanwhile (every 10 s): the third retry waits for its 8 s
    expect(w.attempts).toHaveLength(3);
    expect(w.expired).toEqual([]);
    await advance(200);
    expect(w.attempts).toHaveLength(4);
    expect(w.expired).toEqual(['a']);
    await w.scheduler.onApplicationShutdown();
  });

  it('leaves a session another replica is ending until that claim would be stale, however often scans find it', async () => {
    const w = world(30_000);
    w.put('a', 1000);
    w.heldElsewhere.set('a', Date.now() + 1000 + 30_000); // its claimer died right after claiming
    w.scheduler.onApplicationBootstrap();
    await advance(1100);
    expect(w.attempts).toEqual(['a']);
    await advance(30_000); // three scans found it still live
    expect(w.attempts).toEqual(['a']);
    expect(w.expired).toEqual([]);
    await advance(2100); // stale, plus the margin: taken over
    expect(w.attempts).toEqual(['a', 'a']);
    expect(w.expired).toEqual(['a']);
    await w.scheduler.onApplicationShutdown();
  });

  it('ends now a session told to end now, whatever later expiry the store holds, retrying until it has', async () => {
    const w = world();
    w.put('a', 15_000); // bringing the expiry forward did not reach the store
    w.scheduler.onApplicationBootstrap();
    w.failOnce();
    w.scheduler.endNow(SCOPE, 'a');
    await advance(10);
    expect(w.expired).toEqual([]); // the first try failed
    // Its retry comes after 2 s, not at the stored time the scans see.
    await advance(2000);
    expect(w.expired).toEqual(['a']);
    // Ended once: later scans and timers leave it alone.
    await advance(30_000);
    expect(w.expired).toEqual(['a']);
    await w.scheduler.onApplicationShutdown();
  });

  it('ends now a session whose stored expiry could not be brought forward; brought forward, another replica would too', async () => {
    const w = world();
    w.put('a', 15 * 60_000);
    w.scheduler.onApplicationBootstrap();
    w.failWrites();
    await w.scheduler.endNow(SCOPE, 'a');
    expect(w.sessions.get('a')!.expiresAt.getTime()).toBeGreaterThan(Date.now() + 60_000);
    await advance(10);
    expect(w.expired).toEqual(['a']);

    await w.scheduler.onApplicationShutdown();

    const other = world();
    other.put('b', 15 * 60_000);
    await other.scheduler.onApplicationShutdown(); // stopping: only the other replicas can end it now
    await other.scheduler.endNow(SCOPE, 'b');
    expect(other.sessions.get('b')!.expiresAt.getTime()).toBeLessThanOrEqual(Date.now());
    await advance(60_000);
    expect(other.expired).toEqual([]);
  });

  it('tells a caller that asked for a durable end that the expiry could not be stored (so that it retries), and still ends it here', async () => {
    const w = world();
    w.put('a', 15 * 60_000);
    w.scheduler.onApplicationBootstrap();
    w.failWrites();
    await expect(w.scheduler.endNow(SCOPE, 'a', 'timeout', { durably: true })).rejects.toThrow(
      'Timed out during socket read',
    );
    await advance(10);
    expect(w.expired).toEqual(['a']);
    await w.scheduler.onApplicationShutdown();
  });

  it("ends at its owner's request at once when its claim is free, as ended by the API", async () => {
    const w = world();
    w.put('a', 15 * 60_000);
    await expect(w.scheduler.expireNow(SCOPE, 'a')).resolves.toBe(true);
    expect(w.expired).toEqual(['a']);
    expect(w.reasons.get('a')).toBe('api');
  });

  it("answers its owner's request only once the session has ended when another replica held its claim (perhaps only checking its expiry)", async () => {
    const w = world(30_000);
    w.put('a', 15 * 60_000);
    w.scheduler.onApplicationBootstrap();
    // Another replica's timer took the claim to check a time since moved; it gives it back in a moment.
    w.heldElsewhere.set('a', Date.now() + 1000);
    let answered: boolean | undefined;
    const asked = w.scheduler.expireNow(SCOPE, 'a').then((ended) => (answered = ended));
    await advance(500);
    // Not answered while the session is live: the routers would still put a stranger through.
    expect(answered).toBeUndefined();
    expect(w.expired).toEqual([]);
    // Brought forward meanwhile, with the reason: every replica's next scan would end it too.
    expect(w.sessions.get('a')!.expiresAt.getTime()).toBeLessThanOrEqual(Date.now());
    expect(w.sessions.get('a')!.endReason).toBe('api');
    await advance(700);
    await asked;
    expect(answered).toBe(true);
    expect(w.expired).toEqual(['a']);
    expect(w.reasons.get('a')).toBe('api');
    await w.scheduler.onApplicationShutdown();
  });

  it("says false after 3 s when another replica's claim stays (its holder died), and the session still ends once that claim is stale", async () => {
    const w = world(30_000);
    w.put('a', 15 * 60_000);
    w.scheduler.onApplicationBootstrap();
    w.heldElsewhere.set('a', Date.now() + 30_000);
    let answered: boolean | undefined;
    const asked = w.scheduler.expireNow(SCOPE, 'a').then((ended) => (answered = ended));
    await advance(2900);
    expect(answered).toBeUndefined();
    await advance(200);
    await asked;
    expect(answered).toBe(false);
    expect(w.expired).toEqual([]);
    await advance(30_000);
    expect(w.expired).toEqual(['a']);
    expect(w.reasons.get('a')).toBe('api');
    await w.scheduler.onApplicationShutdown();
  });

  it('tells the owner to ask again (503, Retry-After) when the wait runs out, and does not wait for a caller that ends many at once', async () => {
    const w = world(30_000);
    w.put('a', 15 * 60_000);
    w.put('b', 15 * 60_000);
    w.scheduler.onApplicationBootstrap();
    w.heldElsewhere.set('a', Date.now() + 30_000);
    w.heldElsewhere.set('b', Date.now() + 30_000);
    const owner = w.scheduler.expireNowForOwner(SCOPE, 'a');
    owner.catch(() => undefined);
    await advance(3100);
    await expect(owner).rejects.toMatchObject({
      code: 'SESSION.END_IN_PROGRESS',
      retryable: true,
      details: { retryAfterSeconds: 2 },
    });
    // A Service's deletion closing its sessions one after another: answered at once.
    await expect(w.scheduler.expireNow(SCOPE, 'b', { waitMs: 0 })).resolves.toBe(false);
    await w.scheduler.onApplicationShutdown();
  });

  it("ends at its owner's request a session this replica is looking at right then, found not due by that look", async () => {
    const w = world();
    w.put('a', 1000);
    w.scheduler.schedule('a', w.sessions.get('a')!.expiresAt);
    w.put('a', 15 * 60_000); // an update elsewhere moved it; this replica's old timer looks anyway
    const release = w.hold();
    await advance(1100); // the look has begun (its claim taken: a DELETE meanwhile finds it busy)
    w.failWrites(); // and the stored expiry cannot be brought forward: this replica alone ends it
    await w.scheduler.endNow(SCOPE, 'a', 'api');
    await advance(10); // its timer fires while the look still runs
    release(); // the look ends: "not due, at its new time"
    await advance(10);
    expect(w.expired).toEqual(['a']);
    expect(w.reasons.get('a')).toBe('api');
  });

  it('a request to end that fails part-way is answered with the error and the session still ends, retried here', async () => {
    const w = world();
    w.put('a', 15 * 60_000);
    w.scheduler.onApplicationBootstrap();
    w.failOnce();
    await expect(w.scheduler.expireNow(SCOPE, 'a')).rejects.toThrow('pool unavailable');
    expect(w.expired).toEqual([]);
    await advance(2100);
    expect(w.expired).toEqual(['a']);
    expect(w.reasons.get('a')).toBe('api');
    await w.scheduler.onApplicationShutdown();
  });

  it('keeps retrying a session ending now past the horizon, and no later time (an update, a scan) puts it off', async () => {
    // The shipped claim staleness (30 s): after 2+4+8+16 s of failures, the next retry (30 s) is
    // due beyond the horizon (2 polls, 20 s).
    const w = world(30_000);
    w.put('a', 10 * 60_000); // its stored expiry: ten minutes away
    w.scheduler.onApplicationBootstrap();
    w.fail(5);
    w.scheduler.endNow(SCOPE, 'a');
    await advance(10);
    expect(w.expired).toEqual([]);
    w.scheduler.schedule('a', new Date(Date.now() + 5 * 60_000)); // an update moves its expiry
    await advance(2000 + 4000 + 8000 + 16_000 + 100);
    expect(w.attempts).toHaveLength(5);
    expect(w.expired).toEqual([]);
    await advance(30_000);
    expect(w.attempts).toHaveLength(6);
    expect(w.expired).toEqual(['a']);
    await w.scheduler.onApplicationShutdown();
  });

  it('at shutdown lets running expirations finish and starts none of those still waiting', async () => {
    const w = world();
    for (let i = 0; i < EXPIRY_CONCURRENCY + 4; i++) {
      w.put(`s${i}`, 1000);
      w.scheduler.schedule(`s${i}`, w.sessions.get(`s${i}`)!.expiresAt);
    }
    const release = w.hold();
    await advance(1100);
    const stopping = w.scheduler.onApplicationShutdown();
    release();
    await stopping;
    expect(w.expired).toHaveLength(EXPIRY_CONCURRENCY);
    await advance(60_000);
    expect(w.expired).toHaveLength(EXPIRY_CONCURRENCY);
  });

  it('leaves alone a session ended meanwhile (DELETE)', async () => {
    const w = world();
    w.put('a', 1000);
    w.scheduler.schedule('a', w.sessions.get('a')!.expiresAt);
    w.sessions.set('a', { ...w.sessions.get('a')!, status: 'expired' });
    await advance(1100);
    expect(w.expired).toEqual([]);
  });
});
