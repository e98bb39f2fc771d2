import { Injectable } from '@nestjs/common';
import { KeyValueStores, createIfAbsent, kvDecode, kvEncode } from './key-value-stores';

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

/** A taker of one task's turns, told how long each run it took lasted. */
export type SweepTurnTaker = (() => Promise<boolean>) & { finished(ms: number): Promise<void> };

/**
 * Turns at periodic work that every replica could do and one is enough for (sweeps that read a
 * collection growing with history: on FerretDB each such read is a scan, so N replicas doing it
 * cost N scans for nothing). Of the replicas asking for one task's turn in one window, exactly one
 * gets it: a KV create of `<task>.<window>`. When KV cannot be asked, the replica takes the turn
 * (the work is idempotent: a second run costs time, never correctness).
 */
@Injectable()
export class SweepTurns {
  /** The bucket is made at the first turn asked for, so services that sweep nothing never make it. */
  constructor(private readonly kv: KeyValueStores) {}

  /**
   * A taker of `task`'s turns, one per `windowMs` of `clock` time, none while the last run's pace
   * holds. `task`: letters, digits, `-_`.
   */
  turnsOf(task: string, windowMs: number, clock: () => number): SweepTurnTaker {
    const bucket = () => this.kv.bucket(SWEEP_TURNS_BUCKET, { ttlMs: TURN_TTL_MS });
    const take = async () => {
      const now = clock();
      try {
        const kv = await bucket();
        const last = await kv.get(`${task}.last`);
        const ran = last ? kvDecode<{ endedAt: number; ms: number }>(last.value) : null;
        if (ran && now < ran.endedAt + PACE * ran.ms) return false;
        return await createIfAbsent(kv, `${task}.${Math.floor(now / windowMs)}`, kvEncode({ at: now }));
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
    };
    return Object.assign(take, { finished });
  }
}
