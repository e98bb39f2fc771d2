import {
  DEFAULT_NATS_MEMORY_BYTES,
  DEFAULT_NATS_STORAGE_BYTES,
  EARLIER_CREATION_VERDICT_MEMORY,
  NATS_KEY_MEMORY_BYTES,
  NATS_MEMORY_SHARES,
  natsKeyBound,
  natsEntryBound,
  natsReservedBytes,
} from './nats-storage-budget';

describe('what Maskline asks of each NATS node', () => {
  it.each([64 * 1024 ** 2, 256 * 1024 ** 2, 2 * 1024 ** 3, 20 * 1024 ** 3])(
    'reserves no more storage than NATS_STORAGE_BYTES says the node has (%d), a fifth left for the rest',
    (storageBytes) => {
      expect(natsReservedBytes(storageBytes)).toBeLessThanOrEqual(storageBytes * 0.8);
    },
  );

  it('bounds the keys of its bounded buckets to well within the node’s memory, a quarter left to the other buckets and NATS', () => {
    const keys = (Object.keys(NATS_MEMORY_SHARES) as Array<keyof typeof NATS_MEMORY_SHARES>).reduce(
      (sum, store) => sum + natsKeyBound(store, DEFAULT_NATS_MEMORY_BYTES),
      0,
    );
    expect(keys * NATS_KEY_MEMORY_BYTES).toBeLessThanOrEqual(DEFAULT_NATS_MEMORY_BYTES * 0.75);
  });

  const capacity = natsEntryBound;

  it('never gives the creation verdicts fewer keys than an earlier release did (NATS would refuse every verdict until the excess aged out)', () => {
    expect(NATS_MEMORY_SHARES.creationVerdicts).toBeGreaterThanOrEqual(EARLIER_CREATION_VERDICT_MEMORY);
  });

  it('leaves room beyond twice the reservations for an earlier release’s creations during an upgrade: two hours at 50 a second, at the defaults', () => {
    const spare =
      capacity('creationVerdicts', DEFAULT_NATS_STORAGE_BYTES, DEFAULT_NATS_MEMORY_BYTES) -
      2 * capacity('creationReservations', DEFAULT_NATS_STORAGE_BYTES, DEFAULT_NATS_MEMORY_BYTES);
    expect(spare).toBeGreaterThanOrEqual(50 * 7200);
  });

  it('admits two hours of session creations at the default API rate (100 a second), at the defaults', () => {
    expect(
      capacity('creationReservations', DEFAULT_NATS_STORAGE_BYTES, DEFAULT_NATS_MEMORY_BYTES),
    ).toBeGreaterThan(100 * 7200);
  });

  it.each([
    [64 * 1024 ** 2, DEFAULT_NATS_MEMORY_BYTES],
    [2 * 1024 ** 3, DEFAULT_NATS_MEMORY_BYTES],
    [DEFAULT_NATS_STORAGE_BYTES, DEFAULT_NATS_MEMORY_BYTES],
    [DEFAULT_NATS_STORAGE_BYTES, 2 * 1024 ** 3],
    [200 * 1024 ** 3, 64 * 1024 ** 3],
  ])(
    'holds at least twice the verdicts the creations it admits can ask for (storage %d, memory %d): a verdict always finds room',
    (storageBytes, memoryBytes) => {
      expect(capacity('creationVerdicts', storageBytes, memoryBytes)).toBeGreaterThanOrEqual(
        2 * capacity('creationReservations', storageBytes, memoryBytes),
      );
    },
  );
});
