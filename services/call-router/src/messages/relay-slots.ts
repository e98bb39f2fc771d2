import { subaccountShare } from '@maskline/contracts';

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

/**
 * The most messages of one Maskline account (a main account, its subaccounts included: messages
 * carry the main account) that send or wait for a turn in a replica at once, whatever number of provider accounts its numbers
 * use: a quarter of the relay's slots. Without it a tenant that gave its numbers four sets of
 * provider credentials could take every slot during a burst, or a hang.
 */
export const RELAY_SLOTS_PER_ACCOUNT = RELAY_CONCURRENCY / 4;

/**
 * The most messages of one subaccount's numbers that send or wait for a turn in a replica at once:
 * half its account's share. A subaccount gives its numbers provider credentials of its own; without
 * it, one whose provider accounts hang (two of them fill RELAY_SLOTS_PER_ACCOUNT until their
 * breakers open) would hold every slot its main account and siblings share.
 */
export const RELAY_SLOTS_PER_SUBACCOUNT = subaccountShare(RELAY_SLOTS_PER_ACCOUNT);
