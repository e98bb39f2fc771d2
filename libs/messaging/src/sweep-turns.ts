import { Injectable } from '@nestjs/common';
import { KeyValueStores, createIfAbsent, kvEncode } from './key-value-stores';

/** One entry per task and window; a day outlives any window a sweep uses. */
export const SWEEP_TURNS_BUCKET = 'maskline-sweep-turns';
const TURN_TTL_MS = 24 * 3600_000;

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

  /** A taker of `task`'s turns, one per `windowMs` of `clock` time. `task`: letters, digits, `-_`. */
  turnsOf(task: string, windowMs: number, clock: () => number): () => Promise<boolean> {
    return async () => {
      const now = clock();
      try {
        const kv = await this.kv.bucket(SWEEP_TURNS_BUCKET, { ttlMs: TURN_TTL_MS });
        return await createIfAbsent(kv, `${task}.${Math.floor(now / windowMs)}`, kvEncode({ at: now }));
      } catch {
        return true;
      }
    };
  }
}
