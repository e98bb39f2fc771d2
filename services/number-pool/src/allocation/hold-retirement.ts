import type { Hold } from './hold';
import type { HoldStore } from './hold-store.port';

/**
 * Ends holds at once, whatever cool-off they were given: each pair is free again (its hint
 * cleared). Together, so that the store's retirements go in one statement.
 */
export async function retireHolds(
  store: HoldStore,
  holds: ReadonlyArray<Pick<Hold, '_id' | 'virtualNumber' | 'party'>>,
  at: Date,
): Promise<void> {
  await Promise.all(
    holds.map(async (h) => {
      await store.retireHold(h._id, at);
      await store.clearPairHint(h.virtualNumber, h.party, h._id);
    }),
  );
}
