import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { STORED_INTERACTION_WAIT_MS, interactionEndedBy } from '@maskline/contracts';
import { RetryLater, StoredInteractions, type EventMeta } from '@maskline/messaging';
import { LOGGER, MetricsService } from '@maskline/observability';
import { CLOCK, type Clock } from '@maskline/service-kit';

/** How long one delivery of the event waits in hand for the mark before it is put off. */
const IN_HAND_WAIT_MS = 500;
/** How soon an event put off for its mark is looked at again. */
const RECHECK_MS = 1_000;

/**
 * A callback about an interaction's end (a call's both legs hung up, a message relayed or failed)
 * goes once session-service has stored that end (`StoredInteractions`), so a client that fetches the
 * interaction on hearing of it finds it. Both consume one event stream, in no order between them:
 * before this, a Proxy Voice interaction's callback could arrive before its Interaction existed. The
 * event waits up to IN_HAND_WAIT_MS in hand, then is put off (RetryLater), until
 * STORED_INTERACTION_WAIT_MS after it was published; past that (session-service or its store down)
 * the callback goes without, counted.
 */
@Injectable()
export class StoredInteractionGate {
  private readonly unstored;

  constructor(
    private readonly stored: StoredInteractions,
    @Inject(CLOCK) private readonly now: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: MetricsService,
  ) {
    this.unstored = metrics.counter(
      'maskline_callbacks_before_stored_total',
      'Callbacks about an interaction sent before session-service said it was stored (it had not within the wait)',
    );
  }

  /** Returns once a callback about `event` may go; throws RetryLater while it should wait. */
  async clear(event: Parameters<typeof interactionEndedBy>[0], meta: EventMeta): Promise<void> {
    const end = interactionEndedBy(event);
    if (!end) return;
    const leftMs = () => meta.publishedAt.getTime() + STORED_INTERACTION_WAIT_MS - this.now();
    if (leftMs() > 0) {
      try {
        if (await this.stored.within(end, Math.min(IN_HAND_WAIT_MS, leftMs()))) return;
      } catch (err) {
        this.logger.warn({ err }, 'could not ask whether an interaction is stored; its callback waits');
      }
      if (leftMs() > 0)
        throw new RetryLater('the interaction is not stored yet', Math.min(RECHECK_MS, leftMs()));
    }
    this.unstored.inc();
  }
}
