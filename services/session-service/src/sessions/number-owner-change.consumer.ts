import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { CodedError, ErrorCodes, GetNumberRouting, VirtualNumberChanged } from '@maskline/contracts';
import { DurableConsumer, RetryLater, RpcClient, type EventMeta, type EventOf } from '@maskline/messaging';
import { LOGGER } from '@maskline/observability';
import { CLOCK, type Clock } from '@maskline/service-kit';
import { SESSION_SERVICE_CONFIG, type SessionServiceConfig } from '../config/session-service.config';
import { ExpiryScheduler } from '../expiry/expiry-scheduler';
import { SessionRepository } from './session.repository';

const EVENTS = [VirtualNumberChanged] as const;
/** Sessions on a taken number read at once: one account may hold 100,000 live ones there. */
const ENDED_PAGE = 500;
/** Deliveries of a taken number's event that wait: the first, a retry of a failed first look, one more. */
const WAITING_DELIVERIES = 2;

/**
 * A number's sessions are its owner's alone. When a number changes hands (an account its provider
 * confirms holds it takes it from one that added it unproven, or from one that released it), the
 * sessions another account still keeps on it end at once, with everything they hold there: their
 * parties' pairs with the number (else the old owner, adding a participant, learns from the refusal
 * which phones the new owner's sessions hold, and blocks them) and their PINs.
 *
 * The owner is number-pool's word when the event is handled, never the event's: events of one
 * number may be handled out of order (a squatter's last update after the takeover), or again from
 * the start of the stream (a new consumer), and an old owner named there must end nothing of the
 * owner now. The owner is an account and one of its subaccounts (or its main account): a number its
 * main account moves between them (`movedWithin`) is the new holder's alone in the same way. Any
 * other change of a number by its owner (an update, a delete) ends nothing: a deleted number's
 * sessions live on until they end; one no inventory holds any more ends nothing either. Every such
 * session's end is stored before anything more (its expiry brought forward: `endNow` retries here
 * until it has ended, and any replica's scan ends it should this one stop); a failed read or write
 * is retried.
 *
 * A takeover's or a move's event (`takenFrom`, `movedWithin`), or any that found another holder's sessions to end (a
 * takeover whose own announcement was lost, its add repeated), is then looked at again, and
 * acknowledged after that look, once the creations under way when it came have settled in the
 * ordinary course (`secondLookMs`): a session of the old owner whose pair was allocated before the
 * takeover and whose store write came after the first look would otherwise live on, unrouted,
 * holding its parties' pairs with the number and its PINs. The first delivery waits a whole window,
 * timed by the NATS server; a later one (a failed first look retried) the rest of it by the
 * stream's time, never more than a window; no delivery after that waits, whatever the clocks say.
 */
@Injectable()
export class NumberOwnerChangeConsumer {
  constructor(
    private readonly sessions: SessionRepository,
    private readonly expiry: ExpiryScheduler,
    private readonly rpc: RpcClient,
    @Inject(SESSION_SERVICE_CONFIG) private readonly config: SessionServiceConfig,
    @Inject(CLOCK) private readonly now: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @DurableConsumer({
    durable: 'session-service-number-owner-changes',
    events: EVENTS,
    concurrency: 4,
    // Ends up to LIVE_SESSIONS_MAX sessions one by one (a store write each): an hour or more on a
    // scanning store. Delivered again meanwhile, it would start over beside itself.
    handlerKeptMs: 3 * 3600_000,
    // Takeovers and moves wait out their second look unacknowledged: a main account moving numbers
    // back and forth must not hold up every account's number changes behind its waits.
    maxAckPending: 'unlimited',
  })
  async onNumberChanged({ payload }: EventOf<typeof EVENTS>, meta: EventMeta): Promise<void> {
    const ended = await this.endOthers(payload);
    if (!payload.takenFrom && !payload.movedWithin && ended === 0) return;
    const look = this.secondLookMs();
    const left =
      meta.deliveryCount === 1 ? look : Math.min(look, meta.publishedAt.getTime() + look - this.now());
    if (left > 0 && meta.deliveryCount <= WAITING_DELIVERIES) {
      throw new RetryLater(
        'a taken number is looked at again once the creations under way have settled',
        left,
      );
    }
  }

  /**
   * How long after a takeover a creation under way then has settled in the ordinary course: its
   * session stored, or the creation given up by the orphan reaper (ORPHAN_AGE_MS, then its next
   * pass). Not a bound: a store stalled for longer can land a write later still.
   */
  private secondLookMs(): number {
    return this.config.ORPHAN_AGE_MS + this.config.REAPER_INTERVAL_MS;
  }

  /**
   * Ends the live sessions on the number outside its owner now (another account, or another
   * subaccount of the owner's: a number moved from one subaccount to another, or to or from the main
   * account, is the new holder's alone, as a number taken from another account is): how many.
   */
  private async endOthers(payload: EventOf<typeof EVENTS>['payload']): Promise<number> {
    // Most changes are to a number with no live session: whose it is, no more asked.
    const any = await this.sessions.activeOnNumberSystemWide(payload.number, { after: null, limit: 1 });
    if (any.length === 0) return 0;
    const owner = await this.ownerOf(payload.number);
    if (owner === null) return 0;
    // An event of an account the number is not with now (a squatter's update after the takeover):
    // that account's sessions are the takeover's own event's to end.
    const spared = owner.accountId === payload.accountId ? [] : [payload.accountId];
    // Every one tried, page after page, then the event retried if any end could not be stored.
    let failed: unknown;
    let ended = 0;
    for (let after: string | null = null; ; ) {
      const page = await this.sessions.liveOnNumberOutside(payload.number, owner, spared, after, ENDED_PAGE);
      for (const s of page) {
        this.logger.info(
          { sessionId: s._id, accountId: s.accountId },
          s.accountId === owner.accountId
            ? 'session ended: its number is another subaccount’s now'
            : 'session ended: its number is another account’s now',
        );
        await this.expiry
          .endNow(
            { accountId: s.accountId, ...(s.subaccountId ? { subaccountId: s.subaccountId } : {}) },
            s._id,
            'timeout',
            { durably: true },
          )
          .catch((err: unknown) => {
            this.logger.warn({ err, sessionId: s._id }, 'the end of a session on a taken number is retried');
            failed ??= err;
          });
      }
      ended += page.length;
      if (page.length < ENDED_PAGE) break;
      after = page[page.length - 1]._id;
    }
    if (failed !== undefined) throw failed;
    return ended;
  }

  /** The number's owner now (its inventory's, deleted or not); null when no inventory holds it. */
  private async ownerOf(number: string): Promise<{ accountId: string; subaccountId: string | null } | null> {
    try {
      const { accountId, subaccountId } = await this.rpc.request(GetNumberRouting, { number });
      return { accountId, subaccountId };
    } catch (err) {
      if (err instanceof CodedError && err.code === ErrorCodes.NOT_FOUND) return null;
      throw err;
    }
  }
}
