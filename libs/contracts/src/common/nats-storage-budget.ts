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
 * What is left (20 %) is for every other bucket: each bounded by its age times a rate, or by live
 * state (sessions, PINs, calls under way), and small next to these.
 */
export const NATS_STORAGE_SHARES = {
  /** `MASKLINE_EVENTS` (about 2 KB of events a relayed short text, more for a call). */
  events: 50,
  /** The message relay claims (`maskline-message-relays`, about 170 bytes a text). */
  messageRelays: 10,
  /** The callback delivery ledger (`maskline-callback-state`, an entry per callback delivered). */
  callbackLedger: 10,
  /** Calls' context (`maskline-call-state`, an entry per connected call and per call placed). */
  callState: 5,
  /** The webhook replay memory (`maskline-webhook-replay`, about 160 bytes a webhook). */
  webhookReplay: 5,
} as const;

export type NatsStore = keyof typeof NATS_STORAGE_SHARES;

/** The most `store` may hold, in bytes, when Maskline may fill `storageBytes` of each NATS node. */
export function natsStorageBound(store: NatsStore, storageBytes: number): number {
  return Math.floor((storageBytes * NATS_STORAGE_SHARES[store]) / 100);
}
