import { randomUUID } from 'node:crypto';
import { kvReplicasForSuite } from '@maskline/testing';
import type { SessionServiceConfig } from '../config/session-service.config';
import { claimDecision, ExpiryClaims } from './expiry-claims';

const STALE_MS = 30_000;

describe('expiry claims across replicas (real NATS KV)', () => {
  const replicas = kvReplicasForSuite('session-service');

  /** One session-service process's claims (each has its own owner id). */
  async function replica(): Promise<ExpiryClaims> {
    const { kv } = await replicas.replica();
    return new ExpiryClaims(kv, { EXPIRY_CLAIM_STALE_MS: STALE_MS } as SessionServiceConfig);
  }

  it('gives a session to exactly one of many racing replicas; the others look again soon, then wait out the lease', async () => {
    const replicas = await Promise.all(Array.from({ length: 6 }, () => replica()));
    const sessionId = randomUUID();
    const now = Date.now();
    const results = await Promise.all(replicas.map((r) => r.claim(sessionId, now)));
    const winner = results.findIndex((r) => r.kind === 'claimed');
    expect(results.filter((r) => r.kind === 'claimed')).toHaveLength(1);
    // Just taken, it may be a check given back at once (the session's expiry moved): a second later.
    for (const r of results.filter((x) => x.kind !== 'claimed')) {
      expect(r).toEqual({ kind: 'busy', untilMs: now + 1000 });
    }
    // Held for a while, it is being ended: until its lease would be stale.
    const loser = replicas[(winner + 1) % replicas.length];
    expect(await loser.claim(sessionId, now + 5000)).toEqual({ kind: 'busy', untilMs: now + STALE_MS });
  });

  it('once ended, every replica (the holder too) is told so and nobody claims it again, even long after', async () => {
    const [a, b] = [await replica(), await replica()];
    const sessionId = randomUUID();
    expect((await a.claim(sessionId)).kind).toBe('claimed');
    await a.finish(sessionId);
    expect(await b.claim(sessionId)).toEqual({ kind: 'ended' });
    expect(await b.claim(sessionId, Date.now() + 10 * STALE_MS)).toEqual({ kind: 'ended' });
    expect(await a.claim(sessionId)).toEqual({ kind: 'ended' });
  });

  it('lets the holder retry at once after a failure, but not run two endings of one session at once', async () => {
    const [a, b] = [await replica(), await replica()];
    const sessionId = randomUUID();
    expect((await a.claim(sessionId)).kind).toBe('claimed');
    // While the first ending runs here, a second one (the API's DELETE, say) waits.
    expect((await a.claim(sessionId)).kind).toBe('busy');
    a.drop(sessionId); // the ending failed part-way
    expect((await a.claim(sessionId)).kind).toBe('claimed');
    expect((await b.claim(sessionId)).kind).toBe('busy');
  });

  it('is taken over from a holder that died once its lease has passed, by one replica only', async () => {
    const [dead, b, c] = [await replica(), await replica(), await replica()];
    const sessionId = randomUUID();
    const claimedAt = Date.now();
    expect((await dead.claim(sessionId, claimedAt)).kind).toBe('claimed');
    expect((await b.claim(sessionId, claimedAt + STALE_MS - 1)).kind).toBe('busy');
    const later = claimedAt + STALE_MS + 1;
    const takeovers = await Promise.all([b.claim(sessionId, later), c.claim(sessionId, later)]);
    expect(takeovers.filter((r) => r.kind === 'claimed')).toHaveLength(1);
  });

  it('given back (its expiry moved), the session can be claimed again by anyone', async () => {
    const [a, b] = [await replica(), await replica()];
    const sessionId = randomUUID();
    const claim = await a.claim(sessionId);
    if (claim.kind !== 'claimed') throw new Error(`expected a claim, got ${claim.kind}`);
    await a.release(sessionId, claim);
    expect((await b.claim(sessionId)).kind).toBe('claimed');
  });

  it("a holder whose lease was taken over cannot give back the new holder's claim", async () => {
    const [slow, b, c] = [await replica(), await replica(), await replica()];
    const sessionId = randomUUID();
    const claimedAt = Date.now();
    const first = await slow.claim(sessionId, claimedAt);
    if (first.kind !== 'claimed') throw new Error(`expected a claim, got ${first.kind}`);
    expect((await b.claim(sessionId, claimedAt + STALE_MS + 1)).kind).toBe('claimed');
    await slow.release(sessionId, first); // too late: b holds it now
    expect((await c.claim(sessionId, claimedAt + STALE_MS + 2)).kind).toBe('busy');
  });
});

describe('claimDecision', () => {
  const fresh = { owner: 'b', claimedAt: 10_000, until: 40_000 };
  it('takes a missing, its own, or a stale claim; waits out another fresh one; leaves an ended one', () => {
    expect(claimDecision(null, 'a', 15_000)).toEqual({ kind: 'take' });
    expect(claimDecision(fresh, 'a', 15_000)).toEqual({ kind: 'busy', untilMs: 40_000 });
    expect(claimDecision(fresh, 'b', 15_000)).toEqual({ kind: 'take' });
    expect(claimDecision(fresh, 'a', 40_000)).toEqual({ kind: 'take' });
    expect(claimDecision({ ...fresh, done: true }, 'a', 15_000)).toEqual({ kind: 'ended' });
    expect(claimDecision({ ...fresh, done: true }, 'a', 99_000)).toEqual({ kind: 'ended' });
  });

  it('looks again a second later at a claim taken under 2 s ago (it may be a check about to be given back)', () => {
    expect(claimDecision(fresh, 'a', 11_000)).toEqual({ kind: 'busy', untilMs: 12_000 });
    expect(claimDecision(fresh, 'a', 12_000)).toEqual({ kind: 'busy', untilMs: 40_000 });
  });
});
