import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { VirtualNumberChanged } from '@maskline/contracts';
import { DurableConsumer, type EventOf } from '@maskline/messaging';
import { LOGGER } from '@maskline/observability';
import { ExpiryScheduler } from '../expiry/expiry-scheduler';
import { SessionRepository } from './session.repository';

const EVENTS = [VirtualNumberChanged] as const;

/**
 * A number's sessions are its owner's alone. When a number changes hands (an account its provider
 * confirms holds it takes it from one that added it unproven, or from one that released it), the
 * sessions another account still keeps on it end at once, with everything they hold there: their
 * parties' pairs with the number (else the old owner, adding a participant, learns from the refusal
 * which phones the new owner's sessions hold, and blocks them) and their PINs (else it learns the new
 * owner's PINs from a PIN change's refusal, and types one in). The event names the number's owner
 * now; a number changed by its own owner (an update, a delete) ends nothing: a deleted number's
 * sessions live on until they end. Acknowledged once every such session is ending (`endNow` retries
 * until it has ended); a failed read is retried.
 */
@Injectable()
export class NumberOwnerChangeConsumer {
  constructor(
    private readonly sessions: SessionRepository,
    private readonly expiry: ExpiryScheduler,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @DurableConsumer({ durable: 'session-service-number-owner-changes', events: EVENTS, concurrency: 4 })
  async onNumberChanged({ payload }: EventOf<typeof EVENTS>): Promise<void> {
    const others = (await this.sessions.activeOnNumberSystemWide(payload.number)).filter(
      (s) => s.accountId !== payload.accountId,
    );
    for (const s of others) {
      this.logger.info(
        { sessionId: s._id, accountId: s.accountId },
        'session ended: its number is another account’s now',
      );
      await this.expiry.endNow(
        { accountId: s.accountId, ...(s.subaccountId ? { subaccountId: s.subaccountId } : {}) },
        s._id,
        'timeout',
      );
    }
  }
}
