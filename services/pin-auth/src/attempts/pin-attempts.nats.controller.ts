import { Controller, Inject } from '@nestjs/common';
import { GetPinSecurity, ListPinAttempts, type RpcParsedRequestOf as Req } from '@maskline/contracts';
import { RpcHandler } from '@maskline/messaging';
import { CLOCK, type Clock } from '@maskline/service-kit';
import { PinAttemptLog } from './pin-attempt-log';
import { summarizePinSecurity } from './pin-security-summary';

const HOUR_MS = 3600_000;

/** The console's reads of the PIN entry record. */
@Controller()
export class PinAttemptsNatsController {
  constructor(
    private readonly log: PinAttemptLog,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @RpcHandler(ListPinAttempts)
  async list(request: Req<typeof ListPinAttempts>) {
    return { attempts: await this.log.ofSession(request.accountId, request.sessionId) };
  }

  @RpcHandler(GetPinSecurity)
  async security(request: Req<typeof GetPinSecurity>) {
    const now = this.clock();
    const since = new Date(Math.floor(now / HOUR_MS) * HOUR_MS - (request.hours - 1) * HOUR_MS);
    return summarizePinSecurity(await this.log.since(request.accountId, since), now, request.hours);
  }
}
