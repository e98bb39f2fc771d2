/**
 * How much JetStream file storage Maskline may fill on each NATS node where no setting says
 * otherwise (`NATS_STORAGE_BYTES`): the volume `deploy/k8s/infra/nats-values.yaml` gives each node.
 */
export const DEFAULT_NATS_STORAGE_BYTES = 20 * 1024 ** 3;

/**
 * How much memory each NATS node has where no setting says otherwise (`NATS_MEMORY_BYTES`): the
 * limit `deploy/k8s/infra/nats-values.yaml` gives each node's container.
 */
export const DEFAULT_NATS_MEMORY_BYTES = 8 * 1024 ** 3;

/**
 * What NATS keeps in memory for each key of a KV bucket, whatever its value: 379 bytes measured
 * (nats-server 2.10.27, 300,000 keys of 72 characters: its resident memory grew by 114 MB while the
 * bucket's file grew by 58 MB). A bucket bounded only by bytes would hold more keys than a node has
 * memory for: NATS killed for its memory stops every tenant, as a full disk does.
 */
export const NATS_KEY_MEMORY_BYTES = 400;

/** The shares of room for creation verdicts (the verdicts' own are derived from them). */
const CREATION_RESERVATION_STORAGE = 0.6;
const CREATION_RESERVATION_MEMORY = 3.5;
/**
 * The share of memory for the verdicts' keys that releases before the room for verdicts set (10 %),
 * and the least they may have: NATS does not trim a bucket that refuses when full if its bound is
 * lowered, it refuses every write until enough entries have aged out (two hours).
 */
export const EARLIER_CREATION_VERDICT_MEMORY = 10;

/**
 * The stores whose size follows traffic a tenant chooses (an entry or more per inbound message,
 * call, callback or session created, kept for hours or days), and the percentage of
 * `NATS_STORAGE_BYTES` each may hold on disk. Without a bound, one tenant at its default inbound
 * limit filled a 20 GiB volume in about 12 hours, and its keys grew NATS's memory until it was killed
 * for it: either stops every publish and every KV write, for every tenant.
 *
 * What is left (20 %) is for every other bucket, each bounded by its age times a rate or by live
 * state (sessions, PINs, calls under way), and the file system.
 */
export const NATS_STORAGE_SHARES = {
  /** `MASKLINE_EVENTS` (about 2 KB of events a relayed short text, more for a call). */
  events: 57,
  /** The message relay claims (`maskline-message-relays`, about 170 bytes a text; its keys bind first). */
  messageRelays: 2,
  /**
   * The callback delivery ledger (`maskline-callback-state`, an entry per callback delivered, and
   * one per callback in retry: its count).
   */
  callbackLedger: 4,
  /**
   * Callbacks put off once their events are 10 minutes old (`maskline-callback-retry-watches`, about
   * 800 bytes with the callback's parameters): what the lost retry sweep reads.
   */
  callbackRetryWatches: 1,
  /** Calls' context (`maskline-call-state`, an entry per connected call and per call placed). */
  callState: 3,
  /**
   * The webhook replay memory (`maskline-webhook-replay`, about 160 bytes a webhook or a message sent
   * through the API with an Idempotency-Key; its keys bind first).
   */
  webhookReplay: 3,
  /**
   * Marks of interactions stored (`maskline-stored-interactions`, about 140 bytes a text or call,
   * kept an hour): read within seconds of being written, so forgetting the oldest costs nothing.
   */
  storedInteractions: 1,
  /** Allocations of numbers, live and released (`maskline-pool-allocations`, one a session created). */
  allocations: 3.5,
  /**
   * Room reserved for creation verdicts (`maskline-creation-reservations`, one a creation under way
   * or done, about 155 bytes): what admits creations.
   */
  creationReservations: CREATION_RESERVATION_STORAGE,
  /**
   * The saga's creation verdicts (`maskline-creation-verdicts`, one a session created, about 160
   * bytes): more than twice what the reservations hold, so a verdict always finds room.
   */
  creationVerdicts: 2.5 * CREATION_RESERVATION_STORAGE,
  /** Finished idempotency keys (`maskline-idempotency-finished`, one a create with a key). */
  finishedIdempotencyKeys: 1.25,
  /** Proxy participants' last proxy numbers (`proxy-sticky-numbers`, about 150 bytes a participant). */
  proxyStickyNumbers: 1,
  /** Proxy auto-creates under way (`maskline-message-auto-creates`, one a stranger's message). */
  pendingAutoCreates: 1,
} as const;

