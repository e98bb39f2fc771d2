import { Controller, Inject } from '@nestjs/common';
import {
  GetPinSecurity,
  ListPinAttempts,
  hourlyWindowStart,
  type RpcParsedRequestOf as Req,
  type RpcReplyInputOf,
} from '@maskline/contracts';
import { RpcHandler } from '@maskline/messaging';
import { CLOCK, SharedReads, type Clock } from '@maskline/service-kit';
import { PinAttemptLog, WINDOW_READ_MAX } from './pin-attempt-log';
import { summarizePinSecurity } from './pin-security-summary';

/** The console's reads of the PIN entry record. */
@Controller()
export class PinAttemptsNatsController {
  /** One read per account and window every 30 s, however many ask: the view may be that old. */
  private readonly summaries: SharedReads<string, RpcReplyInputOf<typeof GetPinSecurity>>;

  constructor(
    private readonly log: PinAttemptLog,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.summaries = new SharedReads({ ttlMs: 30_000, maxEntries: 1000 }, clock);
  }

  @RpcHandler(ListPinAttempts)
  async list(request: Req<typeof ListPinAttempts>) {
    return { attempts: await this.log.ofSession(request.accountId, request.sessionId) };
  }

  @RpcHandler(GetPinSecurity)
  security(request: Req<typeof GetPinSecurity>) {
    return this.summaries.get(`${request.accountId}:${request.hours}`, async () => {
      const now = this.clock();
      const since = new Date(hourlyWindowStart(now, request.hours));
      const attempts = await this.log.since(request.accountId, since);
      return summarizePinSecurity(attempts, now, request.hours, attempts.length >= WINDOW_READ_MAX);
    });
  }
}
