import { randomUUID } from 'node:crypto';
import { NATS_KEY_MEMORY_BYTES, NATS_MEMORY_SHARES, STORED_INTERACTIONS_BUCKET } from '@maskline/contracts';
import { kvReplicasForSuite } from '@maskline/testing';
import { StoredInteractions } from './stored-interactions';

describe('marks of stored interactions across services (real NATS KV)', () => {
  const replicas = kvReplicasForSuite('session-service');

  it('is seen by another service once one marks it, and not before', async () => {
    const [storer, teller] = await Promise.all([replicas.replica(), replicas.replica()]);
    const marks = new StoredInteractions(storer.kv);
    const asks = new StoredInteractions(teller.kv);
    const end = { sessionId: randomUUID(), interactionId: `CA${randomUUID()}/odd:chars` };

    expect(await asks.isStored(end)).toBe(false);
    await marks.mark(end);
    expect(await asks.isStored(end)).toBe(true);
    // Another interaction of the same session is its own.
    expect(await asks.isStored({ ...end, interactionId: 'other' })).toBe(false);
  });

  it('forgets its oldest marks first once its share of NATS is full, and keeps taking new ones (one tenant cannot grow it without bound)', async () => {
    // Room for 20 marks: 5 % of the memory at NATS_KEY_MEMORY_BYTES each.
    const { kv, nc } = await replicas.replica({
      memoryBytes: (20 * NATS_KEY_MEMORY_BYTES * 100) / NATS_MEMORY_SHARES.storedInteractions,
    });
    const marks = new StoredInteractions(kv);
    await kv.bucket(STORED_INTERACTIONS_BUCKET);
    await (await nc.jetstreamManager()).streams.purge(`KV_${STORED_INTERACTIONS_BUCKET}`);
    const ends = Array.from({ length: 30 }, () => ({ sessionId: randomUUID(), interactionId: randomUUID() }));
    for (const end of ends) await marks.mark(end);
    const kept = await Promise.all(ends.map((end) => marks.isStored(end)));
    expect(kept.slice(0, 10)).toEqual(Array(10).fill(false));
    expect(kept.slice(10)).toEqual(Array(20).fill(true));
  });
});