export type NatsStore = keyof typeof NATS_STORAGE_SHARES;

/**
 * The KV buckets among those stores, and the percentage of `NATS_MEMORY_BYTES` their keys may take:
 * each holds at most that many keys. The rest (25 %) is for the other buckets' keys (each bounded by
 * its age times a rate or by live state) and NATS itself.
 */
export const NATS_MEMORY_SHARES = {
  messageRelays: 10,
  callbackLedger: 5,
  callState: 5,
  /** How long a copied webhook is refused under a flood is what it remembers. */
  webhookReplay: 15,
  /** 30 days of records: one forgotten is read from the store while live. */
  allocations: 6.5,
  /** Out of the ledger's bucket, so that a flood of callbacks delivered does not push them out first. */
  callbackRetryWatches: 2,
  /**
   * Full, it refuses a creation before it holds anything: room for two hours of creations at 104 a
   * second (a creation that fails before storing its session gives its key back).
   */
  creationReservations: CREATION_RESERVATION_MEMORY,
  /**
   * Twice what the reservations hold, and room for an earlier release's creations during an upgrade
   * (which reserve nothing): as many keys as that release allowed.
   */
  creationVerdicts: Math.max(2 * CREATION_RESERVATION_MEMORY + 3, EARLIER_CREATION_VERDICT_MEMORY),
  finishedIdempotencyKeys: 5,
  /** An hour of texts and calls at 298 a second (one tenant's inbound limit for texts is 200). */
  storedInteractions: 5,
  /**
   * Kept 30 days, one a participant identifier: one tenant adding participants at its API limit
   * would otherwise grow it by 3.5 GB of NATS memory a day. Full, the participants added longest
   * ago lose their stickiness first (they get whichever number is free).
   */
  proxyStickyNumbers: 5,
  /** An hour of strangers' messages to auto-create Services at 179 a second. */
  pendingAutoCreates: 3,
} as const satisfies Partial<Record<NatsStore, number>>;

export type NatsKeyedStore = keyof typeof NATS_MEMORY_SHARES;

/** The most `store` may hold, in bytes, when Maskline may fill `storageBytes` of each NATS node. */
export function natsStorageBound(store: NatsStore, storageBytes: number): number {
  return Math.floor((storageBytes * NATS_STORAGE_SHARES[store]) / 100);
}

/** The most keys `store` may hold when each NATS node has `memoryBytes` of memory. */
export function natsKeyBound(store: NatsKeyedStore, memoryBytes: number): number {
  return Math.floor((memoryBytes * NATS_MEMORY_SHARES[store]) / 100 / NATS_KEY_MEMORY_BYTES);
}

/**
 * Bytes one entry takes in the stores whose entries are counted on (measured with nats-server
 * 2.10.27, 1,000 keys: a reservation about 155, a verdict 144, a callback's watch 890 (838 keys) with a
 * message's failure callback and a 70-character URL; with a margin).
 */
export const NATS_RECORD_BYTES = {
  creationReservations: 160,
  creationVerdicts: 170,
  callbackRetryWatches: 950,
} as const;

/** How many entries `store` holds before it refuses: its keys or its bytes, whichever bind first. */
export function natsEntryBound(
  store: keyof typeof NATS_RECORD_BYTES,
  storageBytes: number,
  memoryBytes: number,
): number {
  return Math.min(
    natsKeyBound(store, memoryBytes),
    Math.floor(natsStorageBound(store, storageBytes) / NATS_RECORD_BYTES[store]),
  );
}

/** All that NATS must be able to reserve on each node: every store's share. */
export function natsReservedBytes(storageBytes: number): number {
  return (Object.keys(NATS_STORAGE_SHARES) as NatsStore[]).reduce(
    (sum, store) => sum + natsStorageBound(store, storageBytes),
    0,
  );
}
