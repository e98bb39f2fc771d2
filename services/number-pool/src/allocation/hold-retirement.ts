import type { Hold } from './hold';
import type { HoldStore } from './hold-store.port';

/**
 * Ends holds at once, whatever cool-off they were given: each pair is free again (its hint
 * cleared). Together, so that the store's retirements go in one statement. The hint goes first: a
 * hold the store still has is found again (the reaper's next run, the next look at the pair), and a
 * missing hint costs one refused insert; a hint left behind by a hold already gone was found by
 * nothing, and kept the party's number in KV, which never expires it. And again after: a claim of
 * the pair refused in between repairs the hint from the hold still live (`insertOrReclaim`).
 */
export async function retireHolds(
  store: HoldStore,
  holds: ReadonlyArray<Pick<Hold, '_id' | 'virtualNumber' | 'party'>>,
  at: Date,
): Promise<void> {
  await Promise.all(
    holds.map(async (h) => {
      await store.clearPairHint(h.virtualNumber, h.party, h._id);
      await store.retireHold(h._id, at);
      await store.clearPairHint(h.virtualNumber, h.party, h._id);
    }),
  );
}
