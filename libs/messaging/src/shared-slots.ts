import { randomInt } from 'node:crypto';
import type { KV } from 'nats';
import { KeyValueStores, isWrongLastSequence, kvToken } from './key-value-stores';

const TAKEN = new Uint8Array([1]);
const FREE = new Uint8Array([0]);
/** `runWhenFree`'s first pause before it looks for a slot again, and its longest. */
const FIRST_LOOK_MS = 10;
/** How many times a slot is given back before it is left to its TTL. */
const RELEASE_TRIES = 3;
const LAST_LOOK_MS = 200;

export interface SharedSlotsOptions {
  /** The KV bucket of slots (`<key token>.<slot>`). */
  bucket: string;
  /** Work in flight per key, across every replica. */
  limit: number;
  /**
   * A slot whose holder vanished (a replica killed mid-attempt) frees itself after this: longer
   * than any work holds one.
   */
  slotTtlMs: number;
  /** A slot that could not be given back (NATS unreachable): it frees itself after `slotTtlMs`. */
  onReleaseError: (err: unknown) => void;
  /**
   * Written again this often while held (its TTL starts again), so work that outlasts `slotTtlMs`
   * (a stalled store) keeps its slot; unset, a slot lapses after `slotTtlMs` even under a live holder.
   */
  renewEveryMs?: number;
  /** A held slot that could not be renewed: lost to another holder after its TTL, or NATS unreachable. */
  onRenewError?: (err: unknown) => void;
  /** How long one KV read or write of a slot waits (nats.js's 5 s when unset). */
  opTimeoutMs?: number;
  /**
   * Look at each slot twice before counting the key full (`acquire`): for a caller told "no" at once,
   * never asked again, where a slot given back while the first look went by would refuse it needlessly.
   * Twice the reads for a refusal.
   */
  lookTwice?: boolean;
}

/**
 * A cap on work in flight per key (an account and host) across every replica: `limit` slots per
 * key in NATS KV, each taken by a compare-and-set and given back when the work ends. A replica
 * that dies holding one loses it to the bucket's TTL (the entry expires, and an absent slot is
 * free). One read and two writes per run when a slot is free; a run that finds every slot taken
 * is not started.
 */
export class SharedSlots {
  constructor(
    private readonly kv: KeyValueStores,
    private readonly options: SharedSlotsOptions,
  ) {
    kv.declare(options.bucket, this.bucketOptions());
  }

  private bucketOptions() {
    const { slotTtlMs, opTimeoutMs } = this.options;
    return { ttlMs: slotTtlMs, ...(opTimeoutMs === undefined ? {} : { opTimeoutMs }) };
  }

  async run<T>(
    key: string,
    work: () => Promise<T>,
  ): Promise<{ admitted: true; value: T } | { admitted: false }> {
    return this.runWhenFree(key, work, { withinMs: 0 });
  }

  /**
   * `work` run once a slot of `key`'s is free, waiting up to `withinMs` for one: looked for again
   * after FIRST_LOOK_MS, the pause doubling to LAST_LOOK_MS, each shortened at random so that
   * waiters on several replicas do not look in step. Not admitted when none was freed in time.
   * `onWait` hears each time one was looked for and none was free (tests watch the waiting with it).
   */
  async runWhenFree<T>(
    key: string,
    work: () => Promise<T>,
    wait: { withinMs: number; onWait?: () => void },
  ): Promise<{ admitted: true; value: T } | { admitted: false }> {
    const until = Date.now() + wait.withinMs;
    let pauseMs = FIRST_LOOK_MS;
    for (;;) {
      const giveBack = await this.take(key);
      if (giveBack) {
        try {
          return { admitted: true, value: await work() };
        } finally {
          await giveBack();
        }
      }
      wait.onWait?.();
      const leftMs = until - Date.now();
      if (leftMs <= 0) return { admitted: false };
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(leftMs, pauseMs * (0.5 + Math.random() / 2))),
      );
      pauseMs = Math.min(LAST_LOOK_MS, pauseMs * 2);
    }
  }

  /**
   * A slot of `key`'s, held until the returned function gives it back (it never throws), or null
   * when all are taken. Throws when KV cannot be asked.
   */
  async take(key: string): Promise<(() => Promise<void>) | null> {
    const kv = await this.kv.bucket(this.options.bucket, this.bucketOptions());
    const slot = await this.acquire(kv, kvToken(key), randomInt(this.options.limit));
    if (!slot) return null;
    const { renewEveryMs } = this.options;
    if (!renewEveryMs) return () => this.release(kv, slot);
    let renewing: Promise<void> = Promise.resolve();
    let renewed = true;
    const timer = setInterval(() => {
      if (!renewed) return; // the last renewal failed or is still under way
      renewed = false;
      renewing = kv.update(slot.key, TAKEN, slot.revision).then(
        (revision) => {
          slot.revision = revision;
          renewed = true;
        },
        (err: unknown) => {
          // Lost to another after its TTL (given back by then, it is theirs), or NATS away: not again.
          clearInterval(timer);
          this.options.onRenewError?.(err);
        },
      );
    }, renewEveryMs);
    timer.unref();
    return async () => {
      clearInterval(timer);
      await renewing; // given back at the revision the last renewal left
      await this.release(kv, slot);
    };
  }

  /** How many of `key`'s slots are taken now (a read of each: `limit` KV reads). */
  async heldCount(key: string): Promise<number> {
    const kv = await this.kv.bucket(this.options.bucket, this.bucketOptions());
    const token = kvToken(key);
    let held = 0;
    for (let i = 0; i < this.options.limit; i++) {
      const entry = await kv.get(`${token}.${i}`);
      if (entry?.operation === 'PUT' && entry.value[0] === TAKEN[0]) held++;
    }
    return held;
  }

  /**
   * The slot taken, or null when all are, tried from `start` on (`take` starts at a random one, so
   * replicas rarely collide). With `lookTwice` each slot is looked at twice: one given back after the
   * first look went by it (all the others taken meanwhile) is found on the second. (One given back
   * after the second look, or lost to another's compare-and-set, still counts as taken.)
   */
  private async acquire(
    kv: KV,
    token: string,
    start: number,
  ): Promise<{ key: string; revision: number } | null> {
    const { limit } = this.options;
    const looks = this.options.lookTwice && limit > 1 ? 2 : 1;
    for (let i = 0; i < looks * limit; i++) {
      const index = (start + i) % limit;
      const key = `${token}.${index}`;
      const entry = await kv.get(key);
      if (entry?.operation === 'PUT' && entry.value[0] === TAKEN[0]) continue;
      try {
        // Conditioned on what was read: of replicas racing for one free slot, one gets it.
        const revision = entry ? await kv.update(key, TAKEN, entry.revision) : await kv.create(key, TAKEN);
        return { key, revision };
      } catch (err) {
        if (!isWrongLastSequence(err)) throw err;
      }
    }
    return null;
  }

  private async release(kv: KV, slot: { key: string; revision: number }): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        // Only our own: if the TTL gave the slot to another run meanwhile, that one keeps it.
        await kv.update(slot.key, FREE, slot.revision);
        return;
      } catch (err) {
        if (isWrongLastSequence(err)) return;
        // Asked again (a stream leader being elected); then the work's outcome stands and the
        // slot comes back through the TTL.
        if (attempt < RELEASE_TRIES) continue;
        this.options.onReleaseError(err);
        return;
      }
    }
  }
}
