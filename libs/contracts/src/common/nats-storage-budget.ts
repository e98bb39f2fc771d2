/**
 * How much JetStream file storage Maskline may fill on each NATS node where no setting says
 * otherwise (`NATS_STORAGE_BYTES`): the volume `deploy/k8s/infra/nats-values.yaml` gives each node.
 */
export const DEFAULT_NATS_STORAGE_BYTES = 20 * 1024 ** 3;

/**
 * The stores whose size follows traffic a tenant chooses (one entry or more per inbound message,
 * call or callback, kept for days), and the percentage of `NATS_STORAGE_BYTES` each may hold. Full,
 * each forgets its oldest entries first: it keeps taking writes and remembers a shorter time. Without
 * a bound, one tenant at its default inbound limits filled a 20 GiB volume in about 11 hours, and a
 * full volume stops every publish and every KV write, for every tenant.
 *
 * The KV buckets among them are bounded by their keys first (`NATS_MEMORY_SHARES`): their bytes are
 * room for those keys' values, a few hundred bytes each at most.
 *
 * What is left (20 %, less `NATS_FIXED_BOUNDS`) is for every other bucket: each bounded by its age
 * times a rate, or by live state (sessions, PINs, calls under way); not all of them small (the
 * released allocations, kept 30 days, grow with a tenant's churn of sessions).
 */
export const NATS_STORAGE_SHARES = {
  /** `MASKLINE_EVENTS` (about 2 KB of events a relayed short text, more for a call). */
  events: 65,
  /** The message relay claims (`maskline-message-relays`, about 170 bytes a text). */
  messageRelays: 5,
  /** The callback delivery ledger (`maskline-callback-state`, an entry per callback delivered). */
  callbackLedger: 5,
  /** Calls' context (`maskline-call-state`, an entry per connected call and per call placed). */
  callState: 3,
  /** The webhook replay memory (`maskline-webhook-replay`, about 160 bytes a webhook). */
  webhookReplay: 2,
} as const;

export type NatsStore = keyof typeof NATS_STORAGE_SHARES;

/**
 * How much memory each NATS node has where no setting says otherwise (`NATS_MEMORY_BYTES`): the
 * limit `deploy/k8s/infra/nats-values.yaml` gives each node's container.
 */
export const DEFAULT_NATS_MEMORY_BYTES = 2 * 1024 ** 3;

/**
 * What NATS keeps in memory for each key of a KV bucket, whatever its value: 379 bytes measured
 * (nats-server 2.10.27, 300,000 keys of 72 characters: its resident memory grew by 114 MB while the
 * bucket's file grew by 58 MB). A bucket bounded only by bytes would hold more keys than a node has
 * memory for: NATS killed for its memory stops every tenant, as a full disk does.
 */
export const NATS_KEY_MEMORY_BYTES = 400;

/**
 * The KV buckets among those stores, and the percentage of `NATS_MEMORY_BYTES` their keys may take:
 * each holds at most that many keys (forgetting its oldest first, as for its bytes). The rest is
 * for the other buckets' keys and NATS itself.
 */
export const NATS_MEMORY_SHARES = {
  messageRelays: 10,
  callbackLedger: 5,
  callState: 5,
  /** The most: how long a copied webhook is refused under a flood is what it remembers. */
  webhookReplay: 20,
} as const satisfies Partial<Record<NatsStore, number>>;

export type NatsKeyedStore = keyof typeof NATS_MEMORY_SHARES;

/** The most keys `store` may hold when each NATS node has `memoryBytes` of memory. */
export function natsKeyBound(store: NatsKeyedStore, memoryBytes: number): number {
  return Math.floor((memoryBytes * NATS_MEMORY_SHARES[store]) / 100 / NATS_KEY_MEMORY_BYTES);
}

/**
 * The buckets bounded by a fixed size, whatever NATS_STORAGE_BYTES says, which refuse writes when
 * full (what they hold must not be forgotten early); NATS reserves these beside the shares.
 */
export const NATS_FIXED_BOUNDS = {
  /**
   * The saga's creation verdicts (`maskline-creation-verdicts`): about 2 million, hours of creations
   * at this system's rates. Full (refusing, never dropping one, which would undo a verdict),
   * creations fail, retryable, until verdicts age out.
   */
  creationVerdicts: 256 * 1024 ** 2,
  /**
   * Finished idempotency keys (`maskline-idempotency-finished`, about a million): writes are best
   * effort, so a tenant creating sessions in bulk fills it to this and no further; past it, retries
   * read the store.
   */
  finishedIdempotencyKeys: 256 * 1024 ** 2,
} as const;

/** The most `store` may hold, in bytes, when Maskline may fill `storageBytes` of each NATS node. */
export function natsStorageBound(store: NatsStore, storageBytes: number): number {
  return Math.floor((storageBytes * NATS_STORAGE_SHARES[store]) / 100);
}

/** All that NATS must be able to reserve on each node: every share, and every fixed bound. */
export function natsReservedBytes(storageBytes: number): number {
  const shares = (Object.keys(NATS_STORAGE_SHARES) as NatsStore[]).reduce(
    (sum, store) => sum + natsStorageBound(store, storageBytes),
    0,
  );
  return shares + Object.values(NATS_FIXED_BOUNDS).reduce((sum, b) => sum + b, 0);
}
