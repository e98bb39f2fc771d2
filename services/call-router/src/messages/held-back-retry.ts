import { backoffWithJitter } from '@maskline/messaging';

/** The longest a held-back message waits between two looks. */
const HELD_BACK_RETRY_MAX_MS = 60_000;

/**
 * How long a message not sent because its provider account is held back (breaker open, or
 * compartment full) waits before its `deliveryCount`+1-th look: never less than the time until the
 * breaker may let a trial through and a hanging send in the compartment has timed out (the backoff's
 * base is twice that, and its jitter takes off at most half), then doubling to a minute. Sooner, it is
 * only held back again: with a base of 2.5 s, a never-answering account's messages were each delivered
 * about three times in their first 20 s, every delivery work that two cores share with the other
 * accounts' relays.
 */
export function heldBackRetryMs(
  deliveryCount: number,
  config: { BREAKER_RESET_MS: number; OUTBOUND_TIMEOUT_MS: number },
  random = Math.random,
): number {
  const base = 2 * Math.max(config.BREAKER_RESET_MS, config.OUTBOUND_TIMEOUT_MS);
  return backoffWithJitter(deliveryCount, base, HELD_BACK_RETRY_MAX_MS, random);
}
