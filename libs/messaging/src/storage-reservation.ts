import { NATS_STORAGE_SHARES, type NatsStore } from '@maskline/contracts';

/** JetStream's "insufficient storage resources available": a bound larger than a node can reserve. */
export function isStorageReservationRefused(err: unknown): boolean {
  return (err as { api_error?: { err_code?: number } } | null)?.api_error?.err_code === 10047;
}

/**
 * Why a service does not start when NATS will not reserve a store's share: running on without the
 * bound would let one tenant fill NATS for everyone, so the operator is told what to change.
 */
export function storageReservationError(
  what: string,
  store: NatsStore,
  bound: number,
  storageBytes: number,
): Error {
  return new Error(
    `NATS refuses to reserve ${bound} bytes for ${what} (${NATS_STORAGE_SHARES[store]} % of ` +
      `NATS_STORAGE_BYTES=${storageBytes}): each NATS node's JetStream file storage (its max_file_store, ` +
      `or 75 % of its disk's free space when unset) must be at least NATS_STORAGE_BYTES; set ` +
      `NATS_STORAGE_BYTES (the same for every service) to what the nodes have, or give them more`,
  );
}
