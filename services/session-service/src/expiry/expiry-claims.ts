import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { KeyValueStores, isWrongLastSequence, kvDecode, kvEncode, kvToken } from '@maskline/messaging';
import { SESSION_SERVICE_CONFIG, type SessionServiceConfig } from '../config/session-service.config';

/** One key per session being ended: who ends it, until when, or that it has ended. */
export const EXPIRY_CLAIM_BUCKET = 'maskline-expiry-claims';
/**
 * A claim matters only while its session is live; kept far longer than the largest staleness the
 * config allows (5 min), so a claim never lapses while it still counts, and the bucket stays the
 * size of the last two hours' expiries.
 */
const CLAIM_TTL_MS = 2 * 3_600_000;
/**
 * How soon to look again when the claim could not be read or changed under a racing replica, or
 * was taken just now: its holder may only be checking that the session is due (its expiry may
 * have moved), and gives it back at once if not.
 */
const CONTENDED_MS = 1000;
/** A claim younger than this may be a check about to be given back (see CONTENDED_MS). */
const YOUNG_MS = 2000;

/** What a claim key holds. */
export interface ClaimValue {
  /** The process that holds it (a random id per process). */
  owner: string;
  /** When it was taken (epoch ms). */
  claimedAt: number;
  /** Taken over by another process after this (epoch ms): its holder is presumed dead. */
  until: number;
  /** The session has ended: nothing is left to do. */
  done?: true;
}

export type ExpiryClaim =
  /** This process ends the session now; `revision` guards giving the claim back. */
  | { kind: 'claimed'; revision: number }
  /** Ended already (by whoever held the claim). */
  | { kind: 'ended' }
  /** Another process is ending it: look again after `untilMs` (epoch ms). */
  | { kind: 'busy'; untilMs: number };

/**
 * What a process does about a claim it found (pure): an ended session is left alone; another
 * process's fresh claim is waited out (a young one briefly: it may be given back at once); its own
 * claim (a retry after a failure here) or a stale one (a holder that died) is taken, by
 * compare-and-set.
 */
export function claimDecision(
  held: ClaimValue | null,
  owner: string,
  nowMs: number,
): { kind: 'take' } | { kind: 'ended' } | { kind: 'busy'; untilMs: number } {
  if (!held) return { kind: 'take' };
  if (held.done) return { kind: 'ended' };
  if (held.owner === owner || held.until <= nowMs) return { kind: 'take' };
  if (nowMs - held.claimedAt < YOUNG_MS) return { kind: 'busy', untilMs: nowMs + CONTENDED_MS };
  return { kind: 'busy', untilMs: held.until };
}

/**
 * Who ends a session, exactly once whichever replica gets there, in NATS KV: an atomic create (one
 * winner of racing replicas), a takeover by compare-and-set once the holder's lease has passed.
 * Costs the same at any size (the store's claims were an insert and a read of a collection that
 * grew with every expiry ever, several times per expiry under load). A process never runs two
 * endings of one session at once (the API's DELETE and the timer, say): the second waits briefly.
 */
@Injectable()
export class ExpiryClaims {
  private readonly owner = randomUUID();
  private readonly running = new Set<string>();

  constructor(
    private readonly kv: KeyValueStores,
    @Inject(SESSION_SERVICE_CONFIG) private readonly config: SessionServiceConfig,
  ) {
    kv.declare(EXPIRY_CLAIM_BUCKET, { ttlMs: CLAIM_TTL_MS });
  }

  private bucket() {
    return this.kv.bucket(EXPIRY_CLAIM_BUCKET, { ttlMs: CLAIM_TTL_MS });
  }

  /** Takes the session's claim, or says who has it. A taken claim must be `finish`ed, `release`d or `drop`ped. */
  async claim(sessionId: string, nowMs = Date.now()): Promise<ExpiryClaim> {
    if (this.running.has(sessionId)) return { kind: 'busy', untilMs: nowMs + CONTENDED_MS };
    this.running.add(sessionId);
    try {
      const result = await this.take(sessionId, nowMs);
      if (result.kind !== 'claimed') this.running.delete(sessionId);
      return result;
    } catch (err) {
      this.running.delete(sessionId);
      throw err;
    }
  }

  private async take(sessionId: string, nowMs: number): Promise<ExpiryClaim> {
    const kv = await this.bucket();
    const key = claimKey(sessionId);
    const mine = kvEncode({
      owner: this.owner,
      claimedAt: nowMs,
      until: nowMs + this.config.EXPIRY_CLAIM_STALE_MS,
    } satisfies ClaimValue);
    try {
      return { kind: 'claimed', revision: await kv.create(key, mine) };
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
    }
    const entry = await kv.get(key);
    if (!entry || entry.operation !== 'PUT') return { kind: 'busy', untilMs: nowMs + CONTENDED_MS };
    const decision = claimDecision(kvDecode<ClaimValue>(entry.value), this.owner, nowMs);
    if (decision.kind !== 'take') return decision;
    try {
      return { kind: 'claimed', revision: await kv.update(key, mine, entry.revision) };
    } catch (err) {
      if (isWrongLastSequence(err)) return { kind: 'busy', untilMs: nowMs + CONTENDED_MS };
      throw err;
    }
  }

  /**
   * The session has ended: whoever looks next leaves it alone without reading the store. Written
   * whatever the key holds now (a replica that took over a claim thought dead ends the same session).
   */
  async finish(sessionId: string): Promise<void> {
    try {
      const done: ClaimValue = { owner: this.owner, claimedAt: Date.now(), until: 0, done: true };
      await (await this.bucket()).put(claimKey(sessionId), kvEncode(done));
    } finally {
      this.running.delete(sessionId);
    }
  }

  /** Not to be ended now after all (its expiry moved): the claim is given back, if still ours. */
  async release(sessionId: string, claim: { revision: number }): Promise<void> {
    try {
      await (await this.bucket()).delete(claimKey(sessionId), { previousSeq: claim.revision });
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
    } finally {
      this.running.delete(sessionId);
    }
  }

  /**
   * The ending failed part-way: the claim stays (others wait it out), and this process may take it
   * again at once when it retries.
   */
  drop(sessionId: string): void {
    this.running.delete(sessionId);
  }
}

function claimKey(sessionId: string): string {
  return `e.${kvToken(sessionId)}`;
}
