/** Messages one replica relays at once: the relay consumer's concurrency. */
export const RELAY_CONCURRENCY = 128;

/**
 * The most messages of one provider account that wait in a replica for a turn to send: as many as
 * it may send at once, and never more than an eighth of the relay's slots, so that sends and waits
 * together hold at most a quarter of them at the default `sendsPerAccount` (16).
 */
export function relayWaitersPerProviderAccount(sendsPerAccount: number): number {
  return Math.min(sendsPerAccount, RELAY_CONCURRENCY / 8);
}
