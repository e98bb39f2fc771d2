import { backoffWithJitter } from '@maskline/messaging';
import type { ProviderHold } from './provider-message-sender';

/**
 * The longest a relay waits between two looks (held back, or after its provider did not take it):
 * its next look comes within this (a provider's Retry-After aside).
 */
export const RELAY_RETRY_MAX_MS = 60_000;
/** The first wait of a message whose provider account is busy, before jitter; doubling to the most below. */
const BUSY_RETRY_BASE_MS = 100;
/**
 * The longest a message waits between two looks at a busy provider account: a turn comes as soon
 * as the account catches up, and a message left sleeping long after it has is overtaken by newer
 * ones. Its 999 deliveries last about an hour of backlog, then it is announced failed.
 */
const BUSY_RETRY_MAX_MS = 5_000;

/**
 * How long a message not sent because of its provider account's `hold` waits before its
 * `deliveryCount`+1-th look.
 *
 * Held back (breaker open, or sends hanging): never less than the time until the breaker may let a
 * trial through and a hanging send has timed out (the backoff's base is twice that, and its jitter
 * takes off at most half), then doubling to a minute. Sooner, it is only held back again: with a
 * base of 2.5 s, a never-answering account's messages were each delivered about three times in their
 * first 20 s, every delivery work that two cores share with the other accounts' relays.
 *
 * An account held back longer than that base already (`heldForMs`, HeldBackSince) is not a blip: a
 * text that meets it waits from half to all of the time the account has been held back (the same
 * jitter, a minute at most), as its older texts by then do, not 5–10 s, 10–20 s, 20–40 s again.
 * Otherwise each new text of an account down for long was looked at three times in its first
 * minute, three looks a second for each text a second it takes, however long the outage had lasted.
 * The price: after an outage of 10–60 s, a text that arrived late in it waits up to that long
 * again for its first look, where it waited 5–10 s.
 *
 * Busy (its sends are full and answered in time, and as many messages already wait in the replica
 * for a turn): turns come as sends are answered, so 50–100 ms, doubling to 5 s. Waiting as if held
 * back put 5–10 s on a healthy account's messages whenever a burst filled its sends.
 */
export function heldBackRetryMs(
  deliveryCount: number,
  config: { BREAKER_RESET_MS: number; OUTBOUND_TIMEOUT_MS: number },
  hold: ProviderHold,
  { random = Math.random, heldForMs = 0 }: { random?: () => number; heldForMs?: number } = {},
): number {
  if (hold === 'busy') return backoffWithJitter(deliveryCount, BUSY_RETRY_BASE_MS, BUSY_RETRY_MAX_MS, random);
  const base = 2 * Math.max(config.BREAKER_RESET_MS, config.OUTBOUND_TIMEOUT_MS);
  const scheduled = backoffWithJitter(deliveryCount, base, RELAY_RETRY_MAX_MS, random);
  if (heldForMs <= base) return scheduled;
  // As long as the account has been held back (the first backoff from that base), a minute at most.
  const held = backoffWithJitter(1, Math.min(heldForMs, RELAY_RETRY_MAX_MS), RELAY_RETRY_MAX_MS, random);
  return Math.max(scheduled, held);
}
