import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import {
  STORED_INTERACTION_MARK_TTL_MS,
  STORED_INTERACTION_WAIT_MS,
  type InteractionEnd,
} from '@maskline/contracts';
import { RetryLater, StoredInteractions, backoffCeiling } from '@maskline/messaging';
import { LOGGER, MetricsService } from '@maskline/observability';

/** The pause before delivery `n` (1 on the first) of an event looks for its mark again: 100 ms, doubling to 1 s. */
export function recheckDelayMs(deliveryCount: number): number {
  return backoffCeiling(deliveryCount, 100, 1_000);
}

/** How many deliveries of an event look for its mark: their pauses add up to STORED_INTERACTION_WAIT_MS. */
export function looksWithin(waitMs: number): number {
  let waited = 0;
  let looks = 0;
  while (waited < waitMs) waited += recheckDelayMs(++looks);
  return looks;
}

const LOOKS = looksWithin(STORED_INTERACTION_WAIT_MS);
/**
 * An event older than this is not held for its mark: its mark, if it was made, has expired (a
 * dispatcher catching up on a backlog), so waiting would only hold it up. Far beyond any clock skew.
 */
const NOT_HELD_AFTER_MS = STORED_INTERACTION_MARK_TTL_MS / 2;

/**
 * A callback about an interaction's end (a call's both legs hung up, a message relayed or failed)
 * goes once session-service has stored that end (`StoredInteractions`), so a client that fetches the
 * interaction on hearing of it finds it. Both consume one event stream, in no order between them:
 * before this, a Proxy Voice interaction's callback could arrive before its Interaction existed. Asked
 * before the callback's first attempt, to an endpoint known (the deliverer): one KV read; not there,
 * the event is put off (RetryLater, 100 ms doubling to 1 s), never held in hand, so marks running late
 * take none of the dispatcher's handlers. Counted by deliveries, not clocks: after LOOKS of them (about
 * STORED_INTERACTION_WAIT_MS) the callback goes without, counted when its mark is still missing then.
 */
@Injectable()
export class StoredInteractionGate {
  private readonly unstored;

  constructor(
    private readonly stored: StoredInteractions,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: MetricsService,
  ) {
    this.unstored = metrics.counter(
      'maskline_callbacks_before_stored_total',
      'Callbacks about an interaction sent without session-service having stored it, after waiting for it',
    );
  }

  /**
   * Returns once a callback about `end`, on delivery `deliveryCount` of its event (published at
   * `publishedAt`), may go; else throws RetryLater.
   */
  async clear(end: InteractionEnd, deliveryCount: number, publishedAt: Date, now: number): Promise<void> {
    if (now - publishedAt.getTime() > NOT_HELD_AFTER_MS) return;
    let stored = false;
    try {
      stored = await this.stored.isStored(end);
    } catch (err) {
      this.logger.warn({ err }, 'could not ask whether an interaction is stored; taken as not yet');
    }
    if (stored) return;
    if (deliveryCount < LOOKS)
      throw new RetryLater('the interaction is not stored yet', recheckDelayMs(deliveryCount));
    // Counted once, as it is let through (later deliveries, put off elsewhere, come back here).
    if (deliveryCount === LOOKS) this.unstored.inc();
  }
}
