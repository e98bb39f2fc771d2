import { randomUUID } from 'node:crypto';
import { kvReplicasForSuite } from '@maskline/testing';
import { StoredInteractions } from './stored-interactions';

describe('marks of stored interactions across services (real NATS KV)', () => {
  const replicas = kvReplicasForSuite('session-service');

  it('is seen by a service waiting for it once another marks it, and not before', async () => {
    const [storer, teller] = await Promise.all([replicas.replica(), replicas.replica()]);
    const marks = new StoredInteractions(storer.kv);
    const asks = new StoredInteractions(teller.kv);
    const end = { sessionId: randomUUID(), interactionId: `CA${randomUUID()}/odd:chars` };

    // Not marked: looked for until the wait is over.
    expect(await asks.within(end, 30)).toBe(false);
    // Marked while the other waits: the wait ends with it.
    const waiting = asks.within(end, 10_000);
    await marks.mark(end);
    expect(await waiting).toBe(true);
    // Another interaction of the same session is its own.
    expect(await asks.within({ ...end, interactionId: 'other' }, 0)).toBe(false);
  });
});
