import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { CodedError, ErrorCodes, GetNumberRouting, VirtualNumberChanged } from '@maskline/contracts';
import { DurableConsumer, RetryLater, RpcClient, type EventOf } from '@maskline/messaging';
import { LOGGER } from '@maskline/observability';
import { CLOCK, type Clock } from '@maskline/service-kit';
import { SESSION_SERVICE_CONFIG, type SessionServiceConfig } from '../config/session-service.config';
import { ExpiryScheduler } from '../expiry/expiry-scheduler';
import { SessionRepository } from './session.repository';

const EVENTS = [VirtualNumberChanged] as const;

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
 * owner now. A number changed by its owner (an update, a delete) ends nothing: a deleted number's
 * sessions live on until they end; one no inventory holds any more ends nothing either. Acknowledged
 * once every such session's end is stored (its expiry brought forward: `endNow` retries here until it
 * has ended, and any replica's scan ends it should this one stop); a failed read or write is retried.
 *
 * A takeover's event (`takenFrom`) is looked at again once every creation under way when it came has
 * settled (`secondLookMs`): a session of the account the number was taken from whose pair was
 * allocated before the takeover and whose store write came after the first look would otherwise
 * live on, unrouted, holding its parties' pairs with the number and its PINs.
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

  @DurableConsumer({ durable: 'session-service-number-owner-changes', events: EVENTS, concurrency: 4 })
  async onNumberChanged({ payload }: EventOf<typeof EVENTS>): Promise<void> {
    await this.endOthers(payload);
    if (!payload.takenFrom) return;
    // Its time as its publisher's clock says, never further off than one look (clocks can differ).
    const left = Math.min(Date.parse(payload.at) + this.secondLookMs() - this.now(), this.secondLookMs());
    if (left > 0) {
      throw new RetryLater(
        'a taken number is looked at again once the creations under way have settled',
        left,
      );
    }
  }

  /**
   * How long after a takeover a creation under way then has certainly settled: its session stored,
   * or the creation given up by the orphan reaper (ORPHAN_AGE_MS, then its next pass).
   */
  private secondLookMs(): number {
    return this.config.ORPHAN_AGE_MS + this.config.REAPER_INTERVAL_MS;
  }

  /** Ends the live sessions on the number of every account but its owner now. */
  private async endOthers(payload: EventOf<typeof EVENTS>['payload']): Promise<void> {
    // Most changes are an owner's own, with no other account's session on the number: no more asked.
    const others = (await this.sessions.activeOnNumberSystemWide(payload.number)).filter(
      (s) => s.accountId !== payload.accountId,
    );
    if (others.length === 0) return;
    const owner = await this.ownerOf(payload.number);
    if (owner === null) return;
    // Every one tried, then the event retried if any end could not be stored.
    let failed: unknown;
    for (const s of others.filter((x) => x.accountId !== owner)) {
      this.logger.info(
        { sessionId: s._id, accountId: s.accountId },
        'session ended: its number is another account’s now',
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
    if (failed !== undefined) throw failed;
  }

  /** The number's owner now (its inventory's, deleted or not); null when no inventory holds it. */
  private async ownerOf(number: string): Promise<string | null> {
    try {
      return (await this.rpc.request(GetNumberRouting, { number })).accountId;
    } catch (err) {
      if (err instanceof CodedError && err.code === ErrorCodes.NOT_FOUND) return null;
      throw err;
    }
  }
}
