import { randomUUID } from 'node:crypto';
import mongoose, { type Connection } from 'mongoose';
import { LIVE, type Hold } from '../src/allocation/hold';
import pino from 'pino';
import { connect } from 'nats';
import { KeyValueStores, kvEncode, type MessagingOptions } from '@maskline/messaging';
import {
  AllocationDocument,
  AllocationSchema,
  HoldDocument,
  HoldSchema,
} from '../src/allocation/hold.schema';
import { AllocationRepository } from '../src/allocation/allocation.repository';
import { HoldRepository } from '../src/allocation/hold.repository';
import { MongoHoldStore, PAIR_HINTS_BUCKET, pairKey } from '../src/allocation/mongo-hold-store';
import { NumberAllocator } from '../src/allocation/number-allocator';

export interface LatencyRow {
  liveSessions: number;
  allocP50: number;
  allocP99: number;
  /** Floor: one insert of a hold-sized document into the same collection (what a claim must do). */
  floorP50: number;
  floorP99: number;
}

const POOL = Array.from({ length: 100 }, (_, i) => `+1202556${String(i).padStart(4, '0')}`);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * Allocation latency on the real store (and NATS KV for the hints) as the number of live sessions
 * grows. Each measured allocation is for a party that already holds 2 live sessions (so first-fit
 * must look past them); the floor is one insert into the same collection, in the same run.
 */
export async function measureStoreLatency(
  mongoUrl: string,
  natsUrl: string,
  sizes: number[],
  samples: number,
  log: (line: string) => void,
): Promise<LatencyRow[]> {
  const conn: Connection = await mongoose
    .createConnection(mongoUrl, { dbName: `bench_pool_${Date.now()}`, autoIndex: false, maxPoolSize: 20 })
    .asPromise();
  const nc = await connect({ servers: natsUrl });
  try {
    const holds = conn.model(HoldDocument.name, HoldSchema);
    const allocations = conn.model(AllocationDocument.name, AllocationSchema);
    for (const m of [holds, allocations]) {
      await m.createCollection();
      await m.createIndexes();
    }
    const kv = new KeyValueStores(
      nc,
      { service: 'number-pool' } as MessagingOptions,
      pino({ level: 'silent' }),
    );
    const store = new MongoHoldStore(new HoldRepository(holds), new AllocationRepository(allocations), kv);
    const allocator = new NumberAllocator(store, {
      strategy: 'first-fit',
      maxAttempts: 24,
      now: () => new Date(),
      random: Math.random,
    });
    const rows: LatencyRow[] = [];
    let populated = 0;
    for (const [round, size] of sizes.entries()) {
      const started = Date.now();
      populated = await populate(holds, await kv.bucket(PAIR_HINTS_BUCKET), populated, size);
      log(
        `  populated ${size.toLocaleString('en')} live sessions in ${((Date.now() - started) / 1000).toFixed(0)} s`,
      );
      const alloc: number[] = [];
      const floor: number[] = [];
      for (let i = 0; i < samples; i++) {
        const busy = `+1303${round}${String(i).padStart(6, '0')}`;
        for (let k = 0; k < 2; k++)
          await alloc1(allocator, busy, `+1304${round}${String(i * 2 + k).padStart(6, '0')}`);
        const t0 = performance.now();
        await alloc1(allocator, busy, `+1305${round}${String(i).padStart(6, '0')}`);
        alloc.push(performance.now() - t0);
        const t1 = performance.now();
        await holds.create(
          liveHold(
            `floor-${size}-${i}`,
            `floor-${size}-${i}`,
            POOL[i % POOL.length],
            `+1308${round}${String(i).padStart(6, '0')}`,
          ),
        );
        floor.push(performance.now() - t1);
      }
      rows.push({
        liveSessions: size,
        allocP50: percentile(alloc, 50),
        allocP99: percentile(alloc, 99),
        floorP50: percentile(floor, 50),
        floorP99: percentile(floor, 99),
      });
    }
    return rows;
  } finally {
    await conn.dropDatabase().catch(() => undefined);
    await conn.close();
    await nc.close();
  }
}

function alloc1(allocator: NumberAllocator, a: string, b: string) {
  return allocator.allocate({
    accountId: 'MABENCH0000000000000',
    allocationId: randomUUID(),
    parties: [a, b],
    candidates: POOL,
    exclude: new Set(),
    cooloffSeconds: 0,
    poolLabel: 'in the bench pool',
  });
}

/** Bulk-inserts live two-party sessions (holds, and their pair hints in KV) until `to` exist. */
async function populate(
  holds: mongoose.Model<HoldDocument>,
  hints: Awaited<ReturnType<KeyValueStores['bucket']>>,
  from: number,
  to: number,
): Promise<number> {
  const batch = 1000;
  for (let start = from; start < to; start += batch) {
    const docs: Hold[] = [];
    for (let i = start; i < Math.min(to, start + batch); i++) {
      const number = POOL[i % POOL.length];
      const allocationId = `bench-session-${i}`;
      for (const [k, party] of [
        `+1206${String(i).padStart(7, '0')}`,
        `+1207${String(i).padStart(7, '0')}`,
      ].entries()) {
        docs.push(liveHold(k === 0 ? `bench-hold-${i}` : `bench-hold-${i}-b`, allocationId, number, party));
      }
    }
    await holds.collection.insertMany(docs as unknown as Parameters<typeof holds.collection.insertMany>[0], {
      ordered: false,
    });
    await Promise.all(
      docs.map((d) =>
        hints.put(
          pairKey(d.virtualNumber, d.party),
          kvEncode({ holdId: d._id, allocationId: d.allocationId, blockedUntil: null }),
        ),
      ),
    );
  }
  return to;
}

function liveHold(id: string, allocationId: string, virtualNumber: string, party: string): Hold {
  return {
    _id: id,
    accountId: 'MABENCH0000000000000',
    allocationId,
    virtualNumber,
    party,
    liveMarker: LIVE,
    cooloffSeconds: 0,
    createdAt: new Date(),
    releasedAt: null,
    blockedUntil: null,
    retiredAt: null,
  };
}
