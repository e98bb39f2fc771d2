import { randomUUID } from 'node:crypto';
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
});
