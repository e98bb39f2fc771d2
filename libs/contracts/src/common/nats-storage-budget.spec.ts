import {
  DEFAULT_NATS_MEMORY_BYTES,
  NATS_KEY_MEMORY_BYTES,
  NATS_MEMORY_SHARES,
  natsKeyBound,
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

  it('keeps two hours of creation verdicts at three times the default API rate (a full verdict memory fails creations)', () => {
    expect(natsKeyBound('creationVerdicts', DEFAULT_NATS_MEMORY_BYTES)).toBeGreaterThanOrEqual(
      300 * 7200 * 0.99,
    );
  });
});
