import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { KV } from 'nats';
import { KeyValueStores, createIfAbsent, isWrongLastSequence, kvDecode, kvEncode } from './key-value-stores';

/** One entry per task and window; a day outlives any window a sweep uses. */
export const SWEEP_TURNS_BUCKET = 'maskline-sweep-turns';
const TURN_TTL_MS = 24 * 3600_000;
/**
 * A sweep takes at most a tenth of the time: after a run of d, no replica starts the next for 9 d.
 * A run is seconds on MongoDB, far below a window, so this never binds there; on FerretDB, where
 * a run over 100,000 ended sessions scanned for over ten minutes, it keeps the sweeps from taking
 * the store for themselves (retention and redaction then run late by up to nine runs' time).
 */
const PACE = 9;

/**
 * One sweep at a time over the store, whichever service's: the key every sweep's run holds while it
 * runs. On FerretDB each sweep reads its collections whole; two services' sweeps at once (session
 * retention and callback retention, 2026-11-30's soak run I) doubled what the hot paths lost to
 * them. The holder renews it every BATON_RENEW_MS while it runs; one that vanished (a replica
 * killed mid-run) loses it BATON_MS after its last renewal. A holder that could not renew in time
 * may then have another run beside it, which costs time, never correctness.
 */
const STORE_BATON = 'store-baton';
/** Keys of steps inside a run (`oncePerWindow`, `backlogLook`), told apart from tasks' turns (`<task>.<window>`, `<task>.last`). */
export const STEP_PREFIX = 'step.';
export const BATON_MS = 3 * 60_000;
const BATON_RENEW_MS = 60_000;

/**
 * A taker of one task's turns, told how long each run it took lasted (`finished`), or that a turn
 * went unused (`release`): either gives the store's baton back.
 */
export type SweepTurnTaker = (() => Promise<boolean>) & {
  finished(ms: number): Promise<void>;
  release(): Promise<void>;
  /** The last turn asked for was refused because another task's run held the store. */
  storeBusy(): boolean;
};

/**
 * Turns at periodic work that every replica could do and one is enough for (sweeps that read a
 * collection growing with history: on FerretDB each such read is a scan, so N replicas doing it
 * cost N scans for nothing). Of the replicas asking for one task's turn in one window, exactly one
 * gets it: a KV create of `<task>.<window>`. And of all tasks, one runs at a time: a turn comes
 * with the store's baton (STORE_BATON), and a task that finds another holding it waits for its next
 * window. When KV cannot be asked, the replica takes the turn (the work is idempotent: a second run
 * costs time, never correctness).
 */
@Injectable()
export class SweepTurns {
  /** The bucket is made at the first turn asked for, so services that sweep nothing never make it. */
  constructor(private readonly kv: KeyValueStores) {}

  /**
   * A taker of `task`'s turns, one per `windowMs` of `clock` time, none while the last run's pace
   * holds or another task's run holds the store. `task`: letters, digits, `-_`. Each turn taken
   * must be ended by `finished` or `release` (PeriodicTask does), which give the baton back.
   */
  turnsOf(task: string, windowMs: number, clock: () => number): SweepTurnTaker {
    const bucket = () => this.kv.bucket(SWEEP_TURNS_BUCKET, { ttlMs: TURN_TTL_MS });
    /** Who holds the baton, in its value: this taker's runs, and no other's. */
    const holder = randomUUID();
    /** The baton this taker holds (its revision, to give back only its own), renewed while held. */
    let held: { revision: number; renewal: NodeJS.Timeout } | undefined;
    const hold = (kv: KV, revision: number) => {
      const renewal = setInterval(() => {
        const current = held;
        if (current?.renewal !== renewal) return;
        renewBaton(kv, { task, holder, until: clock() + BATON_MS }, current.revision).then(
          (next) => {
            if (held === current && next !== undefined) current.revision = next;
          },
          // KV away for a moment: tried again at the next renewal, while the lease lasts.
          () => undefined,
        );
      }, BATON_RENEW_MS);
      renewal.unref();
      held = { revision, renewal };
    };
    const release = async () => {
      const baton = held;
      held = undefined;
      if (!baton) return;
      clearInterval(baton.renewal);
      try {
        await giveBack(await bucket(), baton.revision);
      } catch {
        // It frees itself BATON_MS after its last renewal.
      }
    };
    let busy = false;
    const take = async () => {
      const now = clock();
      busy = false;
      try {
        const kv = await bucket();
        const last = await kv.get(`${task}.last`);
        const ran = last ? kvDecode<{ endedAt: number; ms: number }>(last.value) : null;
        if (ran && now < ran.endedAt + PACE * ran.ms) return false;
        const baton = await takeBaton(kv, task, holder, now);
        if (baton === undefined) {
          busy = true;
          return false;
        }
        // Held from here: whatever happens next, `release` (or `finished`) gives it back.
        hold(kv, baton);
        if (await createIfAbsent(kv, `${task}.${Math.floor(now / windowMs)}`, kvEncode({ at: now })))
          return true;
        await release();
        return false;
      } catch {
        return true;
      }
    };
    const finished = async (ms: number) => {
      try {
        await (await bucket()).put(`${task}.last`, kvEncode({ endedAt: clock(), ms }));
      } catch {
        // Not paced this once: the next run comes at its window, as without pacing.
      }
      await release();
    };
    return Object.assign(take, { finished, release, storeBusy: () => busy });
  }

