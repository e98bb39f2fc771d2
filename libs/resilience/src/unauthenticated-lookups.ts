import { CodedError, ErrorCodes } from '@maskline/contracts';
import { Bulkheads } from './bulkheads';

/** Store reads at a time, per kind and process, for what a request names before it is authenticated. */
export const UNAUTHENTICATED_LOOKUPS_IN_FLIGHT = 16;
/** Reads waiting for a turn, and how long one waits, before it is refused as unavailable. */
export const UNAUTHENTICATED_LOOKUPS_WAITING = 1024;
export const UNAUTHENTICATED_LOOKUP_WAIT_MS = 2000;

/**
 * Reads of what an unauthenticated request names (the number a webhook is about, an Auth ID), made
 * before anything proves who sent it: anyone may send such a request, naming a made-up number or
 * Auth ID each time, so each would cost the store a read. At most UNAUTHENTICATED_LOOKUPS_IN_FLIGHT
 * of a kind (an instance: numbers, Auth IDs, API key SIDs) run at once in a process, so a flood of
 * one kind holds back no other; more wait their turn, first come first served, and past
 * UNAUTHENTICATED_LOOKUPS_WAITING waiting (a flood) are refused at once, retryable, with no read.
 * What a flood costs the store is then bounded, whatever its rate, and no shared breaker opens on
 * the timeouts an overloaded store would give every tenant's lookups. Cached answers do not come here.
 */
export class UnauthenticatedLookups {
  private readonly slots = new Bulkheads(UNAUTHENTICATED_LOOKUPS_IN_FLIGHT, Date.now, {
    maxWaiting: UNAUTHENTICATED_LOOKUPS_WAITING,
  });

  constructor(private readonly what: string) {}

  /**
   * `load` (a cache's): at once when what it loads is cached (no read), else in its turn. Every
   * caller of a cache that a request not yet authenticated may ask goes through here.
   */
  load<T>(cached: boolean, load: () => Promise<T>): Promise<T> {
    return cached ? load() : this.run(load);
  }

  async run<T>(read: () => Promise<T>): Promise<T> {
    const ran = await this.slots.run('lookups', read, { waitMs: UNAUTHENTICATED_LOOKUP_WAIT_MS });
    if (!ran.admitted) {
      throw new CodedError(
        ErrorCodes.DEPENDENCY_UNAVAILABLE,
        `too many ${this.what} lookups at once; try again`,
        { retryable: true },
      );
    }
    return ran.value;
  }
}
