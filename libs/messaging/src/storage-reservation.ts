import { NATS_STORAGE_SHARES, natsReservedBytes, type NatsStore } from '@maskline/contracts';

/**
 * A bound larger than a node can reserve: "insufficient storage resources available" (10047) from a
 * single server, or, from a cluster, placement refused for want of storage ("no suitable peers for
 * placement, insufficient storage", 10005), which is otherwise retried as a cluster still forming.
 */
export function isStorageReservationRefused(err: unknown): boolean {
  const e = (err as { api_error?: { err_code?: number; description?: string } } | null)?.api_error;
  return e?.err_code === 10047 || /insufficient storage/i.test(e?.description ?? '');
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
      `or 75 % of its disk's free space when unset) must hold what Maskline reserves, ` +
      `${natsReservedBytes(storageBytes)} bytes at this setting; set NATS_STORAGE_BYTES (the same for ` +
      `every service) to what the nodes have, or give them more`,
  );
}