  /**
   * A step inside a sweep's run that one replica's run a window is enough for: true for the first to
   * ask in each `windowMs` of `clock` time (`<task>.<window>`, created by one), false for the rest.
   * When KV cannot be asked, true (the step is idempotent: a second one costs time, never correctness).
   */
  oncePerWindow(task: string, windowMs: number, clock: () => number): () => Promise<boolean> {
    return async () => {
      const now = clock();
      try {
        const kv = await this.kv.bucket(SWEEP_TURNS_BUCKET, { ttlMs: TURN_TTL_MS });
        return await createIfAbsent(
          kv,
          `${STEP_PREFIX}${task}.${Math.floor(now / windowMs)}`,
          kvEncode({ at: now }),
        );
      } catch {
        return true;
      }
    };
  }

  /**
   * A look for a backlog inside a sweep's run (records an earlier version left to redact: usually
   * none, and on FerretDB each look is a scan of the history): `due()` is true for one replica's run
   * in each `windowMs` of `clock` time (`<task>.<window>`, created by the first to ask), and for every
   * run, whichever replica's, while the last look found some (`<task>.backlog`, set and cleared by
   * `found`). When KV cannot be asked, true (a look costs time, never correctness). A look that
   * failed is made again in the next window.
   */
  backlogLook(task: string, windowMs: number, clock: () => number): BacklogLook {
    const bucket = () => this.kv.bucket(SWEEP_TURNS_BUCKET, { ttlMs: TURN_TTL_MS });
    const flag = `${STEP_PREFIX}${task}.backlog`;
    const turn = this.oncePerWindow(task, windowMs, clock);
    return {
      due: async () => {
        if (await turn()) return true;
        try {
          return (await (await bucket()).get(flag))?.operation === 'PUT';
        } catch {
          return true;
        }
      },
      found: async (some) => {
        try {
          const kv = await bucket();
          if (some) await kv.put(flag, kvEncode({ at: clock() }));
          else await kv.delete(flag);
        } catch {
          // KV away: the next window's look finds the backlog again.
        }
      },
    };
  }
}

/** See `SweepTurns.backlogLook`. */
export interface BacklogLook {
  due(): Promise<boolean>;
  /** What the look found: some (every run looks again, on any replica) or none. */
  found(some: boolean): Promise<void>;
}

interface Baton {
  task: string;
  holder: string;
  until: number;
}

/** The baton's revision if `holder` took it for `task` (nobody held it, or its holder's time ran out). */
async function takeBaton(kv: KV, task: string, holder: string, now: number): Promise<number | undefined> {
  const entry = await kv.get(STORE_BATON);
  const current = entry?.operation === 'PUT' ? kvDecode<Baton>(entry.value) : null;
  if (current && current.until > now) return undefined;
  const value = kvEncode({ task, holder, until: now + BATON_MS });
  try {
    // Conditioned on what was read: of tasks racing for a free baton, one gets it.
    return entry ? await kv.update(STORE_BATON, value, entry.revision) : await kv.create(STORE_BATON, value);
  } catch (err) {
    if (isWrongLastSequence(err)) return undefined;
    throw err;
  }
}

/**
 * The baton's lease extended to `baton.until`, if `baton.holder` still holds it: its new revision,
 * or undefined when another took it (after the lease lapsed). Conditioned on the revision last
 * written; one that moved on is read again, and renewed if still the holder's.
 */
async function renewBaton(kv: KV, baton: Baton, revision: number): Promise<number | undefined> {
  try {
    return await kv.update(STORE_BATON, kvEncode(baton), revision);
  } catch (err) {
    if (!isWrongLastSequence(err)) throw err;
  }
  const entry = await kv.get(STORE_BATON);
  const current = entry?.operation === 'PUT' ? kvDecode<Baton>(entry.value) : null;
  if (!entry || current?.holder !== baton.holder) return undefined;
  try {
    return await kv.update(STORE_BATON, kvEncode(baton), entry.revision);
  } catch (err) {
    if (isWrongLastSequence(err)) return undefined;
    throw err;
  }
}

/** Gives the baton back if it is still the one taken at `revision`. */
async function giveBack(kv: KV, revision: number): Promise<void> {
  try {
    await kv.update(STORE_BATON, kvEncode({ task: '', holder: '', until: 0 }), revision);
  } catch (err) {
    if (!isWrongLastSequence(err)) throw err;
  }
}
